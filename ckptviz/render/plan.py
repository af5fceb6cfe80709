"""The render plan: which part of an ObjectGraph to draw (selection, filters, collapsing) and what
each drawn node says (label, tooltip, status), as plain data before any layout. DOT and a browser
draw the same plan (``Plan.to_dict()``).

Graphviz slows down and pictures stop being readable past a few hundred nodes (docs/jupyter.md),
so a big graph collapses subtrees into single nodes that say what they hide. Collapsing follows the
*ownership tree*: each object's first breadth-first parent (the path its keys use), and for slot
variables, which no ``children`` reach, their optimizer.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import KeyNotFoundError
from ..model.checkpoint import human_size
from ..model.graph import ObjectGraph
from ..model.records import Node, Slot

NodeRef = str | int  # an escaped object path or a node id
_MIN_PARTIAL = 8  # with less room than this, fold a node whole rather than show a few of its kids


@dataclass(frozen=True)
class GraphView:
    """Options of a picture. ``max_nodes`` collapses the largest subtrees until about that many nodes
    remain (None: never); ``max_depth`` collapses below that depth; ``collapse``/``expand`` name nodes
    (paths or ids) to fold or keep open; ``focus`` draws one object's subtree and the path to it;
    ``filter`` (a regex searched in paths) and ``select`` (paths or ids: the TF guide's partial-restore
    picture) keep those objects and their ancestors; ``hide_empty`` drops nodes TF marks as holding no
    checkpoint values; ``slots=False`` hides slot variables; ``optimizer_lists=True`` draws the Keras 3 /
    tf_keras optimizer's bookkeeping lists (``_variables``, ``_momentums``…) that the slot edges already
    show (hidden by default, so those checkpoints draw like the guide's picture)."""

    max_nodes: int | None = 300
    max_depth: int | None = None
    collapse: Sequence[NodeRef] = ()
    expand: Sequence[NodeRef] = ()
    focus: NodeRef | None = None
    filter: str | None = None
    select: Sequence[NodeRef] | None = None
    hide_empty: bool = True
    slots: bool = True
    optimizer_lists: bool = False
    legend: bool = True
    rankdir: str = "LR"
    title: str | None = None
    # A result to paint on the nodes, {node id: status}: ``CheckReport.by_node`` ("matched" |
    # "missing" | "mismatched"), or a diff's statuses.
    status: Mapping[int, str] | None = None
    intensity: Mapping[int, float] | None = None  # 0…1 per node: how strongly a diff status shows


@dataclass
class Shown:
    """A drawn node; when ``collapsed``, what it stands for besides itself."""

    node: Node
    collapsed: bool = False
    hidden_nodes: int = 0
    hidden_variables: int = 0  # variables and slots
    hidden_bytes: int = 0


@dataclass
class Plan:
    """What to draw. Stand-ins for the unshown kids of node ``p`` have id ``len(graph) + p``."""

    nodes: dict[int, Shown]
    edges: list[tuple[int, str, int]]  # child edges between drawn nodes, as stored
    merged_edges: list[tuple[int, int, int]] = field(
        default_factory=list
    )  # (from, to, count) into/out of collapsed nodes
    slot_edges: list[Slot] = field(default_factory=list)  # with optimizer/variable ids of drawn nodes
    owners: dict[int, int] = field(default_factory=dict)  # drawn node -> its drawn ownership parent
    names: dict[int, str] = field(default_factory=dict)  # drawn node -> local name on its owner's edge
    total: int = 0  # nodes left after selection and filters, before collapsing
    labels: dict[int, str] = field(default_factory=dict)
    tooltips: dict[int, str] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    intensity: dict[int, float] = field(default_factory=dict)
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: drawn nodes with kind/label/tooltip/status, and the three kinds of edges."""
        return {
            "title": self.title,
            "total": self.total,
            "nodes": [
                {
                    "id": i,
                    "path": s.node.path,
                    "kind": s.node.kind,
                    "label": self.labels.get(i, ""),
                    "tooltip": self.tooltips.get(i, ""),
                    "status": self.status.get(i),
                    "intensity": self.intensity.get(i),
                    "collapsed": s.collapsed,
                    "hidden_nodes": s.hidden_nodes,
                    "hidden_variables": s.hidden_variables,
                    "hidden_bytes": s.hidden_bytes,
                    "owner": self.owners.get(i),
                }
                for i, s in self.nodes.items()
            ],
            "edges": [{"parent": p, "label": n, "child": c} for p, n, c in self.edges],
            "merged_edges": [{"parent": a, "child": b, "count": n} for a, b, n in self.merged_edges],
            "slot_edges": [s.to_dict() for s in self.slot_edges],
        }


class Tree:
    """The ownership tree: ``parent`` and ordered ``kids`` of every node, and its depth."""

    def __init__(self, graph: ObjectGraph, skip: frozenset[int] = frozenset()) -> None:
        n = len(graph.nodes)
        self.parent: list[int | None] = [None] * n
        self.kids: list[list[int]] = [[] for _ in range(n)]
        self.depth = [0] * n
        self.order: list[int] = []
        if not n:
            return
        seen = [False] * n
        queue = deque([0])
        seen[0] = True
        while queue:
            p = queue.popleft()
            self.order.append(p)
            for e in graph.out_edges(p):
                if not seen[e.child] and e.child not in skip:
                    seen[e.child] = True
                    self._link(p, e.child)
                    queue.append(e.child)
        optimizer_of = {s.slot_id: s.optimizer_id for s in graph.slots}
        for i in range(n):  # slot variables and orphans, owned by their optimizer or the root
            if not seen[i] and i not in skip:
                owner = optimizer_of.get(i, 0)
                self._link(owner if seen[owner] else 0, i)
                self.order.append(i)

    def _link(self, parent: int, child: int) -> None:
        self.parent[child] = parent
        self.kids[parent].append(child)
        self.depth[child] = self.depth[parent] + 1

    def close_upward(self, nodes: Iterable[int]) -> set[int]:
        """The nodes and all their ancestors; each walk stops at a node already in, so linear."""
        out: set[int] = set()
        for i in nodes:
            while i is not None and i not in out:
                out.add(i)
                i = self.parent[i]  # type: ignore[assignment]
        return out

    def ancestors(self, i: int) -> Iterable[int]:
        p = self.parent[i]
        while p is not None:
            yield p
            p = self.parent[p]

    def subtree(self, i: int) -> Iterable[int]:
        stack = [i]
        while stack:
            j = stack.pop()
            yield j
            stack.extend(self.kids[j])


def _resolve(graph: ObjectGraph, ref: NodeRef) -> int:
    if isinstance(ref, int):
        if not 0 <= ref < len(graph.nodes):
            raise KeyNotFoundError(str(ref), (), what="node id")
        return ref
    return graph.find(ref).id


def select_view(graph: ObjectGraph, options: GraphView | None = None) -> Plan:
    """The nodes and edges to draw for ``options`` (all pure data; no Graphviz)."""
    o = options or GraphView()
    folded = frozenset() if o.optimizer_lists else redundant_lists(graph)
    tree = Tree(graph, folded)
    keep = _kept(graph, tree, o) - folded
    forced: set[int] = set()
    for ref in [*o.expand, *([o.focus] if o.focus is not None else []), *(o.select or ())]:
        i = _resolve(graph, ref)
        forced |= tree.close_upward([i])
    collapsed, partial = _collapse(tree, keep, forced, {_resolve(graph, r) for r in o.collapse}, o)
    # rep[i]: the drawn node that stands for kept node i (itself, its collapsed ancestor, or the
    # stand-in, numbered len(graph) + parent, for the kids a partly shown node does not show)
    rep: dict[int, int] = {}
    shown: dict[int, Shown] = {}
    shown_kids: dict[int, set[int]] = {
        p: set([k for k in tree.kids[p] if k in keep][:n]) for p, n in partial.items()
    }
    for i in tree.order:
        if i not in keep:
            continue
        p = tree.parent[i]
        if p is not None and p in partial and rep[p] == p and i not in shown_kids[p]:
            r = len(graph.nodes) + p
            if r not in shown:
                parent = graph.nodes[p]
                shown[r] = Shown(Node(r, fixed_path=f"{parent.path}/…" if parent.path else "…"), collapsed=True)
            rep[i] = r
        elif p is not None and p in rep and (rep[p] != p or p in collapsed):
            rep[i] = rep[p]
        else:
            rep[i] = i
            shown[i] = Shown(graph.nodes[i], collapsed=i in collapsed)
            continue
        s, node = shown[rep[i]], graph.nodes[i]
        s.hidden_nodes += 1
        s.hidden_variables += node.kind in ("variable", "slot")
        s.hidden_bytes += node.nbytes
    view = Plan(dict(sorted(shown.items())), [], total=len(keep))
    owners = {i: tree.parent[i] if i < len(graph.nodes) else i - len(graph.nodes) for i in shown}
    view.owners = {i: p for i, p in owners.items() if p is not None and p in shown}
    names: dict[int, dict[int, str]] = {}
    for i, p in view.owners.items():
        if p not in names:
            names[p] = {}
            for e in reversed(graph.out_edges(p)):
                names[p][e.child] = e.local_name
        view.names[i] = names[p].get(i, "…")
    view.edges.extend((p, "…", i) for i, p in view.owners.items() if i >= len(graph.nodes))
    merged: dict[tuple[int, int], int] = {}
    for e in graph.edges:
        if e.parent not in rep or e.child not in rep:
            continue
        a, b = rep[e.parent], rep[e.child]
        if b >= len(graph.nodes) and a == b - len(graph.nodes):
            continue  # drawn once as the parent's "…" edge
        if a == e.parent and b == e.child:
            view.edges.append((a, e.local_name, b))
        elif a != b:
            merged[(a, b)] = merged.get((a, b), 0) + 1
    view.merged_edges = [(a, b, n) for (a, b), n in merged.items()]
    # a drawn slot keeps its links even when its variable is folded away: they end at the fold
    view.slot_edges = [
        s._replace(optimizer_id=rep[s.optimizer_id], variable_id=rep[s.variable_id])
        for s in graph.slots
        if rep.get(s.slot_id) == s.slot_id and s.optimizer_id in rep and s.variable_id in rep
    ]
    describe(graph, view, o)
    return view


def redundant_lists(graph: ObjectGraph) -> frozenset[int]:
    """Lists held by an optimizer whose items are all its slots, the variables of its slots or its
    own direct children: the dashed slot edges draw the same links."""
    out = set()
    for opt in graph.of_kind("optimizer"):
        linked = {i for s in graph.slots if s.optimizer_id == opt.id for i in (s.slot_id, s.variable_id)}
        linked.update(graph.children(opt.id).values())
        for e in graph.out_edges(opt.id):
            items = graph.out_edges(e.child)
            if items and all(x.local_name == str(k) and x.child in linked for k, x in enumerate(items)):
                out.add(e.child)
    return frozenset(out)


def _kept(graph: ObjectGraph, tree: Tree, o: GraphView) -> set[int]:
    """Nodes left by ``select``, ``focus``, ``filter``, ``hide_empty`` and ``slots`` (closed
    under ancestors, so everything kept hangs off the root)."""
    nodes = graph.nodes
    keep = {i for i in range(len(nodes)) if i == 0 or tree.parent[i] is not None}
    if o.hide_empty:
        keep = {i for i in keep if nodes[i].has_checkpoint_values or i == 0}
    if not o.slots:
        keep -= {i for i in keep if nodes[i].kind == "slot"}
    targets: set[int] | None = None
    if o.select is not None:
        targets = {_resolve(graph, r) for r in o.select}
    if o.focus is not None:
        inside = set(tree.subtree(_resolve(graph, o.focus)))
        slots = {s.slot_id for s in graph.slots if s.variable_id in inside}
        targets = (targets or set()) | inside | slots
    if o.filter is not None:
        pattern = re.compile(o.filter)
        matched = {i for i in keep if pattern.search(nodes[i].path)}
        targets = matched if targets is None else targets & matched
    if targets is not None:
        keep &= tree.close_upward(targets & keep) | {0}
    # a node whose owner is dropped would float loose: drop it too
    held: set[int] = set()
    for i in tree.order:  # owners come before what they own
        p = tree.parent[i]
        if i in keep and (p is None or p in held):
            held.add(i)
    return held


def _collapse(
    tree: Tree, keep: set[int], forced: set[int], folded: set[int], o: GraphView
) -> tuple[set[int], dict[int, int]]:
    """Expand breadth-first, at each depth the nodes with the fewest kids first, while the drawing
    stays within ``max_nodes``; explicit ``collapse`` and ``max_depth`` always fold. The room left
    is then shared among the nodes that did not fit: each shows its first kids and folds the rest
    into one stand-in (``partial[node] = kids shown``), so a 7 000-item list still shows its start."""
    collapsed: set[int] = set()
    partial: dict[int, int] = {}
    pending: list[tuple[int, list[int]]] = []
    budget = o.max_nodes if o.max_nodes is not None else len(keep)
    visible = 1
    order = {i: n for n, i in enumerate(tree.order)}
    level = [0] if 0 in keep else []
    while level:
        following: list[int] = []
        with_kids = [(i, [k for k in tree.kids[i] if k in keep]) for i in level]
        for i, kids in sorted(with_kids, key=lambda t: (t[0] not in forced, len(t[1]))):
            if not kids:
                continue
            if i in folded or (o.max_depth is not None and tree.depth[i] >= o.max_depth and i not in forced):
                collapsed.add(i)
            elif i in forced or visible + len(kids) <= budget:
                visible += len(kids)
                following.extend(kids)
            else:
                pending.append((i, kids))
        level = sorted(following, key=order.__getitem__)
    pending.sort(key=lambda t: (tree.depth[t[0]], len(t[1])))
    for n, (i, kids) in enumerate(pending):
        share = (budget - visible) // (len(pending) - n)
        if share < _MIN_PARTIAL:
            collapsed.add(i)
            continue
        partial[i] = share - 1
        visible += share
        collapsed.update(k for k in kids[: share - 1] if any(g in keep for g in tree.kids[k]))
    return collapsed, partial


def describe(graph: ObjectGraph, plan: Plan, o: GraphView) -> None:
    """Labels, tooltips, statuses and the title of the drawn nodes."""
    slot_of = {s.slot_id: s for s in graph.slots}
    for i, shown in plan.nodes.items():
        plan.labels[i] = _label(graph, shown, slot_of, plan.names.get(i, shown.node.name))
        plan.tooltips[i] = _tooltip(graph, shown, slot_of)
    for ref, state in (o.status or {}).items():
        if not isinstance(ref, int):
            raise TypeError(f"status is keyed by node id, not {ref!r} (use CheckReport.by_node)")
        if ref in plan.nodes:
            plan.status[ref] = state
    plan.intensity = {i: v for i, v in (o.intensity or {}).items() if i in plan.nodes}
    kind = "object graph" if graph.object_based else "scope tree (name-based, no object graph)"
    source = graph.source.rsplit("/", 2)
    name = "/".join(source[-2:]) if graph.source else "checkpoint"
    n = len(graph.nodes)
    drawn = f"{len(plan.nodes)} of {n} nodes drawn" if len(plan.nodes) < n else f"{n} nodes"
    plan.title = o.title if o.title is not None else f"{name}: {kind}, {drawn}"


def value_spec(dtype: str, shape: tuple[int, ...] | None) -> str:
    """``float32[1,5]``, ``int64 scalar``: dtype and shape the way TF users read them."""
    if shape is None:
        return dtype
    return f"{dtype} scalar" if shape == () else f"{dtype}[{','.join(map(str, shape))}]"


def _label(graph: ObjectGraph, s: Shown, slot_of: Mapping[int, Slot], local: str) -> str:
    node = s.node
    slot = slot_of.get(node.id)
    if node.id == 0:
        name = "(root)"
    elif slot is not None:
        name = slot.slot_name
    else:
        name = local
    if node.id < len(graph.nodes) and name.isdigit() and node.kind == "other":  # a list item: name its layer
        scope = graph.common_scope(node.id)
        name = f"{name}: {scope}" if scope else name
    if len(name) > 32:
        name = name[:15] + "…" + name[-15:]
    lines = [name]
    if node.dtype is not None:
        lines.append(value_spec(node.dtype, node.shape))
    if s.collapsed:
        what = f"{s.hidden_variables} variable{'s' if s.hidden_variables != 1 else ''}"
        lines.append(f"+{s.hidden_nodes} hidden: {what}, {human_size(s.hidden_bytes)}")
    return "\n".join(lines)


def _tooltip(graph: ObjectGraph, s: Shown, slot_of: Mapping[int, Slot]) -> str:
    node = s.node
    if node.id >= len(graph.nodes):  # the stand-in for the kids of a partly shown node
        return (
            f"{s.hidden_nodes} more objects under {node.path[:-2] or '(root)'}: {s.hidden_variables} variables, "
            f"{human_size(s.hidden_bytes)}"
        )
    lines = [f"{node.kind} {node.path or '(root)'}  [node {node.id}]"]
    slot = slot_of.get(node.id)
    if slot is not None:  # TF's pretty-printer wording
        owner = graph.nodes[slot.optimizer_id].path or "(root)"
        lines.append(f"{owner}'s state '{slot.slot_name}' for {graph.display_name(slot.variable_id)}")
    for a in node.attributes:
        for key in a.keys or (a.checkpoint_key + " (missing)",):
            v = next((v for v in node.values if v.key == key), None)
            desc = f"{value_spec(v.dtype, v.shape)} {human_size(v.nbytes)}" if v else ""
            lines.append(f"{key}  {desc}".rstrip())
    if node.full_name:
        lines.append(f"full_name: {node.full_name}")
    if node.registered_saver:
        lines.append(f"registered saver: {node.registered_saver}")
    if s.collapsed:
        lines.append(f"collapsed: {s.hidden_nodes} nodes, {s.hidden_variables} variables, {human_size(s.hidden_bytes)}")
    return "\n".join(lines)
