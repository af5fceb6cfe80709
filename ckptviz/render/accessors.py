"""Pictures of the model layer's objects, attached here as pandas attaches ``DataFrame.plot``:
the model layer knows nothing of drawing. ``import ckptviz`` imports this module (it is small;
what it draws with loads on first use), so ``graph.draw()`` and notebook display always work.

- ``ObjectGraph``: ``to_dot(**options)``, ``draw(**options)`` (a ``Picture``), notebook display;
- ``DiffGraph`` (``DiffResult.graph``): ``to_dot``, ``draw(path=None, format=, engine=)`` (bytes),
  notebook display;
- ``Checkpoint``: notebook display, its first tensors as a table;
- ``DiffResult``: notebook display, the summary and the most changed keys as a table.

Options are ``DrawOptions``'s (``max_nodes``, ``max_depth``, ``focus``, ``filter``, ``select``…).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..model.checkpoint import Checkpoint, human_size
from ..model.diff.graph import DiffGraph
from ..model.diff.result import DiffResult, Row, shown_value
from ..model.graph import ObjectGraph

HTML_ROWS = 40  # tensors a notebook shows of a checkpoint, keys of a diff


def graph_to_dot(graph: ObjectGraph, **options: Any) -> str:
    """DOT text in the TF guide's colours; options as ``DrawOptions``."""
    from .dot import to_dot

    return to_dot(graph, **options)


def graph_draw(graph: ObjectGraph, **options: Any) -> Any:
    """A picture that shows inline in a notebook (``ckptviz.render.Picture``); options as
    ``export_graph``: ``max_nodes``, ``max_depth``, ``focus``, ``filter``, ``select``,
    ``expand``, ``collapse``, ``status``, ``engine``… (``.save(path)``, ``.dot``, ``.svg()``)."""
    from .picture import Picture

    return Picture(graph, **options)


def graph_mimebundle(
    graph: ObjectGraph, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, str]:
    from .layout import mimebundle

    return mimebundle(graph)


def diff_to_dot(diff: DiffGraph, **options: Any) -> str:
    from .dot import diff_to_dot as to_dot

    options.setdefault("title", diff.title())
    return to_dot(diff.graph, diff.status, diff.intensity, **options)


def diff_draw(
    diff: DiffGraph,
    path: str | Path | None = None,
    *,
    format: str | None = None,  # noqa: A002 - the name graphviz uses
    engine: str | None = None,
    **options: Any,
) -> bytes:
    """The picture as bytes (SVG unless ``format``); also written to ``path`` when given."""
    from .layout import require_engine

    fmt = (format or (Path(path).suffix.lstrip(".") if path else "svg")).lower()
    dot = diff_to_dot(diff, **options)
    data = dot.encode() if fmt in ("dot", "gv") else require_engine(engine, repr(fmt)).run(dot, fmt)
    if path is not None:
        Path(path).write_bytes(data)
    return data


def diff_mimebundle(
    diff: DiffGraph, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, str]:
    from .layout import find_engine

    bundle = {"text/plain": repr(diff)}
    engine = find_engine()
    if engine is not None:
        bundle["image/svg+xml"] = engine.run(diff_to_dot(diff), "svg").decode()
    return bundle


def checkpoint_html(ckpt: Checkpoint) -> str:
    """The repr, then the first tensors (key, dtype, shape, size); the repr alone when the entries
    cannot be decoded (the repr says why)."""
    import html

    from .table import html_table

    title = f"<b>{html.escape(repr(ckpt))}</b>"
    try:
        shown = list(ckpt.entries.values())[:HTML_ROWS]
    except CheckpointError:
        return f"<div>{title}</div>"
    rows = [
        (e.key, e.dtype.name, "×".join(map(str, e.shape)) or "scalar", human_size(e.nbytes)) for e in shown
    ]
    more = len(ckpt) - HTML_ROWS
    tail = f"<div>… {more} more (use .to_pandas())</div>" if more > 0 else ""
    return f"<div>{title}{html_table(rows, ['key', 'dtype', 'shape', 'size'], code=(0,))}{tail}</div>"


def diff_html(result: DiffResult) -> str:
    """The summary, then the 40 most changed keys (the full, sortable table: ``render.report``)."""
    import html

    from .table import html_table

    def rank(r: Row) -> tuple[bool, float]:
        change = r.delta.relative_change if r.delta and r.delta.relative_change is not None else 0.0
        return (r.status == "unchanged", -change if r.status == "changed" else 0.0)

    def cell(x: float | None) -> str:
        return "" if x is None else f"{x:.4g}"

    shown = sorted(result.rows, key=rank)[:HTML_ROWS]
    rows = [
        (
            r.key,
            r.status,
            shown_value(r.dtype_b or r.dtype_a, r.shape_b if r.shape_b is not None else r.shape_a),
            cell(r.delta.relative_change if r.delta else None),
            cell(r.fraction_changed),
            r.reason,
        )
        for r in shown
    ]
    header = ["key", "status", "b (or a)", "relative change", "fraction changed", "note"]
    more = len(result.rows) - len(shown)
    tail = f"<div>… {more} more (use .to_pandas())</div>" if more > 0 else ""
    return f"<div><pre>{html.escape(result.summary())}</pre>{html_table(rows, header, code=(0,))}{tail}</div>"


def register() -> None:
    """Attach the pictures (idempotent)."""
    for cls, methods in (
        (ObjectGraph, {"to_dot": graph_to_dot, "draw": graph_draw, "_repr_mimebundle_": graph_mimebundle}),
        (DiffGraph, {"to_dot": diff_to_dot, "draw": diff_draw, "_repr_mimebundle_": diff_mimebundle}),
        (Checkpoint, {"_repr_html_": checkpoint_html}),
        (DiffResult, {"_repr_html_": diff_html}),
    ):
        for name, fn in methods.items():
            setattr(cls, name, fn)


register()
