"""Roll-ups of diff rows by object-graph subtree: per layer, per module, per optimizer.

Subtrees are named by display paths (``model/conv1_conv``). A key counts in the object holding
it and every subtree that reaches it (``model/ownership.py``): a Keras 3 weight counts in its
layer, the model and the root, and also in the optimizer that tracks it (``shared_params`` says
how much of a total is also counted elsewhere). An optimizer slot counts in its optimizer's
subtree, not in its variable's layer (so a layer's own weights decide whether it moved). Sums are
made once per key at its object, pushed up the home tree once per object, deepest first, then
once along each other edge into a subtree: linear in keys plus objects plus edges. Name-based
checkpoints roll up by scope (``dense/kernel`` → ``dense``) without building their scope tree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...format.naming import OBJECT_GRAPH_KEY
from ..paths import object_path

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint
    from .result import Row


@dataclass
class Rollup:
    """One subtree: ``status`` is ``changed`` when anything under it was changed, added or removed,
    ``added``/``removed`` when the object is on one side only. ``frozen``: parameters compared on both
    sides and none moved. ``exploded``: relative change above the threshold, a norm above ``max_norm``
    or NaN/Inf appearing below it."""

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
    shared_params: int = 0  # of ``params``, those also counted under another subtree that reaches them

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# running sums per path: keys, params, bytes, changed params, ‖Δ‖², ‖a‖², numeric params compared,
# string/variant params compared, keys added/removed/retyped, keys changed, NaN/Inf or norm alarm
_KEYS, _PARAMS, _BYTES, _CHANGED, _DIFF2, _NORM2, _NUMERIC, _OBJECTS, _OTHER, _MOVED, _ALARM = range(11)


def _parent(path: str) -> str | None:
    return None if path == "" else path.rpartition("/")[0]


def _structure(
    ckpt: Checkpoint,
) -> tuple[dict[str, str], dict[str, str | None], dict[str, str], list[tuple[str, str]]]:
    """``({key: path it sits at}, {path: parent path}, {path: kind}, [(path, path it also reaches)])``
    of one side, by display paths along home paths."""
    home: dict[str, str] = {}
    parent: dict[str, str | None] = {}
    kinds: dict[str, str] = {}
    also: list[tuple[str, str]] = []
    if ckpt.is_object_based:
        graph = ckpt.graph
        shown = [graph.display_path(i) for i in range(len(graph.nodes))]
        for node in graph.nodes:
            if not (node.reachable or node.values):
                continue
            kinds[shown[node.id]] = node.kind
            owner = graph.home_parent(node.id) if node.id else None
            parent[shown[node.id]] = shown[owner] if owner is not None else None
            for v in node.values:
                home[v.key] = shown[node.id]
        for e in graph.edges:  # other edges into a subtree: Keras 3 optimizers list the weights
            if e.child and graph.home_parent(e.child) != e.parent and e.child != e.parent:
                also.append((shown[e.parent], shown[e.child]))
    else:
        for key in ckpt.entries:
            if key == OBJECT_GRAPH_KEY:
                continue
            path = object_path(key)
            home[key] = path
            kinds[path] = "variable"
    for path in list(parent) + list(home.values()):  # fill in missing ancestors (scopes, orphans)
        p: str | None = path
        while p is not None and p not in parent:
            parent[p] = _parent(p)
            kinds.setdefault(p, "other")
            p = parent[p]
    return home, parent, kinds, also


def rollup(
    rows: Iterable[Row], a: Checkpoint, b: Checkpoint, explode: float = 1.0, max_norm: float | None = None
) -> list[Rollup]:
    """One ``Rollup`` per object path of either side (b's kind wins), root first, then by path."""
    home_a, parent_a, kinds_a, also_a = _structure(a)
    home_b, parent_b, kinds_b, also_b = _structure(b)
    parent = {**parent_a, **parent_b}
    kinds = {**kinds_a, **kinds_b}
    homes, contrib = [], []
    for row in rows:
        if row.key_b is not None:
            path = home_b.get(row.key_b, object_path(row.key_b))
        else:
            path = home_a.get(row.key_a or "", object_path(row.key_a or ""))
        homes.append(path)
        c = [1.0, row.elements, row.nbytes, 0, 0, 0, 0, 0, 0, row.status != "unchanged", 0]
        d = row.delta
        if d is None:
            c[_OTHER], c[_CHANGED] = 1, row.elements
        elif d.norm_a is None:  # strings, variants
            c[_OBJECTS], c[_CHANGED] = row.elements, d.changed
        else:
            c[_NUMERIC], c[_CHANGED] = row.elements, d.changed
            c[_DIFF2], c[_NORM2] = (d.norm_diff or 0.0) ** 2, d.norm_a**2
            grew = d.nan_b > d.nan_a or d.inf_b > d.inf_a
            c[_ALARM] = grew or (max_norm is not None and (d.norm_b or 0.0) > max_norm)
        contrib.append(c)
    for path in homes:  # keys outside any object: their scopes join the tree
        q: str | None = path
        while q is not None and q not in parent:
            parent[q] = _parent(q)
            q = parent[q]
    paths = sorted(parent, key=lambda p: (p != "", p))
    index = {p: i for i, p in enumerate(paths)}
    up = np.array([index[q] if (q := parent[p]) is not None else -1 for p in paths], np.int64)
    sums = np.zeros((len(paths), 11))
    if homes:
        np.add.at(sums, np.array([index[h] for h in homes]), np.array(contrib, dtype=float))
    depth = np.zeros(len(paths), np.int64)
    cur = up.copy()
    while (cur >= 0).any():  # depth by walking every node up at once
        live = cur >= 0
        depth[live] += 1
        cur[live] = up[cur[live]]
    for level in range(int(depth.max(initial=0)), 0, -1):  # deepest first, each level in one call
        nodes = np.flatnonzero(depth == level)
        np.add.at(sums, up[nodes], sums[nodes])
    shared = np.zeros(len(paths))
    for via, child in set(also_b or also_a):  # up from the other parent, until the paths meet
        if via not in index or child not in index:
            continue
        inner, own = index[child], set()
        at = int(up[inner])
        while at >= 0:
            own.add(at)
            at = int(up[at])
        at = index[via]
        while at >= 0 and at not in own and at != inner:
            sums[at] += sums[inner]
            shared[at] += sums[inner][_PARAMS]
            at = int(up[at])
    out = []
    in_a, in_b = set(kinds_a), set(kinds_b)
    for path, s, twice in zip(paths, sums.tolist(), shared.tolist()):
        r = Rollup(path, kinds.get(path, "other"), keys=int(s[_KEYS]), params=int(s[_PARAMS]))
        r.shared_params = int(twice)
        r.bytes, r.changed_params = int(s[_BYTES]), int(s[_CHANGED])
        r.status = "changed" if s[_MOVED] else "unchanged"
        if path in in_a and path not in in_b and path:
            r.status = "removed"
        elif path in in_b and path not in in_a and path:
            r.status = "added"
        if r.params:
            r.fraction_changed = r.changed_params / r.params
        if s[_NORM2] > 0:
            r.relative_change = math.sqrt(s[_DIFF2]) / math.sqrt(s[_NORM2])
        elif s[_NUMERIC]:
            r.relative_change = 0.0 if s[_DIFF2] == 0 else math.inf
        r.frozen = s[_NUMERIC] + s[_OBJECTS] > 0 and s[_OTHER] == 0 and s[_CHANGED] == 0
        r.exploded = bool(s[_ALARM]) or (r.relative_change is not None and r.relative_change > explode)
        out.append(r)
    return out
