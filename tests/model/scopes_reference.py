"""The scope tree as ckptviz built it node by node in Python before it was built as columns: a
straightforward reference the columnar build (``ckptviz/model/scopes.py``) must agree with.

``reference_graph(entries)`` returns what ``ObjectGraph.from_keys`` returned then: nodes, edges,
slots and paths. One change: ``NodePaths.of_tree`` took per-node out-edge lists and walked them
with a queue; that walk is kept here as ``_paths_of_tree``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping

from ckptviz.format.naming import OBJECT_GRAPH_KEY
from ckptviz.model import paths as P
from ckptviz.model.records import Attribute, Edge, Node, Slot, Value, value_of

# The tables of what TF1 optimizers name their slots are data, shared; the walk below is the old one.
from ckptviz.model.scope_slots import (
    _NAMED_SLOTS,
    _NOT_OPTIMIZERS,
)
from ckptviz.model.scope_slots import ADAM_FAMILY as _ADAM_FAMILY
from ckptviz.model.scope_slots import TF1_SLOTS as _TF1_SLOTS
from ckptviz.model.slots import keras_file_optimizers, keras_file_slots

_SUFFIX = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9]*?)(?:_(?P<n>\d+))?$")
_PART = re.compile(r"^(?P<var>.+)/part_\d+$")
_ESTIMATOR = re.compile(r"^(?P<opt>(?:.*/)?training/[A-Za-z]\w*)/(?P<var>.+)/(?P<slot>[^/]+)$")
_ADAM_STATE = re.compile(r"^beta[12]_power(_\d+)?$")


def _same_layout(var: Value, part: Value, partitioned: bool) -> bool:
    if not partitioned:
        return var.shape == part.shape
    return len(var.shape) == len(part.shape) and var.shape[1:] == part.shape[1:]


def _tf1_slots(values: Mapping[str, Value]) -> dict[str, tuple[str, str, int]]:
    """``slot key -> (variable key, optimizer name, N)`` for keys like ``<var>/Adam_1``: the parent
    key is a variable of the same shape (of the same layout for a partition), and the suffix names a
    known optimizer or one that two or more variables share (a capitalised name)."""
    found: dict[str, tuple[str, str, int]] = {}
    for key, v in values.items():
        parent, _, last = key.rpartition("/")
        m = _SUFFIX.match(last)
        named = _NAMED_SLOTS.get(last)
        if not parent or (m is None and named is None) or (m is not None and m["base"] in _NOT_OPTIMIZERS):
            continue
        part = _PART.match(parent)
        var = parent if parent in values else part["var"] if part and part["var"] in values else None
        if var is None or not _same_layout(values[var], v, var != parent):
            continue
        found[key] = (var, *named) if named else (var, m["base"], int(m["n"] or 0))  # type: ignore[index]
    counts: dict[str, set[str]] = {}
    for var, base, _ in found.values():
        counts.setdefault(base, set()).add(var)
    return {
        k: t for k, t in found.items() if t[1] in _TF1_SLOTS or (t[1][0].isupper() and len(counts[t[1]]) >= 2)
    }


def _estimator_slots(values: Mapping[str, Value]) -> dict[str, tuple[str, str, str]]:
    """``slot key -> (variable key, optimizer scope, slot name)`` for TF2 Estimators' names."""
    out = {}
    for key, v in values.items():
        m = _ESTIMATOR.match(key)
        if m and m["var"] in values and values[m["var"]].shape == v.shape:
            out[key] = (m["var"], m["opt"], m["slot"])
    return out


