"""Damaged checkpoints raise a ckptviz error naming the file (and byte offset), nothing else.

tests/data/corrupt/ holds one damaged copy per failure mode (made by its make.py); the fuzz
tests truncate and flip bits in small TensorFlow-written checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import ckptviz
from ckptviz.errors import CheckpointError, CorruptCheckpointError
from tests.conftest import DATA, bit_flipped

MANIFEST = json.loads((DATA / "corrupt" / "manifest.json").read_text())


def read_everything(path: str) -> None:
    with ckptviz.open(path) as ckpt:
        for key in ckpt:
            ckpt.read(key)
        ckpt.object_graph_proto  # noqa: B018 - parses the object graph


@pytest.mark.parametrize("case", MANIFEST, ids=[c["name"] for c in MANIFEST])
def test_corrupt_checkpoint_raises_a_clear_error(case: dict[str, Any]) -> None:
    with pytest.raises(getattr(ckptviz, case["error"]), match=case["match"]) as info:
        read_everything(str(DATA / case["path"]))
    if isinstance(info.value, CorruptCheckpointError):
        assert info.value.path.endswith(case["file"]), info.value.path
        assert case["file"] in str(info.value)


def test_offsets_point_at_the_damage() -> None:
    with pytest.raises(CorruptCheckpointError) as info:
        read_everything(str(DATA / "corrupt/offset_past_end/ckpt-1"))
    assert info.value.offset == 10**12
    assert "at byte 1000000000000" in str(info.value)


def test_a_data_file_without_its_index_says_the_index_is_missing(tmp_path: Path) -> None:
    shutil.copy(DATA / "variant/ckpt.data-00000-of-00001", tmp_path)
    with pytest.raises(ckptviz.CheckpointNotFoundError, match=r"data file whose index ckpt.index is missing"):
        ckptviz.open(str(tmp_path / "ckpt.data-00000-of-00001"))


def test_missing_index_lists_prefixes_that_exist() -> None:
    with pytest.raises(
        ckptviz.CheckpointNotFoundError, match=r"prefixes in .*guide_legacy_adam: 'ckpt-2', 'ckpt-3'"
    ):
        ckptviz.open(str(DATA / "guide_legacy_adam/ckpt-1"))


SMALL = ["variant/ckpt", "object_graph_edge_cases/ckpt"]


def damaged_copies(prefix: str, tmp: Path) -> Path:
    src = DATA / prefix
    for f in src.parent.glob(src.name + ".*"):
        shutil.copy(f, tmp / f.name)
    return tmp / src.name


@pytest.mark.parametrize("prefix", SMALL)
@pytest.mark.parametrize("which", ["index", "data-00000-of-00001"])
def test_truncation_at_every_byte(prefix: str, which: str, tmp_path: Path) -> None:
    target = damaged_copies(prefix, tmp_path)
    file = target.parent / f"{target.name}.{which}"
    original = file.read_bytes()
    for n in range(len(original)):
        file.write_bytes(original[:n])
        with pytest.raises(CheckpointError):  # CRCs catch every truncation
            read_everything(str(target))


@pytest.mark.parametrize("prefix", SMALL)
@pytest.mark.parametrize("which", ["index", "data-00000-of-00001"])
@pytest.mark.parametrize("verify", [True, False])
def test_bit_flips(prefix: str, which: str, verify: bool, tmp_path: Path) -> None:
    target = damaged_copies(prefix, tmp_path)
    file = target.parent / f"{target.name}.{which}"
    original = file.read_bytes()
    for damaged in bit_flipped(original, prefix + which, 300):
        file.write_bytes(damaged)
        # Success is fine (a flip CRCs cannot see when verify=False); any error must be ours.
        with contextlib.suppress(CheckpointError), ckptviz.open(str(target), verify=verify) as ckpt:
            for key in ckpt:
                ckpt.read(key)
            ckpt.object_graph_proto  # noqa: B018
