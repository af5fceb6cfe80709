"""A training run as an object: the checkpoints of a directory or bucket prefix, with step, time
and size, from one listing and the ``checkpoint`` state file, without reading any tensor.

Forms: a ``CheckpointManager`` directory (``ckpt-N``), an Estimator / TF1 ``Saver`` directory
(``model.ckpt-N``), Keras ``.weights.h5`` / ``.keras`` files, and a KerasTuner project (one run
per ``trial_*`` subdirectory, listed with ``trial`` set). ``run_prefixes`` gives the order a
timeline reads them in, and ``signature`` what changes when one is rewritten.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CheckpointNotFoundError, InvalidArgumentError
from ..format import naming, storage
from ..format.locate import locate
from ..format.stamp import file_stamp
from .checkpoint import Checkpoint

_NUMBER = re.compile(r"[-_](\d+)$")
_PREFIX_NUMBER = re.compile(r"-(\d+)$")  # a TF prefix's step: ckpt-N, model.ckpt-N
_KERAS = (".weights.h5", ".keras")


@dataclass(frozen=True)
class RunCheckpoint:
    """One checkpoint of a run. ``step`` is the number in its name (``ckpt-1200`` → 1200), else
    None; ``time`` the state file's timestamp, else the store's modification time of its index."""

    path: str  # a prefix, or a Keras file
    step: int | None
    time: float | None
    size: int | None  # bytes of its files, when the store lists sizes
    trial: str | None = None  # the KerasTuner trial directory holding it
    latest: bool = False  # the one the state file names as latest

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("path", "step", "time", "size", "trial", "latest")}


def _number(name: str) -> int | None:
    m = _NUMBER.search(name)
    return int(m.group(1)) if m else None


def _in_directory(directory: str, trial: str | None) -> list[RunCheckpoint]:
    files = storage.scan(directory)
    by_name = {name: (size, mtime) for name, size, mtime in files}
    state = naming.get_checkpoint_state(directory) if naming.STATE_FILENAME in by_name else None
    # by name: a state file may record the directory differently (absolute, or moved since)
    stamps = (
        {
            storage.basename(p): t
            for p, t in zip(state.all_model_checkpoint_paths, state.all_model_checkpoint_timestamps)
        }
        if state
        else {}
    )
    newest = storage.basename(state.model_checkpoint_path) if state else None
    out = []
    for name, (size, mtime) in by_name.items():
        if name.endswith(".index"):
            stem = name[: -len(".index")]
            prefix = storage.join(directory, stem)
            sizes = [s for n, (s, _) in by_name.items() if n == name or n.startswith(f"{stem}.data-")]
            known = [s for s in sizes if s is not None]
            total = sum(known) if len(known) == len(sizes) else None
        elif name.endswith(_KERAS):
            stem, prefix, total = name.split(".", 1)[0], storage.join(directory, name), size
        else:
            continue
        key = storage.basename(prefix)
        out.append(RunCheckpoint(prefix, _number(stem), stamps.get(key, mtime), total, trial, key == newest))
    return out


def list_checkpoints(run: str, *, storage_options: Mapping[str, Any] | None = None) -> list[RunCheckpoint]:
    """Every checkpoint of the run directory ``run`` (local or remote), by step then time."""
    run = str(run).rstrip("/") or "/"
    with storage.using(storage_options):
        found = _in_directory(run, None)
        if not found:  # a KerasTuner project: trial_* directories
            for name in storage.listdir(run):
                if name.startswith("trial") and storage.isdir(storage.join(run, name)):
                    found += _in_directory(storage.join(run, name), name)
    if not found:
        raise CheckpointNotFoundError(
            f"no checkpoints in {storage.redact(run)} (no .index, .weights.h5 or .keras files)", run
        )

    def order(c: RunCheckpoint) -> tuple[Any, ...]:
        return (c.trial or "", c.step is None, c.step or 0, c.time or 0.0, c.path)

    return sorted(found, key=order)


# -- the checkpoints a timeline follows -----------------------------------------------------


def run_prefixes(source: Any) -> tuple[list[Any], list[float | None], str | None]:
    """A run's checkpoints in order (paths, or the ``Checkpoint`` objects given), their timestamps,
    and the run's directory: a directory's ``checkpoint`` file lists them (those whose files are
    gone are named in a warning), else its prefixes by number; a list is taken as it is."""
    if isinstance(source, (str, os.PathLike)):
        directory = os.fspath(source)
        if storage.isdir(directory):
            state = naming.get_checkpoint_state(directory)
            if state is None or not state.all_model_checkpoint_paths:
                found = naming.prefixes_in(directory)
                if not found:
                    raise CheckpointNotFoundError(
                        f"no checkpoint file and no checkpoints in {directory}", directory
                    )
                found.sort(key=_number_or_name)
                return found, [None] * len(found), directory
            listed = [_resolve(directory, p) for p in state.all_model_checkpoint_paths]
            stamps: list[float | None] = list(state.all_model_checkpoint_timestamps)
            stamps += [None] * (len(listed) - len(stamps))
            there = [naming.checkpoint_exists(p) for p in listed]
            kept = [(p, t) for p, t, ok in zip(listed, stamps, there) if ok]
            if len(kept) < len(listed):  # often only the latest is copied or committed
                found = [] if kept else sorted(naming.prefixes_in(directory), key=_number_or_name)
                _missing(directory, [p for p, ok in zip(listed, there) if not ok], len(kept), found)
                if found:
                    return found, [None] * len(found), directory
            return [p for p, _ in kept], [t for _, t in kept], directory
        source = [directory]
    items: list[Any] = [p if isinstance(p, Checkpoint) else os.fspath(p) for p in source]
    if not items:
        raise InvalidArgumentError("timeline needs a directory or at least one checkpoint path")
    return items, [None] * len(items), None


def _missing(directory: str, missing: list[str], kept: int, found: list[str]) -> None:
    """Say which listed checkpoints are gone: a warning when some are left or others are in the
    directory (``found``), else the error."""
    import warnings

    from ..errors import CheckpointWarning

    def shown(paths: list[str]) -> str:
        return ", ".join(storage.basename(p) for p in paths[:8]) + (" …" if len(paths) > 8 else "")

    listed = f"the 'checkpoint' file of {storage.redact(directory)} lists {len(missing)} checkpoint(s)"
    if kept:
        what = f"whose files are not there ({shown(missing)}); the timeline has the {kept} that are"
    elif found:
        what = f"and none of them is there ({shown(missing)}); the timeline has those in the directory: {shown(found)}"
    else:
        raise CheckpointNotFoundError(f"{listed} and none of them is there ({shown(missing)})", directory)
    warnings.warn(f"{listed} {what}", CheckpointWarning, stacklevel=4)


def _resolve(directory: str, path: str) -> str:
    """The state file's paths are relative to the directory unless absolute (TF's rule)."""
    if os.path.isabs(path) or storage.is_remote(path):
        return path
    joined = os.path.join(directory, path)
    if naming.checkpoint_exists(joined):
        return joined
    return path if naming.checkpoint_exists(path) else joined


def prefix_number(path: str) -> int | None:
    """The number a prefix ends in (``ckpt-1200`` → 1200), else None."""
    m = _PREFIX_NUMBER.search(path)
    return int(m.group(1)) if m else None


def _number_or_name(prefix: str) -> tuple[int, str]:
    number = prefix_number(prefix)
    return (-1 if number is None else number, prefix)


def signature(prefix: str) -> str:
    """What changes when the checkpoint is rewritten: its ``.index``, or its one file (TF1 V1 format,
    Keras); a path that is no checkpoint raises ``CheckpointNotFoundError`` saying why. Remote
    files have no cheap change check (each look would be a request): they are keyed by name."""
    if storage.is_remote(prefix):
        return prefix
    where = locate(prefix)
    main = (
        naming.index_file(where.path)
        if where.kind == "bundle"
        else where.path.replace("-?????-of-", "-00000-of-")
    )
    stamp = file_stamp(main)
    if not isinstance(stamp, tuple):
        raise CheckpointNotFoundError(f"no checkpoint {prefix!r}: {main} does not exist", main)
    return f"{os.path.abspath(main)}|{'|'.join(map(str, stamp))}"
