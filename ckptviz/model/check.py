"""Will it load? Matching a checkpoint against objects before anything is restored.

The walk is TensorFlow's (``CheckpointView.match``, ``bundle_v2.cc``): from the root, each
checkpoint child is paired with the live child of the same ``local_name``; slot variables are
paired through the live optimizer. Name-based checkpoints pair variables by their TF1 names.
The objects are reached through an ``Adapter``: ``NestedAdapter`` reads plain Python trees
(dicts/lists of arrays, no TensorFlow); ``live.TFAdapter`` reads ``tf.Module``/Keras objects.

``CheckReport.colours`` is the hook for the graph renderer: ``{checkpoint node id (object-based)
or key (name-based): "matched" | "missing" | "mismatched"}``; objects the checkpoint lacks are
listed by live path in ``missing_in_checkpoint``.
"""

from __future__ import annotations

import html
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from ..errors import RestoreMismatchError
from ..format.dtypes import as_dtype
from ..format.naming import escape_local_name
from .restore import CheckpointView, open_view
from .select import GraphIndex

Status = Literal["matched", "missing", "mismatched"]
VALUE = "VARIABLE_VALUE"


class Adapter(Protocol):
    """How the matcher sees live objects."""

    def children(self, obj: Any) -> Mapping[str, Any]: ...
    def values(self, obj: Any) -> Mapping[str, tuple[tuple[int, ...], str]]: ...
    def slot(self, optimizer: Any, variable: Any, slot_name: str) -> Any: ...
    def name(self, obj: Any) -> str | None: ...
    def assign(self, target: Any, value: np.ndarray) -> None: ...


class NestedAdapter:
    """Plain Python trees: dict keys and list indices are local names, arrays are variables."""

    def children(self, obj: Any) -> Mapping[str, Any]:
        if isinstance(obj, Mapping):
            return {str(k): v for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return {str(i): v for i, v in enumerate(obj)}
        return {}

    def values(self, obj: Any) -> Mapping[str, tuple[tuple[int, ...], str]]:
        if isinstance(obj, (Mapping, list, tuple)):
            return {}
        arr = np.asarray(obj)
        return {VALUE: (tuple(arr.shape), as_dtype(arr.dtype).name)}

    def slot(self, optimizer: Any, variable: Any, slot_name: str) -> Any:
        return None

    def name(self, obj: Any) -> str | None:
        return None

    def assign(self, target: Any, value: np.ndarray) -> None:
        if not isinstance(target, np.ndarray):
            raise TypeError(f"cannot restore into a {type(target).__name__}; use numpy arrays as leaves")
        np.copyto(target, value)


@dataclass
class Row:
    """One value: where it is on each side and whether they agree."""

    path: str
    status: Literal["matched", "mismatched", "missing_in_object", "missing_in_checkpoint"]
    key: str | None = None
    node_id: int | None = None
    checkpoint: tuple[tuple[int, ...], str] | None = None  # (shape, dtype name)
    object: tuple[tuple[int, ...], str] | None = None
    target: Any = field(default=None, repr=False)  # the live object to assign to


@dataclass
class CheckReport:
    """What would load: one ``Row`` per value on either side."""

    rows: list[Row]
    matched_nodes: dict[int, Any] = field(default_factory=dict, repr=False)

    def _of(self, status: str) -> list[Row]:
        return [r for r in self.rows if r.status == status]

    @property
    def matched(self) -> list[Row]:
        return self._of("matched")

    @property
    def mismatched(self) -> list[Row]:
        return self._of("mismatched")

    @property
    def missing_in_object(self) -> list[Row]:
        """Checkpoint values nothing in the object would receive."""
        return self._of("missing_in_object")

    @property
    def missing_in_checkpoint(self) -> list[Row]:
        """Object variables the checkpoint has no value for."""
        return self._of("missing_in_checkpoint")

    @property
    def ok(self) -> bool:
        """Everything on both sides pairs up with equal shapes and dtypes."""
        return all(r.status == "matched" for r in self.rows)

    @property
    def colours(self) -> dict[int | str, Status]:
        """For the graph renderer: checkpoint node id (or key when name-based) → status."""
        out: dict[int | str, Status] = {}
        for r in self.rows:
            if r.status == "missing_in_checkpoint":
                continue
            ident: int | str = r.node_id if r.node_id is not None else (r.key or r.path)
            status: Status = "missing" if r.status == "missing_in_object" else r.status
            if out.get(ident) != "mismatched":
                out[ident] = status
        return out

    def table(self) -> str:
        def spec(s: tuple[tuple[int, ...], str] | None) -> str:
            return "-" if s is None else f"{s[1]}{list(s[0])}"

        lines = [(r.status, r.path, spec(r.checkpoint), spec(r.object)) for r in self.rows]
        header = ("status", "path", "checkpoint", "object")
        widths = [max(len(x[i]) for x in [header, *lines]) for i in range(4)]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [header, *lines]
        )

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        colour = {
            "matched": "#2a2",
            "mismatched": "#c22",
            "missing_in_object": "#888",
            "missing_in_checkpoint": "#c80",
        }
        body = "".join(
            f"<tr><td style='color:{colour[r.status]}'>{r.status}</td><td><code>{html.escape(r.path)}</code></td>"
            f"<td>{html.escape(str(r.checkpoint))}</td><td>{html.escape(str(r.object))}</td></tr>"
            for r in self.rows[:200]
        )
        return f"<table><tr><th>status</th><th>path</th><th>checkpoint</th><th>object</th></tr>{body}</table>"

    def to_pandas(self) -> Any:
        import pandas

        return pandas.DataFrame(
            [(r.status, r.path, r.key, r.node_id, r.checkpoint, r.object) for r in self.rows],
            columns=["status", "path", "key", "node_id", "checkpoint", "object"],
        )


