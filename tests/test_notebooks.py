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
