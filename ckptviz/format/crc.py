"""Masked CRC32C as TensorFlow stores it (tsl/lib/hash/crc32c.h).

The hardware-accelerated ``crc32c`` package computes the checksum over any buffer (a numpy
array or a memoryview) without a copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MASK_DELTA = 0xA282EAD8


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
