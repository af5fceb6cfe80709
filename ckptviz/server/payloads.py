"""The JSON bodies the routes send, built in one place from the model layer's public records.

Every reply is bounded: entries are paged, previews hold at most ``PREVIEW_MAX`` values, graphs
at most ``GRAPH_MAX_NODES`` drawn nodes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import CheckpointError
from ..format.tensor_proto import Variant
from ..model.checkpoint import Checkpoint
from ..model.graph import Node, ObjectGraph
from ..model.stats import tensor_stats
from ..render.view import GraphView, View

PAGE_MAX = 1000
PREVIEW_MAX = 1000
STRING_MAX = 200  # characters of one string value in a preview
GRAPH_MAX_NODES = 2000


def _owners(graph: ObjectGraph | None) -> dict[str, Node]:
    return {} if graph is None else {v.key: n for n in graph.nodes for v in n.values}


def summary(ckpt: Checkpoint, relative: str) -> dict[str, Any]:
    return {
        "path": relative,
        "format": ckpt.format,
        "object_based": ckpt.is_object_based,
        "tensors": len(ckpt.entries) - int(ckpt.is_object_based),
        "nbytes": ckpt.nbytes,
        "shards": ckpt.num_shards,
    }


def entries(ckpt: Checkpoint, relative: str, offset: int, limit: int, match: str = "") -> dict[str, Any]:
    """One page of entries: key, name, dtype, shape, bytes, and the node holding it."""
    graph_error = None
    try:
        graph: ObjectGraph | None = ckpt.graph
    except CheckpointError as err:  # the entries still list when the object graph cannot be read
        graph, graph_error = None, str(err)
    owners = _owners(graph)
    keys = [k for k in sorted(ckpt.entries) if k != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    if match:
        needle = match.lower()
        keys = [k for k in keys if needle in k.lower()]
    rows = []
    for key in keys[offset : offset + limit]:
        e = ckpt.entries[key]
        node = owners.get(key)
        rows.append(
            {
                "key": key,
                "name": node.name if node is not None and node.path else key.rsplit("/", 1)[-1],
                "dtype": e.dtype.name,
                "shape": list(e.shape),
                "nbytes": e.nbytes,
                "node": None if node is None else {"id": node.id, "path": node.path, "kind": node.kind},
            }
        )
    return {
        **summary(ckpt, relative),
        "total": len(keys),
        "offset": offset,
        "limit": limit,
        "entries": rows,
        "graph_error": graph_error,
    }


def graph_options(args: dict[str, Any]) -> GraphView:
    max_nodes = args.get("max_nodes", 300)
    return GraphView(
        max_nodes=None if max_nodes is None else min(int(max_nodes), GRAPH_MAX_NODES),
        max_depth=args.get("max_depth"),
        collapse=tuple(args.get("collapse", ())),
        expand=tuple(args.get("expand", ())),
        focus=args.get("focus"),
        filter=args.get("filter"),
        slots=args.get("slots", True),
        hide_empty=args.get("hide_empty", True),
        legend=False,
    )


def plan(graph: ObjectGraph, view: View) -> dict[str, Any]:
    """The drawn nodes and edges: what the SVG shows, for the browser to inspect and expand."""
    nodes = []
    for i, s in view.nodes.items():
        n = s.node
        nodes.append(
            {
                "id": i,
                "svg_id": f"ckpt_n{i}" if i < len(graph.nodes) else f"ckpt_more{i - len(graph.nodes)}",
                "path": n.path,
                "name": view.names.get(i, n.name),
                "kind": n.kind,
                "full_name": n.full_name,
                "dtype": n.dtype,
                "shape": None if n.shape is None else list(n.shape),
                "nbytes": n.nbytes,
                "keys": [v.key for v in n.values],
                "collapsed": s.collapsed,
                "hidden_nodes": s.hidden_nodes,
                "hidden_variables": s.hidden_variables,
                "hidden_bytes": s.hidden_bytes,
            }
        )
    return {
        "object_based": graph.object_based,
        "total": view.total,
        "nodes": nodes,
        "edges": [{"from": a, "name": name, "to": b} for a, name, b in view.edges],
        "merged_edges": [{"from": a, "to": b, "count": c} for a, b, c in view.merged_edges],
        "slot_edges": [
            {"optimizer": s.optimizer_id, "variable": s.variable_id, "slot": s.slot_id, "name": s.slot_name}
            for s in view.slot_edges
        ],
    }


def parse_slice(text: str, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """``"0:4, :, 2"`` as an index tuple for ``shape`` (numpy basic slicing only)."""
    from .paths import BadRequestError

    text = text.strip()
    if not text:
        return ()
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > len(shape):
        raise BadRequestError(f"slice {text!r} has {len(parts)} dimensions; the tensor has {len(shape)}")
    out: list[Any] = []
    for part in parts:
        try:
            if ":" in part:
                bits = [int(b) if b.strip() else None for b in part.split(":")]
                if len(bits) > 3 or (len(bits) == 3 and bits[2] == 0):
                    raise ValueError
                out.append(slice(*bits))
            else:
                out.append(int(part))
        except ValueError:
            raise BadRequestError(f"slice {text!r} is not numpy basic slicing like '0:4, :, 2'") from None
    for i, dim in zip(out, shape):
        if isinstance(i, int) and not -dim <= i < dim:
            raise BadRequestError(f"index {i} is out of range for a dimension of size {dim}")
    return tuple(out)


def _json_value(x: Any) -> Any:
    if isinstance(x, bytes):
        s = x.decode("utf-8", "backslashreplace")
        return s if len(s) <= STRING_MAX else s[:STRING_MAX] + "…"
    if isinstance(x, Variant):
        return str(x)[:STRING_MAX]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, complex | np.complexfloating):
        return f"{complex(x)}"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)[:STRING_MAX]
    return f if math.isfinite(f) else str(f)  # JSON has no NaN or Infinity


def tensor(ckpt: Checkpoint, relative: str, key: str, slice_text: str, bins: int) -> dict[str, Any]:
    """A bounded preview of ``key`` (optionally sliced), its statistics and histogram."""
    entry = ckpt.entries.get(key)
    if entry is None:
        from ..errors import KeyNotFoundError

        raise KeyNotFoundError(key, ckpt.entries)
    value = np.asarray(ckpt.read(key))
    index = parse_slice(slice_text, value.shape)
    part = value[index] if index else value
    part = np.asarray(part)
    flat = part.reshape(-1)[:PREVIEW_MAX]
    stats = tensor_stats(value, bins, entry.dtype.name) if value.size else None
    return {
        "path": relative,
        "key": key,
        "dtype": entry.dtype.name,
        "shape": list(entry.shape),
        "nbytes": entry.nbytes,
        "slice": slice_text,
        "preview": {
            "shape": list(part.shape),
            "values": [_json_value(x) for x in flat.tolist()]
            if flat.dtype != object
            else [_json_value(x) for x in flat],
            "truncated": part.size > PREVIEW_MAX,
        },
        "stats": None if stats is None else stats.to_dict(),
    }
