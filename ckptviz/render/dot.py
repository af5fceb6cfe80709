"""DOT text of an ObjectGraph in the TF guide's colours, readable unlike TF 1.x's
``dot_graph_from_checkpoint``: names on nodes and edges, tooltips, a legend, collapsed subtrees.

Every node statement carries ``class="<kind>"`` so SVG can be styled and tested, and ``id`` =
``ckpt_n<node id>`` so a face can map a click back to the node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InvalidArgumentError
from ..model.graph import ObjectGraph
from ..model.records import KINDS, Slot
from .plan import DrawOptions, Plan, Shown, select_view

# The TF guide: "optimizer red, regular variables blue, optimizer slot variables orange, other black".
COLORS = {"optimizer": "red", "variable": "blue", "slot": "orange", "other": "black"}
FILLS = {"optimizer": "#fde8e8", "variable": "#e8eefd", "slot": "#fff1dc", "other": "#ffffff"}
# Slot links TF records (legacy optimizers) are dashed; links ckptviz infers (Keras 3, new tf_keras,
# TF1 names) are dotted.
SLOT_STYLES = {False: "dashed", True: "dotted"}
# Will-it-load status (ckptviz.check): the fill says it, the outline keeps the kind's colour. The
# palette avoids the kinds' red, blue and orange (a mismatch never looks like an optimizer) and the
# diff's purple.
STATUS_FILLS = {"matched": "#b8e6b8", "missing": "#e4e4e4", "mismatched": "#f08bd3"}
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
# A number per node (``DrawOptions.values``): pale yellow to deep teal, apart from the kinds'
# outlines and the status fills; the legend shows both ends.
_VALUE_RAMP = ((0xFF, 0xF7, 0xBC), (0x0B, 0x6E, 0x6E))


def ramp(t: float, ends: tuple[tuple[int, int, int], tuple[int, int, int]] = _VALUE_RAMP) -> str:
    t = max(0.0, min(1.0, t))
    lo, hi = ends
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(lo, hi))


def overlay_range(plan: Plan) -> tuple[float, float] | None:
    means = [m for _, _, m, _ in plan.overlay.values()]
    return (min(means), max(means)) if means else None


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
    """A DOT double-quoted string: backslashes, quotes and newlines escaped (names are arbitrary;
    bytes that are not UTF-8, kept in keys as surrogates, show as U+FFFD)."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


