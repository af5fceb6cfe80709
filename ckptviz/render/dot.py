"""DOT text of an ObjectGraph in the TF guide's colours (format.md §7), readable unlike TF 1.x's
``dot_graph_from_checkpoint``: names on nodes and edges, tooltips, a legend, collapsed subtrees.

Every node statement carries ``class="<kind>"`` so SVG can be styled and tested, and ``id`` =
``ckpt_n<node id>`` so a face can map a click back to the node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..model.checkpoint import human_size
from ..model.graph import KINDS, ObjectGraph
from .view import GraphView, Shown, View, select_view

# The TF guide: "optimizer red, regular variables blue, optimizer slot variables orange, other black".
COLORS = {"optimizer": "red", "variable": "blue", "slot": "orange", "other": "black"}
FILLS = {"optimizer": "#fde8e8", "variable": "#e8eefd", "slot": "#fff1dc", "other": "#ffffff"}
# Will-it-load status (ckptviz.check): the fill says it, the outline keeps the kind's colour.
STATUS_FILLS = {"matched": "#c9f2c9", "missing": "#e4e4e4", "mismatched": "#ff8f8f"}
STATUS_STYLES = {
    "matched": "rounded,filled",
    "missing": "rounded,filled,dashed",
    "mismatched": "rounded,filled,bold",
}
# What changed between two checkpoints (ckptviz.diff): hues apart from the kind outlines and the
# will-it-load fills; a changed node's purple deepens with its relative change (``intensity`` 0…1).
DIFF_FILLS = {"added": "#8fd6c9", "removed": "#dccbbd", "changed": "#b68bd0", "unchanged": "#ffffff"}
DIFF_STYLES = {
    "added": "rounded,filled,bold",
    "removed": "rounded,filled,dashed",
    "changed": "rounded,filled",
    "unchanged": "rounded,filled",
}
_CHANGED_RAMP = ((0xF1, 0xE6, 0xF7), (0x7B, 0x2C, 0x9E))  # pale lilac -> deep purple


def diff_fill(status: str, intensity: float | None = None) -> str:
    """The fill of a diff status; ``changed`` on the purple ramp by ``intensity`` (default: middle)."""
    if status != "changed":
        return DIFF_FILLS[status]
    t = 0.5 if intensity is None else max(0.0, min(1.0, intensity))
    lo, hi = _CHANGED_RAMP
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(lo, hi))


HEADER = (
    'graph [fontname="Helvetica" fontsize=11 nodesep=0.12 ranksep=0.35 labelloc=t];\n'
    '  node [shape=box style="rounded,filled" fontname="Helvetica" fontsize=10 height=0.28 penwidth=1.4];\n'
    '  edge [fontname="Helvetica" fontsize=9 arrowsize=0.6 color="#555555" fontcolor="#333333"];'
)


def quote(text: str) -> str:
    """A DOT double-quoted string: backslashes, quotes and newlines escaped (names are arbitrary)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


def _value(dtype: str, shape: tuple[int, ...] | None) -> str:
    """``float32[1,5]``, ``int64 scalar``: dtype and shape the way TF users read them."""
    if shape is None:
        return dtype
    return f"{dtype} scalar" if shape == () else f"{dtype}[{','.join(map(str, shape))}]"


def _label(graph: ObjectGraph, s: Shown, slot_names: dict[int, str], local: str) -> str:
    node = s.node
    name = "(root)" if node.id == 0 else slot_names.get(node.id, local)
    if name.isdigit() and node.kind == "other":  # a list item (Keras 3 ``_operations/12``): name its layer
        scope = _common_scope(graph, node.id)
        name = f"{name}: {scope}" if scope else name
    if len(name) > 32:
        name = name[:15] + "…" + name[-15:]
    lines = [name]
    if node.dtype is not None:
        lines.append(_value(node.dtype, node.shape))
    if s.collapsed:
        what = f"{s.hidden_variables} variable{'s' if s.hidden_variables != 1 else ''}"
        lines.append(f"+{s.hidden_nodes} hidden: {what}, {human_size(s.hidden_bytes)}")
    return "\n".join(lines)


