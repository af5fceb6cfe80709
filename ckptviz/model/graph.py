"""``ObjectGraph``: a checkpoint's objects and their dependencies, as TensorFlow's
``TrackableObjectGraph`` records them (tensorflow/core/protobuf/trackable_object_graph.proto), or a scope tree for name-based checkpoints.

This is the one index of the object graph: paths, ownership, owners of keys, kinds and slots. The
transformations (select, rename, convert), the will-it-load check and the renderer all ask it.
Only metadata is used: the object graph string and the entries' dtype/shape/size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import CorruptCheckpointError, KeyNotFoundError
from ..format.bundle import Entry
from ..format.dtypes import as_dtype
from ..format.naming import OBJECT_GRAPH_KEY
from . import paths as P
from .names import Names
from .records import KINDS, Attribute, Edge, Kind, Node, Slot, Value

if TYPE_CHECKING:
    from ..render.picture import Picture
    from .checkpoint import Checkpoint


def _value(key: str, meta: Any) -> Value:
    """A Value from an Entry, a ``(dtype, shape)`` pair or a ``{"dtype", "shape"}`` mapping."""
    if type(meta) is Entry:  # the common case, on every key of a checkpoint
        return Value(key, meta.dtype.name, meta.shape, meta.nbytes)
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


def holds_values(node: Any) -> bool:
    """TF's test of a ``TrackableObjectGraph`` node that holds checkpoint values itself."""
    return bool(node.attributes or node.slot_variables or node.HasField("registered_saver"))


def values_from(entries: Mapping[str, Any]) -> dict[str, Value]:
    return {k: _value(k, m) for k, m in entries.items() if k != OBJECT_GRAPH_KEY}


