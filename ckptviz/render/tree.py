"""The ownership tree a picture folds: each object's owner along its home path (the first
breadth-first parent, optimizers walked last, as ``model/names.py`` defines it) and, for slot
variables, which no ``children`` reach, their optimizer. Kids sort naturally
(``layer_2`` before ``layer_10``), and each node gets a *pattern*: its path with every number
written ``N`` (``bert/encoder/layer_N/output``), so siblings and cousins of the same pattern fold
alike.

A long list of named layers (a Keras 3 functional model keeps its 175 layers in one list,
``model/_operations/N``) is grouped by the structure of the layers' names: ``conv4_block1_1_conv``,
``conv4_block1_2_bn``… hang off a *group* ``conv4`` and, inside it, ``block1``. Groups are virtual
nodes with ids from ``len(graph)`` on (``groups[id - len(graph)]``); they fold and open like any
node, so ResNet50 draws as five stages of blocks instead of a hundred numbered boxes.
"""

from __future__ import annotations

import re
import weakref
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..model.graph import ObjectGraph
from ..model.names import natural_key
from ..model.records import KINDS

_DIGITS = re.compile(r"(\d+)")
GROUP_MIN = 16  # a list (or group) of more layers than this is split by their names' structure


@dataclass(frozen=True)
class Group:
    """A virtual node: the layers of ``owner`` (a list) whose names start with ``prefix + "_"``."""

    owner: int  # the real list node the layers belong to
    prefix: str  # ``conv4_block1``
    label: str  # ``block1``: the part of the prefix its parent group does not already say
    size: int  # layers (directly or in sub-groups)


def pattern_of(name: str) -> str:
    return _DIGITS.sub("N", name)


_TREES: weakref.WeakKeyDictionary[ObjectGraph, dict[frozenset[int], Tree]] = weakref.WeakKeyDictionary()


def tree_of(graph: ObjectGraph, skip: frozenset[int] = frozenset()) -> Tree:
    """The graph's ownership tree, built once per graph (a click re-plans; a 50 000-node tree
    takes a second to build) and dropped with the graph."""
    trees = _TREES.setdefault(graph, {})
    if skip not in trees:
        trees[skip] = Tree(graph, skip)
    return trees[skip]


