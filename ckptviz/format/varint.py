"""Protobuf base-128 varints, bounds-checked against the end of their buffer."""

from __future__ import annotations


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
