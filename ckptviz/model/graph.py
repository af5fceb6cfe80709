"""``ObjectGraph``: a checkpoint's objects and their dependencies, as TensorFlow's
``TrackableObjectGraph`` records them (format.md §6), or a scope tree for name-based checkpoints.

Only metadata is used: the object graph string and the entries' dtype/shape/size; no tensor value is
read. Kinds and slot links live in ``slots.py``; the TF1 scope tree in ``scopes.py``.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..errors import CorruptCheckpointError, KeyNotFoundError
from ..format.dtypes import as_dtype
from ..format.naming import OBJECT_GRAPH_KEY, escape_local_name, unescape_local_name

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

Kind = Literal["optimizer", "variable", "slot", "other"]
KINDS: tuple[Kind, ...] = ("optimizer", "variable", "slot", "other")
VARIABLE_VALUE = "VARIABLE_VALUE"


class Edge(NamedTuple):
    """A ``children`` reference: ``parent --local_name--> child`` (local_name raw, unescaped)."""

    parent: int
    local_name: str
    child: int


class Slot(NamedTuple):
    """An optimizer slot: ``slot_id`` holds state ``slot_name`` of ``optimizer_id`` for ``variable_id``.

    ``inferred`` is False for TF's recorded ``slot_variables`` and True for links ckptviz infers
    (Keras 3 and new tf_keras optimizers, TF1 name-based slots).
    """

    optimizer_id: int
    variable_id: int
    slot_name: str
    slot_id: int
    inferred: bool


class Value(NamedTuple):
    """Metadata of one bundle entry: never the tensor itself."""

    key: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int


@dataclass(frozen=True)
class Attribute:
    """A ``SerializedTensor``; ``keys`` are the bundle entries it names (exact key, else by prefix)."""

    name: str
    full_name: str
    checkpoint_key: str
    keys: tuple[str, ...]


@dataclass
class Node:
    """One object. ``path`` is the escaped key prefix of the object (``""`` for the root)."""

    id: int
    path: str
    kind: Kind = "other"
    attributes: tuple[Attribute, ...] = ()
    values: tuple[Value, ...] = ()
    has_checkpoint_values: bool = True
    registered_saver: str = ""
    reachable: bool = True  # via ``children`` from the root (slot variables are not)

    @property
    def name(self) -> str:
        """The local name (unescaped last path segment); ``""`` for the root."""
        return unescape_local_name(self.path.rsplit("/", 1)[-1]) if self.path else ""

    @property
    def full_name(self) -> str:
        return next((a.full_name for a in self.attributes if a.full_name), "")

    @property
    def dtype(self) -> str | None:
        return self.values[0].dtype if len(self.values) == 1 else None

    @property
    def shape(self) -> tuple[int, ...] | None:
        return self.values[0].shape if len(self.values) == 1 else None

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.values)


def _value(key: str, meta: Any) -> Value:
    """A Value from an Entry, a ``(dtype, shape)`` pair or a ``{"dtype", "shape"}`` mapping."""
    if isinstance(meta, Mapping):
        dtype, shape, nbytes = meta["dtype"], meta["shape"], meta.get("nbytes")
    elif isinstance(meta, tuple) and not hasattr(meta, "dtype"):
        dtype, shape, nbytes = meta[0], meta[1], meta[2] if len(meta) > 2 else None
    else:
        dtype, shape, nbytes = meta.dtype, meta.shape, getattr(meta, "nbytes", None)
    name = dtype if isinstance(dtype, str) else dtype.name
    shape = tuple(int(d) for d in shape)
    if nbytes is None:  # strings and variants: unknown without the data, counted as 0
        nbytes = math.prod(shape) * as_dtype(name).size
    return Value(key, name, shape, int(nbytes))


def values_from(entries: Mapping[str, Any]) -> dict[str, Value]:
    return {k: _value(k, m) for k, m in entries.items() if k != OBJECT_GRAPH_KEY}


class ObjectGraph:
    """Nodes, ``children`` edges and slot links of a checkpoint; navigate it like TF's CheckpointView.

    ``nodes[i]`` is node id ``i``; ``edges`` keep the stored order (self-loops, shared children and
    aliases included); ``slots`` lists recorded and inferred slot links. ``object_based`` is False
    for a scope tree built from the keys of a name-based checkpoint.
    """

    def __init__(
        self, nodes: list[Node], edges: list[Edge], slots: list[Slot], *, object_based: bool, source: str = ""
    ) -> None:
        self.nodes = nodes
        self.edges = edges
        self.slots = slots
        self.object_based = object_based
        self.source = source
        self._out: list[list[Edge]] = [[] for _ in nodes]
        for e in edges:
            self._out[e.parent].append(e)
        self._by_path = {}
        for n in reversed(nodes):  # the lowest id wins a path clash
            self._by_path[n.path] = n.id

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> ObjectGraph:
        """The object graph of an opened checkpoint; a scope tree when it has none."""
        if checkpoint.object_graph_proto is None:
            return cls.from_keys(checkpoint.entries, source=checkpoint.path)
        return cls.from_proto(checkpoint.object_graph_proto, checkpoint.entries, source=checkpoint.path)

    @classmethod
    def from_keys(cls, entries: Mapping[str, Any], source: str = "") -> ObjectGraph:
        """A scope tree of a name-based checkpoint's keys (TF1 ``Saver``), with TF1 slots linked."""
        from .scopes import build_scope_tree

        nodes, edges, slots = build_scope_tree(values_from(entries))
        return cls(nodes, edges, slots, object_based=False, source=source)

    @classmethod
    def from_proto(cls, proto: Any, entries: Mapping[str, Any], source: str = "") -> ObjectGraph:
        """Build from a ``TrackableObjectGraph`` (message or serialized bytes) and entry metadata:
        ``{key: Entry | (dtype_name, shape) | {"dtype": ..., "shape": ...}}``."""
        from .slots import classify

        if isinstance(proto, bytes):
            from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

            proto = TrackableObjectGraph.FromString(proto)
        values = values_from(entries)
        count = len(proto.nodes)
        edges = []
        for i, node in enumerate(proto.nodes):
            for ref in node.children:
                if not 0 <= ref.node_id < count:
                    raise CorruptCheckpointError(
                        f"object graph node {i} has a child id {ref.node_id} out of range"
                    )
                edges.append(Edge(i, ref.local_name, ref.node_id))
        paths = _bfs_paths(count, edges)
        recorded = [
            Slot(i, ref.original_variable_node_id, ref.slot_name, ref.slot_variable_node_id, False)
            for i, node in enumerate(proto.nodes)
            for ref in node.slot_variables
            if 0 <= ref.original_variable_node_id < count and 0 <= ref.slot_variable_node_id < count
        ]
        reachable = set(paths)
        for s in recorded:  # TF keys a slot as <variable>/.OPTIMIZER_SLOT/<optimizer>/<slot name>
            if s.slot_id not in paths and s.variable_id in paths and s.optimizer_id in paths:
                prefix = f"{paths[s.variable_id]}/.OPTIMIZER_SLOT/{paths[s.optimizer_id]}/"
                paths[s.slot_id] = prefix + escape_local_name(s.slot_name)
        keys = sorted(values)
        nodes = []
        for i, node in enumerate(proto.nodes):
            attrs = _attributes(node.attributes, values, keys)
            path = paths[i] if i in paths else _path_from_attributes(attrs) or f"(unreachable {i})"
            nodes.append(
                Node(
                    id=i,
                    path=path,
                    attributes=attrs,
                    values=tuple(values[k] for a in attrs for k in a.keys),
                    has_checkpoint_values=node.has_checkpoint_values.value
                    if node.HasField("has_checkpoint_values")
                    else True,
                    registered_saver=node.registered_saver.name if node.HasField("registered_saver") else "",
                    reachable=i in reachable,
                )
            )
        slots = classify(nodes, edges, recorded)
        return cls(nodes, edges, slots, object_based=True, source=source)

    # -- navigation (TF's CheckpointView vocabulary) ---------------------------------------------

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __getitem__(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def children(self, node_id: int) -> dict[str, int]:
        """``local_name -> node_id`` (a later duplicate name overwrites, as in CheckpointView)."""
        return {e.local_name: e.child for e in self._out[node_id]}

    def out_edges(self, node_id: int) -> list[Edge]:
        """Every child edge of ``node_id`` in stored order, duplicates and aliases included."""
        return list(self._out[node_id])

    def descendants(self) -> list[int]:
        """``[0]`` then the ids reachable through ``children`` in breadth-first order (no slots)."""
        return list(_bfs_paths(len(self.nodes), self.edges)) if self.nodes else []

    def find(self, path: str) -> Node:
        """The node at an escaped object path (``"net/l1/kernel"``; ``""`` is the root)."""
        node_id = self._by_path.get(path.strip("/"))
        if node_id is None:
            raise KeyNotFoundError(path, self._by_path, what="object path")
        return self.nodes[node_id]

    def slots_of(self, node_id: int) -> list[Slot]:
        """Slot links where ``node_id`` is the optimizer, the variable or the slot."""
        return [s for s in self.slots if node_id in (s.optimizer_id, s.variable_id, s.slot_id)]

    def of_kind(self, kind: Kind) -> list[Node]:
        return [n for n in self.nodes if n.kind == kind]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(KINDS, 0)
        for n in self.nodes:
            out[n.kind] += 1
        return out

    # -- pictures (render is the layer above; imported lazily) -----------------------------------

    def to_dot(self, **options: Any) -> str:
        """DOT text in the TF guide's colours; options as ``ckptviz.render.GraphView``."""
        from ..render.dot import to_dot

        return to_dot(self, **options)

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        from ..render.layout import mimebundle

        return mimebundle(self)

    def __repr__(self) -> str:
        c = self.counts()
        kind = "object graph" if self.object_based else "scope tree (name-based)"
        parts = ", ".join(f"{c[k]} {k}{'s' if c[k] != 1 else ''}" for k in KINDS[:3])
        return f"<ckptviz.ObjectGraph {kind}: {len(self)} nodes, {parts}>"


def _bfs_paths(count: int, edges: Iterable[Edge]) -> dict[int, str]:
    """Escaped path of each node reachable from 0 along its first breadth-first path, in BFS order."""
    if count == 0:
        return {}
    out: list[list[Edge]] = [[] for _ in range(count)]
    for e in edges:
        out[e.parent].append(e)
    paths = {0: ""}
    queue = deque([0])
    while queue:
        parent = queue.popleft()
        base = paths[parent]
        for e in out[parent]:
            if e.child not in paths:
                paths[e.child] = (
                    f"{base}/{escape_local_name(e.local_name)}" if base else escape_local_name(e.local_name)
                )
                queue.append(e.child)
    return paths


def _attributes(protos: Iterable[Any], values: Mapping[str, Value], keys: list[str]) -> tuple[Attribute, ...]:
    """Map each attribute to its entries: the exact key, else every key it prefixes (legacy saveables
    append ``_STATE``, ``-keys``/``-values``) that is not another attribute's exact key."""
    protos = list(protos)
    own = {a.checkpoint_key for a in protos}
    out = []
    for a in protos:
        ck = a.checkpoint_key
        if ck in values:
            found: tuple[str, ...] = (ck,)
        else:
            lo = bisect.bisect_left(keys, ck) if ck else len(keys)
            hits = []
            while lo < len(keys) and keys[lo].startswith(ck):
                if keys[lo] not in own:
                    hits.append(keys[lo])
                lo += 1
            found = tuple(hits)
        out.append(Attribute(a.name, a.full_name, ck, found))
    return tuple(out)


def _path_from_attributes(attrs: tuple[Attribute, ...]) -> str:
    for a in attrs:
        if "/.ATTRIBUTES/" in a.checkpoint_key:
            return a.checkpoint_key.split("/.ATTRIBUTES/", 1)[0]
    return ""
