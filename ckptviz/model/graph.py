"""``ObjectGraph``: a checkpoint's objects and their dependencies, as TensorFlow's
``TrackableObjectGraph`` records them (tensorflow/core/protobuf/trackable_object_graph.proto), or a scope tree for name-based checkpoints.

This is the one index of the object graph: paths, ownership, owners of keys, kinds and slots. The
transformations (select, rename, convert), the will-it-load check and the renderer all ask it.
Only metadata is used: the object graph string and the entries' dtype/shape/size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from ..errors import CorruptCheckpointError, KeyNotFoundError
from ..format.naming import OBJECT_GRAPH_KEY
from . import paths as P
from .columns import Columns, columns_of
from .names import Names
from .paths import VARIABLE_VALUE
from .records import KINDS, Attribute, Edge, Kind, Node, Slot, Value, value_of

if TYPE_CHECKING:
    from .scopes import ScopeTree


def holds_values(node: Any) -> bool:
    """TF's test of a ``TrackableObjectGraph`` node that holds checkpoint values itself."""
    return bool(node.attributes or node.slot_variables or node.HasField("registered_saver"))


class NodeTable(Sequence[Node]):
    """The nodes of a graph decoded from a ``TrackableObjectGraph``, as ``Node`` objects made on
    first access from the graph's columns (most work never needs most of them)."""

    def __init__(self, graph: ObjectGraph, count: int) -> None:
        self._graph = graph
        self._made: list[Node | None] = [None] * count

    def __len__(self) -> int:
        return len(self._made)

    @overload
    def __getitem__(self, i: int) -> Node: ...
    @overload
    def __getitem__(self, i: slice) -> list[Node]: ...
    def __getitem__(self, i: int | slice) -> Node | list[Node]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        node = self._made[i]
        if node is None:
            node = self._made[i] = self._graph._make_node(range(len(self._made))[i])
        return node

    def __iter__(self) -> Iterator[Node]:
        return (self[i] for i in range(len(self._made)))


class _Facts:
    """What classifying nodes needs (``slots.Facts``), read from a graph's columns."""

    def __init__(self, graph: ObjectGraph, variable: np.ndarray) -> None:
        self.adjacency, self.variable = graph.adjacency, variable
        self._graph = graph

    @property
    def full_name(self) -> list[str]:  # only optimizers without recorded slots need them
        return self._graph.full_names

    def meta(self, node: int) -> tuple[str | None, tuple[int, ...] | None]:
        values = self._graph._values_of(node)
        return (values[0].dtype, values[0].shape) if len(values) == 1 else (None, None)