def node_statement(graph: ObjectGraph, plan: Plan, s: Shown) -> str:
    kind, i = s.node.kind, s.node.id
    status = plan.status.get(i)
    intensity = plan.intensity.get(i)
    attrs = {
        "id": f"ckpt_n{i}" if i >= 0 else f"ckpt_more{-1 - i}",
        "class": kind,
        "label": plan.labels[i],
        "tooltip": plan.tooltips[i],
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
    span = overlay_range(plan)
    if i in plan.overlay and span is not None and status is None:
        lo, hi = span
        t = (plan.overlay[i][2] - lo) / (hi - lo) if hi > lo else 0.5
        attrs["fillcolor"] = ramp(t)
        attrs["class"] = f"{kind} overlay"
        if t > 0.6:
            attrs["fontcolor"] = "white"
    extra = " shape=box3d" if s.collapsed else ""
    return f"  {name(i)} [{' '.join(f'{k}={quote(v)}' for k, v in attrs.items())}{extra}];"


def name(i: int) -> str:
    """The DOT name of a drawn node: ``n<id>``, or ``m<parent>`` for a stand-in (id ``-1 - parent``)."""
    return f"n{i}" if i >= 0 else f"m{-1 - i}"


def overlay_legend(plan: Plan) -> list[str]:
    """Two legend boxes: the lowest and highest value of the overlay drawn, in their colours."""
    span = overlay_range(plan)
    if span is None:
        return []
    return [
        f'    legend_value_{end} [id="ckpt_legend_value_{end}" class="overlay" '
        f'label={quote(f"{plan.overlay_name} {value:.4g}")} color="#777777" fillcolor="{ramp(t)}"'
        f"{' fontcolor=white' if t > 0.6 else ''}];"
        for end, value, t in (("low", span[0], 0.0), ("high", span[1], 1.0))
    ]


def legend(
    statuses: Iterable[str] = (),
    slot_edges: Iterable[Slot] = (),
    summary: str | None = None,
    values: Iterable[str] = (),
) -> list[str]:
    out = ["  subgraph cluster_legend {", '    label="legend"; fontsize=9; color="#bbbbbb"; style=rounded;']
    out.extend(values)
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
    for inferred in sorted({s.inferred for s in slot_edges}) or [False]:
        how = SLOT_STYLES[inferred]
        text = "slot, inferred" if inferred else "slot, recorded"
        out.append(f'    legend_optimizer -> legend_slot [label="{text}" style={how} color="orange"];')
        out.append(f'    legend_variable -> legend_slot [style={how} color="orange"];')
    if summary is not None:
        out.append(f"    {summary}")
    out.append("  }")
    return out


def summary_statement(plan: Plan) -> str | None:
    """The note that says what the picture folds (``Plan.summary``), left-aligned lines."""
    if plan.summary is None:
        return None
    text = "".join(quote(line)[1:-1] + "\\l" for line in plan.summary["text"].split("\n"))
    return (
        f'summary [id="ckpt_summary" class="summary" shape=note style=filled fillcolor="#f7f7f7" '
        f'color="#888888" label="{text}" tooltip="what this picture folds"];'
    )


def view_to_dot(graph: ObjectGraph, view: Plan, options: DrawOptions) -> str:
    lines = [
        "digraph checkpoint {",
        f"  {HEADER}",
        f"  graph [rankdir={options.rankdir} label={quote(view.title)}];",
    ]
    unknown = sorted(set(view.status.values()) - set(STATUS_FILLS) - set(DIFF_FILLS))
    if unknown:
        known = sorted(STATUS_FILLS) + sorted(DIFF_FILLS)
        raise InvalidArgumentError(f"unknown status {unknown[0]!r}; expected one of {known}")
    for shown in view.nodes.values():
        lines.append(node_statement(graph, view, shown))
    ranked: set[int] = set()
    for parent, label, child in view.edges:  # only the ownership edge ranks a node: aliases and loops don't
        free = " constraint=false"
        if view.owners.get(child) == parent and child not in ranked:
            ranked.add(child)
            free = ""
        lines.append(f"  {name(parent)} -> {name(child)} [label={quote(label)}{free}];")
    for a, b, count in view.merged_edges:
        label = f" label={quote(f'×{count}')}" if count > 1 else ""
        lines.append(f'  {name(a)} -> {name(b)} [style=bold color="#aaaaaa"{label} constraint=false];')
    for s in view.slot_edges:  # the guide's dashed slot edges; a slot is ranked after its variable,
        # its label names the state (``momentum of …``), so the optimizer's edge need not
        how = SLOT_STYLES[s.inferred]
        lines.append(
            f'  {name(s.optimizer_id)} -> {name(s.slot_id)} [tooltip={quote(s.slot_name)} style={how} color="orange" constraint=false];'
        )
        lines.append(f'  {name(s.variable_id)} -> {name(s.slot_id)} [style={how} color="orange"];')
    summary = summary_statement(view)
    if options.legend:
        lines += legend(
            set(view.status.values()), view.slot_edges or graph.slots, summary, overlay_legend(view)
        )
    elif summary is not None:
        lines.append(f"  {summary}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(graph: ObjectGraph, options: DrawOptions | None = None, **kwargs: Any) -> str:
    """DOT text of ``graph``; keyword options as ``DrawOptions`` (``max_nodes``, ``focus``, ``select``…)."""
    o = options or DrawOptions(**kwargs)
    return view_to_dot(graph, select_view(graph, o), o)


def diff_to_dot(
    graph: ObjectGraph, status: Mapping[int, str], intensity: Mapping[int, float], **options: Any
) -> str:
    """DOT of ``graph`` painted by a diff: ``{node id: status}``, ``{node id: intensity 0…1}``."""
    return to_dot(graph, DrawOptions(status=dict(status), intensity=dict(intensity), **options))
