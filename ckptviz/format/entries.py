"""The entries of a bundle's index (``BundleEntryProto``): each decoded when first asked for.

A key looked up before any listing is found by seeking its one table block; the keys are listed on
first need. Entries in the form TensorFlow writes are decoded with numpy together (each distinct
dtype/shape prefix once through protobuf), single lookups and any other form through protobuf.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np

from ..errors import CorruptCheckpointError
from . import slices, varint, wire
from .dtypes import DType, from_enum
from .shapes import check_shape
from .table import Rows, TableReader


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


class _Listing(NamedTuple):
    table: Rows
    first: int  # the row of the first named entry (after the header and any slices)
    slice_rows: dict[bytes, int]
    keys: list[str]  # named entry i is table row first + i


class Entries(Mapping[str, Entry]):
    """``{key: Entry}`` of every tensor in key order, slices of partitioned tensors apart
    (``slices``, by raw key). Safe to share between threads."""

    def __init__(self, source: TableReader, path: str) -> None:
        self._source, self.path = source, path
        self._listing: _Listing | None = None  # every key, once a caller lists or walks them
        self._rows: dict[str, int] | None = None
        self._made: dict[str, Entry] = {}
        self._where: dict[str, int] = {}  # .index offsets of entries found by a seek
        self.made: dict[str, Entry] | None = None  # every entry, once a caller has walked them all
        self._slices: dict[bytes, Entry] | None = None
        self._heads: dict[bytes, Head] = {}  # entry prefixes (dtype, shape) decoded so far
        self._lock = threading.Lock()
        self._list_lock = threading.Lock()

    def _list(self) -> _Listing:
        """Every row of the table, read on first need (a lookup before that seeks one block)."""
        listing = self._listing
        if listing is None:
            with self._list_lock:
                if self._listing is None:
                    rows = self._source.rows()
                    keys = rows.keys
                    # Row 0 is the bundle header (key b""); slice keys start with b"\x00", so they come next.
                    named = bisect.bisect_left(keys, b"\x01", 1)
                    slice_rows = {keys[i]: i for i in range(1, named)}
                    self._listing = _Listing(rows, named, slice_rows, _texts(keys[named:]))
                listing = self._listing
        return listing

    # -- the mapping -----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Entry:
        made = self.made
        if made is not None:
            return made[key]
        entry = self._made.get(key)
        if entry is None:
            if len(self._made) >= _LOOKUPS:  # a caller walking many keys: decode them all at once
                return self.all()[key]
            if self._listing is None:
                entry = self._seek(key)
                if entry is None:
                    raise KeyError(key)
            else:
                entry = self._decode([self.rows[key]], [key])[0]
            self._made[key] = entry
        return entry

    def __contains__(self, key: object) -> bool:
        if self._listing is None and isinstance(key, str) and len(self._made) < _LOOKUPS:
            try:
                self[key]
            except KeyError:
                return False
            return True
        return key in self.rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._list().keys)

    def __len__(self) -> int:
        return len(self._list().keys)

    @property
    def rows(self) -> dict[str, int]:
        """``{key: table row}``, made on the first lookup after listing (listing needs none)."""
        rows = self._rows
        if rows is None:
            listing = self._list()
            first, keys = listing.first, listing.keys
            rows = self._rows = dict(zip(keys, range(first, first + len(keys))))
        return rows

    @property
    def slice_rows(self) -> dict[bytes, int]:
        return self._list().slice_rows

    def _seek(self, key: str) -> Entry | None:
        """``key``'s entry from the one table block that may hold it, before any listing."""
        raw = key.encode("utf-8", "surrogateescape")
        found = self._source.get(raw) if raw[:1] not in (b"", b"\x00") else None
        if found is None:
            return None
        value, offset = found
        self._where[key] = offset
        return _by_protobuf([key], [raw], [value], [offset], self.path)[0]

    def all(self) -> dict[str, Entry]:
        """Every entry, decoded together (once) the first time any caller needs them all."""
        made = self.made
        if made is None:
            listing = self._list()
            with self._lock:
                if self.made is None:
                    first, keys = listing.first, listing.keys
                    rows = range(first, first + len(keys))
                    self.made = dict(zip(keys, self._decode(rows, keys)))
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
        if key in self._where:
            return self._where[key]
        i = self.rows.get(key)
        if i is None and key.startswith("b'\\x00"):
            i = next((j for k, j in self.slice_rows.items() if repr(k) == key), None)
        return 0 if i is None else self._list().table.offset(i)

    # -- decoding --------------------------------------------------------------------------------

    def heads(self) -> dict[str, Head]:
        """``{key: (dtype, shape)}`` from each entry's first bytes: all that listing needs."""
        if self.made is not None:
            return {k: (e.dtype, e.shape) for k, e in self.made.items()}
        listing = self._list()
        keys, table = listing.keys, listing.table
        rows = range(listing.first, listing.first + len(keys))
        found = self._found(rows)
        heads = self._heads_of(found, rows, keys)
        head_of = found.head_of.tolist()
        if found.usual:
            return dict(zip(keys, map(heads.__getitem__, head_of)))
        return {
            key: heads[h] if h >= 0 else self._head(table.value(i), key, table.offset(i))
            for key, i, h in zip(keys, rows, head_of)
        }

    def _head(self, value: bytes, key: str, offset: int) -> Head:
        """The dtype and shape of one entry that is not in TensorFlow's usual form."""
        proto = _parse([key.encode("utf-8", "surrogateescape")], [value], [offset], self.path)[0]
        return _dtype_and_shape(proto, key, self.path, offset)

    def _decode(self, rows: Sequence[int], keys: list[str]) -> list[Entry]:
        """The entries of table rows ``rows`` (named ``keys``): those in TensorFlow's usual form
        decoded with numpy together, any other through protobuf."""
        if len(rows) < _BATCH:  # a lookup: protobuf alone is quicker than setting up numpy
            return self._rows_by_protobuf(rows, keys)
        found = self._found(rows)
        odd = np.flatnonzero(found.head_of < 0).tolist()
        # parsed first: an entry that is not in the usual form is the first thing to say
        unusual = self._rows_by_protobuf([rows[j] for j in odd], [keys[j] for j in odd]) if odd else []
        heads = self._heads_of(found, rows, keys)
        if not heads:
            return unusual
        head_of = np.maximum(found.head_of, 0).tolist()  # unusual rows are replaced below
        dtypes, shapes = [h[0] for h in heads], [h[1] for h in heads]
        columns = zip(
            keys, map(dtypes.__getitem__, head_of), map(shapes.__getitem__, head_of),
            *(c.tolist() for c in found.tail), repeat(()),
        )  # fmt: skip
        out = list(map(_MAKE_ENTRY, columns))  # each Entry made in C, no Python frame per row
        for j, entry in zip(odd, unusual):
            out[j] = entry
        return out

    def _rows_by_protobuf(self, rows: Sequence[int], keys: list[str]) -> list[Entry]:
        table = self._list().table
        values, where = [table.value(i) for i in rows], [table.offset(i) for i in rows]
        return _by_protobuf(keys, [table.keys[i] for i in rows], values, where, self.path)

    def _heads_of(self, found: _Canonical, rows: Sequence[int], keys: list[str]) -> list[Head]:
        """Each distinct dtype and shape prefix ``_canonical`` found, decoded by protobuf once (and
        kept for later calls); errors name the first entry that has it."""
        table, heads = self._list().table, []
        for prefix, j in zip(found.prefixes, found.first):
            head = self._heads.get(prefix)
            if head is None:
                i, key = rows[j], keys[j]
                proto = _parse([table.keys[i]], [prefix], [table.offset(i)], self.path)[0]
                head = self._heads[prefix] = _dtype_and_shape(proto, key, self.path, table.offset(i))
            heads.append(head)
        return heads

    def _found(self, rows: Sequence[int]) -> _Canonical:
        """``_canonical`` over table rows ``rows``."""
        table = self._list().table
        starts, ends = table.value_start, table.value_end
        pick = slice(rows.start, rows.stop) if isinstance(rows, range) else rows  # a slice is a view
        return _canonical(np.frombuffer(table.buffer, np.uint8), starts[pick], ends[pick])


