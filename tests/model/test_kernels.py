"""The compiled loops against numpy and float64 references, over several blocks, with NaN/Inf,
values on the edges, every dtype the timeline and diff follow, and without a writable cache."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from typing import Any

import ml_dtypes
import numpy as np
import pytest

from ckptviz.model import kernels, stats
from ckptviz.model.diff.compare import compare_numeric

assert stats.compiled(stats.COMPILED_MIN)

SIZE = stats.COMPILED_MIN + 17  # several blocks, the last one partial, through the compiled loops


def reference(value: np.ndarray, edges: np.ndarray, previous: np.ndarray | None) -> dict[str, Any]:
    w = (
        np.abs(value).astype(np.float64).ravel()
        if value.dtype.kind == "c"
        else value.astype(np.float64).ravel()
    )
    good = w[np.isfinite(w)]
    out = {
        "nan": int(np.isnan(w).sum()), "inf": int(np.isinf(w).sum()),
        "counts": np.histogram(good, bins=edges)[0].tolist(),
        "under": int((good < edges[0]).sum()), "over": int((good > edges[-1]).sum()),
        "min": float(good.min()) if good.size else None, "max": float(good.max()) if good.size else None,
        "mean": float(good.mean()) if good.size else None, "std": float(good.std()) if good.size else None,
        "norm": float(np.sqrt(np.sum(good * good))) if good.size else None, "relative_change": None,
    }  # fmt: skip
    if previous is not None:
        p = (
            np.abs(previous).astype(np.float64).ravel()
            if previous.dtype.kind == "c"
            else previous.astype(np.float64).ravel()
        )
        both = np.isfinite(w) & np.isfinite(p)
        dd, pp = float(np.sum((w[both] - p[both]) ** 2)), float(np.sum(p[both] ** 2))
        out["relative_change"] = math.sqrt(dd / pp) if pp > 0 else (0.0 if dd == 0 else math.inf)
    return out


def check(got: stats.StepStats, want: dict[str, Any], rel: float = 1e-5) -> None:
    for name in ("nan", "inf", "counts", "under", "over", "min", "max"):
        assert getattr(got, name) == want[name], name  # exact
    for name in ("mean", "std", "norm", "relative_change"):
        g, w = getattr(got, name), want[name]
        if w is None or g is None:
            assert g == w, name
        else:
            assert g == pytest.approx(w, rel=rel, abs=1e-12), name


def values(dtype: Any, size: int = SIZE, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iub":
        info = np.iinfo(dtype) if np.dtype(dtype).kind != "b" else None
        if info is None:
            return rng.integers(0, 2, size).astype(bool)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), size, endpoint=True).astype(dtype)
    x = rng.normal(0.5, 2.0, size)
    if np.dtype(dtype).kind == "c":
        return (x + 1j * rng.normal(0, 1, size)).astype(dtype)
    return x.astype(dtype)


STEP_DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16, np.int8, np.int32, np.int64,
               np.uint8, bool, np.complex64]  # fmt: skip


@pytest.mark.parametrize("dtype", STEP_DTYPES)
@pytest.mark.parametrize("with_previous", [False, True])
def test_step_stats_equal_numpy_on_every_dtype(dtype: Any, with_previous: bool) -> None:
    value = values(dtype)
    previous = values(dtype, seed=1) if with_previous else None
    w = np.abs(value) if value.dtype.kind == "c" else value.astype(np.float64)
    edges = np.array(stats.fixed_edges(float(w.min()), float(w.max()), 17))
    if value.dtype.kind in "fV":
        value[: edges.size] = edges.astype(value.dtype)  # on the edges, as far as the dtype holds them
    got = stats.step_stats(value, edges.tolist(), previous, fast=True)
    check(got, reference(value, edges, previous), rel=1e-3 if np.dtype(dtype).itemsize <= 4 else 1e-9)


def test_values_on_every_edge_nan_and_inf_in_some_blocks() -> None:
    """Every edge value (rounded to float32 up and down as well) lands in np.histogram's bin;
    blocks holding NaN/Inf in ``value`` or ``previous`` keep their finite values."""
    edges = np.linspace(-1.3, 2.9, 31)
    rng = np.random.default_rng(3)
    value = rng.uniform(-2, 3.5, SIZE).astype(np.float32)
    on = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)]).astype(np.float32)
    value[: on.size] = on
    value[kernels.BLOCK + 5 : kernels.BLOCK + 8] = [np.nan, np.inf, -np.inf]  # second block only
    previous = value + np.float32(0.01)
    previous[2 * kernels.BLOCK + 1] = np.nan  # third block: a NaN on the previous side only
    for fast in (True, False):  # the compiled loops, and numpy for checkpoints of small tensors
        got = stats.step_stats(value, edges.tolist(), previous, fast)
        check(got, reference(value, edges, previous))
        assert (got.nan, got.inf, sum(got.counts) + got.under + got.over) == (1, 2, SIZE - 3)


def test_float64_edges_between_float32_values() -> None:
    """Edges no float32 can hold: values compare with them exactly, not with rounded edges."""
    edges = np.array([0.1, 0.2, 0.3, 0.4])
    value = np.array([0.1, 0.2, 0.3, 0.4, 0.29999998, 0.30000001], np.float32)
    for fast in (True, False):
        check(stats.step_stats(value, edges.tolist(), fast=fast), reference(value, edges, None))


@pytest.mark.parametrize(
    "edges",
    [[0.0, 1.0, 10.0, 1000.0], [1e6, 1e6 + 1e-4, 1e6 + 2e-4], [-1.0, -1.0 + 1e-12, 1.0], [5.0, 5.0, 6.0]],
)
def test_uneven_or_tight_edges_still_bin_exactly(edges: list[float]) -> None:
    """Edges of unequal widths, or too close for float32 arithmetic: every value goes through the
    exact comparison with the edges."""
    rng = np.random.default_rng(4)
    value = rng.uniform(edges[0] - 1, edges[-1] + 1, 5000).astype(np.float32)
    value64 = value.astype(np.float64) if edges[0] < 1e5 else rng.uniform(edges[0], edges[-1], 5000)
    for x in (value, value64):
        for fast in (True, False):
            check(stats.step_stats(x, edges, fast=fast), reference(x, np.array(edges), None))


@pytest.mark.parametrize("size", [kernels.BLOCK * 2 + 7, kernels.BLOCK + kernels.ROWS - 1, SIZE + 3])
@pytest.mark.parametrize("bins", [30, kernels.PAIR_WIDTH - 3, kernels.PAIR_WIDTH - 2, 300, 70000])
def test_interleaved_counts_on_odd_sizes_and_wide_slots(size: int, bins: int) -> None:
    """Every count adds up: sizes that leave an odd element, a partial group of ``ROWS`` and a
    partial block; bins counted in pairs (up to the widest pair table) and alone, with slots of
    one, two and four bytes (bins beyond 253 and 65 533), values on edges."""
    edges = np.linspace(-3.0, 4.0, bins + 1)
    value = np.random.default_rng(7).normal(0.5, 2.0, size).astype(np.float32)
    on = edges[:: max(1, bins // 20)].astype(np.float32)
    value[: on.size] = on
    previous = value + np.float32(0.5)
    got = stats.step_stats(value, edges.tolist(), previous, fast=True)
    check(got, reference(value, edges, previous))
    assert sum(got.counts) + got.under + got.over == size


@pytest.mark.parametrize("where", ["inside", "on an edge", "on the last edge"])
def test_all_values_in_one_bin(where: str) -> None:
    """One bin takes every increment (each row's chain at its longest); on an edge every value
    goes through the comparison with the edges."""
    edges = np.linspace(-1.0, 1.0, 31)
    at = {"inside": 0.01, "on an edge": float(edges[12]), "on the last edge": 1.0}[where]
    value = np.full(SIZE, at, np.float32)
    got = stats.step_stats(value, edges.tolist(), value, fast=True)
    check(got, reference(value, edges, value))
    assert max(got.counts) == SIZE and got.relative_change == 0.0


def test_empty_and_all_nan() -> None:
    empty = stats.step_stats(np.zeros((0, 3), np.float32), [0.0, 1.0], np.zeros((0, 3), np.float32))
    assert (empty.size, empty.mean, empty.min, empty.counts, empty.relative_change) == (
        0,
        None,
        None,
        [0],
        0.0,
    )
    nan = stats.step_stats(np.full(SIZE, np.nan, np.float32), [0.0, 1.0])
    assert (nan.nan, nan.mean, nan.min, nan.counts) == (SIZE, None, None, [0])


def test_keys_sort_as_floats() -> None:
    for dtype in (np.float32, np.float64):
        x = np.array([-np.inf, -3.5, -1e-30, -0.0, 0.0, 1e-30, 2.0, np.inf], dtype)
        ints, mask = kernels.int_view(x)
        keys = [int(kernels._key(ints, i, mask)) for i in range(x.size)]  # the compiled rule itself
        assert keys == sorted(keys)
        back = kernels.from_keys(np.array(keys, np.int64), x.dtype).astype(dtype)
        assert back.tobytes() == x.tobytes()  # bit for bit: -0.0 is not 0.0


# -- the diff's pass ------------------------------------------------------------------------------


@np.errstate(invalid="ignore")  # Inf − Inf at the special positions: left out below
def diff_reference(a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> dict[str, Any]:
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    both = np.isfinite(x) & np.isfinite(y)
    d = np.abs(y[both] - x[both])
    work = np.float32 if a.dtype.itemsize <= 4 and a.dtype.kind in "fV" else np.float64
    xw, yw = a.astype(work).ravel(), b.astype(work).ravel()
    dw = np.abs(yw - xw)  # the working dtype's difference, as numpy computes it
    if atol == rtol == 0:
        bits = np.dtype(f"u{a.dtype.itemsize}")
        changed = int(np.count_nonzero(a.view(bits) != b.view(bits)))
    else:
        same = (xw == yw) | (np.isnan(xw) & np.isnan(yw))
        changed = int(np.count_nonzero(both & (dw > atol + rtol * np.abs(xw)))) + int(
            np.count_nonzero(~both & ~same)
        )
    return {
        "changed": changed, "nan_a": int(np.isnan(x).sum()), "nan_b": int(np.isnan(y).sum()),
        "inf_a": int(np.isinf(x).sum()), "inf_b": int(np.isinf(y).sum()),
        "max_abs_diff": float(dw[both].max()), "mean_abs_diff": float(d.mean()), "rms_diff": float(np.sqrt(np.mean(d * d))),
        "norm_a": float(np.sqrt(np.sum(x[both] ** 2))), "norm_b": float(np.sqrt(np.sum(y[both] ** 2))),
        "cosine": float(np.dot(x[both], y[both]) / np.sqrt(np.sum(x[both] ** 2) * np.sum(y[both] ** 2))),
    }  # fmt: skip


@pytest.mark.parametrize(
    "dtype", [np.float32, np.float64, np.float16, ml_dtypes.bfloat16, np.int32, np.uint8]
)
@pytest.mark.parametrize("tolerance", [(0.0, 0.0), (1e-3, 0.0), (0.0, 0.05)])
def test_compare_numeric_equals_float64_reference(dtype: Any, tolerance: tuple[float, float]) -> None:
    a = values(dtype)
    b = a.copy()
    change = np.random.default_rng(5).random(SIZE) < 0.3
    b[change] = values(dtype, seed=6)[change]
    if np.dtype(dtype).kind in "fV":
        a[kernels.BLOCK + 3], b[kernels.BLOCK + 4], a[2 * kernels.BLOCK], b[2 * kernels.BLOCK] = (
            np.nan,
            np.inf,
            np.inf,
            np.inf,
        )
    got = compare_numeric([(a[:1000], b[:1000]), (a[1000:], b[1000:])], SIZE, *tolerance)  # two pieces
    want = diff_reference(a, b, *tolerance)
    for name, w in want.items():
        g = getattr(got, name)
        exact = name in ("changed", "nan_a", "nan_b", "inf_a", "inf_b", "max_abs_diff")
        assert g == w if exact else g == pytest.approx(w, rel=1e-6), name


def test_int64_values_float64_cannot_tell_apart_count_as_changed() -> None:
    a = np.array([2**60, 5, -(2**62)] * 30000, np.int64)
    b = a + np.array([1, 0, 1] * 30000, np.int64)  # 2**60 + 1 is 2**60 in float64
    assert compare_numeric([(a, b)], a.size).changed == 60000


def test_complex_pieces_compare_by_magnitude_of_the_difference() -> None:
    a = np.array([1 + 1j, np.nan + 0j, 3j], np.complex64)
    b = np.array([1 + 2j, np.nan + 0j, 3j], np.complex64)
    got = compare_numeric([(a, b)], 3)
    assert (got.changed, got.nan_a, got.nan_b, got.max_abs_diff, got.norm_a) == (1, 1, 1, 1.0, math.sqrt(11))


# -- where no cache directory is writable ---------------------------------------------------------


def test_kernels_work_when_no_cache_is_writable(tmp_path: Any) -> None:
    """A read-only install with no writable user cache: numba finds no cache locator, the loops are
    compiled in the process and the statistics are the same."""
    script = textwrap.dedent(
        """
        import numba.core.caching as caching
        def refuse(self):
            raise OSError("read-only")
        caching._CacheLocator.ensure_cache_path = refuse  # every locator: not writable
        import numpy as np
        from ckptviz.model import kernels, stats
        assert type(kernels.run_steps._cache).__name__ == "NullCache", kernels.run_steps._cache
        x = np.arange(40000, dtype=np.float32)
        s = stats.step_stats(x, [0.0, 20000.0, 40000.0], x + 1, fast=True)
        assert (s.counts, s.under, s.over, s.min, s.max) == ([20000, 20000], 0, 0, 0.0, 39999.0), s
        print("ok")
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": ""}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_tensors_anywhere_in_two_files_equal_each_alone() -> None:
    """``parts``: tensors at any offsets of ``x`` and their previous values at other offsets of a
    ``p`` of another size, in one call, give each tensor's own numbers; parts outside are refused."""
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 1.0, 3 * kernels.BLOCK + 100).astype(np.float32)
    p = rng.normal(0.0, 1.0, 2 * kernels.BLOCK + 50).astype(np.float32)
    starts, sizes = [5, kernels.BLOCK + 9, 40], [kernels.BLOCK + 3, 2 * kernels.BLOCK, 17]
    before = [kernels.BLOCK, 0, 7]
    edges = [stats.fixed_edges(-2.0, 2.0, 30), stats.fixed_edges(-1.0, 3.0, 30), stats.fixed_edges(0, 1, 30)]
    many = stats.step_stats_mapped(x, starts, sizes, edges, p, before)
    for st, a, n, b, e in zip(many, starts, sizes, before, edges):
        alone = stats.step_stats(x[a : a + n], e, p[b : b + n], fast=True)
        assert st.to_dict() == alone.to_dict()
    alone = [stats.step_stats(x[a : a + n], e, fast=True) for a, n, e in zip(starts, sizes, edges)]
    assert [s.to_dict() for s in stats.step_stats_mapped(x, starts, sizes, edges)] == [
        s.to_dict() for s in alone
    ]
    f, n, counts = kernels.run_state(30, 1)
    for bad in ([x.size - 3], [-1]):
        with pytest.raises(ValueError, match="outside"):
            kernels.run_pass(x, p, np.array(edges[:1]), f, n, counts, parts=(bad, [5], [0]))
    with pytest.raises(ValueError, match="outside"):  # previous values past the end of p
        kernels.run_pass(x, p, np.array(edges[:1]), f, n, counts, parts=([0], [100], [p.size - 50]))


