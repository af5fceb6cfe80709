from __future__ import annotations

import numpy as np
import pytest

import ckptviz
from ckptviz.widgets import TensorsView

from .conftest import DATA, GUIDE, click

MANY = DATA / "many_keys"


def keys(view: TensorsView) -> list[str]:
    return [r[0] for r in view.rows]


def test_rows_are_paged_not_all_sent() -> None:
    view = TensorsView(MANY)
    assert view.total == view.matched == len(ckptviz.open(MANY).entries) > 5000
    assert len(view.rows) == view.limit == 100
    view.offset = 4000
    assert keys(view)[0] == sorted(ckptviz.open(MANY).entries)[4000]


@pytest.mark.parametrize(
    ("mode", "text", "want"),
    [
        ("substring", "L1/BIAS", 3),  # case-insensitive, kernel's slots excluded
        ("glob", "*/kernel/.ATTRIBUTES/*", 1),  # fnmatch, as select() uses: * crosses /
        ("glob", "net/l1/bias", 1),  # globs match object paths too
        ("regex", r"OPTIMIZER_SLOT/optimizer/[mv]/", 4),
    ],
)
def test_filter_by_substring_glob_or_regex(mode: str, text: str, want: int) -> None:
    view = TensorsView(GUIDE)
    view.mode, view.filter = mode, text
    assert view.matched == len(view.rows) == want and not view.status


def test_a_filter_that_matches_nothing_says_so() -> None:
    view = TensorsView(GUIDE)
    view.filter = "nothing-like-this"
    assert view.rows == [] and view.status == "no key or object path matches 'nothing-like-this' (substring)"
    view.mode, view.filter = "regex", "("
    assert "bad regular expression" in view.error


def test_sort_by_size_descending_and_by_shape() -> None:
    view = TensorsView(GUIDE)
    view.sort, view.descending = "size", True
    sizes = [r[4] for r in view.rows]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    view.sort, view.descending = "shape", False
    assert [len(r[3]) for r in view.rows] == sorted(len(r[3]) for r in view.rows)
    view.sort = "colour"
    assert "cannot sort by 'colour'" in view.error


def test_selecting_a_key_previews_it() -> None:
    view = TensorsView(GUIDE)
    view.key = "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"
    value = ckptviz.open(GUIDE).read(view.key)
    assert view.stats["max"] == pytest.approx(float(value.max()))
    assert view.preview["shape"] == [5] and view.preview["heatmap"] is None
    view.key = "iterator/.ATTRIBUTES/ITERATOR_STATE"  # a variant: values, no statistics
    assert view.stats == {"none": "no statistics for this dtype"} and view.preview["values"]


def test_slicing_an_nd_tensor_reads_one_slice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    value = np.arange(4 * 3 * 64 * 64, dtype=np.float32).reshape(4, 3, 64, 64)  # 3 MiB: memory-mapped
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"w": value})
    view = TensorsView(prefix)
    view.key = "w"
    assert view.preview["index"] == [0, 0] and view.preview["slice"] == "[0, 0, :, :]"
    view.index = [2, 1]
    hm = view.preview["heatmap"]
    assert (hm["rows"], hm["cols"], hm["step"]) == (64, 64, [2, 2])  # down-sampled to 32 × 32
    assert hm["cells"][1][1] == value[2, 1, 2, 2] and hm["min"] == value[2, 1].min()
    view.index = [9, 0]
    assert "index 9 is out of range for dimension 0 of size 4" in view.error


def test_statistics_of_a_big_tensor_come_from_a_worker(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ckptviz.widgets import preview

    monkeypatch.setattr(preview, "SYNC_BYTES", 100)
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"w": np.ones((30, 30), np.float32)})
    view = TensorsView(prefix)
    view.key = "w"
    view.join()
    assert view.stats["mean"] == 1.0 and not view.busy


def test_pick_adds_the_object_path() -> None:
    view = TensorsView(GUIDE)
    click(view, do="pick", key="net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE")
    assert view.picked == ["net/l1/bias"]


def test_a_big_tensor_is_previewed_from_its_shown_values_alone(tmp_path, monkeypatch, reads) -> None:  # type: ignore[no-untyped-def]
    from ckptviz.model import preview
    from ckptviz.widgets import preview as panel

    monkeypatch.setattr(preview, "VERIFY_MAX", 1024)  # as a 1 GiB tensor is treated
    monkeypatch.setattr(panel, "statistics", lambda source, key: None)  # they read everything, on purpose
    value = np.arange(3 * 64 * 64, dtype=np.float32).reshape(3, 64, 64)
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"w": value, "small": np.ones(4, np.float32)})
    view = TensorsView(prefix)
    view.key = "w"
    view.index = [2]
    assert reads == []  # neither the values nor the heatmap read the tensor
    assert view.preview["verified"] is False and "not checked" in view.preview["note"]
    assert "the first 1,000 of 4,096 values" in view.preview["values"]
    assert view.preview["heatmap"]["cells"][1][1] == value[2, 2, 2]
    view.key = "small"
    assert view.preview["verified"] is True and view.preview["note"] is None and reads == ["small"]
