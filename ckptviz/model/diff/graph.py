"""``DiffResult.graph``: b's object graph painted by change; the render layer draws it.

The status (added / removed / changed / unchanged) picks the fill, the relative change its
intensity; the palette and legend live in ``render/dot.py``. Objects only ``a`` has are not in
``b``'s graph: the title counts them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..graph import ObjectGraph
    from .result import DiffResult


def intensity(relative_change: float | None) -> float:
    """0 for no change … 1 for a relative change of 1 or more, on a log scale from 1e-4."""
    if relative_change is None or relative_change <= 0:
        return 0.0
    if not math.isfinite(relative_change):
        return 1.0
    return max(0.0, min(1.0, (math.log10(relative_change) + 4) / 4))


class DiffGraph:
    """What a diff's picture shows: each node's status and intensity, and the objects only ``a``
    has. ``ckptviz.render`` draws it: ``to_dot(**options)``, ``draw(path=None, **options)`` (SVG
    bytes, or a file) and in notebooks; options are ``ckptviz.render.DrawOptions``'s."""

    def __init__(self, result: DiffResult) -> None:
        self.result = result
        self.graph: ObjectGraph = result.b.graph
        by_path = {r.path: r for r in result.rollups}
        self.status: dict[int, str] = {}
        self.intensity: dict[int, float] = {}
        for node in self.graph.nodes:
            r = by_path.get(node.path)
            if r is not None:
                self.status[node.id] = r.status
                if r.relative_change is not None:  # strings and variants: the ramp's middle
                    self.intensity[node.id] = intensity(r.relative_change)
        drawn = {n.path for n in self.graph.nodes}
        self.removed = [r.path for r in result.rollups if r.status == "removed" and r.path not in drawn]

    def title(self) -> str:
        c = self.result.counts
        title = (
            f"diff {Path(self.result.a.path).name} → {Path(self.result.b.path).name}: "
            f"{c['changed']} changed, {c['added']} added, {c['removed']} removed, {c['unchanged']} unchanged keys"
        )
        return title + (f"; {len(self.removed)} objects only in a (not drawn)" if self.removed else "")

    if TYPE_CHECKING:  # pictures, attached by the render layer (ckptviz/render/accessors.py)

        def to_dot(self, **options: Any) -> str: ...
        def draw(self, path: str | Path | None = None, **options: Any) -> bytes: ...

    def __repr__(self) -> str:
        return f"<ckptviz diff graph: {self.title()}>"