class _Canonical:
    """What ``_canonical`` finds: ``head_of[j]`` indexes ``prefixes`` (-1: not canonical),
    ``first[h]`` is the first entry with prefix ``h``, ``tail`` = (shard, offset, size, crc32c)."""

    def __init__(self, head_of: Any, prefixes: list[bytes], first: list[int], tail: tuple[Any, ...]) -> None:
        self.head_of, self.prefixes, self.first, self.tail = head_of, prefixes, first, tail
        self.usual = bool(len(head_of)) and int(head_of.min()) >= 0  # every entry decided here


_BATCH = 64  # entries decoded together with numpy; fewer go through protobuf one by one
_LOOKUPS = 256  # entries decoded one by one before a lookup decodes all of them
# shard_id (int32), offset and size (int64) as varints below these bounds; crc32c as fixed32
_TAIL = ((0x18, 2**31), (0x20, 2**63), (0x28, 2**63), (0x35, 0))


def _canonical(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> _Canonical:
    """Entries TensorFlow writes: dtype (a 1-byte varint), shape (under 128 bytes), then shard_id,
    offset and size as varints and crc32c as fixed32, each at most once, in field order, absent
    when zero. Protobuf lets a later field override or extend an earlier one, so only an entry
    that is exactly this is decided here; any other (slices, unknown or repeated fields, negative
    or out-of-range numbers) is left to protobuf."""
    n, last = len(starts), max(len(buf) - 1, 0)

    def at(pos: np.ndarray) -> np.ndarray:
        return buf[np.minimum(pos, last)].astype(np.int64) if len(buf) else np.zeros(len(pos), np.int64)

    b1, b3 = at(starts + 1), at(starts + 3)
    prefix_end = starts + 4 + b3
    ok = (ends - starts >= 4) & (at(starts) == 0x08) & (b1 < 0x80) & (at(starts + 2) == 0x12) & (b3 < 0x80)
    ok &= prefix_end <= ends
    pos, tail = prefix_end.copy(), []
    for tag, limit in _TAIL:
        has = ok & (pos < ends) & (at(pos) == tag)
        if limit:
            value, after = wire.varints(buf, pos + 1, ends)
            has &= (after >= 0) & (value < np.uint64(limit))
            value = np.where(has, value, 0).astype(np.int64)
            pos = np.where(has, after, pos)
        else:
            has &= pos + 5 <= ends
            value = at(pos + 1) | at(pos + 2) << 8 | at(pos + 3) << 16 | at(pos + 4) << 24
            pos = np.where(has, pos + 5, pos)
        tail.append(np.where(has, value, 0))
    ok &= pos == ends
    head_of = np.full(n, -1, np.int64)
    prefixes: list[bytes] = []
    first: list[int] = []
    chosen = np.flatnonzero(ok)
    if chosen.size:
        width = int(b3[chosen].max()) + 4
        index = starts[chosen, None] + np.arange(width)
        grid = np.where(index < prefix_end[chosen, None], buf[np.minimum(index, last)], 0).astype(np.uint8)
        unique, where, inverse = np.unique(
            np.ascontiguousarray(grid).view(np.dtype((np.void, width))).ravel(),
            return_index=True,
            return_inverse=True,
        )
        lengths = b3[chosen][where] + 4
        prefixes = [bytes(u)[:k] for u, k in zip(unique.tolist(), lengths.tolist())]
        first = chosen[where].tolist()
        head_of[chosen] = inverse.ravel()
    return _Canonical(head_of, prefixes, first, tuple(tail))


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
_MAKE_ENTRY = partial(_new_tuple, Entry)
_LENGTH_BYTE = [bytes([0x0A, n]) for n in range(128)]  # field 1 tag + one-byte length


def _by_protobuf(
    keys: list[str], raw: list[bytes], values: list[bytes], offsets: list[int], path: str
) -> list[Entry]:
    """Entries decoded by protobuf alone (in one call when all parse), each checked."""
    protos = _parse(raw, values, offsets, path)
    return [
        _entry(key, proto, _dtype_and_shape(proto, key, path, offset), path, offset)
        for key, offset, proto in zip(keys, offsets, protos)
    ]


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
