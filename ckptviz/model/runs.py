"""A training run as an object: the checkpoints of a directory or bucket prefix, with step, time
and size, from one listing and the ``checkpoint`` state file, without reading any tensor.

Forms: a ``CheckpointManager`` directory (``ckpt-N``), an Estimator / TF1 ``Saver`` directory
(``model.ckpt-N``), Keras ``.weights.h5`` / ``.keras`` files, and a KerasTuner project (one run
per ``trial_*`` subdirectory, listed with ``trial`` set).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CheckpointNotFoundError
from ..format import naming, storage

_NUMBER = re.compile(r"[-_](\d+)$")
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
