"""``ObjectGraphView``: the coloured dependency graph, laid out in Python by Graphviz from the same
render plan as the exported pictures; the browser pans, zooms and reports clicks.

Click a node: ``selected`` and its ``details`` (path, kind, dtype, shape, bytes, slots, keys)
and the tensor panel for its first key. Expand or collapse a subtree: a new plan, laid out again.
Search by path, local name or full name: matches, and the first is revealed (only its ancestors
open, within the node budget) and centred.

Every layout runs on a worker thread (the kernel stays free) and a newer one cancels it, killing
its Graphviz process; ``join()`` waits for it from Python.
Colour modes: ``kind``; ``norm`` and ``nan`` (each variable's L2 norm and NaN count, read on a
worker thread the first time they are asked for); ``load`` once a will-it-load report is given
(``show_status``); ``diff`` and ``|Δ|`` once a diff is given. A number per node colours the
nodes on a ramp with a legend, and each folded box shows min/max/mean of what it holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import traitlets

from .base import Task, esm, shown
from .layout import drawing
from .panel import TensorPanel

MEASURES = {"norm": "norm", "nan": "nan"}  # colour modes measured from the tensors themselves
VALUE_NAMES = {"norm": "norm", "nan": "NaN"}


class ObjectGraphView(TensorPanel):
    _esm = traitlets.Unicode(esm("graph.js")).tag(sync=True)

    drawing = traitlets.Dict().tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)
    details = traitlets.Dict().tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)
    matches = traitlets.List(traitlets.Dict()).tag(sync=True)
    centre = traitlets.Int(-1).tag(sync=True)
    colour = traitlets.Unicode("kind").tag(sync=True)
    colours = traitlets.List(traitlets.Unicode(), ["kind", "norm", "nan"]).tag(sync=True)
    max_nodes = traitlets.Int(300).tag(sync=True)
    picked = traitlets.List(traitlets.Unicode()).tag(sync=True)  # paths chosen for a restore
    layout_ms = traitlets.Float(0.0).tag(sync=True)

    ACTIONS = ("cancel", "expand", "collapse", "pick", "unpick", "select")

    def __init__(self, source: Any, *, max_nodes: int = 300, **options: Any) -> None:
        self._options = options  # further DrawOptions (render) options: slots, hide_empty, rankdir…
        self._expand: list[int] = []
        self._collapse: list[int] = []
        self._reveal: list[int] = []  # the search hit shown: only its ancestors open
        self._status: dict[str, Mapping[int, str]] = {}
        self._makers: dict[str, Callable[..., str]] = {}  # colour mode -> DOT of its own picture
        self._values: dict[str, dict[int, float]] = {}  # colour mode -> a number per node
        self._on_graph: list[Any] = []
        self._graph_lock = threading.Lock()
        self._ready = False  # trait changes lay out again only after the first layout
        super().__init__(source, max_nodes=max_nodes)
        self._ready = True
        self._relayout()

    def on_graph(self, callback: Any) -> None:
        """Call ``callback()`` once the object graph is built (now, if it is)."""
        with self._graph_lock:
            if not self.source.graph_ready:
                self._on_graph.append(callback)
                return
        callback()

    # -- the plan ------------------------------------------------------------------------------------

    def _relayout(self, then: Callable[[], None] | None = None) -> None:
        """Plan and lay out on a worker thread (cancelling the layout before it); ``then()`` after."""
        status = self._status.get(self.colour) if self.colour != "kind" else None
        options = dict(
            self._options,
            max_nodes=self.max_nodes,
            expand=self._expand,
            collapse=self._collapse,
            reveal=self._reveal,
        )
        maker = self._makers.get(self.colour)
        mode = self.colour

        def work(task: Task) -> tuple[dict[str, Any], float]:
            start = time.perf_counter()
            self.source.search_index  # noqa: B018 - the graph and its search index built here, off the kernel's thread
            if mode in MEASURES and mode not in self._values:
                what = MEASURES[mode]
                report = task.reporter(lambda done, total: f"measuring {what}: {done} of {total} tensors")
                self._values[mode] = self.source.measure(what, report)
            if mode in self._values:
                options.update(values=self._values[mode], values_name=VALUE_NAMES.get(mode, mode))
            if maker is not None:
                dot = maker(**options)
            else:
                if status is not None:
                    options["status"] = status
                _, dot = self.source.plan(**options)
            task.progress(text="laying out")
            return drawing(dot, cancel=task.cancelled), time.perf_counter() - start

        def done(result: tuple[dict[str, Any], float]) -> None:
            self.drawing, self.layout_ms = result[0], round(result[1] * 1000, 1)
            with self._graph_lock:
                waiting, self._on_graph = self._on_graph, []
            for callback in waiting:  # e.g. the Tensors table's names, once the graph is built
                callback()
            if then is not None:
                then()

        self.start("laying out the graph", work, done)

    @traitlets.observe("colour", "max_nodes")
    def _options_changed(self, change: Any) -> None:
        if not self._ready:
            return
        if change["name"] == "colour" and change["new"] not in self.colours:
            self.colour = change["old"]  # lays the old colours out again, then says why
            self.error = f"no {change['new']!r} colours yet; available: {', '.join(self.colours)}"
            return
        self._relayout()

    def show_status(self, mode: str, status: Mapping[int, str]) -> None:
        """Colours for ``mode`` by node id (``load``: ``CheckReport.by_node``); switches to them."""
        self._status[mode] = dict(status)
        self._switch(mode)

    def show_values(self, mode: str, values: Mapping[int, float], switch: bool = True) -> None:
        """Colour mode ``mode``: a number per node id (e.g. a diff's max |Δ|); switches to it
        unless ``switch=False``."""
        self._values[mode] = dict(values)
        if switch:
            self._switch(mode)
        elif mode not in self.colours:
            self.colours = [*self.colours, mode]

    def show_picture(self, mode: str, to_dot: Callable[..., str]) -> None:
        """Colour mode ``mode`` draws ``to_dot(**DrawOptions options)`` (e.g. a diff's graph, whose
        picture the render layer makes from the same plan); switches to it."""
        self._makers[mode] = to_dot
        self._switch(mode)

    def _switch(self, mode: str) -> None:
        if mode not in self.colours:
            self.colours = [*self.colours, mode]
        if self.colour == mode:
            self._relayout()
        else:
            self.colour = mode

    def expand(self, node: int | str) -> None:
        """Draw ``node``'s children (a node id or path; a stand-in ``-1 - parent`` shows them all)."""
        i = self._id(node)
        if i < 0:  # the "…" stand-in: open its parent whole
            i = -1 - i
        self._collapse = [c for c in self._collapse if c != i]
        self._expand = [*[e for e in self._expand if e != i], i]
        self._relayout()

    def collapse(self, node: int | str) -> None:
        """Fold ``node``'s subtree into it."""
        i = self._id(node)
        self._expand = [e for e in self._expand if e != i]
        self._collapse = [*[c for c in self._collapse if c != i], i]
        self._relayout()

    def pick(self, node: int | str) -> None:
        """Add ``node``'s subtree to ``picked`` (the Restore view's selection)."""
        path = self.source.node(self._id(node))["path"]
        if path not in self.picked:
            self.picked = [*self.picked, path]

    def unpick(self, path: str) -> None:
        self.picked = [p for p in self.picked if p != path]

    def select(self, node: int | str) -> None:
        self.selected = self._id(node)

    def _id(self, node: int | str) -> int:
        return self.source.find(node) if isinstance(node, str) else int(node)

    # -- selection and search ------------------------------------------------------------------------

    @traitlets.observe("selected")
    def _selected_changed(self, change: Any) -> None:
        self._show_node()

    @shown
    def _show_node(self) -> None:
        if self.selected < 0:
            self.details, self.key = {}, ""
            return
        self.details = self.source.node(self.selected)
        numeric = [k for k in self.details["keys"] if self.source.entry(k)["numeric"]]
        self.key = numeric[0] if numeric else (self.details["keys"][0] if self.details["keys"] else "")

    @traitlets.observe("query")
    def _query_changed(self, change: Any) -> None:
        self._search()

    @shown
    def _search(self) -> None:
        self.error = ""
        hits, total = self.source.search(self.query)
        self.matches = hits
        if not self.query.strip():
            self.status = ""
            return
        if not hits:
            self.status = f"no node's path or full name contains {self.query!r}"
            return
        self.status = f"{total} match{'es' if total != 1 else ''}" + (
            f", first {len(hits)} listed" if total > len(hits) else ""
        )
        self.reveal(hits[0]["id"])

    def reveal(self, node_id: int) -> None:
        """Show ``node_id`` if it is folded away (opening only its ancestors, its siblings folded
        with their counts), select it and centre on it."""

        def centre() -> None:
            self.selected = node_id
            self.centre = -1
            self.centre = node_id

        if node_id in {n["id"] for n in self.drawing.get("nodes", [])}:
            centre()
        else:
            self._reveal = [node_id]
            self._relayout(then=centre)
