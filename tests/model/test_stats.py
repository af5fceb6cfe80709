from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- the one-pass statistics of a run step, against their definition ------------------------------

STEP_DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16, np.complex64,
               np.int8, np.int32, np.int64, np.uint8, bool]  # fmt: skip
STEP_SHAPES = [(), (0,), (1,), (5,), (3, 4), (2, 0, 3), (40,)]


@st.composite
def step_values(draw: Any, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    n = math.prod(shape)
    kind = np.dtype(dtype).kind
    if dtype is bool:
        items = st.booleans()
    elif kind in "fVc":
        items = st.one_of(st.floats(-1e4, 1e4, width=16), st.sampled_from([np.nan, np.inf, -np.inf, 0.0]))
    else:
        info = np.iinfo(dtype)
        items = st.integers(int(info.min), int(info.max))
    values = np.array(
        draw(st.lists(items, min_size=n, max_size=n)), dtype=np.float64 if kind in "fVc" else dtype
    )
    return values.astype(dtype).reshape(shape)


def defined(value: np.ndarray, edges: list[float], previous: np.ndarray | None) -> dict[str, Any]:
    """``StepStats`` by definition: float64 over the finite values (complex: magnitudes), bins as
    np.histogram counts them on these edges (``[e_i, e_i+1)``, the last bin closed)."""

    def working(a: np.ndarray) -> np.ndarray:
        return np.abs(a).astype(np.float64).ravel() if a.dtype.kind == "c" else a.astype(np.float64).ravel()

    w = working(value)
    good = w[np.isfinite(w)]
    lo, hi = edges[0], edges[-1]
    counts = np.histogram(good, bins=np.asarray(edges))[0]
    out: dict[str, Any] = {
        "size": w.size, "nan": int(np.isnan(w).sum()), "inf": int(np.isinf(w).sum()),
        "under": int((good < lo).sum()), "over": int((good > hi).sum()), "counts": counts.tolist(),
        "min": float(good.min()) if good.size else None, "max": float(good.max()) if good.size else None,
        "mean": float(good.mean()) if good.size else None, "std": float(good.std()) if good.size else None,
        "norm": float(np.sqrt(np.sum(good * good))) if good.size else None, "relative_change": None,
    }  # fmt: skip
    if previous is not None:
        p = working(previous)
        both = np.isfinite(w) & np.isfinite(p)
        dd, pp = float(np.sum((w[both] - p[both]) ** 2)), float(np.sum(p[both] ** 2))
        out["relative_change"] = math.sqrt(dd / pp) if pp > 0 else (0.0 if dd == 0 else math.inf)
    return out


def assert_matches(got: stats.StepStats, want: dict[str, Any], scale: float) -> None:
    for name in ("size", "nan", "inf", "under", "over", "counts", "min", "max"):
        assert getattr(got, name) == want[name], name
    for name in ("mean", "std", "norm", "relative_change"):
        g, w = getattr(got, name), want[name]
        if w is None or g is None or math.isinf(w):
            assert g == w, name
        else:
            bound = abs(w) if name in ("norm", "relative_change") else scale
            assert abs(g - w) <= 2e-3 * bound + 1e-9, (name, g, w)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    dtype=st.sampled_from(STEP_DTYPES),
    shape=st.sampled_from(STEP_SHAPES),
    chunk=st.sampled_from([3, 16, stats.RUN_CHUNK]),
    with_previous=st.booleans(),
    compiled=st.booleans(),
)  # both paths: the compiled loops, and numpy for checkpoints of small tensors
def test_step_stats_match_their_definition(
    data: Any, dtype: Any, shape: tuple[int, ...], chunk: int, with_previous: bool, compiled: bool
) -> None:
    value = data.draw(step_values(dtype, shape))
    previous = data.draw(step_values(dtype, shape)) if with_previous else None
    bins = data.draw(st.integers(1, 40))
    lo, hi = stats.value_range(value)
    if data.draw(st.booleans()) or not lo < hi:  # arbitrary bins, with values outside them
        lo = data.draw(st.floats(-2e4, 2e4))
        hi = lo + data.draw(st.floats(1e-3, 3e4))
    edges = np.linspace(lo, hi, bins + 1).tolist()  # else the values' own range: max on the last edge
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(stats, "RUN_CHUNK", chunk)  # several chunks, or the whole tensor in one
        got = stats.step_stats(value, edges, previous, compiled)
    w = np.abs(value) if value.dtype.kind == "c" else value.astype(np.float64)
    finite = w[np.isfinite(w)]
    assert_matches(got, defined(value, edges, previous), float(np.abs(finite).max()) if finite.size else 0.0)


def test_value_range_skips_nan_and_inf() -> None:
    x = np.array([np.nan, 3, -np.inf, -2, np.inf], np.float32)
    assert stats.value_range(x) == (-2.0, 3.0)
    assert stats.value_range(np.array([np.nan, np.inf], np.float32)) == (math.inf, -math.inf)
    assert stats.value_range(np.array([1 + 1j, 3j], np.complex64)) == pytest.approx((math.sqrt(2), 3.0))


