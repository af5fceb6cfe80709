"""Choosing part of a checkpoint, and the object graph pruned to it.

A selector names objects the way people know them: an object path (or any alias path), a key, a
variable's ``full_name``, any name a face shows (``model/conv1_conv/kernel``, ``momentum of
conv1_conv/kernel``, a layer name), a glob over keys and paths, a node id, or a predicate on keys;
a list combines them. What choosing or excluding an object keeps is ``model/ownership.py``'s rule.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import KeyNotFoundError
from ..model import ownership
from ..model.graph import ObjectGraph
from ..model.paths import NodePaths
from .graph_proto import copy_slot_links, new_graph, set_has_checkpoint_values

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
            node = graph.lookup(item)
            if node is not None:
                chosen_nodes.add(node.id)
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
        whole = ownership.reachable(graph, roots)
        for k in picked_keys:
            if k in graph.owner:
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
    keep = {k for n in kept for k in (only.get(n) or graph.keys_of(n))}
    keep |= {k for k in keys if k not in graph.owner and (selector is None or k in picked_keys)}
    keep -= dropped_keys
    return _renumber(graph, kept, keep)


def keys_in(graph: ObjectGraph, keys: Iterable[str], nodes: set[int]) -> set[str]:
    """Keys owned by ``nodes`` among ``keys``."""
    wanted = set(keys)
    return {k for n in nodes for k in graph.keys_of(n) if k in wanted}


def _renumber(graph: ObjectGraph, kept: set[int], keep: set[str]) -> tuple[Any, dict[str, str]]:
    """The graph of the ``kept`` nodes, numbered breadth-first, with the attributes of ``keep``
    keyed by their new paths (TF names a key by its object's first breadth-first path)."""
    proto = graph.proto
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
        copy_slot_links(src, node, new_id)
        if src.HasField("registered_saver"):
            node.registered_saver.CopyFrom(src.registered_saver)
    new_paths = _paths_of(out)
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
    for k in sorted(keep - set(renamed.values())):  # keys no object holds stay as they are
        renamed[k] = k
    set_has_checkpoint_values(out, like=proto)
    return out, renamed


def _paths_of(proto: Any) -> NodePaths:
    out = [[(ref.local_name, ref.node_id) for ref in node.children] for node in proto.nodes]
    paths = NodePaths(len(proto.nodes), out)
    for i, node in enumerate(proto.nodes):  # TF keys a slot as <variable>/.OPTIMIZER_SLOT/<optimizer>/<name>
        for sv in node.slot_variables:
            if not paths.reachable[sv.slot_variable_node_id]:
                paths.special.setdefault(
                    sv.slot_variable_node_id, (sv.original_variable_node_id, i, sv.slot_name)
                )
    return paths
