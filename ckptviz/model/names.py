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
from collections import Counter
from collections.abc import Sequence
from itertools import repeat
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


_VARIABLE, _SLOT, _OPTIMIZER = (KINDS.index(k) for k in ("variable", "slot", "optimizer"))
_MANY = 8  # names asked for at least 1/_MANY of the nodes are made for every node at once,
_DEEP = 64  # unless the graph is deeper than this


def _lists(adj: P.Adjacency) -> np.ndarray:
    """Which nodes are lists: items named by number (a pruned list keeps its numbers: ``1``, ``2``
    without ``0``)."""
    count = len(adj)
    degree = np.diff(adj.ptr)
    digits = np.fromiter(map(str.isdigit, adj.local), bool, len(adj.child))
    others = np.bincount(np.repeat(np.arange(count), degree)[~digits], minlength=count)
    out: np.ndarray = (degree > 0) & (others == 0)
    return out


def _objects(count: int, at: np.ndarray, items: Sequence[str] | np.ndarray) -> np.ndarray:
    """An array of ``count`` strings, ``items`` at ``at`` and ``""`` elsewhere."""
    out = np.full(count, "", object)
    out[at] = items
    return out


def _scopes(adj: P.Adjacency, codes: np.ndarray, prefix: np.ndarray, lists: np.ndarray) -> np.ndarray:
    """The layer name each node's variables share (``conv1_conv`` for ``conv1_conv/kernel``:
    ``prefix`` of each variable), or ``""`` (also for lists, which hold things of many owners).
    Only a variable's parents can have one, so only their edges to variables are looked at."""
    count = len(adj)
    owners = np.repeat(np.arange(count), np.diff(adj.ptr))
    edges = np.flatnonzero((codes[adj.child] == _VARIABLE) & ~lists[owners])
    owners, scopes = owners[edges], prefix[adj.child[edges]]  # grouped: edges are stored by parent
    same = owners[1:] == owners[:-1]
    mixed = np.zeros(count, bool)
    mixed[owners[1:][same & (scopes[1:] != scopes[:-1])]] = True
    first = np.flatnonzero(np.r_[True, ~same]) if edges.size else edges
    nodes, scopes = owners[first], scopes[first]
    keep = ~mixed[nodes]
    return _objects(count, nodes[keep], scopes[keep])


def _distinct(at: np.ndarray, text: np.ndarray, where: np.ndarray) -> bool:
    """Whether the ``(at, text)`` pairs at ``where`` are all different: surely so when their
    hashes are (a collision of hashes only sends the caller the slow way)."""
    text = text[where]
    keys = np.fromiter(map(hash, text), np.int64, len(text)) * np.int64(1_000_003) + at[where]
    keys.sort()
    return not bool((keys[1:] == keys[:-1]).any())


