from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from ckptviz.model import stats
from ckptviz.model.stats import tensor_stats


def test_matches_numpy_over_several_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "CHUNK", 1000)
    x = np.random.default_rng(0).normal(size=(37, 101)).astype(np.float32)
    x[3, 4], x[5, 6], x[7, 8] = np.nan, np.inf, 0
    s = tensor_stats(x, bins=7)
    assert s is not None
    good = x[np.isfinite(x)].astype(np.float64)
    assert (s.min, s.max, s.finite, s.nan, s.inf) == (good.min(), good.max(), good.size, 1, 1)
    assert s.mean == pytest.approx(good.mean()) and s.std == pytest.approx(good.std())
    counts, edges = np.histogram(good, bins=7)
    assert s.histogram is not None and s.histogram.counts == counts.tolist()
    assert s.histogram.edges == pytest.approx(edges.tolist())
    assert s.to_dict()["histogram"]["counts"] == counts.tolist()


def test_non_numeric_and_exotic_dtypes() -> None:
    assert tensor_stats(np.array([b"a"], dtype=object)) is None
    assert tensor_stats(np.zeros(2, np.dtype([("qint8", "i1")]))) is None
    s = tensor_stats(np.arange(6).astype(ml_dtypes.bfloat16), bins=None)
    assert s is not None and s.summary() == "min 0, max 5, mean 2.5, std 1.70783, zeros 1/6"
    assert tensor_stats(np.zeros(0)).summary() == "empty"  # type: ignore[union-attr]
