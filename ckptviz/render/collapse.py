"""Which drawn nodes fold their subtree, so a big checkpoint draws as an overview that fits a
screen (Graphviz slows down and pictures stop being readable past a few hundred nodes).

The tree opens breadth-first while the drawing stays within ``max_nodes``. Nodes open or fold by
*pattern* (their path with numbers as ``N``, see ``tree.py``): all twelve ``layer_N/output`` of a
BERT encoder open together or fold together, never ``layer_0`` open beside a folded ``layer_5``.
Cheaper patterns open first. Nodes whose kids do not fit (a 177-item layer list, fourteen towers of
twenty blocks) share the room left: each shows the same number of first kids and folds the rest
into one stand-in.

No action opens more than the budget at once: a node the user expands shows at most ``max_nodes``
kids (the rest in a stand-in), and *revealing* a node (a search hit) opens only its ancestors,
each showing the kid on the way and what room is left, its other kids folded with their counts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .tree import Tree

_MIN_PARTIAL = 8  # with less room than this, fold a node whole rather than show a few of its kids
_MAX_RANK = 56  # partly shown nodes show at most this many kids together: a column fills a screen


@dataclass(frozen=True)
class Folding:
    """``collapsed``: nodes drawn as one box for their subtree; ``shown_kids[node]``: the only kids
    a node shows, the others fold into one stand-in."""

    collapsed: set[int]
    shown_kids: dict[int, set[int]]


def fold(
    tree: Tree,
    keep: Collection[int],
    forced: Collection[int],
    folded: Collection[int],
    max_nodes: int | None,
    max_depth: int | None,
    reveal: Collection[int] = (),
    expanded: Collection[int] = (),
) -> Folding:
    """Open the tree pattern by pattern within ``max_nodes`` (None: no limit); ``folded`` (the
    ``collapse`` option) and ``max_depth`` always fold, ``forced`` (``expand``, ``focus``,
    ``select`` and their ancestors) always open, each within the budget; ``reveal`` (search hits
    and their ancestors) open just enough to show the path to each hit. A slot shows when its
    variable does (it costs room then); the optimizer folds the slots of unshown variables into
    its stand-in, unless it is one of the ``expanded`` (its stand-in was opened): then its slots
    are its kids like any."""
    collapsed: set[int] = set()
    shown_kids: dict[int, set[int]] = {}
    pending: list[list[tuple[int, list[int]]]] = []
    attached = {
        v: [
            s
            for s in slots
            if s in keep and s not in forced and s not in reveal and tree.parent[s] not in expanded
        ]
        for v, slots in tree.slots_of.items()
        if v in keep
    }
    slot_ids = {s for slots in attached.values() for s in slots}
    shown_slots: set[int] = set()
    reached = {0}
    opened: set[int] = set()

    holders = {tree.parent[s] for s in slot_ids}  # their stand-in for unshown slots costs one node

    def kids_of(i: int) -> list[int]:
        return [k for k in tree.kids[i] if k in keep and k not in slot_ids]

    def cost(kids: list[int]) -> int:
        return len(kids) + sum(len(attached.get(k, ())) for k in kids)

    def show(kids: list[int]) -> None:
        reached.update(kids)
        for k in kids:
            shown_slots.update(attached.get(k, ()))

    budget = max_nodes if max_nodes is not None else 2 * len(keep) + 1  # room for all
    visible = 1
    following: list[int] = []

    def partly(i: int, kids: list[int], must: list[int], room: int, spend: bool = True) -> None:
        """Show ``must`` and the first kids that fit in ``room``; fold the others into a stand-in.
        ``spend=False``: this room comes on top of the budget (an expansion the user asked for)."""
        nonlocal visible
        chosen, spent = list(must), 1 + cost(must)
        taken = set(must)
        for k in kids:
            price = 1 + len(attached.get(k, ()))
            if spent + price > room:
                break
            if k not in taken:
                chosen.append(k)
                spent += price
        shown_kids[i] = set(chosen)
        visible += spent if spend else 0
        following.extend(chosen)
        show(chosen)

    visible = 1
    level = [0] if 0 in keep else []
    while level:
        following = []
        groups: dict[int, list[tuple[int, list[int]]]] = {}
        for i in level:
            kids = kids_of(i)
            if not kids:
                continue
            on_way = [k for k in kids if k in reveal]
            if on_way and i not in forced:  # a search hit below: open the way, not the whole level
                room = max(budget - visible, _MIN_PARTIAL)
                if cost(kids) + (i in holders) <= room:
                    visible += cost(kids) + (i in holders)
                    opened.add(i)
                    following.extend(kids)
                else:
                    partly(i, kids, on_way, min(room, _MAX_RANK))
            elif i in folded or (max_depth is not None and tree.depth[i] >= max_depth and i not in forced):
                collapsed.add(i)
            elif i in forced:
                if cost(kids) + (i in holders) <= max(budget - visible, budget // 2):
                    visible += cost(kids) + (i in holders)
                    opened.add(i)
                    following.extend(kids)
                else:  # never lay out all 50 000 kids of one node: the budget's worth, then "…"
                    partly(i, kids, [k for k in kids if k in forced or k in reveal], budget, spend=False)
            else:
                groups.setdefault(tree.pattern[i], []).append((i, kids))
        for members in sorted(groups.values(), key=lambda g: (sum(cost(k) for _, k in g), len(g))):
            price = sum(cost(kids) + (i in holders) for i, kids in members)
            if visible + price <= budget:
                visible += price
                opened.update(i for i, _ in members)
                following.extend(k for _, kids in members for k in kids)
            else:
                pending.append(members)
        show(following)
        level = following
    pending.sort(key=lambda g: (tree.depth[g[0][0]], sum(len(k) for _, k in g)))
    for n, members in enumerate(pending):  # share the room left: each member shows its first kids
        share = min((budget - visible) // (len(pending) - n), _MAX_RANK) // len(members)
        count = min(len(kids) for _, kids in members)
        for _, kids in members:
            spent = 1  # the stand-in
            for c, k in enumerate(kids[:count]):
                spent += 1 + len(attached.get(k, ()))
                if spent > share:
                    count = c
                    break
        if count < (_MIN_PARTIAL - 1 if len(members) == 1 else 2) or tree.is_group(members[0][0]):
            # a group of layers reads best whole: ``conv2_block1_* +8 layers``, not 2 of its 8
            collapsed.update(i for i, _ in members)
            continue
        for i, kids in members:
            shown_kids[i] = set(kids[:count])
            visible += 1 + cost(kids[:count])
            show(kids[:count])
            collapsed.update(k for k in kids[:count] if any(g in keep for g in tree.kids[k]))
    for p in holders:  # an optimizer shows only the slots of shown variables
        if p is None or p not in reached or p in collapsed:
            continue
        mine = [k for k in tree.kids[p] if k in slot_ids]
        if all(k in shown_slots for k in mine):
            continue
        regular = shown_kids.get(p, set(kids_of(p)) if p in opened else set())
        shown_kids[p] = regular | {k for k in mine if k in shown_slots}
    return Folding(collapsed, shown_kids)
