"""Reading a TensorBundle V2 checkpoint: ``PREFIX.index`` plus ``PREFIX.data-*`` shards
(tensorflow/core/util/tensor_bundle/tensor_bundle.cc, ``BundleReader``).

Entries are parsed once when the bundle is opened; tensor bytes are read only on request, one
byte range each, straight into the numpy array that is returned.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..errors import (
    CheckpointNotFoundError,
    ChecksumMismatchError,
    CorruptCheckpointError,
    KeyNotFoundError,
    UnsupportedCheckpointError,
)
from . import crc, naming, slices, storage, values, varint
from .dtypes import DType, from_enum
from .table import TableReader


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic GC passes while building tens of thousands of small acyclic objects (entries,
    shape lists): every pass would rescan all of them and free nothing."""
    collect = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collect:
            gc.enable()


MAP_MIN_BYTES = 1 << 20  # tensors this big are returned as copy-on-write maps of the data file


class Entry(NamedTuple):
    """One bundle entry: where a tensor's bytes are and what they hold (``BundleEntryProto``)."""

    key: str
    dtype: DType
    shape: tuple[int, ...]
    shard: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int = 0
    slices: tuple[slices.Slice, ...] = ()

    @property
    def num_elements(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes of the tensor's value (stored bytes for strings and variants)."""
        if self.dtype.is_fixed_width:
            return self.num_elements * self.dtype.size
        return self.size


def _dtype_and_shape(proto: Any, key: str, path: str, offset: int) -> tuple[DType, tuple[int, ...]]:
    shape = tuple([d.size for d in proto.shape.dim])
    if shape and min(shape) < 0:
        raise CorruptCheckpointError(f"entry {key!r} has a negative shape {list(shape)}", path, offset)
    return from_enum(proto.dtype), shape


def _entry(key: str, proto: Any, head: tuple[DType, tuple[int, ...]], path: str, offset: int) -> Entry:
    at, size, shard, crc32c = proto.offset, proto.size, proto.shard_id, proto.crc32c
    if (at | size | shard) < 0:
        raise CorruptCheckpointError(f"entry {key!r} has a negative offset, size or shard", path, offset)
    # Only a partitioned tensor's entry lacks a CRC; skip building the slices container otherwise.
    pieces = tuple([slices.Slice.from_proto(s) for s in proto.slices]) if not crc32c and proto.slices else ()
    # tuple.__new__ skips NamedTuple's Python-level __new__, a third of the cost per key.
    return _new_tuple(Entry, (key, head[0], head[1], shard, at, size, crc32c, pieces))


_new_tuple = tuple.__new__
_LENGTH_BYTE = [bytes([0x0A, n]) for n in range(128)]  # field 1 tag + one-byte length


def _parse_entries(items: list[tuple[bytes, bytes, int]], path: str) -> list[Any]:
    """Every value as a ``BundleEntryProto``, parsed in one protobuf call when all are valid."""
    from google.protobuf.message import DecodeError

    from .protos.ckptviz_format_pb2 import BundleEntryList, BundleEntryProto

    framed = b"".join(
        [(_LENGTH_BYTE[len(v)] if len(v) < 128 else b"\x0a" + varint.encode(len(v))) + v for _, v, _ in items]
    )
    try:
        return list(BundleEntryList.FromString(framed).entries)
    except DecodeError:
        pass
    for key, value, offset in items:  # find the culprit
        try:
            BundleEntryProto.FromString(value)
        except DecodeError as e:
            raise CorruptCheckpointError(
                f"entry {key!r} is not a BundleEntryProto: {e}", path, offset
            ) from None
    raise CorruptCheckpointError("index entries do not parse", path)


class BundleReader:
    """The entries of one bundle and lazy, checksummed reads of their values."""

    def __init__(self, prefix: str, verify: bool = True) -> None:
        self.prefix, self.verify = prefix, verify
        self.index_path = naming.index_file(prefix)
        try:
            data = storage.read_bytes(self.index_path)
        except CheckpointNotFoundError:
            raise CheckpointNotFoundError(_missing_index_message(prefix), self.index_path) from None
        self._shards: dict[int, storage.Blob] = {}
        table = iter(TableReader(data, self.index_path, verify))
        first = next(table, None)
        if first is None or first[0] != b"":
            raise CorruptCheckpointError("the index has no bundle header (empty key)", self.index_path, 0)
        self._read_header(first[1], first[2])
        with paused_gc():
            self._items = list(table)  # (key, BundleEntryProto bytes, offset): parsed on demand
        self._entries: dict[str, Entry] | None = None
        self._slice_entries: dict[bytes, Entry] = {}
        # Entries start with dtype and shape (fields 1 and 2), and most checkpoints repeat a few of
        # them thousands of times: each distinct prefix is decoded once.
        self._heads: dict[bytes, tuple[DType, tuple[int, ...]]] = {}
        self._metadata: dict[str, tuple[DType, tuple[int, ...]]] | None = None

    @property
    def entries(self) -> dict[str, Entry]:
        """Every tensor's entry, by key (slices of partitioned tensors are not listed)."""
        if self._entries is None:
            with paused_gc():
                self._read_entries()
        assert self._entries is not None
        return self._entries

    def dtypes_and_shapes(self) -> dict[str, tuple[DType, tuple[int, ...]]]:
        """``{key: (dtype, shape)}``: all that listing needs, without decoding whole entries."""
        if self._metadata is None:
            if self._entries is not None:
                self._metadata = {k: (e.dtype, e.shape) for k, e in self._entries.items()}
            else:
                with paused_gc():
                    self._metadata = {
                        key: self._head(value, key, offset)
                        for raw_key, value, offset in self._items
                        if raw_key[0] != 0 and (key := raw_key.decode("utf-8", "surrogateescape"))
                    }
        return dict(self._metadata)

    def _head(self, value: bytes, key: str, offset: int, proto: Any = None) -> tuple[DType, tuple[int, ...]]:
        prefix = value[: 4 + value[3]] if len(value) > 3 and value[0] == 0x08 and value[2] == 0x12 else b""
        head = self._heads.get(prefix) if prefix else None
        if head is None:
            if proto is None:
                proto = _parse_entries(
                    [(key.encode("utf-8", "surrogateescape"), value, offset)], self.index_path
                )[0]
            head = _dtype_and_shape(proto, key, self.index_path, offset)
            if prefix and value[1] < 0x80 and value[3] < 0x80:
                self._heads[prefix] = head
        return head

    def _read_entries(self) -> None:
        path, entries, slice_entries = self.index_path, {}, self._slice_entries
        for (raw_key, value, offset), proto in zip(self._items, _parse_entries(self._items, path)):
            key = repr(raw_key) if raw_key[0] == 0 else raw_key.decode("utf-8", "surrogateescape")
            head = self._head(value, key, offset, proto)
            if raw_key[0] == 0:  # an encoded slice key: data of a partitioned tensor
                slice_entries[raw_key] = _entry(key, proto, head, path, offset)
            else:
                entries[key] = _entry(key, proto, head, path, offset)
        self._entries, self._items = entries, []

    def _read_header(self, value: bytes, offset: int) -> None:
        from google.protobuf.message import DecodeError

        from .protos.ckptviz_format_pb2 import BundleHeaderProto

        try:
            header = BundleHeaderProto.FromString(value)
        except DecodeError as e:
            raise CorruptCheckpointError(f"bad bundle header: {e}", self.index_path, offset) from None
        version = header.version
        if version.producer < 0 or version.min_consumer > 1 or 1 in version.bad_consumers:
            raise UnsupportedCheckpointError(
                f"{self.index_path}: bundle version (producer {version.producer}, min_consumer "
                f"{version.min_consumer}) needs a newer reader"
            )
        if header.num_shards < 1:
            raise CorruptCheckpointError(
                f"header says {header.num_shards} data shards", self.index_path, offset
            )
        self.num_shards = header.num_shards
        self.endian = ">" if header.endianness == BundleHeaderProto.BIG else "<"

    # -- data shards -------------------------------------------------------------------------

    def shard_path(self, shard: int) -> str:
        return naming.data_file(self.prefix, shard, self.num_shards)

    def _shard(self, entry: Entry) -> storage.Blob:
        blob = self._shards.get(entry.shard) or self._open_shard(entry)
        if entry.offset + entry.size > blob.size:
            raise CorruptCheckpointError(
                f"entry {entry.key!r} needs bytes [{entry.offset}, {entry.offset + entry.size}) but the file "
                f"has {blob.size} bytes (truncated, or a data file from another checkpoint)",
                blob.path,
                entry.offset,
            )
        return blob

    def _open_shard(self, entry: Entry) -> storage.Blob:
        if entry.shard >= self.num_shards:
            raise CorruptCheckpointError(
                f"entry {entry.key!r} is in shard {entry.shard} but the bundle has {self.num_shards}",
                self.index_path,
            )
        path = self.shard_path(entry.shard)
        try:
            blob = storage.open_blob(path)
        except CheckpointNotFoundError:
            raise CorruptCheckpointError(
                f"data file {storage.basename(path)} is missing (the checkpoint has {self.num_shards} "
                "data files; copy all of them along with the .index)",
                path,
            ) from None
        self._shards[entry.shard] = blob
        return blob

    def close(self) -> None:
        for blob in self._shards.values():
            blob.close()
        self._shards.clear()

    # -- values ------------------------------------------------------------------------------

    def read(self, key: str) -> Any:
        """The value of ``key`` as a numpy array (strings and variants as object arrays)."""
        entries = self._entries if self._entries is not None else self.entries
        entry = entries.get(key)
        if entry is None:
            raise KeyNotFoundError(key, entries)
        if entry.slices:
            return self._read_sliced(entry)
        return self.read_entry(entry)

    def read_entry(self, entry: Entry) -> np.ndarray:
        dtype = entry.dtype
        if dtype.is_fixed_width:
            return self._read_fixed(entry)
        if dtype.name not in ("string", "variant"):
            raise UnsupportedCheckpointError(
                f"entry {entry.key!r} has dtype {dtype.name}, which holds no saved value"
            )
        blob = self._shard(entry)
        buf = blob.read(entry.offset, entry.size)
        expected = entry.crc32c if self.verify else None
        if dtype.name == "string":
            return values.decode_strings(buf, entry.shape, blob.path, entry.offset, expected, self.endian)
        if self.endian != "<":
            raise UnsupportedCheckpointError(
                f"{blob.path}: variant tensors of a big-endian bundle cannot be byte-swapped"
            )
        return values.decode_variants(buf, entry.shape, blob.path, entry.offset, expected)

    def _read_fixed(self, entry: Entry) -> np.ndarray:
        # Hot: called once per tensor, so it reads straight into the array it returns.
        dtype = entry.dtype.numpy
        if entry.size != math.prod(entry.shape) * dtype.itemsize:
            raise CorruptCheckpointError(
                f"entry {entry.key!r} holds {entry.size} bytes but a {entry.dtype.name} tensor of shape "
                f"{list(entry.shape)} needs {math.prod(entry.shape) * dtype.itemsize}",
                self.index_path,
            )
        blob = self._shard(entry)  # checks the range before anything is allocated
        out = self._map(blob, entry, dtype) if entry.size >= MAP_MIN_BYTES else None
        if out is None:
            out = np.empty(entry.shape, dtype)
            if entry.size:
                blob.readinto(entry.offset, out)
        if self.verify:
            actual = crc.value(out)
            if crc.mask(actual) != entry.crc32c:
                raise ChecksumMismatchError(
                    f"checksum mismatch for {entry.key!r}: stored {crc.unmask(entry.crc32c):#010x}, computed "
                    f"{actual:#010x} (the data file may come from another checkpoint)",
                    blob.path,
                    entry.offset,
                )
        if self.endian != "<" and dtype.itemsize > 1:
            unit = dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize
            out.reshape(-1).view(f"u{unit}").byteswap(inplace=True)
        return out

    @staticmethod
    def _map(blob: storage.Blob, entry: Entry, dtype: np.dtype[Any]) -> np.ndarray | None:
        """Big tensors: a copy-on-write map of the file instead of a copy into fresh memory, whose
        page faults cost more than the read itself. None where mapping is not possible."""
        if not isinstance(blob, storage.LocalBlob) or entry.offset % dtype.alignment:
            return None
        try:
            return blob.map(entry.offset, entry.size).view(dtype).reshape(entry.shape)
        except OSError:  # e.g. out of map areas, or a filesystem that cannot map
            return None

    def slice_entries(self, entry: Entry) -> list[tuple[slices.Slice, Entry]]:
        """The stored pieces of a partitioned tensor, checked to tile it exactly."""
        problem = slices.check_coverage(entry.key, entry.shape, entry.slices)
        if problem:
            raise CorruptCheckpointError(problem, self.index_path)
        pieces = []
        for piece in entry.slices:
            part = self._slice_entries.get(slices.encode_key(entry.key, piece))
            if part is None:
                raise CorruptCheckpointError(f"slice {piece} of {entry.key!r} has no entry", self.index_path)
            if list(part.shape) != piece.shape(entry.shape) or part.dtype != entry.dtype:
                raise CorruptCheckpointError(
                    f"slice {piece} of {entry.key!r} is stored as {part.dtype.name}{list(part.shape)}, expected "
                    f"{entry.dtype.name}{piece.shape(entry.shape)}",
                    self.index_path,
                )
            self._shard(part)
            pieces.append((piece, part))
        return pieces

    def _read_sliced(self, entry: Entry) -> np.ndarray:
        pieces = dict(self.slice_entries(entry))
        dtype = entry.dtype.numpy if entry.dtype.is_fixed_width else np.dtype(object)
        return slices.assemble(entry.shape, dtype, list(pieces), lambda p: self.read_entry(pieces[p]))


def _missing_index_message(prefix: str) -> str:
    split = naming.split_data_file(prefix)
    if split:
        return f"{prefix} is a data file; pass the checkpoint prefix {split[0]!r}"
    directory = storage.dirname(prefix) or "."
    found = naming.prefixes_in(directory)
    if found:
        shown = ", ".join(repr(storage.basename(p)) for p in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return f"no checkpoint index {naming.index_file(prefix)}; prefixes in {directory}: {shown}{more}"
    return f"no checkpoint index {naming.index_file(prefix)} (and no .index file in {directory})"
