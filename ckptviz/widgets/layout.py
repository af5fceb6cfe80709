"""The render plan's DOT laid out by Graphviz (``-Tjson0``) and cut down to what the browser
paints: boxes, label lines, colours and edge paths. Sending this instead of SVG text keeps the
saved notebook small (no tooltips, no repeated attributes) and lets the browser restyle nodes
for search and selection."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from ..render.layout import require_engine

_ID = re.compile(r"ckpt_(n|more|legend_)(\w+)")
_DPI = 72.0


def _r(x: float) -> float:
    return round(x, 1)


def _points(pos: str, height: float) -> tuple[list[tuple[float, float]], tuple[float, float] | None]:
    """Graphviz's ``e,x,y p1 p2 …`` spline: control points (y flipped) and the arrow tip."""
    tip = None
    pts = []
    for part in pos.split():
        if part.startswith("e,"):
            x, y = part[2:].split(",")
            tip = (_r(float(x)), _r(height - float(y)))
        elif part.startswith("s,"):
            continue
        else:
            x, y = part.split(",")[:2]
            pts.append((_r(float(x)), _r(height - float(y))))
    return pts, tip


def _path(pts: list[tuple[float, float]]) -> str:
    if not pts:
        return ""
    out = [f"M{pts[0][0]},{pts[0][1]}"]
    for i in range(1, len(pts) - 2, 3):
        a, b, c = pts[i : i + 3]
        out.append(f"C{a[0]},{a[1]} {b[0]},{b[1]} {c[0]},{c[1]}")
    return "".join(out)


LAYOUT_TIMEOUT = 60.0  # seconds: an interactive layout that takes longer is stopped, never left running


def drawing(dot: str, cancel: threading.Event | None = None) -> dict[str, Any]:
    """``{"width", "height", "title", "nodes": [...], "edges": [...], "legend": [...]}`` of ``dot``.

    A node is ``{"id", "x", "y", "w", "h", "lines", "kind", "color", "fill", "style", "collapsed"}``
    (centre and size in points); ``id`` is the node id, or ``-1 - parent`` for the stand-in of a
    partly shown node's other children (expanding it shows them)."""
    engine = require_engine(None, "the graph", verb="lay out")
    data = json.loads(engine.run(dot, "json0", timeout=LAYOUT_TIMEOUT, cancel=cancel))
    x0, y0, x1, y1 = (float(v) for v in data["bb"].split(","))
    height = y1
    nodes, legend = [], []
    by_gvid: dict[int, Any] = {}
    for obj in data.get("objects", []):
        if "pos" not in obj:  # a cluster (the legend)
            continue
        m = _ID.fullmatch(obj.get("id", ""))
        if not m:
            continue
        x, y = (float(v) for v in obj["pos"].split(","))
        style = obj.get("style", "")
        record: dict[str, Any] = {
            "x": _r(x),
            "y": _r(height - y),
            "w": _r(float(obj["width"]) * _DPI),
            "h": _r(float(obj["height"]) * _DPI),
            "lines": obj.get("label", "").split("\\n"),
            "kind": obj.get("class", "other").split()[0],
            "color": obj.get("color", "black"),
            "fill": obj.get("fillcolor", "#ffffff"),
            "style": [s for s in ("dashed", "bold") if s in style],
        }
        if m.group(1) == "legend_":
            record["id"] = m.group(2)
            legend.append(record)
            continue
        node_id = int(m.group(2))
        record["id"] = node_id if m.group(1) == "n" else -1 - node_id
        record["collapsed"] = obj.get("shape") == "box3d"  # how the plan's DOT marks a folded subtree
        by_gvid[obj["_gvid"]] = record["id"]
        nodes.append(record)
    edges = []
    for e in data.get("edges", []):
        pts, tip = _points(e.get("pos", ""), height)
        edge: dict[str, Any] = {"d": _path(pts), "color": e.get("color", "#555555")}
        if tip is not None and pts:
            edge["a"] = [pts[-1][0], pts[-1][1], tip[0], tip[1]]
        if "dashed" in e.get("style", ""):
            edge["dashed"] = True
        if "dotted" in e.get("style", ""):  # an inferred slot link, as every other face draws it
            edge["dotted"] = True
        if "bold" in e.get("style", ""):
            edge["bold"] = True
        if e.get("label") and "lp" in e:
            lx, ly = (float(v) for v in e["lp"].split(","))
            edge.update(label=e["label"], lx=_r(lx), ly=_r(height - ly))
        if e.get("tail") not in by_gvid or e.get("head") not in by_gvid:
            continue  # the legend's own edges: the legend is drawn as HTML
        edge["ends"] = [by_gvid[e["tail"]], by_gvid[e["head"]]]
        edges.append(edge)
    left = min((n["x"] - n["w"] / 2 for n in nodes), default=0.0)
    top = min((n["y"] - n["h"] / 2 for n in nodes), default=0.0)
    return {
        "width": _r(x1 - x0),
        "height": _r(y1 - y0),
        "box": [
            _r(left - 8),
            _r(top - 8),
            _r(x1 - left + 16),
            _r(height - top + 16),
        ],  # the graph, without the legend
        "title": data.get("label", ""),
        "nodes": nodes,
        "edges": edges,
        "legend": legend,
    }
