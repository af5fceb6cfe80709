"""Progress of long work: the format layer's rule (``format.progress``), where the model layer's
readers, diffs and timelines import it."""

from __future__ import annotations

from ..format.progress import Progress, reporter

__all__ = ["Progress", "reporter"]
