"""Check and restore into numpy trees, without TensorFlow."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz import RestoreMismatchError
from ckptviz.live.match import check
from ckptviz.live.restore import restore
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam" / "ckpt-4")
TF1 = str(DATA / "tf1_saver" / "model.ckpt-2")
BIAS = "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"


def nested() -> dict:
    return {"net": {"l1": {"bias": np.zeros(5, np.float32), "kernel": np.zeros((1, 5), np.float32)}}}


def test_check_report_and_colours() -> None:
    tree = nested()
    tree["extra"] = np.zeros(2, np.float32)
    tree["net"]["l1"]["kernel"] = np.zeros((2, 5), np.float32)
    report = check(GUIDE, tree)
    assert [r.path for r in report.matched] == ["net/l1/bias"]
    assert [r.path for r in report.mismatched] == ["net/l1/kernel"]
    assert [r.path for r in report.missing_in_checkpoint] == ["extra"]
    assert report.by_node[13] == "matched" and report.by_node[12] == "mismatched"
    assert report.by_node[4] == "missing"  # step
    assert re.search(r"^mismatched +net/l1/kernel +float32\[1,5\] +float32\[2,5\]$", report.table(), re.M)
    assert not report.ok


def test_restore_into_numpy_tree_is_all_or_nothing() -> None:
    tree = nested()
    tree["net"]["l1"]["kernel"] = np.zeros((2, 5), np.float32)
    with pytest.raises(
        RestoreMismatchError, match=r"net/l1/kernel: checkpoint float32\[1, 5\] vs object float32\[2, 5\]"
    ):
        restore(GUIDE, tree)
    assert not tree["net"]["l1"]["bias"].any()  # nothing assigned
    good = nested()
    status = restore(GUIDE, good)
    assert good["net"]["l1"]["bias"].tolist() == ckptviz.open(GUIDE).read(BIAS).tolist()
    status.assert_existing_objects_matched().assert_nontrivial_match().expect_partial()
    with pytest.raises(AssertionError, match="Unresolved values in checkpoint"):
        status.assert_consumed()
    assert "step/.ATTRIBUTES/VARIABLE_VALUE" in status.unmatched_checkpoint


def test_restore_status_assertions_on_unmatched_objects() -> None:
    with pytest.raises(
        ckptviz.NothingMatchedError, match=r"nothing was restored: .*pass root='net'.*Checkpoint\(net=obj\)"
    ):
        restore(GUIDE, {"other": np.zeros(3)})
    status = restore(GUIDE, {"other": np.zeros(3)}, allow_empty=True)
    assert status.unmatched_objects == ["other"]
    with pytest.raises(AssertionError, match="not bound to checkpointed values"):
        status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="Nothing except the root"):
        status.assert_nontrivial_match()


def test_name_based_restore_matches_by_path(tmp_path: Path) -> None:
    tree = {"a": np.zeros((), np.float32), "scoped": {"c": np.zeros(3, np.float32)}}
    status = restore(TF1, tree, select=["a", "scoped"])
    assert tree["scoped"]["c"].tolist() == ckptviz.open(TF1).read("scoped/c").tolist()
    status.assert_consumed()


def test_report_graph_is_the_picture_painted_by_the_check() -> None:
    tree = nested()
    tree["net"]["l1"]["kernel"] = np.zeros((2, 5), np.float32)
    picture = check(GUIDE, tree).graph
    assert hasattr(picture, "_repr_mimebundle_")
    assert 'class="variable mismatched"' in picture.dot and 'class="variable matched"' in picture.dot


@pytest.mark.parametrize("face", ["rename", "check", "restore", "diff"])
def test_every_entry_of_an_assignment_map_must_match_something(face: str) -> None:
    """One typo in a map that otherwise works is an error on every face, never a half rename."""
    typo = {"nett/": "x/", "net/": "net/"}  # the second entry matches (onto itself)
    calls = {
        "rename": lambda: ckptviz.open(GUIDE).rename(typo),
        "check": lambda: check(GUIDE, nested(), assignment_map=typo),
        "restore": lambda: restore(GUIDE, nested(), assignment_map=typo),
        "diff": lambda: ckptviz.diff(GUIDE, GUIDE, assignment_map=typo),
    }
    with pytest.raises(
        ckptviz.NothingMatchedError, match=r"assignment map entries that match nothing: .nett/.( in|$)"
    ):
        calls[face]()
