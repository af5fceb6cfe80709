"""``Names`` (built with numpy over whole levels) gives what a plain walk gives, node by node.

``Reference`` is that walk: the rules of ``model/names.py`` written the straightforward way, one
node at a time in breadth-first order. The two must agree on every scope, display path and display
name, and ``entry_records`` on every record, for the fixtures, the wild corpus and generated graphs
full of the awkward cases (lists, Keras 2 aliases, optimizers, duplicate and escaped names, shared
children, slots of slots).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import ckptviz
from ckptviz.errors import CheckpointError, CheckpointWarning
from ckptviz.format.naming import OBJECT_GRAPH_KEY
from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
from ckptviz.model import paths as P
from ckptviz.model.graph import ObjectGraph
from ckptviz.model.records import KINDS, EntryRecord
from tests.conftest import DATA, corpus
from tests.wild.conftest import PRESENT, WILD, records


def _is_list(out: list[tuple[str, int]]) -> bool:
    return bool(out) and all(name.isdigit() for name, _ in out)


def _numbered(segment: str) -> bool:
    return segment.isdigit() or (segment.startswith("layer") and segment.rpartition("-")[2].isdigit())


class Reference:
    """The names of every node, one node at a time."""

    def __init__(self, graph: ObjectGraph) -> None:
        count, adj, kinds, full = len(graph), graph.adjacency, graph.kinds, graph.full_names
        optimizers = [i for i, k in enumerate(kinds) if k == "optimizer"]
        home = P.NodePaths(count, adj, defer=optimizers) if graph.object_based else graph.paths
        if graph.object_based:
            home.special = dict(graph.paths.special)
        self.home, self.graph = home, graph
        scope = self.scope = [""] * count
        for node in range(count):
            edges = adj[node]
            if _is_list(edges) or not any(kinds[c] == "variable" for _, c in edges):
                continue
            scopes = {full[c].rpartition("/")[0] for _, c in edges if kinds[c] == "variable"}
            found = scopes.pop() if len(scopes) == 1 else ""
            scope[node] = found if "/" not in found or found.rsplit("/", 1)[-1] else ""
        self.parent, self.segment, self.listed = [-1] * count, [""] * count, [False] * count
        taken: set[tuple[int, str]] = set()
        for i in home.order[1:]:
            parent, segment = home.parent[i], home.segment[i]
            self.listed[i] = self.listed[parent] or _numbered(segment)
            at, text = parent, segment
            if _numbered(segment) and scope[i]:
                text = P.escape_local_name(scope[i].rsplit("/", 1)[-1])
                grand = home.parent[parent] if parent > 0 else -1
                if segment.isdigit() and grand >= 0 and _is_list(adj[parent]):
                    at = grand
            elif scope[parent] and kinds[i] == "variable" and full[i]:
                prefix, _, last = full[i].rpartition("/")
                if prefix == scope[parent] and last:
                    text = P.escape_local_name(last)
            if (at, text) in taken:
                at, text = parent, segment
            if (at, text) in taken:
                text = f"{segment}[{i}]"
            taken.add((at, text))
            self.parent[i], self.segment[i] = at, text
        self.counts: dict[str, int] = {}
        for kind, name in zip(kinds, full):
            if name and kind in ("variable", "slot"):
                self.counts[name] = self.counts.get(name, 0) + 1
        self.slot_of = {s.slot_id: s for s in graph.slots if s.slot_id != s.variable_id}

    def display_path(self, node: int) -> str:
        if node and not self.home.reachable[node]:
            return self.home.path(node)
        parts = []
        while node > 0:
            parts.append(self.segment[node])
            node = self.parent[node]
        return "/".join(reversed(parts))

    def name(self, node: int) -> str:
        prefix, seen = "", set[int]()
        while node in self.slot_of and node not in seen and len(seen) < 16:
            seen.add(node)
            prefix += f"{self.slot_of[node].slot_name} of "
            node = self.slot_of[node].variable_id
        if node == 0:
            return prefix + "(root)"
        full = self.graph.full_names[node]
        if self.listed[node] and self.graph.kinds[node] == "variable" and self.counts.get(full) == 1:
            return prefix + full
        return prefix + self.display_path(node)

    def records(self, ckpt: ckptviz.Checkpoint) -> list[EntryRecord]:
        owner, out = self.graph.owner, []
        for e in ckpt.entries.values():
            found = None if e.key == OBJECT_GRAPH_KEY else owner.get(e.key)
            i = found[0] if found else None
            out.append(
                EntryRecord(
                    e.key,
                    e.key if i is None else self.name(i),
                    e.dtype.name,
                    tuple(e.shape),
                    e.nbytes,
                    e.shard,
                    i,
                    None if i is None else self.display_path(i),
                    None if i is None else self.graph.kind(i),
                )
            )
        return out


def assert_same_names(graph: ObjectGraph) -> None:
    ref, names = Reference(graph), graph.names
    assert names.scope == ref.scope
    ids = range(len(graph))
    paths, shown = [ref.display_path(i) for i in ids], [ref.name(i) for i in ids]
    assert [names.display_path(i) for i in ids] == paths  # walked node by node
    assert [names.name(i) for i in ids] == shown
    assert names.display_paths_of(ids) == paths  # joined for every node at once
    assert names.names_of(ids) == shown
    assert [names.display_path(i) for i in ids] == paths and [names.name(i) for i in ids] == shown


def assert_same_records(ckpt: ckptviz.Checkpoint) -> None:
    everything = ckpt.entry_records()
    assert everything == Reference(ckpt.graph).records(ckpt)
    middle = len(everything) // 2
    assert ckpt.entry_records(middle, middle + 3) == everything[middle : middle + 3]


def _fixtures() -> list[str]:
    return sorted({str(DATA / c["path"]) for c in corpus() if "error" not in c})


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: Path(p).relative_to(DATA).as_posix())
def test_names_and_records_of_every_fixture_are_the_plain_walks(path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckpointWarning)
        with ckptviz.open(path) as ckpt:
            assert_same_names(ckpt.graph)
            assert_same_records(ckpt)


_WILD = sorted({r["prefix"] for r in records("checkpoints") + records("incomplete_checkpoints")})


@pytest.mark.skipif(not PRESENT, reason="the wild corpus (../shared/corpora/wild) is not here")
@pytest.mark.parametrize("prefix", _WILD)
def test_names_and_records_of_the_wild_corpus_are_the_plain_walks(prefix: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Warning)
        with ckptviz.open(str(WILD / prefix)) as ckpt:
            try:
                ckpt.graph  # noqa: B018
            except CheckpointError:
                pytest.skip("no object graph to name")
            assert_same_names(ckpt.graph)
            assert_same_records(ckpt)


# -- generated graphs ----------------------------------------------------------------------------

_LOCAL = st.sampled_from(
    [
        "0", "1", "2", "7", "10", "²", "layer-3", "layer_with_weights-0", "layer-", "layerx-1", "layer",
        "_operations", "_layers", "model", "optimizer", "d_optimizer", "kernel", "_kernel", "bias",
        "a.b", "a/b", "iter", "_learning_rate", "_variables", "conv", "",
    ]
)  # fmt: skip
_FULL = st.sampled_from(
    [
        "",
        "dense/kernel",
        "dense/bias",
        "dense/_kernel",
        "conv",
        "conv/kernel",
        "a/",
        "d/e/f",
        "d/e/g",
        "x/a.b",
    ]
)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """A ``TrackableObjectGraph`` (mostly a tree, with shared children, cycles, duplicate names and
    recorded slots) and entries for its attributes."""
    count = draw(st.integers(1, 14))
    g = TrackableObjectGraph()
    nodes = [g.nodes.add() for _ in range(count)]
    for i in range(1, count):  # a tree first, so most nodes are reachable
        parent = draw(st.integers(0, i - 1))
        nodes[parent].children.add(node_id=i, local_name=draw(_LOCAL))
    for _ in range(draw(st.integers(0, 4))):  # aliases, shared children, cycles
        nodes[draw(st.integers(0, count - 1))].children.add(
            node_id=draw(st.integers(0, count - 1)), local_name=draw(_LOCAL)
        )
    entries: dict[str, Any] = {}
    for i in range(1, count):
        if draw(st.integers(0, 2)) == 0:
            continue
        key = f"k{i}/.ATTRIBUTES/VARIABLE_VALUE"
        dtype = draw(st.sampled_from(["float32", "int64"]))
        nodes[i].attributes.add(name="VARIABLE_VALUE", full_name=draw(_FULL), checkpoint_key=key)
        entries[key] = (dtype, () if dtype == "int64" else (2,))
    for _ in range(draw(st.integers(0, 3))):
        opt, var, slot = (draw(st.integers(0, count - 1)) for _ in range(3))
        nodes[opt].slot_variables.add(
            original_variable_node_id=var,
            slot_name=draw(st.sampled_from(["m", "v"])),
            slot_variable_node_id=slot,
        )
    return g.SerializeToString(), entries


@given(graphs())
def test_names_of_generated_graphs_are_the_plain_walks(case: tuple[bytes, dict[str, Any]]) -> None:
    raw, entries = case
    try:
        graph = ObjectGraph.from_proto(raw, entries)
    except CheckpointError:  # a slot cycle: refused before anything is named
        assume(False)
        raise
    assert_same_names(graph)


@settings(max_examples=40)
@given(graphs())
def test_records_of_generated_checkpoints_are_the_plain_walks(case: tuple[bytes, dict[str, Any]]) -> None:
    raw, entries = case
    try:
        ObjectGraph.from_proto(raw, entries)
    except CheckpointError:
        assume(False)
    tensors = {k: np.zeros(shape, dtype) for k, (dtype, shape) in entries.items()}
    tensors["extra/key"] = np.ones(3, np.float32)  # a key no object holds
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "ckpt")
        ckptviz.write_checkpoint(prefix, tensors, TrackableObjectGraph.FromString(raw), overwrite=True)
        with ckptviz.open(prefix) as ckpt:
            assert_same_records(ckpt)
            assert {r.kind for r in ckpt.entry_records()} <= {*KINDS, None}


def test_a_deep_chain_is_named_by_walking_not_by_joining_every_path() -> None:
    """Joining every display path costs the sum of their lengths: quadratic on a deep chain, so
    there the asked ones are walked."""
    g = TrackableObjectGraph()
    depth = 300
    for i in range(depth):
        g.nodes.add().children.add(node_id=i + 1, local_name=f"n{i}")
    g.nodes.add().attributes.add(name="VARIABLE_VALUE", full_name="v", checkpoint_key="k")
    graph = ObjectGraph.from_proto(g.SerializeToString(), {"k": ("float32", (1,))})
    ids = list(range(len(graph)))
    assert graph.names.display_paths_of(ids) == [Reference(graph).display_path(i) for i in ids]
    assert graph.names.names_of(ids)[-1] == "/".join(f"n{i}" for i in range(depth))
    assert graph.names._paths is None  # walked
