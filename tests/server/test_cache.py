"""The checkpoint cache is bounded and closes what it evicts, but never under a reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import ckptviz
from ckptviz.format.locate import locate
from ckptviz.server.cache import CheckpointCache


def make(tmp_path: Path, n: int) -> list:
    out = []
    for i in range(n):
        prefix = tmp_path / f"c{i}"
        ckptviz.write_checkpoint(prefix, {"x": np.full(2, i, np.float32)})
        out.append(locate(str(prefix)))
    return out


def test_bounded_and_closes_on_eviction(tmp_path: Path, monkeypatch) -> None:
    closed: list[str] = []
    monkeypatch.setattr(ckptviz.Checkpoint, "close", lambda self: closed.append(self.path))
    cache = CheckpointCache(size=2)
    locations = make(tmp_path, 3)
    for loc in locations:
        with cache.use(loc) as ck:
            assert ck.read("x")[0] == locations.index(loc)
    assert closed == [locations[0].path] and cache.opened == 3
    with cache.use(locations[2]):
        pass
    assert cache.opened == 3  # a hit


def test_an_evicted_checkpoint_in_use_closes_when_released(tmp_path: Path, monkeypatch) -> None:
    closed: list[str] = []
    monkeypatch.setattr(ckptviz.Checkpoint, "close", lambda self: closed.append(self.path))
    cache = CheckpointCache(size=1)
    first, second = make(tmp_path, 2)
    with cache.use(first) as ck:
        with cache.use(second):
            assert closed == []  # evicted, but still being read
        assert ck.read("x")[0] == 0
    assert closed == [first.path]
