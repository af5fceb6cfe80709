"""Self-contained HTML reports of a diff or a training run: summary, sortable tables, the coloured
graph and the plots inline (SVG), no script or style from the network, so a colleague can open
the file anywhere. The graph needs a Graphviz engine and the plots matplotlib; without them the
report says what is missing instead."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.checkpoint import human_size

if TYPE_CHECKING:
    from ..model.diff.result import DiffResult
    from ..model.timeline import Timeline

MAX_ROWS = 5000  # table rows in a report; the JSON/CSV faces carry the rest
_STYLE = """
body{font:13px/1.4 Helvetica,Arial,sans-serif;margin:24px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin-top:28px}
pre{background:#f6f6f6;padding:10px;border-radius:4px;white-space:pre-wrap}
table{border-collapse:collapse;font-size:12px}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}
th{cursor:pointer;background:#fafafa;position:sticky;top:0}td.k,th.k{text-align:left;font-family:monospace}
tr.added td{background:#e7f6f3}tr.removed td{background:#f5eee8}tr.changed td.s{color:#7b2c9e;font-weight:bold}
.note{color:#777}.figure svg{max-width:100%;height:auto}
"""
_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
var t=th.closest('table'),b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.dataset.asc!=='1';
th.dataset.asc=asc?'1':'0';rows.sort(function(x,y){var a=x.cells[i].dataset.v,c=y.cells[i].dataset.v;
var na=parseFloat(a),nc=parseFloat(c),r=(!isNaN(na)&&!isNaN(nc))?na-nc:String(a).localeCompare(String(c));
return asc?r:-r;});rows.forEach(function(r){b.appendChild(r);});});});
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}<script>{_SCRIPT}</script>"
        "</body></html>\n"
    )


def _cell(value: Any, key: bool = False) -> str:
    if value is None:
        return "<td data-v=''></td>"
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ",".join(map(str, value)) + "]"
    else:
        text = str(value)
    sort = html.escape(str(value) if not isinstance(value, (list, tuple)) else text, quote=True)
    cls = " class='k'" if key else ""
    return f"<td{cls} data-v='{sort}'>{html.escape(text)}</td>"


def table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], classes: Sequence[str] = (), keys: int = 1
) -> str:
    """A sortable table (click a header); the first ``keys`` columns are left-aligned names."""
    head = "".join(
        f"<th{' class=k' if i < keys else ''}>{html.escape(c)}</th>" for i, c in enumerate(columns)
    )
    body = []
    for n, row in enumerate(rows[:MAX_ROWS]):
        cls = f" class='{classes[n]}'" if n < len(classes) else ""
        body.append(f"<tr{cls}>" + "".join(_cell(v, i < keys) for i, v in enumerate(row)) + "</tr>")
    more = f"<p class='note'>{len(rows) - MAX_ROWS} more rows not shown</p>" if len(rows) > MAX_ROWS else ""
    return (
        f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"
    )


def _figure(make: Any) -> str:
    """Inline SVG of a matplotlib figure, or a note when matplotlib is missing."""
    try:
        from .plots import svg_text
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return "<p class='note'>(matplotlib is not installed: no plots)</p>"
    return f"<div class='figure'>{svg_text(make())}</div>"


_DIFF_COLUMNS = ["key", "status", "dtype a→b", "shape a→b", "relative change", "fraction changed",
                 "max |Δ|", "cosine", "rank", "nan/inf", "note"]  # fmt: skip


def _diff_rows(result: DiffResult) -> tuple[list[list[Any]], list[str]]:
    rows, classes = [], []
    for r in result.ranked():
        d = r.delta
        dtype = r.dtype_a if r.dtype_a == r.dtype_b else f"{r.dtype_a or '-'}→{r.dtype_b or '-'}"
        shape = list(r.shape_a or r.shape_b or ()) if r.shape_a == r.shape_b or None in (r.shape_a, r.shape_b) else (
            f"{list(r.shape_a or ())}→{list(r.shape_b or ())}"
        )  # fmt: skip
        note = r.reason or (f"as {r.key_b}" if r.key_b and r.key_a and r.key_a != r.key_b else "")
        if r.name and r.name != r.key:
            note = f"{note}; key {r.key}" if note else f"key {r.key}"
        rows.append([
            r.name or r.key, r.status, dtype, shape,
            d.relative_change if d else None, r.fraction_changed, d.max_abs_diff if d else None,
            d.cosine if d else None, d.rank if d else None, r.nonfinite, note,
        ])  # fmt: skip
        classes.append(r.status)
    return rows, classes


def _graph_svg(result: DiffResult, engine: str | None, options: dict[str, Any]) -> str:
    from .layout import HOW_TO_GET_ONE, find_engine

    found = find_engine(engine)
    if found is None:
        return f"<p class='note'>(no Graphviz engine to draw the graph: {html.escape(HOW_TO_GET_ONE)})</p>"
    svg = found.run(result.graph.to_dot(**options), "svg").decode()
    return f"<div class='figure'>{svg[svg.index('<svg') :]}</div>"


def diff_report(
    result: DiffResult,
    path: str | os.PathLike[str] | None = None,
    *,
    engine: str | None = None,
    **graph_options: Any,
) -> str:
    """The HTML report of a diff (written to ``path`` when given); ``graph_options`` as ``DrawOptions``."""
    from .plots import diff_bars

    rows, classes = _diff_rows(result)
    rollup_cols = ["path", "kind", "status", "keys", "params", "size", "fraction changed", "relative change",
                   "frozen", "exploded"]  # fmt: skip
    rollups = [
        [
            r.path or "(root)",
            r.kind,
            r.status,
            r.keys,
            r.params,
            human_size(r.bytes),
            r.fraction_changed,
            r.relative_change,
            "yes" if r.frozen else "",
            "yes" if r.exploded else "",
        ]
        for r in result.rollups
    ]
    body = (
        f"<pre>{html.escape(result.summary())}</pre>"
        f"<h2>Keys, most changed first</h2>{table(_DIFF_COLUMNS, rows, classes)}"
        f"<h2>By object-graph subtree</h2>{table(rollup_cols, rollups, [r.status for r in result.rollups])}"
        f"<h2>Object graph coloured by change</h2>{_graph_svg(result, engine, graph_options)}"
        f"<h2>Largest relative changes</h2>{_figure(lambda: diff_bars(result))}"
    )
    page = _page(f"ckptviz diff: {Path(result.a.path).name} → {Path(result.b.path).name}", body)
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page


def timeline_report(t: Timeline, path: str | os.PathLike[str] | None = None, *, histograms: int = 4) -> str:
    """The HTML report of a run: heatmap, lines, offset histograms of the biggest variables, table."""
    from .plots import timeline_heatmap, timeline_histograms, timeline_lines

    steps = [s.step for s in t.steps]
    sizes = {k: max((s.size for s in per if s is not None), default=0) for k, per in t.stats.items()}
    biggest = sorted(t.stats, key=lambda k: -sizes[k])[:histograms]
    frame = t.to_pandas()
    cols = ["variable", "step", "norm", "mean", "std", "min", "max", "nan", "inf", "relative_change"]
    rows = frame[cols].astype(object).where(frame[cols].notna(), None).values.tolist()
    rows = [[t.name(key), *rest, key] for key, *rest in rows]  # the name people know, the key last
    summary = (
        f"{len(t.steps)} checkpoints, steps {steps[0]}…{steps[-1]}, {len(t.stats)} variables"
        if steps
        else "empty"
    )
    body = (
        f"<pre>{html.escape(summary)}</pre>"
        f"<h2>Relative change from the previous checkpoint</h2>{_figure(lambda: timeline_heatmap(t))}"
        f"<h2>Norms</h2>{_figure(lambda: timeline_lines(t))}"
        + "".join(f"<h2>Histograms of {html.escape(t.name(k))}</h2>{_figure(lambda k=k: timeline_histograms(t, k))}" for k in biggest)
        + f"<h2>Every variable at every step</h2>{table([*cols, 'key'], rows)}"
    )  # fmt: skip
    page = _page("ckptviz timeline", body)
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page
