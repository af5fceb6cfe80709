"""How ``%ckpt``'s results show in a notebook when their class has no picture of its own: a run's
timeline as its heatmap, a verify report as a table naming every problem (as a diff shows its
table). IPython formatters, registered by ``%load_ext ckptviz`` by class name (nothing is imported
until such an object is shown) and removed by ``%unload_ext``."""

from __future__ import annotations

import html
import io
from typing import Any

from ..render.table import html_table

ROWS = 1000  # problems in the HTML table; the report object holds them all


def timeline_png(t: Any) -> bytes | None:
    """The heatmap of relative change per variable and step (None: nothing compared yet)."""
    if len(t.steps) < 2 or not t.stats:
        return None
    from ..render.plots import timeline_heatmap

    buffer = io.BytesIO()
    timeline_heatmap(t).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def timeline_text(t: Any, p: Any, cycle: bool) -> None:
    span = f", steps {t.steps[0].step}…{t.steps[-1].step}" if t.steps else ""
    p.text(f"timeline of {t.source!s}: {len(t.steps)} checkpoints{span}, {len(t.stats)} variables")


def verify_html(report: Any) -> str:
    verdict = "color:#1a7f37" if report.ok else "color:#cf222e"
    rows = [(p.where, p.message) for p in report.problems[:ROWS]]
    more = len(report.problems) - ROWS
    table = html_table(rows, ("where", "problem"), code=(0,)) if rows else ""
    if more > 0:
        table += f"<p>… {more} more (the report's .problems lists them all)</p>"
    return f"<div><p style='{verdict}'><b>{html.escape(report.summary())}</b></p>{table}</div>"


def verify_text(report: Any, p: Any, cycle: bool) -> None:
    p.text(str(report))


FORMATTERS = {
    ("ckptviz.model.timeline", "Timeline"): {"image/png": timeline_png, "text/plain": timeline_text},
    ("ckptviz.model.verify", "VerifyReport"): {"text/html": verify_html, "text/plain": verify_text},
}


def register(ipython: Any) -> None:
    formatters = ipython.display_formatter.formatters
    for (module, name), by_type in FORMATTERS.items():
        for mime, show in by_type.items():
            formatters[mime].for_type_by_name(module, name, show)


def unregister(ipython: Any) -> None:
    formatters = ipython.display_formatter.formatters
    for (module, name), by_type in FORMATTERS.items():
        for mime in by_type:
            formatters[mime].pop(f"{module}.{name}", None)
