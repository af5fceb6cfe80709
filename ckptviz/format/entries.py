"""The entries of a bundle's index (``BundleEntryProto``): each decoded when first asked for.

Opening a checkpoint lists its keys from the table alone; an entry's proto is parsed when that key
is looked up, and all of them in one protobuf call when a caller walks every entry. Listing dtypes
and shapes decodes only each entry's first bytes, once per distinct prefix.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from ..errors import CorruptCheckpointError
from . import slices, varint
from .dtypes import DType, from_enum
from .shapes import check_shape
from .table import Rows


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


Head = tuple[DType, tuple[int, ...]]


class Entries(Mapping[str, Entry]):
    """``{key: Entry}`` of every tensor in key order, slices of partitioned tensors apart
    (``slices``, by raw key). Safe to share between threads."""

    def __init__(self, rows: Rows, path: str) -> None:
        self._table, self.path = rows, path
        keys = rows.keys
        # Row 0 is the bundle header (key b""); slice keys start with b"\x00", so they come next.
        named = bisect.bisect_left(keys, b"\x01", 1)
        self.slice_rows: dict[bytes, int] = {keys[i]: i for i in range(1, named)}
        self.rows: dict[str, int] = dict(zip(_texts(keys[named:]), range(named, len(keys))))
        self._made: dict[str, Entry] = {}
        self.made: dict[str, Entry] | None = None  # every entry, once a caller has walked them all
        self._slices: dict[bytes, Entry] | None = None
        self._heads: dict[bytes, Head] = {}  # entry prefixes (dtype, shape) decoded so far
        self._lock = threading.Lock()

    # -- the mapping -----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Entry:
        made = self.made
        if made is not None:
            return made[key]
        entry = self._made.get(key)
        if entry is None:
            i = self.rows[key]
            entry = self._made[key] = self._decode([i], [key])[0]
        return entry

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def all(self) -> dict[str, Entry]:
        """Every entry, decoded together (once) the first time any caller needs them all."""
        made = self.made
        if made is None:
            with self._lock:
                if self.made is None:
                    keys = list(self.rows)
                    self.made = dict(zip(keys, self._decode(list(self.rows.values()), keys)))
                made = self.made
        return made

    def values(self) -> Any:
        return self.all().values()

    def items(self) -> Any:
        return self.all().items()

    @property
    def slices(self) -> dict[bytes, Entry]:
        """The stored pieces of partitioned tensors, by their encoded slice key."""
        if self._slices is None:
            raw = list(self.slice_rows)
            decoded = self._decode(list(self.slice_rows.values()), [repr(k) for k in raw])
            self._slices = dict(zip(raw, decoded))
        return self._slices

    def where(self, key: str) -> int:
        """The offset of ``key``'s record in the .index (0 when it has none), for errors."""
        i = self.rows.get(key)
        if i is None and key.startswith("b'\\x00"):
            i = next((j for k, j in self.slice_rows.items() if repr(k) == key), None)
        return 0 if i is None else self._table.offsets[i]

    # -- decoding --------------------------------------------------------------------------------

    def heads(self) -> dict[str, Head]:
        """``{key: (dtype, shape)}`` from each entry's first bytes: the hot loop of listing."""
        if self.made is not None:
            return {k: (e.dtype, e.shape) for k, e in self.made.items()}
        table = self._table
        out, heads, canonical_tail = {}, self._heads, _CANONICAL_TAIL.fullmatch
        buffer, starts, ends, offsets = table.buffer, table.value_start, table.value_end, table.offsets
        for key, i in self.rows.items():
            value = buffer[starts[i] : ends[i]]
            if (
                len(value) > 3
                and value[0] == 0x08
                and value[2] == 0x12
                and value[1] < 0x80
                and value[3] < 0x80
            ):
                end = 4 + value[3]
                head = heads.get(value[:end]) if end <= len(value) and canonical_tail(value, end) else None
                if head is not None:
                    out[key] = head
                    continue
            out[key] = self._head(value, key, offsets[i])
        return out

    def _head(self, value: bytes, key: str, offset: int, proto: Any = None) -> Head:
        end = 4 + value[3] if len(value) > 3 else 0
        canonical = (
            end
            and value[0] == 0x08
            and value[1] < 0x80
            and value[2] == 0x12
            and value[3] < 0x80
            and end <= len(value)
            and _CANONICAL_TAIL.fullmatch(value, end)
        )
        if canonical:
            head = self._heads.get(value[:end])
            if head is not None:
                return head
        if proto is None:
            proto = _parse([key.encode("utf-8", "surrogateescape")], [value], [offset], self.path)[0]
        head = _dtype_and_shape(proto, key, self.path, offset)
        if canonical:
            self._heads[value[:end]] = head
        return head

    def _decode(self, rows: list[int], keys: list[str]) -> list[Entry]:
        """The entries of table rows ``rows`` (named ``keys``), their protos parsed in one call."""
        table, path = self._table, self.path
        buffer, starts, ends, offsets = table.buffer, table.value_start, table.value_end, table.offsets
        values = [buffer[starts[i] : ends[i]] for i in rows]
        where = [offsets[i] for i in rows]
        protos = _parse([table.keys[i] for i in rows], values, where, path)
        return [
            _entry(key, proto, self._head(value, key, offset, proto), path, offset)
            for key, value, offset, proto in zip(keys, values, where, protos)
        ]


