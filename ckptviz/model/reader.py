"""``CheckpointReader``: TensorFlow's ``tf.train.load_checkpoint`` API over a ``Checkpoint``."""

from __future__ import annotations

from typing import Any

from ..format import naming, storage
from ..format.dtypes import DType
from .checkpoint import Checkpoint


class CheckpointReader:
    """Same methods, keys and Python types as TensorFlow's ``CheckpointReader``."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {k: list(shape) for k, (_, shape) in self.checkpoint.dtypes_and_shapes().items()}

    def get_variable_to_dtype_map(self) -> dict[str, DType]:
        return {k: dtype for k, (dtype, _) in self.checkpoint.dtypes_and_shapes().items()}

    def has_tensor(self, key: str) -> bool:
        return key in self.checkpoint.entries

    def get_tensor(self, key: str) -> Any:
        """A numpy array; scalars come back as numpy scalars, string scalars as ``bytes``."""
        value = self.checkpoint.read(key)
        return value[()] if value.ndim == 0 else value

    def debug_string(self) -> bytes:
        lines = (f"{k} ({e.dtype.name}) {list(e.shape)}" for k, e in self.checkpoint.entries.items())
        return ("\n".join(lines) + "\n").encode()

    def close(self) -> None:
        self.checkpoint.close()

    def __repr__(self) -> str:
        return f"<ckptviz.CheckpointReader for {self.checkpoint!r}>"


def load_checkpoint(
    path: str, verify: bool = True, *, storage_options: dict[str, Any] | None = None
) -> CheckpointReader:
    """Drop-in for ``tf.train.load_checkpoint``: a prefix, a directory (latest) or any ckptviz path."""
    return CheckpointReader(Checkpoint(path, verify, storage_options=storage_options))


def list_variables(path: str, *, storage_options: dict[str, Any] | None = None) -> list[tuple[str, list[int]]]:
    """Like ``tf.train.list_variables``: sorted ``(key, shape)`` pairs."""
    with Checkpoint(path, storage_options=storage_options) as ckpt:
        return sorted((k, list(shape)) for k, (_, shape) in ckpt.dtypes_and_shapes().items())


def latest_checkpoint(directory: str, *, storage_options: dict[str, Any] | None = None) -> str | None:
    """Like ``tf.train.latest_checkpoint``."""
    with storage.using(storage_options):
        return naming.latest_checkpoint(str(directory))