class Tree:
    """``parent``, naturally ordered ``kids``, ``depth``, ``local`` (the name on the owner's edge,
    ``""`` for a slot), ``pattern`` (an id shared by nodes whose paths differ only in numbers) and
    ``order``: a depth-first walk in drawing order. A slot variable hangs off its optimizer but is
    drawn beside its variable, so ``slots_of`` lists the slots of each variable."""

    def __init__(self, graph: ObjectGraph, skip: frozenset[int] = frozenset()) -> None:
        n = len(graph.nodes)
        leaf: list[int] = []  # shared by every leaf (never appended to): few lists on 50 000 nodes
        self.parent: list[int | None] = [None] * n
        self.kids: list[list[int]] = [leaf] * n
        self.depth = [0] * n
        self.local = [""] * n
        self.pattern = [0] * n
        self.order: list[int] = []
        self._patterns: list[tuple[int, str]] = [(0, "")]  # (parent pattern, last segment)
        self.slots_of: dict[int, list[int]] = {}  # variable -> the slots its optimizer owns
        self.real = n  # ids from here on are groups
        self.groups: list[Group] = []
        if not n:
            return
        seen = [False] * n
        queue, deferred = deque([0]), deque[int]()
        seen[0] = True
        keys: dict[str, tuple[tuple[int, int | str], ...]] = {}
        optimizers = set(np.flatnonzero(graph.kind_codes == KINDS.index("optimizer")).tolist())
        adj = graph.adjacency  # edges as columns: no Edge object per edge
        ptr, child, names = adj.ptr.tolist(), adj.child.tolist(), adj.local
        while queue or deferred:
            if queue:
                p = queue.popleft()
                if p in optimizers:  # what it shares with the model is drawn under the model (home paths)
                    deferred.append(p)
                    continue
            else:
                p = deferred.popleft()
            kids: list[int] = []
            for c, name in zip(child[ptr[p] : ptr[p + 1]], names[ptr[p] : ptr[p + 1]]):
                if not seen[c] and c not in skip:
                    seen[c] = True
                    self.local[c] = name
                    if name not in keys:
                        keys[name] = natural_key(name)
                    kids.append(c)
                    queue.append(c)
            if kids:
                kids.sort(key=lambda c: keys[self.local[c]])
                self.kids[p] = kids
                for c in kids:
                    self.parent[c] = p
        self._group_lists(graph, [p for p in range(n) if len(self.kids[p]) > GROUP_MIN])
        position = {i: n for n, i in enumerate(self._walk())}
        slot_of = {s.slot_id: s for s in graph.slots}
        orphans: dict[int, list[int]] = {}
        for i in range(n):  # slot variables and orphans, owned by their optimizer or the root
            if not seen[i] and i not in skip:
                owner = slot_of[i].optimizer_id if i in slot_of else 0
                owner = owner if seen[owner] and owner != i else 0
                orphans.setdefault(owner, []).append(i)
                self.parent[i] = owner
                if i in slot_of and owner == slot_of[i].optimizer_id:
                    self.slots_of.setdefault(slot_of[i].variable_id, []).append(i)
        for owner, ids in orphans.items():  # slots in their variables' drawing order
            ids.sort(
                key=lambda i: (
                    (position.get(slot_of[i].variable_id, n), slot_of[i].slot_name)
                    if i in slot_of
                    else (n, str(i))
                )
            )
            self.kids[owner] = self.kids[owner] + ids
        ids_of: dict[tuple[int, str], int] = {}
        for p in self._walk():  # depth-first, kids in order: the drawing order
            self.order.append(p)
            for c in self.kids[p]:
                self.depth[c] = self.depth[p] + 1
                if c >= self.real:
                    name = pattern_of(self.groups[c - self.real].label) + "_*"
                else:
                    name = (
                        pattern_of(self.local[c])
                        if self.local[c]
                        else f"({slot_of[c].slot_name if c in slot_of else ''})"
                    )
                key = (self.pattern[p], name)
                if key not in ids_of:
                    ids_of[key] = len(self._patterns)
                    self._patterns.append(key)
                self.pattern[c] = ids_of[key]

    # -- groups of named layers ------------------------------------------------------------------

    def is_group(self, i: int) -> bool:
        return i >= self.real

    def group(self, i: int) -> Group:
        return self.groups[i - self.real]

    def _group_lists(self, graph: ObjectGraph, lists: Sequence[int]) -> None:
        for p in lists:
            kids = self.kids[p]
            if not all(self.local[c].isdigit() for c in kids):
                continue  # only the items of a list are anonymous
            named = [(c, graph.common_scope(c).rsplit("/", 1)[-1].split("_")) for c in kids]
            self.kids[p] = self._split(p, p, named, 0)

    def _split(self, owner: int, parent: int, items: list[tuple[int, list[str]]], depth: int) -> list[int]:
        """``items`` (kid, name tokens) under ``parent``: tokens[depth] shared by two or more
        named kids (that have more tokens) make a group; the others stay where they are."""
        buckets: dict[str, list[tuple[int, list[str]]]] = {}
        for c, tokens in items:
            if len(tokens) > depth + 1 and tokens[0]:
                buckets.setdefault(tokens[depth], []).append((c, tokens))
        if len(buckets) == 1 and len(next(iter(buckets.values()))) == len(items):
            return self._split(owner, parent, items, depth + 1)  # a prefix all share says nothing
        out: list[int] = []
        made: set[str] = set()
        for c, tokens in items:
            key = tokens[depth] if len(tokens) > depth + 1 and tokens[0] else ""
            members = buckets.get(key, []) if key else []
            if len(members) < 2:
                out.append(c)
                continue
            if key in made:
                continue
            made.add(key)
            g = self.real + len(self.groups)
            self.groups.append(Group(owner, "_".join(tokens[: depth + 1]), key, len(members)))
            self.parent.append(parent)
            self.depth.append(0)
            self.local.append("")
            self.pattern.append(0)
            self.kids.append([])
            if len(members) <= GROUP_MIN:
                kids = [m for m, _ in members]
            else:
                kids = self._split(owner, g, members, depth + 1)
            self.kids[g] = kids
            for k in kids:
                self.parent[k] = g
            out.append(g)
        return out

    def pattern_text(self, pattern: int) -> str:
        """``bert/encoder/layer_N/output``: built on request (a 20 000-deep chain has 20 000)."""
        parts = []
        while pattern:
            pattern, name = self._patterns[pattern]
            parts.append(name)
        return "/".join(reversed(parts))

    def _walk(self) -> Iterable[int]:
        stack = [0]
        while stack:
            p = stack.pop()
            yield p
            stack.extend(reversed(self.kids[p]))

    def close_upward(self, nodes: Iterable[int]) -> set[int]:
        """The nodes and all their ancestors; each walk stops at a node already in, so linear."""
        out: set[int] = set()
        for i in nodes:
            while i is not None and i not in out:
                out.add(i)
                i = self.parent[i]  # type: ignore[assignment]
        return out

    def ancestors(self, i: int) -> Iterable[int]:
        p = self.parent[i]
        while p is not None:
            yield p
            p = self.parent[p]

    def subtree(self, i: int) -> Iterable[int]:
        stack = [i]
        while stack:
            j = stack.pop()
            yield j
            stack.extend(self.kids[j])
