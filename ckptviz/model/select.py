"""Choosing part of a checkpoint, and the object graph pruned to it.

Works on the ``TrackableObjectGraph`` message directly. Paths are TF's key paths: escaped local
names joined by ``/`` along the first breadth-first route from the root (format.md §6.3);
a slot variable's path is ``<variable path>/.OPTIMIZER_SLOT/<optimizer path>/<slot name>``.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import KeyNotFoundError, UnsupportedCheckpointError
from ..format.naming import escape_local_name

Selector = str | int | Callable[[str], bool] | Iterable[str | int]
_GLOB = "*?["
_ATTRIBUTES = "/.ATTRIBUTES/"
_SLOT = ".OPTIMIZER_SLOT"


def value_path(key: str) -> str:
    """``net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE`` → ``net/l1/bias``; other keys unchanged."""
    suffix = _ATTRIBUTES + "VARIABLE_VALUE"
    return key[: -len(suffix)] if key.endswith(suffix) else key


@dataclass
class GraphIndex:
    """What the selection needs to know about an object graph, computed once."""

    proto: Any
    paths: dict[int, str]  # node id -> path (slot variables included)
    parent: dict[int, int]  # first-BFS parent of each regular node
    slots: dict[int, tuple[int, int, str]]  # slot node -> (optimizer, original variable, slot name)
    owner: dict[str, tuple[int, str]]  # entry key -> (node id, attribute name)

    @classmethod
    def build(cls, proto: Any, keys: Iterable[str]) -> GraphIndex:
        nodes = proto.nodes
        paths, parent = {0: ""}, {}
        queue = deque([0])
        while queue:
            nid = queue.popleft()
            for ref in nodes[nid].children:
                if ref.node_id in paths or not 0 <= ref.node_id < len(nodes):
                    continue
                prefix = paths[nid] + "/" if paths[nid] else ""
                paths[ref.node_id] = prefix + escape_local_name(ref.local_name)
                parent[ref.node_id] = nid
                queue.append(ref.node_id)
        slots: dict[int, tuple[int, int, str]] = {}
        for nid, node in enumerate(nodes):
            for sv in node.slot_variables:
                slots[sv.slot_variable_node_id] = (nid, sv.original_variable_node_id, sv.slot_name)
        pending = dict(slots)
        while pending:  # a slot of a slot needs its variable's path first
            ready = {s: v for s, v in pending.items() if v[0] in paths and v[1] in paths}
            if not ready:
                break
            for sid, (opt, var, slot) in ready.items():
                paths.setdefault(sid, f"{paths[var]}/{_SLOT}/{paths[opt]}/{escape_local_name(slot)}")
                del pending[sid]
        return cls(proto, paths, parent, slots, attribute_owners(proto, keys))

    def ancestors(self, nid: int) -> set[int]:
        """The node, the nodes on its path from the root, and for a slot those of its variable and optimizer."""
        out: set[int] = set()
        todo = [nid]
        while todo:
            n = todo.pop()
            if n in out:
                continue
            out.add(n)
            if n in self.parent:
                todo.append(self.parent[n])
            if n in self.slots:
                todo.extend(self.slots[n][:2])
        out.add(0)
        return out

    def subtree(self, nid: int) -> set[int]:
        out, todo = set(), [nid]
        while todo:
            n = todo.pop()
            if n not in out:
                out.add(n)
                todo.extend(
                    ref.node_id for ref in self.proto.nodes[n].children if ref.node_id < len(self.proto.nodes)
                )
        return out


def attribute_owners(proto: Any, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Each entry key's owning ``(node id, attribute name)``: exact ``checkpoint_key`` first, else by prefix."""
    ordered = sorted(keys)
    exact = set(ordered)
    owner: dict[str, tuple[int, str]] = {}
    for nid, node in enumerate(proto.nodes):
        for attr in node.attributes:
            if attr.checkpoint_key in exact:
                owner[attr.checkpoint_key] = (nid, attr.name)
                continue
            for key in ordered:  # legacy saveables: ITERATOR -> ITERATOR_STATE, lookup tables -keys/-values
                if key.startswith(attr.checkpoint_key):
                    owner.setdefault(key, (nid, attr.name))
    return owner


def _items(selector: Selector) -> list[Any]:
    if isinstance(selector, (str, int)) or callable(selector):
        return [selector]
    return list(selector)


