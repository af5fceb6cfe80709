"""How a diff splits its work: every compared row in exactly one task, batches bounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz.model.diff import engine
from ckptviz.model.diff.match import pair
from tests.conftest import DATA


def test_tasks_cover_each_compared_row_once_in_bounded_batches_of_one_dtype(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    a: dict[str, np.ndarray] = {}
    for i in range(120):
        dtype = (np.float32, np.int64, np.float16)[i % 3]
        a[f"k{i:03d}"] = rng.standard_normal(1 + i % 7).astype(dtype)
    a["big"] = np.zeros(engine.SMALL + 1, np.float32)
    a["bigger"] = np.zeros(engine.SMALL + 2, np.float32)
    a["empty"] = np.zeros((0,), np.float32)
    a["words"] = np.array([b"x"], dtype=object)
    b = {**a, "k000": np.zeros(3, np.float32)}  # a shape change: not compared
    ckptviz.write_checkpoint(tmp_path / "a", a)
    ckptviz.write_checkpoint(tmp_path / "b", b)
    ca, cb = ckptviz.open(str(tmp_path / "a")), ckptviz.open(str(tmp_path / "b"))
    table, same = engine._table(ca, cb, pair(ca, cb))
    monkeypatch.setattr(engine, "_BATCH", 3)
    monkeypatch.setattr(engine, "_BATCH_ELEMENTS", 12)
    tasks = engine._tasks(table, same, fast=False, rank=False)
    covered = np.concatenate([rows for _, rows in tasks])
    assert sorted(covered.tolist()) == np.flatnonzero(same).tolist()  # once each, shape change left out
    keys = table.keys
    singles = [keys[int(rows[0])] for batched, rows in tasks if not batched]
    assert singles[:2] == ["bigger", "big"] and set(singles) == {"bigger", "big", "empty", "words"}
    for rows in (rows for batched, rows in tasks if batched):
        assert 1 <= len(rows) <= 3 and int(table.elements[rows].sum()) <= 12
        assert len({table.entries_a[i].dtype.name for i in rows.tolist()}) == 1
        assert (np.diff(rows) > 0).all()  # in storage order: read as one span


def test_partitioned_tensors_are_compared_one_by_one_slice_by_slice() -> None:
    """Small as they are, partitioned tensors are not batched: their slices are aligned instead."""
    ckpt = ckptviz.open(str(DATA / "sliced_policy/ckpt"))
    sliced = {k for k, e in ckpt.entries.items() if e.slices}
    assert sliced and all(ckpt.entries[k].num_elements <= engine.SMALL for k in sliced)
    table, same = engine._table(ckpt, ckpt, pair(ckpt, ckpt))
    tasks = engine._tasks(table, same, fast=False, rank=False)
    batched = {table.keys[i] for is_batch, rows in tasks if is_batch for i in rows.tolist()}
    assert batched and not batched & sliced
