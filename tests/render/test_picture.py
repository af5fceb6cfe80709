"""``graph.draw(...)``: a picture that shows inline in a notebook with every option export_graph has."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz.render import Picture, find_engine
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam")


def test_draw_takes_export_graph_options_and_fails_early() -> None:
    graph = ckptviz.open(GUIDE).graph
    picture = graph.draw(max_depth=1, focus="net/l1/kernel", legend=False)
    assert isinstance(picture, Picture)
    assert picture.dot == graph.to_dot(max_depth=1, focus="net/l1/kernel", legend=False)
    assert picture.to_dict() == picture.plan.to_dict() and picture.to_dict()["nodes"][0]["label"] == "(root)"
    assert repr(picture) == "<ckptviz picture: guide_legacy_adam/ckpt-4: object graph, 7 of 18 nodes drawn>"
    with pytest.raises(ckptviz.KeyNotFoundError):
        graph.draw(focus="nett")  # at the call, not when the notebook displays it
    with pytest.raises(TypeError, match="max_dept"):
        graph.draw(max_dept=3)
    with pytest.raises(ValueError, match="'svg' or 'png'"):
        graph.draw(format="pdf")


def test_draw_shows_svg_or_png_inline_and_saves(tmp_path: Path) -> None:
    if find_engine() is None:
        pytest.skip("no Graphviz engine installed")
    graph = ckptviz.open(GUIDE).graph
    bundle = graph.draw(max_depth=1)._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and bundle["text/plain"].startswith(
        "<ckptviz picture"
    )
    assert bundle["image/svg+xml"].count('class="node ') == 6 + 4 + 1  # 6 nodes, the legend's 4, the summary
    png = graph.draw(format="png")._repr_mimebundle_()
    assert set(png) == {"text/plain", "image/png"}
    out = graph.draw(select=["net/l1/bias"]).save(tmp_path / "g.dot")
    assert out.read_text() == graph.to_dot(select=["net/l1/bias"])
    assert "<svg" in graph.draw(max_depth=1).svg()


def test_a_check_report_draws_its_status() -> None:
    live = {"net": {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(4, np.float32)}}}
    report = ckptviz.check(GUIDE, live)
    graph = ckptviz.open(GUIDE).graph
    picture = graph.draw(status=report.by_node)  # what ``report.graph`` shows
    bias = graph.find("net/l1/bias").id
    assert picture.plan.status[bias] == "mismatched"
    assert 'class="variable mismatched"' in picture.dot and "legend_mismatched" in picture.dot
    deeper = picture.draw(max_depth=1)  # options change, the status stays
    assert deeper.options == {"status": report.by_node, "max_depth": 1}
    assert deeper.plan.status == {i: s for i, s in report.by_node.items() if i in deeper.plan.nodes}