def select_keys(keys: list[str], index: GraphIndex | None, selector: Selector) -> tuple[set[str], set[int]]:
    """The keys and (object-based) nodes chosen by ``selector``; unknown names raise ``KeyNotFoundError``."""
    chosen_keys: set[str] = set()
    chosen_nodes: set[int] = set()
    by_path = {p: n for n, p in index.paths.items()} if index else {}
    for item in _items(selector):
        before = (len(chosen_keys), len(chosen_nodes))
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            if not callable(item):
                raise TypeError(
                    f"cannot select with {item!r}: pass paths, key globs, node ids or a predicate"
                )
            chosen_keys.update(k for k in keys if item(k))
            continue
        if isinstance(item, int):
            if index is None:
                raise UnsupportedCheckpointError(
                    "node ids need an object-based checkpoint; select name-based ones by key or scope"
                )
            if not 0 <= item < len(index.proto.nodes):
                raise KeyNotFoundError(str(item), [str(n) for n in index.paths], what="node id")
            chosen_nodes |= index.subtree(item)
        elif any(c in item for c in _GLOB):
            chosen_keys.update(k for k in keys if fnmatch.fnmatchcase(k, item))
            chosen_nodes.update(n for p, n in by_path.items() if p and fnmatch.fnmatchcase(p, item))
        elif index is not None:  # object-based: an object path, or an exact key
            path = item.strip("/")
            if path in by_path:
                chosen_nodes |= index.subtree(by_path[path])
            elif item in keys:
                chosen_keys.add(item)
        else:  # name-based: a key or a scope
            path = item.rstrip("/")
            chosen_keys.update(k for k in keys if k == path or k.startswith(path + "/"))
        if (len(chosen_keys), len(chosen_nodes)) == before and not callable(item):
            raise KeyNotFoundError(str(item), list(by_path) + keys, what="path or key")
    return chosen_keys, chosen_nodes


def prune(index: GraphIndex, keys: set[str], nodes: set[int]) -> tuple[Any, set[str]]:
    """The object graph holding only what reaches ``keys``/``nodes``, renumbered breadth-first.

    Returns the new graph and the keys it keeps: the chosen ones, every value of a chosen node,
    ``save_counter``, and the slots whose variable and optimizer are both kept (as TF saves them).
    """
    keys_of: dict[int, set[str]] = {}
    for key, (nid, _) in index.owner.items():
        keys_of.setdefault(nid, set()).add(key)
    keep_keys = set(keys)
    for nid in nodes:
        keep_keys |= keys_of.get(nid, set())
    counter = next((r.node_id for r in index.proto.nodes[0].children if r.local_name == "save_counter"), None)
    if counter is not None:  # TF's Checkpoint creates and restores it whatever else is restored
        keep_keys |= keys_of.get(counter, set())
    valued = {index.owner[k][0] for k in keep_keys if k in index.owner}
    kept: set[int] = set()
    for nid in valued | nodes:
        kept |= index.ancestors(nid)
    for sid, (opt, var, _) in index.slots.items():
        if opt in kept and var in valued and sid not in kept:
            kept |= index.ancestors(sid)
            keep_keys |= keys_of.get(sid, set())
    return _renumber(index.proto, kept | {0}, keep_keys), keep_keys


def has_values(node: Any) -> bool:
    return bool(node.attributes or node.slot_variables or node.HasField("registered_saver"))


def _renumber(proto: Any, kept: set[int], keep_keys: set[str]) -> Any:
    from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

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
    out = TrackableObjectGraph()
    for old in order:
        src, node = proto.nodes[old], out.nodes.add()
        for ref in src.children:
            if ref.node_id in new_id:
                node.children.add(node_id=new_id[ref.node_id], local_name=ref.local_name)
        for attr in src.attributes:
            if any(k == attr.checkpoint_key or k.startswith(attr.checkpoint_key) for k in keep_keys):
                node.attributes.add().CopyFrom(attr)
        copy_slot_links(src, node, new_id)
        if src.HasField("registered_saver"):
            node.registered_saver.CopyFrom(src.registered_saver)
    set_has_checkpoint_values(out, like=proto)
    return out


def copy_slot_links(src: Any, node: Any, new_id: dict[int, int]) -> None:
    """Slot links of ``src`` onto ``node``, renumbered; TF keeps a link only if both ends are kept."""
    for sv in src.slot_variables:
        if sv.slot_variable_node_id in new_id and sv.original_variable_node_id in new_id:
            node.slot_variables.add(
                original_variable_node_id=new_id[sv.original_variable_node_id],
                slot_name=sv.slot_name,
                slot_variable_node_id=new_id[sv.slot_variable_node_id],
            )


def set_has_checkpoint_values(graph: Any, like: Any = None) -> None:
    """TF sets ``has_checkpoint_values`` on every node: true when it or a descendant holds values."""
    if like is not None and not any(n.HasField("has_checkpoint_values") for n in like.nodes):
        return
    nodes = graph.nodes
    memo: dict[int, bool] = {}

    def has(nid: int, stack: frozenset[int]) -> bool:
        if nid in memo:
            return memo[nid]
        node = nodes[nid]
        result = has_values(node) or any(
            has(r.node_id, stack | {nid})
            for r in node.children
            if r.node_id not in stack and r.node_id != nid
        )
        memo[nid] = result
        return result

    for nid in range(len(nodes)):
        nodes[nid].has_checkpoint_values.value = has(nid, frozenset())
