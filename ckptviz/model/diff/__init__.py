"""``ckptviz.diff(a, b)``: every key of two checkpoints matched, compared and rolled up.

The pieces: ``match`` pairs keys, ``compare`` computes one pair's numbers in chunks (many small
pairs at once), ``columns`` holds every row's numbers as arrays, ``rollup`` sums them by
object-graph subtree, ``result`` shows them, ``graph`` draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .columns import STATUSES
    from .compare import Delta
    from .engine import diff
    from .match import MATCHES, Match
    from .result import DiffResult, Row
    from .rollup import Rollup

# Loaded on first use: ``import ckptviz`` reaches ``diff.graph`` (the render layer draws it).
_LAZY = {
    "Delta": "compare", "diff": "engine", "MATCHES": "match", "Match": "match",
    "STATUSES": "columns", "DiffResult": "result", "Row": "result", "Rollup": "rollup",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["MATCHES", "STATUSES", "Delta", "DiffResult", "Match", "Rollup", "Row", "diff"]
