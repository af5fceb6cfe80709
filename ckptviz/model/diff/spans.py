"""Many small tensors of one bundle read with a few big reads instead of one read each.

TensorFlow writes a bundle's tensors back to back in key order, so the small ones of a batch sit
in a few contiguous byte ranges of each data file: one ``pread`` per range, then each tensor is a
view of that buffer, its CRC32C checked as the reader would. Anything unusual (strings, slices,
a big-endian or remote bundle, a size that does not fit) goes through ``Checkpoint.read``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ChecksumMismatchError
from ...format import crc, storage
from ...format.bundle import Entry

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint

_GAP = 1 << 16  # bytes of other tensors worth reading through rather than starting a new read
_SPAN = 8 << 20  # bytes per read at most


def bundle_reader(ckpt: Checkpoint) -> Any:
    """The format layer's reader behind a Checkpoint (``reader``; ``_reader`` in older versions)."""
    return getattr(ckpt, "reader", None) or getattr(ckpt, "_reader", None)


def read_many(ckpt: Checkpoint, keys: list[str]) -> list[np.ndarray]:
    """The values of ``keys`` (small fixed-width tensors), in order."""
    entries = ckpt.entries
    simple = (
        ckpt.format == "bundle"
        and hasattr(bundle_reader(ckpt), "data_blob")
        and getattr(bundle_reader(ckpt), "endian", ">") == "<"
        and all(not entries[k].slices and entries[k].dtype.is_fixed_width for k in keys)
    )
    if not simple:
        return [ckpt.read(k) for k in keys]
    verify = bool(getattr(bundle_reader(ckpt), "verify", True))  # diff(verify=False) skips CRCs here too
    out: list[np.ndarray] = [np.empty(0)] * len(keys)
    by_shard: dict[int, list[int]] = {}
    for i, k in enumerate(keys):
        by_shard.setdefault(entries[k].shard, []).append(i)
    for members in by_shard.values():
        members.sort(key=lambda i: entries[keys[i]].offset)
        blob = bundle_reader(ckpt).data_blob(entries[keys[members[0]]])  # the reader's open file
        for span in _spans([(i, entries[keys[i]]) for i in members]):
            _read_span(ckpt, blob, span, out, verify)
    return out


def _spans(items: list[tuple[int, Entry]]) -> list[list[tuple[int, Entry]]]:
    spans: list[list[tuple[int, Entry]]] = []
    start = end = -1
    for i, e in items:
        if spans and e.offset - end <= _GAP and e.offset + e.size - start <= _SPAN:
            spans[-1].append((i, e))
            end = max(end, e.offset + e.size)
        else:
            spans.append([(i, e)])
            start, end = e.offset, e.offset + e.size
    return spans


def _read_span(
    ckpt: Checkpoint, blob: storage.Blob, span: list[tuple[int, Entry]], out: list[np.ndarray], verify: bool
) -> None:
    first = span[0][1].offset
    last = max(e.offset + e.size for _, e in span)
    if last > blob.size:  # truncated: the reader says so precisely
        for i, e in span:
            out[i] = ckpt.read(e.key)
        return
    view = memoryview(blob.read(first, last - first))
    for i, e in span:
        dtype = e.dtype.numpy
        if e.size != e.num_elements * dtype.itemsize:
            out[i] = ckpt.read(e.key)  # raises CorruptCheckpointError with the numbers
            continue
        piece = view[e.offset - first : e.offset - first + e.size]
        if verify and crc.mask(crc.value(piece)) != e.crc32c:
            raise ChecksumMismatchError(
                f"checksum mismatch for {e.key!r}: stored {crc.unmask(e.crc32c):#010x}, computed "
                f"{crc.value(piece):#010x} (the data file may come from another checkpoint)",
                blob.path,
                e.offset,
            )
        out[i] = np.frombuffer(piece, dtype=dtype, count=e.num_elements).reshape(e.shape)
