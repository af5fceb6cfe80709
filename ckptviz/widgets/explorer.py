"""``explore(path_or_checkpoint)``: the views as tabs of one widget, sharing one checkpoint.

Subtrees picked in the Graph and Tensors tabs become the Restore tab's selection; a will-it-load
report colours the graph (colour mode ``load``)."""

from __future__ import annotations

import os
from typing import Any

import ipywidgets

from ..errors import CheckpointError
from .diff import DiffView
from .graph import ObjectGraphView
from .restore import RestoreView
from .source import Source
from .tensors import TensorsView
from .timeline import TimelineView


class Explorer(ipywidgets.Tab):  # type: ignore[misc]
    """Tabs ``Graph``, ``Tensors``, ``Restore``, ``Diff`` and, in a CheckpointManager directory,
    ``Timeline``; the views are ``.graph``, ``.tensors``, ``.restore``, ``.diff``, ``.timeline``. ``other``: a checkpoint to compare with at once (the Diff tab also
    takes one typed in)."""

    def __init__(
        self, source: Any, *, other: Any = None, namespace: Any = None, max_nodes: int = 300
    ) -> None:
        self.source = Source.of(source)
        self.graph = ObjectGraphView(self.source, max_nodes=max_nodes)
        self.tensors = TensorsView(self.source)
        self.restore = RestoreView(self.source, namespace=namespace)
        self.diff = DiffView(self.source)
        self.diff.on_result(self._diffed)
        views = {"Graph": self.graph, "Tensors": self.tensors, "Restore": self.restore, "Diff": self.diff}
        self.timeline: TimelineView | None = None
        if self.source.checkpoint.state is not None:  # a CheckpointManager directory: its run over time
            run = os.path.dirname(self.source.path) or "."
            self.timeline = views["Timeline"] = TimelineView(run, start=False, visible=False)
        super().__init__(children=list(views.values()), titles=list(views))
        self.graph.observe(self._picked, "picked")
        self.tensors.observe(self._picked, "picked")
        self.restore.observe(self._reported, "report")
        self.observe(self._tab_changed, "selected_index")
        self.graph.on_graph(self.tensors.refresh)  # names and paths in the table once the graph is built
        if other is not None:
            self.diff.compare(str(other))

    def _picked(self, change: Any) -> None:
        new = [p for p in change["new"] if p not in self.restore.paths]
        if new:
            self.restore.paths = [*self.restore.paths, *new]

    def _reported(self, change: Any) -> None:
        """Paint the graph with the will-it-load report."""
        if change["new"] and self.restore.colours:
            self.graph.show_status("load", self.restore.colours)

    def _tab_changed(self, change: Any) -> None:
        """The timeline reads and polls only while its tab is shown."""
        if self.timeline is None:
            return
        shown = self.children[change["new"]] is self.timeline if change["new"] is not None else False
        self.timeline.visible = shown
        if shown and self.timeline.result is None:
            self.timeline.poll()

    def close(self) -> None:
        for view in self.children:
            view.close()
        super().close()

    def _diffed(self, result: Any) -> None:
        """Colour the graph by change: the diff's own picture of this checkpoint's graph."""
        values = {}
        for row in result.rows:  # each changed key's max |Δ|, on this checkpoint's node
            mad = row.delta.max_abs_diff if row.delta is not None else None
            node = self.source.node_of_key(row.key) if mad is not None else None
            if node is not None:
                values[node] = float(mad)  # type: ignore[arg-type]
        self.graph.show_values("|Δ|", values, switch=False)
        self.graph.show_picture("diff", lambda **options: result.graph.to_dot(**options))

    def __repr__(self) -> str:
        return f"<ckptviz.widgets.Explorer {self.source.path!r}>"


def explore(source: Any, **kwargs: Any) -> Explorer:
    """The checkpoint explorer: ``ckptviz.explore("training_checkpoints/")`` in a notebook cell.
    A path that holds no readable checkpoint raises its ``CheckpointError`` without ckptviz's
    frames, and a notebook shows it as one line, as ``%ckpt`` does."""
    try:
        return Explorer(source, **kwargs)
    except CheckpointError as e:
        raise one_line(e) from None


def one_line(error: CheckpointError) -> CheckpointError:
    """``error`` without its traceback, shown by IPython as ``Type: message`` (its
    ``_render_traceback_`` hook, which replaces the coloured traceback)."""
    text = f"{type(error).__name__}: {error}"
    error._render_traceback_ = lambda: [text]  # type: ignore[attr-defined]
    return error.with_traceback(None)
