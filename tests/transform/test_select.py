"""``select`` writes the pruned object graph from the graph's columns; it must give the bytes and
keys that copying the kept nodes' messages one by one gives (``reference``), on the fixtures and
on generated graphs with aliases, cycles, recorded slots, savers and keys owned by prefix."""

from __future__ import annotations

import warnings
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import ckptviz
from ckptviz.errors import CheckpointError, CheckpointWarning
from ckptviz.format.naming import OBJECT_GRAPH_KEY
from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
from ckptviz.model import ownership
from ckptviz.model.graph import ObjectGraph, holds_values
from ckptviz.model.paths import NodePaths, checkpointed_nodes
from ckptviz.transform.select import _renumber
from tests.conftest import DATA, corpus


def reference(graph: ObjectGraph, kept: set[int], keep: set[str]) -> tuple[Any, dict[str, str]]:
    """The pruned graph, each kept node's message copied field by field."""
    proto = graph.proto
    order, seen = [0], {0}
    queue = deque([0])
    while queue:
        for ref in proto.nodes[queue.popleft()].children:
            if ref.node_id in kept and ref.node_id not in seen:
                seen.add(ref.node_id)
                order.append(ref.node_id)
                queue.append(ref.node_id)
    order += sorted(kept - seen)
    new_id = {old: new for new, old in enumerate(order)}
    out = TrackableObjectGraph()
    for old in order:
        src, node = proto.nodes[old], out.nodes.add()
        for ref in src.children:
            if ref.node_id in new_id:
                node.children.add(node_id=new_id[ref.node_id], local_name=ref.local_name)
        for sv in src.slot_variables:
            if sv.slot_variable_node_id in new_id and sv.original_variable_node_id in new_id:
                node.slot_variables.add(
                    original_variable_node_id=new_id[sv.original_variable_node_id],
                    slot_name=sv.slot_name,
                    slot_variable_node_id=new_id[sv.slot_variable_node_id],
                )
        if src.HasField("registered_saver"):
            node.registered_saver.CopyFrom(src.registered_saver)
    new_paths = NodePaths(
        len(out.nodes), [[(r.local_name, r.node_id) for r in n.children] for n in out.nodes]
    )
    for i, node in enumerate(out.nodes):
        for sv in node.slot_variables:
            if not new_paths.reachable[sv.slot_variable_node_id]:
                new_paths.special.setdefault(
                    sv.slot_variable_node_id, (sv.original_variable_node_id, i, sv.slot_name)
                )
    renamed: dict[str, str] = {}
    for old in order:
        old_path, new_path = graph.nodes[old].path, new_paths.path(new_id[old])
        for attr, info in zip(proto.nodes[old].attributes, graph.nodes[old].attributes):
            mine = [k for k in info.keys if k in keep]
            if not mine:
                continue
            copy = out.nodes[new_id[old]].attributes.add()
            copy.CopyFrom(attr)
            if old_path != new_path and attr.checkpoint_key.startswith(old_path + "/"):
                copy.checkpoint_key = new_path + attr.checkpoint_key[len(old_path) :]
            for k in mine:
                tail = k[len(attr.checkpoint_key) :] if k.startswith(attr.checkpoint_key) else None
                renamed[k if tail is None else copy.checkpoint_key + tail] = k
    for k in sorted(keep - set(renamed.values())):
        renamed[k] = k
    if any(n.HasField("has_checkpoint_values") for n in proto.nodes):
        edges = ((i, r.node_id) for i, n in enumerate(out.nodes) for r in n.children)
        marked = checkpointed_nodes(
            len(out.nodes), edges, (i for i, n in enumerate(out.nodes) if holds_values(n))
        )
        for i, node in enumerate(out.nodes):
            node.has_checkpoint_values.value = i in marked
    return out, renamed


def assert_same(graph: ObjectGraph, kept: set[int], keep: set[str]) -> None:
    ours, renamed = _renumber(graph, kept, keep)
    theirs, expected = reference(graph, kept, keep)
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    assert list(renamed.items()) == list(expected.items())


def _object_based() -> list[str]:
    out = []
    for case in corpus():
        if "error" in case:
            continue
        with ckptviz.open(str(DATA / case["path"])) as ckpt:
            if ckpt.is_object_based and ckpt.format == "bundle":
                out.append(str(DATA / case["path"]))
    return sorted(set(out))


@pytest.mark.parametrize("path", _object_based(), ids=lambda p: Path(p).relative_to(DATA).as_posix())
def test_pruned_graphs_of_the_fixtures_are_the_copied_messages(path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckpointWarning)
        ckpt = ckptviz.open(path)
        graph, keys = ckpt.graph, [k for k in ckpt if k != OBJECT_GRAPH_KEY]
    assert_same(graph, set(range(len(graph))), set(keys))  # everything
    for child in sorted(set(graph.children(0).values())):  # each top-level object, and all but it
        assert_same(graph, ownership.kept_nodes(graph, {child}, set()), set(keys))
        kept = ownership.kept_nodes(graph, None, {child})
        assert_same(graph, kept, {k for k in keys if graph.owner.get(k, (0,))[0] in kept})  # unowned: 0


@st.composite
def cases(draw: st.DrawFn) -> tuple[bytes, dict[str, Any], list[int], list[str]]:
    count = draw(st.integers(1, 12))
    g = TrackableObjectGraph()
    nodes = [g.nodes.add() for _ in range(count)]
    names = st.sampled_from(["a", "b", "0", "1", "x.y", "p/q", "optimizer", ""])
    for i in range(1, count):
        nodes[draw(st.integers(0, i - 1))].children.add(node_id=i, local_name=draw(names))
    for _ in range(draw(st.integers(0, 4))):
        nodes[draw(st.integers(0, count - 1))].children.add(
            node_id=draw(st.integers(0, count - 1)), local_name=draw(names)
        )
    entries: dict[str, Any] = {}
    for i in range(count):
        for name in draw(st.lists(st.sampled_from(["VARIABLE_VALUE", "x.y", "STATE"]), max_size=2)):
            key = draw(st.sampled_from([f"n{i}/.ATTRIBUTES/{name}", f"n{i}/p", f"n{i}"]))
            nodes[i].attributes.add(name=name, full_name=f"f{i}", checkpoint_key=key)
            entries.setdefault(key if key != f"n{i}/p" else key + "/-keys", ("float32", (1,)))
    for _ in range(draw(st.integers(0, 3))):
        opt, var, slot = (draw(st.integers(0, count - 1)) for _ in range(3))
        nodes[opt].slot_variables.add(
            original_variable_node_id=var, slot_name="m", slot_variable_node_id=slot
        )
    for i in draw(st.lists(st.integers(0, count - 1), max_size=2)):
        nodes[i].registered_saver.name = "saver"
    if draw(st.booleans()):
        for n in nodes:
            n.has_checkpoint_values.value = draw(st.booleans())
    kept = draw(st.lists(st.integers(0, count - 1), max_size=count))
    keep = draw(st.lists(st.sampled_from(sorted(entries) or ["none"]), max_size=len(entries)))
    return g.SerializeToString(), entries, kept, keep


@given(cases())
def test_pruned_generated_graphs_are_the_copied_messages(
    case: tuple[bytes, dict[str, Any], list[int], list[str]],
) -> None:
    raw, entries, kept, keep = case
    try:
        graph = ObjectGraph.from_proto(raw, entries)
    except CheckpointError:
        assume(False)
        raise
    assert_same(graph, set(kept), set(keep) & set(entries))
