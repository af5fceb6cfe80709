"""The batched comparison of many small tensors equals comparing each one on its own."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckptviz
from ckptviz.model.diff import engine
from ckptviz.model.diff.compare import Delta, compare_flat, compare_numeric, compare_small

DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16, np.int8, np.int32, np.int64, np.uint8, bool]
SHAPES = [(), (0,), (1,), (3,), (2, 3), (4, 1, 2), (0, 5)]
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0]
TOLERANCES = [(0.0, 0.0), (1e-3, 0.0), (0.0, 0.05), (0.5, 0.5)]


@st.composite
def tensor_pairs(draw: Any, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and a ``b`` that keeps some of its elements, changes others, and holds NaN/Inf where
    floats can."""
    shape = draw(st.sampled_from(SHAPES))
    n = math.prod(shape)
    is_float = np.dtype(dtype).kind in "fV"
    if dtype is bool:
        a = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
        other = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    elif is_float:
        values = st.one_of(st.floats(-1e4, 1e4, width=16), st.sampled_from(SPECIALS))
        a = np.array(draw(st.lists(values, min_size=n, max_size=n)), np.float64).astype(dtype)
        other = np.array(draw(st.lists(values, min_size=n, max_size=n)), np.float64).astype(dtype)
    else:
        info = np.iinfo(dtype)
        ints = st.integers(int(info.min), int(info.max))
        a = np.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype)
        other = np.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype)
    keep = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    b = np.where(keep, a, other).astype(a.dtype)
    return a.reshape(shape), b.reshape(shape)


def assert_same(got: Delta, want: Delta, bits: int) -> None:
    """Counts exactly; sums to the working dtype's rounding (another summation order)."""
    eps = 1e-4 if bits <= 32 else 1e-9
    for f in dataclasses.fields(Delta):
        g, w = getattr(got, f.name), getattr(want, f.name)
        if isinstance(w, float) and isinstance(g, float):
            scale = {"cosine": 1.0, "max_abs_diff": 0.0}.get(f.name, abs(w))
            close = (math.isnan(g) and math.isnan(w)) or g == w or abs(g - w) <= eps * (scale + 1e-30)
            assert close, (f.name, g, w)
        else:
            assert g == w, (f.name, g, w)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dtype=st.sampled_from(DTYPES), tolerance=st.sampled_from(TOLERANCES))
def test_batch_equals_one_by_one(data: Any, dtype: Any, tolerance: tuple[float, float]) -> None:
    pairs = data.draw(st.lists(tensor_pairs(dtype), min_size=1, max_size=6))
    atol, rtol = tolerance
    got = compare_small(pairs, atol, rtol)
    bits = 64 if np.dtype(dtype) == np.float64 or np.dtype(dtype).kind in "iub" else 32
    assert len(got) == len(pairs)
    for (a, b), delta in zip(pairs, got):
        assert_same(delta, compare_numeric([(a, b)], a.size, atol, rtol), bits)
    flat_a = np.concatenate([a.reshape(-1) for a, _ in pairs])  # as a bundle stores a batch
    flat_b = np.concatenate([b.reshape(-1) for _, b in pairs])
    sizes = np.array([a.size for a, _ in pairs], np.int64)
    assert compare_flat(flat_a, flat_b, sizes, atol, rtol) == got


def test_a_nan_only_in_one_tensor_stays_in_that_tensor() -> None:
    a = [np.array([1.0, 2.0], np.float32), np.array([np.nan, 3.0], np.float32), np.ones(3, np.float32)]
    b = [np.array([1.0, 2.5], np.float32), np.array([np.nan, 4.0], np.float32), np.ones(3, np.float32)]
    first, second, third = compare_small(list(zip(a, b)))
    assert (first.nan_a, second.nan_a, second.nan_b, third.nan_a) == (0, 1, 1, 0)
    assert (first.changed, second.changed, third.changed) == (1, 1, 0)
    assert second.max_abs_diff == 1.0 and second.norm_a == 3.0
    assert first.max_abs_diff == 0.5 and third.relative_change == 0.0 and third.cosine == pytest.approx(1.0)


