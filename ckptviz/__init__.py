"""ckptviz: see, compare and repair TensorFlow checkpoints, without TensorFlow.

>>> import ckptviz
>>> ckpt = ckptviz.open("training_checkpoints/")      # latest checkpoint in a directory
>>> ckptviz.list_variables(ckpt.path)[:2]
"""

from __future__ import annotations

from .errors import (
    CheckpointError,
    CheckpointExistsError,
    CheckpointNotFoundError,
    ChecksumMismatchError,
    CorruptCheckpointError,
    KeyNotFoundError,
    UnsupportedCheckpointError,
)
from .format.dtypes import DType, as_dtype
from .format.tensor_proto import Variant
from .model.checkpoint import Checkpoint, open
from .model.reader import CheckpointReader, latest_checkpoint, list_variables, load_checkpoint

__version__ = "0.1.0"

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointExistsError",
    "CheckpointNotFoundError",
    "CheckpointReader",
    "ChecksumMismatchError",
    "CorruptCheckpointError",
    "DType",
    "KeyNotFoundError",
    "UnsupportedCheckpointError",
    "Variant",
    "as_dtype",
    "latest_checkpoint",
    "list_variables",
    "load_checkpoint",
    "open",
]
