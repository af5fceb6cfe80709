"""The sorted string table of a checkpoint's ``.index`` file.

TensorFlow's fork of LevelDB's table format (tsl/lib/io/format.h, block.cc, table.cc,
table_builder.cc), without filter blocks. One class per on-disk piece: ``BlockHandle``,
``Footer``, ``Block``, ``TableReader``; ``TableBuilder`` writes the same bytes TensorFlow does.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from ..errors import ChecksumMismatchError, CorruptCheckpointError, InvalidArgumentError
from . import crc, varint, wire

MAGIC = bytes.fromhex("57fb808b247547db")  # kTableMagicNumber 0xdb4775248b80fb57, little-endian
FOOTER_SIZE = 48
TRAILER_SIZE = 5  # compression type byte + masked CRC32C
NO_COMPRESSION, SNAPPY = 0, 1
BLOCK_SIZE = 262_144  # TensorFlow's target block size (LevelDB uses 4 KiB)
_U32 = struct.Struct("<I")


class BlockHandle(NamedTuple):
    """Where a block lives in the file (tsl/lib/io/format.h); ``size`` excludes the trailer."""

    offset: int
    size: int

    @classmethod
    def decode(cls, buf: bytes, pos: int, end: int) -> tuple[BlockHandle, int]:
        offset, pos = varint.decode(buf, pos, end)
        size, pos = varint.decode(buf, pos, end)
        return cls(offset, size), pos

    def encode(self) -> bytes:
        return varint.encode(self.offset) + varint.encode(self.size)


class Footer(NamedTuple):
    """The last 48 bytes: metaindex and index handles, zero padding, the magic."""

    metaindex: BlockHandle
    index: BlockHandle  # type: ignore[assignment]  # shadows tuple.index, as the format names it

    @classmethod
    def decode(cls, data: bytes, path: str, file_offset: int) -> Footer:
        if data[-8:] != MAGIC:
            raise CorruptCheckpointError(
                "bad table magic (the last 8 bytes are not a table's); "
                "this is not a TensorFlow checkpoint index",
                path,
                file_offset + FOOTER_SIZE - 8,
            )
        try:
            metaindex, pos = BlockHandle.decode(data, 0, 40)
            index, _ = BlockHandle.decode(data, pos, 40)
        except varint.VarintError as e:
            raise CorruptCheckpointError(
                f"bad block handle in footer: {e}", path, file_offset + e.pos
            ) from None
        return cls(metaindex, index)

    def encode(self) -> bytes:
        handles = self.metaindex.encode() + self.index.encode()
        return handles + bytes(40 - len(handles)) + MAGIC


class Block:
    """One block's contents: prefix-compressed entries, then the restart array (block.cc)."""

    def __init__(self, data: bytes, path: str, file_offset: int) -> None:
        self.data, self.path, self.file_offset = data, path, file_offset
        if len(data) < 4:
            raise CorruptCheckpointError("block shorter than its restart count", path, file_offset)
        (num_restarts,) = _U32.unpack_from(data, len(data) - 4)
        if num_restarts > (len(data) - 4) // 4:
            raise CorruptCheckpointError(
                f"block claims {num_restarts} restart points in {len(data)} bytes", path, file_offset
            )
        self.entries_end = end = len(data) - 4 * (num_restarts + 1)
        self.num_restarts = num_restarts
        # Entries are read in order, not through the restarts, but TF seeks with them: a block
        # whose restart array points outside its entries is not one TF can read.
        if num_restarts:
            restarts = struct.unpack_from(f"<{num_restarts}I", data, end)
            if restarts[0] != 0 or max(restarts) >= max(end, 1):
                bad = next(i for i, r in enumerate(restarts) if r >= max(end, 1) or (i == 0 and r))
                raise CorruptCheckpointError(
                    f"restart point {bad} of the block is offset {restarts[bad]}, outside its "
                    f"{end} bytes of entries",
                    path,
                    file_offset + end + 4 * bad,
                )

    def _corrupt(self, pos: int, message: str) -> CorruptCheckpointError:
        return CorruptCheckpointError(message, self.path, self.file_offset + pos)

    def __iter__(self) -> Iterator[tuple[bytes, bytes, int]]:
        return self.entries()

    def entries(self, after: bytes = b"") -> Iterator[tuple[bytes, bytes, int]]:
        """``(key, value, file offset of the entry)`` in stored order; keys must increase and
        follow ``after`` (the previous block's last key). ``last_key`` holds the last one seen."""
        data, base = self.data, self.file_offset
        for key, start, value_at, value_end in self.positions(after):
            yield key, data[value_at:value_end], base + start

    def positions(self, after: bytes = b"") -> Iterator[tuple[bytes, int, int, int]]:
        """``(key, entry start, value start, value end)`` within the block, in stored order."""
        data, end = self.data, self.entries_end
        self.last_key = after
        if self.num_restarts == 0:
            return
        pos, key, previous = 0, b"", after
        while pos < end:
            start = pos
            if pos + 3 <= end and (data[pos] | data[pos + 1] | data[pos + 2]) < 0x80:
                shared, non_shared, value_len = data[pos], data[pos + 1], data[pos + 2]
                pos += 3
            else:
                try:
                    shared, pos = varint.decode(data, pos, end)
                    non_shared, pos = varint.decode(data, pos, end)
                    value_len, pos = varint.decode(data, pos, end)
                except varint.VarintError as e:
                    raise self._corrupt(e.pos, f"bad block entry header: {e}") from None
            if shared > len(key):
                raise self._corrupt(start, f"entry shares {shared} bytes with a {len(key)}-byte key")
            key_end = pos + non_shared
            value_end = key_end + value_len
            if value_end > end:
                raise self._corrupt(start, "block entry runs past the end of the block")
            key = key[:shared] + data[pos:key_end] if shared else data[pos:key_end]
            if key <= previous and (previous or start):  # only the very first key may be b""
                raise self._corrupt(start, f"keys out of order: {key!r} after {previous!r}")
            previous = self.last_key = key
            yield key, start, key_end, value_end
            pos = value_end


