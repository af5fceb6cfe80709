from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import ckptviz
from ckptviz.render.dot import STATUS_FILLS
from ckptviz.widgets import Explorer, ObjectGraphView, TensorsView

from .conftest import GUIDE, click


def test_explore_has_the_views_as_tabs() -> None:
    ex = ckptviz.explore(GUIDE)
    assert isinstance(ex, Explorer) and [ex.get_title(i) for i in range(3)] == ["Graph", "Tensors", "Restore"]
    assert ex.graph.source is ex.tensors.source is ex.restore.source  # one checkpoint, opened once


def test_opening_reads_no_tensor_data(reads: list[str]) -> None:
    ex = ckptviz.explore(GUIDE)
    repr(ex), repr(ex.source), ex.graph.get_state(), ex.tensors.get_state()
    assert reads == ["_CHECKPOINTABLE_OBJECT_GRAPH"]  # the object graph, to draw it; no tensor
    ex.tensors.filter = "kernel"
    ex.tensors.sort = "size"
    assert reads == ["_CHECKPOINTABLE_OBJECT_GRAPH"]
    ex.graph.select("net/l1/bias")
    assert "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE" in reads


def test_picks_become_the_restore_selection_and_reports_colour_the_graph() -> None:
    live = {"net": {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(4, np.float32)}}}
    ex = ckptviz.explore(GUIDE, namespace={"live": live})
    click(ex.graph, do="pick", node=ex.source.find("net/l1"))
    click(ex.tensors, do="pick", key="step/.ATTRIBUTES/VARIABLE_VALUE")
    assert ex.restore.paths == ["net/l1", "step"]
    ex.restore.paths = ["net/l1"]
    ex.restore.target = "live"
    click(ex.restore, do="check")
    assert ex.graph.colour == "load"
    ex.graph.join()
    fills = {n["id"]: n["fill"] for n in ex.graph.drawing["nodes"]}
    assert fills[ex.source.find("net/l1/bias")] == STATUS_FILLS["mismatched"]


def test_state_is_small_json() -> None:
    ex = ckptviz.explore(GUIDE)
    for view in (ex.graph, ex.tensors, ex.restore):
        state = view.get_state()
        assert len(state["_esm"]) < 20_000
        json.dumps({k: v for k, v in state.items() if k != "_esm"})


def test_views_work_alone() -> None:
    view = ObjectGraphView(GUIDE)
    view.join()
    assert view.drawing["nodes"] and TensorsView(GUIDE).rows


def test_import_ckptviz_loads_no_widget_machinery() -> None:
    code = (
        "import ckptviz, sys; ckptviz.explore; "  # the name resolves lazily, on use
        "print([m for m in ('anywidget', 'ipywidgets', 'IPython', 'traitlets') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code.replace("ckptviz.explore; ", "")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "anywidget" in out.stdout


def test_the_timeline_tab_reads_the_run_only_when_shown() -> None:
    ex = ckptviz.explore(GUIDE)
    try:
        assert ex.get_title(4) == "Timeline" and ex.timeline is not None
        assert ex.timeline.result is None and not ex.timeline.visible  # nothing read for a hidden tab
        ex.selected_index = 4
        ex.timeline.join()
        assert ex.timeline.steps == [2, 3, 4] and ex.timeline.visible
        ex.selected_index = 0
        assert not ex.timeline.visible  # hidden again: no polling
    finally:
        ex.close()
    ex.timeline._poller.join(120)  # closing stops the poller: wait for that event, not a clock
    assert not ex.timeline.polling


def test_a_checkpoint_outside_a_run_has_no_timeline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prefix = ckptviz.write_checkpoint(tmp_path / "alone", {"w": np.ones(3, np.float32)})
    ex = ckptviz.explore(prefix)
    assert ex.timeline is None and len(ex.children) == 4


def test_a_bad_path_is_one_line_in_a_notebook(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    ip = InteractiveShell.instance()
    ip.user_ns.update(ckptviz=ckptviz, bad=str(tmp_path / "nope"))
    with capture_output() as shown:
        result = ip.run_cell("ckptviz.explore(bad)")
    assert isinstance(result.error_in_exec, ckptviz.CheckpointNotFoundError)
    assert shown.stdout + shown.stderr == (
        f"CheckpointNotFoundError: no checkpoint index {tmp_path / 'nope'}.index "
        f"(and no .index file in {tmp_path})\n"
    )
    with pytest.raises(ckptviz.CheckpointNotFoundError) as info:  # code still catches it as before
        ckptviz.explore(tmp_path / "nope")
    frames = []
    tb = info.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert not any("/ckptviz/model/" in f or "/ckptviz/format/" in f for f in frames)
