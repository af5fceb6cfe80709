"""What the views show for one tensor: values under numpy's print options, statistics with a
histogram, and a down-sampled heatmap of a 2-D tensor or of a 2-D slice of an N-D one.

Values and the heatmap come from ``Source.window`` (big tensors memory-mapped, indexed without
reading the rest); statistics need every value, so they read the whole tensor, in chunks
(``model.stats``) and, past ``SYNC_BYTES``, on a worker thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..model.stats import is_numeric, tensor_stats
from .source import Source

HEATMAP_CELLS = 48  # per side: at most 48 × 48 values are sent
SYNC_BYTES = 8 << 20  # statistics of bigger tensors are computed off the main thread
PRINT: dict[str, Any] = {"threshold": 120, "edgeitems": 3, "precision": 4, "linewidth": 88}


def check_index(shape: Sequence[int], index: Sequence[int]) -> tuple[int, ...]:
    """The leading indices that leave a 2-D slice of an N-D tensor (zeros when not given)."""
    extra = max(0, len(shape) - 2)
    picked = [int(i) for i in index][:extra] + [0] * max(0, extra - len(index))
    for dim, (i, n) in enumerate(zip(picked, shape)):
        if not 0 <= i < n:
            raise IndexError(f"index {i} is out of range for dimension {dim} of size {n}")
    return tuple(picked)


def _sample(value: np.ndarray) -> tuple[np.ndarray, int, int]:
    """At most ``HEATMAP_CELLS`` rows and columns of a 2-D array, by striding (reads only those)."""
    rows, cols = value.shape
    rs, cs = max(1, math.ceil(rows / HEATMAP_CELLS)), max(1, math.ceil(cols / HEATMAP_CELLS))
    return np.asarray(value[::rs, ::cs]), rs, cs


def heatmap(value: np.ndarray) -> dict[str, Any] | None:
    if value.ndim != 2 or value.size == 0 or not is_numeric(value.dtype):
        return None
    sample, rs, cs = _sample(value)
    x = np.abs(sample) if sample.dtype.kind == "c" else sample.astype(np.float64)
    finite = x[np.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    cells = [[round(float(v), 5) if math.isfinite(v) else None for v in row] for row in x]
    return {
        "rows": int(value.shape[0]),
        "cols": int(value.shape[1]),
        "step": [rs, cs],
        "min": lo,
        "max": hi,
        "cells": cells,
    }


def values_text(value: np.ndarray) -> str:
    with np.printoptions(**PRINT):
        return np.array2string(value, separator=", ") if value.ndim else repr(value[()])


def _short(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def preview(source: Source, key: str, index: Sequence[int] = ()) -> dict[str, Any]:
    """Everything but the statistics of ``key`` (those come from ``statistics``)."""
    entry = source.entry(key)
    out: dict[str, Any] = {**entry, "index": [], "slice": None, "values": "", "heatmap": None}
    shape = entry["shape"]
    if not entry["numeric"]:
        flat = np.asarray(source.read(key)).reshape(-1)
        shown = [_short(repr(v)) for v in flat[:20]]
        out["values"] = "[" + ", ".join(shown) + (", …" if flat.size > 20 else "") + "]"
        return out
    value = source.window(key)
    picked = check_index(shape, index)
    if picked:
        value = value[picked]
        out["index"] = list(picked)
        out["slice"] = "[" + ", ".join([*map(str, picked), ":", ":"]) + "]"
    out["values"] = values_text(value)
    out["heatmap"] = heatmap(value)
    return out


def statistics(source: Source, key: str, bins: int = 30) -> dict[str, Any] | None:
    """``TensorStats.to_dict()`` of the whole tensor (None for strings and variants)."""
    entry = source.entry(key)
    if not entry["numeric"]:
        return None
    stats = tensor_stats(source.read(key), bins)
    return stats.to_dict() if stats is not None else None


def is_big(source: Source, key: str) -> bool:
    return int(source.entry(key)["nbytes"]) > SYNC_BYTES
