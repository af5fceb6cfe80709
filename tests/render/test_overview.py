"""Big checkpoints draw as an overview that fits a screen: siblings fold alike, children sort
naturally, a summary says what is folded, filters and names find what people mean, and a layout
of thousands of nodes warns before Graphviz runs."""

from __future__ import annotations

import colorsys
import json
import re
import warnings
from collections.abc import Callable

import pytest

import ckptviz
from ckptviz.model.graph import ObjectGraph
from ckptviz.render import DrawOptions, LargeGraphWarning, find_engine, select_view
from ckptviz.render import layout as layout_module
from ckptviz.render.dot import COLORS, DIFF_FILLS, FILLS, STATUS_FILLS, diff_fill
from tests.render.synthetic import bert_base_keys, many_keys
from tests.render.test_dot import graph_of, resnet

PX_PER_POINT = 96 / 72
_CACHE: dict[str, ObjectGraph] = {}


def big(name: str) -> ObjectGraph:
    makers: dict[str, Callable[[], ObjectGraph]] = {
        "resnet50_adam": resnet,
        "bert_base": lambda: ObjectGraph.from_keys(bert_base_keys(), "x/bert_base"),
        "keys_50000": lambda: ObjectGraph.from_keys(many_keys(50_000), "x/keys_50000"),
    }
    if name not in _CACHE:
        _CACHE[name] = makers[name]()
    return _CACHE[name]


def svg_size_px(svg: str) -> tuple[float, float]:
    m = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert m, svg[:300]
    return float(m[1]) * PX_PER_POINT, float(m[2]) * PX_PER_POINT


def test_synthetic_key_sets_look_like_the_real_ones() -> None:
    bert = bert_base_keys()
    assert "bert/encoder/layer_11/attention/self/query/kernel" in bert
    assert bert["bert/encoder/layer_3/intermediate/dense/kernel/adam_m"] == ("float32", (768, 3072))
    assert 550 < len(bert) < 650  # ~200 variables, each with adam_m and adam_v
    assert len(many_keys(50_000)) == 50_000


@pytest.mark.parametrize("name", ["resnet50_adam", "bert_base", "keys_50000"])
def test_the_default_picture_is_an_overview_of_40_to_120_nodes(name: str) -> None:
    graph = big(name)
    plan = select_view(graph)
    assert 40 <= len(plan.nodes) <= 120, len(plan.nodes)
    assert plan.summary is not None and plan.summary["hidden_nodes"] > 0
    # folding loses nothing: drawn + hidden = every kept variable, slot and byte
    drawn = [s for s in plan.nodes.values() if 0 <= s.node.id < len(graph)]
    variables = sum(s.node.kind == "variable" for s in drawn) + sum(
        s.hidden_variables for s in plan.nodes.values()
    )
    slots = sum(s.node.kind == "slot" for s in drawn) + sum(s.hidden_slots for s in plan.nodes.values())
    assert (variables, slots) == (
        sum(n.kind == "variable" and n.has_checkpoint_values for n in graph),
        sum(n.kind == "slot" and n.has_checkpoint_values for n in graph),
    )


@pytest.mark.parametrize("engine", ["dot", "graphviz-pure"])
@pytest.mark.parametrize("name", ["resnet50_adam", "bert_base", "keys_50000"])
def test_the_default_picture_is_under_4000_px_on_its_longer_side(name: str, engine: str) -> None:
    found = find_engine(engine)
    if found is None:
        pytest.skip(f"{engine} is not installed")
    width, height = svg_size_px(found.run(big(name).to_dot(), "svg").decode())
    assert max(width, height) < 4000, (width, height)


def test_siblings_fold_alike() -> None:
    graph = big("bert_base")
    plan = select_view(graph)
    for part in ("attention", "intermediate", "output"):
        states = set()
        for n in range(12):
            node = graph.find(f"bert/encoder/layer_{n}/{part}")
            states.add(
                (node.id in plan.nodes, plan.nodes[node.id].collapsed if node.id in plan.nodes else None)
            )
        assert len(states) == 1, (part, states)  # never layer_0 open beside a folded layer_5
    towers = big("keys_50000")
    plan = select_view(towers)
    shown = {i: s for i, s in plan.nodes.items() if re.fullmatch(r"model/tower_\d+/block_\d+", s.node.path)}
    assert shown and all(s.collapsed for s in shown.values())
    per_tower: dict[str, int] = {}
    for s in shown.values():
        tower = s.node.path.split("/")[1]
        per_tower[tower] = per_tower.get(tower, 0) + 1
    assert len(set(per_tower.values())) == 1  # each tower shows as many blocks


