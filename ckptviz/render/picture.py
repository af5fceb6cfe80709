"""A picture of a checkpoint graph for notebooks: ``ObjectGraph.draw(max_depth=3, focus=…)`` and a
check report's ``graph`` return one, and Jupyter shows it inline (SVG). The plan is made at once, so
a bad option or an unknown name fails where it is written; Graphviz runs only when it is shown,
saved or asked for its SVG.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from ..model.graph import ObjectGraph
from .dot import view_to_dot
from .layout import bundle_of, export_graph, require_engine, warn_if_large
from .plan import DrawOptions, Plan, select_view


class Picture:
    """The drawing of ``graph`` with ``DrawOptions`` options (``max_nodes``, ``max_depth``, ``focus``,
    ``filter``, ``select``, ``expand``, ``collapse``, ``status``…), laid out by ``engine`` (``"dot"``,
    ``"graphviz-pure"`` or a path; None: the first found); ``format`` is what a notebook shows
    (``"svg"`` or ``"png"``)."""

    def __init__(
        self,
        graph: ObjectGraph,
        *,
        engine: str | None = None,
        format: str = "svg",  # noqa: A002
        **options: Any,
    ) -> None:
        if format not in ("svg", "png"):
            raise ValueError(
                f"a notebook picture is 'svg' or 'png', not {format!r} (save() writes the others)"
            )
        self.graph, self.engine, self.format = graph, engine, format
        self.options = options
        self.view = DrawOptions(**options)
        self.plan: Plan = select_view(graph, self.view)

    def draw(self, **options: Any) -> Picture:
        """The same picture with some options changed (``report.graph.draw(max_depth=2)``)."""
        merged = {"engine": self.engine, "format": self.format, **self.options, **options}
        return Picture(self.graph, **merged)

    @cached_property
    def dot(self) -> str:
        """The DOT text."""
        return view_to_dot(self.graph, self.plan, self.view)

    def svg(self) -> str:
        """The laid-out SVG (needs an engine)."""
        warn_if_large(self.plan)
        return require_engine(self.engine, "SVG").run(self.dot, "svg").decode()

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:  # noqa: A002
        """Write it like ``export_graph`` (the format follows the extension)."""
        return export_graph(self.graph, path, format=format, engine=self.engine, **self.options)

    def to_dict(self) -> dict[str, Any]:
        """The render plan as JSON-ready data (what a browser face draws)."""
        return self.plan.to_dict()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = bundle_of(self.graph, self.dot, self.plan, self.engine, self.format)
        bundle["text/plain"] = bundle["text/plain"].replace(repr(self.graph), repr(self), 1)  # keeps a note
        return bundle

    def __repr__(self) -> str:
        return f"<ckptviz picture: {self.plan.title}>"
