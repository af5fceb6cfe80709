"""One preview rule: what is shown, how much is read, whether it was checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.errors import ChecksumMismatchError, InvalidArgumentError
from ckptviz.format import storage
from ckptviz.model import preview as P

DATA = Path(__file__).parents[1] / "data"
INDEXES = [
    (),
    (0,),
    (slice(None, None, -1),),
    (1, slice(2, None, 3)),
    (slice(None, None, -2), -1, slice(5, 1, -1)),
    (3, 4, 5),
    (slice(3, 3),),
]


@pytest.fixture
def bytes_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of every read of a local data or index file."""
    seen: list[int] = []
    original = storage.LocalBlob.read

    def read(self: Any, offset: int, n: int) -> bytes:
        seen.append(n)
        return original(self, offset, n)

    monkeypatch.setattr(storage.LocalBlob, "read", read)
    monkeypatch.setattr(storage.LocalBlob, "map", lambda *a: pytest.fail("a preview mapped the whole tensor"))
    return seen


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, np.ndarray]:
    value = (
        np.random.default_rng(0).standard_normal((200, 100, 200)).astype(np.float32)
    )  # 16 MiB, rows 80 KiB apart
    return ckptviz.write_checkpoint(tmp_path_factory.mktemp("big") / "ckpt", {"w": value}), value


@pytest.mark.parametrize("index", INDEXES, ids=str)
def test_the_values_are_numpys_first_values_of_the_slice(big: tuple[str, np.ndarray], index: Any) -> None:
    prefix, value = big
    shown = P.preview(ckptviz.open(prefix), "w", index)
    want = np.asarray(value[index])
    assert shown.part_shape == want.shape and shown.truncated == (want.size > P.PREVIEW_MAX)
    assert np.array_equal(shown.values, want.reshape(-1)[: P.PREVIEW_MAX])
    assert not shown.verified and ("not checked" in (shown.note or "") or not shown.values.size)


def test_a_big_tensor_is_read_only_where_the_shown_values_are(
    big: tuple[str, np.ndarray], bytes_read: list[int]
) -> None:
    prefix, value = big
    ckpt = ckptviz.open(prefix)
    ckpt.entries  # noqa: B018 - the index is read before counting
    bytes_read.clear()
    shown = P.preview(ckpt, "w", (slice(None), 7, slice(None, None, 10)))  # 20 values a row, 50 rows shown
    assert np.array_equal(shown.values, value[:, 7, ::10].reshape(-1)[: P.PREVIEW_MAX])
    assert shown.read == P.PREVIEW_MAX * 4 and shown.truncated
    assert sum(bytes_read) == 50 * (19 * 10 + 1) * 4  # a row's values in one read (a small gap read through)


def test_a_small_tensor_is_read_whole_and_checked(tmp_path: Path) -> None:
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"w": np.arange(3000, dtype=np.float64)})
    shown = P.preview(ckptviz.open(prefix), "w")
    assert shown.verified and shown.note is None and shown.read == 3000 * 8 and shown.truncated
    unchecked = P.preview(ckptviz.open(prefix, verify=False), "w")
    assert not unchecked.verified and "without verification" in (unchecked.note or "")


def test_a_flipped_small_tensor_fails_its_checksum_and_a_big_one_says_it_is_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"w": np.zeros(4096, np.float32)})
    data = Path(f"{prefix}.data-00000-of-00001")
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 0x40  # the last value: outside the first PREVIEW_MAX
    data.write_bytes(bytes(raw))
    with pytest.raises(ChecksumMismatchError):
        P.preview(ckptviz.open(prefix), "w")
    monkeypatch.setattr(P, "VERIFY_MAX", 1024)
    shown = P.preview(ckptviz.open(prefix), "w")
    assert not shown.verified and not shown.values.any() and shown.to_dict()["verified"] is False


def test_every_dtype_of_a_tensorflow_checkpoint_reads_the_same_by_ranges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ckpt = ckptviz.open(DATA / "dtypes" / "all")
    whole = {k: P.preview(ckpt, k) for k in ckpt.entries}
    monkeypatch.setattr(P, "VERIFY_MAX", 0)
    for key, checked in whole.items():
        ranged = P.preview(ckpt, key)
        assert checked.verified or not checked.values.size, key
        assert ranged.values.dtype == checked.values.dtype, key
        assert ranged.values.tobytes() == checked.values.tobytes() or checked.values.dtype == object, key
        assert ranged.to_dict()["values"] == checked.to_dict()["values"], key


def test_strings_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"s": np.array([b"x" * 500] * 3000, dtype=object)})
    shown = P.preview(ckptviz.open(prefix), "s", limit=20)
    assert len(shown.values) == 20 and shown.truncated and shown.verified
    assert shown.to_dict()["values"][0] == "x" * P.STRING_MAX + "…"
    monkeypatch.setattr(P, "STRINGS_MAX", 1000)
    unread = P.preview(ckptviz.open(prefix), "s")
    assert not unread.values.size and "too big to preview" in (unread.note or "")


def test_an_index_out_of_range_is_a_clear_error(big: tuple[str, np.ndarray]) -> None:
    with pytest.raises(InvalidArgumentError, match="index 200 is out of range for dimension 0 of size 200"):
        P.preview(ckptviz.open(big[0]), "w", (200,))
    with pytest.raises(InvalidArgumentError, match="4 dimensions"):
        P.preview(ckptviz.open(big[0]), "w", (0, 0, 0, 0))


def test_a_truncated_data_file_is_a_corrupt_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"w": np.ones((64, 64), np.float32)})
    with Path(f"{prefix}.data-00000-of-00001").open("r+b") as f:
        f.truncate(1000)
    monkeypatch.setattr(P, "VERIFY_MAX", 0)
    with pytest.raises(ckptviz.errors.CorruptCheckpointError, match="needs bytes"):
        P.preview(ckptviz.open(prefix), "w")
