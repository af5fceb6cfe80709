"""A checkpoint's float tensors taken from one map of their data file, many per compiled call: the
same numbers as each read alone, each tensor read once, every CRC checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.format.bundle import BundleReader
from ckptviz.model import step_reading
from ckptviz.model.stats import COMPILED_MIN
from ckptviz.model.timeline import timeline

BIG = COMPILED_MIN + 5


def _run(root: Path, steps: int = 3) -> list[Path]:
    """Checkpoints of big float32 and float64 tensors (the map's), a big float16 one and one put
    off its dtype's alignment (read alone), small ones (read in batches), one that never changes,
    and from the second on a small one first in the file that grows, so that every tensor after it
    moves from one checkpoint to the next."""
    rng = np.random.default_rng(5)
    values = {
        "c_w32": rng.normal(0, 1, (BIG, 2)).astype(np.float32),
        "d_w64": rng.normal(0, 2, BIG).astype(np.float64),
        "e_f16": rng.normal(0, 1, BIG + 1).astype(np.float16),
        "f_same": rng.normal(0, 1, BIG).astype(np.float32),
        "g_small": rng.normal(0, 1, 10).astype(np.float32),
        "h_w32": rng.normal(5, 3, 3 * BIG).astype(np.float32),
        "y_half": np.ones(3, np.float16),  # 6 bytes: "z_off" starts off a 4-byte boundary
        "z_off": rng.normal(0, 1, BIG).astype(np.float32),
    }
    paths = []
    for i in range(steps):
        prefix = root / f"ckpt-{i + 1}"
        ckptviz.write_checkpoint(prefix, values)
        paths.append(prefix)
        entries = ckptviz.open(str(prefix)).entries
        aligned = {k for k, e in entries.items() if e.offset % e.dtype.numpy.itemsize == 0}
        assert {"c_w32", "d_w64", "f_same", "h_w32"} <= aligned and "z_off" not in aligned
        values = {
            k: v if k == "f_same" else (v + rng.normal(0, 0.01, v.shape)).astype(v.dtype)
            for k, v in values.items()
        }
        values = {"a_grow": np.zeros(100 * (i + 1), np.float32), **values}  # written first: moves the rest
    return paths


def _records(t: Any) -> dict[str, list[Any]]:
    return {k: [None if s is None else s.to_dict() for s in v] for k, v in t.stats.items()}


def test_taken_from_maps_the_numbers_are_those_of_each_tensor_read_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _run(tmp_path)
    calls: list[list[str]] = []
    real = BundleReader.read_mapped

    def counted(self: BundleReader, keys: list[str]) -> Any:
        calls.append(keys)
        return real(self, keys)

    monkeypatch.setattr(BundleReader, "read_mapped", counted)
    mapped = timeline(paths, bins=20)
    taken = {k for keys in calls for k in keys}
    assert taken == {"a_grow", "c_w32", "d_w64", "f_same", "g_small", "h_w32"}  # not float16, not "z_off"
    monkeypatch.setattr(step_reading, "_file_tasks", lambda ckpt, prev, held, keys, workers: ([], keys))
    alone = timeline(paths, bins=20)
    assert mapped.edges == alone.edges
    assert _records(mapped) == _records(alone)
    monkeypatch.undo()
    monkeypatch.setattr(BundleReader, "read_mapped", lambda self, keys: None)  # a file that cannot be mapped
    assert _records(timeline(paths, bins=20)) == _records(alone)
    w = np.asarray(ckptviz.open(str(paths[1])).read("h_w32"), np.float64)
    st = mapped.stats["h_w32"][1]
    assert (st.min, st.max, st.size) == (w.min(), w.max(), w.size)
    assert st.mean == pytest.approx(w.mean(), rel=1e-6)
    before = np.asarray(ckptviz.open(str(paths[0])).read("h_w32"), np.float64)
    change = np.linalg.norm(w - before) / np.linalg.norm(before)
    assert st.relative_change == pytest.approx(change, rel=1e-5)
    assert mapped.steps[1].unchanged == 1  # "f_same": carried over, not read


def test_each_tensor_is_read_once_and_the_previous_map_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _run(tmp_path, steps=4)
    reads: dict[tuple[str, str], int] = {}

    def count(path: str, keys: list[str]) -> None:
        for key in keys:
            reads[(path, key)] = reads.get((path, key), 0) + 1

    real_mapped, real_read, real_many = (
        BundleReader.read_mapped,
        ckptviz.Checkpoint.read,
        ckptviz.Checkpoint.read_many,
    )

    def mapped(self: BundleReader, keys: list[str]) -> Any:
        count(self.path, keys)
        return real_mapped(self, keys)

    def read(self: ckptviz.Checkpoint, key: str, *args: Any, **kw: Any) -> Any:
        count(self.path, [key])
        return real_read(self, key, *args, **kw)

    def many(self: ckptviz.Checkpoint, keys: list[str]) -> Any:
        count(self.path, keys)
        return real_many(self, keys)

    monkeypatch.setattr(BundleReader, "read_mapped", mapped)
    monkeypatch.setattr(ckptviz.Checkpoint, "read", read)
    monkeypatch.setattr(ckptviz.Checkpoint, "read_many", many)
    t = timeline(paths)
    assert len(t.steps) == 4 and reads
    assert {k: c for k, c in reads.items() if c != 1} == {}


def test_a_corrupt_big_tensor_in_a_later_checkpoint_is_named(tmp_path: Path) -> None:
    paths = _run(tmp_path)
    entry = ckptviz.open(str(paths[2])).entries["h_w32"]
    data = Path(f"{paths[2]}.data-00000-of-00001")
    raw = bytearray(data.read_bytes())
    raw[entry.offset + entry.size // 2] ^= 0x04
    data.write_bytes(bytes(raw))
    with pytest.raises(ckptviz.ChecksumMismatchError, match="checksum mismatch for 'h_w32'") as caught:
        timeline(paths)
    assert caught.value.path == str(data) and caught.value.offset == entry.offset
    assert timeline(paths, verify=False).stats["h_w32"][2] is not None


def test_tasks_cover_each_float_key_once_in_parts_of_one_dtype(tmp_path: Path) -> None:
    paths = _run(tmp_path, steps=2)
    first, second = (ckptviz.open(str(p)) for p in paths)
    keys = sorted(first.entries)
    tasks, rest = step_reading._file_tasks(first, None, {}, keys, workers=2)
    taken = [k for part, before in tasks for k in part]
    assert sorted(taken + rest) == keys and len(set(taken)) == len(taken)
    assert set(taken) == {"c_w32", "d_w64", "f_same", "g_small", "h_w32"} and all(b is None for _, b in tasks)
    for part, _ in tasks:
        assert len({first.entries[k].dtype for k in part}) == 1
    assert len(tasks) <= 2 * step_reading._PARTS
    # the previous step's values held as copies, not as a map: those keys are read as before
    held: step_reading.Held = {"c_w32": np.zeros(1)}
    tasks, rest = step_reading._file_tasks(second, first, held, keys, workers=2)
    assert "c_w32" in rest and "h_w32" in rest  # "h_w32" has a previous step but nothing held