def _texts(keys: list[bytes]) -> list[str]:
    """Keys as text (bytes that are not UTF-8 as surrogate escapes), decoded in one call when no
    key holds a newline: a newline is never part of a multi-byte sequence, so it splits exactly."""
    joined = b"\n".join(keys)
    if joined.count(b"\n") == len(keys) - 1:
        return joined.decode("utf-8", "surrogateescape").split("\n") if keys else []
    return [k.decode("utf-8", "surrogateescape") for k in keys]


def _dtype_and_shape(proto: Any, key: str, path: str, offset: int) -> Head:
    shape = tuple([d.size for d in proto.shape.dim])
    problem = check_shape(shape)
    if problem:
        raise CorruptCheckpointError(f"entry {key!r} has {problem}", path, offset)
    return from_enum(proto.dtype), shape


def _entry(key: str, proto: Any, head: Head, path: str, offset: int) -> Entry:
    at, size, shard, crc32c = proto.offset, proto.size, proto.shard_id, proto.crc32c
    if (at | size | shard) < 0:
        raise CorruptCheckpointError(f"entry {key!r} has a negative offset, size or shard", path, offset)
    # Only a partitioned tensor's entry lacks a CRC; skip building the slices container otherwise.
    pieces = tuple([slices.Slice.from_proto(s) for s in proto.slices]) if not crc32c and proto.slices else ()
    # tuple.__new__ skips NamedTuple's Python-level __new__, a third of the cost per key.
    return _new_tuple(Entry, (key, head[0], head[1], shard, at, size, crc32c, pieces))


_new_tuple = tuple.__new__
_LENGTH_BYTE = [bytes([0x0A, n]) for n in range(128)]  # field 1 tag + one-byte length
# What may follow dtype and shape in an entry TensorFlow wrote: shard_id, offset and size as
# varints, the crc32c as fixed32, each at most once and in field order. Only then do an entry's
# first bytes (dtype and shape) decide its dtype and shape: protobuf lets a later field 1 or 2
# override or extend them, so any other tail (slices, unknown or repeated fields) is decoded.
_CANONICAL_TAIL = re.compile(
    rb"(?:\x18[\x80-\xff]{0,9}[\x00-\x7f])?(?:\x20[\x80-\xff]{0,9}[\x00-\x7f])?"
    rb"(?:\x28[\x80-\xff]{0,9}[\x00-\x7f])?(?:\x35.{4})?",
    re.DOTALL,
)


def _parse(keys: list[bytes], values: list[bytes], offsets: list[int], path: str) -> list[Any]:
    """Every value as a ``BundleEntryProto``, parsed in one protobuf call when all are valid."""
    from google.protobuf.message import DecodeError

    from .protos.ckptviz_format_pb2 import BundleEntryList, BundleEntryProto

    framed = b"".join(
        [(_LENGTH_BYTE[len(v)] if len(v) < 128 else b"\x0a" + varint.encode(len(v))) + v for v in values]
    )
    try:
        return list(BundleEntryList.FromString(framed).entries)
    except DecodeError:
        pass
    for key, value, offset in zip(keys, values, offsets):  # find the culprit
        try:
            BundleEntryProto.FromString(value)
        except DecodeError as e:
            raise CorruptCheckpointError(
                f"entry {_shown(key)} is not a BundleEntryProto: {e}", path, offset
            ) from None
    raise CorruptCheckpointError("index entries do not parse", path, 0)


def _shown(raw_key: bytes) -> str:
    """A key as error messages quote it: slice keys as bytes, names as text."""
    return repr(raw_key) if raw_key[:1] == b"\x00" else repr(raw_key.decode("utf-8", "surrogateescape"))