def _common_scope(graph: ObjectGraph, node_id: int) -> str:
    """The scope its variables' ``full_name`` share (``conv1_conv`` for ``conv1_conv/kernel``)."""
    scopes = {
        graph.nodes[c].full_name.rpartition("/")[0]
        for c in graph.children(node_id).values()
        if graph.nodes[c].full_name
    }
    return scopes.pop() if len(scopes) == 1 else ""


def _tooltip(graph: ObjectGraph, s: Shown, slot_of: dict[int, tuple[int, str, int]]) -> str:
    node = s.node
    if node.id >= len(graph.nodes):  # the stand-in for the kids of a partly shown node
        return f"{s.hidden_nodes} more objects under {node.path[:-2] or '(root)'}: {s.hidden_variables} variables, {human_size(s.hidden_bytes)}"
    lines = [f"{node.kind} {node.path or '(root)'}  [node {node.id}]"]
    if node.id in slot_of:  # TF's pretty-printer wording
        opt, slot, var = slot_of[node.id]
        lines.append(f"{graph.nodes[opt].path or '(root)'}'s state '{slot}' for {graph.nodes[var].path}")
    for a in node.attributes:
        for key in a.keys or (a.checkpoint_key + " (missing)",):
            v = next((v for v in node.values if v.key == key), None)
            desc = f"{_value(v.dtype, v.shape)} {human_size(v.nbytes)}" if v else ""
            lines.append(f"{key}  {desc}".rstrip())
    if node.full_name:
        lines.append(f"full_name: {node.full_name}")
    if node.registered_saver:
        lines.append(f"registered saver: {node.registered_saver}")
    if s.collapsed:
        lines.append(
            f"collapsed: {s.hidden_nodes} nodes, {s.hidden_variables} variables, {human_size(s.hidden_bytes)}"
        )
    return "\n".join(lines)


def node_statement(
    graph: ObjectGraph,
    s: Shown,
    slot_of: dict[int, tuple[int, str, int]],
    slot_names: dict[int, str],
    local: str,
    status: str | None = None,
    intensity: float | None = None,
) -> str:
    kind = s.node.kind
    attrs = {
        "id": f"ckpt_n{s.node.id}"
        if s.node.id < len(graph.nodes)
        else f"ckpt_more{s.node.id - len(graph.nodes)}",
        "class": kind,
        "label": _label(graph, s, slot_names, local),
        "tooltip": _tooltip(graph, s, slot_of),
        "color": COLORS[kind],
        "fillcolor": FILLS[kind],
    }
    if status in DIFF_FILLS:
        attrs["class"] = f"{kind} diff-{status}"
        attrs["fillcolor"] = diff_fill(status, intensity)
        attrs["style"] = DIFF_STYLES[status]
        if status == "changed" and (intensity or 0) > 0.6:
            attrs["fontcolor"] = "white"
        attrs["tooltip"] += f"\ndiff: {status}" + (f" (intensity {intensity:.2f})" if intensity else "")
    elif status is not None:
        attrs["class"] = f"{kind} {status}"
        attrs["fillcolor"] = STATUS_FILLS[status]
        attrs["style"] = STATUS_STYLES[status]
        attrs["tooltip"] += f"\nwill it load: {status}"
    extra = " shape=box3d" if s.collapsed else ""
    return f"  n{s.node.id} [{' '.join(f'{k}={quote(v)}' for k, v in attrs.items())}{extra}];"


def legend(statuses: Iterable[str] = ()) -> list[str]:
    out = ["  subgraph cluster_legend {", '    label="legend"; fontsize=9; color="#bbbbbb"; style=rounded;']
    for kind in KINDS:
        out.append(
            f'    legend_{kind} [id="ckpt_legend_{kind}" class="{kind}" label="{kind}" color="{COLORS[kind]}" '
            f'fillcolor="{FILLS[kind]}" tooltip="{kind}"];'
        )
    for status in STATUS_FILLS:
        if status in statuses:
            out.append(
                f'    legend_{status} [id="ckpt_legend_{status}" class="{status}" label="{status}" '
                f'color="#777777" fillcolor="{STATUS_FILLS[status]}" style="{STATUS_STYLES[status]}"];'
            )
    for status in DIFF_FILLS:
        if status in statuses:
            out.append(
                f'    legend_diff_{status} [id="ckpt_legend_diff_{status}" class="diff-{status}" label="{status}" '
                f'color="#777777" fillcolor="{diff_fill(status)}" style="{DIFF_STYLES[status]}"];'
            )
    out.append('    legend_optimizer -> legend_slot [label="slot" style=dashed color="orange"];')
    out.append('    legend_variable -> legend_slot [style=dashed color="orange"];')
    out.append("  }")
    return out


