"""The checkpoints in one directory, as the sidebar lists them: TensorBundle prefixes, V1 files,
SavedModels and Keras files, with size, and step and time from the ``checkpoint`` state file.

One ``scandir`` pass through the root's confined view: sizes and times come from the entries'
``lstat``, data files are grouped by prefix in the same pass, and nothing is opened but a
regular ``*.ckpt`` file's first bytes (a FIFO, device or link out is never opened)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import CheckpointError, CheckpointNotFoundError
from ..format import naming
from ..format.confined import ConfinedRoot, join
from ..format.locate import HDF5_MAGIC, ZIP_MAGIC

_STEP = re.compile(r"-(\d+)$")
_V1 = re.compile(r"^(?P<stem>.+)-(?P<shard>\d{5})-of-(?P<count>\d{5})$")
KERAS_SUFFIXES = (".weights.h5", ".keras", ".h5", ".hdf5")  # legacy Keras .h5/.hdf5 read too
MAX_LISTED = 2000  # checkpoints in one reply; a directory with more says it was cut


@dataclass
class Found:
    name: str  # as the directory lists it (a prefix has no suffix)
    path: str  # relative to the root: what the other routes take
    format: str  # "bundle" | "v1" | "keras" | "savedmodel"
    size: int
    mtime: float
    step: int | None = None
    time: float | None = None  # the state file's timestamp for this prefix
    latest: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _step(name: str) -> int | None:
    m = _STEP.search(name)
    return int(m[1]) if m else None


def _is_v1(files: ConfinedRoot, path: str) -> bool:
    try:
        head = files.read_head(path)
    except (CheckpointError, OSError):
        return False
    return len(head) == 8 and not head.startswith((HDF5_MAGIC, ZIP_MAGIC)) and b"\x00" in head[:8]


def _data_sizes(
    entries: Mapping[str, tuple[str | None, os.stat_result | None]],
) -> tuple[dict[str, int], set[str]]:
    """Bytes of the data files of each prefix, and of each sharded V1 save (by its first
    shard's name), in one pass; and the groups with a file that is a link out or to nothing."""
    sizes: dict[str, int] = {}
    broken: set[str] = set()
    for name, (kind, info) in entries.items():
        split = naming.split_data_file(name)
        v1 = None if split else _V1.match(name)
        group = split[0] if split else f"{v1['stem']}-00000-of-{v1['count']}" if v1 else None
        if group is None:
            continue
        if kind != "file" or info is None:
            broken.add(group)
        else:
            sizes[group] = sizes.get(group, 0) + info.st_size
    return sizes, broken


BROKEN = "a data file is a link that leads outside the root, or nowhere; the server does not read it"


def _savedmodel(files: ConfinedRoot, path: str) -> Found | None:
    variables = join(path, "variables")
    try:
        index = files.stat(naming.index_file(join(path, naming.SAVED_MODEL_VARIABLES)))
        if index is None or not stat.S_ISREG(index.st_mode):
            return None
        inside = {n: (k, i) for n, k, i in files.scandir(variables)}
    except CheckpointError:
        return None
    size = index.st_size + _data_sizes(inside)[0].get("variables", 0)
    return Found(os.path.basename(path), path, "savedmodel", size, index.st_mtime, _step(path))


def scan(files: ConfinedRoot, directory: str) -> dict[str, Any]:
    """The listing of ``directory`` (relative to the root) as the ``checkpoints`` route sends it."""
    if files.kind(directory) != "dir":
        raise CheckpointNotFoundError(f"no such directory: {directory!r}", directory)
    entries = {name: (kind, info) for name, kind, info in files.scandir(directory)}
    state = state_error = None
    if naming.STATE_FILENAME in entries:
        try:
            state = files.checkpoint_state(directory)
        except CheckpointError as e:
            state_error = str(e)  # it names the file relative to the root, as the request did
    times: dict[str, float] = {}
    latest = None
    if state is not None:
        times = dict(zip(state.all_model_checkpoint_paths, state.all_model_checkpoint_timestamps))
        latest = state.model_checkpoint_path or None
    data, broken = _data_sizes(entries)
    found: list[Found] = []
    directories: list[str] = []
    truncated = False
    for name in sorted(entries):
        kind, info = entries[name]
        if kind is None or info is None:
            continue  # a link out of the root, nowhere, or round in circles: not listed
        if len(found) + len(directories) >= MAX_LISTED:
            truncated = True
            break
        path = join(directory, name)
        if name.endswith(".index") and kind == "file":
            prefix = name[: -len(".index")]
            full = join(directory, prefix)
            size = info.st_size + data.get(prefix, 0)
            found.append(Found(prefix, full, "bundle", size, info.st_mtime, _step(prefix), times.get(full)))
            found[-1].latest = latest == full
            found[-1].error = BROKEN if prefix in broken else None
        elif name.endswith(KERAS_SUFFIXES) and kind == "file":
            found.append(Found(name, path, "keras", info.st_size, info.st_mtime, _step(name)))
        elif kind == "dir":
            saved = _savedmodel(files, path)
            if saved is not None:
                found.append(saved)
            elif not name.startswith("."):
                directories.append(name)  # the panel navigates into it
        elif kind == "file" and naming.split_data_file(name) is None:
            v1 = _V1.match(name)
            if v1 and int(v1["shard"]) == 0:
                found.append(Found(name, path, "v1", data[name], info.st_mtime, _step(v1["stem"])))
                found[-1].error = BROKEN if name in broken else None
            elif not v1 and name.endswith(".ckpt") and _is_v1(files, path):
                found.append(Found(name, path, "v1", info.st_size, info.st_mtime, _step(name)))
    listed = set(entries)
    return {
        "path": directory,
        "checkpoints": [f.to_dict() for f in found],
        "directories": directories,
        "truncated": truncated,
        "state": None
        if state is None
        else {
            "latest": latest if latest and os.path.basename(latest) + ".index" in listed else None,
            "all": [p for p in state.all_model_checkpoint_paths if os.path.basename(p) + ".index" in listed],
        },
        "state_error": state_error,
    }
