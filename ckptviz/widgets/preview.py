"""What the views show for one tensor: values under numpy's print options, statistics with a
histogram, and a down-sampled heatmap of a 2-D tensor or of a 2-D slice of an N-D one.

Values and the heatmap follow the server's rule (``model.preview``): the first ``PREVIEW_MAX``
values, and the heatmap's sampled cells, are read on their own from a big tensor (unchecked, and
the panel says so), a small one is read whole and checked. Statistics need every value, so they
read the whole tensor, checked, in chunks (``model.stats``) and, past ``SYNC_BYTES``, on a worker
thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..model.preview import PREVIEW_MAX, Index
from ..model.preview import preview as preview_of
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


def heatmap(source: Source, key: str, picked: tuple[int, ...], rows: int, cols: int) -> dict[str, Any] | None:
    """At most ``HEATMAP_CELLS`` rows and columns of the 2-D slice ``picked``, by striding: only
    the sampled cells are read from a big tensor."""
    if not rows or not cols:
        return None
    rs, cs = max(1, math.ceil(rows / HEATMAP_CELLS)), max(1, math.ceil(cols / HEATMAP_CELLS))
    index: Index = (*picked, slice(None, None, rs), slice(None, None, cs))
    sample = preview_of(source.checkpoint, key, index, limit=HEATMAP_CELLS * HEATMAP_CELLS).array()
    if not is_numeric(sample.dtype):
        return None
    x = np.abs(sample) if sample.dtype.kind == "c" else sample.astype(np.float64)
    finite = x[np.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    cells = [[round(float(v), 5) if math.isfinite(v) else None for v in row] for row in x]
    return {"rows": rows, "cols": cols, "step": [rs, cs], "min": lo, "max": hi, "cells": cells}


def values_text(value: np.ndarray) -> str:
    with np.printoptions(**PRINT):
        return np.array2string(value, separator=", ") if value.ndim else repr(value[()])


def _short(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def preview(source: Source, key: str, index: Sequence[int] = ()) -> dict[str, Any]:
    """Everything but the statistics of ``key`` (those come from ``statistics``); ``verified`` and
    ``note`` say whether the values shown were checked against the tensor's checksum."""
    entry = source.entry(key)
    out: dict[str, Any] = {**entry, "index": [], "slice": None, "values": "", "heatmap": None}
    shape = entry["shape"]
    if not entry["numeric"]:
        shown = preview_of(source.checkpoint, key, (), limit=20)
        items = [_short(repr(v)) for v in shown.values.tolist()]
        out["values"] = "[" + ", ".join(items) + (", …" if shown.truncated else "") + "]"
        return {**out, "verified": shown.verified, "note": shown.note}
    picked = check_index(shape, index)
    if picked:
        out["index"] = list(picked)
        out["slice"] = "[" + ", ".join([*map(str, picked), ":", ":"]) + "]"
    shown = preview_of(source.checkpoint, key, picked, PREVIEW_MAX)
    out["values"] = values_text(shown.array())
    if shown.truncated:
        out["values"] += f"\n(the first {len(shown.values):,} of {math.prod(shown.part_shape):,} values)"
    if len(shown.part_shape) == 2:
        out["heatmap"] = heatmap(source, key, picked, *shown.part_shape)
    return {**out, "verified": shown.verified, "note": shown.note}


def statistics(source: Source, key: str, bins: int = 30) -> dict[str, Any] | None:
    """``TensorStats.to_dict()`` of the whole tensor (None for strings and variants)."""
    entry = source.entry(key)
    if not entry["numeric"]:
        return None
    stats = tensor_stats(source.read(key), bins)
    return stats.to_dict() if stats is not None else None


def is_big(source: Source, key: str) -> bool:
    return int(source.entry(key)["nbytes"]) > SYNC_BYTES
