"""Layer 3: the checkpoint explorer for Jupyter (anywidget views; layout and data in Python).

>>> import ckptviz
>>> ckptviz.explore("training_checkpoints/")          # tabs: Graph, Tensors, Restore
>>> ckptviz.widgets.ObjectGraphView("training_checkpoints/")  # one view alone
"""

from __future__ import annotations

from .diff import DiffView
from .explorer import Explorer, explore
from .graph import ObjectGraphView
from .restore import RestoreView
from .source import Source
from .tensors import TensorsView
from .timeline import TimelineView

__all__ = [
    "DiffView",
    "Explorer",
    "ObjectGraphView",
    "RestoreView",
    "Source",
    "TensorsView",
    "TimelineView",
    "explore",
]
