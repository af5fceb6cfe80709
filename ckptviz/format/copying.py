"""Copying tensors from one bundle into a ``BundleWriter``, byte for byte where possible.

Verbatim copies keep a checkpoint identical to TensorFlow's (re-encoding variants could change
their nested protos) and avoid decoding tensors that are only moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import crc, slices
from .dtypes import STRING, VARIANT
from .writer import BundleWriter, _key_bytes, _slice_proto

_COPY_CHUNK = 64 << 20  # bytes per read when copying a large tensor


def _raw_chunks(reader: Any, entry: Any) -> tuple[list[Any] | Iterator[bytes], int]:
    """The stored bytes of a little-endian fixed-width entry, CRC-checked, and the masked CRC."""
    blob = reader._shard(entry)
    if entry.size <= _COPY_CHUNK:
        data = blob.read(entry.offset, entry.size)
        if reader.verify and crc.mask(crc.value(data)) != entry.crc32c:
            reader.read_entry(entry)  # raises the reader's checksum error with its message
        return [data] if data else [], entry.crc32c

    def stream() -> Iterator[bytes]:
        running, done = 0, 0
        while done < entry.size:
            data = blob.read(entry.offset + done, min(_COPY_CHUNK, entry.size - done))
            running = crc.value(data, running)
            done += len(data)
            yield data
        if reader.verify and crc.mask(running) != entry.crc32c:
            reader.read_entry(entry)

    return stream(), entry.crc32c


def copy_entry(
    writer: BundleWriter, reader: Any, entry: Any, key: str | bytes, shard: int | None = None
) -> None:
    """Add ``entry`` of a ``BundleReader`` under ``key``, copying its bytes verbatim when possible.

    Verbatim copies keep variants byte-identical (re-encoding them could change nested protos).
    """
    raw_key = _key_bytes(key)
    if entry.dtype.is_fixed_width and reader.endian == "<":
        chunks, masked = _raw_chunks(reader, entry)
        writer._append(
            writer._new_entry(raw_key, entry.dtype, entry.shape), chunks, entry.size, masked, shard
        )
    elif entry.dtype.base_enum in (STRING, VARIANT) and reader.endian == "<":
        reader.read_entry(entry)  # decodes, so every in-stream checksum is verified
        data = reader._shard(entry).read(entry.offset, entry.size)
        writer._append(
            writer._new_entry(raw_key, entry.dtype, entry.shape), [data], entry.size, entry.crc32c, shard
        )
    else:  # big-endian source: read (byte-swapped to little-endian) and encode afresh
        writer._add(raw_key, reader.read_entry(entry), entry.dtype, shard)


def copy_tensor(
    writer: BundleWriter, reader: Any, key: str, new_key: str | None = None, keep_shards: bool = False
) -> None:
    """Copy a tensor of a ``BundleReader``, a partitioned one with all its slices."""
    entry = reader.entries[key]
    new_key = key if new_key is None else new_key
    if not entry.slices:
        copy_entry(writer, reader, entry, new_key, entry.shard if keep_shards else None)
        return
    full = writer._full_entry(new_key, entry.dtype, entry.shape)
    if keep_shards:
        full.shard_id = entry.shard  # MergeBundles leaves the shard of the first part here
    for piece, part in reader.slice_entries(entry):
        full.slices.append(piece.to_proto(_slice_proto()))
        copy_entry(
            writer, reader, part, slices.encode_key(new_key, piece), part.shard if keep_shards else None
        )


def copy_order(reader: Any, keys: list[str]) -> list[str]:
    """``keys`` in the order their bytes sit in the source files (shard, offset), so copies match."""

    def position(key: str) -> tuple[int, int]:
        entry = reader.entries[key]
        if entry.slices:
            parts = [p for _, p in reader.slice_entries(entry)]
            return min((p.shard, p.offset) for p in parts) if parts else (0, 0)
        return entry.shard, entry.offset

    return sorted(keys, key=position)
