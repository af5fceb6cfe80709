"""DOT text: the guide's colours and classes, goldens for the guide example, and the view options."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import ckptviz
from ckptviz.model.graph import ObjectGraph
from ckptviz.render import COLORS, DrawOptions, select_view, to_dot
from ckptviz.render.dot import quote

DATA = Path(__file__).parents[1] / "data"
GOLDEN = Path(__file__).parent / "golden"
NODE = re.compile(r"^\s*(n\d+|legend_\w+) \[(.*)\];$", re.M)
EDGE = re.compile(r"^\s*(n\d+|legend_\w+) -> (n\d+|legend_\w+) \[(.*)\];$", re.M)


def graph_of(name: str) -> ObjectGraph:
    return ckptviz.open(str(DATA / name)).graph


def resnet() -> ObjectGraph:
    meta = json.loads((DATA / "resnet50_adam/variables.json").read_text())
    return ObjectGraph.from_proto(
        (DATA / "resnet50_adam/object_graph.pb").read_bytes(), meta, "x/resnet50_adam"
    )


def attr(statement: str, name: str) -> str | None:
    m = re.search(rf'\b{name}="((?:[^"\\]|\\.)*)"', statement)
    return m.group(1) if m else None


def drawn(dot: str) -> dict[int, str]:
    """node id -> its attribute text, graph nodes only (not the legend)."""
    return {int(m[1][1:]): m[2] for m in NODE.finditer(dot) if m[1].startswith("n")}


@pytest.mark.parametrize("name", ["guide_legacy_adam", "guide_keras3"])
def test_golden_dot_for_the_guide_example(name: str) -> None:
    dot = graph_of(name).to_dot()
    golden = GOLDEN / f"{name}.dot"
    if os.environ.get("CKPTVIZ_WRITE_GOLDEN"):
        golden.write_text(dot)
    assert dot == golden.read_text()


@pytest.mark.parametrize(
    "name", ["guide_legacy_adam", "guide_keras3", "tfkeras_new_adam/weights", "tf1_saver"]
)
def test_every_node_has_its_kind_class_and_guide_colour(name: str) -> None:
    graph = graph_of(name)
    dot = graph.to_dot(hide_empty=False, optimizer_lists=True)
    statements = NODE.findall(dot)
    assert len(statements) == len(graph) + 4  # every node, plus the legend's four
    for ident, text in statements:
        kind = attr(text, "class")
        assert kind in COLORS and attr(text, "color") == COLORS[kind]
        if ident.startswith("n"):
            assert kind == graph[int(ident[1:])].kind
    assert COLORS == {"optimizer": "red", "variable": "blue", "slot": "orange", "other": "black"}


@pytest.mark.parametrize("name", ["guide_legacy_adam", "guide_keras3", "tf1_saver"])
def test_slot_edges_are_dashed_when_recorded_and_dotted_when_inferred(name: str) -> None:
    graph = graph_of(name)
    dot = graph.to_dot(legend=False)
    slotted = [(a, b, t) for a, b, t in EDGE.findall(dot) if 'color="orange"' in t]
    expected = set()
    for s in graph.slots:
        style = "style=dotted" if s.inferred else "style=dashed"
        expected.add((f"n{s.optimizer_id}", f"n{s.slot_id}", s.slot_name, style))
        expected.add((f"n{s.variable_id}", f"n{s.slot_id}", None, style))
    # the slot's own label names its state, so the optimizer's edge carries it as a tooltip only
    got = {
        (a, b, attr(t, "tooltip"), "style=dotted" if "style=dotted" in t else "style=dashed")
        for a, b, t in slotted
    }
    assert got == expected
    assert len(slotted) == 2 * len(graph.slots) == {"tf1_saver": 16}.get(name, 8)
    assert {s.inferred for s in graph.slots} == {name != "guide_legacy_adam"}
    assert all(
        "style=dashed" not in t and "style=dotted" not in t
        for a, b, t in EDGE.findall(dot)
        if 'color="orange"' not in t
    )
    legend = graph.to_dot()
    assert ('label="slot, inferred" style=dotted' in legend) == (name != "guide_legacy_adam")
    assert ('label="slot, recorded" style=dashed' in legend) == (name == "guide_legacy_adam")


def test_keras3_draws_like_the_legacy_guide_picture() -> None:
    legacy, keras3 = graph_of("guide_legacy_adam"), graph_of("guide_keras3")
    kinds = [sorted(s.node.kind for s in select_view(g).nodes.values()) for g in (legacy, keras3)]
    # Keras 3 lacks beta_1/beta_2/decay; its bookkeeping lists are hidden by default
    assert kinds[0].count("slot") == kinds[1].count("slot") == 4
    labels = drawn(keras3.to_dot()).values()
    assert not any(attr(t, "label") in ("_variables", "_momentums", "_trainable_variables") for t in labels)
    full = drawn(keras3.to_dot(optimizer_lists=True, hide_empty=False))
    assert len(full) == len(keras3)


def test_labels_tooltips_and_names_are_readable_and_escaped() -> None:
    graph = graph_of("guide_legacy_adam")
    nodes = drawn(graph.to_dot())
    kernel = nodes[graph.find("net/l1/kernel").id]
    assert attr(kernel, "label") == r"kernel\nfloat32[1,5]"
    assert attr(kernel, "id") == f"ckpt_n{graph.find('net/l1/kernel').id}"
    tooltip = attr(kernel, "tooltip") or ""
    assert (
        "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE  float32[1,5] 20 B" in tooltip
        and "full_name: net/dense/kernel" in tooltip
    )
    slot = nodes[graph.find("net/l1/kernel/.OPTIMIZER_SLOT/optimizer/m").id]
    assert attr(slot, "label") == r"m of net/l1/kernel\nfloat32[1,5]"
    assert "optimizer's state 'm' for net/l1/kernel (recorded slot link)" in (attr(slot, "tooltip") or "")
    assert attr(nodes[0], "label") == "(root)"
    edges = graph_of("object_graph_edge_cases/ckpt").to_dot()
    assert 'label="a.b/c"' in edges and 'label="root"' in edges  # raw local names, self-loop kept
    assert quote('a"b\\c\nd') == r'"a\"b\\c\nd"'


def test_self_loop_and_alias_edges_do_not_rank() -> None:
    dot = graph_of("tfkeras_new_adam/weights").to_dot()
    loops = [t for a, b, t in EDGE.findall(dot) if a == b == "n0"]
    assert len(loops) == 1 and "constraint=false" in loops[0]
    ranks = {attr(t, "label"): "constraint=false" not in t for a, b, t in EDGE.findall(dot) if a == "n0"}
    assert ranks["layer_with_weights-0"] and not ranks["layer-0"]


def test_select_draws_the_guides_partial_restore_picture() -> None:
    graph = graph_of("guide_legacy_adam")
    view = select_view(graph, DrawOptions(select=["net/l1/bias", "save_counter"]))
    assert {s.node.path for s in view.nodes.values()} == {"", "net", "net/l1", "net/l1/bias", "save_counter"}
    assert view.slot_edges == [] and len(view.edges) == 4


def test_focus_filter_depth_and_collapse() -> None:
    graph = graph_of("guide_legacy_adam")
    focus = select_view(graph, DrawOptions(focus="net/l1/kernel"))
    paths = {s.node.path for s in focus.nodes.values()}
    assert paths == {"", "net", "net/l1", "net/l1/kernel", "optimizer"} | {
        f"net/l1/kernel/.OPTIMIZER_SLOT/optimizer/{m}" for m in "mv"
    }
    filtered = select_view(graph, DrawOptions(filter=r"beta_\d$"))
    assert {s.node.path for s in filtered.nodes.values()} == {
        "",
        "optimizer",
        "optimizer/beta_1",
        "optimizer/beta_2",
    }
    shallow = select_view(graph, DrawOptions(max_depth=1))
    assert {s.node.path for s in shallow.nodes.values()} == {
        "",
        "iterator",
        "net",
        "optimizer",
        "step",
        "save_counter",
    }
    net = next(s for s in shallow.nodes.values() if s.node.path == "net")
    opt = next(s for s in shallow.nodes.values() if s.node.path == "optimizer")
    assert (net.collapsed, net.hidden_nodes, net.hidden_variables, net.hidden_bytes) == (True, 3, 2, 40)
    assert (opt.hidden_nodes, opt.hidden_variables, opt.hidden_slots) == (9, 5, 4)  # slots counted as slots
    assert "+9 hidden: 5 variables, 4 slots" in graph.to_dot(max_depth=1)
    folded = select_view(graph, DrawOptions(collapse=["net"]))
    assert len(folded.nodes) == len(graph) - 3 - 4 + 1  # the slots of the folded variables fold too
    assert folded.slot_edges == [] and "+3 hidden: 2 variables, 40 B" in graph.to_dot(collapse=["net"])
    assert "+4 hidden: 4 slots, 80 B" in graph.to_dot(collapse=["net"])
    opened = select_view(graph, DrawOptions(max_depth=1, expand=["net/l1"]))
    assert "net/l1/kernel" in {s.node.path for s in opened.nodes.values()}


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"collapse": ["net"]},
        {"max_depth": 2},
        {"focus": "net/l1"},
        {"select": ["net/l1/bias"]},
        {"max_nodes": 5},
    ],
    ids=repr,
)
def test_every_edge_ends_at_a_drawn_node(options: dict[str, object]) -> None:
    graphs = [graph_of("guide_legacy_adam"), graph_of("guide_keras3")]
    for graph in graphs + ([] if {"collapse", "focus", "select"} & set(options) else [resnet()]):
        dot = graph.to_dot(**options)
        nodes = {f"n{i}" for i in drawn(dot)} | {m[0] for m in NODE.findall(dot)}
        assert all(a in nodes and b in nodes for a, b, _ in EDGE.findall(dot))


def test_hide_empty_and_slots_options() -> None:
    graph = graph_of("guide_keras3")
    empty = graph.find("optimizer/_trainable_variables_indices")
    assert not empty.has_checkpoint_values
    assert empty.id not in select_view(graph, DrawOptions(optimizer_lists=True)).nodes
    assert empty.id in select_view(graph, DrawOptions(optimizer_lists=True, hide_empty=False)).nodes
    no_slots = select_view(graph, DrawOptions(slots=False))
    assert all(s.node.kind != "slot" for s in no_slots.nodes.values()) and no_slots.slot_edges == []


def test_big_graph_collapses_to_a_readable_size_and_accounts_for_everything() -> None:
    graph = resnet()
    view = select_view(graph)
    assert 40 <= len(view.nodes) <= 120
    drawn_vars = sum(s.node.kind in ("variable", "slot") for s in view.nodes.values())
    hidden_vars = sum(s.hidden_variables + s.hidden_slots for s in view.nodes.values())
    assert drawn_vars + hidden_vars == sum(n.kind in ("variable", "slot") for n in graph)
    assert sum(s.node.nbytes + s.hidden_bytes for s in view.nodes.values()) == sum(n.nbytes for n in graph)
    dot = graph.to_dot()
    assert "of 943 nodes drawn" in dot and "shape=box3d" in dot
    assert 'label="conv1_bn' in graph.to_dot(focus="model/_operations/3")  # list items named by layer
    every = select_view(graph, DrawOptions(max_nodes=None)).nodes
    assert len([i for i in every if 0 <= i < len(graph)]) == len(graph) - 78 - 4  # empty, 4 optimizer lists


def test_unknown_focus_is_a_clear_error() -> None:
    with pytest.raises(ckptviz.KeyNotFoundError, match="object path, key or name 'nett' not found"):
        to_dot(graph_of("guide_legacy_adam"), focus="nett")


@pytest.mark.parametrize("max_nodes", [12, 40, 300])
def test_partly_shown_lists_fold_the_rest_into_a_stand_in(max_nodes: int) -> None:
    graph = resnet()
    view = select_view(graph, DrawOptions(max_nodes=max_nodes))
    assert len(view.nodes) <= max_nodes
    stand_ins = [s for i, s in view.nodes.items() if i < 0]
    if max_nodes == 40:
        assert stand_ins and all(s.collapsed and s.hidden_nodes > 0 for s in stand_ins)
        dot = graph.to_dot(max_nodes=max_nodes)
        assert 'id="ckpt_more' in dot and "more objects under " in dot
    drawn_vars = sum(s.node.kind in ("variable", "slot") for s in view.nodes.values())
    assert drawn_vars + sum(s.hidden_variables + s.hidden_slots for s in view.nodes.values()) == 750
    assert sum(s.node.nbytes + s.hidden_bytes for s in view.nodes.values()) == sum(n.nbytes for n in graph)
