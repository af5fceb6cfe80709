"""TensorFlow's key grammar, in one place (TF's ``trackable_utils``, ``checkpoint/util.py``).

- An object's *path* joins the escaped local names along its first breadth-first route from the
  root (``net/l1/kernel``); ``.`` escapes as ``..`` and ``/`` as ``.S``.
- An attribute's key is ``<path>/.ATTRIBUTES/<escaped attribute name>``
  (``net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE``).
- A slot variable, which no ``children`` edge reaches, has the path
  ``<variable path>/.OPTIMIZER_SLOT/<optimizer path>/<escaped slot name>``.
- An attribute owns its exact key if the bundle has it, else every key it prefixes (legacy
  saveables append ``_STATE``, ``-keys``/``-values``) that is not another attribute's exact key.
- ``has_checkpoint_values`` is true for nodes holding values and, propagated upward, their parents.

Paths are never stored whole: ``NodePaths`` keeps a parent and a segment per node and builds a path
on request, so a 30 000-deep chain costs linear memory.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Sequence
from operator import itemgetter, methodcaller

import numpy as np

from .columns import Strings

ATTRIBUTES = ".ATTRIBUTES"
VARIABLE_VALUE = "VARIABLE_VALUE"
OPTIMIZER_SLOT = ".OPTIMIZER_SLOT"
_ATTR_SEP = f"/{ATTRIBUTES}/"
_SLOT_SEP = f"/{OPTIMIZER_SLOT}/"


def escape_local_name(name: str) -> str:
    """TF's ``trackable_utils.escape_local_name``: ``.`` -> ``..``, then ``/`` -> ``.S``."""
    if "." not in name and "/" not in name:  # nearly every name: no new string
        return name
    return name.replace(".", "..").replace("/", ".S")


def unescape_local_name(segment: str) -> str:
    """Inverse of ``escape_local_name`` for one path segment."""
    if "." not in segment:  # nearly every segment: nothing escaped
        return segment
    out, i = [], 0
    while i < len(segment):
        pair = segment[i : i + 2]
        if pair in ("..", ".S"):
            out.append("." if pair == ".." else "/")
            i += 2
        else:
            out.append(segment[i])
            i += 1
    return "".join(out)


def join(path: str, local_name: str) -> str:
    """The path of the child ``local_name`` (raw, unescaped) of the object at ``path``."""
    segment = escape_local_name(local_name)
    return f"{path}/{segment}" if path else segment


def attribute_key(path: str, attribute: str) -> str:
    """``net/l1/kernel`` + ``VARIABLE_VALUE`` -> ``net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE``."""
    return f"{path}{_ATTR_SEP}{escape_local_name(attribute)}"


def slot_path(variable_path: str, optimizer_path: str, slot_name: str) -> str:
    return f"{variable_path}{_SLOT_SEP}{optimizer_path}/{escape_local_name(slot_name)}"


def split_key(key: str) -> tuple[str, str] | None:
    """``(object path, escaped attribute)`` of an object-based key, None for other keys."""
    path, sep, attribute = key.partition(_ATTR_SEP)
    return (path, attribute) if sep else None


def split_slot_path(path: str) -> tuple[str, str, str] | None:
    """``(variable path, optimizer path, slot name)`` of a slot path, else None."""
    variable, sep, rest = path.partition(_SLOT_SEP)
    if not sep or "/" not in rest:
        return None
    optimizer, _, slot = rest.rpartition("/")
    return variable, optimizer, unescape_local_name(slot)


def object_path(key: str) -> str:
    """The object part of an object-based key (``net/l1/kernel``); other keys unchanged."""
    return key.partition(_ATTR_SEP)[0]


def object_paths(keys: Iterable[str]) -> list[str]:
    """``object_path`` of each key, with no Python call per key."""
    return list(map(itemgetter(0), map(methodcaller("partition", _ATTR_SEP), keys)))


def value_path(key: str) -> str:
    """``net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE`` -> ``net/l1/bias``; other keys unchanged."""
    suffix = _ATTR_SEP + VARIABLE_VALUE
    return key[: -len(suffix)] if key.endswith(suffix) else key


def is_object_key(key: str) -> bool:
    return _ATTR_SEP in key


