"""ckptviz.timeline over the TensorFlow-written training run, against numpy on TF's own values."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.model import step_reading
from ckptviz.model import timeline as timeline_module
from ckptviz.model.timeline import CACHE_FILE, timeline
from tests.conftest import DATA, expected_value

RUN = DATA / "training_run"
PREFIXES = [f"ckpt-{n}" for n in (2, 4, 6, 8, 10, 12)]


def tf_values() -> dict[str, dict[str, np.ndarray]]:
    recorded = json.loads((RUN / "values.json").read_text())
    return {p: {k: expected_value(v) for k, v in keys.items()} for p, keys in recorded.items()}


def test_steps_timestamps_and_stats_match_tensorflow_and_numpy() -> None:
    values = tf_values()
    t = timeline(RUN, bins=12)
    state = ckptviz.open(str(RUN)).state
    assert state is not None
    assert [s.step for s in t.steps] == [2, 4, 6, 8, 10, 12]
    assert [s.global_step for s in t.steps] == [2, 4, 6, 8, 10, 12]
    assert [s.save_counter for s in t.steps] == [1, 2, 3, 4, 5, 6]
    assert [s.timestamp for s in t.steps] == state.all_model_checkpoint_timestamps
    for key in values["ckpt-2"]:
        series = t.stats[key]
        edges = np.asarray(t.edges[key])
        for i, prefix in enumerate(PREFIXES):
            x = values[prefix][key].astype(np.float64).ravel()
            st = series[i]
            assert st is not None
            assert st.norm == pytest.approx(np.linalg.norm(x), rel=1e-6, abs=1e-12)
            scale = float(np.abs(x).max())  # float32 working copies: errors relative to the values
            assert st.mean == pytest.approx(x.mean(), rel=1e-6, abs=1e-7 * scale)
            assert st.std == pytest.approx(x.std(), rel=1e-5, abs=1e-7 * scale)
            assert (st.min, st.max) == (x.min(), x.max())
            assert st.counts == np.histogram(x, bins=edges)[0].tolist()  # exactly, edges included
            assert st.under + st.over + sum(st.counts) == x.size
            if i == 0:
                assert st.relative_change is None
            else:
                p = values[PREFIXES[i - 1]][key].astype(np.float64).ravel()
                want = np.linalg.norm(x - p) / np.linalg.norm(p) if np.linalg.norm(p) else 0.0
                assert st.relative_change == pytest.approx(want, rel=1e-5, abs=1e-12)


def test_the_frozen_layer_is_flat_and_the_others_move() -> None:
    t = timeline(RUN)
    m = t.matrix()
    frozen = m.loc["model/frozen/_kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert math.isnan(frozen.iloc[0]) and (frozen.iloc[1:] == 0).all()
    assert (m.loc["model/hidden/_kernel/.ATTRIBUTES/VARIABLE_VALUE"].iloc[1:] > 0).all()
    frame = t.to_pandas()
    assert len(frame) == len(t.variables) * 6 and set(frame.columns) >= {"step", "variable", "norm"}
    steps, edges, counts = t.histogram("model/hidden/_kernel/.ATTRIBUTES/VARIABLE_VALUE")
    assert steps == [2, 4, 6, 8, 10, 12] and counts.shape == (6, len(edges) - 1)
    assert json.dumps(t.to_dict(), allow_nan=False)


def _count_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the checkpoints the timeline opens from now on, in order."""
    opened: list[str] = []
    real = timeline_module.open_checkpoint

    def counting(path: str, verify: bool = True, **kw: Any) -> ckptviz.Checkpoint:
        opened.append(Path(path).name)
        return real(path, verify, **kw)

    monkeypatch.setattr(timeline_module, "open_checkpoint", counting)
    return opened


def test_a_second_timeline_reads_only_new_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in PREFIXES:
        for f in RUN.glob(f"{name}.*"):
            shutil.copy(f, run / f.name)
    opened = _count_opens(monkeypatch)
    first = timeline([run / p for p in PREFIXES[:4]], cache=str(tmp_path / "cache.json"))
    assert opened == PREFIXES[:4]
    opened.clear()
    again = timeline([run / p for p in PREFIXES], cache=str(tmp_path / "cache.json"))
    # the new ones, and the last old one once for the relative change of the first new one
    assert opened == ["ckpt-10", "ckpt-8", "ckpt-12"]
    assert [s.cached for s in again.steps] == [True] * 4 + [False] * 2
    key = "model/hidden/_kernel/.ATTRIBUTES/VARIABLE_VALUE"
    assert again.stats[key][:4] == first.stats[key]
    assert again.edges[key] == first.edges[key]
    # the file cache alone (a new process) also skips the old ones
    opened.clear()
    timeline([run / p for p in PREFIXES], cache=str(tmp_path / "cache.json"))
    assert opened == []


