"""Which files a path means: special files refused without blocking or recursing, ``checkpoint``
state files that point anywhere, and paths people pass by mistake answered with what to pass."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import ckptviz
from ckptviz.errors import (
    CheckpointError,
    CorruptCheckpointError,
    LfsPointerError,
    MissingDataError,
    NotARegularFileError,
)
from ckptviz.format import naming
from tests.conftest import DATA


def read_everything(path: str) -> None:
    with ckptviz.open(path) as ckpt:
        for key in ckpt:
            ckpt.read(key)


RELEASED: list[Path] = []


def fifo(path: Path) -> None:
    """A FIFO: opening it for reading would wait for a writer that never comes. A watchdog
    plays that writer after 5 s (and records it), so a blocking open fails the test, not CI."""
    os.mkfifo(path)

    def release() -> None:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # succeeds only if a reader waits
            RELEASED.append(path)
        except OSError:
            pass

    timer = threading.Timer(5.0, release)
    timer.daemon = True
    timer.start()


def loop(path: Path) -> None:
    os.symlink(path.name, path)


SPECIAL: dict[str, Callable[[Path], None]] = {
    "directory": Path.mkdir,
    "FIFO": fifo,
    "symbolic link loop": loop,
}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    for f in (DATA / "guide_keras3").glob("ckpt-1.*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "ckpt-1"


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("which", ["index", "data-00000-of-00001"])
def test_special_files_in_place_of_checkpoint_files(bundle: Path, kind: str, which: str) -> None:
    target = Path(f"{bundle}.{which}")
    target.unlink()
    SPECIAL[kind](target)
    with pytest.raises(CheckpointError) as info:
        read_everything(str(bundle))
    assert target not in RELEASED, "opening a FIFO blocked"
    assert str(target) in str(info.value)
    if which == "index" and kind != "symbolic link loop":
        assert isinstance(info.value, NotARegularFileError) and kind.split()[0] in str(info.value)
    if which != "index":
        assert isinstance(info.value, CorruptCheckpointError) and info.value.offset == 0


@pytest.mark.parametrize("kind", SPECIAL)
def test_special_files_in_place_of_the_state_file(bundle: Path, kind: str) -> None:
    SPECIAL[kind](bundle.parent / "checkpoint")
    with pytest.raises(CheckpointError, match="checkpoint"):
        ckptviz.open(str(bundle.parent))
    assert bundle.parent / "checkpoint" not in RELEASED, "opening a FIFO blocked"
    assert ckptviz.open(str(bundle)).keys()  # the prefix itself still opens


@pytest.mark.parametrize("target", [".", "", "/", "{dir}", "{dir}/", "{dir}/checkpoint", "{dir}/../{name}"])
def test_state_file_pointing_back_at_its_directory(bundle: Path, target: str) -> None:
    directory = bundle.parent
    (directory / "checkpoint").write_text(
        f'model_checkpoint_path: "{target.format(dir=directory, name=directory.name)}"\n'
    )
    (directory / ".index").write_bytes(b"")  # would make "{dir}/" look like a prefix
    (directory / "..index").write_bytes(b"")  # and "." too
    with pytest.raises(CheckpointError) as info:
        read_everything(str(directory))
    assert str(directory) in str(info.value)


def test_absolute_paths_outside_the_directory_are_followed(
    bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("state")
    (elsewhere / "checkpoint").write_text(f'model_checkpoint_path: "{bundle}"\n')
    assert ckptviz.open(str(elsewhere)).path == str(bundle)


def test_huge_or_garbage_state_files_are_refused_without_echoing_them(bundle: Path) -> None:
    state = bundle.parent / "checkpoint"
    state.write_bytes(b'model_checkpoint_path: "ckpt-1"\n' + b"#" * naming.STATE_MAX_BYTES)
    with pytest.raises(CorruptCheckpointError, match="larger than the 1048576 bytes") as info:
        ckptviz.open(str(bundle.parent))
    assert info.value.path == str(state)
    state.write_bytes(b'model_checkpoint_path: "ckpt-1"\nsecret-token-\xff\xfe 123')
    with pytest.raises(CorruptCheckpointError, match=r"line 2, column 1") as info:
        ckptviz.open(str(bundle.parent))
    assert "secret" not in str(info.value) and "fffe" not in str(info.value) and info.value.offset == 32


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "guide_legacy_adam/checkpoint",
            r"is the 'checkpoint' state file; pass its directory .*latest is 'ckpt-4'",
        ),
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
    with pytest.raises(
        ckptviz.CheckpointNotFoundError, match=r"names 'ckpt-4', which is gone; prefixes here: 'ckpt-2'"
    ):
        ckptviz.open(str(run))


LFS = "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 4096000\n".format("ab" * 32)


@pytest.mark.parametrize(
    "pointer", ["ckpt-4.index", "ckpt-4.data-00000-of-00001", "model.weights.h5", "v1.ckpt"]
)
def test_git_lfs_pointers_under_every_checkpoint_name(tmp_path: Path, pointer: str) -> None:
    """`git lfs track "*.index" "*.data-*" "*.h5"`: a clone without `git lfs pull` holds pointers."""
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path, dirs_exist_ok=True)
    (tmp_path / pointer).write_text(LFS)
    target = str(tmp_path / pointer.split(".data-")[0].removesuffix(".index"))
    if "data-" in pointer:  # the index lists the keys; reading a value says what the data file is
        with (
            ckptviz.open(target) as ckpt,
            pytest.raises(MissingDataError, match=r"Git LFS pointer.*git lfs pull") as info,
        ):
            ckpt.read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
        assert info.value.path == str(tmp_path / pointer)
        return
    with pytest.raises(LfsPointerError, match=r"Git LFS pointer.*git lfs pull"):
        ckptviz.open(target)


def test_temporary_files_of_a_save_name_the_prefix(tmp_path: Path) -> None:
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path, dirs_exist_ok=True)
    for stray in ("ckpt-4.index.tempstate8712", "ckpt-4.data-00000-of-00001.tempstate11"):
        (tmp_path / stray).write_bytes(b"partial")
        with pytest.raises(ckptviz.CheckpointNotFoundError, match=r"temporary file .* prefix '.*/ckpt-4'"):
            ckptviz.open(str(tmp_path / stray))
    assert ckptviz.open(str(tmp_path)).path == str(tmp_path / "ckpt-4")  # strays do not disturb


def test_a_prefix_named_like_the_state_file(tmp_path: Path) -> None:
    """KerasTuner's trial_N/checkpoint{,.index,.data-*}: the prefix and its directory both open."""
    for name in ("ckpt-4.index", "ckpt-4.data-00000-of-00001"):
        shutil.copy(DATA / "guide_legacy_adam" / name, tmp_path / name.replace("ckpt-4", "checkpoint"))
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "checkpoint"\n')
    for path in (tmp_path / "checkpoint", tmp_path, tmp_path / "checkpoint.index"):
        assert ckptviz.open(str(path)).path == str(tmp_path / "checkpoint")


@pytest.mark.parametrize("name", ["run {1}", "a+b", "with space", "50%", "%7B"])
def test_odd_characters_in_names(tmp_path: Path, name: str) -> None:
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path / name)
    assert ckptviz.open(str(tmp_path / name)).path == str(tmp_path / name / "ckpt-4")
    assert ckptviz.latest_checkpoint(tmp_path / name) == str(tmp_path / name / "ckpt-4")
