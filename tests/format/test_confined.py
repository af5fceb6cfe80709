"""The confined walk: links are followed only beneath the root, special files are refused
without being opened, over-long paths are 4xx material, and a checkpoint's reader holds every
file it reads (opened by the walk, never again by path)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz.errors import (
    CheckpointNotFoundError,
    InvalidArgumentError,
    NotARegularFileError,
    OutsideRootError,
)
from ckptviz.format.confined import MAX_DEPTH, ConfinedRoot
from ckptviz.model.checkpoint import Checkpoint

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def tree(tmp_path: Path) -> tuple[ConfinedRoot, Path, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    shutil.copytree(DATA / "guide_legacy_adam", root / "guide")
    shutil.copytree(DATA / "guide_legacy_adam", outside / "guide")
    (outside / "secret").write_text("secret")
    return ConfinedRoot(str(root)), root, outside


def test_links_beneath_the_root_are_followed(tree) -> None:
    files, root, _ = tree
    (root / "rel").symlink_to("guide")
    (root / "abs").symlink_to(root / "guide")  # absolute, but naming the root
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("../guide/ckpt-4.index")
    for path in ["rel/ckpt-4", "abs/ckpt-4", "guide/../guide/ckpt-4"]:
        location, reader = files.open_checkpoint(path)
        assert location.path == path and len(reader.entries) == 15
        reader.close()
    assert files.kind("sub/up") == "file"


@pytest.mark.parametrize("target", ["abs", "up", "abs-dir", "chain"])
def test_links_out_are_refused_whether_or_not_the_target_exists(tree, target: str) -> None:
    files, root, outside = tree
    links = {
        "abs": (outside / "secret", outside / "missing"),
        "up": (Path("../outside/secret"), Path("../outside/missing")),
        "abs-dir": (outside / "guide", outside / "nowhere"),
        "chain": (Path("hop"), Path("hop")),
    }[target]
    messages = []
    for i, link in enumerate(links):
        if target == "chain":  # a link to a link inside, which leads out
            (root / f"hop{i}").symlink_to(outside / ("secret" if i == 0 else "missing"))
            link = Path(f"hop{i}")
        (root / f"l{i}").symlink_to(link)
        with pytest.raises(OutsideRootError) as e:
            files.open_file(f"l{i}" + ("/ckpt-4.index" if target == "abs-dir" else ""))
        messages.append(str(e.value).replace(f"l{i}", "l"))
    assert messages[0] == messages[1] and str(root) not in messages[0]


def test_fifos_and_devices_are_refused_without_opening(tree) -> None:
    files, root, _ = tree
    os.mkfifo(root / "pipe.index")
    os.mkfifo(root / "guide" / "fifo.ckpt")
    done = threading.Event()

    def attempt() -> None:
        with pytest.raises(NotARegularFileError, match="FIFO"):
            files.open_file("pipe.index")
        with pytest.raises(CheckpointNotFoundError):
            files.open_checkpoint("guide/fifo.ckpt")
        done.set()

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=30)  # a blocking open of a FIFO would wait for a writer for ever
    assert done.is_set()
    (root / "dev").symlink_to("/dev/zero")
    with pytest.raises(OutsideRootError):
        files.open_file("dev")


def test_long_and_deep_paths_are_invalid_arguments(tree) -> None:
    files, root, _ = tree
    with pytest.raises(InvalidArgumentError, match="longer than 255"):
        files.open_file("x" * 256)
    with pytest.raises(InvalidArgumentError, match="components"):
        files.open_file("/".join(["d"] * (MAX_DEPTH + 1)))
    (root / "loop").symlink_to("loop")
    with pytest.raises(NotARegularFileError, match="loop"):
        files.open_file("loop")
    with pytest.raises(OutsideRootError):
        files.open_file("/etc/passwd")


def test_a_reader_holds_its_files_and_opens_nothing_later(tree) -> None:
    files, root, outside = tree
    location, reader = files.open_checkpoint("guide/ckpt-4")
    ckpt = Checkpoint.of_reader(location, reader)
    data = root / "guide" / "ckpt-4.data-00000-of-00001"
    want = ckpt.read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE").copy()
    data.rename(root / "moved")
    data.symlink_to(outside / "guide" / "ckpt-3.data-00000-of-00001")  # swapped after the open
    assert np.array_equal(ckpt.read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"), want)
    ckpt.close()
    with pytest.raises(OutsideRootError):
        files.open_checkpoint("guide/ckpt-4")  # a new open walks again, and refuses


def test_state_file_entries_stay_under_the_directory(tree) -> None:
    files, root, outside = tree
    for entry in [f"{outside}/guide/ckpt-4", "file:///x/ckpt-4", "http://127.0.0.1:9/ckpt-4", "ckpt-4"]:
        (root / "guide" / "checkpoint").write_text(f'model_checkpoint_path: "{entry}"\n')
        assert files.locate("guide").path == "guide/ckpt-4"
    (root / "guide" / "checkpoint").write_text('model_checkpoint_path: "../../outside/guide/ckpt-4"\n')
    with pytest.raises(OutsideRootError):
        files.locate("guide")


def test_every_kind_of_checkpoint_opens_with_the_files_it_reads(tmp_path: Path) -> None:
    for name in ["v1_format", "keras3_files", "savedmodel", "multi_shard", "tf1_saver"]:
        shutil.copytree(DATA / name, tmp_path / name)
    ckptviz.write_checkpoint(
        tmp_path / "sharded", {f"t{i}": np.full(4, i, np.float32) for i in range(3)}, max_shard_size=16
    )
    files = ConfinedRoot(str(tmp_path))
    for path in [
        "v1_format",
        "keras3_files/model.keras",
        "keras3_files/model.weights.h5",
        "savedmodel",
        "multi_shard",
        "tf1_saver",
        "sharded",
    ]:
        location, reader = files.open_checkpoint(path)
        with (
            Checkpoint.of_reader(location, reader) as ckpt,
            ckptviz.open(str(tmp_path / location.path)) as by_path,
        ):
            assert list(ckpt.entries) == list(by_path.entries)
            for key in list(ckpt.entries)[:5]:
                assert np.array_equal(np.asarray(ckpt.read(key)), np.asarray(by_path.read(key))), (path, key)


def test_a_file_missing_at_open_is_never_opened_later(tree) -> None:
    """Sealed: a data file that appears after the open is not read (the reader says it is missing)."""
    files, root, _ = tree
    data = root / "guide" / "ckpt-4.data-00000-of-00001"
    data.rename(root / "aside")
    location, reader = files.open_checkpoint("guide/ckpt-4")
    (root / "aside").rename(data)
    with (
        Checkpoint.of_reader(location, reader) as ckpt,
        pytest.raises(ckptviz.CorruptCheckpointError, match="missing"),
    ):
        ckpt.read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
