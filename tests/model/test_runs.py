"""A run directory or bucket prefix lists its checkpoints with step, time and size, reading no tensor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ckptviz
from ckptviz.model.runs import list_checkpoints
from tests.conftest import DATA
from tests.storage.conftest import S3, s3, s3_server  # noqa: F401 - fixtures


def test_checkpoint_manager_directory() -> None:
    found = list_checkpoints(str(DATA / "training_run"))
    state = ckptviz.get_checkpoint_state(str(DATA / "training_run"))
    assert [c.step for c in found] == [2, 4, 6, 8, 10, 12]
    assert [c.time for c in found] == state.all_model_checkpoint_timestamps
    assert [c.latest for c in found] == [False] * 5 + [True]
    index = DATA / "training_run/ckpt-4.index"
    assert (
        found[1].size
        == index.stat().st_size + (DATA / "training_run/ckpt-4.data-00000-of-00001").stat().st_size
    )


def test_saver_directory_without_timestamps_uses_file_times() -> None:
    found = list_checkpoints(str(DATA / "tf1_saver"))
    assert [(Path(c.path).name, c.step) for c in found] == [("model.ckpt-1", 1), ("model.ckpt-2", 2)]
    assert all(c.time is not None for c in found)


def test_keras_tuner_project(tmp_path: Path) -> None:
    for trial in ("trial_00", "trial_01"):
        (tmp_path / trial).mkdir()
        shutil.copy(DATA / "keras3_files/model.weights.h5", tmp_path / trial / "checkpoint.weights.h5")
    found = list_checkpoints(str(tmp_path))
    assert [(c.trial, Path(c.path).name) for c in found] == [
        ("trial_00", "checkpoint.weights.h5"), ("trial_01", "checkpoint.weights.h5")
    ]  # fmt: skip


def test_bucket_prefix_is_listed_without_reading_data(s3: S3) -> None:  # noqa: F811
    found = list_checkpoints(s3.url("training_run"), storage_options=s3.options)
    assert [c.step for c in found] == [2, 4, 6, 8, 10, 12] and found[-1].latest
    assert found[0].path == s3.url("training_run/ckpt-2") and found[0].size is not None
    assert s3.counter.gets(".index") == [] and s3.counter.gets(".data-00000-of-00001") == []


def test_empty_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(ckptviz.CheckpointNotFoundError, match="no checkpoints in"):
        list_checkpoints(str(tmp_path))