def read_block(data: bytes, handle: BlockHandle, path: str, verify: bool) -> bytes:
    """The (decompressed) contents of the block at ``handle`` within the whole file ``data``."""
    end = handle.offset + handle.size
    if end + TRAILER_SIZE > len(data) - FOOTER_SIZE or handle.offset < 0:
        raise CorruptCheckpointError(
            f"block handle ({handle.offset}, {handle.size}) points past the end of the {len(data)}-byte file",
            path,
            handle.offset,
        )
    kind = data[end]
    if verify:
        (stored,) = _U32.unpack_from(data, end + 1)
        actual = crc.value(memoryview(data)[handle.offset : end + 1])
        if crc.unmask(stored) != actual:
            raise ChecksumMismatchError(
                f"block checksum mismatch: stored {crc.unmask(stored):#010x}, computed {actual:#010x}",
                path,
                handle.offset,
            )
    contents = data[handle.offset : end]
    if kind == NO_COMPRESSION:
        return contents
    if kind == SNAPPY:
        return _snappy_decompress(contents, path, handle.offset)
    raise CorruptCheckpointError(f"unknown block compression type {kind}", path, end)


def _snappy_decompress(contents: bytes, path: str, offset: int) -> bytes:
    import cramjam

    try:
        declared, _ = varint.decode(contents, 0, min(len(contents), 10))
    except varint.VarintError:
        raise CorruptCheckpointError("bad snappy length header", path, offset) from None
    if declared > 32 * len(contents) + 32:  # snappy cannot expand more than ~21x
        raise CorruptCheckpointError(f"snappy block declares an impossible {declared} bytes", path, offset)
    try:
        return bytes(cramjam.snappy.decompress_raw(contents))
    except Exception as e:  # cramjam raises its own DecompressionError
        raise CorruptCheckpointError(f"bad snappy block: {e}", path, offset) from None


class Rows(NamedTuple):
    """A table's entries as columns: ``keys[i]``'s value is ``buffer[value_start[i]:value_end[i]]``
    and its entry starts at byte ``offsets[i]`` of the file."""

    buffer: bytes
    keys: list[bytes]
    value_start: np.ndarray  # int64 columns
    value_end: np.ndarray
    offsets: np.ndarray

    def value(self, i: int) -> bytes:
        return self.buffer[self.value_start[i] : self.value_end[i]]

    def offset(self, i: int) -> int:
        return int(self.offsets[i])


