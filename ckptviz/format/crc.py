"""Masked CRC32C as TensorFlow stores it (tsl/lib/hash/crc32c.h).

The hardware-accelerated ``crc32c`` package computes the checksum over any buffer (a numpy
array or a memoryview) without a copy, and releases the GIL while it does: a big buffer's pieces
are checksummed on several cores at once and joined with ``combine``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import Future

MASK_DELTA = 0xA282EAD8
PIECE_BYTES = 2 << 20  # a buffer is checksummed in pieces of at least this size, one per core


def value(data: Any, crc: int = 0) -> int:  # noqa: F811 - replaced by crc32c on first call
    """CRC32C of ``data``, continuing ``crc`` (so ``value(b, value(a)) == value(a + b)``).

    The first call imports ``crc32c`` (40 ms, most of it its metadata lookup) and puts the
    package's own function in this one's place, so ``import ckptviz`` does not pay for it and
    later calls cost nothing extra.
    """
    global value
    from crc32c import crc32c

    value = crc32c  # type: ignore[assignment]  # positional calls: half the cost, on a hot path
    checksum: int = crc32c(data, crc)
    return checksum


def mask(crc: int) -> int:
    """Rotate right by 15 bits and add a constant: stored CRCs are always masked."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + MASK_DELTA) & 0xFFFFFFFF


def mask_many(crcs: np.ndarray) -> np.ndarray:
    """``mask`` of each of an array of CRCs (uint32 arithmetic wraps as ``& 0xFFFFFFFF`` does)."""
    c = crcs.astype(np.uint32)
    out: np.ndarray = ((c >> np.uint32(15)) | (c << np.uint32(17))) + np.uint32(MASK_DELTA)
    return out


def unmask(masked: int) -> int:
    rot = (masked - MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# -- joining the CRCs of consecutive pieces (zlib's crc32_combine, for the Castagnoli polynomial) --

_POLY = 0x82F63B78  # reflected: bit 31 is x^0


def _multiply(a: int, b: int) -> int:
    """``a * b`` modulo the polynomial, in the reflected bit order CRCs use."""
    product, bit = 0, 1 << 31
    while a:
        if a & bit:
            product ^= b
            a ^= bit
        bit >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return product


def _squares() -> list[int]:
    """``x^(2^k)`` for k = 0…30; for this polynomial ``x^(2^31)`` is ``x`` again."""
    out, p = [], 1 << 30  # x
    for _ in range(31):
        out.append(p)
        p = _multiply(p, p)
    return out


_X2N = _squares()


def combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC32C of ``a + b`` from ``crc1`` (of ``a``), ``crc2`` (of ``b``) and ``len(b)``:
    ``crc1`` times ``x^(8 * length2)``, plus ``crc2``. Costs microseconds, whatever the lengths."""
    power, bits, k = 1 << 31, 8 * length2, 0  # power starts at 1
    while bits:
        if bits & 1:
            power = _multiply(_X2N[k % 31], power)
        bits >>= 1
        k += 1
    return _multiply(power, crc1) ^ crc2


def value_in_pieces(data: Any, pieces: int, submit: Callable[..., Future[int]]) -> int:
    """``value(data)`` of a C-contiguous buffer, its pieces checksummed at once: all but the last
    through ``submit`` (an executor's), the last on this thread."""
    view = memoryview(data).cast("B")
    step = -(-len(view) // pieces)
    starts = range(0, len(view), step)
    futures = [submit(value, view[s : s + step]) for s in starts[:-1]]
    last = value(view[starts[-1] :])
    crcs = [f.result() for f in futures] + [last]
    out = crcs[0]
    for s, c in zip(starts[1:], crcs[1:]):
        out = combine(out, c, min(step, len(view) - s))
    return out