def test_children_sort_naturally_and_the_plan_keeps_that_order() -> None:
    graph = big("bert_base")
    data = select_view(graph).to_dict()
    layers = [n["path"] for n in data["nodes"] if re.fullmatch(r"bert/encoder/layer_\d+", n["path"])]
    assert layers == [f"bert/encoder/layer_{n}" for n in range(12)]
    assert [n["order"] for n in data["nodes"]] == list(range(len(data["nodes"])))
    dot = graph.to_dot()
    assert dot.index(f'id="ckpt_n{graph.find("bert/encoder/layer_2").id}"') < dot.index(
        f'id="ckpt_n{graph.find("bert/encoder/layer_10").id}"'
    )


def test_a_summary_node_says_what_is_folded() -> None:
    plan = select_view(big("bert_base"))
    assert plan.summary is not None
    text = plan.summary["text"]
    assert text.startswith(f"folded: {plan.summary['hidden_nodes']} of {plan.total} objects into ")
    assert "12 × bert/encoder/layer_N/" in text and "max_depth" in text and "focus" in text
    data = json.loads(json.dumps(plan.to_dict()))  # plain data for the browser faces
    layers = [g for g in data["summary"]["groups"] if g["pattern"].startswith("bert/encoder/layer_N/")]
    assert layers and all(g["boxes"] == 12 for g in layers) and data["summary"]["text"] == text
    assert data["summary"]["groups"][0]["hidden_slots"] == 388  # adam_m/adam_v: slots of the optimizer
    assert {"order", "hidden_slots", "collapsed", "label"} <= set(data["nodes"][0])
    dot = big("bert_base").to_dot()
    assert 'id="ckpt_summary"' in dot and "shape=note" in dot
    assert 'id="ckpt_summary"' in big("bert_base").to_dot(legend=False)
    guide = graph_of("guide_legacy_adam")
    assert select_view(guide).summary is None and "ckpt_summary" not in guide.to_dot()


def test_slots_draw_beside_their_variables_and_fold_with_them() -> None:
    graph = big("resnet50_adam")
    plan = select_view(graph, DrawOptions(focus="model/_operations/2"))
    labels = set(plan.labels.values())
    assert "momentum of conv1_conv/kernel\nfloat32[7,7,3,64]" in labels
    assert "velocity of conv1_conv/bias\nfloat32[64]" in labels
    assert all(s.inferred for s in plan.slot_edges) and len(plan.slot_edges) == 4
    assert {e["inferred"] for e in plan.to_dict()["slot_edges"]} == {True}
    overview = select_view(graph)  # slots of the layers shown are drawn; the optimizer folds the rest
    opt = next(s for s in overview.nodes.values() if s.node.path == "optimizer/…")
    drawn = sum(s.node.kind == "slot" for s in overview.nodes.values())
    assert (opt.hidden_slots + drawn, opt.hidden_variables) == (428, 0) and drawn
    assert f"+{opt.hidden_slots} hidden: {opt.hidden_slots} slots" in overview.labels[opt.node.id]


def test_list_items_are_named_by_their_layer_or_variable() -> None:
    graph = big("resnet50_adam")
    dot = graph.to_dot(focus="model/_operations/3")
    group = len(graph)  # conv1_*: the first group of named layers
    assert 'label="conv1_bn' in dot and f'n{group} -> n21 [label="3"]' in dot  # the edge keeps the list index
    assert f'n10 -> n{group} [label="conv1_*"]' in dot
    # a weight the optimizer also lists is drawn where it belongs: in its layer, under Keras' name
    full = graph.to_dot(optimizer_lists=True, focus="optimizer/_trainable_variables/0")
    assert 'label="kernel\\nfloat32[7,7,3,64]"' in full and 'label="conv1_conv"' in full


def test_filter_matches_paths_labels_and_full_names() -> None:
    graph = big("resnet50_adam")
    by_full_name = select_view(graph, DrawOptions(filter=r"^conv1_conv/kernel$", max_nodes=None))
    kernel = graph.resolve("conv1_conv/kernel")
    assert kernel.id in by_full_name.nodes and "conv1_conv" not in kernel.path
    by_label = select_view(graph, DrawOptions(filter=r"^velocity of conv1_conv/bias$", max_nodes=None))
    assert [s.node.kind for s in by_label.nodes.values()].count("slot") == 1
    by_list_label = select_view(graph, DrawOptions(filter=r"^conv1_bn$", max_nodes=None))
    assert graph.find("model/_operations/3").id in by_list_label.nodes


