"""The render plan: which part of an ObjectGraph to draw (selection, filters, folding) and what
each drawn node says (label, tooltip, status), as plain data before any layout. DOT and a browser
draw the same plan (``Plan.to_dict()``).

Folding follows the ownership tree (``tree.py``) and opens it pattern by pattern within a node
budget (``collapse.py``); the words on the nodes come from ``labels.py``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, KeyNotFoundError, NothingMatchedError
from ..model.graph import ObjectGraph
from ..model.records import KINDS, Node, Slot
from . import labels
from .collapse import fold
from .tree import Tree, tree_of

NodeRef = str | int  # a name people know (object path, alias path, key, full name) or a node id
DEFAULT_MAX_NODES = 100  # an overview that fits a screen


@dataclass(frozen=True)
class DrawOptions:
    """Options of a picture. ``max_nodes`` folds subtrees until about that many nodes remain (None:
    never); ``max_depth`` folds below that depth; ``collapse``/``expand`` name nodes to fold or keep
    open; ``focus`` draws one object's subtree and the path to it; ``filter`` (a regex searched in
    paths, labels and full names) and ``select`` (the TF guide's partial-restore picture) keep those
    objects and their ancestors; with a ``focus``, ``max_depth`` counts from it. Names are object paths, alias paths, keys or full names (or node
    ids). ``hide_empty`` drops nodes TF marks as holding no checkpoint values; ``slots=False`` hides
    slot variables; ``optimizer_lists=True`` draws the Keras 3 / tf_keras optimizer's bookkeeping
    lists (``_variables``, ``_momentums``…) that the slot edges already show (hidden by default, so
    those checkpoints draw like the guide's picture)."""

    max_nodes: int | None = DEFAULT_MAX_NODES
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
    # Search hits to show: only their ancestors open (each showing the kid on the way and what
    # room is left), their siblings stay folded with counts.
    reveal: Sequence[NodeRef] = ()
    # A number per node to colour by (a norm, a NaN count, a diff's |Δ|), named ``values_name``:
    # drawn nodes get its colour ramp and value; a fold shows min/max/mean of what it holds.
    values: Mapping[int, float] | None = None
    values_name: str = ""


@dataclass
class Shown:
    """A drawn node; when ``collapsed``, what it stands for besides itself."""

    node: Node
    collapsed: bool = False
    hidden_nodes: int = 0
    hidden_variables: int = 0
    hidden_slots: int = 0
    hidden_bytes: int = 0


@dataclass
class Plan:
    """What to draw, ``nodes`` in drawing order (depth-first, kids in natural order). Stand-ins for
    the unshown kids of node ``p`` have id ``-1 - p``; groups of named layers (``tree.py``) have
    ids from ``len(graph)`` on."""

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
    shown: dict[int, tuple[str, str]] = field(default_factory=dict)  # node -> (display path, display name)
    tooltips: dict[int, str] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    intensity: dict[int, float] = field(default_factory=dict)
    title: str = ""
    summary: dict[str, Any] | None = None  # what is folded (labels.summary), None when nothing is
    overlay: dict[int, tuple[float, float, float, int]] = field(default_factory=dict)  # min, max, mean, count
    overlay_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: drawn nodes in drawing order with kind/label/tooltip/status, the three kinds
        of edges (slot edges say whether the link is ``inferred``) and the fold summary."""
        return {
            "title": self.title,
            "total": self.total,
            "nodes": [
                {
                    "id": i,
                    "order": n,
                    "path": self.shown.get(i, (s.node.path, ""))[0],
                    "display_name": self.shown.get(i, ("", s.node.path))[1],
                    "key_path": s.node.path,
                    "kind": s.node.kind,
                    "label": self.labels.get(i, ""),
                    "tooltip": self.tooltips.get(i, ""),
                    "status": self.status.get(i),
                    "intensity": self.intensity.get(i),
                    "collapsed": s.collapsed,
                    "hidden_nodes": s.hidden_nodes,
                    "hidden_variables": s.hidden_variables,
                    "hidden_slots": s.hidden_slots,
                    "hidden_bytes": s.hidden_bytes,
                    "owner": self.owners.get(i),
                    "virtual": s.node.paths is None,  # a group of layers or a stand-in
                    "overlay": None
                    if i not in self.overlay
                    else dict(zip(("min", "max", "mean", "count"), self.overlay[i], strict=True)),
                }
                for n, (i, s) in enumerate(self.nodes.items())
            ],
            "edges": [{"parent": p, "label": n, "child": c} for p, n, c in self.edges],
            "merged_edges": [{"parent": a, "child": b, "count": n} for a, b, n in self.merged_edges],
            "slot_edges": [s.to_dict() for s in self.slot_edges],
            "summary": self.summary,
            "overlay_name": self.overlay_name,
        }


def resolve(graph: ObjectGraph, ref: NodeRef, tree: Tree | None = None) -> int:
    """The node id of a name people know (``graph.resolve``) or of an id (a group's, given the
    ``tree``; a stand-in's ``-1 - parent`` means its parent)."""
    if isinstance(ref, int):
        if ref < 0 and tree is not None:
            ref = -1 - ref
        if not 0 <= ref < (len(graph.nodes) + len(tree.groups) if tree is not None else len(graph.nodes)):
            raise KeyNotFoundError(str(ref), (), what="node id")
        return ref
    if tree is not None and ref.endswith("_*"):  # a group as drawn: ``conv4_*`` or ``model/conv4_*``
        for g in range(tree.real, tree.real + len(tree.groups)):
            if ref in (f"{tree.group(g).prefix}_*", _path_of(graph, tree, g)):
                return g
    return graph.resolve(ref).id


def stand_in(parent: int) -> int:
    """The id of the stand-in for the kids a partly shown ``parent`` does not show."""
    return -1 - parent


def select_view(graph: ObjectGraph, options: DrawOptions | None = None) -> Plan:
    """The nodes and edges to draw for ``options`` (all pure data; no Graphviz)."""
    o = options or DrawOptions()
    hidden_lists = frozenset() if o.optimizer_lists else redundant_lists(graph)
    tree = tree_of(graph, hidden_lists)
    keep = _kept(graph, tree, o) - hidden_lists
    expanded = {resolve(graph, ref, tree) for ref in o.expand}
    forced: set[int] = tree.close_upward(expanded)
    for ref in o.select or ():
        forced |= tree.close_upward([resolve(graph, ref, tree)])
    reveal = tree.close_upward(resolve(graph, r, tree) for r in o.reveal)
    base = 0  # with a focus, max_depth counts from it, and its own kids fit the budget like any
    if o.focus is not None:
        focus = resolve(graph, o.focus, tree)
        base = tree.depth[focus]
        forced |= tree.close_upward(tree.ancestors(focus))
    max_depth = None if o.max_depth is None else base + o.max_depth
    collapse = {resolve(graph, r, tree) for r in o.collapse}
    folding = fold(tree, keep, forced, collapse, o.max_nodes, max_depth, reveal, expanded)
    collapsed, shown_kids = folding.collapsed, folding.shown_kids
    # rep[i]: the drawn node that stands for kept node i (itself, its collapsed ancestor, or the
    # stand-in, numbered -1 - parent, for the kids a partly shown node does not show)
    rep: dict[int, int] = {}
    shown: dict[int, Shown] = {}
    real = len(graph.nodes)
    kinds, node_bytes = graph.kind_codes.tolist(), graph.node_bytes.tolist()  # columns: no Node per node
    variable, slot = KINDS.index("variable"), KINDS.index("slot")
    for i in tree.order:  # depth-first: a stand-in comes after the subtrees of its parent's shown kids
        if i not in keep:
            continue
        p = tree.parent[i]
        if p is not None and p in shown_kids and rep[p] == p and i not in shown_kids[p]:
            r = stand_in(p)
            if r not in shown:
                where = _path_of(graph, tree, p)
                shown[r] = Shown(Node(r, fixed_path=f"{where}/…" if where else "…"), collapsed=True)
            rep[i] = r
        elif p is not None and p in rep and (rep[p] != p or p in collapsed):
            rep[i] = rep[p]
        else:
            rep[i] = i
            node = graph.nodes[i] if i < real else Node(i, fixed_path=_path_of(graph, tree, i))
            shown[i] = Shown(node, collapsed=i in collapsed)
            continue
        if i >= real:
            continue  # a group counts what it holds, not itself
        s = shown[rep[i]]
        s.hidden_nodes += 1
        s.hidden_variables += kinds[i] == variable
        s.hidden_slots += kinds[i] == slot
        s.hidden_bytes += node_bytes[i]
    view = Plan(shown, [], total=sum(1 for i in keep if i < real))
    owners = {i: tree.parent[i] if i >= 0 else -1 - i for i in shown}
    view.owners = {i: p for i, p in owners.items() if p is not None and p in shown}
    names: dict[int, dict[int, str]] = {}
    for i, p in view.owners.items():
        if i < 0:
            view.names[i] = "…"
        elif i >= real:
            view.names[i] = tree.group(i).label + "_*"
        else:
            view.names[i] = tree.local[i]
            if p < real and p not in names:
                names[p] = {e.child: e.local_name for e in reversed(graph.out_edges(p))}
            if p < real:
                view.names[i] = names[p].get(i, "…")
    position = {i: n for n, i in enumerate(shown)}
    merged: dict[tuple[int, int], int] = {}
    for e in graph.edges:
        if e.parent not in rep or e.child not in rep:
            continue
        owner = tree.parent[e.child]
        source = (
            owner if owner is not None and owner >= real and tree.group(owner).owner == e.parent else e.parent
        )
        a, b = rep[source], rep[e.child]
        if b < 0 and a == -1 - b:
            continue  # drawn once as the parent's "…" edge
        if a == source and b == e.child:
            view.edges.append((a, e.local_name, b))
        elif a != b:
            merged[(a, b)] = merged.get((a, b), 0) + 1
    view.edges.extend((p, view.names[i], i) for i, p in view.owners.items() if i < 0 or i >= real)
    view.edges.sort(key=lambda t: position[t[2]])  # stable: a node's own edge before its aliases
    view.merged_edges = sorted(((a, b, n) for (a, b), n in merged.items()), key=lambda t: position[t[1]])
    # a drawn slot keeps its links even when its variable is folded away: they end at the fold
    slots = [
        s._replace(optimizer_id=rep[s.optimizer_id], variable_id=rep[s.variable_id])
        for s in graph.slots
        if rep.get(s.slot_id) == s.slot_id and s.optimizer_id in rep and s.variable_id in rep
    ]
    view.slot_edges = sorted(slots, key=lambda s: position[s.slot_id])
    if o.values is not None:
        view.overlay, view.overlay_name = _overlay(o.values, rep), o.values_name
    describe(graph, view, tree, o)
    return view


def _overlay(
    values: Mapping[int, float], rep: Mapping[int, int]
) -> dict[int, tuple[float, float, float, int]]:
    """Per drawn node: min, max, mean and count of the values of the nodes it stands for."""
    acc: dict[int, list[float]] = {}
    for i, v in values.items():
        r = rep.get(i)
        if r is not None and v == v:  # a NaN value is no number to colour by
            a = acc.setdefault(r, [v, v, 0.0, 0])
            a[0], a[1], a[2], a[3] = min(a[0], v), max(a[1], v), a[2] + v, a[3] + 1
    return {r: (a[0], a[1], a[2] / a[3], int(a[3])) for r, a in acc.items()}


def _path_of(graph: ObjectGraph, tree: Tree, i: int) -> str:
    """A node's display path; a group's is its list's, with the group's prefix: ``model/conv4_*``."""
    if i < len(graph.nodes):
        return graph.display_path(i)
    group = tree.group(i)
    owner = (
        graph.display_path(group.owner).rpartition("/")[0]
        if graph.object_based
        else graph.display_path(group.owner)
    )
    return f"{owner}/{group.prefix}_*" if owner else f"{group.prefix}_*"


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


def _matching(graph: ObjectGraph, tree: Tree, candidates: set[int], text: str) -> set[int]:
    """Nodes whose path, drawn name (``momentum of conv1_conv/kernel``, ``3: conv1_bn``) or full
    name the regex ``text`` searches successfully."""
    try:
        pattern = re.compile(text) if isinstance(text, str) else text  # or a matcher with .search
    except re.error as e:
        raise InvalidArgumentError(f"filter {text!r} is not a regular expression: {e}") from None
    slot_of = {s.slot_id: s for s in graph.slots}
    out = set()
    for i in candidates:
        node = graph.nodes[i]
        if (
            pattern.search(node.path)
            or pattern.search(graph.display_path(i))
            or pattern.search(graph.display_name(i))
            or (node.full_name and pattern.search(node.full_name))
            or pattern.search(labels.node_name(graph, i, tree.local[i], slot_of))
        ):
            out.add(i)
    return out


def _kept(graph: ObjectGraph, tree: Tree, o: DrawOptions) -> set[int]:
    """Nodes left by ``select``, ``focus``, ``filter``, ``hide_empty`` and ``slots`` (closed
    under ancestors, so everything kept hangs off the root)."""
    kept = np.fromiter(map(operator.is_not, tree.parent, repeat(None)), bool, len(graph.nodes))
    if o.hide_empty:
        kept &= graph.checkpointed
    if not o.slots:
        kept &= graph.kind_codes != KINDS.index("slot")
    keep = set(np.flatnonzero(kept).tolist()) | {0}  # columns: no Node object made
    objects = len(keep)
    keep.update(range(tree.real, tree.real + len(tree.groups)))  # dropped below when they hold nothing
    targets: set[int] | None = None
    if o.select is not None:
        targets = {resolve(graph, r, tree) for r in o.select}
    if o.focus is not None:
        inside = set(tree.subtree(resolve(graph, o.focus, tree)))
        slots = {s.slot_id for s in graph.slots if s.variable_id in inside}
        targets = (targets or set()) | inside | slots
    if o.filter is not None:
        matched = _matching(graph, tree, {i for i in keep if i < tree.real}, o.filter)
        if not matched:
            raise NothingMatchedError(
                f"filter {o.filter!r} matched nothing: it was searched in the object paths, labels "
                f"and full names of {objects} objects"
            )
        targets = matched if targets is None else targets & matched
    if targets is not None:
        keep &= tree.close_upward(targets & keep) | {0}
    # a node whose owner is dropped would float loose: drop it too
    held: set[int] = set()
    for i in tree.order:  # owners come before what they own
        p = tree.parent[i]
        if i in keep and (p is None or p in held):
            held.add(i)
    for i in reversed(tree.order):  # a group that holds nothing kept is not drawn
        if i >= tree.real and not any(k in held for k in tree.kids[i]):
            held.discard(i)
    return held


def describe(graph: ObjectGraph, plan: Plan, tree: Tree, o: DrawOptions) -> None:
    """Labels, tooltips, statuses, the fold summary and the title of the drawn nodes."""
    slot_of = {s.slot_id: s for s in graph.slots}
    for i, shown in plan.nodes.items():
        local = plan.names.get(i, shown.node.name)
        if 0 <= i < len(graph.nodes):
            name = labels.node_name(graph, i, local, slot_of)
            plan.shown[i] = (graph.display_path(i), graph.display_name(i))
        elif i >= 0:  # a group of named layers
            name = tree.group(i).prefix + "_*"
            plan.shown[i] = (shown.node.path, name)
        else:
            name = local
        plan.labels[i] = labels.label(graph, shown, name, plan.overlay.get(i), plan.overlay_name)
        plan.tooltips[i] = labels.tooltip(graph, shown, slot_of, tree)
    for ref, state in (o.status or {}).items():
        if not isinstance(ref, int):
            raise TypeError(f"status is keyed by node id, not {ref!r} (use CheckReport.by_node)")
        if ref in plan.nodes:
            plan.status[ref] = state
    plan.intensity = {i: v for i, v in (o.intensity or {}).items() if i in plan.nodes}
    plan.summary = labels.summary(graph, plan, tree)
    kind = "object graph" if graph.object_based else "scope tree (name-based, no object graph)"
    source = graph.source.rsplit("/", 2)
    name = "/".join(source[-2:]) if graph.source else "checkpoint"
    n = len(graph.nodes)
    drawn = f"{len(plan.nodes)} of {n} nodes drawn" if len(plan.nodes) < n else f"{n} nodes"
    plan.title = o.title if o.title is not None else f"{name}: {kind}, {drawn}"


value_spec = labels.value_spec
