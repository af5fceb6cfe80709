"""The scope tree of a name-based checkpoint (TF1 ``Saver``, Estimator, raw ``SaveV2``): no object
graph, so the keys' ``/``-separated scopes make the tree (format.md §10.10).

TF1 optimizers name a slot ``<variable>/<Optimizer>[_N]`` (``dense/kernel/Adam``,
``dense/kernel/Adam_1``) and keep their own state at top level (``beta1_power``); we synthesise one
optimizer node per optimizer name so the tree draws with the same kinds as an object graph.
Object-style keys (``a/.ATTRIBUTES/VARIABLE_VALUE``, ``…/.OPTIMIZER_SLOT/…``) fold into objects.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping

from ..format.naming import unescape_local_name
from .graph import VARIABLE_VALUE, Attribute, Edge, Node, Slot, Value

# Slot names of TF1 optimizers, in creation order (the N of ``_N``); by slot count when it varies.
_TF1_SLOTS: dict[str, dict[int, tuple[str, ...]]] = {
    "Adam": {2: ("m", "v")},
    "AdamW": {2: ("m", "v")},
    "LazyAdam": {2: ("m", "v")},
    "Nadam": {2: ("m", "v")},
    "Momentum": {1: ("momentum",)},
    "Adagrad": {1: ("accumulator",)},
    "ProximalAdagrad": {1: ("accumulator",)},
    "AdagradDA": {2: ("gradient_accumulator", "gradient_squared_accumulator")},
    "Adadelta": {2: ("accum", "accum_update")},
    "Ftrl": {2: ("accum", "linear")},
    "RMSProp": {2: ("rms", "momentum"), 3: ("rms", "mg", "momentum")},
}
_SUFFIX = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9]*?)(?:_(?P<n>\d+))?$")
# Optimizer and training state that TF1 keeps beside the variables, not per variable.
_STATE = re.compile(r"^(beta1_power|beta2_power|global_step)(_\d+)?$")
_ATTRS = "/.ATTRIBUTES/"
_SLOT = "/.OPTIMIZER_SLOT/"


def _tf1_slots(values: Mapping[str, Value]) -> dict[str, tuple[str, str, int]]:
    """``slot key -> (variable key, optimizer name, N)`` for keys like ``<var>/Adam_1``: the parent
    key is a variable of the same shape, and the suffix names a known optimizer or one that every
    such variable shares (a capitalised name on two or more variables)."""
    found: dict[str, tuple[str, str, int]] = {}
    for key, v in values.items():
        parent, _, last = key.rpartition("/")
        m = _SUFFIX.match(last)
        if not parent or m is None or parent not in values or values[parent].shape != v.shape:
            continue
        found[key] = (parent, m["base"], int(m["n"] or 0))
    counts: dict[str, set[str]] = {}
    for var, base, _ in found.values():
        counts.setdefault(base, set()).add(var)
    return {
        k: t for k, t in found.items() if t[1] in _TF1_SLOTS or (t[1][0].isupper() and len(counts[t[1]]) >= 2)
    }


class _Builder:
    """Nodes by path; ids are assigned breadth-first at the end, like TF numbers an object graph."""

    def __init__(self) -> None:
        self.children: dict[str, dict[str, str]] = {"": {}}  # path -> {local name: child path}
        self.attrs: dict[str, list[Attribute]] = {}
        self.optimizers: set[str] = set()

    def ensure(self, path: str, escaped: bool = False) -> None:
        """Create ``path`` and its parents; object-style segments are escaped local names."""
        if path not in self.children:
            parent, _, last = path.rpartition("/")
            self.ensure(parent, escaped)
            self.children[parent].setdefault(unescape_local_name(last) if escaped else last, path)
            self.children[path] = {}

    def attach(self, path: str, name: str, key: str, full_name: str = "", escaped: bool = False) -> None:
        self.ensure(path, escaped)
        self.attrs.setdefault(path, []).append(Attribute(name, full_name, key, (key,)))


def build_scope_tree(values: Mapping[str, Value]) -> tuple[list[Node], list[Edge], list[Slot]]:
    b = _Builder()
    tf1_slots = _tf1_slots(values)
    slot_links: list[tuple[str, str, str, str]] = []  # (optimizer path, variable path, slot name, slot path)
    per_var: dict[tuple[str, str], int] = {}
    for var, base, _ in tf1_slots.values():
        per_var[(var, base)] = per_var.get((var, base), 0) + 1
    state: list[str] = []
    for key in sorted(values):
        if _ATTRS in key:  # object-style key without its object graph
            obj, _, attr = key.partition(_ATTRS)
            if _SLOT in obj:
                var, _, rest = obj.partition(_SLOT)
                opt, _, slot = rest.rpartition("/")
                b.ensure(var, escaped=True)
                b.ensure(opt, escaped=True)
                b.optimizers.add(opt)
                slot_links.append((opt, var, unescape_local_name(slot), obj))
                b.children.setdefault(obj, {})
                b.attrs.setdefault(obj, []).append(Attribute(attr, "", key, (key,)))
            else:
                b.attach(obj, attr, key, escaped=True)
        elif key in tf1_slots:
            var, base, n = tf1_slots[key]
            names = _TF1_SLOTS.get(base, {}).get(per_var[(var, base)])
            name = names[n % len(names)] if names else key.rpartition("/")[2]
            b.optimizers.add(base)
            slot_links.append((base, var, name, key))
            b.children.setdefault(key, {})
            b.attrs.setdefault(key, []).append(Attribute(VARIABLE_VALUE, key, key, (key,)))
        else:
            b.attach(key, VARIABLE_VALUE, key, key)
            if _STATE.match(key.rpartition("/")[2]):
                state.append(key)
    for opt in sorted(b.optimizers):
        if opt not in b.children:
            b.children[""].setdefault(opt, opt)
            b.children[opt] = {}
    tf1_opts = sorted(o for o in b.optimizers if "/" not in o)
    for key in state:  # beta1_power & co. hang off the optimizer, as iterations do in TF2
        if tf1_opts:
            b.children[tf1_opts[0]][key.rpartition("/")[2]] = key
            if "/" not in key:
                del b.children[""][key]
    return _number(b, values, slot_links)


def _number(
    b: _Builder, values: Mapping[str, Value], slot_links: list[tuple[str, str, str, str]]
) -> tuple[list[Node], list[Edge], list[Slot]]:
    ids: dict[str, int] = {"": 0}
    queue = deque([""])
    edges_by_path: list[tuple[str, str, str]] = []
    while queue:
        path = queue.popleft()
        for local, child in sorted(b.children[path].items()):
            edges_by_path.append((path, local, child))
            if child not in ids:
                ids[child] = len(ids)
                queue.append(child)
    reachable = len(ids)
    for link in slot_links:  # slots are reachable only through their optimizer, as in TF2
        ids.setdefault(link[3], len(ids))
    nodes = []
    for path, i in sorted(ids.items(), key=lambda t: t[1]):
        attrs = tuple(b.attrs.get(path, ()))
        nodes.append(
            Node(
                id=i,
                path=path,
                kind="optimizer"
                if path in b.optimizers
                else "variable"
                if any(a.name == VARIABLE_VALUE for a in attrs)
                else "other",
                attributes=attrs,
                values=tuple(values[a.checkpoint_key] for a in attrs),
                reachable=i < reachable,
            )
        )
    slots = [Slot(ids[o], ids[v], name, ids[s], True) for o, v, name, s in slot_links]
    for s in slots:
        nodes[s.slot_id].kind = "slot"
    edges = [Edge(ids[p], local, ids[c]) for p, local, c in edges_by_path]
    return nodes, edges, slots
