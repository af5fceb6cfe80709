"""What belongs to what: the one rule select, exclude, check, restore and the roll-ups share.

A variable is one object-graph node, whatever path TensorFlow used for its key. So:

- **select X** keeps everything reachable from X (what ``tf.train.Checkpoint(x=X)`` would save),
  attached to the root along X's home path;
- **exclude X** drops X and everything X *owns* (whose home path runs through X, and the slots of
  its variables), then keeps whatever is still reachable from the root. Excluding ``optimizer``
  keeps every model weight the optimizer also tracks (their home is the model) and drops its
  slots, iteration count and learning rate;
- **roll-ups** count a variable under every subtree that reaches it (``diff/rollup.py``).

Recorded slot variables, which no ``children`` edge reaches, come along when both their variable
and their optimizer are kept, as TensorFlow saves them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable

from .graph import ObjectGraph


def reachable(graph: ObjectGraph, roots: Iterable[int], within: Collection[int] | None = None) -> set[int]:
    """The roots and every node their ``children`` edges reach (only through ``within``, if given)."""
    out = {r for r in roots if within is None or r in within}
    todo = deque(out)
    while todo:
        for e in graph.out_edges(todo.popleft()):
            if e.child not in out and (within is None or e.child in within):
                out.add(e.child)
                todo.append(e.child)
    return out


def owned(graph: ObjectGraph, roots: Iterable[int]) -> set[int]:
    """The roots, everything whose home path runs through one, and the slots of those variables."""
    kids: dict[int, list[int]] = {}
    for i, first in enumerate(graph.names.home.parent):  # ``home_parent``, its common case inlined
        p = first if first >= 0 else graph.home_parent(i)
        if p is not None and p != i:
            kids.setdefault(p, []).append(i)
    out = set(roots)
    todo = deque(out)
    while todo:
        n = todo.popleft()
        more = list(kids.get(n, ()))
        more += [s.slot_id for s in graph.slots_of(n) if s.variable_id == n]
        for c in more:
            if c not in out and c != 0:
                out.add(c)
                todo.append(c)
    return out


def home_ancestors(graph: ObjectGraph, nodes: Iterable[int]) -> set[int]:
    """The nodes' owners along their home paths, up to the root (linear: each walk stops early)."""
    out: set[int] = {0} if graph.nodes else set()
    for n in nodes:
        p = graph.home_parent(n)
        while p is not None and p not in out:
            out.add(p)
            p = graph.home_parent(p)
    return out


def kept_nodes(graph: ObjectGraph, select: Collection[int] | None, exclude: Collection[int]) -> set[int]:
    """The nodes a checkpoint keeps when ``select`` (None: everything) and ``exclude`` are applied."""
    removed = owned(graph, exclude) if exclude else set()
    if select is None:
        base = set(range(len(graph.nodes)))
    else:
        base = reachable(graph, select) | home_ancestors(graph, select)
        counter = graph.children(0).get("save_counter") if graph.nodes else None
        if counter is not None:  # TF's Checkpoint makes and restores it whatever else is restored
            base.add(counter)
    base -= removed
    kept = reachable(graph, [0], within=base) if 0 in base else set()
    for s in graph.slots:
        if not s.inferred and s.slot_id not in removed and s.optimizer_id in kept and s.variable_id in kept:
            kept |= reachable(graph, [s.slot_id], within=base | {s.slot_id})
    return kept
