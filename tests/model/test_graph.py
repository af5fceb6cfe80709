"""ObjectGraph against TensorFlow's truth (graph.json: CheckpointView + live objects) and edge cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ckptviz
from ckptviz.format.naming import OBJECT_GRAPH_KEY
from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
from ckptviz.model.graph import ObjectGraph
from ckptviz.model.paths import escape_local_name as escape
from ckptviz.model.paths import unescape_local_name as unescape
from ckptviz.model.records import Edge, Slot
from tests.conftest import DATA, corpus

GRAPH_FIXTURES = sorted({(e["graph"], e["path"]) for e in corpus() if "graph" in e and "." not in e["name"]})


def resnet() -> ObjectGraph:
    meta = json.loads((DATA / "resnet50_adam/variables.json").read_text())
    return ObjectGraph.from_proto(
        (DATA / "resnet50_adam/object_graph.pb").read_bytes(), meta, "resnet50_adam"
    )


def truth_cases() -> list[Any]:
    cases = [
        pytest.param(g, lambda p=p: ckptviz.open(str(DATA / p)).graph, id=g.rsplit("/", 1)[0])
        for g, p in GRAPH_FIXTURES
    ]
    return [*cases, pytest.param("resnet50_adam/graph.json", resnet, id="resnet50_adam")]


@pytest.mark.parametrize(("truth_file", "build"), truth_cases())
def test_graph_matches_tensorflow(truth_file: str, build: Any) -> None:
    truth = json.loads((DATA / truth_file).read_text())
    graph = build()
    assert graph.object_based
    assert graph.descendants() == truth["descendants"]
    for node_id, children in truth["children"].items():
        assert graph.children(int(node_id)) == children
    assert {i: graph[int(i)].kind for i in truth["nodes"]} == {
        i: n["kind"] for i, n in truth["nodes"].items()
    }
    assert sorted(map(list, graph.slots)) == sorted(truth["slots"])


def test_every_object_based_fixture_is_checked() -> None:
    object_based = {e["path"].split("/")[0] for e in corpus() if "error" not in e and "graph" in e}
    assert object_based == {g.split("/")[0] for g, _ in GRAPH_FIXTURES}
    assert {
        "guide_legacy_adam",
        "guide_keras3",
        "tfkeras_new_adam",
        "object_graph_edge_cases",
    } <= object_based


def test_guide_paths_attributes_and_values() -> None:
    graph = ckptviz.open(str(DATA / "guide_legacy_adam")).graph
    kernel = graph.find("net/l1/kernel")
    assert (kernel.kind, kernel.name, kernel.dtype, kernel.shape, kernel.nbytes) == (
        "variable",
        "kernel",
        "float32",
        (1, 5),
        20,
    )
    assert kernel.attributes[0].keys == ("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE",)
    assert graph.find("") is graph[0] and graph[0].path == ""
    m = graph.find("net/l1/kernel/.OPTIMIZER_SLOT/optimizer/m")  # slots keyed as TF keys them
    assert m.kind == "slot" and not m.reachable
    assert graph.slots_of(m.id) == [Slot(graph.find("optimizer").id, kernel.id, "m", m.id, False)]
    # checkpoint_key ITERATOR names the entry ITERATOR_STATE (legacy saveable suffix)
    iterator = graph.find("iterator")
    assert iterator.attributes[0].checkpoint_key == "iterator/.ATTRIBUTES/ITERATOR"
    assert iterator.attributes[0].keys == ("iterator/.ATTRIBUTES/ITERATOR_STATE",)
    assert iterator.dtype == "variant" and iterator.kind == "other"
    assert graph.counts() == {"optimizer": 1, "variable": 9, "slot": 4, "other": 4}
    assert repr(graph) == "<ckptviz.ObjectGraph object graph: 18 nodes, 1 optimizer, 9 variables, 4 slots>"


def test_keras3_slots_are_inferred_from_the_optimizer_lists() -> None:
    graph = ckptviz.open(str(DATA / "guide_keras3")).graph
    opt, kernel = graph.find("optimizer"), graph.find("net/l1/_kernel")
    slots = {s.slot_name: s for s in graph.slots_of(kernel.id)}
    assert set(slots) == {"momentum", "velocity"} and all(
        s.inferred and s.optimizer_id == opt.id for s in slots.values()
    )
    assert graph[slots["momentum"].slot_id].path == "optimizer/_variables/2"
    # iterations and learning rate are optimizer state, not slots
    assert (
        graph.find("optimizer/_iterations").kind == graph.find("optimizer/_learning_rate").kind == "variable"
    )


def test_self_loop_shared_nodes_and_escaping() -> None:
    graph = ckptviz.open(str(DATA / "object_graph_edge_cases/ckpt")).graph
    root_edges = graph.out_edges(0)
    assert root_edges[0] == Edge(0, "me", 0) and root_edges[-1] == Edge(0, "root", 0)
    first = graph.find("first")
    assert [e for e in graph.edges if e.child == first.id] == [
        Edge(0, "first", first.id),
        Edge(0, "second", first.id),
        Edge(2, "0", first.id),
        Edge(3, "plain", first.id),
    ]
    weird = graph.find("mapping/a..b.Sc")
    assert weird.name == "a.b/c" and graph.children(graph.find("mapping").id)["a.b/c"] == weird.id
    pair = graph.find("pair")  # double-escaped _serialize_to_tensors name still maps exactly
    assert [a.keys for a in pair.attributes] == [
        ("pair/.ATTRIBUTES/x..Sy....z",),
        ("pair/.ATTRIBUTES/plain",),
    ]
    table = graph.find("table")  # one attribute, two entries by prefix
    assert table.attributes[0].keys == ("table/.ATTRIBUTES/table-keys", "table/.ATTRIBUTES/table-values")
    assert len(table.values) == 2 and table.dtype is None


def test_escape_round_trip() -> None:
    for name in ["a.b/c", "..", "/", ".S", "plain", "x/y.z"]:
        assert unescape(escape(name)) == name
    assert escape("a.b/c") == "a..b.Sc"


def test_find_unknown_path_suggests() -> None:
    graph = ckptviz.open(str(DATA / "guide_legacy_adam")).graph
    with pytest.raises(ckptviz.KeyNotFoundError, match=r"object path 'net/l1/kernal' .* 'net/l1/kernel'"):
        graph.find("net/l1/kernal")


def test_graph_reads_only_the_object_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = ckptviz.open(str(DATA / "guide_legacy_adam"))
    read = ckpt.reader.read
    monkeypatch.setattr(
        ckpt.reader, "read", lambda key: read(key) if key == OBJECT_GRAPH_KEY else pytest.fail(key)
    )
    assert len(ckpt.graph) == 18


def test_tf1_scope_tree() -> None:
    graph = ckptviz.open(str(DATA / "tf1_saver/model.ckpt-2")).graph
    assert not graph.object_based
    adam = graph.find("Adam")
    assert adam.kind == "optimizer" and adam.attributes == ()
    assert graph.children(0) == {
        "Adam": adam.id,
        "a": graph.find("a").id,
        "b": graph.find("b").id,
        "dense": graph.find("dense").id,
        "dense_1": graph.find("dense_1").id,
        "global_step": graph.find("global_step").id,
        "scoped": graph.find("scoped").id,
    }
    # beta1_power & co. hang off the optimizer as state, as iterations do in TF2; global_step is
    # the training loop's, not Adam's, so it stays at the root
    assert set(graph.children(adam.id)) == {"beta1_power", "beta2_power"}
    assert graph.find("beta1_power").kind == "variable"
    kernel = graph.find("dense/kernel")
    assert graph.children(graph.find("dense").id) == {
        "bias": graph.find("dense/bias").id,
        "kernel": kernel.id,
    }
    assert graph.children(kernel.id) == {}  # slots are not children
    links = {(graph[s.slot_id].path, s.slot_name) for s in graph.slots_of(kernel.id)}
    assert links == {("dense/kernel/Adam", "m"), ("dense/kernel/Adam_1", "v")}
    assert all(s.inferred and s.optimizer_id == adam.id for s in graph.slots)
    assert graph.counts() == {"optimizer": 1, "variable": 10, "slot": 8, "other": 4}
    assert graph.descendants() == list(range(15))  # slots only via the optimizer, like TF2


def test_scope_tree_without_optimizer_and_object_style_keys() -> None:
    meta = {
        "w": ("float32", [3]),
        "emb/Momentum": ("float32", [2]),  # parent 'emb' is not a variable: not a slot
        "m/.ATTRIBUTES/VARIABLE_VALUE": ("float32", [2]),
        "m/.OPTIMIZER_SLOT/opt/a..b/.ATTRIBUTES/VARIABLE_VALUE": ("float32", [2]),
        "opt/iter/.ATTRIBUTES/VARIABLE_VALUE": ("int64", []),
    }
    graph = ObjectGraph.from_keys(meta)
    assert graph.find("emb/Momentum").kind == "variable"
    assert graph.find("opt").kind == "optimizer"
    slot = graph.find("m/.OPTIMIZER_SLOT/opt/a..b")
    assert graph.slots == [Slot(graph.find("opt").id, graph.find("m").id, "a.b", slot.id, True)]
    assert graph.find("opt/iter").values[0].shape == ()


def _proto(children: dict[int, list[tuple[str, int]]], count: int) -> TrackableObjectGraph:
    proto = TrackableObjectGraph()
    for i in range(count):
        node = proto.nodes.add()
        for name, child in children.get(i, []):
            node.children.add(node_id=child, local_name=name)
    return proto


def test_from_proto_synthetic_orphan_and_bad_ids() -> None:
    proto = _proto({0: [("a", 1)]}, 3)
    proto.nodes[2].attributes.add(name="VARIABLE_VALUE", checkpoint_key="lost/.ATTRIBUTES/VARIABLE_VALUE")
    graph = ObjectGraph.from_proto(
        proto.SerializeToString(), {"lost/.ATTRIBUTES/VARIABLE_VALUE": ("int32", [4])}
    )
    assert graph[2].path == "lost" and not graph[2].reachable and graph[2].nbytes == 16
    assert graph.descendants() == [0, 1]
    with pytest.raises(ckptviz.CorruptCheckpointError, match="child id 7 out of range"):
        ObjectGraph.from_proto(_proto({0: [("x", 7)]}, 2), {})


def test_missing_attribute_entry_is_kept_without_keys() -> None:
    proto = _proto({0: [("v", 1)]}, 2)
    proto.nodes[1].attributes.add(name="VARIABLE_VALUE", checkpoint_key="v/.ATTRIBUTES/VARIABLE_VALUE")
    graph = ObjectGraph.from_proto(proto, {})
    assert graph[1].kind == "variable" and graph[1].attributes[0].keys == () and graph[1].nbytes == 0
    assert graph.unmatched_attributes() == [(1, "v/.ATTRIBUTES/VARIABLE_VALUE")]


def test_corrupt_object_graph_raises(tmp_path: Path) -> None:
    bad = DATA / "corrupt/bad_object_graph"
    prefix = next(bad.glob("*.index")).with_suffix("")
    with pytest.raises(ckptviz.CorruptCheckpointError):
        ckptviz.open(str(prefix)).graph  # noqa: B018


def _keras_like(names: list[tuple[str, str]], slot_lists: dict[str, list[str]]) -> ObjectGraph:
    """An optimizer recording no slots (tf_keras new form): variables by full_name, per-slot lists."""
    from ckptviz.transform.graph_proto import new_graph

    g = new_graph()
    root = g.nodes.add()
    entries: dict[str, tuple[str, list[int]]] = {}

    def var(path: str, full_name: str) -> int:
        i = len(g.nodes)
        key = f"{path}/.ATTRIBUTES/VARIABLE_VALUE"
        g.nodes.add().attributes.add(name="VARIABLE_VALUE", full_name=full_name, checkpoint_key=key)
        entries[key] = ("float32", [2])
        return i

    for path, full in names:
        root.children.add(node_id=var(path, full), local_name=path)
    opt = len(g.nodes)
    g.nodes.add()
    root.children.add(node_id=opt, local_name="optimizer")
    g.nodes[opt].children.add(node_id=var("optimizer/iter", "iter"), local_name="iter")
    g.nodes[opt].children.add(node_id=var("optimizer/learning_rate", "lr"), local_name="learning_rate")
    for list_name, fulls in slot_lists.items():
        lst = len(g.nodes)
        g.nodes.add()
        g.nodes[opt].children.add(node_id=lst, local_name=list_name)
        for n, full in enumerate(fulls):
            g.nodes[lst].children.add(node_id=var(f"optimizer/{list_name}/{n}", full), local_name=str(n))
    return ObjectGraph.from_proto(g.SerializeToString(), entries)


def test_slot_inference_skips_ambiguous_variables() -> None:
    # a GAN: two variables named `kernel` with the same shape; a slot named after `kernel` is ambiguous
    g = _keras_like(
        [("g", "kernel"), ("d", "kernel"), ("b", "bias")], {"_m": ["Adam/m/kernel", "Adam/m/bias"]}
    )
    assert {(g.nodes[s.variable_id].path, s.slot_name) for s in g.slots} == {("b", "m")}


def test_slot_inference_links_one_slot_of_a_name_per_variable() -> None:
    g = _keras_like([("b", "bias")], {"_m": ["Adam/m/bias", "Adam/m/bias"]})
    assert len(g.slots) == 1


ALL_FIXTURES = sorted({e["path"] for e in corpus() if "error" not in e and "." not in e["name"]})


@pytest.mark.parametrize("path", ALL_FIXTURES)
def test_node_columns_are_the_nodes_own(path: str) -> None:
    """``checkpointed``, ``node_bytes`` and every path at once (what pictures fold by and searches
    look in) equal the ``Node`` objects'."""
    with ckptviz.open(str(DATA / path)) as ckpt:
        graph = ckpt.graph
        checkpointed, sizes, paths = graph.checkpointed.tolist(), graph.node_bytes.tolist(), graph.paths.all()
        assert checkpointed == [n.has_checkpoint_values for n in graph.nodes]
        assert sizes == [n.nbytes for n in graph.nodes]
        assert paths == [n.path for n in graph.nodes]
        unmatched = [(n.id, a.checkpoint_key) for n in graph.nodes for a in n.attributes if not a.keys]
        assert graph.unmatched_attributes() == unmatched