def attribute_owners(
    attributes: Iterable[tuple[int, str, str]], keys: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """``{key: (node id, attribute name)}`` for ``(node id, name, checkpoint_key)`` triples.

    The exact key beats any prefix, and an earlier attribute beats a later one; prefixes are
    found by bisection in the sorted keys, so 20 000 prefix attributes cost n log n.
    """
    ordered = sorted(keys)
    exact = set(ordered)
    triples = list(attributes)
    hits = [(key, (node_id, name)) for node_id, name, key in triples if key in exact]
    owner = dict(hits)
    if len(owner) < len(hits):  # a key held twice: the earlier attribute keeps it
        owner = {}
        for key, ident in hits:
            owner.setdefault(key, ident)
    prefixed = [t for t in triples if t[2] and t[2] not in exact]
    for node_id, name, prefix in prefixed:
        i = bisect.bisect_left(ordered, prefix)
        while i < len(ordered) and ordered[i].startswith(prefix):
            owner.setdefault(ordered[i], (node_id, name))
            i += 1
    return owner


def checkpointed_nodes(count: int, edges: Iterable[tuple[int, int]], holders: Iterable[int]) -> set[int]:
    """TF's ``add_checkpoint_values_check``: the holders of values and every ancestor of one.

    Iterative propagation along reversed ``(parent, child)`` edges: correct on cycles, no recursion.
    """
    parents: list[list[int]] = [[] for _ in range(count)]
    for parent, child in edges:
        parents[child].append(parent)
    marked = set(holders)
    todo = deque(marked)
    while todo:
        for parent in parents[todo.popleft()]:
            if parent not in marked:
                marked.add(parent)
                todo.append(parent)
    return marked


class Adjacency(Sequence[list[tuple[str, int]]]):
    """Out-edges of every node in CSR form: node ``i``'s edges are positions ``ptr[i]:ptr[i+1]`` of
    ``child`` (numpy) and ``local`` (raw local names), in stored order. ``adjacency[i]`` is that
    node's ``[(local_name, child)]``."""

    def __init__(
        self,
        count: int,
        parent: Sequence[int] | np.ndarray,
        child: Sequence[int] | np.ndarray,
        local: Sequence[str],
    ) -> None:
        par = np.asarray(parent, np.int64)
        kid = np.asarray(child, np.int64)
        names = local if isinstance(local, Strings) else None
        if par.size > 1 and bool(np.any(par[1:] < par[:-1])):  # aliases appended last: group by parent
            order = np.argsort(par, kind="stable")
            par, kid = par[order], kid[order]
            if names is not None:
                names = names.take(order)
            else:
                local = [local[k] for k in order.tolist()]
        self.ptr = np.zeros(count + 1, np.int64)
        if par.size:
            np.cumsum(np.bincount(par, minlength=count), out=self.ptr[1:])
        self.child = kid
        self._local: list[str] | None = None if names is not None else list(local)
        self._names = names
        self._ptr: list[int] = self.ptr.tolist()
        self._child: list[int] = kid.tolist()
        self._escaped: list[str] | None = None

    @property
    def local(self) -> list[str]:
        """The raw local name of every edge (decoded on first use when given as ``Strings``)."""
        if self._local is None:
            assert self._names is not None
            self._local = self._names.tolist()
        return self._local

    @property
    def names(self) -> Strings:
        """``local`` as byte ranges, for matching many names at once."""
        if self._names is None:
            self._names = Strings.of(self.local)
        return self._names

    @classmethod
    def of(cls, out_edges: Sequence[Sequence[tuple[str, int]]]) -> Adjacency:
        if isinstance(out_edges, Adjacency):
            return out_edges
        parent = [i for i, out in enumerate(out_edges) for _ in out]
        return cls(
            len(out_edges),
            parent,
            [c for out in out_edges for _, c in out],
            [n for out in out_edges for n, _ in out],
        )

    @property
    def escaped(self) -> list[str]:
        """``local`` escaped as path segments (computed once)."""
        if self._escaped is None:
            escaped = self.local
            odd = np.flatnonzero(self.names.contains_any("./")).tolist()
            if odd:
                escaped = list(escaped)
                for k in odd:
                    escaped[k] = escape_local_name(escaped[k])
            self._escaped = escaped
        return self._escaped

    def __len__(self) -> int:
        return len(self._ptr) - 1

    def __getitem__(self, node: int) -> list[tuple[str, int]]:  # type: ignore[override]
        a, b = self._ptr[node], self._ptr[node + 1]
        return list(zip(self.local[a:b], self._child[a:b]))

    def __iter__(self) -> Iterator[list[tuple[str, int]]]:
        return (self[i] for i in range(len(self)))

    def children(self, node: int) -> list[int]:
        return self._child[self._ptr[node] : self._ptr[node + 1]]

    def span(self, node: int) -> range:
        """Edge positions of ``node``."""
        return range(self._ptr[node], self._ptr[node + 1])


_SMALL_FRONTIER = 32  # below this many edges a breadth-first level is walked in Python


class NodePaths:
    """Paths of every node of an object graph, built on request from parents and segments.

    ``parent[i]`` is the first breadth-first parent (-1 for the root and for nodes no ``children``
    edge reaches), ``segment[i]`` the escaped local name on that edge. Slot variables and
    unreachable nodes get ``special`` paths: a slot as ``(variable, optimizer, slot name)``, others
    as a string. Nodes in ``defer`` are expanded only once nothing else is left, so a path runs
    through them only where no other path exists (home paths avoid optimizers this way).

    The walk goes level by level; a wide level is expanded with numpy (every edge of the level in
    stored order, the first edge to reach a node wins), which visits nodes in exactly the order
    of a queue.
    """

    def __init__(
        self, count: int, out_edges: Sequence[Sequence[tuple[str, int]]], defer: Collection[int] = ()
    ) -> None:
        self.order: list[int] = []  # breadth-first, reachable nodes only
        self._segment: list[str] | None = None
        self._via: np.ndarray | None = None
        self.unreached = np.zeros(0, np.int64)  # ids no ``children`` edge reaches (not the root)
        self.special: dict[int, tuple[int, int, str] | str] = {}
        self._named: dict[int, dict[str, int]] = {}
        self._by_special: dict[tuple[int, int, str] | str, int] | None = None
        adj = self._out = Adjacency.of(out_edges) if count else Adjacency(0, [], [], [])
        if not count:
            self.parent, self.segment, self.depth, self.reachable = [], [], [], []
            return
        parent = np.full(count, -1, np.int64)
        depth = np.zeros(count, np.int64)
        via = np.full(count, -1, np.int64)  # the edge that reached each node
        seen = np.zeros(count, bool)
        seen[0] = True
        deferred = np.zeros(count, bool)
        if defer:
            deferred[[d for d in defer if 0 <= d < count]] = True
        order: list[np.ndarray] = []
        waiting: deque[int] = deque()  # deferred nodes met, expanded once nothing else is left
        frontier = np.array([0], np.int64)
        order.append(frontier)
        expand = frontier
        while True:
            held = deferred[expand]
            if held.any():
                waiting.extend(expand[held].tolist())
                expand = expand[~held]
            found = self._level(adj, expand, seen, parent, depth, via)
            if found.size:
                order.append(found)
                expand = found
                continue
            if not waiting:
                break
            expand = np.array([waiting.popleft()], np.int64)
            deferred[expand] = False  # expanded now, in turn
        self.order = np.concatenate(order).tolist()
        self.parent = parent.tolist()
        self.depth = depth.tolist()
        self.reachable = seen.tolist()
        self.unreached = np.flatnonzero(~seen)
        self._via = via  # segments are made from it on first use

    @property
    def segment(self) -> list[str]:
        if self._segment is None:
            assert self._via is not None
            segments = [*self._out.escaped, ""]  # via -1: no edge
            self._segment = list(map(segments.__getitem__, self._via.tolist()))
        return self._segment

    @segment.setter
    def segment(self, value: list[str]) -> None:
        self._segment = value

    @staticmethod
    def _level(
        adj: Adjacency,
        frontier: np.ndarray,
        seen: np.ndarray,
        parent: np.ndarray,
        depth: np.ndarray,
        via: np.ndarray,
    ) -> np.ndarray:
        """The nodes first reached from ``frontier`` (in queue order), marked and linked."""
        starts, ends = adj.ptr[frontier], adj.ptr[frontier + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total < _SMALL_FRONTIER:
            ptr, child = adj._ptr, adj._child
            found = []
            for node in frontier[lengths > 0].tolist():
                d = int(depth[node]) + 1
                for k in range(ptr[node], ptr[node + 1]):
                    c = child[k]
                    if not seen[c]:
                        seen[c] = True
                        parent[c], depth[c], via[c] = node, d, k
                        found.append(c)
            return np.asarray(found, np.int64)
        edge = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        kids = adj.child[edge]
        new = ~seen[kids]
        edge, kids = edge[new], kids[new]
        owner = np.repeat(frontier, lengths)[new]
        slot = np.empty(len(seen), np.int64)
        slot[kids] = np.arange(len(kids))
        if not (slot[kids] == np.arange(len(kids))).all():  # a node reached twice: the first edge wins
            _, first = np.unique(kids, return_index=True)
            first.sort()
            edge, kids, owner = edge[first], kids[first], owner[first]
        seen[kids] = True
        parent[kids], depth[kids], via[kids] = owner, depth[owner] + 1, edge
        reached: np.ndarray = kids
        return reached

    @classmethod
    def of_tree(
        cls, parent: list[int], segment: list[str], adjacency: Adjacency, depth: list[int], reachable: int
    ) -> NodePaths:
        """Paths of a scope tree numbered breadth-first (ids below ``reachable`` in that order, the
        rest reached by no scope), with segments as they appear in keys (not escaped)."""
        self = cls(0, [])
        count = len(parent)
        self.parent, self.segment, self._out, self.depth = parent, segment, adjacency, depth
        self.order = list(range(reachable))
        self.reachable = [True] * reachable + [False] * (count - reachable)
        return self

    @property
    def adjacency(self) -> Adjacency:
        return self._out

    def path(self, node: int) -> str:
        special = self.special.get(node)
        if isinstance(special, tuple):
            variable, optimizer, slot = special
            return slot_path(self.path(variable), self.path(optimizer), slot)
        if special is not None:
            return special
        parts = []
        parent, segment = self.parent, self.segment
        while node > 0 and parent[node] >= 0:
            parts.append(segment[node])
            node = parent[node]
        return "/".join(reversed(parts))

    def all(self) -> list[str]:
        """``path`` of every node, each joined once from its parent's (``order`` has parents first)."""
        parent, segment = self.parent, self.segment
        out = [""] * len(parent)
        rooted = [False] * len(parent)  # has a segment of its own in its path
        done = [False] * len(parent)
        if parent:
            done[0] = True
        for i in self.order:
            p = parent[i]
            if i == 0 or p < 0 or not done[p]:
                continue
            out[i] = f"{out[p]}/{segment[i]}" if rooted[p] else segment[i]
            rooted[i] = done[i] = True
        for i in [*self.special, *(i for i in range(len(parent)) if not done[i] and parent[i] >= 0)]:
            out[i] = self.path(i)
        return out

    def find(self, path: str) -> int | None:
        """The node at ``path``, following any ``children`` edge by name (aliases too); None if absent."""
        if self._by_special is None:
            self._by_special = {s: n for n, s in reversed(self.special.items())}
        slot = split_slot_path(path)
        if slot is not None:
            variable, optimizer = self.find(slot[0]), self.find(slot[1])
            if variable is not None and optimizer is not None:
                found = self._by_special.get((variable, optimizer, slot[2]))
                if found is not None:
                    return found
            return self._by_special.get(path)  # a scope tree keeps slot paths as they are
        node = 0
        for segment in path.split("/") if path else ():
            named = self._named.get(node)
            if named is None:  # a later duplicate name wins, as in TF's CheckpointView.children
                named = {}
                for n, c in self._out[node]:
                    named[escape_local_name(n)] = c
                    if self.parent[c] == node:  # scope trees keep key segments as they are
                        named.setdefault(self.segment[c], c)
                self._named[node] = named
            child = named.get(segment)
            if child is None:
                return self._by_special.get(path)
            node = child
        return node
