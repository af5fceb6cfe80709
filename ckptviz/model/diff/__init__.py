"""``ckptviz.diff(a, b)``: every key of two checkpoints matched, compared and rolled up.

The pieces: ``match`` pairs keys, ``compare`` computes one pair's numbers in chunks, ``rollup``
sums them by object-graph subtree, ``result`` holds and shows them, ``graph`` draws them.
"""

from __future__ import annotations

from .compare import Delta
from .engine import diff
from .match import MATCHES, Match
from .result import STATUSES, DiffResult, Row
from .rollup import Rollup

__all__ = ["MATCHES", "STATUSES", "Delta", "DiffResult", "Match", "Rollup", "Row", "diff"]
