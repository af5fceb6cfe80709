from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.render.dot import COLORS, FILLS, STATUS_FILLS
from ckptviz.widgets import ObjectGraphView

from .conftest import GUIDE, KERAS3, click


def test_draws_the_render_plan_in_its_colours() -> None:
    view = ObjectGraphView(GUIDE)
    view.join()  # every layout runs on a worker thread
    graph = ckptviz.open(GUIDE).graph
    plan = ckptviz.render.select_view(graph)
    nodes = {n["id"]: n for n in view.drawing["nodes"]}
    assert set(nodes) == set(plan.nodes)
    for node_id, n in nodes.items():
        kind = graph.nodes[node_id].kind
        assert (n["kind"], n["color"], n["fill"]) == (kind, COLORS[kind], FILLS[kind])
    assert {e["color"] for e in view.drawing["edges"]} >= {"orange"}  # slot edges, dashed
    assert any(e.get("dashed") for e in view.drawing["edges"])  # recorded slot links
    keras3 = ObjectGraphView(KERAS3)
    keras3.join()
    slot_edges = [e for e in keras3.drawing["edges"] if e["color"] == "orange"]
    assert slot_edges and all(e.get("dotted") and not e.get("dashed") for e in slot_edges)  # inferred: dotted
    assert [n["id"] for n in view.drawing["legend"]][:4] == ["optimizer", "variable", "slot", "other"]


def test_click_shows_details_and_tensor_statistics() -> None:
    view = ObjectGraphView(GUIDE)
    kernel = view.source.find("net/l1/kernel")
    view.selected = kernel  # what a click sets
    d = view.details
    assert (d["path"], d["kind"], d["dtype"], d["shape"], d["nbytes"]) == (
        "net/l1/kernel",
        "variable",
        "float32",
        [1, 5],
        20,
    )
    assert d["keys"] == ["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert {s["slot_name"] for s in d["slots"]} == {"m", "v"}
    value = ckptviz.open(GUIDE).read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    assert view.key == d["keys"][0]
    assert view.stats["mean"] == pytest.approx(float(value.mean()))
    assert sum(view.stats["histogram"]["counts"]) == 5
    assert view.preview["heatmap"]["cells"][0] == pytest.approx(value[0].tolist(), rel=1e-4)
    assert "0.2214" in view.preview["values"]


def test_a_slot_points_at_its_variable() -> None:
    view = ObjectGraphView(GUIDE)
    view.select("net/l1/kernel/.OPTIMIZER_SLOT/optimizer/m")
    assert view.details["kind"] == "slot"
    (slot,) = view.details["slots"]
    assert slot["variable"] == "net/l1/kernel" and slot["slot_name"] == "m"


def test_expand_and_collapse_lay_out_a_new_plan() -> None:
    view = ObjectGraphView(KERAS3, max_nodes=6)
    view.join()
    before = {n["id"] for n in view.drawing["nodes"]}
    folded = [n for n in view.drawing["nodes"] if n["collapsed"]]
    assert folded, "a 6-node budget folds something"
    click(view, do="expand", node=folded[0]["id"])
    view.join()
    after = {n["id"] for n in view.drawing["nodes"]}
    assert after > before and not view.error
    click(view, do="collapse", node=folded[0]["id"] if folded[0]["id"] >= 0 else -1 - folded[0]["id"])
    view.join()
    assert {n["id"] for n in view.drawing["nodes"]} < after


def test_search_expands_to_the_match_and_centres_on_it() -> None:
    view = ObjectGraphView(KERAS3, max_nodes=3)
    view.join()
    target = view.source.find("net/l1/bias")
    assert target not in {n["id"] for n in view.drawing["nodes"]}
    view.query = "l1/bias"
    view.join()
    assert view.matches[0]["path"] == "net/l1/bias"
    assert view.centre == target == view.selected
    assert target in {n["id"] for n in view.drawing["nodes"]}
    view.query = "no such thing"
    assert view.matches == [] and "no node" in view.status


def test_load_colours_come_from_a_check_report() -> None:
    view = ObjectGraphView(GUIDE)
    live = {"net": {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(4, np.float32)}}}
    report = ckptviz.check(GUIDE, live)
    view.show_status("load", report.by_node)
    view.join()
    assert view.colour == "load" and "load" in view.colours
    fills = {n["id"]: n["fill"] for n in view.drawing["nodes"]}
    assert (
        fills[view.source.find("net/l1/bias")] == STATUS_FILLS["mismatched"]
    )  # mismatched, as in the exported picture
    assert fills[view.source.find("net/l1/kernel")] == STATUS_FILLS["matched"]
    view.colour = "diff"
    assert "no 'diff' colours" in view.error and view.colour == "load"


