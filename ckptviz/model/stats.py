"""Summary statistics and histograms of one tensor, in bounded memory.

A tensor is walked in chunks of ``CHUNK`` elements (big tensors are memory-mapped, so a chunk is
the only float64 copy alive), twice when a histogram is asked for: once for the range, once for
the counts. Faces (CLI, widgets, server) send ``TensorStats.to_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

CHUNK = 1 << 20  # elements per float64 chunk: 8 MiB


def is_numeric(dtype: np.dtype[Any]) -> bool:
    """Numbers we can summarise: numpy's own kinds and ml_dtypes' (bfloat16, float8, int4…)."""
    if dtype.kind in "biufc":
        return True
    try:
        np.zeros(1, dtype).astype(np.float64)
    except (TypeError, ValueError):
        return False
    return dtype.kind == "V" and dtype.names is None


def chunks(value: np.ndarray, size: int = CHUNK) -> Iterator[np.ndarray]:
    """``value`` flattened, as float64 (complex: magnitude) pieces of at most ``size`` elements."""
    flat = value.reshape(-1)
    for start in range(0, flat.size, size):
        piece = flat[start : start + size]
        yield np.abs(piece) if piece.dtype.kind == "c" else piece.astype(np.float64)


@dataclass
class Histogram:
    """``counts[i]`` finite values in ``[edges[i], edges[i+1])`` (the last bin is closed)."""

    counts: list[int]
    edges: list[float]


@dataclass
class TensorStats:
    """min/max/mean/std over finite values, NaN/Inf/zero counts, and a histogram."""

    dtype: str
    shape: list[int]
    size: int
    finite: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    nan: int = 0
    inf: int = 0
    zeros: int = 0
    histogram: Histogram | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """``min -2.25, max 7, mean 1.2, std 3, zeros 0/6``: one line for a terminal."""
        if self.size == 0:
            return "empty"
        parts = []
        if self.finite:
            parts += [f"min {self.min:.6g}", f"max {self.max:.6g}", f"mean {self.mean:.6g}", f"std {self.std:.6g}"]
        else:
            parts += ["min nan", "max nan"]
        parts.append(f"zeros {self.zeros}/{self.size}")
        if self.nan or self.inf:
            parts += [f"nan {self.nan}", f"inf {self.inf}"]
        return ", ".join(parts)


def tensor_stats(value: np.ndarray, bins: int | None = 30, dtype_name: str | None = None) -> TensorStats | None:
    """Statistics of a numeric tensor (None for strings, variants, quantized structs)."""
    value = np.asarray(value)
    if not is_numeric(value.dtype):
        return None
    out = TensorStats(dtype_name or value.dtype.name, list(value.shape), int(value.size))
    total = total_sq = 0.0
    lo, hi = math.inf, -math.inf
    for x in chunks(value):
        ok = np.isfinite(x)
        n_ok = int(np.count_nonzero(ok))
        out.nan += int(np.count_nonzero(np.isnan(x)))
        out.inf += x.size - n_ok - int(np.count_nonzero(np.isnan(x)))
        out.zeros += int(np.count_nonzero(x == 0))
        if n_ok:
            good = x if n_ok == x.size else x[ok]
            lo, hi = min(lo, float(good.min())), max(hi, float(good.max()))
            total += float(good.sum())
            out.finite += n_ok
    if out.finite:
        out.min, out.max, out.mean = lo, hi, total / out.finite
        for x in chunks(value):  # second pass: squared deviations, stable where sum-of-squares is not
            good = x[np.isfinite(x)]
            total_sq += float(np.square(good - out.mean).sum())
        out.std = math.sqrt(total_sq / out.finite)
        if bins:
            out.histogram = histogram(value, bins, (lo, hi))
    return out


def histogram(value: np.ndarray, bins: int, value_range: tuple[float, float]) -> Histogram:
    """Counts of the finite values of ``value`` on ``bins`` equal bins over ``value_range``."""
    lo, hi = value_range
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.zeros(bins, np.int64)
    for x in chunks(value):
        counts += np.histogram(x[np.isfinite(x)], bins=edges)[0]
    return Histogram([int(c) for c in counts], [float(e) for e in edges])