def _spec(view: CheckpointView, key: str) -> tuple[tuple[int, ...], str]:
    entry = view.entries[key]
    return tuple(entry.shape), entry.dtype.name


def _compare(ckpt: tuple[tuple[int, ...], str], obj: tuple[tuple[int, ...], str]) -> bool:
    return tuple(ckpt[0]) == tuple(obj[0]) and as_dtype(ckpt[1]) == as_dtype(obj[1])


def _live_objects(root: Any, adapter: Adapter) -> list[tuple[str, Any]]:
    """Every object under ``root`` once, breadth-first, with its first path."""
    out, seen, queue = [], {id(root)}, deque([("", root)])
    while queue:
        path, obj = queue.popleft()
        out.append((path, obj))
        for name, child in adapter.children(obj).items():
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(
                    (f"{path}/{escape_local_name(name)}" if path else escape_local_name(name), child)
                )
    return out


def match_objects(index: GraphIndex, root: Any, adapter: Adapter) -> dict[int, Any]:
    """``{checkpoint node id: live object}`` found by walking both graphs by local name."""
    nodes = index.proto.nodes
    matched: dict[int, Any] = {0: root}
    queue = deque([0])
    while True:
        while queue:
            nid = queue.popleft()
            live = adapter.children(matched[nid])
            for ref in nodes[nid].children:
                if ref.node_id not in matched and ref.local_name in live and ref.node_id < len(nodes):
                    matched[ref.node_id] = live[ref.local_name]
                    queue.append(ref.node_id)
        for sid, (opt, var, slot) in index.slots.items():  # slots once their variable and optimizer are known
            if sid not in matched and opt in matched and var in matched:
                found = adapter.slot(matched[opt], matched[var], slot)
                if found is not None:
                    matched[sid] = found
                    queue.append(sid)
        if not queue:
            return matched


def check(src: Any, obj: Any, adapter: Adapter | None = None) -> CheckReport:
    """The will-it-load report of ``src`` (path, ``Checkpoint`` or view) against ``obj``.

    ``obj`` is a nested dict/list of arrays or, with TensorFlow installed, a ``tf.Module``,
    Keras model/layer/optimizer or ``tf.train.Checkpoint``.
    """
    view = open_view(src)
    if adapter is None:
        adapter = NestedAdapter() if isinstance(obj, (Mapping, list, tuple)) else _tf_adapter()
    if view.is_object_based:
        return _check_object_based(view, obj, adapter)
    return _check_name_based(view, obj, adapter)


def _tf_adapter() -> Adapter:
    from .live import TFAdapter

    return TFAdapter()


def _check_object_based(view: CheckpointView, root: Any, adapter: Adapter) -> CheckReport:
    index = GraphIndex.build(view.object_graph_proto, view.keys_map)
    matched = match_objects(index, root, adapter)
    rows: list[Row] = []
    bound: set[int] = set()
    for key in view.keys_map:
        owner = index.owner.get(key)
        if owner is None:
            continue
        nid, attr = owner
        path = index.paths.get(nid, key)
        ckpt = _spec(view, key)
        live = matched.get(nid)
        spec = adapter.values(live).get(attr) if nid in matched else None
        if spec is None:
            rows.append(Row(path, "missing_in_object", key, nid, ckpt))
            continue
        bound.add(id(live))
        status: Literal["matched", "mismatched"] = "matched" if _compare(ckpt, spec) else "mismatched"
        rows.append(Row(path, status, key, nid, ckpt, spec, live))
    for path, obj in _live_objects(root, adapter):
        for _, spec in adapter.values(obj).items():
            if id(obj) not in bound:
                rows.append(Row(path, "missing_in_checkpoint", None, None, None, spec, obj))
    return CheckReport(rows, matched)


def _check_name_based(view: CheckpointView, root: Any, adapter: Adapter) -> CheckReport:
    rows: list[Row] = []
    found: set[str] = set()
    for path, obj in _live_objects(root, adapter):
        spec = adapter.values(obj).get(VALUE)
        if spec is None:
            continue
        name = adapter.name(obj) or path
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
    return CheckReport(rows)


def raise_on_mismatch(report: CheckReport) -> None:
    """All-or-nothing restores: refuse before assigning anything if any pair disagrees."""
    bad = report.mismatched
    if bad:
        shown = "; ".join(
            f"{r.path}: checkpoint {r.checkpoint[1] if r.checkpoint else '?'}"
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
