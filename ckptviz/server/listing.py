"""The checkpoints in one directory, as the sidebar lists them: TensorBundle prefixes, V1 files,
SavedModels and Keras files, with size, and step and time from the ``checkpoint`` state file."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import CheckpointError
from ..format import naming
from ..format.locate import HDF5_MAGIC, ZIP_MAGIC, Location
from .paths import Root, files_of

_STEP = re.compile(r"-(\d+)$")
_V1 = re.compile(r"^(?P<stem>.+)-(?P<shard>\d{5})-of-(?P<count>\d{5})$")
KERAS_SUFFIXES = (".weights.h5", ".keras")
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


def _size(location: Location) -> int:
    return sum(os.path.getsize(f) for f in files_of(location) if os.path.isfile(f))


def _step(name: str) -> int | None:
    m = _STEP.search(name)
    return int(m[1]) if m else None


def _is_v1(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and not head.startswith((HDF5_MAGIC, ZIP_MAGIC)) and b"\x00" in head[:8]


def scan(root: Root, directory: str) -> dict[str, Any]:
    """The listing of ``directory`` (absolute, already checked) as the ``checkpoints`` route sends it."""
    if not os.path.isdir(directory):
        from ..errors import CheckpointNotFoundError

        raise CheckpointNotFoundError(f"no such directory: {root.relative(directory)!r}", directory)
    names = sorted(os.listdir(directory))
    state = None
    state_error = None
    if naming.STATE_FILENAME in names:
        try:
            root.check(os.path.join(directory, naming.STATE_FILENAME))
            state = naming.get_checkpoint_state(directory)
        except CheckpointError as e:
            state_error = str(e)
    times: dict[str, float] = {}
    latest = None
    if state is not None:
        for p, t in zip(state.all_model_checkpoint_paths, state.all_model_checkpoint_timestamps):
            times[os.path.realpath(p)] = t
        latest = os.path.realpath(state.model_checkpoint_path) if state.model_checkpoint_path else None
    found: list[Found] = []
    directories: list[str] = []
    truncated = False
    for name in names:
        if len(found) + len(directories) >= MAX_LISTED:
            truncated = True
            break
        full = os.path.join(directory, name)
        try:
            root.check(full)
        except CheckpointError:
            continue  # a symlink out of the root is not listed
        if name.endswith(".index"):
            prefix = full[: -len(".index")]
            found.append(_entry(root, name[: -len(".index")], Location("bundle", prefix), "bundle"))
            found[-1].time = times.get(os.path.realpath(prefix))
            found[-1].latest = latest == os.path.realpath(prefix)
        elif name.endswith(KERAS_SUFFIXES) and os.path.isfile(full):
            found.append(_entry(root, name, Location("keras", full), "keras"))
        elif os.path.isdir(full):
            variables = os.path.join(full, naming.SAVED_MODEL_VARIABLES)
            if os.path.exists(naming.index_file(variables)):
                found.append(_entry(root, name, Location("bundle", variables), "savedmodel"))
                found[-1].path = root.relative(full)
            elif not name.startswith("."):
                directories.append(name)  # the panel navigates into it
        elif naming.split_data_file(name) is None and (
            _V1.match(name) or (name.endswith(".ckpt") and _is_v1(full))
        ):
            found.append(_entry(root, name, Location("v1", full), "v1"))
    return {
        "path": root.relative(directory),
        "checkpoints": [f.to_dict() for f in found],
        "directories": directories,
        "truncated": truncated,
        "state": None
        if state is None
        else {
            "latest": root.relative(state.model_checkpoint_path)
            if latest and root.contains(state.model_checkpoint_path)
            else None,
            "all": [root.relative(p) for p in state.all_model_checkpoint_paths if root.contains(p)],
        },
        "state_error": state_error,
    }


def _entry(root: Root, name: str, location: Location, fmt: str) -> Found:
    full = location.path
    try:
        for file in files_of(location):
            root.check(file)
        size = _size(location)
        error = None
    except CheckpointError as e:
        size, error = 0, str(e)
    stat_of = naming.index_file(full) if location.kind == "bundle" else full
    mtime = os.path.getmtime(stat_of) if os.path.exists(stat_of) else 0.0
    return Found(name, root.relative(full), fmt, size, mtime, _step(name), error=error)