class ObjectGraph:
    """Nodes, ``children`` edges and slot links of a checkpoint; navigate it like TF's CheckpointView.

    ``nodes[i]`` is node id ``i``; ``edges`` keep the stored order (self-loops, shared children and
    aliases included); ``slots`` lists recorded and inferred slot links. ``object_based`` is False
    for a scope tree built from the keys of a name-based checkpoint; ``proto`` is the
    ``TrackableObjectGraph`` message of an object-based one.

    Underneath are columns: ``adjacency`` (numpy CSR of the ``children`` edges), ``kind_codes``
    (indices into ``KINDS``), ``full_names``; ``Node`` objects are made on demand.
    """

    def __init__(
        self,
        nodes: Sequence[Node] | None,
        edges: list[Edge] | None,
        slots: list[Slot] | None,
        paths: P.NodePaths,
        *,
        object_based: bool,
        source: str = "",
        proto: Any = None,
        kind_codes: np.ndarray | None = None,
    ) -> None:
        self._slots, self.paths = slots, paths
        self.object_based, self.source, self._proto = object_based, source, proto
        self._raw: bytes | None = None
        self.adjacency = paths.adjacency
        self._edges = edges
        if nodes is None:
            self.nodes: Sequence[Node] = NodeTable(self, len(self.adjacency))
        else:
            self.nodes = nodes
        self._full_names: list[str] | None = None
        self._owner: dict[str, tuple[int, str]] | None = None
        if kind_codes is None:  # a scope tree: nodes made already
            assert nodes is not None
            kind_codes = np.asarray([KINDS.index(n.kind) for n in nodes], np.int8)
            self._full_names = [n.full_name for n in nodes]
            self._owner = {k: (n.id, a.name) for n in nodes for a in n.attributes for k in a.keys}
        self.kind_codes = kind_codes
        self._slots_of: dict[int, list[Slot]] | None = None
        self._by_full_name: dict[str, list[int]] | None = None
        self._names: Names | None = None
        self._columns: Columns | None = None
        self._entries: Mapping[str, Any] = {}
        self._keys_of: dict[tuple[int, str], list[str]] | None = None
        self._checkpointed: set[int] | None = None
        self._node_bytes: np.ndarray | None = None
        self._tree: ScopeTree | None = None

    @property
    def slots(self) -> list[Slot]:
        """Recorded and inferred slot links (a scope tree's made on first use)."""
        if self._slots is None:
            assert self._tree is not None
            self._slots = self._tree.slots
        return self._slots

    @slots.setter
    def slots(self, slots: list[Slot]) -> None:
        self._slots, self._slots_of = slots, None

    @property
    def edges(self) -> list[Edge]:
        """Every ``children`` edge in stored order."""
        if self._edges is None and self._tree is not None:
            self._edges = self._tree.edges
        if self._edges is None:
            adj = self.adjacency
            parents = np.repeat(np.arange(len(adj)), np.diff(adj.ptr)).tolist()
            self._edges = [Edge(p, n, c) for p, n, c in zip(parents, adj.local, adj._child)]
        return self._edges

    @property
    def kinds(self) -> list[Kind]:
        """``kind`` of every node, by id."""
        return [KINDS[c] for c in self.kind_codes.tolist()]

    def kind(self, node_id: int) -> Kind:
        return KINDS[int(self.kind_codes[node_id])]

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_keys(cls, entries: Mapping[str, Any], source: str = "") -> ObjectGraph:
        """A scope tree of a name-based checkpoint's keys (TF1 ``Saver``), with TF1 slots linked."""
        from .scopes import build_scope_tree
        from .slots import keras_file_optimizers, keras_file_slots

        tree = build_scope_tree(entries)
        graph = cls(
            None, None, None, tree.paths, object_based=False, source=source, kind_codes=tree.kind_codes
        )
        graph._tree, graph._full_names = tree, tree.full_names
        if tree.has_vars_edge:  # a Keras ``.weights.h5`` file's ``…/vars/N``: its optimizer and slots
            nodes, edges = graph.nodes, graph.edges
            marked = keras_file_optimizers(nodes, edges)
            graph.slots += keras_file_slots(nodes, edges, marked)
            graph.kind_codes[marked] = KINDS.index("optimizer")
            graph.kind_codes[[s.slot_id for s in graph.slots]] = KINDS.index("slot")
        return graph

    @classmethod
    def from_proto(
        cls, proto: Any, entries: Mapping[str, Any], source: str = "", where: tuple[str, int] | None = None
    ) -> ObjectGraph:
        """Build from a ``TrackableObjectGraph`` (message or serialized bytes) and entry metadata:
        ``{key: Entry | (dtype_name, shape) | {"dtype": ..., "shape": ...}}``. ``where`` is the
        (file, offset) of the serialized graph, for errors.

        The graph is decoded once, into columns; everything else is built from those. Of
        ``entries`` only the keys are used here; a value is looked at when a node is made."""
        from .slots import classify, slot_nesting_problem

        cols, message = columns_of(proto)
        count = cols.count

        def out_of_range(i: int, ref: int, what: str) -> CorruptCheckpointError:
            file, offset = where or (source, None)
            return CorruptCheckpointError(
                f"object graph node {i} has a {what} id {ref} out of range (the graph has {count} nodes)",
                file,
                offset,
            )

        kids = cols.edge_child
        bad = np.flatnonzero((kids < 0) | (kids >= count))
        if bad.size:
            raise out_of_range(int(cols.edge_parent[bad[0]]), int(kids[bad[0]]), "child")
        recorded = []
        for i, variable, slot_name, slot in cols.slot_refs:
            for ref, what in ((variable, "slot variable's original variable"), (slot, "slot variable")):
                if not 0 <= ref < count:
                    raise out_of_range(i, ref, what)
            recorded.append(Slot(i, variable, slot_name, slot, False))
        problem = slot_nesting_problem(recorded)
        if problem:
            raise CorruptCheckpointError(problem, *(where or (source, None)))
        adjacency = P.Adjacency(count, cols.edge_parent, kids, cols.edge_name)
        paths = P.NodePaths(count, adjacency)
        for s in recorded:  # TF keys a slot as <variable>/.OPTIMIZER_SLOT/<optimizer>/<slot name>
            if not paths.reachable[s.slot_id] and s.slot_id not in paths.special:
                paths.special[s.slot_id] = (s.variable_id, s.optimizer_id, s.slot_name)
        a_key, attr_ptr = cols.attr_key, cols.attr_ptr
        for i in paths.unreached.tolist():
            if i not in paths.special:
                found = next(
                    (
                        P.split_key(a_key[k])
                        for k in range(int(attr_ptr[i]), int(attr_ptr[i + 1]))
                        if P.split_key(a_key[k])
                    ),
                    None,
                )
                paths.special[i] = found[0] if found else f"(unreachable {i})"
        is_variable = np.zeros(count, bool)
        is_variable[cols.attr_node[cols.attr_name.equal(VARIABLE_VALUE)]] = True
        graph = cls(
            None, None, [], paths, object_based=True, source=source, proto=message,
            kind_codes=np.zeros(count, np.int8),
        )  # fmt: skip
        graph._columns, graph._entries = cols, entries
        graph._raw = proto if message is None else None
        kind_codes, slots = classify(_Facts(graph, is_variable), recorded)
        graph.kind_codes = kind_codes
        graph.slots = slots
        return graph

    @property
    def proto(self) -> Any:
        """The ``TrackableObjectGraph`` message (parsed on first use when built from bytes)."""
        if self._proto is None and self._raw is not None:
            from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

            self._proto = TrackableObjectGraph.FromString(self._raw)
        return self._proto

    @property
    def owner(self) -> dict[str, tuple[int, str]]:
        """``{key: (node id, attribute name)}``: which attribute of which node holds each key."""
        if self._owner is None and self._tree is not None:
            self._owner = self._tree.owner
        if self._owner is None:
            cols = self._columns
            assert cols is not None
            keys = [k for k in self._entries if k != OBJECT_GRAPH_KEY]
            self._owner = P.attribute_owners(
                zip(cols.attr_node.tolist(), cols.attr_name.tolist(), cols.attr_key.tolist()), keys
            )
        return self._owner

    def holders(self) -> tuple[list[str], list[int]]:
        """The keys of ``owner`` and the id of the node holding each, in its order (a scope tree's
        from its columns, without ``owner``'s pairs)."""
        if self._owner is None and self._tree is not None:
            return self._tree.holders()
        return list(self.owner), [i for i, _ in self.owner.values()]

    def holder(self, key: str) -> int | None:
        """``owner[key][0]``, or None where no node holds ``key``."""
        if self._owner is None and self._tree is not None:
            return self._tree.holder(key)
        found = self.owner.get(key)
        return None if found is None else found[0]

    @property
    def full_names(self) -> list[str]:
        """Each node's recorded ``full_name`` (its first non-empty attribute's), or ``""``."""
        if self._full_names is None:
            cols = self._columns
            assert cols is not None
            out = np.full(cols.count, "", object)
            recorded = np.flatnonzero(cols.attr_full.lengths > 0)
            nodes, first = np.unique(cols.attr_node[recorded], return_index=True)
            out[nodes] = cols.attr_full.take(recorded[first]).tolist()  # decoded in one call
            self._full_names = out.tolist()
        return self._full_names

    def _values_of(self, node_id: int) -> tuple[Value, ...]:
        if self._keys_of is None:
            keys_of: dict[tuple[int, str], list[str]] = {}
            for key, ident in self.owner.items():
                keys_of.setdefault(ident, []).append(key)
            for found in keys_of.values():
                found.sort()
            self._keys_of = keys_of
        cols = self._columns
        assert cols is not None
        a, b = int(cols.attr_ptr[node_id]), int(cols.attr_ptr[node_id + 1])
        entries = self._entries
        return tuple(
            [
                value_of(k, entries[k])
                for name in cols.attr_name[a:b]
                for k in self._keys_of.get((node_id, name), ())
            ]
        )

    def _make_node(self, i: int) -> Node:
        """The ``Node`` of id ``i``, from the graph's columns."""
        if self._tree is not None:
            return self._tree.node(i)
        cols = self._columns
        assert cols is not None
        values = self._values_of(i)
        a, b = int(cols.attr_ptr[i]), int(cols.attr_ptr[i + 1])
        assert self._keys_of is not None
        attrs = tuple(
            Attribute(
                cols.attr_name[k],
                cols.attr_full[k],
                cols.attr_key[k],
                tuple(self._keys_of.get((i, cols.attr_name[k]), ())),
            )
            for k in range(a, b)
        )
        flag = int(cols.flag[i])
        checkpointed = bool(flag) if flag >= 0 else i in self._inferred_checkpointed()
        return Node(
            i,
            self.kind(i),
            attrs,
            values,
            checkpointed,
            cols.saver.get(i, ""),
            self.paths.reachable[i],
            self.paths,
        )

    def _inferred_checkpointed(self) -> set[int]:
        """The nodes TF would mark ``has_checkpoint_values``, for graphs that do not record it."""
        if self._checkpointed is None:
            cols = self._columns
            assert cols is not None
            adj = self.adjacency
            parents = np.repeat(np.arange(len(adj)), np.diff(adj.ptr)).tolist()
            self._checkpointed = P.checkpointed_nodes(
                len(adj), zip(parents, adj._child), cols.holders.tolist()
            )
        return self._checkpointed

    @property
    def checkpointed(self) -> np.ndarray:
        """``has_checkpoint_values`` of every node, by id, without making ``Node`` objects."""
        cols = self._columns
        if cols is None:
            return np.fromiter((n.has_checkpoint_values for n in self.nodes), bool, len(self.nodes))
        out: np.ndarray = cols.flag > 0
        unrecorded = np.flatnonzero(cols.flag < 0)
        if unrecorded.size:
            out[unrecorded] = np.isin(unrecorded, list(self._inferred_checkpointed()))
        return out

    @property
    def node_bytes(self) -> np.ndarray:
        """``Node.nbytes`` of every node, by id (made once, without ``Node`` objects)."""
        if self._node_bytes is None:
            if self._columns is None:
                self._node_bytes = np.fromiter((n.nbytes for n in self.nodes), np.int64, len(self.nodes))
            else:
                out = np.zeros(len(self.nodes), np.int64)
                entries = self._entries
                owned = [(k, i) for k, (i, _) in self.owner.items() if k in entries]
                sizes = [value_of(k, entries[k]).nbytes for k, _ in owned]
                np.add.at(out, np.fromiter((i for _, i in owned), np.int64, len(owned)), sizes)
                self._node_bytes = out
        return self._node_bytes

    def unmatched_attributes(self) -> list[tuple[int, str]]:
        """``(node id, checkpoint_key)`` of each attribute that names a key no entry has."""
        cols = self._columns
        if cols is None:
            return [(n.id, a.checkpoint_key) for n in self.nodes for a in n.attributes if not a.keys]
        held = set(self.owner.values())  # (node, attribute name) of every key some attribute holds
        columns = zip(cols.attr_node.tolist(), cols.attr_name.tolist(), cols.attr_key.tolist())
        return [(node, key) for node, name, key in columns if (node, name) not in held]

    # -- navigation (TF's CheckpointView vocabulary) ---------------------------------------------

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __getitem__(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def children(self, node_id: int) -> dict[str, int]:
        """``local_name -> node_id`` (a later duplicate name overwrites, as in CheckpointView)."""
        return dict(self.adjacency[node_id])

    def out_edges(self, node_id: int) -> list[Edge]:
        """Every child edge of ``node_id`` in stored order, duplicates and aliases included."""
        return [Edge(node_id, name, child) for name, child in self.adjacency[node_id]]

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
            for i, full_name in enumerate(self.full_names):
                if full_name:
                    index.setdefault(full_name, []).append(i)
            self._by_full_name = index
        return self._by_full_name

    def candidate_names(self, keys: bool = True) -> list[str]:
        """What a typo might have meant: paths of value holders, their full names and keys."""
        out = list(self.owner) if keys else []
        out.extend(self.by_full_name())
        held = {i for i, _ in self.owner.values()}
        out.extend(self.paths.path(i) for i in held)
        out.extend(self.display_name(i) for i in held)
        out.extend(self.display_path(i) for i in held)
        return out

    def keys_of(self, node_id: int) -> list[str]:
        if self._columns is not None:
            return [v.key for v in self._values_of(node_id)]
        return [v.key for v in self.nodes[node_id].values]

    def subtree(self, node_id: int) -> set[int]:
        """The node and everything its ``children`` reach (aliases and cycles included, once each)."""
        out, todo = {node_id}, [node_id]
        children = self.adjacency.children
        while todo:
            for child in children(todo.pop()):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return out

    def slots_of(self, node_id: int) -> list[Slot]:
        """Slot links where ``node_id`` is the optimizer, the variable or the slot."""
        if self._slots_of is None:
            index: dict[int, list[Slot]] = {}
            for s in self.slots:
                for i in {s.optimizer_id, s.variable_id, s.slot_id}:
                    index.setdefault(i, []).append(s)
            self._slots_of = index
        return list(self._slots_of.get(node_id, ()))

    def of_kind(self, kind: Kind) -> list[Node]:
        return [self.nodes[i] for i in np.flatnonzero(self.kind_codes == KINDS.index(kind)).tolist()]

    def counts(self) -> dict[str, int]:
        found = (
            np.bincount(self.kind_codes, minlength=len(KINDS)).tolist()
            if len(self.kind_codes)
            else [0] * len(KINDS)
        )
        return dict(zip(KINDS, found))

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

    if TYPE_CHECKING:  # pictures, attached by the render layer (ckptviz/render/accessors.py)

        def to_dot(self, **options: Any) -> str: ...
        def draw(self, **options: Any) -> Any: ...

    def __repr__(self) -> str:
        c = self.counts()
        kind = "object graph" if self.object_based else "scope tree (name-based)"
        parts = ", ".join(f"{c[k]} {k}{'s' if c[k] != 1 else ''}" for k in KINDS[:3])
        return f"<ckptviz.ObjectGraph {kind}: {len(self)} nodes, {parts}>"
