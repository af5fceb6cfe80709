"""Choosing part of a checkpoint, and the object graph pruned to it.

A selector names objects the way people know them: an object path (or any alias path), a key, a
variable's ``full_name``, a glob over keys and paths, a node id, or a predicate on keys; a list
combines them. Choosing an object chooses its subtree; a slot variable comes along when its
variable and optimizer are both kept, as TensorFlow saves them.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import KeyNotFoundError
from ..model.graph import ObjectGraph
from .graph_proto import copy_slot_links, new_graph, set_has_checkpoint_values

Selector = str | int | Callable[[str], bool] | Iterable[str | int]
_GLOB = "*?["


def items(selector: Selector) -> list[Any]:
    if isinstance(selector, (str, int)) or callable(selector):
        return [selector]
    return list(selector)


def choose(graph: ObjectGraph, keys: Iterable[str], selector: Selector) -> tuple[set[str], set[int]]:
    """The keys and nodes ``selector`` names; a name that matches nothing raises ``KeyNotFoundError``."""
    keyset = set(keys)
    chosen_keys: set[str] = set()
    chosen_nodes: set[int] = set()
    for item in items(selector):
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            if not callable(item):
                raise TypeError(f"cannot select with {item!r}: pass paths, keys, globs, node ids or a predicate")
            chosen_keys.update(k for k in keyset if item(k))
            continue
        before = (len(chosen_keys), len(chosen_nodes))
        if isinstance(item, int):
            if not 0 <= item < len(graph.nodes):
                raise KeyNotFoundError(str(item), (), what="node id")
            chosen_nodes |= _with_slots(graph, graph.subtree(item))
        elif any(c in item for c in _GLOB):
            chosen_keys.update(k for k in keyset if fnmatch.fnmatchcase(k, item))
            chosen_nodes.update(n.id for n in graph.nodes if n.id and fnmatch.fnmatchcase(n.path, item))
        elif item in keyset:
            chosen_keys.add(item)
        else:
            node = graph.lookup(item)
            if node is not None:
                chosen_nodes |= _with_slots(graph, graph.subtree(node.id))
        if (len(chosen_keys), len(chosen_nodes)) == before:
            raise KeyNotFoundError(str(item), graph.candidate_names(), what="object path, key or name")
    return chosen_keys, chosen_nodes


def _with_slots(graph: ObjectGraph, nodes: set[int]) -> set[int]:
    """Name-based scope trees reach TF1 slots only through their optimizer: a chosen variable
    brings its slots (``dense/kernel`` brings ``dense/kernel/Adam``), as a key prefix would."""
    if graph.object_based:
        return nodes
    return nodes | {s.slot_id for n in nodes for s in graph.slots_of(n) if s.variable_id == n}


def keys_in(graph: ObjectGraph, keys: Iterable[str], nodes: set[int]) -> set[str]:
    """Keys owned by ``nodes`` among ``keys``."""
    wanted = set(keys)
    return {k for n in nodes for k in graph.keys_of(n) if k in wanted}


def prune(graph: ObjectGraph, keys: set[str], nodes: set[int]) -> tuple[Any, set[str]]:
    """The object graph holding only what reaches ``keys``/``nodes``, renumbered breadth-first.

    Returns the new graph and the keys it keeps: the chosen ones, every value of a chosen node,
    ``save_counter``, and the recorded slots whose variable and optimizer are both kept.
    """
    keep_keys = set(keys)
    for nid in nodes:
        keep_keys.update(graph.keys_of(nid))
    counter = graph.children(0).get("save_counter") if graph.nodes else None
    if counter is not None:  # TF's Checkpoint creates and restores it whatever else is restored
        keep_keys.update(graph.keys_of(counter))
    valued = {graph.owner[k][0] for k in keep_keys if k in graph.owner}
    kept = graph.with_ancestors(valued | nodes)
    for s in graph.slots:
        if not s.inferred and s.optimizer_id in kept and s.variable_id in valued and s.slot_id not in kept:
            kept |= graph.with_ancestors([s.slot_id])
            keep_keys.update(graph.keys_of(s.slot_id))
    attributes = {graph.owner[k] for k in keep_keys if k in graph.owner}
    return _renumber(graph.proto, kept | {0}, attributes), keep_keys


def _renumber(proto: Any, kept: set[int], attributes: set[tuple[int, str]]) -> Any:
    order, seen = [0], {0}
    queue = deque([0])
    while queue:
        for ref in proto.nodes[queue.popleft()].children:
            if ref.node_id in kept and ref.node_id not in seen:
                seen.add(ref.node_id)
                order.append(ref.node_id)
                queue.append(ref.node_id)
    order += sorted(kept - seen)  # slot variables: after all regular objects, as TF numbers them
    new_id = {old: new for new, old in enumerate(order)}
    out = new_graph()
    for old in order:
        src, node = proto.nodes[old], out.nodes.add()
        for ref in src.children:
            if ref.node_id in new_id:
                node.children.add(node_id=new_id[ref.node_id], local_name=ref.local_name)
        for attr in src.attributes:
            if (old, attr.name) in attributes:
                node.attributes.add().CopyFrom(attr)
        copy_slot_links(src, node, new_id)
        if src.HasField("registered_saver"):
            node.registered_saver.CopyFrom(src.registered_saver)
    set_has_checkpoint_values(out, like=proto)
    return out
