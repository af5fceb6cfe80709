"""What each drawn node says: its label (name, dtype and shape, what a fold hides), its tooltip
(kind, path, keys, full name), and the summary of what the picture folds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..model.checkpoint import human_size
from ..model.graph import ObjectGraph
from ..model.paths import escape_local_name, unescape_local_name
from ..model.records import Slot

if TYPE_CHECKING:
    from .plan import Plan, Shown
    from .tree import Tree

_MAX_NAME = 40  # longer names keep their start and end around an ellipsis
TOOLTIP_KEYS = 20  # keys a tooltip lists per attribute; the rest are counted


def value_spec(dtype: str, shape: tuple[int, ...] | None) -> str:
    """``float32[1,5]``, ``int64 scalar``: dtype and shape the way TF users read them."""
    if shape is None:
        return dtype
    return f"{dtype} scalar" if shape == () else f"{dtype}[{','.join(map(str, shape))}]"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def node_name(graph: ObjectGraph, node_id: int, local: str, slot_of: Mapping[int, Slot]) -> str:
    """The name a node is drawn with: ``(root)``; a slot as ``momentum of conv1_conv/kernel``; an
    object by the last part of its display path: a layer in a list by its name (``conv1_bn``, not
    ``3``), a Keras variable as Keras names it (``kernel``, not ``_kernel``)."""
    if node_id == 0:
        return "(root)"
    if node_id in slot_of:
        return graph.display_name(node_id)
    if graph.object_based and graph.names.home.segment[node_id] == escape_local_name(local):
        return unescape_local_name(graph.display_path(node_id).rsplit("/", 1)[-1])  # drawn on its home edge
    return local


def short(name: str) -> str:
    if len(name) <= _MAX_NAME:
        return name
    half = (_MAX_NAME - 1) // 2
    return name[:half] + "…" + name[-half:]


def hidden_text(s: Shown) -> str:
    """``+9 hidden: 5 variables, 4 slots, 1.2 MB``."""
    return f"+{s.hidden_nodes} hidden: {contents(s)}, {human_size(s.hidden_bytes)}"


def contents(s: Shown) -> str:
    """``5 variables, 4 slots`` (slots counted as slots; no ``0 variables`` beside them)."""
    parts = [plural(s.hidden_variables, "variable")] if s.hidden_variables or not s.hidden_slots else []
    if s.hidden_slots:
        parts.append(plural(s.hidden_slots, "slot"))
    return ", ".join(parts)


def label(
    graph: ObjectGraph,
    s: Shown,
    name: str,
    overlay: tuple[float, float, float, int] | None = None,
    overlay_name: str = "",
) -> str:
    node = s.node
    lines = [short(name)]
    if node.dtype is not None:
        lines.append(value_spec(node.dtype, node.shape))
    if s.collapsed:
        lines.append(hidden_text(s))
    if overlay is not None:
        lo, hi, mean, count = overlay
        if count == 1:
            lines.append(f"{overlay_name} {number(mean)}")
        else:  # a fold: what the values it holds spread over
            lines.append(f"{overlay_name} min {number(lo)} · max {number(hi)} · mean {number(mean)}")
    return "\n".join(lines)


def number(x: float) -> str:
    return f"{x:.4g}"


def tooltip(graph: ObjectGraph, s: Shown, slot_of: Mapping[int, Slot], tree: Tree | None = None) -> str:
    node = s.node
    if node.id < 0:  # the stand-in for the kids of a partly shown node
        return (
            f"{s.hidden_nodes} more objects under {node.path[:-2] or '(root)'}: {contents(s)}, "
            f"{human_size(s.hidden_bytes)}"
        )
    if node.id >= len(graph.nodes) and tree is not None:  # a group of named layers
        group = tree.group(node.id)
        lines = [
            f"group of the {plural(group.size, 'layer')} named {group.prefix}_* in "
            f"{graph.display_path(group.owner) or '(root)'}"
        ]
        if s.collapsed:
            lines.append(f"collapsed: {hidden_text(s)[1:].replace(' hidden', ' nodes hidden', 1)}")
        return "\n".join(lines)
    lines = [f"{node.kind} {node.path or '(root)'}  [node {node.id}]"]
    slot = slot_of.get(node.id)
    if slot is not None:  # TF's pretty-printer wording
        owner = graph.nodes[slot.optimizer_id].path or "(root)"
        how = "inferred" if slot.inferred else "recorded"
        lines.append(
            f"{owner}'s state '{slot.slot_name}' for {graph.display_name(slot.variable_id)} ({how} slot link)"
        )
    by_key = {v.key: v for v in node.values}
    for a in node.attributes:
        keys = a.keys or (a.checkpoint_key + " (missing)",)
        for key in keys[:TOOLTIP_KEYS]:  # an attribute may prefix thousands of keys
            v = by_key.get(key)
            desc = f"{value_spec(v.dtype, v.shape)} {human_size(v.nbytes)}" if v else ""
            lines.append(f"{key}  {desc}".rstrip())
        if len(keys) > TOOLTIP_KEYS:
            lines.append(f"… and {len(keys) - TOOLTIP_KEYS} more keys")
    if node.full_name:
        lines.append(f"full_name: {node.full_name}")
    if node.registered_saver:
        lines.append(f"registered saver: {node.registered_saver}")
    if s.collapsed:
        lines.append(f"collapsed: {hidden_text(s)[1:].replace(' hidden', ' nodes hidden', 1)}")
    return "\n".join(lines)


def summary(graph: ObjectGraph, plan: Plan, tree: Tree) -> dict[str, Any] | None:
    """What the picture folds, or None when nothing is: counts, the biggest folds by pattern
    (``12 × bert/encoder/layer_N/output``) and how to open them."""
    folds = [s for s in plan.nodes.values() if s.collapsed]
    if not folds:
        return None
    by_pattern: dict[str, list[Shown]] = {}
    for s in folds:
        i = s.node.id
        key = tree.pattern_text(tree.pattern[i]) if i >= 0 else f"{tree.pattern_text(tree.pattern[-1 - i])}/…"
        by_pattern.setdefault(key or "(root)", []).append(s)
    biggest = sorted(by_pattern.items(), key=lambda kv: -sum(s.hidden_nodes for s in kv[1]))
    groups = [
        {
            "pattern": pattern,
            "boxes": len(shown),
            "hidden_nodes": sum(s.hidden_nodes for s in shown),
            "hidden_variables": sum(s.hidden_variables for s in shown),
            "hidden_slots": sum(s.hidden_slots for s in shown),
        }
        for pattern, shown in biggest
    ]
    hidden = sum(s.hidden_nodes for s in folds)
    variables = sum(s.hidden_variables for s in folds)
    slots = sum(s.hidden_slots for s in folds)
    nbytes = sum(s.hidden_bytes for s in folds)
    lines = [
        f"folded: {hidden} of {plan.total} objects into {plural(len(folds), 'box')}".replace("boxs", "boxes")
    ]
    lines.append(f"({plural(variables, 'variable')}, {plural(slots, 'slot')}, {human_size(nbytes)})")
    for pattern, shown in biggest[:4]:
        times = f"{len(shown)} × " if len(shown) > 1 else ""
        lines.append(f"{times}{short(pattern)}: {sum(s.hidden_nodes for s in shown)} hidden")
    if len(groups) > 4:
        lines.append(f"… and {len(groups) - 4} more patterns")
    lines.append("open one: focus=… (--focus PATH) or expand=[…]")
    lines.append("deeper: max_depth=… (--depth N); all: max_nodes=None (--max-nodes 0)")
    return {
        "boxes": len(folds),
        "hidden_nodes": hidden,
        "hidden_variables": variables,
        "hidden_slots": slots,
        "hidden_bytes": nbytes,
        "groups": groups,
        "text": "\n".join(lines),
    }
