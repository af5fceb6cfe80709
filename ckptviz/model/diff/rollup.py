"""Roll-ups of diff rows by object-graph subtree: per layer, per module, per optimizer.

A key belongs to the object holding it; an optimizer slot to its optimizer (so a layer's own
weights decide whether it moved). Every ancestor path of that object accumulates the key, which
costs the depth of the tree per key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..graph import ObjectGraph
    from .result import Row

_ATTRIBUTES = "/.ATTRIBUTES/"


@dataclass
class Rollup:
    """One object-graph subtree: ``status`` is ``changed`` when anything under it was changed,
    added or removed. ``frozen``: it has parameters on both sides and none moved. ``exploded``:
    relative change above the threshold, a norm above ``max_norm``, or NaN/Inf appearing below it."""

    path: str
    kind: str = "other"
    status: str = "unchanged"
    keys: int = 0
    params: int = 0
    bytes: int = 0
    changed_params: int = 0
    fraction_changed: float | None = None
    relative_change: float | None = None
    frozen: bool = False
    exploded: bool = False
    # running sums, dropped from to_dict()
    _diff_sq: float = 0.0
    _norm_sq: float = 0.0
    _compared: int = 0
    _objects: int = 0  # string and variant elements compared
    _other: int = 0  # added, removed or retyped keys

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


def owners(graph: ObjectGraph) -> dict[str, list[str]]:
    """``{key: paths it counts in}``: its object and that object's ancestors; a slot counts in
    itself and in its optimizer's subtree, not in its variable's layer."""
    slot_owner = {s.slot_id: s.optimizer_id for s in graph.slots}
    out: dict[str, list[str]] = {}
    for node in graph.nodes:
        if not node.values:
            continue
        if node.id in slot_owner:
            paths = [*_ancestors(graph.nodes[slot_owner[node.id]].path), node.path]
        else:
            paths = list(_ancestors(node.path))
        for v in node.values:
            out[v.key] = paths
    return out


def _ancestors(path: str) -> list[str]:
    parts = path.split("/") if path else []
    return ["", *("/".join(parts[: i + 1]) for i in range(len(parts)))]


def rollup(
    rows: Iterable[Row],
    graph_a: ObjectGraph,
    graph_b: ObjectGraph,
    explode: float = 1.0,
    max_norm: float | None = None,
) -> list[Rollup]:
    """One ``Rollup`` per object path of either graph (b's kind wins), root first, then by path."""
    owner_a, owner_b = owners(graph_a), owners(graph_b)
    out: dict[str, Rollup] = {}
    present: dict[str, set[str]] = {}
    for side, graph in (("a", graph_a), ("b", graph_b)):
        for node in graph.nodes:
            if node.reachable or node.values:
                out.setdefault(node.path, Rollup(node.path)).kind = node.kind
                present.setdefault(node.path, set()).add(side)
    for row in rows:
        key, owner = (row.key_b, owner_b) if row.key_b is not None else (row.key_a or "", owner_a)
        paths = owner.get(key) or _ancestors(key.partition(_ATTRIBUTES)[0])
        params = row.elements
        for path in paths:
            r = out.get(path)
            if r is None:
                r = out[path] = Rollup(path)
                present[path] = {"a", "b"}
            r.keys += 1
            r.params += params
            r.bytes += row.nbytes
            if row.status in ("added", "removed") or (row.delta is None and row.status == "changed"):
                r._other += 1
                r.changed_params += params
            elif row.delta is not None and row.delta.norm_a is None:  # strings, variants
                r._objects += params
                r.changed_params += row.delta.changed
            elif row.delta is not None:
                r._compared += params
                r.changed_params += row.delta.changed
                r._diff_sq += (row.delta.norm_diff or 0.0) ** 2
                r._norm_sq += (row.delta.norm_a or 0.0) ** 2
                grew = row.delta.nan_b > row.delta.nan_a or row.delta.inf_b > row.delta.inf_a
                big = max_norm is not None and (row.delta.norm_b or 0.0) > max_norm
                r.exploded = r.exploded or grew or big
            if row.status != "unchanged":
                r.status = "changed"
    for path, r in out.items():
        sides = present.get(path, {"a", "b"})
        if sides == {"a"}:
            r.status = "removed"
        elif sides == {"b"}:
            r.status = "added"
        if r.params:
            r.fraction_changed = r.changed_params / r.params
        if r._norm_sq > 0:
            r.relative_change = math.sqrt(r._diff_sq) / math.sqrt(r._norm_sq)
        elif r._compared:
            r.relative_change = 0.0 if r._diff_sq == 0 else math.inf
        r.frozen = r._compared + r._objects > 0 and r._other == 0 and r.changed_params == 0
        r.exploded = r.exploded or (r.relative_change is not None and r.relative_change > explode)
    return [out[p] for p in sorted(out, key=lambda p: (p != "", p))]