def _lockstep(buf: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Entry headers of every restart run at once: run ``g`` spans ``[starts[g], stops[g])``.
    Returns ``(entry starts, shared, key starts, key ends, value ends)`` in stored order, or None
    when a run does not end exactly at its stop, a varint is long, or a run is unusually long."""
    end = len(buf)
    pos, steps = starts.copy(), []
    for _ in range(_MAX_RUN):
        active = np.flatnonzero(pos < stops)
        if not active.size:
            break
        at = pos[active]
        header = buf[np.minimum(at[:, None] + _HEADER, end - 1)].astype(np.int64)
        if header.max() < 0x80:  # the usual case: three one-byte varints
            shared, non_shared, value_len = header.T
            key_at = at + 3
        else:
            fields, key_at = [], at
            for _ in range(3):  # shared, non_shared, value_len
                value, key_at = wire.varints(buf, np.maximum(key_at, 0), stops[active])
                fields.append(value)
            if np.any(key_at < 0) or max(int(f.max()) for f in fields) > end:
                return None
            shared, non_shared, value_len = (f.astype(np.int64) for f in fields)
        nxt = key_at + non_shared + value_len
        if np.any(nxt > stops[active]):
            return None
        steps.append((at, shared, key_at, key_at + non_shared, nxt))
        pos[active] = nxt
    else:
        if np.any(pos < stops):
            return None
    columns = [np.concatenate([step[i] for step in steps]) for i in range(5)]
    order = np.argsort(columns[0], kind="stable")  # entry starts are distinct: stored order
    return tuple(c[order] for c in columns)


_MAX_RUN = 64  # entries between restart points walked in lockstep; TensorFlow writes 16
_HEADER = (0, 1, 2)


class TableReader:
    """All entries of a table held in memory (index files are small; they are read at once)."""

    def __init__(self, data: bytes, path: str, verify_checksums: bool = True) -> None:
        self.data, self.path, self.verify = data, path, verify_checksums
        if len(data) < FOOTER_SIZE:
            raise CorruptCheckpointError(
                f"file is too short to be an sstable ({len(data)} bytes, a table needs at least "
                f"{FOOTER_SIZE})",
                path,
                0,
            )
        footer_at = len(data) - FOOTER_SIZE
        self.footer = Footer.decode(data[footer_at:], path, footer_at)
        index = Block(read_block(data, self.footer.index, path, self.verify), path, self.footer.index.offset)
        self.index: list[tuple[bytes, BlockHandle]] = []
        for separator, value, _ in index:
            try:
                handle, _ = BlockHandle.decode(value, 0, len(value))
            except varint.VarintError:
                raise CorruptCheckpointError(
                    f"bad block handle under index key {separator!r}", path, self.footer.index.offset
                ) from None
            self.index.append((separator, handle))
        self._separators = [separator for separator, _ in self.index]

    def first(self) -> tuple[bytes, bytes, int] | None:
        """The first ``(key, value, offset)`` of the table, reading only the first block's start."""
        for _, handle in self.index:
            block = self._block(handle)
            for key, start, value_at, value_end in block.positions():
                return key, block.data[value_at:value_end], block.file_offset + start
        return None

    def get(self, key: bytes) -> tuple[bytes, int] | None:
        """``key``'s value and file offset, from the one block that may hold it (the first whose
        separator is not below ``key``), walked to ``key``: a seek, as TensorFlow looks a key up."""
        i = bisect.bisect_left(self._separators, key)
        if i == len(self.index):
            return None
        block = self._block(self.index[i][1])
        for found, start, value_at, value_end in block.positions():
            if found >= key:
                return (block.data[value_at:value_end], block.file_offset + start) if found == key else None
        return None

    def rows(self) -> Rows:
        """Every entry, as ``__iter__`` yields them, in columns. Blocks are walked with numpy from
        all their restart points at once (TensorFlow restarts prefix compression every 16 entries,
        so the whole table takes 16 vectorized steps); a table where that walk does not account
        for every byte exactly is walked entry by entry, in file order, which words every error."""
        try:
            blocks = [self._block(handle) for _, handle in self.index]
        except CorruptCheckpointError:
            return self._walk_in_order()
        starts, stops, bases, size = [], [], [], 0
        for block in blocks:
            if block.num_restarts:
                at = np.frombuffer(block.data, "<u4", block.num_restarts, block.entries_end).astype(np.int64)
                starts.append(at + size)
                stops.append(np.append(at[1:], block.entries_end) + size)
            bases.append(size)
            size += len(block.data)
        buffer = b"".join(b.data for b in blocks)
        walked = None
        if starts:
            run_starts, run_stops = np.concatenate(starts), np.concatenate(stops)
            if np.all(run_starts < run_stops):
                walked = _lockstep(np.frombuffer(buffer, np.uint8), run_starts, run_stops)
        if walked is None:
            return self._walk_in_order()
        shared, key_at, key_end = (c.tolist() for c in walked[1:4])
        keys: list[bytes] = []
        key, append = b"", keys.append
        for n, a, b in zip(shared, key_at, key_end):
            if n > len(key):
                return self._walk_in_order()
            key = key[:n] + buffer[a:b] if n else buffer[a:b]
            append(key)
        if not all(map(bytes.__lt__, keys, keys[1:])):
            return self._walk_in_order()
        block_of = np.searchsorted(bases, walked[0], "right") - 1
        shift = np.array([b.file_offset - base for b, base in zip(blocks, bases)], np.int64)[block_of]
        return Rows(buffer, keys, walked[3], walked[4], walked[0] + shift)

    def _block(self, handle: BlockHandle) -> Block:
        return Block(read_block(self.data, handle, self.path, self.verify), self.path, handle.offset)

    def _walk_in_order(self) -> Rows:
        """``rows`` one entry at a time, each block read and walked in turn."""
        chunks: list[bytes] = []
        keys: list[bytes] = []
        starts: list[int] = []
        ends: list[int] = []
        offsets: list[int] = []
        last, base = b"", 0
        for _, handle in self.index:
            block = self._block(handle)
            for key, start, value_at, value_stop in block.positions(after=last):
                keys.append(key)
                starts.append(base + value_at)
                ends.append(base + value_stop)
                offsets.append(block.file_offset + start)
            last = block.last_key
            chunks.append(block.data)
            base += len(block.data)
        columns = (np.array(c, np.int64) for c in (starts, ends, offsets))
        return Rows(b"".join(chunks), keys, *columns)

    def __iter__(self) -> Iterator[tuple[bytes, bytes, int]]:
        """Every ``(key, value, offset)`` in key order; the index's separator keys are not entries."""
        rows = self.rows()
        for i, key in enumerate(rows.keys):
            yield key, rows.value(i), rows.offset(i)


class _BlockBuilder:
    """block_builder.cc: prefix compression with a restart point every ``interval`` entries."""

    def __init__(self, interval: int) -> None:
        self.interval = interval
        self.reset()

    def reset(self) -> None:
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def empty(self) -> bool:
        return not self.buffer

    def size_estimate(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        buf = self.buffer
        buf += varint.encode(shared)
        buf += varint.encode(len(key) - shared)
        buf += varint.encode(len(value))
        buf += key[shared:]
        buf += value
        self.last_key = key
        self.counter += 1

    def finish(self) -> bytes:
        out = bytes(self.buffer) + b"".join(_U32.pack(r) for r in self.restarts)
        return out + _U32.pack(len(self.restarts))


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """LevelDB's BytewiseComparator::FindShortestSeparator."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n and start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """LevelDB's BytewiseComparator::FindShortSuccessor."""
    for i, b in enumerate(key):
        if b != 0xFF:
            return key[:i] + bytes([b + 1])
    return key


class TableBuilder:
    """Writes a table byte for byte as TensorFlow's ``TableBuilder`` with TF's options."""

    def __init__(self, block_size: int = BLOCK_SIZE, compression: int = NO_COMPRESSION) -> None:
        self.block_size, self.compression = block_size, compression
        self.out = bytearray()
        self.data_block = _BlockBuilder(16)
        self.index_block = _BlockBuilder(1)
        self.last_key: bytes | None = None
        self.pending: BlockHandle | None = None

    def add(self, key: bytes, value: bytes) -> None:
        if self.last_key is not None and key <= self.last_key:
            raise InvalidArgumentError(
                f"table keys must be strictly increasing: {key!r} after {self.last_key!r}"
            )
        if len(key) + len(value) >= 2 * self.block_size:
            self._flush()  # a huge entry gets a block of its own
        if self.pending is not None:
            assert self.last_key is not None
            self.index_block.add(shortest_separator(self.last_key, key), self.pending.encode())
            self.pending = None
        self.last_key = key
        self.data_block.add(key, value)
        if self.data_block.size_estimate() >= self.block_size:
            self._flush()

    def _flush(self) -> None:
        if self.data_block.empty():
            return
        self.pending = self._write_block(self.data_block.finish(), self.compression)
        self.data_block.reset()

    def _write_block(self, contents: bytes, compression: int) -> BlockHandle:
        kind = NO_COMPRESSION
        if compression == SNAPPY:
            import cramjam

            packed = bytes(cramjam.snappy.compress_raw(contents))
            if len(packed) < len(contents) - len(contents) // 8:  # keep only if it saves >= 12.5 %
                contents, kind = packed, SNAPPY
        handle = BlockHandle(len(self.out), len(contents))
        self.out += contents
        trailer_crc = crc.value(bytes([kind]), crc.value(contents))
        self.out += bytes([kind]) + _U32.pack(crc.mask(trailer_crc))
        return handle

    def finish(self) -> bytes:
        self._flush()
        metaindex = self._write_block(_BlockBuilder(16).finish(), NO_COMPRESSION)
        if self.pending is not None:
            assert self.last_key is not None
            self.index_block.add(short_successor(self.last_key), self.pending.encode())
            self.pending = None
        index = self._write_block(self.index_block.finish(), NO_COMPRESSION)
        self.out += Footer(metaindex, index).encode()
        return bytes(self.out)