def _through(flags: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Whether a node or any of its ancestors (``parent``: -1 above the root) is flagged: pointer
    jumping, so a 30 000-deep chain takes 15 numpy steps."""
    out, up = flags.copy(), parent.copy()
    live = np.flatnonzero(up >= 0)
    while live.size:
        above = up[live]
        out[live] |= out[above]
        up[live] = up[above]
        live = live[up[live] >= 0]
    return out


class Names:
    """Home paths, display paths and display names of every node of ``graph``, and the index that
    reads any of them back. Built once per graph in linear time and memory, with numpy over all
    nodes (a Python step only for what numpy cannot say: a string's digits, a Keras name's parts).
    Like ``NodePaths``, a display path is kept as a parent and a segment per node and joined on
    request; ``display_paths_of``/``names_of`` join every one at once for a whole listing."""

    def __init__(self, graph: ObjectGraph) -> None:
        count = len(graph)
        adj = graph.adjacency
        codes = self._codes = graph.kind_codes
        optimizers = np.flatnonzero(codes == _OPTIMIZER).tolist()
        if graph.object_based and optimizers:  # the key paths, but through optimizers only last
            self.home = P.NodePaths(count, adj, defer=optimizers)
            self.home.special = dict(graph.paths.special)
        else:  # nothing to avoid: the key paths (a scope tree's are its keys')
            self.home = graph.paths
        self._graph = graph
        full = graph.full_names
        variables = np.flatnonzero(codes == _VARIABLE)
        names = [full[i] for i in variables.tolist()]
        # a variable's scope and its Keras name; a scope ending in "/" (an empty last part) is none
        heads = [s.rpartition("/")[0] for s in names]
        prefix = _objects(count, variables, [s if s[-1:] != "/" else "" for s in heads])
        last = _objects(count, variables, [s.rpartition("/")[2] for s in names])
        lists = _lists(adj)
        scope = _scopes(adj, codes, prefix, lists)
        self.scope: list[str] = scope.tolist()
        self._parent, self._segment, self._listed = self._link(lists, scope, last)
        held = np.flatnonzero((codes == _VARIABLE) | (codes == _SLOT)).tolist()
        self._full_names = Counter([full[i] for i in held])
        del self._full_names[""]  # how many variables and slots record each full name
        self._slot_of = {s.slot_id: s for s in graph.slots if s.slot_id != s.variable_id}
        self._paths: list[str] | None = None
        self._names: list[str] | None = None
        self._shallow: bool | None = None
        self._kids: dict[int, dict[str, int]] | None = None
        self._labels: dict[str, int] | None = None

    def _link(
        self, lists: np.ndarray, scope: np.ndarray, last: np.ndarray
    ) -> tuple[list[int], list[str], np.ndarray]:
        """Each reachable node's display parent and segment: a layer in a list shown by its scope
        (under the list's owner, for a plain list of layers), a Keras weight by its Keras name,
        unless that would put two objects under one shown path; and whether its home path runs
        through a list item."""
        home, count = self.home, len(lists)
        segments = home.segment
        order = home.order[1:]
        parent = np.asarray(home.parent, np.int64)
        reached = np.array(home.reachable, bool)
        reached[:1] = False  # the root claims no name
        digits = np.fromiter(map(str.isdigit, segments), bool, count)
        layer = np.fromiter(map(str.startswith, segments, repeat("layer")), bool, count)
        aliases = [i for i in np.flatnonzero(layer).tolist() if "-" in segments[i]]  # ``layer-7``
        numbered = digits.copy()
        numbered[aliases] = [segments[i].rpartition("-")[2].isdigit() for i in aliases]
        listed = _through(numbered, parent)
        scoped = scope != ""
        above = np.maximum(parent, 0)
        at = parent.copy()
        text = _objects(count, np.arange(count), segments)
        named = np.flatnonzero(numbered & scoped)  # a layer in a list
        text[named] = [P.escape_local_name(s.rsplit("/", 1)[-1]) for s in scope[named].tolist()]
        grand = np.where(parent > 0, parent[above], -1)
        up = named[digits[named] & (grand[named] >= 0)]
        up = up[lists[parent[up]]]
        at[up] = grand[up]
        # a layer's variable by its Keras name (``_kernel`` is ``kernel``): the layer's scope is the
        # prefix all its variables' full names share, this one's included
        weights = np.flatnonzero(
            ~(numbered & scoped) & (parent >= 0) & scoped[above] & (self._codes == _VARIABLE)
        )
        weights = weights[last[weights] != ""]
        text[weights] = [P.escape_local_name(s) if "." in s else s for s in last[weights].tolist()]
        at_of, text_of = at.tolist(), text.tolist()
        if not _distinct(at, text, reached):  # two objects under one shown path: claimed in order
            taken: set[tuple[int, str]] = set()
            for i in order:
                claim = (at_of[i], text_of[i])
                if claim in taken:  # the first claimant keeps the shown name
                    claim = (home.parent[i], segments[i])
                    if claim in taken:
                        claim = (home.parent[i], f"{segments[i]}[{i}]")
                taken.add(claim)
                at_of[i], text_of[i] = claim
        for i in np.flatnonzero(~reached).tolist():  # the root, recorded slot variables, orphans
            at_of[i], text_of[i] = -1, ""
        return at_of, text_of, listed & reached

    # -- names, on request -----------------------------------------------------------------------

    def display_path(self, node_id: int) -> str:
        if self._paths is not None:
            return self._paths[node_id]
        if node_id and not self.home.reachable[node_id]:  # a recorded slot variable, or an orphan
            return self.home.path(node_id)
        parts = []
        while node_id > 0:
            parts.append(self._segment[node_id])
            node_id = self._parent[node_id]
        return "/".join(reversed(parts))

    def name(self, node_id: int) -> str:
        """``momentum of conv1_conv/kernel``; ``conv1_conv/kernel`` for a Keras weight reached
        through a list; else the display path. A slot of a slot reads ``m of m of v``, a walk
        bounded by the graph's own limit on slot nesting (and by cycles)."""
        if self._names is not None:
            return self._names[node_id]
        prefix, node_id = self._slot_prefix(node_id)
        return prefix + self._own_name(node_id)

    def _slot_prefix(self, node_id: int) -> tuple[str, int]:
        """``"m of "`` for each slot link from ``node_id`` down to its variable, and that variable."""
        prefix, seen = "", set[int]()
        while node_id in self._slot_of and node_id not in seen and len(seen) < 16:
            seen.add(node_id)
            slot = self._slot_of[node_id]
            prefix += f"{slot.slot_name}{_SLOT_OF}"
            node_id = slot.variable_id
        return prefix, node_id

    def _own_name(self, node_id: int) -> str:
        if node_id == 0:
            return "(root)"
        full = self._graph.full_names[node_id]
        if self._listed[node_id] and self._codes[node_id] == _VARIABLE and self._full_names.get(full) == 1:
            return full  # ``model/_operations/7/_kernel`` is ``conv2_block1_1_conv/kernel``
        return self.display_path(node_id)

    # -- every name at once, for listings ----------------------------------------------------------

    def display_paths_of(self, ids: Sequence[int]) -> list[str]:
        """``display_path`` of each of ``ids``: walked one by one for a few, joined for every node
        at once (and kept) when they are many."""
        if not self._joined(len(ids)):
            return [self.display_path(i) for i in ids]
        return list(map(self._all_paths().__getitem__, ids))

    def names_of(self, ids: Sequence[int]) -> list[str]:
        """``name`` of each of ``ids``, like ``display_paths_of``."""
        if self._names is None and not self._joined(len(ids)):
            return [self.name(i) for i in ids]
        return list(map(self._all_names().__getitem__, ids))

    def _joined(self, asked: int) -> bool:
        """Whether to join every display path at once for ``asked`` of them: when they are many of
        the nodes, and paths are short (joining all costs the sum of their lengths, which a deep
        chain makes quadratic where walking the asked ones is not)."""
        if self._paths is not None:
            return True
        if asked * _MANY < len(self._parent):
            return False
        if self._shallow is None:
            self._shallow = max(self.home.depth, default=0) <= _DEEP
        return self._shallow

    def _all_paths(self) -> list[str]:
        """Every display path, each joined once from its display parent's (parents come first in
        breadth-first order)."""
        if self._paths is None:
            parent, segment = self._parent, self._segment
            paths = [""] * len(parent)
            for i in self.home.order[1:]:
                at = parent[i]
                paths[i] = f"{paths[at]}/{segment[i]}" if at > 0 else segment[i]
            for i in np.flatnonzero(~np.asarray(self.home.reachable, bool)).tolist():
                paths[i] = self.home.path(i)
            self._paths = paths
        return self._paths

    def _all_names(self) -> list[str]:
        if self._names is None:
            names = list(self._all_paths())
            if names:
                names[0] = "(root)"
            full, counts = self._graph.full_names, self._full_names
            for i in np.flatnonzero(self._listed & (self._codes == _VARIABLE)).tolist():
                if counts.get(full[i]) == 1:
                    names[i] = full[i]
            own = list(names)
            slot_of = self._slot_of
            for i, s in slot_of.items():
                if s.variable_id in slot_of:  # a slot of a slot: the whole chain
                    prefix, variable = self._slot_prefix(i)
                    names[i] = prefix + own[variable]
                else:
                    names[i] = f"{s.slot_name}{_SLOT_OF}{own[s.variable_id]}"
            self._names = names
        return self._names

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