def test_edges_finer_than_float32_still_count_every_value_once() -> None:
    """Edges are float64: a float32 value is compared with them as float64, not with the edge
    rounded to float32 (0 < 1e-93, and 1 < 1 + 1e-12, though float32 rounds both edges)."""
    got = stats.step_stats(np.array([0.0, 1.0, 0.75], np.float32), [1e-93, 0.5 + 5e-13, 1 + 1e-12])
    assert (got.under, got.counts, got.over) == (1, [0, 2], 0)


def test_small_tensors_do_not_load_numba() -> None:
    """A run or diff of small tensors never waits for numba to load (or to compile); a big
    tensor loads it."""
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from ckptviz.model import stats
        from ckptviz.model.diff.compare import compare_numeric
        x = np.arange(1000, dtype=np.float32)
        assert stats.step_stats(x, [0.0, 500.0, 1000.0], x + 1).counts == [500, 500]
        assert compare_numeric([(x, x + 1)], x.size).changed == 1000
        assert "numba" not in sys.modules
        big = np.zeros(stats.COMPILED_MIN, np.float32)
        assert stats.step_stats(big, [0.0, 1.0]).counts == [stats.COMPILED_MIN]
        assert "numba" in sys.modules
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_many_small_tensors_in_one_call_equal_one_by_one() -> None:
    """``step_stats_many`` gives each tensor exactly what ``step_stats`` gives it alone: every
    dtype, empty and one-element tensors, NaN/Inf, no previous step, a float64 step after a
    float32 one, and bin counts that differ between tensors."""
    rng = np.random.default_rng(11)
    values: list[np.ndarray] = []
    previous: list[np.ndarray | None] = []
    edges: list[list[float]] = []
    for i, dtype in enumerate(STEP_DTYPES * 2):
        size = [0, 1, 7, 1000, 5000][i % 5]
        value = (rng.normal(0.5, 2.0, size) * (1 if np.dtype(dtype).kind in "fcV" else 50)).astype(dtype)
        if np.dtype(dtype).kind == "f" and size > 3:
            value[[1, 3]] = [np.nan, np.inf]
        prev = [None, value + value.dtype.type(1), value[::-1].copy()][i % 3]
        if prev is not None and dtype == np.float32 and i % 2:
            prev = prev.astype(np.float64)  # the checkpoint before held it as float64
        lo, hi = stats.value_range(value)
        values.append(value)
        previous.append(prev)
        edges.append(stats.fixed_edges(lo, hi, 30 if i % 4 else 7))
    many = stats.step_stats_many(values, edges, previous)
    alone = [stats.step_stats(v, e, p, fast=True) for v, e, p in zip(values, edges, previous)]
    assert many == alone
    assert [s.size for s in many] == [v.size for v in values] and len({len(s.counts) for s in many}) == 2


def _edges_one_at_a_time(lo: float, hi: float, bins: int, margin: float = 0.25) -> list[float]:
    """The rule ``fixed_edges`` had for one range, kept as the reference for the columns."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 0.0
    pad = (hi - lo) * margin or max(abs(lo) * margin, 0.5)
    return [float(e) for e in np.linspace(lo - pad, hi + pad, bins + 1)]


_RANGE_ENDS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([0.0, -0.0, 1e-45, -3.5, 7.0, 1e38]),
)


@given(st.lists(st.tuples(_RANGE_ENDS, _RANGE_ENDS), min_size=1, max_size=20), st.integers(1, 70))
@settings(max_examples=300)
def test_fixed_edges_of_many_ranges_are_each_range_alone(
    ranges: list[tuple[float, float]], bins: int
) -> None:
    lo, hi = (np.array([r[i] for r in ranges]) for i in (0, 1))
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)  # a range, as value_range gives (or non-finite)
    got = stats.fixed_edges_many(lo, hi, bins)
    want = [_edges_one_at_a_time(a, b, bins) for a, b in zip(lo.tolist(), hi.tolist())]
    assert np.array(got).tobytes() == np.array(want).tobytes()  # bit for bit
    assert stats.fixed_edges(lo[0], hi[0], bins) == want[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gap", [stats.RANGE_GAP, 50])
def test_ranges_of_many_tensors_in_one_map_are_each_alone(
    dtype: Any, gap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tensors apart or back to back, given in any order, with NaN or Inf, empty, or overlapping;
    reduced together, or in several stretches where they lie farther apart than ``gap``."""
    monkeypatch.setattr(stats, "RANGE_GAP", gap)
    rng = np.random.default_rng(8)
    values = rng.normal(0, 3, 5000).astype(dtype)
    values[1203], values[2500], values[2501] = np.nan, np.inf, -np.inf
    layouts = [
        ([0, 100, 400, 401, 1200, 2400], [100, 250, 1, 9, 10, 200]),  # back to back, gaps, NaN, ±Inf
        ([4000, 10, 3000], [900, 5, 1000]),  # out of order
        ([0, 50, 4990], [60, 10, 10]),  # overlapping: one by one
        ([0, 10], [100, 10]),  # one inside another
        ([7, 30], [0, 5]),  # an empty one
        ([1203], [1]),  # only a NaN
    ]
    for starts, sizes in layouts:
        lo, hi = stats.value_ranges(values, starts, sizes)
        for j, (a, n) in enumerate(zip(starts, sizes)):
            assert (lo[j], hi[j]) == stats.value_range(values[a : a + n]), (starts, j)
