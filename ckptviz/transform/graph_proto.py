"""Writing ``TrackableObjectGraph`` messages for derived checkpoints, as TensorFlow fills them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import paths
from ..model.graph import holds_values


def new_graph() -> Any:
    from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

    return TrackableObjectGraph()


def copy_slot_links(src: Any, node: Any, new_id: Mapping[int, int]) -> None:
    """Slot links of ``src`` onto ``node``, renumbered; TF keeps a link only if both ends are kept."""
    for sv in src.slot_variables:
        if sv.slot_variable_node_id in new_id and sv.original_variable_node_id in new_id:
            node.slot_variables.add(
                original_variable_node_id=new_id[sv.original_variable_node_id],
                slot_name=sv.slot_name,
                slot_variable_node_id=new_id[sv.slot_variable_node_id],
            )


def set_has_checkpoint_values(graph: Any, like: Any = None) -> None:
    """TF's ``add_checkpoint_values_check``; skipped when the source recorded none (older TF)."""
    if like is not None and not any(n.HasField("has_checkpoint_values") for n in like.nodes):
        return
    nodes = graph.nodes
    edges = ((i, ref.node_id) for i, n in enumerate(nodes) for ref in n.children)
    marked = paths.checkpointed_nodes(len(nodes), edges, (i for i, n in enumerate(nodes) if holds_values(n)))
    for i, node in enumerate(nodes):
        node.has_checkpoint_values.value = i in marked
