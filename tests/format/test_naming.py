from __future__ import annotations

from pathlib import Path

import pytest

import ckptviz
from ckptviz.errors import CorruptCheckpointError
from ckptviz.format import naming
from tests.conftest import DATA, expected


def test_data_file_names() -> None:
    assert naming.data_file("a/ckpt-5", 2, 10) == "a/ckpt-5.data-00002-of-00010"
    assert naming.split_data_file("a/ckpt-5.data-00002-of-00010") == ("a/ckpt-5", 2, 10)
    assert naming.split_data_file("a/ckpt-5.index") is None


def test_state_file_like_tensorflow() -> None:
    state = naming.get_checkpoint_state(str(DATA / "guide_legacy_adam"))
    want = expected("guide_legacy_adam/expected.json")["state"]
    assert state is not None
    assert [Path(p).name for p in state.all_model_checkpoint_paths] == [
        Path(p).name for p in want["all_model_checkpoint_paths"]
    ]
    assert state.all_model_checkpoint_timestamps == want["all_model_checkpoint_timestamps"]
    assert state.last_preserved_timestamp == want["last_preserved_timestamp"]
    assert Path(state.model_checkpoint_path).name == Path(want["model_checkpoint_path"]).name


def test_latest_checkpoint(tmp_path: Path) -> None:
    latest = ckptviz.latest_checkpoint(str(DATA / "guide_legacy_adam"))
    assert latest is not None and latest.endswith("ckpt-4")
    assert ckptviz.latest_checkpoint(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "gone-1"\n')
    assert ckptviz.latest_checkpoint(str(tmp_path)) is None  # as TF: the prefix must exist


def test_state_round_trip() -> None:
    state = naming.CheckpointState("ckpt-2", ["ckpt-1", "ckpt-2"], [1.5, 2.5], 0.5)
    assert naming.parse_state(naming.format_state(state)) == state


def test_bad_state_file(tmp_path: Path) -> None:
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: {{{")
    with pytest.raises(CorruptCheckpointError, match="not a CheckpointState"):
        naming.get_checkpoint_state(str(tmp_path))
