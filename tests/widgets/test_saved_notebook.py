"""A notebook holding an explorer over ResNet50 + Adam, saved with widget state, stays under 1 MB."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ckptviz

from .conftest import DATA

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")


def resnet_bundle(prefix: Path) -> str:
    meta = json.loads((DATA / "resnet50_adam/variables.json").read_text())
    tensors = {
        k: np.zeros(m["shape"], np.float32 if m["dtype"] == "bfloat16" else m["dtype"])
        for k, m in meta.items()
        if k != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }
    return ckptviz.write_checkpoint(prefix, tensors, (DATA / "resnet50_adam/object_graph.pb").read_bytes())


@pytest.mark.slow
def test_saved_notebook_with_a_resnet_explorer_is_under_1_mb(tmp_path: Path) -> None:
    prefix = resnet_bundle(tmp_path / "resnet" / "ckpt-1")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import ckptviz\nex = ckptviz.explore({str(prefix)!r})\n"
            "ex.graph.join()\nex.graph.query = 'conv1_conv'\nex.graph.join()\nex.tensors.filter = 'conv'\nex"
        )
    ]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert not [o for o in nb.cells[0].outputs if o.output_type == "error"]
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    drawn = [s["state"] for s in state.values() if s["state"].get("drawing")]
    assert (
        len(drawn) == 1 and len(drawn[0]["drawing"]["nodes"]) >= 100
    )  # the drawn graph is in the saved state
    assert drawn[0]["details"]["path"] == "model/conv1_conv"  # the layer of that name: found and selected
    assert path.stat().st_size < 1_000_000, path.stat().st_size
