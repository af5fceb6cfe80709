"""TensorFlow's checkpoint-reading functions, drop-in: ``tf.train.load_checkpoint`` (a
``CheckpointReader``), ``list_variables``, ``latest_checkpoint`` and ``get_checkpoint_state``,
with TF's arguments, answers and exception types (checkpoint_utils.py, checkpoint_management.py)."""

from __future__ import annotations

import os
import warnings
from operator import itemgetter
from typing import Any

from ..errors import CheckpointWarning, CorruptCheckpointError, KeyNotFoundError
from ..format import naming, storage
from ..format.dtypes import DType
from .checkpoint import Checkpoint

PathLike = str | os.PathLike[str]


class CheckpointReader:
    """Same methods, keys and Python types as TensorFlow's ``CheckpointReader``. Keys are bundle
    keys only, as in TF; names people know (object paths, full names) are ``Checkpoint.read``'s."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        heads = self.checkpoint.dtypes_and_shapes()  # a list each, as TF's: callers may change one
        return dict(zip(heads, map(list, map(itemgetter(1), heads.values()))))

    def get_variable_to_dtype_map(self) -> dict[str, DType]:
        heads = self.checkpoint.dtypes_and_shapes()
        return dict(zip(heads, map(itemgetter(0), heads.values())))

    def has_tensor(self, key: str) -> bool:
        return key in self.checkpoint.entries

    def get_tensor(self, key: str) -> Any:
        """A numpy array; scalars come back as numpy scalars, string scalars as ``bytes``.
        A key the checkpoint lacks raises ``KeyNotFoundError``, where TF raises ``NotFoundError``."""
        entries = self.checkpoint.entries
        if key not in entries:
            raise KeyNotFoundError(key, entries)
        value = self.checkpoint.reader.read(key)
        return value[()] if value.ndim == 0 else value

    def debug_string(self) -> bytes:
        """TensorFlow's bytes: ``v0 (DT_FLOAT) [2,3]`` per line (raw slice keys for the parts of
        partitioned variables in a bundle)."""
        own = getattr(self.checkpoint.reader, "debug_string", None)
        if own is not None:
            return own()  # type: ignore[no-any-return]
        from ..format.protos.ckptviz_format_pb2 import DataType

        lines = [
            b"%s (%s) [%s]\n"
            % (
                k.encode("utf-8", "surrogateescape"),
                DataType.Name(e.dtype.base_enum).encode(),
                ",".join(map(str, e.shape)).encode(),
            )
            for k, e in sorted(self.checkpoint.entries.items())
        ]
        return b"".join(lines)

    def close(self) -> None:
        self.checkpoint.close()

    def __repr__(self) -> str:
        return f"<ckptviz.CheckpointReader for {self.checkpoint!r}>"


def load_checkpoint(
    ckpt_dir_or_file: PathLike, verify: bool = True, *, storage_options: dict[str, Any] | None = None
) -> CheckpointReader:
    """Drop-in for ``tf.train.load_checkpoint``: a prefix, a directory (latest) or any ckptviz path."""
    return CheckpointReader(Checkpoint(os.fspath(ckpt_dir_or_file), verify, storage_options=storage_options))


def list_variables(
    ckpt_dir_or_file: PathLike, *, storage_options: dict[str, Any] | None = None
) -> list[tuple[str, list[int]]]:
    """Like ``tf.train.list_variables``: sorted ``(key, shape)`` pairs."""
    with Checkpoint(os.fspath(ckpt_dir_or_file), storage_options=storage_options) as ckpt:
        shapes = CheckpointReader(ckpt).get_variable_to_shape_map()
        return [(k, shapes[k]) for k in sorted(shapes)]  # as TF: the shape map, sorted


def get_checkpoint_state(
    checkpoint_dir: PathLike,
    latest_filename: str | None = None,
    *,
    storage_options: dict[str, Any] | None = None,
) -> naming.CheckpointState | None:
    """Like ``tf.train.get_checkpoint_state``: None when there is no state file, and (as TF)
    a warning and None when it does not parse; ``ValueError`` when it names no checkpoint."""
    directory = os.fspath(checkpoint_dir)
    try:
        with storage.using(storage_options):
            return naming.get_checkpoint_state(directory, latest_filename)
    except CorruptCheckpointError as e:
        warnings.warn(f"{e}; checkpoint state ignored", CheckpointWarning, stacklevel=2)
        return None


def latest_checkpoint(
    checkpoint_dir: PathLike,
    latest_filename: str | None = None,
    *,
    storage_options: dict[str, Any] | None = None,
) -> str | None:
    """Like ``tf.train.latest_checkpoint``: the newest recorded prefix that exists, else None."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename, storage_options=storage_options)
    with storage.using(storage_options):
        if state is None or not naming.checkpoint_exists(state.model_checkpoint_path):
            return None
    return state.model_checkpoint_path
