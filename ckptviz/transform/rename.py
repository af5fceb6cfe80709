"""Renaming with assignment maps in ``tf.compat.v1.train.init_from_checkpoint``'s syntax.

``{'old/name': 'new/name'}`` renames one variable; ``{'old_scope/': 'new_scope/'}`` moves a
scope; ``{'/': 'new_scope/'}`` puts everything under a scope; ``{'old_scope/': '/'}`` lifts a
scope to the top. The exact entry beats any scope, and the longest scope wins. Name-based
checkpoints are renamed key by key; object-based ones object by object (``net/l1``), keeping the
whole graph: every node, alias edge and slot link survives with the same node ids, and only the
edges that place a moved object change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import NameConflictError
from ..model import paths
from ..model.assignment import AssignmentMap, apply, check_assignment_map, require_all_used, rule_for
from ..model.graph import ObjectGraph
from .graph_proto import new_graph, set_has_checkpoint_values


def rename_keys(keys: Mapping[str, str], assignment_map: AssignmentMap) -> dict[str, str]:
    """``{new key: source key}`` for a name-based checkpoint; two keys landing on one name is an error."""
    check_assignment_map(assignment_map)
    out: dict[str, str] = {}
    origin: dict[str, str] = {}
    used: set[str] = set()
    for key, source in keys.items():
        rule = rule_for(key, assignment_map)
        new = key if rule is None else apply(key, assignment_map)
        if rule is not None:
            used.add(rule)
        if new in out:
            raise NameConflictError(
                f"the assignment map renames both {origin[new]!r} and {key!r} to {new!r}",
                {new: [origin[new], key]},
            )
        out[new], origin[new] = source, key
    require_all_used(assignment_map, used, " in this checkpoint")
    return out


def rename_graph(
    graph: ObjectGraph, keys: Mapping[str, str], assignment_map: AssignmentMap
) -> tuple[Any, dict[str, str]]:
    """The object graph with objects moved to their new paths, and ``{new key: source key}``.

    A node's new path is its own entry's (exact name, else longest scope), else its owner's new
    path plus its own segment, so moving an object moves what it holds. Missing intermediate
    objects are created (TF restores through any object with the right children).
    """
    check_assignment_map(assignment_map)
    proto = graph.proto
    used: set[str] = set()
    new_path: dict[int, str] = {0: ""}
    for i in graph.paths.order[1:]:
        old = graph.nodes[i].path
        exact = assignment_map.get(old) if not old.endswith("/") else None
        scoped = apply(old + "/", assignment_map)
        if exact is not None:
            new_path[i] = exact.strip("/")
        elif scoped != old + "/":
            new_path[i] = scoped[:-1].strip("/")
        else:
            parent = graph.paths.parent[i]
            new_path[i] = f"{new_path[parent]}/{graph.paths.segment[i]}".strip("/")
        rule = old if exact is not None else rule_for(old + "/", assignment_map)
        if rule is not None:  # matched, even by an entry that maps a scope onto itself
            used.add(rule)
    require_all_used(assignment_map, used, " in this checkpoint")

    at: dict[str, int] = {}
    for i, p in new_path.items():
        if p in at and (p != graph.nodes[i].path or p != graph.nodes[at[p]].path):
            a, b = graph.nodes[at[p]].path, graph.nodes[i].path
            raise NameConflictError(f"the assignment map moves both {a!r} and {b!r} to {p!r}", {p: [a, b]})
        if p or i == 0:
            at.setdefault(p, i)

    out = new_graph()
    for src in proto.nodes:
        node = out.nodes.add()
        node.CopyFrom(src)
        del node.children[:]

    def place(path: str) -> int:
        """The node at ``path`` in the renamed graph, creating empty intermediate objects."""
        if path in at:
            return at[path]
        head, _, last = path.rpartition("/")
        parent = place(head) if head else 0
        nid = len(out.nodes)
        out.nodes.add()
        out.nodes[parent].children.add(node_id=nid, local_name=paths.unescape_local_name(last))
        at[path] = nid
        return nid

    placed: dict[int, list[tuple[int, str]]] = {}  # parent -> (child, local name): owners come first
    for i in graph.paths.order[1:]:
        if not new_path[i]:
            continue  # a lifted scope: its objects now hang off the root
        head, _, last = new_path[i].rpartition("/")
        placed.setdefault(place(head) if head else 0, []).append((i, paths.unescape_local_name(last)))
    for parent, kids in placed.items():
        for child, local in kids:
            out.nodes[parent].children.add(node_id=child, local_name=local)
    for e in graph.edges:  # aliases, loops and shared children, between the same nodes as before
        owner = (
            graph.paths.parent[e.child] == e.parent
            and paths.escape_local_name(e.local_name) == graph.paths.segment[e.child]
        )
        if not owner:
            out.nodes[e.parent].children.add(node_id=e.child, local_name=e.local_name)

    def moved(i: int) -> str:
        special = graph.paths.special.get(i)
        if isinstance(special, tuple):
            variable, optimizer, slot = special
            return paths.slot_path(moved(variable), moved(optimizer), slot)
        return new_path.get(i, graph.nodes[i].path)

    renamed: dict[str, str] = {}
    for i, node in enumerate(graph.nodes):
        if not node.attributes:
            continue
        old, new = node.path, moved(i)
        for attr, copy in zip(proto.nodes[i].attributes, out.nodes[i].attributes):
            if attr.checkpoint_key.startswith(old):
                copy.checkpoint_key = new + attr.checkpoint_key[len(old) :]
        for key in node.keys:
            if key in keys:
                renamed[new + key[len(old) :] if key.startswith(old) else key] = keys[key]
    set_has_checkpoint_values(out, like=proto)
    return out, renamed
