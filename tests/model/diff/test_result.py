"""A diff held as columns shows the same rows, records and frame as its ``Row`` objects do, and
makes those objects only when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas
import pytest

import ckptviz
from ckptviz.model.diff import result as result_module
from ckptviz.model.diff.compare import Delta, compare
from ckptviz.model.diff.result import DiffResult, Row
from tests.conftest import DATA
from tests.model.diff.test_compare import assert_same

GRAPH = "_CHECKPOINTABLE_OBJECT_GRAPH"


def edge_cases(tmp: Path) -> tuple[str, str]:
    """Two checkpoints with every kind of row: NaN/Inf appearing and disappearing, 0-size and scalar
    tensors, dtype and shape changes, keys on one side only, strings, and many small tensors."""
    rng = np.random.default_rng(0)
    a: dict[str, Any] = {
        "f/nan": np.array([1, 2, 3, 4], np.float32),
        "f/both": np.array([np.nan, np.inf, 1], np.float32),
        "f/gone": np.array([np.nan, 1], np.float32),
        "f/empty": np.zeros((0, 3), np.float32),
        "f/scalar": np.float32(2.0),
        "f/dtype": np.ones(3, np.float32),
        "f/shape": np.ones(3, np.float32),
        "i/same": np.arange(5, dtype=np.int64),
        "s/words": np.array([b"a", b"bc"], dtype=object),
        "old/w": np.ones(2, np.float32),
        "z/only_a": np.ones(2, np.float32),
    }
    a.update({f"m/{i:03d}": rng.standard_normal(3).astype(np.float32) for i in range(200)})
    b = dict(a)
    b.update({
        "f/nan": np.array([1, np.nan, 3, -np.inf], np.float32),
        "f/both": np.array([np.nan, np.inf, 2], np.float32),
        "f/gone": np.array([2, 1], np.float32),
        "f/scalar": np.float32(-1.0),
        "f/dtype": np.ones(3, np.float64),
        "f/shape": np.ones(4, np.float32),
        "s/words": np.array([b"a", b"bd"], dtype=object),
        "new/w": np.ones(2, np.float32) * 3,
        "a/only_b": np.zeros(1, np.int32),
    })  # fmt: skip
    del b["old/w"], b["z/only_a"]
    b.update({f"m/{i:03d}": a[f"m/{i:03d}"] + 1 for i in range(0, 200, 7)})
    pa, pb = str(tmp / "a"), str(tmp / "b")
    ckptviz.write_checkpoint(pa, a)
    ckptviz.write_checkpoint(pb, b)
    return pa, pb


def pairs(tmp: Path) -> list[tuple[Any, Any, dict[str, Any]]]:
    pa, pb = edge_cases(tmp)
    sliced = DATA / "sliced_policy/ckpt"
    ckpt = ckptviz.open(str(sliced))
    values = {k: ckpt.read(k) for k in ckpt.entries if k != GRAPH}
    key = next(k for k, e in ckpt.entries.items() if e.slices)
    flat = ckptviz.write_checkpoint(tmp / "flat", {**values, key: values[key] + 1})  # stored whole
    return [
        (pa, pb, {}),
        (pa, pb, {"assignment_map": {"old/": "new/"}}),  # a rename: key_a and key_b differ
        (pa, pb, {"atol": 0.5, "rtol": 0.1}),
        (sliced, flat, {}),  # one side partitioned
        (DATA / "sliced_tf1/model.ckpt", DATA / "sliced_tf1/model.ckpt", {}),  # both sides, same slices
        (DATA / "guide_legacy_adam/ckpt-2", DATA / "guide_legacy_adam/ckpt-4", {}),
        (DATA / "tfkeras_functional/ckpt", DATA / "guide_keras3/ckpt-1", {}),  # keys on one side
    ]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[DiffResult, dict[str, Any]]]:
    return [
        (ckptviz.diff(a, b, **options), options) for a, b, options in pairs(tmp_path_factory.mktemp("pairs"))
    ]


def test_every_row_equals_its_tensors_compared_one_by_one(results: Any) -> None:
    for result, options in results:
        assert len(result.rows) == len(result)
        for row in result.rows:
            if row.delta is None:
                assert row.status in ("added", "removed") or row.dtype_changed or row.shape_changed
                continue
            va, vb = result.a.read(row.key_a), result.b.read(row.key_b)
            dtype = va.dtype if va.dtype != object else np.dtype(object)
            want = compare([(va, vb)], dtype, va.size, options.get("atol", 0.0), options.get("rtol", 0.0))
            assert row.status == ("changed" if want.changed else "unchanged"), row.key
            assert_same(row.delta, want, 64 if dtype == np.float64 or dtype.kind in "iubO" else 32)


def test_records_and_frame_equal_the_rows_own(results: Any) -> None:
    for result, _ in results:
        records = [r.to_dict() for r in result.rows]
        assert result.records() == records
        want = pandas.DataFrame.from_records(records, columns=list(Row(None, "", "").to_dict())).set_index(
            "key"
        )
        pandas.testing.assert_frame_equal(result.to_pandas(), want)


def test_the_edge_cases_show_as_before(tmp_path: Path) -> None:
    pa, pb = edge_cases(tmp_path)
    result = ckptviz.diff(pa, pb, assignment_map={"old/": "new/"})
    assert result.counts == {"added": 1, "removed": 1, "changed": 37, "unchanged": 173}
    assert result["f/nan"].nonfinite == "appeared" and result["f/gone"].nonfinite == "disappeared"
    both = result["f/both"]
    assert both.nonfinite == "" and both.delta.changed == 1 and both.delta.max_abs_diff == 1  # type: ignore[union-attr]
    assert result["f/dtype"].dtype_changed and result["f/dtype"].delta is None
    assert result["f/shape"].shape_changed and result["f/shape"].status == "changed"
    empty = result["f/empty"]
    assert empty.status == "unchanged" and empty.delta is not None and empty.delta.max_abs_diff is None
    assert empty.fraction_changed is None and result["f/scalar"].delta.max_abs_diff == 3  # type: ignore[union-attr]
    assert result["s/words"].delta.changed == 1 and result["s/words"].delta.norm_a is None  # type: ignore[union-attr]
    renamed = result["old/w"]
    assert (renamed.key_b, renamed.status) == ("new/w", "changed")
    assert result["a/only_b"].reason == "a has no key 'a/only_b'" and result["a/only_b"].status == "added"
    assert result["z/only_a"].reason.startswith("b has no key 'z/only_a'")
    assert [r.key for r in result.rows] == sorted(r.key for r in result.rows)
    by_path = {r.path: r for r in result.rollups}
    assert (by_path["a/only_b"].status, by_path["a/only_b"].changed_params) == ("added", 1)
    assert by_path["f/dtype"].changed_params == 3 and by_path["z/only_a"].status == "removed"
    assert by_path["m"].changed_params == 29 * 3 and by_path["m"].params == 200 * 3
    assert result["new/w"] is result["old/w"]  # b's key finds the row it is paired in
    assert "37 changed, 1 added, 1 removed, 173 unchanged" in result.summary()
    assert result.tree(only="added") == "a/only_b:\n  + b: int32[1]\n    (a has no key 'a/only_b')"


def test_to_dict_is_json_with_no_nan_or_inf(results: Any) -> None:
    import json
    import math

    def plain(x: Any) -> Any:  # the rule, field by field
        return None if isinstance(x, float) and not math.isfinite(x) else x

    for result, _ in results:
        record = result.to_dict()
        assert record["rollups"] == [{k: plain(v) for k, v in r.to_dict().items()} for r in result.rollups]
        json.dumps(record, allow_nan=False)
    odd = result_module.Rollup("x", fraction_changed=math.nan, relative_change=math.inf)
    assert (odd.to_json()["fraction_changed"], odd.to_json()["relative_change"]) == (None, None)


def test_ranked_orders_rows_most_changed_first(results: Any) -> None:
    def sort_key(r: Row) -> tuple[int, float, str]:  # the rule, row by row
        order = {"changed": 1, "added": 0, "removed": 0, "unchanged": 2}[r.status]
        change = (
            r.delta.relative_change if r.delta is not None and r.delta.relative_change is not None else 0.0
        )
        return (order, -change, r.key)

    for result, _ in results:
        want = sorted(result.rows, key=sort_key)
        assert result.ranked() == want
        assert result.ranked(limit=5) == want[:5]
        for only in (["changed"], ["added", "removed"], ["unchanged", "changed"]):
            assert result.ranked(only, 3) == [r for r in want if r.status in only][:3]


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the ``Row`` objects made, in order."""
    keys: list[str] = []

    class Counted(Row):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            keys.append(self.key)

    monkeypatch.setattr(result_module, "Row", Counted)
    return keys


