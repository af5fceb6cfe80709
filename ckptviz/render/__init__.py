"""Layer 2: pictures of the model layer (DOT text, Graphviz layout, notebook display data).

Pure functions of an ObjectGraph; Graphviz runs only when a picture other than DOT is asked for.
"""

from __future__ import annotations

from .dot import COLORS, to_dot
from .layout import Engine, export_graph, find_engine, mimebundle, render
from .plan import GraphView, Plan, select_view

__all__ = [
    "COLORS",
    "Engine",
    "GraphView",
    "Plan",
    "export_graph",
    "find_engine",
    "mimebundle",
    "render",
    "select_view",
    "to_dot",
]
