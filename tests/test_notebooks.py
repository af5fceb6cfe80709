"""The tour notebook runs top to bottom in a real kernel and shows what it promises."""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def test_tour_runs() -> None:
    nb = nbformat.read(NOTEBOOKS / "tour.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    svgs = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) >= 3  # the graph, the partial graph, the will-it-load picture
    assert any("variable mismatched" in o["data"]["image/svg+xml"] for o in svgs)
    assert any("<table>" in o.get("data", {}).get("text/html", "") for o in outputs)  # Checkpoint's HTML repr


def test_widgets_notebook_runs_every_view() -> None:
    pytest.importorskip("anywidget")
    nb = nbformat.read(NOTEBOOKS / "widgets.ipynb", as_version=4)
    assert not [c for c in nb.cells if c.cell_type == "code" and c.outputs], "commit it without outputs"
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "net/l1/kernel variable float32 [1, 5]" in text
    assert "3 of 15 keys" in text  # the bias and its two slots
    assert "1 value(s) disagree, nothing was restored" in text
    assert "restored 2 value(s) into live" in text and "'load'" in text
    assert "'changed': 10" in text and "graph colours: diff" in text
    assert "steps [2, 3, 4]" in text
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 5  # the explorer (three times), and the graph and the table alone
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert {s["model_name"] for s in state.values()} >= {"AnyModel", "TabModel"}