def test_ranked_makes_only_the_rows_it_returns(tmp_path: Path, made: list[str]) -> None:
    result = ckptviz.diff(*edge_cases(tmp_path))
    top = result.ranked(["changed"], 4)
    assert made == [r.key for r in top] and [r.status for r in top] == ["changed"] * 4
    assert top[0].delta.relative_change == max(  # type: ignore[union-attr]
        r.delta.relative_change for r in result.rows if r.delta and r.delta.relative_change is not None
    )


def test_rows_are_made_only_when_looked_at(tmp_path: Path, made: list[str]) -> None:
    pa, pb = edge_cases(tmp_path)
    result = ckptviz.diff(pa, pb)
    assert not made and result._rollups is None
    assert result.counts == {"added": 2, "removed": 2, "changed": 36, "unchanged": 173}
    assert not result.equal and len(result) == 213
    result.summary()
    assert not made and result._rollups is not None
    row = result["m/007"]
    assert made == ["m/007"] and row is result["m/007"] and row.status == "changed"
    assert result.rows[result.table.keys.index("m/007")] is row and len(made) == len(result)


def test_fast_decides_equal_checksums_unread_and_compares_the_rest(tmp_path: Path) -> None:
    pa, pb = edge_cases(tmp_path)
    slow, fast = ckptviz.diff(pa, pb), ckptviz.diff(pa, pb, fast=True)
    assert fast.counts == slow.counts and [r.key for r in fast.rows] == [r.key for r in slow.rows]
    decided = [r for r in fast.rows if r.fast]
    assert len(decided) == slow.counts["unchanged"]
    for row in decided:
        assert row.status == "unchanged" and row.delta == Delta(row.elements)
    for got, want in zip(fast.rows, slow.rows):
        if not got.fast and want.delta is not None:
            dtype = np.dtype(want.dtype_a) if want.dtype_a != "string" else np.dtype(object)
            assert_same(got.delta, want.delta, 64 if dtype.kind in "iubO" or dtype == np.float64 else 32)  # type: ignore[arg-type]
    assert fast.to_pandas()["fast"].sum() == len(decided) and not slow.to_pandas()["fast"].any()
