from __future__ import annotations

import pytest

import ckptviz
from ckptviz.widgets import DiffView

from .conftest import GUIDE, click

OLD = str(GUIDE / "ckpt-2")


def compared(view: DiffView) -> DiffView:
    view.join()
    assert not view.error, view.error
    return view


def test_diff_table_by_status_and_change() -> None:
    view = compared(DiffView(GUIDE, other=OLD))
    want = ckptviz.diff(OLD, str(GUIDE / "ckpt-4")).to_dict()
    assert view.counts == want["counts"] and view.counts["changed"] > 0
    changed = {r["key"] for r in want["rows"] if r["status"] == "changed"}
    assert view.show == "changed" and {r[0] for r in view.rows} == changed
    assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in changed
    rel = [r[7] or 0.0 for r in view.rows]
    assert rel == sorted(rel, reverse=True)  # biggest change first
    view.show = "added"
    assert view.rows == [] and view.status == "no added keys"
    view.show = "sideways"
    assert "unknown status 'sideways'" in view.error


def test_rollup_and_per_key_detail() -> None:
    view = compared(DiffView(GUIDE, other=OLD))
    assert "net/l1" in {r["path"] for r in view.rollups}
    view.key = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    a = ckptviz.open(OLD).read(view.key)
    b = ckptviz.open(GUIDE).read(view.key)
    assert view.detail["a"]["mean"] == pytest.approx(float(a.mean()))
    assert view.detail["b"]["mean"] == pytest.approx(float(b.mean()))
    assert view.detail["delta"]["max"] == pytest.approx(float((b - a).max()))
    assert sum(view.detail["delta"]["histogram"]["counts"]) == a.size


def test_cancel_and_bad_paths_are_messages() -> None:
    view = DiffView(GUIDE)
    click(view, do="compare")
    assert "type the path of a checkpoint" in view.error
    view.other = "/no/such/ckpt"
    click(view, do="compare")
    assert "/no/such/ckpt" in view.error
    view.other = OLD
    click(view, do="compare")
    click(view, do="cancel")
    view.join()
    assert view.status == "diff: cancelled" and view.counts == {}


def test_the_explorer_colours_its_graph_by_change() -> None:
    ex = ckptviz.explore(GUIDE, other=OLD)
    ex.diff.join()
    assert ex.get_title(3) == "Diff" and ex.graph.colour == "diff"
    ex.graph.join()
    fills = {n["id"]: n["fill"] for n in ex.graph.drawing["nodes"]}
    kernel = ex.source.find("net/l1/kernel")
    assert fills[kernel] != ckptviz.render.dot.FILLS["variable"]
