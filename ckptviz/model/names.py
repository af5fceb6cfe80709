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

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import paths as P
from .records import Node

if TYPE_CHECKING:
    from .graph import ObjectGraph

_SLOT_OF = " of "
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """``layer_2`` < ``layer_10`` < ``layer_a``: runs of digits compare as numbers."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _DIGITS.split(name) if p)


def _is_list(out: Sequence[tuple[str, int]]) -> bool:
    """Items named by number (a pruned list keeps its numbers: ``1``, ``2`` without ``0``)."""
    return bool(out) and all(name.isdigit() for name, _ in out)


def numbered(segment: str) -> bool:
    """A list item (``7``) or a Keras 2 layer alias (``layer_with_weights-3``, ``layer-7``)."""
    return segment.isdigit() or (segment.startswith("layer") and segment.rpartition("-")[2].isdigit())


class Names:
    """Home paths, display paths and display names of every node of ``graph``, and the index that
    reads any of them back. Built once per graph, in linear time."""

    def __init__(self, graph: ObjectGraph) -> None:
        nodes = graph.nodes
        count = len(nodes)
        out = [[(e.local_name, e.child) for e in graph.out_edges(i)] for i in range(count)]
        optimizers = {n.id for n in nodes if n.kind == "optimizer"}
        self.home = P.NodePaths(count, out, defer=optimizers) if graph.object_based else graph.paths
        if graph.object_based:
            self.home.special = dict(graph.paths.special)
        self._graph = graph
        self.scope = [self._scope(nodes, out[i]) for i in range(count)]
        self.display_path = self._display_paths(nodes, out)
        full_names: dict[str, int] = {}
        for n in nodes:
            if n.kind in ("variable", "slot") and n.full_name:
                full_names[n.full_name] = full_names.get(n.full_name, 0) + 1
        own = [self._name(n, full_names) for n in nodes]
        self.name = list(own)
        for s in graph.slots:  # ``momentum of conv1_conv/kernel``; a slot's slot names no chain
            if s.variable_id != s.slot_id:
                self.name[s.slot_id] = f"{s.slot_name}{_SLOT_OF}{own[s.variable_id]}"
        self._index: dict[str, int] | None = None

    @staticmethod
    def _scope(nodes: Sequence[Node], out: Sequence[tuple[str, int]]) -> str:
        """The layer name a node's variables share (``conv1_conv`` for ``conv1_conv/kernel``), or ``""``
        (also for lists, which hold things of many owners)."""
        if _is_list(out):
            return ""
        scopes = {nodes[c].full_name.rpartition("/")[0] for _, c in out if nodes[c].kind == "variable"}
        scope = scopes.pop() if len(scopes) == 1 else ""
        return scope if "/" not in scope or scope.rsplit("/", 1)[-1] else ""

    def _display_paths(self, nodes: Sequence[Node], out: list[list[tuple[str, int]]]) -> list[str]:
        home = self.home
        shown = [""] * len(nodes)
        taken: set[str] = set()
        for i in home.order[1:]:
            parent, segment = home.parent[i], home.segment[i]
            node = nodes[i]
            text = f"{shown[parent]}/{segment}" if shown[parent] else segment
            grand = home.parent[parent] if parent > 0 else -1
            if numbered(segment) and self.scope[i]:  # a layer in a list, shown by its name
                name = P.escape_local_name(self.scope[i].rsplit("/", 1)[-1])
                if segment.isdigit() and grand >= 0 and _is_list(out[parent]):
                    text = f"{shown[grand]}/{name}" if shown[grand] else name
                else:
                    text = f"{shown[parent]}/{name}" if shown[parent] else name
            elif node.kind == "variable" and node.full_name and self.scope[parent]:
                scope, _, last = node.full_name.rpartition("/")
                if scope == self.scope[parent] and last:  # ``_kernel`` shown as Keras names it
                    text = f"{shown[parent]}/{P.escape_local_name(last)}" if shown[parent] else last
            if text in taken:  # never two objects under one shown path
                text = home.path(i)
            shown[i] = text
            taken.add(text)
        for i in range(1, len(nodes)):
            if not home.reachable[i]:  # a recorded slot variable, or an orphan
                shown[i] = home.path(i)
        return shown

    def _name(self, node: Node, full_names: dict[str, int]) -> str:
        if node.id == 0:
            return "(root)"
        shown = self.display_path[node.id] or self.home.path(node.id)
        listed = any(numbered(segment) for segment in self.home.path(node.id).split("/"))
        if listed and node.kind == "variable" and node.full_name and full_names.get(node.full_name) == 1:
            return node.full_name  # ``model/_operations/7/_kernel`` is ``conv2_block1_1_conv/kernel``
        return shown

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

        for i in range(len(self.name)):
            for text in (self.name[i], self.display_path[i], home.path(i)):
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
