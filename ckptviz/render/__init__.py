"""Layer 2: pictures of the model layer (DOT text, Graphviz layout, notebook display data).

Pure functions of an ObjectGraph; Graphviz runs only when a picture other than DOT is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import LargeGraphWarning, LayoutTimeoutError
    from .dot import COLORS, to_dot
    from .layout import LARGE_GRAPH, Engine, export_graph, find_engine, mimebundle, render
    from .picture import Picture
    from .plan import DEFAULT_MAX_NODES, DrawOptions, Plan, select_view

# Loaded on first use: ``import ckptviz`` imports only ``render.accessors``.
_LAZY = {
    "LargeGraphWarning": "ckptviz.errors", "LayoutTimeoutError": "ckptviz.errors", "COLORS": ".dot", "to_dot": ".dot", "LARGE_GRAPH": ".layout",
    "Engine": ".layout", "export_graph": ".layout", "find_engine": ".layout", "mimebundle": ".layout",
    "render": ".layout", "Picture": ".picture", "DEFAULT_MAX_NODES": ".plan", "DrawOptions": ".plan",
    "Plan": ".plan", "select_view": ".plan",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "COLORS",
    "DEFAULT_MAX_NODES",
    "LARGE_GRAPH",
    "DrawOptions",
    "Engine",
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
