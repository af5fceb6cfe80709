"""Protobuf base-128 varints, bounds-checked against the end of their buffer."""

from __future__ import annotations

from typing import Any


class VarintError(ValueError):
    """A varint runs past its buffer or beyond 64 bits; ``pos`` is where it starts."""

    def __init__(self, pos: int, reason: str) -> None:
        super().__init__(reason)
        self.pos = pos


def decode(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    """Return ``(value, next_pos)`` for the varint at ``buf[pos]``; never reads at or past ``end``."""
    start = pos
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise VarintError(start, "truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise VarintError(start, "varint longer than 10 bytes")


def encode(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"varints here are unsigned, got {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_many(buf: Any, pos: Any, end: int, max_bytes: int = 5) -> tuple[Any, Any]:
    """The varints starting at each of ``pos`` (numpy) in the uint8 array ``buf``, at most
    ``max_bytes`` long and ending before ``end``: ``(values, lengths)`` as int64 arrays, where a
    length of 0 marks one that is longer or truncated (callers fall back to ``decode`` for those)."""
    import numpy as np

    pos = np.asarray(pos, np.int64)
    if pos.size and pos.max() < end:
        first = buf[pos]
        if first.max() < 0x80:  # the usual case: every varint is one byte
            return first.astype(np.int64), np.ones(pos.size, np.int64)
    at = pos[:, None] + np.arange(max_bytes)
    inside = at < end
    window = np.where(inside, buf[np.minimum(at, max(end - 1, 0))], 0x80).astype(np.int64)
    last = window < 0x80  # the byte that ends a varint has its high bit clear
    found = last.any(axis=1)
    length = np.where(found, last.argmax(axis=1) + 1, 0)
    keep = np.arange(max_bytes) < length[:, None]
    values = (((window & 0x7F) * keep) << (7 * np.arange(max_bytes))).sum(axis=1)
    return values, length
