"""The server's caches are bounded in entries and bytes and close what they evict, but never
under a reader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import ckptviz
from ckptviz.format.confined import ConfinedRoot
from ckptviz.server.cache import CheckpointCache, Lru


def make(tmp_path: Path, n: int) -> tuple[ConfinedRoot, list[str]]:
    for i in range(n):
        ckptviz.write_checkpoint(tmp_path / f"c{i}", {"x": np.full(2, i, np.float32)})
    return ConfinedRoot(str(tmp_path)), [f"c{i}" for i in range(n)]


def test_bounded_and_closes_on_eviction(tmp_path: Path, monkeypatch) -> None:
    closed: list[str] = []
    monkeypatch.setattr(ckptviz.Checkpoint, "close", lambda self: closed.append(self.path))
    cache = CheckpointCache(size=2)
    files, paths = make(tmp_path, 3)
    for i, path in enumerate(paths):
        with cache.use(files, path) as ck:
            assert ck.read("x")[0] == i
    assert closed == [paths[0]] and cache.opened == 3
    with cache.use(files, paths[2]):
        pass
    assert cache.opened == 3  # a hit


def test_an_evicted_checkpoint_in_use_closes_when_released(tmp_path: Path, monkeypatch) -> None:
    closed: list[str] = []
    monkeypatch.setattr(ckptviz.Checkpoint, "close", lambda self: closed.append(self.path))
    cache = CheckpointCache(size=1)
    files, (first, second) = make(tmp_path, 2)
    with cache.use(files, first) as ck:
        with cache.use(files, second):
            assert closed == []  # evicted, but still being read
        assert ck.read("x")[0] == 0
    assert closed == [first]


def test_checkpoints_beyond_the_byte_budget_are_closed(tmp_path: Path, monkeypatch) -> None:
    closed: list[str] = []
    monkeypatch.setattr(ckptviz.Checkpoint, "close", lambda self: closed.append(self.path))
    files, paths = make(tmp_path, 3)
    index = (tmp_path / "c0.index").stat().st_size
    cache = CheckpointCache(size=100, max_bytes=2 * index)
    for path in paths:
        with cache.use(files, path):
            pass
    assert closed == [paths[0]]


def test_lru_keeps_to_its_byte_budget() -> None:
    lru = Lru(max_items=10, max_bytes=100)
    assert lru.put("a", "A", 60) == []
    assert lru.put("b", "B", 30) == []
    lru.get("a")  # now b is the least recently used
    assert lru.put("c", "C", 30) == ["B"]
    assert lru.nbytes == 90 and lru.get("b") is None
    assert lru.put("huge", "H", 101) == ["H"] and lru.get("huge") is None  # never kept


def rewrite_in_place(prefix: Path, tensors: dict[str, np.ndarray]) -> None:
    """What TensorFlow does on a save over an old one: new files renamed into place. Same sizes and
    the same mtime: only the inode tells them apart (``format.stamp``)."""
    index = Path(f"{prefix}.index")
    before = index.stat()
    fresh = ckptviz.write_checkpoint(prefix.parent / "fresh", tensors)
    for suffix in (".index", ".data-00000-of-00001"):
        Path(f"{fresh}{suffix}").replace(f"{prefix}{suffix}")
    os.utime(index, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert index.stat().st_size == before.st_size and index.stat().st_ino != before.st_ino


def test_a_checkpoint_renamed_into_place_is_opened_anew(tmp_path: Path) -> None:
    files, (path,) = make(tmp_path, 1)
    cache = CheckpointCache()
    with cache.use(files, path) as ck:
        assert ck.read("x")[0] == 0
    rewrite_in_place(tmp_path / path, {"x": np.full(2, 7, np.float32)})
    with cache.use(files, path) as ck:
        assert ck.read("x")[0] == 7 and cache.opened == 2