def test_a_filter_that_matches_nothing_says_so() -> None:
    with pytest.raises(ckptviz.NothingMatchedError) as info:
        big("resnet50_adam").to_dot(filter="no_such_layer")
    assert str(info.value) == (
        "filter 'no_such_layer' matched nothing: it was searched in the object paths, labels and full names "
        "of 861 objects"
    )
    assert isinstance(info.value, LookupError)
    with pytest.raises(ckptviz.InvalidArgumentError, match=r"filter 'conv\[' is not a regular expression"):
        big("resnet50_adam").to_dot(filter="conv[")


@pytest.mark.parametrize("option", ["focus", "select", "expand", "collapse"])
def test_options_take_every_name_people_know(option: str) -> None:
    graph = big("resnet50_adam")
    kernel = graph.find("model/_operations/2/_kernel")
    names = [
        "model/_operations/2/_kernel",
        "optimizer/_trainable_variables/0",
        "conv1_conv/kernel",
        "optimizer/_trainable_variables/0/.ATTRIBUTES/VARIABLE_VALUE",
    ]
    plans = []
    for name in names:
        assert graph.resolve(name).id == kernel.id
        value = name if option == "focus" else [name]
        plans.append(select_view(graph, DrawOptions(**{option: value})).to_dict())  # type: ignore[arg-type]
    assert all(p == plans[0] for p in plans)
    drawn = {n["id"]: n for n in plans[0]["nodes"]}
    if option in ("focus", "select", "expand"):
        assert kernel.id in drawn
    with pytest.raises(
        ckptviz.KeyNotFoundError, match=r"'conv1_conv/kernal' not found.*did you mean 'conv1_conv/kernel'"
    ):
        select_view(
            graph,
            DrawOptions(**{option: "conv1_conv/kernal" if option == "focus" else ["conv1_conv/kernal"]}),
        )  # type: ignore[arg-type]


def test_a_huge_layout_warns_before_graphviz_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    calls: list[str] = []

    def run(self: object, dot: str, fmt: str, timeout: float = 300) -> bytes:
        calls.append(fmt)
        assert caught, "the warning comes before the layout"
        return b"<svg/>"

    monkeypatch.setattr(layout_module.Engine, "run", run)
    monkeypatch.setattr(
        layout_module, "require_engine", lambda engine, target: layout_module.Engine("dot", "dot")
    )
    graph = big("keys_50000")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layout_module.render(graph, "svg", max_nodes=None, max_depth=4)
    assert calls == ["svg"] and len(caught) == 1 and caught[0].category is LargeGraphWarning
    message = str(caught[0].message)
    assert re.match(r"the picture has \d+ nodes: its layout may take minutes", message)
    assert "--depth" in message and "--focus" in message and "max_depth" in message and "focus" in message
    assert issubclass(LargeGraphWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layout_module.render(graph, "svg")  # the default overview does not warn
        assert layout_module.render(graph, "dot", max_nodes=None, max_depth=4).startswith(
            b"digraph"
        )  # nor DOT


def _hue(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def test_status_colours_are_not_kind_colours() -> None:
    assert not set(STATUS_FILLS.values()) & (set(FILLS.values()) | set(COLORS.values()))
    hue = _hue(STATUS_FILLS["mismatched"])
    assert 30 < hue < 330  # not the optimizers' red
    assert abs(hue - _hue(FILLS["slot"])) > 30 and abs(hue - _hue(FILLS["variable"])) > 30  # nor orange, blue
    assert (
        abs(hue - _hue(diff_fill("changed"))) > 30 and STATUS_FILLS["mismatched"] not in DIFF_FILLS.values()
    )


def test_focus_counts_max_depth_from_the_focus_and_budgets_its_kids() -> None:
    bert = big("bert_base")
    plan = select_view(bert, DrawOptions(focus="bert/encoder/layer_3", max_depth=2))
    depth = {
        s.node.path.count("/") for s in plan.nodes.values() if s.node.path.startswith("bert/encoder/layer_3/")
    }
    assert depth == {3, 4}  # layer_3/attention, layer_3/attention/self: two levels below the focus
    assert all(s.collapsed for s in plan.nodes.values() if s.node.path.count("/") == 4)
    ops = select_view(big("resnet50_adam"), DrawOptions(focus="model/_operations"))
    assert 40 <= len(ops.nodes) <= 120  # a 177-item list in focus still shows as an overview


def test_planning_makes_node_objects_only_for_what_it_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    original = ObjectGraph._make_node

    def counted(self: ObjectGraph, i: int) -> object:
        made.append(i)
        return original(self, i)

    monkeypatch.setattr(ObjectGraph, "_make_node", counted)
    graph = resnet()  # decoded from its object graph: Node objects are made on first access
    plan = select_view(graph)
    assert plan.total > 800 and len(plan.nodes) < 130
    assert len(set(made)) <= len(plan.nodes) + 10, len(set(made))  # the drawn, and the optimizers it looks up
