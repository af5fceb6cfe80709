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

import numpy as np

from . import paths as P
from .records import KINDS

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
    reads any of them back. Built once per graph in linear time and memory: like ``NodePaths``, a
    display path is kept as a parent and a segment per node and joined on request."""

    def __init__(self, graph: ObjectGraph) -> None:
        count = len(graph)
        adj = graph.adjacency
        kinds = self._kinds = graph.kinds
        full = graph.full_names
        optimizers = [i for i, k in enumerate(kinds) if k == "optimizer"]
        self.home = P.NodePaths(count, adj, defer=optimizers) if graph.object_based else graph.paths
        if graph.object_based:
            self.home.special = dict(graph.paths.special)
        self._graph = graph
        self.scope = self._scopes(adj, kinds, full, graph.kind_codes)
        self._parent = [-1] * count  # the display path's parent: a layer in a list skips the list
        self._segment = [""] * count
        self._listed = [False] * count  # the home path runs through a list item
        self._link(adj, kinds, full)
        self._full_names: dict[str, int] = {}
        for kind, name in zip(kinds, full):
            if name and kind in ("variable", "slot"):
                self._full_names[name] = self._full_names.get(name, 0) + 1
        self._slot_of = {s.slot_id: s for s in graph.slots if s.slot_id != s.variable_id}
        self._kids: dict[int, dict[str, int]] | None = None
        self._labels: dict[str, int] | None = None

    @staticmethod
    def _scopes(adj: P.Adjacency, kinds: Sequence[str], full: Sequence[str], codes: np.ndarray) -> list[str]:
        """The layer name each node's variables share (``conv1_conv`` for ``conv1_conv/kernel``), or
        ``""`` (also for lists, which hold things of many owners). Only a variable's parents can
        have one, so only they are looked at."""
        out = [""] * len(kinds)
        if not len(adj.child):
            return out
        holds = np.flatnonzero(codes[adj.child] == KINDS.index("variable"))
        for node in np.unique(np.searchsorted(adj.ptr, holds, side="right") - 1).tolist():
            edges = adj[node]
            if _is_list(edges):
                continue
            scopes = {full[c].rpartition("/")[0] for _, c in edges if kinds[c] == "variable"}
            scope = scopes.pop() if len(scopes) == 1 else ""
            out[node] = scope if "/" not in scope or scope.rsplit("/", 1)[-1] else ""
        return out

    def _link(self, adj: P.Adjacency, kinds: Sequence[str], full: Sequence[str]) -> None:
        home, scope = self.home, self.scope
        parents, segments, listed = home.parent, home.segment, self._listed
        taken: set[tuple[int, str]] = set()  # (display parent, segment): unique pairs, unique paths
        lists: dict[int, bool] = {}
        for i in home.order[1:]:
            parent, segment = parents[i], segments[i]
            is_numbered = numbered(segment)
            listed[i] = listed[parent] or is_numbered
            at, text = parent, segment
            if is_numbered and scope[i]:  # a layer in a list, shown by its name
                text = P.escape_local_name(scope[i].rsplit("/", 1)[-1])
                grand = parents[parent] if parent > 0 else -1
                if segment.isdigit() and grand >= 0:
                    in_list = lists.get(parent)
                    if in_list is None:
                        in_list = lists[parent] = _is_list(adj[parent])
                    if in_list:
                        at = grand
            elif scope[parent] and kinds[i] == "variable" and full[i]:
                prefix, _, last = full[i].rpartition("/")
                if prefix == scope[parent] and last:  # ``_kernel`` shown as Keras names it
                    text = P.escape_local_name(last)
            if (at, text) in taken:  # never two objects under one shown path
                at, text = parent, segment
            if (at, text) in taken:
                text = f"{segment}[{i}]"
            taken.add((at, text))
            self._parent[i], self._segment[i] = at, text

    # -- names, on request -----------------------------------------------------------------------

    def display_path(self, node_id: int) -> str:
        if node_id and not self.home.reachable[node_id]:  # a recorded slot variable, or an orphan
            return self.home.path(node_id)
        parts = []
        while node_id > 0:
            parts.append(self._segment[node_id])
            node_id = self._parent[node_id]
        return "/".join(reversed(parts))

    def name(self, node_id: int, shown: str | None = None) -> str:
        """``momentum of conv1_conv/kernel``; ``conv1_conv/kernel`` for a Keras weight reached
        through a list; else the display path (``shown``, when the caller has it). A slot of a
        slot reads ``m of m of v``, a walk bounded by the graph's own limit on slot nesting (and by
        cycles)."""
        prefix, seen = "", set[int]()
        while node_id in self._slot_of and node_id not in seen and len(seen) < 16:
            seen.add(node_id)
            slot = self._slot_of[node_id]
            prefix += f"{slot.slot_name}{_SLOT_OF}"
            node_id = slot.variable_id
            shown = None
        return prefix + self._own_name(node_id, shown)

    def _own_name(self, node_id: int, shown: str | None = None) -> str:
        if node_id == 0:
            return "(root)"
        full = self._graph.full_names[node_id]
        if self._listed[node_id] and self._kinds[node_id] == "variable" and self._full_names.get(full) == 1:
            return full  # ``model/_operations/7/_kernel`` is ``conv2_block1_1_conv/kernel``
        return self.display_path(node_id) if shown is None else shown

    # -- reading names back ----------------------------------------------------------------------

    def find(self, name: str) -> int | None:
        """The node a shown name means: a display path, a layer's or a drawn label's name (where
        it names one object), or ``<slot> of <any name of the variable>``."""
        found = self._walk(name.strip("/"))
        if found is None:
            if self._labels is None:
                self._labels = self._label_index()
            found = self._labels.get(name)
        if found is None and _SLOT_OF in name:
            slot_name, _, variable = name.partition(_SLOT_OF)
            var = self._graph.lookup(variable)
            if var is not None:
                found = next(
                    (
                        s.slot_id
                        for s in self._graph.slots_of(var.id)
                        if s.variable_id == var.id and s.slot_name == slot_name
                    ),
                    None,
                )
        return found

    def _walk(self, path: str) -> int | None:
        """Follow display segments from the root: linear in the path, whatever the graph's depth."""
        if not path:
            return None
        if self._kids is None:
            kids: dict[int, dict[str, int]] = {}
            for i in self.home.order[1:]:
                kids.setdefault(self._parent[i], {})[self._segment[i]] = i
            self._kids = kids
        node = 0
        for segment in path.split("/"):
            nxt = self._kids.get(node, {}).get(segment)
            if nxt is None:
                return None
            node = nxt
        return node

    def _label_index(self) -> dict[str, int]:
        """Layer names and drawn labels that name exactly one object."""
        seen: dict[str, set[int]] = {}
        for i, scope in enumerate(self.scope):
            drawn = P.unescape_local_name(self._segment[i])
            for text in {scope, scope.rsplit("/", 1)[-1], drawn} - {""}:
                seen.setdefault(text, set()).add(i)
        return {text: ids.pop() for text, ids in seen.items() if len(ids) == 1}