def test_statistics_of_many_states_are_each_state_alone() -> None:
    """``_from_state`` works out every tensor's numbers as columns: the same as one tensor's rule,
    written out here one row at a time, on states with no finite value, a previous step of zero,
    a variance that rounds below zero and keys of both widths."""
    rng = np.random.default_rng(2)
    rows = 40
    for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        f, n, counts = kernels.run_state(6, rows)
        f[:] = rng.normal(0, 10, f.shape)
        f[:, kernels.S2] = np.abs(f[:, kernels.S2])
        f[:5, kernels.PP] = 0.0  # no previous norm, with and without a change
        f[:3, kernels.DD] = 0.0
        f[5:10, kernels.S2] = 0.0  # s2 / n - mean² below zero
        f[:, kernels.DD] = np.abs(f[:, kernels.DD])
        n[:, kernels.N] = rng.integers(0, 4, rows)
        n[:, kernels.NAN], n[:, kernels.INF] = rng.integers(0, 3, rows), rng.integers(0, 3, rows)
        values = rng.normal(0, 100, (rows, 2)).astype(dtype)
        ints, mask = kernels.int_view(values.ravel())
        key = [int(kernels._key(ints, i, mask)) for i in range(ints.size)]
        n[:, kernels.LO], n[:, kernels.HI] = key[0::2], key[1::2]
        counts[:] = rng.integers(0, 9, counts.shape)
        sizes = rng.integers(1, 100, rows).tolist()
        for with_prev in (False, True):
            got = stats._from_state(sizes, with_prev, dtype, f, n, counts)
            for j, st in enumerate(got):
                finite, (s1, s2, dd, pp, shift) = int(n[j, kernels.N]), f[j].tolist()
                total = counts[j, :, :-1].sum(axis=0).tolist()
                want = stats.StepStats(sizes[j], nan=int(n[j, kernels.NAN]), inf=int(n[j, kernels.INF]))
                want.counts, want.under, want.over = total[1:-1], total[0], total[-1]
                if finite:
                    m = s1 / finite
                    want.mean = shift + m
                    want.std = math.sqrt(max(0.0, s2 / finite - m**2))
                    want.norm = math.sqrt(max(0.0, s2 + 2 * shift * s1 + finite * shift * shift))
                    want.min, want.max = (float(v) for v in values[j])
                if with_prev:
                    want.relative_change = (
                        math.sqrt(dd) / math.sqrt(pp) if pp > 0 else (0.0 if dd == 0 else math.inf)
                    )
                assert st.to_dict() == want.to_dict(), j