class ObjectGraph:
    """Nodes, ``children`` edges and slot links of a checkpoint; navigate it like TF's CheckpointView.

    ``nodes[i]`` is node id ``i``; ``edges`` keep the stored order (self-loops, shared children and
    aliases included); ``slots`` lists recorded and inferred slot links. ``object_based`` is False
    for a scope tree built from the keys of a name-based checkpoint; ``proto`` is the
    ``TrackableObjectGraph`` message of an object-based one.
    """

    def __init__(
        self,
        nodes: list[Node],
        edges: list[Edge],
        slots: list[Slot],
        paths: P.NodePaths,
        *,
        object_based: bool,
        source: str = "",
        proto: Any = None,
    ) -> None:
        self.nodes, self.edges, self.slots, self.paths = nodes, edges, slots, paths
        self.object_based, self.source, self.proto = object_based, source, proto
        self._out: list[list[Edge]] = [[] for _ in nodes]
        for e in edges:
            self._out[e.parent].append(e)
        self._slots_of: dict[int, list[Slot]] = {}
        for s in slots:
            for i in {s.optimizer_id, s.variable_id, s.slot_id}:
                self._slots_of.setdefault(i, []).append(s)
        self.owner: dict[str, tuple[int, str]] = {k: (n.id, a.name) for n in nodes for a in n.attributes for k in a.keys}
        self._by_full_name: dict[str, list[int]] | None = None
        self._names: Names | None = None

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
        from .slots import keras_file_optimizers, keras_file_slots

        nodes, edges, slots, paths = build_scope_tree(values_from(entries))
        slots += keras_file_slots(nodes, edges, keras_file_optimizers(nodes, edges))
        return cls(nodes, edges, slots, paths, object_based=False, source=source)

    @classmethod
    def from_proto(
        cls, proto: Any, entries: Mapping[str, Any], source: str = "", where: tuple[str, int] | None = None
    ) -> ObjectGraph:
        """Build from a ``TrackableObjectGraph`` (message or serialized bytes) and entry metadata:
        ``{key: Entry | (dtype_name, shape) | {"dtype": ..., "shape": ...}}``. ``where`` is the
        (file, offset) of the serialized graph, for errors."""
        from .slots import classify, slot_nesting_problem

        if isinstance(proto, bytes):
            from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

            proto = TrackableObjectGraph.FromString(proto)
        values = values_from(entries)
        count = len(proto.nodes)

        def in_range(i: int, ref: int, what: str) -> int:
            if not 0 <= ref < count:
                file, offset = where or (source, None)
                raise CorruptCheckpointError(
                    f"object graph node {i} has a {what} id {ref} out of range (the graph has {count} nodes)",
                    file,
                    offset,
                )
            return ref

        edges = [
            Edge(i, ref.local_name, in_range(i, ref.node_id, "child"))
            for i, node in enumerate(proto.nodes)
            for ref in node.children
        ]
        recorded = [
            Slot(
                i,
                in_range(i, ref.original_variable_node_id, "slot variable's original variable"),
                ref.slot_name,
                in_range(i, ref.slot_variable_node_id, "slot variable"),
                False,
            )
            for i, node in enumerate(proto.nodes)
            for ref in node.slot_variables
        ]
        problem = slot_nesting_problem(recorded)
        if problem:
            raise CorruptCheckpointError(problem, *(where or (source, None)))
        out: list[list[tuple[str, int]]] = [[] for _ in range(count)]
        for e in edges:
            out[e.parent].append((e.local_name, e.child))
        paths = P.NodePaths(count, out)
        for s in recorded:  # TF keys a slot as <variable>/.OPTIMIZER_SLOT/<optimizer>/<slot name>
            if not paths.reachable[s.slot_id] and s.slot_id not in paths.special:
                paths.special[s.slot_id] = (s.variable_id, s.optimizer_id, s.slot_name)
        owner = P.attribute_owners(
            ((i, a.name, a.checkpoint_key) for i, node in enumerate(proto.nodes) for a in node.attributes),
            list(values),
        )
        keys_of: dict[tuple[int, str], list[str]] = {}
        for key, ident in owner.items():
            keys_of.setdefault(ident, []).append(key)
        holders = [i for i, node in enumerate(proto.nodes) if holds_values(node)]
        checkpointed = P.checkpointed_nodes(count, ((e.parent, e.child) for e in edges), holders)
        nodes = []
        for i, node in enumerate(proto.nodes):
            attrs = tuple(
                Attribute(a.name, a.full_name, a.checkpoint_key, tuple(sorted(keys_of.get((i, a.name), ()))))
                for a in node.attributes
            )
            if not paths.reachable[i] and i not in paths.special:
                found = next((P.split_key(a.checkpoint_key) for a in attrs if P.split_key(a.checkpoint_key)), None)
                paths.special[i] = found[0] if found else f"(unreachable {i})"
            recorded_flag = node.has_checkpoint_values.value if node.HasField("has_checkpoint_values") else None
            nodes.append(
                Node(
                    i,
                    "other",
                    attrs,
                    tuple([values[k] for a in attrs for k in a.keys]) if attrs else (),
                    i in checkpointed if recorded_flag is None else recorded_flag,
                    node.registered_saver.name if node.HasField("registered_saver") else "",
                    paths.reachable[i],
                    paths,
                )
            )
        slots = classify(nodes, edges, recorded)
        return cls(nodes, edges, slots, paths, object_based=True, source=source, proto=proto)

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
        return list(self.paths.order)

    def parent(self, node_id: int) -> int | None:
        """The owner of a node: its first breadth-first parent, or a slot variable's optimizer."""
        p = self.paths.parent[node_id]
        if p >= 0:
            return p
        special = self.paths.special.get(node_id)
        if isinstance(special, tuple):
            return special[1]
        return None if node_id == 0 else 0

    def find(self, path: str) -> Node:
        """The node at an escaped object path (``"net/l1/kernel"``, any alias path, a slot path)."""
        node_id = self.paths.find(path.strip("/"))
        if node_id is None:
            raise KeyNotFoundError(path, self.candidate_names(), what="object path")
        return self.nodes[node_id]

    def resolve(self, name: str) -> Node:
        """The node a user means by ``name``: an object path (or alias), a key, or a ``full_name``."""
        node = self.lookup(name)
        if node is None:
            raise KeyNotFoundError(name, self.candidate_names(), what="object path, key or name")
        return node

    def lookup(self, name: str) -> Node | None:
        node_id = self.paths.find(name.strip("/"))
        if node_id is None and name in self.owner:
            node_id = self.owner[name][0]
        if node_id is None:
            hits = self.by_full_name().get(name, [])
            node_id = hits[0] if len(hits) == 1 else None
        if node_id is None:
            node_id = self.names.find(name)
        return None if node_id is None else self.nodes[node_id]

    def by_full_name(self) -> dict[str, list[int]]:
        """``{full_name: node ids}`` of the nodes that record one (TF1 names, Keras ``Variable.path``)."""
        if self._by_full_name is None:
            index: dict[str, list[int]] = {}
            for n in self.nodes:
                if n.full_name:
                    index.setdefault(n.full_name, []).append(n.id)
            self._by_full_name = index
        return self._by_full_name

    def candidate_names(self, keys: bool = True) -> list[str]:
        """What a typo might have meant: paths of value holders, their full names and keys."""
        out = list(self.owner) if keys else []
        out.extend(self.by_full_name())
        held = {i for i, _ in self.owner.values()}
        out.extend(self.nodes[i].path for i in held)
        out.extend(self.display_name(i) for i in held)
        out.extend(self.display_path(i) for i in held)
        return out

    def keys_of(self, node_id: int) -> list[str]:
        return [v.key for v in self.nodes[node_id].values]

    def subtree(self, node_id: int) -> set[int]:
        """The node and everything its ``children`` reach (aliases and cycles included, once each)."""
        out, todo = {node_id}, [node_id]
        while todo:
            for e in self._out[todo.pop()]:
                if e.child not in out:
                    out.add(e.child)
                    todo.append(e.child)
        return out

    def with_ancestors(self, node_ids: Iterable[int]) -> set[int]:
        """The nodes, their owners up to the root, and for slots their variable and optimizer too.

        Each walk stops at a node already collected, so the whole set costs linear time."""
        out: set[int] = {0} if self.nodes else set()
        for start in node_ids:
            todo = [start]
            while todo:
                n = todo.pop()
                if n in out and n != start:
                    continue
                out.add(n)
                p = self.paths.parent[n]
                if p >= 0 and p not in out:
                    todo.append(p)
                special = self.paths.special.get(n)
                if isinstance(special, tuple):
                    todo.extend(i for i in special[:2] if i not in out)
        return out

    def slots_of(self, node_id: int) -> list[Slot]:
        """Slot links where ``node_id`` is the optimizer, the variable or the slot."""
        return list(self._slots_of.get(node_id, ()))

    def of_kind(self, kind: Kind) -> list[Node]:
        return [n for n in self.nodes if n.kind == kind]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(KINDS, 0)
        for n in self.nodes:
            out[n.kind] += 1
        return out

    # -- names people know -------------------------------------------------------------------------

    @property
    def names(self) -> Names:
        """Home paths, display paths and display names (``model/names.py``), built on first use."""
        if self._names is None:
            self._names = Names(self)
        return self._names

    def display_name(self, node_id: int) -> str:
        """The name people know: a Keras variable's path (``conv1_conv/kernel``) where the key says
        ``optimizer/_trainable_variables/212``, a slot as ``momentum of conv1_conv/kernel``, else
        the display path."""
        return self.names.name(node_id)

    def display_path(self, node_id: int) -> str:
        """The home path with layers by name: ``model/conv1_conv/kernel`` for
        ``model/_operations/2/_kernel``; ``""`` for the root."""
        return self.names.display_path(node_id)

    def home_path(self, node_id: int) -> str:
        """The shortest path that avoids optimizers (TF's key path is the first one found)."""
        return self.names.home.path(node_id)

    def home_parent(self, node_id: int) -> int | None:
        """The owner along the home path: a layer's variable belongs to the layer, not the
        optimizer that also tracks it; a recorded slot variable belongs to its optimizer."""
        p = self.names.home.parent[node_id]
        if p >= 0:
            return p
        return self.parent(node_id)

    def common_scope(self, node_id: int) -> str:
        """The scope its variables' ``full_name`` share (``conv1_conv`` for ``conv1_conv/kernel``)."""
        return self.names.scope[node_id]

    # -- records and pictures --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The whole graph as JSON-ready data: nodes (with ``label``), edges and slots."""
        nodes = []
        for n in self.nodes:
            d = n.to_dict()
            d["label"] = self.display_name(n.id)
            nodes.append(d)
        return {
            "object_based": self.object_based,
            "source": self.source,
            "nodes": nodes,
            "edges": [e.to_dict() for e in self.edges],
            "slots": [s.to_dict() for s in self.slots],
        }

    def to_dot(self, **options: Any) -> str:
        """DOT text in the TF guide's colours; options as ``ckptviz.render.GraphView``."""
        from ..render.dot import to_dot

        return to_dot(self, **options)

    def draw(self, **options: Any) -> Picture:
        """A picture that shows inline in a notebook (``ckptviz.render.Picture``); options as
        ``export_graph``: ``max_nodes``, ``max_depth``, ``focus``, ``filter``, ``select``,
        ``expand``, ``collapse``, ``status``, ``engine``… (``.save(path)``, ``.dot``, ``.svg()``)."""
        from ..render.picture import Picture

        return Picture(self, **options)

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
