"""Layer 2: pictures of the model layer (DOT text, Graphviz layout, notebook display data).

Pure functions of an ObjectGraph; Graphviz runs only when a picture other than DOT is asked for.
"""

from __future__ import annotations

from ..errors import LargeGraphWarning, LayoutTimeoutError
from .dot import COLORS, to_dot
from .layout import LARGE_GRAPH, Engine, export_graph, find_engine, mimebundle, render
from .picture import Picture
from .plan import DEFAULT_MAX_NODES, GraphView, Plan, select_view

__all__ = [
    "COLORS",
    "DEFAULT_MAX_NODES",
    "LARGE_GRAPH",
    "Engine",
    "GraphView",
    "LargeGraphWarning",
    "LayoutTimeoutError",
    "Picture",
    "Plan",
    "export_graph",
    "find_engine",
    "mimebundle",
    "render",
    "select_view",
    "to_dot",
]