def view_to_dot(
    graph: ObjectGraph, view: View, options: GraphView, intensity: Mapping[int, float] | None = None
) -> str:
    slot_of = {s.slot_id: (s.optimizer_id, s.slot_name, s.variable_id) for s in graph.slots}
    slot_names = {k: v[1] for k, v in slot_of.items()}
    title = options.title if options.title is not None else _title(graph, view)
    lines = [
        "digraph checkpoint {",
        f"  {HEADER}",
        f"  graph [rankdir={options.rankdir} label={quote(title)}];",
    ]
    status = _status_by_node(graph, options.status or {})
    for i, shown in view.nodes.items():
        lines.append(
            node_statement(
                graph,
                shown,
                slot_of,
                slot_names,
                view.names.get(i, shown.node.name),
                status.get(i),
                (intensity or {}).get(i),
            )
        )
    ranked: set[int] = set()
    for parent, name, child in view.edges:  # only the ownership edge ranks a node: aliases and loops don't
        free = " constraint=false"
        if view.owners.get(child) == parent and child not in ranked:
            ranked.add(child)
            free = ""
        lines.append(f"  n{parent} -> n{child} [label={quote(name)}{free}];")
    for a, b, count in view.merged_edges:
        label = f" label={quote(f'×{count}')}" if count > 1 else ""
        lines.append(f'  n{a} -> n{b} [style=bold color="#aaaaaa"{label} constraint=false];')
    for s in view.slot_edges:  # the guide's dashed slot edges; a slot is ranked after its variable
        lines.append(
            f'  n{s.optimizer_id} -> n{s.slot_id} [label={quote(s.slot_name)} style=dashed color="orange" constraint=false];'
        )
        lines.append(f'  n{s.variable_id} -> n{s.slot_id} [style=dashed color="orange"];')
    if options.legend:
        lines += legend(set(status.values()))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _status_by_node(graph: ObjectGraph, status: Mapping[int | str, str]) -> dict[int, str]:
    """Node ids as given; keys (name-based checks) mapped to the node holding that value."""
    by_key = (
        {v.key: node.id for node in graph.nodes for v in node.values}
        if any(isinstance(k, str) for k in status)
        else {}
    )
    out: dict[int, str] = {}
    for ref, state in status.items():
        if state not in STATUS_FILLS and state not in DIFF_FILLS:
            known = sorted(STATUS_FILLS) + sorted(DIFF_FILLS)
            raise ValueError(f"unknown status {state!r} for {ref!r}; expected one of {known}")
        node_id = ref if isinstance(ref, int) else by_key.get(ref)
        if node_id is not None:
            out[node_id] = state
    return out


def _title(graph: ObjectGraph, view: View) -> str:
    kind = "object graph" if graph.object_based else "scope tree (name-based, no object graph)"
    source = graph.source.rsplit("/", 2)
    name = "/".join(source[-2:]) if graph.source else "checkpoint"
    n = len(graph.nodes)
    shown = f"{len(view.nodes)} of {n} nodes drawn" if len(view.nodes) < n else f"{n} nodes"
    return f"{name}: {kind}, {shown}"


def to_dot(graph: ObjectGraph, options: GraphView | None = None, **kwargs: Any) -> str:
    """DOT text of ``graph``; keyword options as ``GraphView`` (``max_nodes``, ``focus``, ``select``…)."""
    o = options or GraphView(**kwargs)
    return view_to_dot(graph, select_view(graph, o), o)


def diff_to_dot(
    graph: ObjectGraph, status: Mapping[int, str], intensity: Mapping[int, float], **options: Any
) -> str:
    """DOT of ``graph`` painted by a diff: ``{node id: status}``, ``{node id: intensity 0…1}``."""
    by_node: dict[int | str, str] = {node_id: state for node_id, state in status.items()}
    o = GraphView(status=by_node, **options)
    return view_to_dot(graph, select_view(graph, o), o, intensity)