def test_node_columns_where_the_graph_does_not_record_checkpoint_values() -> None:
    g = TrackableObjectGraph()
    root, layer, var = g.nodes.add(), g.nodes.add(), g.nodes.add()
    root.children.add(node_id=1, local_name="layer")
    root.children.add(node_id=3, local_name="empty")
    layer.children.add(node_id=2, local_name="w")
    var.attributes.add(
        name="VARIABLE_VALUE", full_name="w", checkpoint_key="layer/w/.ATTRIBUTES/VARIABLE_VALUE"
    )
    g.nodes.add().children.add(node_id=4, local_name="")
    g.nodes.add().children.add(node_id=5, local_name="x")
    g.nodes.add()
    root.children.add(node_id=6, local_name="")  # an empty name at the top: its child's path is "/y"
    g.nodes.add().children.add(node_id=7, local_name="y")
    g.nodes.add()
    graph = ObjectGraph.from_proto(
        g.SerializeToString(), {"layer/w/.ATTRIBUTES/VARIABLE_VALUE": ("float32", (3,))}
    )
    assert graph.checkpointed.tolist() == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]  # holders, ancestors
    assert graph.checkpointed.tolist() == [n.has_checkpoint_values for n in graph.nodes]
    assert graph.node_bytes.tolist() == [0, 0, 12, 0, 0, 0, 0, 0]
    assert graph.paths.all() == ["", "layer", "layer/w", "empty", "empty/", "empty//x", "", "/y"]
    assert graph.paths.all() == [n.path for n in graph.nodes]
