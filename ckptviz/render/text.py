"""The object graph as an indented text tree: the terminal's version of the picture.

It walks the same ownership tree the pictures fold (render/tree.py, kids in natural order), with the
same labels.
"""

from __future__ import annotations

import numpy as np

from ..model.checkpoint import human_size
from ..model.graph import ObjectGraph
from ..model.records import KINDS
from .labels import node_name, value_spec
from .plan import redundant_lists
from .tree import Tree, tree_of


def text_tree(graph: ObjectGraph, max_depth: int | None = None, max_children: int = 25) -> str:
    """``name  kind  dtype[shape]  size`` per object; deep levels and long lists fold into
    ``… N more: V variables, X MiB`` lines."""
    tree = tree_of(graph, redundant_lists(graph))
    slot_of = {s.slot_id: s for s in graph.slots}
    lines: list[str] = []
    stack: list[tuple[int | str, int]] = [(0, 0)]  # a node id, or a ready "… N more" line
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            lines.append(f"{'  ' * depth}{item}")
            continue
        if tree.is_group(item):  # layers grouped by their names: conv4_* holds conv4_block1_…
            group = tree.group(item)
            parts = [f"{'  ' * depth}{group.prefix}_*", f"group of {group.size} layers"]
        else:
            node = graph.nodes[item]
            label = node_name(graph, item, tree.local[item], slot_of)
            parts = [f"{'  ' * depth}{label}", node.kind]
            if node.dtype is not None:
                parts += [value_spec(node.dtype, node.shape), human_size(node.nbytes)]
        kids = tree.kids[item]
        if kids and max_depth is not None and depth >= max_depth:
            parts.append(f"({_folded(graph, tree, kids)})")
            kids = []
        lines.append("  ".join(parts))
        if len(kids) > max_children:
            stack.append((_folded(graph, tree, kids[max_children:]), depth + 1))
        stack.extend((k, depth + 1) for k in reversed(kids[:max_children]))
    return "\n".join(lines)


def _folded(graph: ObjectGraph, tree: Tree, kids: list[int]) -> str:
    inside = np.array([i for k in kids for i in tree.subtree(k) if not tree.is_group(i)], np.int64)
    codes = graph.kind_codes[inside]  # columns: no Node object per folded node
    variables = int(np.count_nonzero((codes == KINDS.index("variable")) | (codes == KINDS.index("slot"))))
    size = int(graph.node_bytes[inside].sum())
    return f"… {len(inside)} more: {variables} variables, {human_size(size)}"
