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
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter, methodcaller
from typing import TYPE_CHECKING, Any

import numpy as np

from ...format.naming import OBJECT_GRAPH_KEY
from ..paths import object_path, object_paths
from .columns import STATUSES

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint
    from .columns import Table


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
        return dict(vars(self))  # every field is a plain value: asdict's deep copy is not needed

    def to_json(self) -> dict[str, Any]:
        """``to_dict`` with NaN and ±Inf as None (JSON has neither): only the ratios can be."""
        out = dict(vars(self))
        for name in ("fraction_changed", "relative_change"):
            if out[name] is not None and not math.isfinite(out[name]):
                out[name] = None
        return out


# running sums per path: keys, params, bytes, changed params, ‖Δ‖², ‖a‖², numeric params compared,
# string/variant params compared, keys added/removed/retyped, keys changed, NaN/Inf or norm alarm
_KEYS, _PARAMS, _BYTES, _CHANGED, _DIFF2, _NORM2, _NUMERIC, _OBJECTS, _OTHER, _MOVED, _ALARM = range(11)


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
        keys = [k for k in ckpt.entries if k != OBJECT_GRAPH_KEY]
        paths = object_paths(keys)
        home = dict(zip(keys, paths))
        kinds = dict.fromkeys(paths, "variable")
    _fill(parent, set(home.values()).difference(parent), kinds)  # missing ancestors (scopes, orphans)
    return home, parent, kinds, also


def _fill(parent: dict[str, str | None], missing: Iterable[str], kinds: dict[str, str] | None = None) -> None:
    """Give each path in ``missing`` (and its missing ancestors) its parent path, a level at a time."""
    todo = list(set(missing).difference(parent))
    while todo:
        ups = list(map(_FIRST, map(_SCOPE, todo)))
        parent.update(zip(todo, ups))
        if "" in parent and parent[""] == "":
            parent[""] = None  # the root has none
        if kinds is not None:
            for p in todo:
                kinds.setdefault(p, "other")
        todo = list(set(ups).difference(parent))


_FIRST, _SCOPE = itemgetter(0), methodcaller("rpartition", "/")


def _homes(table: Table, home_a: dict[str, str], home_b: dict[str, str]) -> list[str]:
    """The path each row counts at: b's key's home, else a's; a key outside any object, its scope."""
    out = []
    for ka, kb in zip(table.keys_a, table.keys_b):
        key, home = (kb, home_b) if kb is not None else (ka, home_a)
        at = home.get(key)  # type: ignore[arg-type]
        out.append(at if at is not None else object_path(key))  # type: ignore[arg-type]
    return out


def rollup(
    table: Table, a: Checkpoint, b: Checkpoint, explode: float = 1.0, max_norm: float | None = None
) -> list[Rollup]:
    """One ``Rollup`` per object path of either side (b's kind wins), root first, then by path."""
    home_a, parent_a, kinds_a, also_a = _structure(a)
    home_b, parent_b, kinds_b, also_b = _structure(b)
    parent = {**parent_a, **parent_b}
    kinds = {**kinds_a, **kinds_b}
    homes = _homes(table, home_a, home_b)
    contrib = _contributions(table, max_norm)
    _fill(parent, set(homes).difference(parent))  # keys outside any object: their scopes join the tree
    paths = sorted(parent)  # the root ("") first
    index: dict[str | None, int] = {p: i for i, p in enumerate(paths)}
    index_of = {**index, None: -1}  # the root's parent: none
    up = np.fromiter(map(index_of.__getitem__, map(parent.__getitem__, paths)), np.int64, len(paths))
    sums = np.zeros((len(paths), 11))
    if homes:
        np.add.at(sums, np.fromiter(map(index.__getitem__, homes), np.int64, len(homes)), contrib)
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
    return _rollups(paths, sums, shared, kinds, set(kinds_a), set(kinds_b), explode)


def _contributions(table: Table, max_norm: float | None) -> np.ndarray:
    """What each row adds to the sums of its subtree (a row of ``_KEYS`` … ``_ALARM`` per row),
    from the table's columns."""
    m = table.metrics
    out = np.zeros((len(table), 11))
    out[:, _KEYS] = 1
    out[:, _PARAMS] = table.elements
    out[:, _BYTES] = table.nbytes
    out[:, _MOVED] = table.status != STATUSES.index("unchanged")
    other = ~m.has
    objects = m.has & ~m.present["norm_a"]  # strings and variants: counts, no norms
    numeric = m.has & m.present["norm_a"]
    out[:, _CHANGED] = np.where(other, table.elements, m.counts["changed"])
    out[other, _OTHER] = 1
    out[objects, _OBJECTS] = out[objects, _PARAMS]
    out[numeric, _NUMERIC] = out[numeric, _PARAMS]
    out[numeric, _DIFF2] = np.where(m.present["norm_diff"], m.floats["norm_diff"], 0.0)[numeric] ** 2
    out[numeric, _NORM2] = m.floats["norm_a"][numeric] ** 2
    c = m.counts
    alarm = (c["nan_b"] > c["nan_a"]) | (c["inf_b"] > c["inf_a"])
    if max_norm is not None:
        alarm |= np.where(m.present["norm_b"], m.floats["norm_b"], 0.0) > max_norm
    out[numeric, _ALARM] = alarm[numeric]
    return out


def _rollups(
    paths: list[str],
    sums: np.ndarray,
    shared: np.ndarray,
    kinds: dict[str, str],
    in_a: set[str],
    in_b: set[str],
    explode: float,
) -> list[Rollup]:
    """The ``Rollup`` of each path from its sums, computed as columns."""
    params, numeric = sums[:, _PARAMS], sums[:, _NUMERIC]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = sums[:, _CHANGED] / params
        rel = np.where(
            sums[:, _NORM2] > 0,
            np.sqrt(sums[:, _DIFF2]) / np.sqrt(sums[:, _NORM2]),
            np.where(sums[:, _DIFF2] == 0, 0.0, np.inf),
        )
    has_rel = (sums[:, _NORM2] > 0) | (numeric != 0)
    frozen = (numeric + sums[:, _OBJECTS] > 0) & (sums[:, _OTHER] == 0) & (sums[:, _CHANGED] == 0)
    exploded = (sums[:, _ALARM] != 0) | (has_rel & (rel > explode))
    moved = sums[:, _MOVED] != 0
    side_a = np.fromiter(map(in_a.__contains__, paths), bool, len(paths))
    side_b = np.fromiter(map(in_b.__contains__, paths), bool, len(paths))
    one_side = (side_a != side_b) & np.fromiter(map(bool, paths), bool, len(paths))  # never the root
    status = np.select([one_side & side_a, one_side, moved], ["removed", "added", "changed"], "unchanged")
    columns = (
        paths, map(kinds.get, paths, repeat("other")), status.tolist(),
        sums[:, _KEYS].astype(np.int64).tolist(), params.astype(np.int64).tolist(),
        sums[:, _BYTES].astype(np.int64).tolist(), sums[:, _CHANGED].astype(np.int64).tolist(),
        _or_none(fraction, params != 0), _or_none(rel, has_rel),
        frozen.tolist(), exploded.tolist(), shared.astype(np.int64).tolist(),
    )  # fmt: skip
    return list(map(Rollup, *columns))


def _or_none(values: np.ndarray, present: np.ndarray) -> list[float | None]:
    out = values.astype(object)
    out[~present] = None
    return out.tolist()  # type: ignore[no-any-return]
