"""Copying tensors from one bundle into a ``BundleWriter``, byte for byte where possible.

Verbatim copies keep a checkpoint identical to TensorFlow's (re-encoding variants could change
their nested protos) and avoid decoding tensors that are only moved. Only the public methods
of ``BundleReader`` (``raw_chunks``, ``slice_entries``, ``read_entry``) and ``BundleWriter``
(``add_raw``, ``add_slice_raw``, ``add``, ``add_slice``) are used.
"""

from __future__ import annotations

from .bundle import BundleReader
from .entries import Entry
from .writer import BundleWriter


def copy_tensor(
    writer: BundleWriter,
    reader: BundleReader,
    key: str,
    new_key: str | None = None,
    keep_shards: bool = False,
) -> None:
    """Copy a tensor of a ``BundleReader``, a partitioned one with all its slices. With
    ``keep_shards`` every piece goes to the shard it came from (a faithful copy)."""
    entry = reader.entries[key]
    new_key = key if new_key is None else new_key
    if not entry.slices:
        shard = entry.shard if keep_shards else None
        if reader.endian == "<":
            chunks, masked = reader.raw_chunks(entry)
            writer.add_raw(new_key, entry.dtype, entry.shape, chunks, entry.size, masked, shard=shard)
        else:  # big-endian source: read (byte-swapped to little-endian) and encode afresh
            writer.add(new_key, reader.read_entry(entry), entry.dtype, shard=shard)
        return
    for i, (piece, part) in enumerate(reader.slice_entries(entry)):
        shard = part.shard if keep_shards else None
        if reader.endian == "<":
            chunks, masked = reader.raw_chunks(part)
            writer.add_slice_raw(
                new_key,
                entry.shape,
                piece,
                entry.dtype,
                chunks,
                part.size,
                masked,
                shard=shard,
                full_shard=entry.shard if keep_shards and i == 0 else None,
            )
        else:
            writer.add_slice(new_key, entry.shape, piece, reader.read_entry(part), entry.dtype, shard=shard)


def copy_order(reader: BundleReader, keys: list[str]) -> list[str]:
    """``keys`` in the order their bytes sit in the source files (shard, offset), so copies match."""

    def position(key: str) -> tuple[int, int]:
        entry: Entry = reader.entries[key]
        if entry.slices:
            parts = [p for _, p in reader.slice_entries(entry)]
            return min((p.shard, p.offset) for p in parts) if parts else (0, 0)
        return entry.shard, entry.offset

    return sorted(keys, key=position)