def test_refresh_reads_only_what_is_new_without_a_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    opened = _count_opens(monkeypatch)
    first = timeline([run / p for p in PREFIXES])
    assert opened == PREFIXES and not (run / CACHE_FILE).exists()
    opened.clear()
    assert timeline([run / p for p in PREFIXES]).steps[0].cached is False  # a new call owns nothing
    opened.clear()
    again = first.refresh()
    assert opened == [] and all(s.cached for s in again.steps)
    assert again.stats == first.stats
    os.utime(run / "ckpt-12.index", ns=(1, 1))  # rewritten: read again, with its predecessor
    opened.clear()
    first.refresh()
    assert opened == ["ckpt-12", "ckpt-10"]


def test_cache_file_beside_a_manager_directory(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    (run / "checkpoint").write_text(
        "".join(f'all_model_checkpoint_paths: "{p}"\n' for p in PREFIXES)
        + f'model_checkpoint_path: "{PREFIXES[-1]}"\n'
    )
    t = timeline(run, cache=True)
    assert (run / CACHE_FILE).exists() and len(t.steps) == 6
    assert t.refresh().steps[-1].cached


def test_explicit_paths_variables_and_errors(tmp_path: Path) -> None:
    t = timeline([RUN / "ckpt-12", RUN / "ckpt-2"], variables="model/head/")
    assert [s.step for s in t.steps] == [12, 2]
    assert t.variables == [
        "model/head/_kernel/.ATTRIBUTES/VARIABLE_VALUE",
        "model/head/bias/.ATTRIBUTES/VARIABLE_VALUE",
    ]
    with pytest.raises(ckptviz.KeyNotFoundError, match="variable 'nope'"):
        t.histogram("nope")
    with pytest.raises(ValueError, match="at least one checkpoint"):
        timeline([])
    with pytest.raises(ckptviz.CheckpointNotFoundError, match="no checkpoint file and no checkpoints"):
        timeline(tmp_path)


def test_a_narrower_selection_is_not_served_from_the_cache() -> None:
    assert len(timeline(RUN, variables="model/head/").variables) == 2
    assert len(timeline(RUN).variables) == 18


KERNEL = "model/hidden/_kernel/.ATTRIBUTES/VARIABLE_VALUE"


def _copy_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    for name in PREFIXES:
        for f in RUN.glob(f"{name}.*"):
            shutil.copy(f, run / f.name)
    return run


@pytest.mark.parametrize("memory", [True, False], ids=["in-memory", "file"])
def test_a_rewritten_checkpoint_is_read_again(tmp_path: Path, memory: bool) -> None:
    run, cache = _copy_run(tmp_path), str(tmp_path / "cache.json")
    first = timeline([run / p for p in PREFIXES[:3]], cache=False if memory else cache)
    for f in RUN.glob(f"{PREFIXES[0]}.*"):  # ckpt-6 now holds ckpt-2's values, newer on disk
        target = run / f.name.replace(PREFIXES[0], PREFIXES[2])
        shutil.copy(f, target)
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = first.refresh() if memory else timeline([run / p for p in PREFIXES[:3]], cache=cache)
    assert [s.cached for s in again.steps] == [True, True, False]
    assert again.stats[KERNEL][2] != first.stats[KERNEL][2]
    assert again.stats[KERNEL][2].norm == first.stats[KERNEL][0].norm


def test_other_bins_are_not_served_from_the_cache(tmp_path: Path) -> None:
    run, cache = _copy_run(tmp_path), str(tmp_path / "cache.json")
    timeline([run / p for p in PREFIXES[:2]], cache=cache, bins=30)
    ten = timeline([run / p for p in PREFIXES[:2]], cache=cache, bins=10)
    assert not any(s.cached for s in ten.steps) and len(ten.edges[KERNEL]) == 11


def test_the_previous_checkpoint_is_part_of_a_steps_cache_key(tmp_path: Path) -> None:
    """A step's relative change is measured from its predecessor: another predecessor, another record."""
    run, cache = _copy_run(tmp_path), str(tmp_path / "cache.json")
    # the same first checkpoint (so the same histogram bins), another one before the last
    after_4 = timeline([run / p for p in (PREFIXES[0], PREFIXES[1], PREFIXES[3])], cache=cache)
    after_6 = timeline([run / p for p in (PREFIXES[0], PREFIXES[2], PREFIXES[3])], cache=cache)
    assert [s.cached for s in after_6.steps] == [True, False, False]
    assert after_6.stats[KERNEL][2].relative_change != after_4.stats[KERNEL][2].relative_change


def test_the_cache_file_keeps_only_checkpoints_still_in_the_run(tmp_path: Path) -> None:
    run, cache = _copy_run(tmp_path), tmp_path / "cache.json"
    timeline([run / p for p in PREFIXES[:4]], cache=str(cache))
    timeline([run / p for p in PREFIXES[2:4]], cache=str(cache))
    kept = {k.split("#", 1)[0].split("|", 1)[0] for k in json.loads(cache.read_text())["records"]}
    assert kept == {str(run / f"{p}.index") for p in PREFIXES[2:4]}


def test_tensors_with_unchanged_size_and_crc_are_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    carried = ckptviz.timeline(str(DATA / "training_run"))
    assert carried.steps[0].unchanged == 0 and sum(s.unchanged for s in carried.steps) > 0
    assert "6 read, 15 tensors unchanged)" in repr(carried)
    monkeypatch.setattr(step_reading, "carried_over", lambda *args: None)
    fresh = ckptviz.timeline(str(DATA / "training_run"))
    assert fresh.stats == carried.stats and sum(s.unchanged for s in fresh.steps) == 0


def test_each_tensor_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The change from the previous step uses the values read for that step, not a second read;
    with nothing held (no budget for copies) the statistics are the same."""
    monkeypatch.setattr(step_reading, "carried_over", lambda *args: None)  # every tensor read
    reads: dict[tuple[str, str], int] = {}
    real, real_many = ckptviz.Checkpoint.read, ckptviz.Checkpoint.read_many

    def counting(self: ckptviz.Checkpoint, key: str, *args: Any, **kw: Any) -> Any:
        reads[(self.path, key)] = reads.get((self.path, key), 0) + 1
        return real(self, key, *args, **kw)

    def counting_many(self: ckptviz.Checkpoint, keys: list[str]) -> Any:
        for key in keys:
            reads[(self.path, key)] = reads.get((self.path, key), 0) + 1
        return real_many(self, keys)

    monkeypatch.setattr(ckptviz.Checkpoint, "read", counting)
    monkeypatch.setattr(ckptviz.Checkpoint, "read_many", counting_many)
    held = timeline([RUN / p for p in PREFIXES])
    scalars = {*step_reading._STEP_KEYS, step_reading._COUNTER_KEY}  # read for the step number too
    assert reads and {k: c for k, c in reads.items() if k[1] not in scalars and c != 1} == {}
    assert all(c <= 2 for c in reads.values())
    reads.clear()
    monkeypatch.setattr(step_reading, "_HOLD_BYTES", 0)
    again = timeline([RUN / p for p in PREFIXES])
    assert max(c for k, c in reads.items() if k[1] not in scalars) == 2 and again.stats == held.stats


def test_checkpoints_the_state_file_lists_but_are_gone_are_named_and_skipped(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    for f in run.glob("ckpt-4.*"):  # people often copy or commit only some of a run
        f.unlink()
    for f in run.glob("ckpt-8.*"):
        f.unlink()
    with pytest.warns(
        ckptviz.CheckpointWarning,
        match=r"lists 2 checkpoint\(s\) whose files are not there \(ckpt-4, ckpt-8\); the timeline has the 4 that are",
    ):
        t = timeline(run)
    assert [s.step for s in t.steps] == [2, 6, 10, 12]
    want = timeline([RUN / p for p in ("ckpt-2", "ckpt-6", "ckpt-10", "ckpt-12")])
    for key, per in want.stats.items():
        assert [s.to_dict() for s in t.stats[key]] == [s.to_dict() for s in per]
    (run / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-99"\nall_model_checkpoint_paths: "ckpt-99"\n'
    )
    with pytest.warns(
        ckptviz.CheckpointWarning,
        match=r"none of them is there \(ckpt-99\); the timeline has those in the directory: ckpt-2, ckpt-6, ckpt-10, ckpt-12",
    ):
        assert [s.step for s in timeline(run).steps] == [2, 6, 10, 12]
    for f in run.glob("ckpt-*"):
        f.unlink()
    with pytest.raises(
        ckptviz.CheckpointNotFoundError,
        match=r"lists 1 checkpoint\(s\) and none of them is there \(ckpt-99\)",
    ):
        timeline(run)


def test_single_file_checkpoints_make_a_run_too() -> None:
    v1 = DATA / "v1_format" / "model.ckpt"  # TF1's V1 format: one file, no .index
    t = timeline([v1, v1])
    assert len(t.steps) == 2 and t.variables
    assert all(per[1].relative_change == 0 for per in t.stats.values() if per[1] is not None)
    keras = DATA / "keras3_files"
    k = timeline([keras / "model.weights.h5", keras / "model.keras"])
    assert len(k.steps) == 2 and k.variables
