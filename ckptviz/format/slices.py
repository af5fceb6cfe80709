"""Slices of partitioned tensors: their keys and their reassembly.

A slice key is TensorFlow's ``EncodeTensorNameSlice`` (saved_tensor_slice_util.cc) built from
OrderedCode (lib/strings/ordered_code.cc): ``NumIncreasing(0) String(name) NumIncreasing(rank)``
then ``SignedNumIncreasing(start), SignedNumIncreasing(length)`` per dimension, where a length
of -1 means the whole dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

FULL = -1  # extent length meaning "the whole dimension"
_ESCAPES = {0x00: b"\x00\xff", 0xFF: b"\xff\x00"}
_HEADER = [
    (0, 0),
    (0x80, 0),
    (0xC0, 0),
    (0xE0, 0),
    (0xF0, 0),
    (0xF8, 0),
    (0xFC, 0),
    (0xFE, 0),
    (0xFF, 0),
    (0xFF, 0x80),
    (0xFF, 0xC0),
]


class Slice(NamedTuple):
    """Per-dimension ``(start, length)`` extents; ``length == FULL`` covers the dimension."""

    extents: tuple[tuple[int, int], ...]

    @classmethod
    def from_proto(cls, proto: Any) -> Slice:
        return cls(tuple((e.start, e.length) if e.HasField("length") else (0, FULL) for e in proto.extent))

    def to_proto(self, proto: Any) -> Any:
        for start, length in self.extents:
            extent = proto.extent.add()
            if length != FULL:
                extent.start = start
                extent.length = length
        return proto

    def bounds(self, shape: Sequence[int]) -> list[tuple[int, int]]:
        """``[(start, stop), ...]`` against the full ``shape``."""
        return [
            (0, dim) if length == FULL else (start, start + length)
            for (start, length), dim in zip(self.extents, shape)
        ]

    def index(self, shape: Sequence[int]) -> tuple[slice, ...]:  # type: ignore[override]
        return tuple(slice(a, b) for a, b in self.bounds(shape))

    def shape(self, shape: Sequence[int]) -> list[int]:
        return [b - a for a, b in self.bounds(shape)]

    def covers(self, shape: Sequence[int]) -> bool:
        return self.shape(shape) == list(shape)

    def __str__(self) -> str:  # TF's TensorSlice::DebugString form, e.g. "0,2:-"
        return ":".join("-" if n == FULL else f"{s},{n}" for s, n in self.extents)


def _num_increasing(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(raw)]) + raw


def _signed_num_increasing(value: int) -> bytes:
    x = ~value if value < 0 else value
    if x < 64:
        return bytes([0x80 ^ (value & 0xFF)])
    n = min(10, (x.bit_length() + 7) // 7)
    buf = bytearray(value.to_bytes(10, "big", signed=True)[10 - n :])
    buf[0] ^= _HEADER[n][0]
    buf[1] ^= _HEADER[n][1]
    return bytes(buf)


def encode_key(name: str, piece: Slice) -> bytes:
    """The bundle key under which the data of slice ``piece`` of tensor ``name`` is stored."""
    raw = name.encode("utf-8", "surrogateescape")  # keys that are not UTF-8 keep their bytes
    escaped = b"".join(_ESCAPES.get(b, bytes([b])) for b in raw)
    out = bytearray(b"\x00" + escaped + b"\x00\x01" + _num_increasing(len(piece.extents)))
    for start, length in piece.extents:
        out += _signed_num_increasing(start) + _signed_num_increasing(length)
    return bytes(out)


def _decode_signed(key: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(key):
        raise ValueError("truncated slice extent")
    first = key[pos]
    negative = first < 0x80
    flip = 0xFF if negative else 0
    head = (first ^ flip) << 8 | ((key[pos + 1] ^ flip) if pos + 1 < len(key) else 0)
    n = 0
    while n < 10 and head & (0x8000 >> n):
        n += 1
    raw = bytearray(b ^ flip for b in key[pos : pos + n])
    if len(raw) != n or n == 0:
        raise ValueError("truncated slice extent")
    raw[0] ^= _HEADER[n][0]
    if n > 1:
        raw[1] ^= _HEADER[n][1]
    x = int.from_bytes(raw, "big")
    return (~x if negative else x), pos + n


def decode_key(key: bytes) -> tuple[str, Slice]:
    """Inverse of ``encode_key``; raises ValueError for keys that are not slice keys."""
    if not key.startswith(b"\x00"):
        raise ValueError("not a slice key")
    name, pos = bytearray(), 1
    while True:
        if pos + 1 >= len(key):
            raise ValueError("unterminated name in slice key")
        b, nxt = key[pos], key[pos + 1]
        if b == 0x00 and nxt == 0x01:
            pos += 2
            break
        if b in (0x00, 0xFF):
            if nxt != (0xFF if b == 0x00 else 0x00):
                raise ValueError("bad escape in slice key")
            name.append(b)
            pos += 2
        else:
            name.append(b)
            pos += 1
    if pos >= len(key) or key[pos] > 8 or pos + 1 + key[pos] > len(key):
        raise ValueError("bad rank in slice key")
    rank = int.from_bytes(key[pos + 1 : pos + 1 + key[pos]], "big")
    pos += 1 + key[pos]
    if rank < 1:
        raise ValueError("slice key of rank 0")
    extents = []
    for _ in range(rank):
        start, pos = _decode_signed(key, pos)
        length, pos = _decode_signed(key, pos)
        extents.append((start, length))
    if pos != len(key):
        raise ValueError("trailing bytes in slice key")
    return name.decode("utf-8", "surrogateescape"), Slice(tuple(extents))


def check_coverage(name: str, shape: Sequence[int], pieces: Sequence[Slice]) -> str | None:
    """None if ``pieces`` tile ``shape`` exactly, else a sentence saying what is wrong.

    O(n log n) for the grids TensorFlow's partitioners make, whatever the number of pieces."""
    boxes = []
    for piece in pieces:
        if len(piece.extents) != len(shape):
            return (
                f"slice {piece} of {name!r} has rank {len(piece.extents)}, the tensor has rank {len(shape)}"
            )
        bounds = piece.bounds(shape)
        if any(a < 0 or b > dim or a > b for (a, b), dim in zip(bounds, shape)):
            return f"slice {piece} lies outside {name!r} of shape {list(shape)}"
        boxes.append(bounds)
    covered = sum(math.prod(hi - lo for lo, hi in box) for box in boxes)
    total = math.prod(shape)
    if covered > total or (covered == total and total and _overlap(shape, boxes)):
        return f"slices of {name!r} overlap"
    if covered != total:
        return (
            f"the stored slices of {name!r} cover {covered} of its {total} elements "
            f"(shape {list(shape)}); a slice or a data shard is missing"
        )
    return None


