"""Many small tensors of one bundle read with a few big reads instead of one read each.

TensorFlow writes a bundle's tensors back to back in key order, so the small ones of a batch sit
in a few contiguous byte ranges of each data file: the data file's ``read_ranges`` merges them
(and, remote, fetches the merged spans concurrently), then each tensor is a view of its bytes,
its CRC32C checked as the reader would. Anything unusual (strings, slices, a big-endian bundle,
a size that does not fit) goes through ``Checkpoint.read``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ChecksumMismatchError
from ...format import crc
from ...format.bundle import BundleReader, Entry

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint


def bundle_reader(ckpt: Checkpoint) -> Any:
    """The format layer's reader behind a Checkpoint (``reader``; ``_reader`` in older versions)."""
    return getattr(ckpt, "reader", None) or getattr(ckpt, "_reader", None)


def read_many(ckpt: Checkpoint, keys: list[str]) -> list[np.ndarray]:
    """The values of ``keys`` (small fixed-width tensors), in order."""
    entries = ckpt.entries
    reader = bundle_reader(ckpt)
    simple = (
        isinstance(reader, BundleReader)
        and reader.endian == "<"
        and all(not entries[k].slices and entries[k].dtype.is_fixed_width for k in keys)
    )
    if not simple:
        return [ckpt.read(k) for k in keys]
    out: list[np.ndarray] = [np.empty(0)] * len(keys)
    by_shard: dict[int, list[int]] = {}
    for i, k in enumerate(keys):
        by_shard.setdefault(entries[k].shard, []).append(i)
    for members in by_shard.values():
        blob = reader.shard_blob(entries[keys[members[0]]])
        fitting = []
        for i in members:
            e = entries[keys[i]]
            if e.offset + e.size > blob.size or e.size != e.num_elements * e.dtype.numpy.itemsize:
                out[i] = ckpt.read(e.key)  # raises CorruptCheckpointError with the numbers
            else:
                fitting.append(i)
        got = blob.read_ranges([(entries[keys[i]].offset, entries[keys[i]].size) for i in fitting])
        for i, data in zip(fitting, got):
            out[i] = _value(entries[keys[i]], data, blob.path)
    return out


def _value(e: Entry, data: bytes, path: str) -> np.ndarray:
    if crc.mask(crc.value(data)) != e.crc32c:
        raise ChecksumMismatchError(
            f"checksum mismatch for {e.key!r}: stored {crc.unmask(e.crc32c):#010x}, computed "
            f"{crc.value(data):#010x} (the data file may come from another checkpoint)",
            path,
            e.offset,
        )
    return np.frombuffer(data, dtype=e.dtype.numpy, count=e.num_elements).reshape(e.shape)
