from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.widgets import DiffView
from ckptviz.widgets import diff as diff_widget
from ckptviz.widgets.base import Cancelled, Task

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


def test_cancel_and_bad_paths_are_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    view = DiffView(GUIDE)
    click(view, do="compare")
    assert "type the path of a checkpoint" in view.error
    view.other = "/no/such/ckpt"
    click(view, do="compare")
    assert "/no/such/ckpt" in view.error
    # The diff waits until Cancel was clicked: however fast or loaded the machine, it is cancelled.
    clicked = threading.Event()
    real = diff_widget.run_diff

    def after_the_click(other: Any, this: Any, task: Any) -> Any:
        assert clicked.wait(60)
        return real(other, this, task)

    monkeypatch.setattr(diff_widget, "run_diff", after_the_click)
    view.other = OLD
    click(view, do="compare")
    click(view, do="cancel")
    clicked.set()
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


def test_at_most_rollups_objects_are_sent_the_most_changed_first(tmp_path: Any) -> None:
    from ckptviz.widgets.diff import ROLLUPS

    a = {f"layer{i:03d}/w": np.ones(4, np.float32) for i in range(ROLLUPS + 40)}
    b = {k: v * (1 + (int(k[5:8]) + 1) / 100) for k, v in a.items()}  # later layers change more
    ckptviz.write_checkpoint(tmp_path / "a", a)
    ckptviz.write_checkpoint(tmp_path / "b", b)
    view = compared(DiffView(str(tmp_path / "b"), other=str(tmp_path / "a")))
    shown = [r["path"] for r in view.rollups]
    assert len(shown) == ROLLUPS and shown[0].startswith(f"layer{ROLLUPS + 39:03d}")
    assert not any(p.startswith("layer000") for p in shown)


def test_the_diffs_progress_moves_the_bar_and_says_how_far() -> None:
    seen: list[tuple[float, str]] = []
    view = DiffView(GUIDE)
    task = Task(view, "diff", lambda t: None, lambda r: None)
    view.observe(lambda change: seen.append((view.progress, view.status)), names="status")
    diff_widget.run_diff(OLD, GUIDE, task)
    assert seen and 0.5 < seen[-1][0] <= 1 and seen[-1][1].startswith("comparing: ")
    task.cancel()
    with pytest.raises(Cancelled):
        task.reporter(lambda done, total: "")(1, 2)