class _Trie:
    """Nodes of the tree before numbering: id 0 is the root."""

    def __init__(self) -> None:
        self.kids: list[dict[str, int]] = [{}]  # segment -> child
        self.local: list[str] = [""]  # raw local name on the edge from the parent
        self.segment: list[str] = [""]
        self.parent: list[int] = [-1]
        self.attrs: dict[int, list[Attribute]] = {}
        self.aliases: list[tuple[int, str, int]] = []  # extra (parent, local name, child) edges
        self.keyed: dict[int, str] = {}  # nodes moved off their scope keep their key as their path

    def ensure(self, path: str, escaped: bool = False) -> int:
        node = 0
        for segment in path.split("/") if path else ():
            child = self.kids[node].get(segment)
            if child is None:
                child = len(self.parent)
                self.kids[node][segment] = child
                self.kids.append({})
                self.local.append(P.unescape_local_name(segment) if escaped else segment)
                self.segment.append(segment)
                self.parent.append(node)
            node = child
        return node

    def detached(self) -> int:
        """A node no scope reaches (a slot variable, reached through its optimizer)."""
        self.kids.append({})
        self.local.append("")
        self.segment.append("")
        self.parent.append(-1)
        return len(self.parent) - 1

    def attach(self, node: int, name: str, key: str, full_name: str = "") -> None:
        self.attrs.setdefault(node, []).append(Attribute(name, full_name, key, (key,)))


def build_scope_tree(values: Mapping[str, Value]) -> tuple[list[Node], list[Edge], list[Slot], P.NodePaths]:
    t = _Trie()
    tf1_slots, estimator_slots = _tf1_slots(values), _estimator_slots(values)
    per_var: dict[tuple[str, str], int] = {}  # slots per (variable or partition, optimizer)
    for key, (_, base, _) in tf1_slots.items():
        owner = (key.rpartition("/")[0], base)
        per_var[owner] = per_var.get(owner, 0) + 1
    optimizers: dict[int, str] = {}  # node -> optimizer name
    links: list[
        tuple[int, str, str, int, str]
    ] = []  # (optimizer, variable key or path, slot name, slot, key)
    adam_state: list[int] = []
    for key in sorted(values):
        split = P.split_key(key)
        if split is not None:  # object-style key without its object graph
            obj, attr = split
            slot = P.split_slot_path(obj)
            if slot is not None:
                t.ensure(slot[0], escaped=True)
                opt = t.ensure(slot[1], escaped=True)
                optimizers[opt] = slot[1]
                node = t.detached()
                t.segment[node] = obj
                links.append((opt, slot[0], slot[2], node, key))
                t.attach(node, P.unescape_local_name(attr), key)
            else:
                t.attach(t.ensure(obj, escaped=True), P.unescape_local_name(attr), key)
        elif key in tf1_slots:
            var, base, n = tf1_slots[key]
            names = _TF1_SLOTS.get(base, {}).get(per_var[(key.rpartition("/")[0], base)])
            name = names[n % len(names)] if names else key.rpartition("/")[2]
            opt = t.ensure(base)
            optimizers[opt] = base
            node = t.detached()
            t.segment[node] = key
            links.append((opt, var, name, node, key))
            t.attach(node, P.VARIABLE_VALUE, key, key)
        else:
            node = t.ensure(key)
            t.attach(node, P.VARIABLE_VALUE, key, key)
            if key in estimator_slots:
                var, opt_scope, name = estimator_slots[key]
                opt = t.ensure(opt_scope)
                optimizers[opt] = opt_scope
                links.append((opt, var, name, node, key))
            elif _ADAM_STATE.match(key.rpartition("/")[2]):
                adam_state.append(node)
    # beta1_power & co. hang off their Adam, as iterations do in TF2; global_step stays at the root.
    adam = next((o for o, name in sorted(optimizers.items()) if name in _ADAM_FAMILY), None)
    if adam is not None:
        for node in adam_state:
            if t.parent[node] == 0:
                del t.kids[0][t.segment[node]]
                t.parent[node] = adam
                t.keyed[node] = t.segment[node]
                t.kids[adam][t.segment[node]] = node
            else:
                t.aliases.append((adam, t.local[node], node))
    return _number(t, values, optimizers, links)


