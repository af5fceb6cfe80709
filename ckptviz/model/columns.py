"""A ``TrackableObjectGraph`` decoded once into flat columns: no Python object per node.

Protobuf field access is the one per-node cost that cannot be avoided (about 2 µs a node); every
other structure (adjacency, paths, kinds, names, records) is built from these lists with numpy
or one tight loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Columns:
    """Edges (``edge_*``, stored order), attributes (``attr_*``, grouped by node; ``attr_ptr`` in CSR
    form), recorded slot references ``(optimizer, variable, slot name, slot)``, the recorded
    ``has_checkpoint_values`` (``flag``, -1 where absent), registered savers, and the nodes holding
    values themselves (TF's test: attributes, slot variables or a registered saver)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.edge_parent: list[int] = []
        self.edge_child: list[int] = []
        self.edge_name: list[str] = []
        self.attr_count = [0] * count
        self.attr_ptr = np.zeros(count + 1, np.int64)
        self.attr_name: list[str] = []
        self.attr_full: list[str] = []
        self.attr_key: list[str] = []
        self.slot_refs: list[tuple[int, int, str, int]] = []
        self.flag = np.full(count, -1, np.int8)
        self.saver: dict[int, str] = {}
        self.holders: list[int] = []


def decode(proto: Any) -> Columns:
    """The columns of a ``TrackableObjectGraph`` message, in one walk over its nodes."""
    cols = Columns(len(proto.nodes))
    e_parent, e_child, e_name = cols.edge_parent.append, cols.edge_child.append, cols.edge_name.append
    a_name, a_full, a_key = cols.attr_name.append, cols.attr_full.append, cols.attr_key.append
    attr_count, slot_refs = cols.attr_count, cols.slot_refs
    for i, node in enumerate(proto.nodes):
        children = node.children
        if children:
            for ref in children:
                e_parent(i)
                e_child(ref.node_id)
                e_name(ref.local_name)
        attributes = node.attributes
        if attributes:
            attr_count[i] = len(attributes)
            for a in attributes:
                a_name(a.name)
                a_full(a.full_name)
                a_key(a.checkpoint_key)
        refs = node.slot_variables
        if refs:
            for ref in refs:
                slot_refs.append((i, ref.original_variable_node_id, ref.slot_name, ref.slot_variable_node_id))
        saver = node.HasField("registered_saver")
        if saver:
            cols.saver[i] = node.registered_saver.name
        if attributes or refs or saver:
            cols.holders.append(i)
        if node.HasField("has_checkpoint_values"):
            cols.flag[i] = node.has_checkpoint_values.value
    np.cumsum(attr_count, out=cols.attr_ptr[1:])
    return cols
