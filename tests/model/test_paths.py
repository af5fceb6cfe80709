"""TF's key grammar: owners of keys, has_checkpoint_values, paths on deep graphs."""

from __future__ import annotations

import numpy as np
import pytest

from ckptviz.model import paths
from ckptviz.model.graph import ObjectGraph
from ckptviz.model.ownership import home_ancestors
from ckptviz.model.paths import Adjacency, NodePaths, escape_local_name
from ckptviz.transform.graph_proto import new_graph


def test_exact_key_beats_prefix_and_first_attribute_wins() -> None:
    keys = ["it/.ATTRIBUTES/ITERATOR", "it/.ATTRIBUTES/ITERATOR_STATE", "t/.ATTRIBUTES/x-keys"]
    owner = paths.attribute_owners(
        [
            (1, "ITERATOR", "it/.ATTRIBUTES/ITERATOR"),
            (2, "other", "it/.ATTRIBUTES/ITER"),
            (3, "x", "t/.ATTRIBUTES/x"),
        ],
        keys,
    )
    # the exact key goes to its own attribute even though another attribute's prefix matches it
    assert owner["it/.ATTRIBUTES/ITERATOR"] == (1, "ITERATOR")
    assert owner["it/.ATTRIBUTES/ITERATOR_STATE"] == (2, "other")
    assert owner["t/.ATTRIBUTES/x-keys"] == (3, "x")
    # a key two attributes name, exactly or by prefix: the earlier attribute keeps it
    twice = [(4, "a", "k/.ATTRIBUTES/v"), (5, "b", "k/.ATTRIBUTES/v"), (6, "p", "k/"), (7, "q", "k/")]
    owner = paths.attribute_owners(twice, ["k/.ATTRIBUTES/v", "k/other"])
    assert owner == {"k/.ATTRIBUTES/v": (4, "a"), "k/other": (6, "p")}


def test_has_checkpoint_values_propagates_like_tensorflow_on_cycles_and_deep_chains() -> None:
    # 0 -> 1 -> 2 -> 1 (cycle), 2 holds a value; 3 is a sibling without values
    assert paths.checkpointed_nodes(4, [(0, 1), (1, 2), (2, 1), (0, 3)], [2]) == {0, 1, 2}
    n = 100_000
    chain = [(i, i + 1) for i in range(n - 1)]
    assert len(paths.checkpointed_nodes(n, chain, [n - 1])) == n  # no recursion


def _chain(n: int) -> bytes:
    g = new_graph()
    for i in range(n):
        node = g.nodes.add()
        if i + 1 < n:
            node.children.add(node_id=i + 1, local_name="a")
    g.nodes[n - 1].attributes.add(name="VARIABLE_VALUE", checkpoint_key="leaf/.ATTRIBUTES/VARIABLE_VALUE")
    return bytes(g.SerializeToString())


def test_a_30000_deep_chain_builds_without_materialising_every_path() -> None:
    graph = ObjectGraph.from_proto(_chain(30_000), {"leaf/.ATTRIBUTES/VARIABLE_VALUE": ("float32", [1])})
    assert graph.paths.depth[29_999] == 29_999
    assert graph.nodes[3].path == "a/a/a"
    assert graph.find("a/a/a").id == 3
    assert all(n.has_checkpoint_values for n in graph.nodes)
    assert len({29_999} | home_ancestors(graph, [29_999])) == 30_000  # linear: each walk stops early


def test_escaping_round_trips() -> None:
    assert paths.escape_local_name("a.b/c") == "a..b.Sc"
    assert paths.unescape_local_name("a..b.Sc") == "a.b/c"
    assert paths.join("net", "a/b") == "net/a.Sb"
    assert paths.split_slot_path("v/.OPTIMIZER_SLOT/opt/m") == ("v", "opt", "m")
    assert paths.value_path("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE") == "net/l1/bias"


def _queue_walk(count: int, out: list[list[tuple[str, int]]], defer: set[int]) -> tuple[list[int], list[int]]:
    """The breadth-first walk ``NodePaths`` must reproduce, written the plain way with a queue."""
    from collections import deque

    parent, order, seen = [-1] * count, [], [False] * count
    seen[0] = True
    queue, deferred = deque([0]), deque[int]()
    while queue or deferred:
        if not queue:
            node = deferred.popleft()
        else:
            node = queue.popleft()
            order.append(node)
            if node in defer:
                deferred.append(node)
                continue
        for _, child in out[node]:
            if not seen[child]:
                seen[child] = True
                parent[child] = node
                queue.append(child)
    return order, parent


@pytest.mark.parametrize("seed", range(12))
def test_the_level_by_level_walk_visits_nodes_in_queue_order(seed: int) -> None:
    """Wide levels go through numpy, narrow ones through Python: both must give the queue's order,
    first parents and segments, with shared children, self-loops, aliases and deferred nodes."""
    rng = np.random.default_rng(seed)
    count = int(rng.integers(2, 400))
    out: list[list[tuple[str, int]]] = [[] for _ in range(count)]
    for _ in range(int(rng.integers(count, 4 * count))):
        p, c = int(rng.integers(0, count)), int(rng.integers(0, count))
        out[p].append((f"n{c}.{len(out[p])}", c))
    defer = {int(d) for d in rng.integers(0, count, size=int(rng.integers(0, 5)))}
    walked = NodePaths(count, out, defer=defer)
    order, parent = _queue_walk(count, out, defer)
    assert walked.order == order and walked.parent == parent
    for i in order[1:]:
        name = next(n for n, c in out[parent[i]] if c == i)
        assert walked.segment[i] == escape_local_name(name)
    assert walked.all() == [walked.path(i) for i in range(count)]


def test_adjacency_groups_edges_by_parent_in_stored_order() -> None:
    adj = Adjacency(3, [0, 2, 0, 1], [1, 0, 2, 2], ["a", "loop", "b", "c"])
    assert [adj[i] for i in range(3)] == [[("a", 1), ("b", 2)], [("c", 2)], [("loop", 0)]]
    assert adj.ptr.tolist() == [0, 2, 3, 4] and adj.children(0) == [1, 2]
