"""A diff's numbers as columns give back exactly the ``Delta``s they were made from."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ckptviz.model.diff.columns import COUNTS, FLOATS, STATUSES, Metrics, Table
from ckptviz.model.diff.compare import Delta, compare_numeric

PAIRS = [
    (np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 2.5, 3.0], np.float32)),
    (np.array([np.nan, np.inf, 1.0], np.float32), np.array([np.nan, 1.0, -np.inf], np.float32)),
    (np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)),  # no element: every metric None
    (np.zeros(2, np.float64), np.zeros(2, np.float64)),  # zero norms: no relative change, no cosine
    (np.array([np.nan], np.float32), np.array([1.0], np.float32)),  # nothing finite on both sides
    (np.array([3e38, 3e38], np.float32), np.array([-3e38, 3e38], np.float32)),  # sums overflow
]


def same(got: Delta | None, want: Delta) -> bool:
    """Field by field, NaN equal to NaN (a computed NaN is a value, not a missing one)."""
    assert got is not None
    for name in Delta.__dataclass_fields__:
        g, w = getattr(got, name), getattr(want, name)
        if not (
            g == w or (isinstance(g, float) and isinstance(w, float) and math.isnan(g) and math.isnan(w))
        ):
            return False
        if type(g) is not type(w):
            return False
    return True


def compared() -> list[Delta]:
    with np.errstate(over="ignore", invalid="ignore"):  # the overflowing pair
        return [compare_numeric([(a, b)], a.size) for a, b in PAIRS]


def test_deltas_survive_the_columns_exactly() -> None:
    deltas = compared()
    deltas[0].rank = 1.0
    assert any(d.max_abs_diff is None for d in deltas) and any(d.cosine is None for d in deltas)
    metrics = Metrics.of_deltas(deltas)
    for i, want in enumerate(deltas):
        assert same(metrics.delta(i), want), i
    assert all(same(got, want) for got, want in zip(metrics.deltas(), deltas))
    assert metrics.values("cosine") == [d.cosine for d in deltas]
    assert metrics.values("changed") == [d.changed for d in deltas]


def test_the_columns_are_every_field_of_a_delta() -> None:
    assert sorted(f.name for f in dataclasses.fields(Delta)) == sorted([*COUNTS, *FLOATS])


def test_rows_put_in_a_run_or_scattered_land_in_the_same_places() -> None:
    deltas = compared()
    part = Metrics.of_deltas(deltas[:3])
    for rows in (np.array([2, 3, 4]), np.array([0, 3, 5])):  # a run is copied as a slice
        metrics = Metrics(6)
        metrics.put(rows, part)
        assert metrics.has.tolist() == [i in rows.tolist() for i in range(6)]
        for i, want in zip(rows.tolist(), deltas[:3]):
            assert same(metrics.delta(i), want)
        assert all(metrics.delta(i) is None for i in range(6) if i not in rows.tolist())


def test_a_table_in_another_order_keeps_each_rows_reason_and_numbers() -> None:
    deltas = Metrics.of_deltas([compare_numeric([PAIRS[0]], 3)])
    metrics = Metrics(3)
    metrics.put(np.array([0]), deltas)
    table = Table(
        ["m", "b", None], ["m", None, "a"], [None, None, None], [None, None, None],
        np.array([STATUSES.index("changed"), STATUSES.index("removed"), STATUSES.index("added")], np.int8),
        np.array([3, 1, 2]), np.array([12, 4, 8]), metrics, np.zeros(3, bool), {1: "only a", 2: "only b"},
    )  # fmt: skip
    moved = table.take([2, 1, 0])
    assert moved.keys == ["a", "b", "m"] and moved.reasons == {0: "only b", 1: "only a"}
    assert [STATUSES[s] for s in moved.status] == ["added", "removed", "changed"]
    assert moved.elements.tolist() == [2, 1, 3] and moved.nbytes.tolist() == [8, 4, 12]
    assert moved.metrics.delta(0) is None and same(moved.metrics.delta(2), compare_numeric([PAIRS[0]], 3))
