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
from ckptviz.errors import CheckpointError, ChecksumMismatchError, CorruptCheckpointError
from ckptviz.format import table
from tests.conftest import DATA, bit_flipped

MANIFEST = json.loads((DATA / "corrupt" / "manifest.json").read_text())
# Errors raised above format/, which name the file but not yet the offset.


def read_everything(path: str, verify: bool = True) -> None:
    with ckptviz.open(path, verify=verify) as ckpt:
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
        assert info.value.offset is not None and f"at byte {info.value.offset}:" in str(info.value)
    else:  # every error names a file of the checkpoint
        assert f"corrupt/{case['name']}/" in str(info.value), str(info.value)


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
    checked = crc_checked_bytes(str(DATA / prefix), which)
    for damaged in bit_flipped(original, prefix + which, 300):
        file.write_bytes(damaged)
        flipped = {i for i, (a, b) in enumerate(zip(original, damaged)) if a != b}
        # With verification on, a flip in bytes under a CRC must be caught as a checksum mismatch.
        if verify and flipped and flipped <= checked:
            with pytest.raises(ChecksumMismatchError):
                read_everything(str(target), verify)
        else:  # success is fine (a flip CRCs cannot see when verify=False); any error must be ours
            with contextlib.suppress(CheckpointError):
                read_everything(str(target), verify)


def crc_checked_bytes(prefix: str, which: str) -> set[int]:
    """Positions in a file whose every change a CRC catches before anything else looks at them:
    the index's blocks (not the footer, nor the metaindex TF never reads) and the data file's
    tensor bytes, except the length varints of strings and variants, which must be parsed to
    find the bytes the CRCs cover."""
    from ckptviz.format import varint

    path = f"{prefix}.{which}"
    data = Path(path).read_bytes()
    if which == "index":
        reader = table.TableReader(data, path)
        handles = [h for _, h in reader.index] + [reader.footer.index]
        return {i for h in handles for i in range(h.offset, h.offset + h.size + table.TRAILER_SIZE)}
    out: set[int] = set()
    ckpt = ckptviz.open(prefix)
    bundle = ckpt.reader
    parts = [
        p
        for e in bundle.entries.values()
        for p in ([q for _, q in bundle.slice_entries(e)] if e.slices else [e])
    ]
    for e in parts:
        start, end = e.offset, e.offset + e.size
        if e.dtype.is_fixed_width:
            out.update(range(start, end))
        elif e.dtype.name == "string":
            pos = start
            for _ in range(e.num_elements):
                _, pos = varint.decode(data, pos, end)
            out.update(range(pos, end))
        else:
            pos = start
            while pos < end:
                length, body = varint.decode(data, pos, end)
                out.update(range(body, body + length + 4))
                pos = body + length + 4
    return out