def _overlap(shape: Sequence[int], boxes: list[list[tuple[int, int]]]) -> bool:
    """Whether non-empty boxes overlap, given their volumes add up to the whole shape."""
    boxes = [b for b in boxes if all(hi > lo for lo, hi in b)]
    if not boxes:
        return False
    # The cut points of every dimension make a grid; each box covers a block of its cells, and
    # the boxes tile the shape exactly when every cell is covered once.
    cuts = [np.unique([0, dim, *(lo for lo, _ in (b[i] for b in boxes)), *(hi for _, hi in (b[i] for b in boxes))])
            for i, dim in enumerate(shape)]  # fmt: skip
    cells = math.prod(len(c) - 1 for c in cuts)
    if cells <= 16 * len(boxes) + (1 << 16):
        blocks = [
            tuple(
                slice(int(np.searchsorted(c, lo)), int(np.searchsorted(c, hi)))
                for c, (lo, hi) in zip(cuts, b)
            )
            for b in boxes
        ]
        if sum(math.prod(s.stop - s.start for s in block) for block in blocks) != cells:
            return True
        count = np.zeros([len(c) - 1 for c in cuts], dtype=np.int32)
        for block in blocks:
            count[block] += 1
        return bool((count != 1).any())
    # Not a grid: sweep along the first dimension, comparing only boxes whose spans meet there.
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0][0])
    active: list[int] = []
    for i in order:
        start = boxes[i][0][0]
        active = [j for j in active if boxes[j][0][1] > start]
        a = boxes[i]
        for j in active:
            if all(lo1 < hi2 and lo2 < hi1 for (lo1, hi1), (lo2, hi2) in zip(a[1:], boxes[j][1:])):
                return True
        active.append(i)
    return False


def assemble(
    shape: Sequence[int], dtype: np.dtype[Any], pieces: Sequence[Slice], read: Callable[[Slice], np.ndarray]
) -> np.ndarray:
    """The full tensor from its slices; ``check_coverage`` must have passed."""
    out = np.empty(tuple(shape), dtype=dtype)
    for piece in pieces:
        out[piece.index(shape)] = read(piece)
    return out
