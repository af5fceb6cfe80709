"""Many small tensors of one bundle read with a few big reads instead of one read each.

TensorFlow writes a bundle's tensors back to back, so the small ones of a batch sit in a few
contiguous byte ranges of each data file: ``BundleReader.read_many`` reads them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...format.bundle import BundleReader

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint


def bundle_reader(ckpt: Checkpoint) -> Any:
    """The format layer's reader behind a Checkpoint (``reader``; ``_reader`` in older versions)."""
    return getattr(ckpt, "reader", None) or getattr(ckpt, "_reader", None)


def read_many(ckpt: Checkpoint, keys: list[str]) -> list[np.ndarray]:
    """The values of ``keys`` (small fixed-width tensors), in order."""
    reader = bundle_reader(ckpt)
    if not isinstance(reader, BundleReader):
        return [ckpt.read(k) for k in keys]
    return reader.read_many(keys)