def test_bad_requests_become_messages() -> None:
    view = ObjectGraphView(GUIDE)
    click(view, do="expand", node="no/such/path")
    assert "no/such/path" in view.error
    click(view, do="format_disk")
    assert "unknown request" in view.error


def test_pick_collects_paths_for_a_restore() -> None:
    view = ObjectGraphView(GUIDE)
    click(view, do="pick", node=view.source.find("net/l1"))
    click(view, do="pick", node=view.source.find("net/l1"))
    assert view.picked == ["net/l1"]
    click(view, do="unpick", path="net/l1")
    assert view.picked == []


def test_a_colour_mode_can_draw_its_own_picture() -> None:
    view = ObjectGraphView(GUIDE)
    graph = ckptviz.open(GUIDE).graph
    asked = []

    def picture(**options):  # type: ignore[no-untyped-def]
        asked.append(options)
        return ckptviz.render.to_dot(graph, ckptviz.render.DrawOptions(**options, status={0: "mismatched"}))

    view.show_picture("diff", picture)
    view.join()
    assert view.colour == "diff" and asked[-1]["max_nodes"] == 300
    assert next(n for n in view.drawing["nodes"] if n["id"] == 0)["fill"] == STATUS_FILLS["mismatched"]
    view.colour = "kind"
    view.join()
    assert next(n for n in view.drawing["nodes"] if n["id"] == 0)["fill"] == FILLS["other"]


def test_colour_by_norm_and_nan_with_a_legend_and_folded_statistics() -> None:
    view = ObjectGraphView(GUIDE, max_nodes=6)
    view.join()
    view.colour = "norm"
    view.join()
    kernel = view.source.find("net/l1/kernel")
    value = ckptviz.open(GUIDE).read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    legend = " ".join(" ".join(n["lines"]) for n in view.drawing["legend"])
    assert "norm" in legend  # the ramp's two ends
    folded = [n for n in view.drawing["nodes"] if n["collapsed"]]
    assert folded and any("min" in " ".join(n["lines"]) and "mean" in " ".join(n["lines"]) for n in folded)
    view.max_nodes = 100  # everything drawn: each variable its own value
    view.join()
    (drawn,) = [n for n in view.drawing["nodes"] if n["id"] == kernel]
    assert f"norm {float(np.linalg.norm(value)):.4g}" in drawn["lines"]
    view.colour = "nan"
    view.join()
    assert any("NaN 0" in " ".join(n["lines"]) for n in view.drawing["nodes"])


def test_a_search_in_50000_variables_lays_out_only_the_way_to_the_hit(tmp_path: Any) -> None:
    from tests.bigdata import flat_bundle

    view = ObjectGraphView(flat_bundle(tmp_path / "ckpt-1"))
    view.join()
    view.query = "v31337"
    view.join()
    drawn = {n["id"] for n in view.drawing["nodes"]}
    assert view.selected in drawn and view.source.graph.nodes[view.selected].path == "v31337"
    assert len(drawn) <= 60  # its siblings stay folded, with their count
    assert any("+49" in " ".join(n["lines"]) for n in view.drawing["nodes"] if n["collapsed"])
