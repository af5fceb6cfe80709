"""Where an object belongs and the names people know it by: the one rule every face uses.

TensorFlow keys a variable by the first path its breadth-first walk meets. For a Keras 3 model
trained with an optimizer that path runs through the optimizer
(``optimizer/_trainable_variables/4`` is ``conv2_block1_1_conv/kernel``), and its layers sit in an
unnamed list (``model/_operations/7``). So a node has three names besides its key path:

- its *home path*: the shortest path that does not pass through an optimizer (an optimizer's own
  state, reachable only through it, keeps its path through it);
- its *display path*: the home path with each layer in a list shown by its name (the scope its
  variables' ``full_name`` share) and each such variable by its Keras name:
  ``model/conv2_block1_1_conv/kernel``;
- its *display name*: where the home path runs through a list, a variable's Keras path
  (``conv2_block1_1_conv/kernel``: its recorded ``full_name``, when no other variable has the
  same); a slot as ``momentum of <variable's name>``; else its display path.

Every one of them (and layer names, TF paths, aliases, keys and full names, which ``ObjectGraph``
resolves) is accepted back by ``Names.find``, so any name a face prints can be typed into another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import paths as P
from .records import KINDS

if TYPE_CHECKING:
    from .graph import ObjectGraph

_SLOT_OF = " of "


def _is_list(out: Sequence[tuple[str, int]]) -> bool:
    """Items named by number (a pruned list keeps its numbers: ``1``, ``2`` without ``0``)."""
    return bool(out) and all(name.isdigit() for name, _ in out)


def numbered(segment: str) -> bool:
    """A list item (``7``) or a Keras 2 layer alias (``layer_with_weights-3``, ``layer-7``)."""
    return segment.isdigit() or (segment.startswith("layer") and segment.rpartition("-")[2].isdigit())


class Names:
    """Home paths, display paths and display names of every node of ``graph``, and the index that
    reads any of them back. Built once per graph, in linear time, from the graph's columns."""

    def __init__(self, graph: ObjectGraph) -> None:
        count = len(graph)
        adj = graph.adjacency
        kinds = graph.kinds
        optimizers = [i for i, k in enumerate(kinds) if k == "optimizer"]
        self.home = P.NodePaths(count, adj, defer=optimizers) if graph.object_based else graph.paths
        if graph.object_based:
            self.home.special = dict(graph.paths.special)
        self._graph = graph
        full = graph.full_names
        self.scope = self._scopes(adj, kinds, full, graph.kind_codes)
        self.display_path = self._display_paths(adj, kinds, full)
        full_names: dict[str, int] = {}
        for kind, name in zip(kinds, full):
            if name and kind in ("variable", "slot"):
                full_names[name] = full_names.get(name, 0) + 1
        own = self._names(kinds, full, full_names)
        self.name = list(own)
        for s in graph.slots:  # ``momentum of conv1_conv/kernel``; a slot's slot names no chain
            if s.variable_id != s.slot_id:
                self.name[s.slot_id] = f"{s.slot_name}{_SLOT_OF}{own[s.variable_id]}"
        self._index: dict[str, int] | None = None

    @staticmethod
    def _scopes(adj: P.Adjacency, kinds: list[str], full: list[str], codes: np.ndarray) -> list[str]:
        """The layer name each node's variables share (``conv1_conv`` for ``conv1_conv/kernel``), or
        ``""`` (also for lists, which hold things of many owners). Only parents of a variable can
        have one."""
        out = [""] * len(kinds)
        if not len(adj.child):
            return out
        holds = codes[adj.child] == KINDS.index("variable")
        parents = np.searchsorted(adj.ptr, np.flatnonzero(holds), side="right") - 1
        for node in np.unique(parents).tolist():
            edges = adj[node]
            if _is_list(edges):
                continue
            scopes = {full[c].rpartition("/")[0] for _, c in edges if kinds[c] == "variable"}
            scope = scopes.pop() if len(scopes) == 1 else ""
            out[node] = scope if "/" not in scope or scope.rsplit("/", 1)[-1] else ""
        return out

    def _display_paths(self, adj: P.Adjacency, kinds: list[str], full: list[str]) -> list[str]:
        home, scope = self.home, self.scope
        count = len(kinds)
        shown = [""] * count
        taken: set[str] = set()
        is_list: dict[int, bool] = {}
        parents, segments = home.parent, home.segment
        for i in home.order[1:]:
            parent, segment = parents[i], segments[i]
            above = shown[parent]
            text = f"{above}/{segment}" if above else segment
            if scope[i] and numbered(segment):  # a layer in a list, shown by its name
                name = P.escape_local_name(scope[i].rsplit("/", 1)[-1])
                grand = parents[parent] if parent > 0 else -1
                listed = is_list.get(parent)
                if listed is None:
                    listed = is_list[parent] = _is_list(adj[parent])
                if segment.isdigit() and grand >= 0 and listed:
                    text = f"{shown[grand]}/{name}" if shown[grand] else name
                else:
                    text = f"{above}/{name}" if above else name
            elif scope[parent] and kinds[i] == "variable" and full[i]:
                prefix, _, last = full[i].rpartition("/")
                if prefix == scope[parent] and last:  # ``_kernel`` shown as Keras names it
                    text = f"{above}/{P.escape_local_name(last)}" if above else last
            if text in taken:  # never two objects under one shown path
                text = home.path(i)
            shown[i] = text
            taken.add(text)
        reachable = home.reachable
        for i in range(1, count):
            if not reachable[i]:  # a recorded slot variable, or an orphan
                shown[i] = home.path(i)
        return shown

    def _names(self, kinds: list[str], full: list[str], full_names: dict[str, int]) -> list[str]:
        """Each node's own display name (slots named after their variable come later)."""
        home = self.home
        count = len(kinds)
        listed = [False] * count  # the home path runs through a list item or a numbered layer
        parents, segments = home.parent, home.segment
        for i in home.order[1:]:
            listed[i] = listed[parents[i]] or numbered(segments[i])
        reachable = home.reachable
        special = home.special
        out = [""] * count
        for i in range(1, count):
            shown = self.display_path[i]
            if not reachable[i] or i in special:
                path = home.path(i)
                listed[i] = any(numbered(segment) for segment in path.split("/"))
                shown = shown or path
            elif not shown:
                shown = home.path(i)
            name = full[i]
            if listed[i] and name and kinds[i] == "variable" and full_names.get(name) == 1:
                shown = name  # ``model/_operations/7/_kernel`` is ``conv2_block1_1_conv/kernel``
            out[i] = shown
        if count:
            out[0] = "(root)"
        return out

    # -- reading names back ----------------------------------------------------------------------

    def find(self, name: str) -> int | None:
        """The node a shown name means: a display name, display path, home path or layer name."""
        if self._index is None:
            self._index = self._build_index()
        found = self._index.get(name.strip("/") if _SLOT_OF not in name else name)
        if found is None and _SLOT_OF in name:  # ``momentum of <any name of the variable>``
            slot_name, _, variable = name.partition(_SLOT_OF)
            var = self._graph.lookup(variable)
            if var is not None:
                found = next(
                    (s.slot_id for s in self._graph.slots_of(var.id) if s.variable_id == var.id and s.slot_name == slot_name),
                    None,
                )
        return found

    def _build_index(self) -> dict[str, int]:
        index: dict[str, int] = {}
        home = self.home

        def add(text: str, i: int) -> None:
            if text:
                index.setdefault(text, i)  # the first node keeps a name two would share

        for i, (name, shown, path) in enumerate(zip(self.name, self.display_path, home.all_paths())):
            for text in (name, shown, path):
                add(text, i)
        layers: dict[str, list[int]] = {}  # a layer by its name; any object by the name drawn on it
        for i, scope in enumerate(self.scope):
            drawn = P.unescape_local_name(self.display_path[i].rsplit("/", 1)[-1])
            for name in {scope, scope.rsplit("/", 1)[-1], drawn} - {""}:
                layers.setdefault(name, []).append(i)
        for name, ids in layers.items():  # only where it names one object
            if len(set(ids)) == 1:
                add(name, ids[0])
        return index
