"""Writing ``TrackableObjectGraph`` messages for derived checkpoints, as TensorFlow fills them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..model import paths
from ..model.graph import holds_values


def new_graph() -> Any:
    from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

    return TrackableObjectGraph()


def records_checkpoint_values(graph: Any) -> bool:
    """Whether a graph records ``has_checkpoint_values`` (older TF wrote none)."""
    return any(n.HasField("has_checkpoint_values") for n in graph.nodes)


def mark_checkpoint_values(
    nodes: Sequence[Any], edges: Iterable[tuple[int, int]], holders: Iterable[int]
) -> None:
    """Set TF's ``has_checkpoint_values`` on every node: true for holders of values (attributes,
    slot variables or a registered saver) and their ancestors along ``(parent, child)`` edges."""
    marked = paths.checkpointed_nodes(len(nodes), edges, holders)
    for i, node in enumerate(nodes):
        node.has_checkpoint_values.value = i in marked


def set_has_checkpoint_values(graph: Any, like: Any = None) -> None:
    """TF's ``add_checkpoint_values_check``; skipped when the source recorded none (older TF)."""
    if like is not None and not records_checkpoint_values(like):
        return
    nodes = graph.nodes
    edges = ((i, ref.node_id) for i, n in enumerate(nodes) for ref in n.children)
    mark_checkpoint_values(nodes, edges, (i for i, n in enumerate(nodes) if holds_values(n)))
