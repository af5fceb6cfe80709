"""Will it load? Matching a checkpoint against objects before anything is restored.

The walk is TensorFlow's (``CheckpointView.match``, ``bundle_v2.cc``): from the root, each
checkpoint child is paired with the live child of the same ``local_name``; slot variables are
paired through the live optimizer. Name-based checkpoints pair variables by their TF1 names.
The objects are reached through an ``Adapter``: ``numpy_tree.NestedAdapter`` reads plain Python
trees (dicts/lists of arrays, no TensorFlow); ``tf.TFAdapter`` reads ``tf.Module``/Keras objects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import numpy as np

from ..errors import RestoreMismatchError
from ..format.dtypes import as_dtype
from ..model import paths
from ..model.graph import ObjectGraph
from ..transform.derived import DerivedCheckpoint, derive
from .report import CheckReport, Row

VALUE = paths.VARIABLE_VALUE


class Adapter(Protocol):
    """How the matcher sees live objects."""

    def children(self, obj: Any) -> Mapping[str, Any]: ...
    def values(self, obj: Any) -> Mapping[str, tuple[tuple[int, ...], str]]: ...
    def slot(self, optimizer: Any, variable: Any, slot_name: str) -> Any: ...
    def name(self, obj: Any) -> str | None: ...
    def assignable(self, target: Any, value: np.ndarray) -> str | None:
        """Why ``value`` cannot be assigned to ``target``, or None: asked of every pair first."""
        ...

    def assign(self, target: Any, value: np.ndarray) -> None: ...


def _spec(view: DerivedCheckpoint, key: str) -> tuple[tuple[int, ...], str]:
    entry = view.entries[key]
    return tuple(entry.shape), entry.dtype.name


def _compare(ckpt: tuple[tuple[int, ...], str], obj: tuple[tuple[int, ...], str]) -> bool:
    return tuple(ckpt[0]) == tuple(obj[0]) and as_dtype(ckpt[1]) == as_dtype(obj[1])


def live_objects(root: Any, adapter: Adapter) -> list[tuple[str, Any]]:
    """Every object under ``root`` once, breadth-first, with its first path."""
    out, seen, queue = [], {id(root)}, deque([("", root)])
    while queue:
        path, obj = queue.popleft()
        out.append((path, obj))
        for name, child in adapter.children(obj).items():
            if id(child) not in seen:
                seen.add(id(child))
                queue.append((paths.join(path, name), child))
    return out


def match_objects(graph: ObjectGraph, root: Any, adapter: Adapter, start: int = 0) -> dict[int, Any]:
    """``{checkpoint node id: live object}`` found by walking both graphs by local name, with the
    live ``root`` standing for checkpoint node ``start``."""
    matched: dict[int, Any] = {start: root}
    queue = deque([start])
    recorded = [s for s in graph.slots if not s.inferred]
    while True:
        while queue:
            nid = queue.popleft()
            live = adapter.children(matched[nid])
            for e in graph.out_edges(nid):
                if e.child not in matched and e.local_name in live:
                    matched[e.child] = live[e.local_name]
                    queue.append(e.child)
        for s in recorded:  # slots once their variable and optimizer are known
            if s.slot_id not in matched and s.optimizer_id in matched and s.variable_id in matched:
                found = adapter.slot(matched[s.optimizer_id], matched[s.variable_id], s.slot_name)
                if found is not None:
                    matched[s.slot_id] = found
                    queue.append(s.slot_id)
        if not queue:
            return matched


def prepare(
    src: Any, select: Any = None, exclude: Any = None, assignment_map: Mapping[str, str] | None = None
) -> DerivedCheckpoint:
    """What ``check`` and ``restore`` match: ``src`` chosen and renamed as asked."""
    view = derive(src)
    if select is not None or exclude is not None:
        view = view.select(select, exclude=exclude)
    if assignment_map:
        view = view.rename(assignment_map)
    return view


def check(
    src: Any,
    obj: Any,
    *,
    select: Any = None,
    exclude: Any = None,
    assignment_map: Mapping[str, str] | None = None,
    root: str | None = None,
    adapter: Adapter | None = None,
) -> CheckReport:
    """The will-it-load report of ``src`` (path, ``Checkpoint`` or derived) against ``obj``.

    ``obj`` is a nested dict/list of arrays or, with TensorFlow installed, a ``tf.Module``,
    Keras model/layer/optimizer or ``tf.train.Checkpoint``. ``select``/``exclude``/``assignment_map``
    choose and rename checkpoint values first; ``root`` names the checkpoint object that ``obj`` is
    (``"net"`` when the checkpoint holds the model as ``Checkpoint(net=model)``). Without it, an
    object that matches nothing from the checkpoint's root is tried at each of the root's children.
    """
    view = prepare(src, select, exclude, assignment_map)
    adapter = adapter or default_adapter(obj)
    if view.source.format == "keras" and not isinstance(obj, (Mapping, list, tuple)):
        from .keras_files import keras_variables

        return _check_keyed(view, keras_variables(obj), adapter)
    if not view.is_object_based:
        return _check_name_based(view, obj, adapter, root)
    graph = view.graph
    if root is not None:
        return _check_object_based(view, obj, adapter, graph.resolve(root).id)
    report = _check_object_based(view, obj, adapter, 0)
    if report.matched or report.mismatched:
        return report
    tries = [
        _check_object_based(view, obj, adapter, child)
        for name, child in graph.children(0).items()
        if name != "save_counter" and child != 0
    ]
    best = max(tries, key=lambda r: len(r.matched) + len(r.mismatched), default=report)
    return best if best.matched or best.mismatched else report


def default_adapter(obj: Any) -> Adapter:
    """Plain trees of arrays need no TensorFlow; anything else is a TensorFlow/Keras object."""
    if isinstance(obj, (Mapping, list, tuple)):
        from .numpy_tree import NestedAdapter

        return NestedAdapter()
    from .tf import TFAdapter

    return TFAdapter()


def _check_object_based(view: DerivedCheckpoint, root: Any, adapter: Adapter, start: int) -> CheckReport:
    graph = view.graph
    matched = match_objects(graph, root, adapter, start)
    rows: list[Row] = []
    bound: set[int] = set()
    for key in view.keys_map:
        owner = graph.owner.get(key)
        if owner is None:
            continue
        nid, attr = owner
        path = graph.display_path(nid)
        ckpt = _spec(view, key)
        live = matched.get(nid)
        spec = adapter.values(live).get(attr) if nid in matched else None
        if spec is None:
            rows.append(Row(path, "missing_in_object", key, nid, ckpt, name=graph.display_name(nid)))
            continue
        bound.add(id(live))
        status: Literal["matched", "mismatched"] = "matched" if _compare(ckpt, spec) else "mismatched"
        rows.append(Row(path, status, key, nid, ckpt, spec, live, name=graph.display_name(nid)))
    for path, obj in live_objects(root, adapter):
        if id(obj) not in bound:
            for _, spec in adapter.values(obj).items():
                rows.append(Row(path, "missing_in_checkpoint", None, None, None, spec, obj))
    return CheckReport(rows, graph, matched, root=graph.nodes[start].path if start else None)


def _check_name_based(view: DerivedCheckpoint, root: Any, adapter: Adapter, scope: str | None) -> CheckReport:
    """TF1 names: a variable's name (Keras 3: its ``path``) is its key, under ``scope/`` if given."""
    rows: list[Row] = []
    found: set[str] = set()
    prefix = f"{scope.strip('/')}/" if scope else ""
    for path, obj in live_objects(root, adapter):
        spec = adapter.values(obj).get(VALUE)
        if spec is None:
            continue
        name = prefix + (adapter.name(obj) or path)
        if name in view.keys_map:
            found.add(name)
            ckpt = _spec(view, name)
            status: Literal["matched", "mismatched"] = "matched" if _compare(ckpt, spec) else "mismatched"
            rows.append(Row(name, status, name, None, ckpt, spec, obj))
        else:
            rows.append(Row(name, "missing_in_checkpoint", None, None, None, spec, obj))
    for key in view.keys_map:
        if key not in found:
            rows.append(Row(key, "missing_in_object", key, None, _spec(view, key)))
    return CheckReport(rows, view.graph, root=scope)


