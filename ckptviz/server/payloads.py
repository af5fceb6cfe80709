"""The JSON bodies the routes send, built in one place from the model layer's public records.

Every reply is bounded: entries are paged, previews hold at most ``PREVIEW_MAX`` values (``model.preview``), graphs
at most ``GRAPH_MAX_NODES`` drawn nodes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import CheckpointError
from ..format.naming import OBJECT_GRAPH_KEY
from ..model.checkpoint import Checkpoint
from ..model.graph import ObjectGraph
from ..model.preview import PREVIEW_MAX, preview
from ..model.stats import tensor_stats
from ..render.code import restore_code
from ..render.plan import DrawOptions, Plan

PAGE_MAX = 1000
GRAPH_MAX_NODES = 2000
STATS_AUTO_MAX = 1 << 22  # elements: bigger tensors get statistics only when asked (stats=1)
PAGE_BYTES = 8 << 20  # a page of entries stops early rather than grow past this (long key names)


def fit(rows: list[dict[str, Any]], budget: int = PAGE_BYTES) -> list[dict[str, Any]]:
    """The first rows whose strings add up to at most ``budget`` bytes (always at least one)."""
    used = 0
    for i, row in enumerate(rows):
        used += 64 + sum(len(v) for v in row.values() if isinstance(v, str))
        if used > budget and i:
            return rows[:i]
    return rows


def summary(ckpt: Checkpoint, relative: str) -> dict[str, Any]:
    return {
        "path": relative,
        "format": ckpt.format,
        "object_based": ckpt.is_object_based,
        "tensors": len(ckpt.entries) - int(ckpt.is_object_based),
        "nbytes": ckpt.nbytes,
        "shards": ckpt.num_shards,
    }


def entries(
    ckpt: Checkpoint, relative: str, offset: int, limit: int, match: str = "", code_path: str | None = None
) -> dict[str, Any]:
    """One page of the model layer's entry records (key, name, dtype, shape, bytes, node), and the
    code that restores the checkpoint (``render.code``)."""
    graph_error = None
    try:
        records = [r.to_dict() for r in ckpt.entry_records() if r.key != OBJECT_GRAPH_KEY]
    except CheckpointError as err:  # the entries still list when the object graph cannot be read
        graph_error = str(err)
        records = [
            {
                "key": e.key,
                "name": e.key,
                "dtype": e.dtype.name,
                "shape": list(e.shape),
                "nbytes": e.nbytes,
                "shard": e.shard,
                "node_id": None,
                "path": None,
                "kind": None,
            }
            for e in ckpt.entries.values()
            if e.key != OBJECT_GRAPH_KEY
        ]
    records.sort(key=lambda r: r["key"])
    if match:
        needle = match.lower()
        records = [r for r in records if needle in r["key"].lower() or needle in r["name"].lower()]
    return {
        **summary(ckpt, relative),
        "total": len(records),
        "offset": offset,
        "limit": limit,
        "entries": (page := fit(records[offset : offset + limit])),
        "truncated": len(page) < len(records[offset : offset + limit]),  # by bytes: ask again from offset+len
        "graph_error": graph_error,
        "restore_code": None if graph_error else restore_code(ckpt, code_path or relative),
    }


def graph_options(args: dict[str, Any]) -> DrawOptions:
    max_nodes = args.get("max_nodes", 300)
    return DrawOptions(
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


def plan(graph: ObjectGraph, view: Plan) -> dict[str, Any]:
    """The render plan's record, each drawn node with its SVG element id and, for real objects
    (not stand-ins), its name, dtype, shape and keys: what the browser inspects and expands."""
    out = view.to_dict()
    for node in out["nodes"]:
        i = node["id"]
        node["svg_id"] = f"ckpt_n{i}" if i >= 0 else f"ckpt_more{-1 - i}"  # as render/dot.py names them
        if 0 <= i < len(graph.nodes):
            record = graph.nodes[i].to_dict()
            for field in ("name", "full_name", "dtype", "shape", "nbytes", "keys"):
                node[field] = record[field]
            node["name"] = graph.display_name(i)
    out["object_based"] = graph.object_based
    return out


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


def tensor(
    ckpt: Checkpoint, relative: str, key: str, slice_text: str, bins: int, stats: bool | None = None
) -> dict[str, Any]:
    """A bounded preview of ``key`` (optionally sliced; ``model.preview``'s rule: what is read and
    whether it was checked), and its statistics and histogram (those read all of it)."""
    entry = ckpt.entries.get(key)
    if entry is None:
        from ..errors import KeyNotFoundError

        raise KeyNotFoundError(key, ckpt.entries)
    shown = preview(ckpt, key, parse_slice(slice_text, tuple(entry.shape)), PREVIEW_MAX)
    size = math.prod(entry.shape)
    want = stats if stats is not None else size <= STATS_AUTO_MAX
    summary = tensor_stats(np.asarray(ckpt.read(key)), bins, entry.dtype.name) if size and want else None
    return {
        "path": relative,
        "key": key,
        "dtype": entry.dtype.name,
        "shape": list(entry.shape),
        "nbytes": entry.nbytes,
        "slice": slice_text,
        "preview": shown.to_dict(),
        "stats": None if summary is None else summary.to_dict(),
        "stats_skipped": bool(size) and not want,
    }


def delta(a: Checkpoint, b: Checkpoint, key: str, other_key: str, bins: int) -> dict[str, Any]:
    """Statistics and histogram of ``a[key] - b[other_key]`` (the change a diff row stands for), or
    why there are none."""
    ea, eb = a.entries.get(key), b.entries.get(other_key)
    if ea is None or eb is None:
        return {"stats": None, "reason": f"{key if ea is None else other_key} is in one checkpoint only"}
    if ea.shape != eb.shape:
        return {"stats": None, "reason": f"shapes differ: {list(ea.shape)} and {list(eb.shape)}"}
    if max(ea.nbytes, eb.nbytes) > STATS_AUTO_MAX * 8:
        return {"stats": None, "reason": "too big to compare here"}
    va, vb = np.asarray(a.read(key)), np.asarray(b.read(other_key))
    if not (np.issubdtype(va.dtype, np.number) and np.issubdtype(vb.dtype, np.number)):
        return {"stats": None, "reason": f"{ea.dtype.name} values have no difference"}
    summary = tensor_stats(va.astype(np.float64) - vb.astype(np.float64), bins)
    return {"stats": None if summary is None else summary.to_dict(), "reason": None}