def _number(
    t: _Trie,
    values: Mapping[str, Value],
    optimizers: dict[int, str],
    links: list[tuple[int, str, str, int, str]],
) -> tuple[list[Node], list[Edge], list[Slot], P.NodePaths]:
    """Ids breadth-first with children sorted by name, as TF numbers an object graph; detached slot
    nodes after every reachable one."""
    new = [-1] * len(t.parent)  # old id -> new id
    new[0] = 0
    order = [0]
    queue = deque([0])
    local_of = t.local
    ordered: dict[int, list[int]] = {}  # each node's children sorted by local name
    while queue:
        node = queue.popleft()
        kids = t.kids[node]
        children = ordered[node] = (
            sorted(kids.values(), key=local_of.__getitem__) if len(kids) > 1 else list(kids.values())
        )
        for child in children:
            new[child] = len(order)
            order.append(child)
            queue.append(child)
    reachable = len(order)
    for *_, slot, _ in links:
        if new[slot] < 0:
            new[slot] = len(order)
            order.append(slot)
    count = len(order)
    parent = [new[t.parent[old]] if t.parent[old] >= 0 else -1 for old in order]
    segment = [t.segment[old] for old in order]
    edges: list[Edge] = []
    out: list[list[tuple[str, int]]] = [[] for _ in range(count)]
    for i, old in enumerate(order[:reachable]):
        for child in ordered[old]:
            edges.append(Edge(i, local_of[child], new[child]))
            out[i].append((local_of[child], new[child]))
    for p, local, c in t.aliases:
        edges.append(Edge(new[p], local, new[c]))
        out[new[p]].append((local, new[c]))
    paths = _paths_of_tree(parent, segment, out)
    variable_of = {
        key: i for i, old in enumerate(order) for a in t.attrs.get(old, ()) for key in [a.checkpoint_key]
    }
    nodes = []
    for i, old in enumerate(order):
        attrs = tuple(t.attrs.get(old, ()))
        if i >= reachable:
            paths.special[i] = segment[i]
            segment[i] = ""
        elif old in t.keyed:
            paths.special[i] = t.keyed[old]
        nodes.append(
            Node(
                id=i,
                kind="optimizer"
                if old in optimizers
                else "variable"
                if attrs and any([a.name == P.VARIABLE_VALUE for a in attrs])
                else "other",
                attributes=attrs,
                values=tuple(values[a.checkpoint_key] for a in attrs),
                reachable=i < reachable,
                paths=paths,
            )
        )
    slots = []
    for opt, var, name, slot, _ in links:
        var_id = variable_of.get(var)
        if var_id is None:  # an object-style slot: its variable is an object path, not a key
            var_id = paths.find(var)
        if var_id is None:
            continue
        slots.append(Slot(new[opt], var_id, name, new[slot], True))
        nodes[new[slot]].kind = "slot"
    return nodes, edges, slots, paths


def _paths_of_tree(
    parent: list[int], segment: list[str], out_edges: list[list[tuple[str, int]]]
) -> P.NodePaths:
    self = P.NodePaths(0, [])
    count = len(parent)
    self.parent, self.segment, self._out = parent, segment, P.Adjacency.of(out_edges)
    self.depth = [0] * count
    self.reachable = [False] * count
    if count:
        self.reachable[0] = True
        queue = deque([0])
        while queue:
            node = queue.popleft()
            self.order.append(node)
            for child in self._out.children(node):
                if parent[child] == node and not self.reachable[child]:
                    self.reachable[child] = True
                    self.depth[child] = self.depth[node] + 1
                    queue.append(child)
    return self


def reference_graph(entries: Mapping[str, object]) -> tuple[list[Node], list[Edge], list[Slot], P.NodePaths]:
    """What ``ObjectGraph.from_keys`` built: the scope tree, then a Keras file's optimizer and slots."""
    values = {k: value_of(k, m) for k, m in entries.items() if k != OBJECT_GRAPH_KEY}
    nodes, edges, slots, paths = build_scope_tree(values)
    slots += keras_file_slots(nodes, edges, keras_file_optimizers(nodes, edges))
    return nodes, edges, slots, paths
