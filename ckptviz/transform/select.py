"""Choosing part of a checkpoint, and the object graph pruned to it.

A selector names objects the way people know them: an object path (or any alias path), a key, a
variable's ``full_name``, any name a face shows (``model/conv1_conv/kernel``, ``momentum of
conv1_conv/kernel``, a layer name), a glob over keys and paths, a node id, or a predicate on keys;
a list combines them. What choosing or excluding an object keeps is ``model/ownership.py``'s rule.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..errors import KeyNotFoundError
from ..model import ownership
from ..model.graph import ObjectGraph
from ..model.paths import Adjacency, NodePaths
from .graph_proto import mark_checkpoint_values, new_graph, records_checkpoint_values

Selector = str | int | Callable[[str], bool] | Iterable[str | int]
_GLOB = "*?["


def items(selector: Selector) -> list[Any]:
    if isinstance(selector, (str, int)) or callable(selector):
        return [selector]
    return list(selector)


def choose(graph: ObjectGraph, keys: Iterable[str], selector: Selector) -> tuple[set[str], set[int]]:
    """The keys and nodes ``selector`` names (nodes as named, not their subtrees); a name that
    matches nothing raises ``KeyNotFoundError``."""
    keyset = set(keys)
    chosen_keys: set[str] = set()
    chosen_nodes: set[int] = set()
    for item in items(selector):
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            if not callable(item):
                raise TypeError(
                    f"cannot select with {item!r}: pass paths, keys, globs, node ids or a predicate"
                )
            chosen_keys.update(k for k in keyset if item(k))
            continue
        before = (len(chosen_keys), len(chosen_nodes))
        if isinstance(item, int):
            if not 0 <= item < len(graph.nodes):
                raise KeyNotFoundError(str(item), (), what="node id")
            chosen_nodes.add(item)
        elif any(c in item for c in _GLOB):
            chosen_keys.update(k for k in keyset if fnmatch.fnmatchcase(k, item))
            chosen_nodes.update(n.id for n in graph.nodes if n.id and _glob_matches(graph, n.id, item))
        elif item in keyset:
            chosen_keys.add(item)
        else:
            found = graph.paths.find(item.strip("/"))  # ``lookup``'s first rule, without a Node made
            if found is None:
                node = graph.lookup(item)
                found = None if node is None else node.id
            if found is not None:
                chosen_nodes.add(found)
        if (len(chosen_keys), len(chosen_nodes)) == before:
            raise KeyNotFoundError(str(item), graph.candidate_names(), what="object path, key or name")
    return chosen_keys, chosen_nodes


def _glob_matches(graph: ObjectGraph, node_id: int, pattern: str) -> bool:
    """A glob over any path a node is shown by: its key path, home path, display path or name."""
    node = graph.nodes[node_id]
    names = (node.path, graph.display_path(node_id), graph.display_name(node_id))
    return any(fnmatch.fnmatchcase(n, pattern) for n in names)


def with_slots(graph: ObjectGraph, nodes: set[int]) -> set[int]:
    """Name-based scope trees reach TF1 slots only through their optimizer: a chosen variable
    brings its slots (``dense/kernel`` brings ``dense/kernel/Adam``), as a key prefix would."""
    return nodes | {s.slot_id for n in nodes for s in graph.slots_of(n) if s.variable_id == n}


def name_based(
    graph: ObjectGraph, keys: list[str], selector: Selector | None, exclude: Selector | None
) -> set[str]:
    """The keys a name-based checkpoint keeps: chosen keys and scopes, minus excluded ones."""

    def expand(selected: Selector) -> set[str]:
        chosen, nodes = choose(graph, keys, selected)
        inside = with_slots(graph, {i for n in nodes for i in graph.subtree(n)})
        return chosen | keys_in(graph, keys, inside)

    kept = set(keys) if selector is None else expand(selector)
    return kept - expand(exclude) if exclude is not None else kept


def object_based(
    graph: ObjectGraph, keys: list[str], selector: Selector | None, exclude: Selector | None
) -> tuple[Any, dict[str, str]]:
    """The pruned object graph and ``{new key: key}``: ``model/names.py``'s rule of what belongs to
    what, applied to the named objects; keys are renamed as TF would write the pruned graph."""
    roots: set[int] | None = None
    only: dict[int, set[str]] = {}  # nodes chosen by some of their keys, not whole
    picked_keys: set[str] = set()
    if selector is not None:
        picked_keys, roots = choose(graph, keys, selector)
        owned = [k for k in picked_keys if k in graph.owner]
        whole = ownership.reachable(graph, roots) if owned else set()  # what the named objects bring
        for k in owned:
            n = graph.owner[k][0]
            roots.add(n)
            if n not in whole:
                only.setdefault(n, set()).add(k)
    dropped_keys: set[str] = set()
    excluded: set[int] = set()
    if exclude is not None:
        dropped_keys, excluded = choose(graph, keys, exclude)
        for k in dropped_keys:
            if k in graph.owner and all(x in dropped_keys for x in graph.keys_of(graph.owner[k][0])):
                excluded.add(graph.owner[k][0])
    kept = ownership.kept_nodes(graph, roots, excluded)
    keep = {k for k, (n, _) in graph.owner.items() if n in kept and n not in only}
    keep |= {k for n, chosen in only.items() if n in kept for k in chosen}
    keep |= {k for k in keys if k not in graph.owner and (selector is None or k in picked_keys)}
    keep -= dropped_keys
    return _renumber(graph, kept, keep)


def keys_in(graph: ObjectGraph, keys: Iterable[str], nodes: set[int]) -> set[str]:
    """Keys owned by ``nodes`` among ``keys``."""
    wanted = set(keys)
    return {k for n in nodes for k in graph.keys_of(n) if k in wanted}


def _renumber(graph: ObjectGraph, kept: set[int], keep: set[str]) -> tuple[Any, dict[str, str]]:
    """The graph of the ``kept`` nodes, numbered breadth-first, with the attributes of ``keep``
    keyed by their new paths (TF names a key by its object's first breadth-first path).

    Built from the graph's columns: the kept edges are chosen with numpy and walked as the new
    graph's paths; only the kept nodes' messages are written, and only holders of kept keys read."""
    adj, proto, count = graph.adjacency, graph.proto, len(graph)
    inside = np.zeros(count, bool)
    inside[list(kept)] = True
    inside[:1] = True  # the root is always node 0 of the new graph
    owners = np.repeat(np.arange(count), np.diff(adj.ptr))
    edges = np.flatnonzero(inside[owners] & inside[adj.child])
    paths = NodePaths(count, Adjacency(count, owners[edges], adj.child[edges], adj.names.take(edges)))
    reached = np.array(paths.reachable, bool)
    # slot variables and other unreached nodes: after all regular objects, as TF numbers them
    order = np.concatenate([np.asarray(paths.order, np.int64), np.flatnonzero(inside & ~reached)])
    renumbered = np.full(count, -1, np.int64)
    renumbered[order] = np.arange(len(order))
    new_id: list[int] = renumbered.tolist()
    out = new_graph()
    nodes = [out.nodes.add() for _ in range(len(order))]
    kids = renumbered[owners[edges]].tolist(), renumbered[adj.child[edges]].tolist()
    for parent, child, name in zip(*kids, paths.adjacency.local):
        nodes[parent].children.add(node_id=child, local_name=name)
    links = [
        s
        for s in graph.slots
        if not s.inferred and min(new_id[s.optimizer_id], new_id[s.variable_id], new_id[s.slot_id]) >= 0
    ]
    links.sort(key=lambda s: new_id[s.optimizer_id])  # stable: each node's links in stored order
    for s in links:  # TF keys a slot as <variable>/.OPTIMIZER_SLOT/<optimizer>/<name>
        nodes[new_id[s.optimizer_id]].slot_variables.add(
            original_variable_node_id=new_id[s.variable_id],
            slot_name=s.slot_name,
            slot_variable_node_id=new_id[s.slot_id],
        )
        if not reached[s.slot_id]:
            paths.special.setdefault(s.slot_id, (s.variable_id, s.optimizer_id, s.slot_name))
    holders = {new_id[s.optimizer_id] for s in links}
    by_attribute: dict[tuple[int, str], list[str]] = {}
    for k in keep:
        found = graph.owner.get(k)
        if found is not None and inside[found[0]]:
            by_attribute.setdefault(found, []).append(k)
    renamed: dict[str, str] = {}
    for old in order.tolist():
        src = proto.nodes[old]
        if src.HasField("registered_saver"):
            nodes[new_id[old]].registered_saver.CopyFrom(src.registered_saver)
            holders.add(new_id[old])
        if not any((old, a.name) in by_attribute for a in src.attributes):  # holds no kept key
            continue
        old_path, new_path = graph.paths.path(old), paths.path(old)
        for attr in src.attributes:
            mine = sorted(by_attribute.get((old, attr.name), ()))
            if not mine:
                continue
            copy = nodes[new_id[old]].attributes.add()
            copy.CopyFrom(attr)
            if old_path != new_path and attr.checkpoint_key.startswith(old_path + "/"):
                copy.checkpoint_key = new_path + attr.checkpoint_key[len(old_path) :]
            for k in mine:
                tail = k[len(attr.checkpoint_key) :] if k.startswith(attr.checkpoint_key) else None
                renamed[k if tail is None else copy.checkpoint_key + tail] = k
            holders.add(new_id[old])
    for k in sorted(keep - set(renamed.values())):  # keys no object holds stay as they are
        renamed[k] = k
    if records_checkpoint_values(proto):
        mark_checkpoint_values(nodes, zip(*kids), holders)
    return out, renamed
