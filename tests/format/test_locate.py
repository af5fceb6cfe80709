"""Paths people pass by mistake get a message that says what to pass instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ckptviz
from tests.conftest import DATA


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("guide_legacy_adam/checkpoint", r"is the 'checkpoint' state file; pass its directory .*latest is 'ckpt-4'"),
        ("tf1_saver/model.ckpt-2.meta", r"is a TF1 MetaGraph .* pass the checkpoint prefix '.*model.ckpt-2'"),
        ("savedmodel/saved_model.pb", r"is a SavedModel's graph; pass the SavedModel directory"),
    ],
)
def test_wrong_files(path: str, message: str) -> None:
    with pytest.raises(ckptviz.CheckpointNotFoundError, match=message):
        ckptviz.open(str(DATA / path))


def test_git_lfs_pointer(tmp_path: Path) -> None:
    pointer = tmp_path / "model.ckpt"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n")
    with pytest.raises(ckptviz.CheckpointNotFoundError, match=r"Git LFS pointer.*git lfs pull"):
        ckptviz.open(str(pointer))


def test_checkpoints_in_a_subdirectory_are_listed(tmp_path: Path) -> None:
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path / "run" / "ckpts")
    with pytest.raises(ckptviz.CheckpointNotFoundError, match=r"in its subdirectories: 'ckpts/ckpt-2'"):
        ckptviz.open(str(tmp_path / "run"))


def test_a_state_file_naming_a_gone_checkpoint_does_not_open_another(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(DATA / "guide_legacy_adam", run)
    for f in run.glob("ckpt-4*"):
        f.unlink()
    for f in run.glob("ckpt-3*"):
        f.unlink()
    with pytest.raises(ckptviz.CheckpointNotFoundError, match=r"names 'ckpt-4', which is gone; prefixes here: 'ckpt-2'"):
        ckptviz.open(str(run))