KINDS = {
    "f4": np.float32, "f8": np.float64, "f2": np.float16, "bf16": ml_dtypes.bfloat16,
    "i1": np.int8, "i8": np.int64, "u1": np.uint8, "b": bool,
}  # fmt: skip


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), tolerance=st.sampled_from(TOLERANCES))
def test_diff_batched_equals_diff_one_by_one(
    data: Any,
    tolerance: tuple[float, float],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checkpoints of mixed small tensors (strings too): every row of the batched diff equals the
    row of a diff that compares every tensor on its own."""
    tmp = tmp_path_factory.mktemp("pair")
    tensors_a: dict[str, np.ndarray] = {}
    tensors_b: dict[str, np.ndarray] = {}
    for i in range(data.draw(st.integers(1, 12))):
        kind = data.draw(st.sampled_from([*KINDS, "str"]))
        if kind == "str":
            words = st.lists(st.binary(max_size=3), min_size=2, max_size=2)
            x, y = data.draw(words), data.draw(words)
            a, b = np.array([x], dtype=object), np.array([y], dtype=object)
        else:
            a, b = data.draw(tensor_pairs(KINDS[kind]))
        tensors_a[f"v{i}"], tensors_b[f"v{i}"] = a, b
    pa, pb = str(tmp / "a"), str(tmp / "b")
    ckptviz.write_checkpoint(pa, tensors_a, overwrite=True)
    ckptviz.write_checkpoint(pb, tensors_b, overwrite=True)
    atol, rtol = tolerance
    batched = ckptviz.diff(pa, pb, atol=atol, rtol=rtol)
    monkeypatch.setattr(engine, "SMALL", 0)  # nothing is batched
    alone = ckptviz.diff(pa, pb, atol=atol, rtol=rtol)
    monkeypatch.undo()
    assert [r.key for r in batched.rows] == [r.key for r in alone.rows]
    for got, want in zip(batched.rows, alone.rows):
        assert got.status == want.status, got.key
        if want.delta is None:
            assert got.delta is None
        else:
            assert got.delta is not None
            dtype = np.dtype(tensors_a[got.key].dtype)
            assert_same(got.delta, want.delta, 64 if dtype == np.float64 or dtype.kind in "iub" else 32)


def test_a_checkpoint_of_tiny_tensors_is_compared_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few numpy calls for hundreds of keys: the per-tensor path is never taken."""
    rng = np.random.default_rng(0)
    a = {f"k{i:03d}": rng.standard_normal(4).astype(np.float32) for i in range(300)}
    b = {k: v + 1 if i % 3 == 0 else v for i, (k, v) in enumerate(a.items())}
    ckptviz.write_checkpoint(tmp_path / "a", a)
    ckptviz.write_checkpoint(tmp_path / "b", b)
    calls: list[int] = []
    real = engine.compare
    monkeypatch.setattr(engine, "compare", lambda *args: calls.append(1) or real(*args))
    result = ckptviz.diff(tmp_path / "a", tmp_path / "b")
    assert not calls
    assert sum(r.status == "changed" for r in result.rows) == 100


def test_values_near_float32s_limit_keep_their_norms_on_every_path(tmp_path: Path) -> None:
    """Squares of float32 values over 1.8e19 overflow float32: norms and cosines are summed in
    float64 on the compiled path, in batches and one by one alike, with no overflow warning."""
    import warnings

    x = np.ones(1 << 17, np.float32)
    x[0] = 3e38
    y = x.copy()
    y[0] = -3e38
    a = {"big": x, "batch/0": x[:1000], "batch/1": x[:500], "matrix": x[:1000].reshape(10, 100)}
    b = {"big": y, "batch/0": y[:1000], "batch/1": y[:500], "matrix": y[:1000].reshape(10, 100)}
    pa, pb = ckptviz.write_checkpoint(tmp_path / "a", a), ckptviz.write_checkpoint(tmp_path / "b", b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ckptviz.diff(pa, pb, rank=True)  # rank: the 2-D tensor is compared on its own
    for row in result.rows:
        d = row.delta
        assert d is not None and d.norm_a == pytest.approx(3e38, rel=1e-6) == d.norm_b, row.key
        assert d.cosine == pytest.approx(-1.0) and d.changed == 1 and d.max_abs_diff == math.inf, row.key
    records = result.to_dict()["rows"]  # JSON has no Inf: None, as Row.to_dict says
    assert all(r["max_abs_diff"] is None and r["norm_a"] is not None for r in records)
    assert records == [r.to_dict() for r in result.rows]