def _check_keyed(view: DerivedCheckpoint, live: Mapping[str, Any], adapter: Adapter) -> CheckReport:
    """Keys paired with live variables by a known map (Keras files: the walk Keras saves by)."""
    rows: list[Row] = []
    for key in view.keys_map:
        ckpt = _spec(view, key)
        target = live.get(key)
        spec = adapter.values(target).get(VALUE) if target is not None else None
        if spec is None:
            rows.append(Row(key, "missing_in_object", key, None, ckpt))
            continue
        status: Literal["matched", "mismatched"] = "matched" if _compare(ckpt, spec) else "mismatched"
        rows.append(
            Row(key, status, key, None, ckpt, spec, target, name=str(getattr(target, "path", "")) or key)
        )
    for key, target in live.items():
        spec = adapter.values(target).get(VALUE)
        if key not in view.keys_map and spec is not None:
            rows.append(Row(key, "missing_in_checkpoint", None, None, None, spec, target))
    return CheckReport(rows, view.graph)


def raise_on_mismatch(report: CheckReport) -> None:
    """All-or-nothing restores: refuse before assigning anything if any pair disagrees."""
    bad = report.mismatched
    if bad:
        shown = "; ".join(
            f"{r.name or r.path}: checkpoint {r.checkpoint[1] if r.checkpoint else '?'}"
            f"{list(r.checkpoint[0]) if r.checkpoint else ''} vs object "
            f"{r.object[1] if r.object else '?'}{list(r.object[0]) if r.object else ''}"
            for r in bad[:5]
        )
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise RestoreMismatchError(
            f"{len(bad)} value(s) disagree, nothing was restored: {shown}{more}. Fix the model, or leave "
            "those paths out with select=",
            report,
        )
