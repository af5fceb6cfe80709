"""Kinds of object-graph nodes and optimizer slot links, recorded or inferred.

TF1 optimizers and legacy tf_keras ones record ``slot_variables`` on the optimizer node. Keras 3
and the new tf_keras optimizers (default since TF 2.11) record none: their state
is a plain tracked list (``optimizer/_variables/N``) plus per-slot lists (``_momentums``,
``_velocities``…) aligned with the optimizer's trainable variables. We infer those links so such
checkpoints draw like the TF guide's picture.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .names import natural_key
from .paths import VARIABLE_VALUE, Adjacency
from .records import KINDS, Edge, Node, Slot

# Children that mark an optimizer without recorded slots: an integer iteration counter plus a
# learning rate or a state list (Keras 3, tf_keras new and legacy), or TF1's Adam accumulators.
_ITERATIONS = {"_iterations", "iter", "iterations"}
_HYPER = {"_learning_rate", "learning_rate", "lr", "_variables"}
_TF1_STATE = {"beta1_power", "beta2_power"}
# Everything an optimizer made only of variables may hold: a plain dict of variables that happens to
# have an ``iter`` and an ``lr`` among other things is not an optimizer.
_HYPERPARAMETERS = (
    _ITERATIONS
    | _HYPER
    | _TF1_STATE
    | {
        "decay",
        "beta_1",
        "beta_2",
        "epsilon",
        "rho",
        "momentum",
        "nesterov",
        "amsgrad",
        "weight_decay",
        "initial_accumulator_value",
        "learning_rate_power",
        "l1_regularization_strength",
        "l2_regularization_strength",
        "l2_shrinkage_regularization_strength",
        "beta",
        "global_clipnorm",
        "clipnorm",
        "clipvalue",
        "current_loss_scale",
        "good_steps",
        "loss_scale",
    }
)
_INTEGER = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
# Lists of an optimizer that hold all its variables or the model's, never one slot per variable.
_NOT_SLOT_LISTS = {"_variables", "variables", "_trainable_variables", "_trainable_variables_indices"}
# tf_keras new optimizers name slots "<Optimizer>/<slot>/<variable name>" ("Adam/m/dense/kernel").
_TFKERAS_NAME = re.compile(r"^[^/]+/(?P<slot>[^/]+)/(?P<var>.+)$")
# A slot of a slot (an optimizer's state tracked by another optimizer) is rare; names and paths
# are built through the chain, so a deeper one, or a cycle, is refused as damage.
MAX_SLOT_NESTING = 8


def slot_nesting_problem(recorded: Sequence[Slot]) -> str | None:
    """Why the recorded slots cannot be named (a cycle, or a chain of slots of slots deeper than
    ``MAX_SLOT_NESTING``), or None. Linear: each slot's depth is computed once, without recursion."""
    by_slot: dict[int, list[Slot]] = {}
    for s in recorded:
        by_slot.setdefault(s.slot_id, []).append(s)
    depth: dict[int, int] = {}
    for start in by_slot:
        stack, on_path = [(start, False)], set()
        while stack:
            node, finished = stack.pop()
            refs = [r for s in by_slot[node] for r in (s.variable_id, s.optimizer_id)]
            if finished:
                on_path.discard(node)
                depth[node] = 1 + max((depth.get(r, 0) for r in refs), default=0)
                if depth[node] > MAX_SLOT_NESTING:
                    return (
                        f"slot variable {node} is a slot of a slot more than {MAX_SLOT_NESTING} levels deep"
                    )
                continue
            if node in depth:
                continue
            on_path.add(node)
            stack.append((node, True))
            for r in refs:
                if r in on_path:
                    return f"slot variable {node} is, through slots of slots, a slot of itself (node {r})"
                if r in by_slot and r not in depth:
                    stack.append((r, False))
    return None


class Facts(Protocol):
    """What classifying needs of a graph, by node id: its edges, which nodes are variables, their
    ``full_name``s, and the dtype and shape of a node holding exactly one value."""

    @property
    def adjacency(self) -> Adjacency: ...
    @property
    def variable(self) -> Sequence[bool] | np.ndarray: ...
    @property
    def full_name(self) -> Sequence[str]: ...
    def meta(self, node: int) -> tuple[str | None, tuple[int, ...] | None]: ...


def is_variable(node: Node) -> bool:
    """TF 1.x's visualiser test: a node whose attribute is ``VARIABLE_VALUE``."""
    return any(a.name == VARIABLE_VALUE for a in node.attributes)


def classify(facts: Facts, recorded: list[Slot]) -> tuple[np.ndarray, list[Slot]]:
    """Every node's kind (an index into ``KINDS``) and all slot links (recorded, then inferred)."""
    adj = facts.adjacency
    optimizers = {s.optimizer_id for s in recorded} | declared_optimizers(facts)
    slots = list(recorded)
    marks = _ITERATIONS | _TF1_STATE  # an optimizer without recorded slots holds one of these
    hits = np.flatnonzero(adj.names.isin(marks))
    for node in np.unique(np.searchsorted(adj.ptr, hits, side="right") - 1).tolist():
        if looks_like_optimizer(node, facts):
            optimizers.add(node)
            slots.extend(infer_slots(node, facts))
    kinds = np.where(np.asarray(facts.variable, bool), KINDS.index("variable"), KINDS.index("other")).astype(
        np.int8
    )
    slot_ids = [s.slot_id for s in slots if s.slot_id not in optimizers]
    kinds[np.asarray(slot_ids, np.int64)] = KINDS.index("slot")
    kinds[np.asarray(sorted(optimizers), np.int64)] = KINDS.index("optimizer")
    return kinds, slots


def declared_optimizers(facts: Facts) -> set[int]:
    """Objects a model or checkpoint holds as ``optimizer`` or ``<something>_optimizer`` (Keras'
    ``Model.optimizer``, the guides' ``generator_optimizer``, a loss-scale wrapper's
    ``inner_optimizer``), even with nothing in them yet: Keras 2 saves an optimizer that has not
    taken its first step as an empty node."""
    adj, variable = facts.adjacency, facts.variable
    named = np.flatnonzero(adj.names.equal("optimizer") | adj.names.endswith("_optimizer"))
    return {
        child
        for child in adj.child[named].tolist()
        if not variable[child] and _list_items(child, adj) is None
    }


def looks_like_optimizer(node: int, facts: Facts) -> bool:
    """An optimizer that records no slots: not the root (a ``Checkpoint`` or model holding ``iter``
    and ``lr`` beside the rest), not a list, not a variable; an iteration counter with a learning
    rate or a state list, or TF1's ``beta1_power``/``beta2_power``; and when it holds only variables
    (a legacy optimizer before its first step, or a plain dict of variables), only names optimizers
    use and an integer scalar counter."""
    edges = facts.adjacency[node]
    names = {name for name, _ in edges}
    if node == 0 or facts.variable[node] or not edges or _list_items(node, facts.adjacency) is not None:
        return False
    if not (names & _ITERATIONS and names & _HYPER) and not names & _TF1_STATE:
        return False
    if all(facts.variable[c] for _, c in edges):
        counters = [facts.meta(c) for name, c in edges if name in _ITERATIONS]
        return names <= _HYPERPARAMETERS and all(d in _INTEGER and s == () for d, s in counters)
    return True


def keras_file_optimizers(nodes: Sequence[Node], edges: Sequence[Edge]) -> list[int]:
    """Mark the optimizer of a Keras 3 ``.weights.h5`` / ``.keras`` scope tree (keys
    ``optimizer/vars/N``: ``0`` the int64 iteration count, ``1`` the learning rate, then its state)
    as kind ``optimizer``, and return the ids marked."""
    children: list[list[Edge]] = [[] for _ in nodes]
    stores: dict[int, int] = {}  # node -> its child named "vars" (the last such edge, as a dict keeps)
    for e in edges:
        children[e.parent].append(e)
        if e.local_name == "vars":
            stores[e.parent] = e.child
    marked = []
    for node_id in sorted(stores):
        node = nodes[node_id]
        items = _numbered(stores[node_id], children) if node.kind in ("other", "optimizer") else None
        if not items or not all(is_variable(nodes[i]) for i in items):
            continue
        first = nodes[items[0]]
        counter = first.dtype in _INTEGER and first.shape == ()
        rate = len(items) > 1 and nodes[items[1]].shape == () and nodes[items[1]].dtype not in _INTEGER
        name = node.name.lower()
        if counter and ("optimizer" in name or rate):
            node.kind = "optimizer"
            marked.append(node.id)
    return marked


# Per-variable state of Keras 3 optimizers, in the order ``build`` creates it, by count per variable.
_KERAS_FILE_SLOTS = {
    1: ("momentum",),
    2: ("momentum", "velocity"),
    3: ("momentum", "velocity", "velocity_hat"),
}


def keras_file_slots(nodes: Sequence[Node], edges: Sequence[Edge], optimizers: Sequence[int]) -> list[Slot]:
    """Slots of a Keras 3 ``.weights.h5`` optimizer (``optimizer/vars/N``: the count, the learning
    rate, then ``k`` states per trainable variable, in training order), linked to the model's
    variables (``layers/<name>/vars/N``, layers in natural name order, which is creation order for
    Keras' own names). Linked only when every state finds its variable by shape, in order; the
    node kinds become ``slot``. Keras writes no slot names: Adam's and SGD's (the defaults) are used."""
    children: list[list[Edge]] = [[] for _ in nodes]
    for e in edges:
        children[e.parent].append(e)
    out: list[Slot] = []
    for opt in optimizers:
        own = {e.local_name: e.child for e in children[opt]}
        state = (_numbered(own["vars"], children) or [])[2:] if "vars" in own else []
        model = _model_variables(nodes, children, opt)
        for k, names in _KERAS_FILE_SLOTS.items():
            links = _align(nodes, state, model, k)
            if links is not None:
                for group, var in links:
                    out.extend(Slot(opt, var, names[j], slot, True) for j, slot in enumerate(group))
                break
    for s in out:
        nodes[s.slot_id].kind = "slot"
    return out


def _model_variables(nodes: Sequence[Node], children: list[list[Edge]], opt: int) -> list[int]:
    """Every ``…/vars/N`` variable outside the optimizer, layers in natural order, N by number."""
    out: list[int] = []

    def walk(node: int) -> None:
        kids = sorted(children[node], key=lambda e: natural_key(e.local_name))
        for e in kids:
            if e.child == opt:
                continue
            if e.local_name == "vars" and (items := _numbered(e.child, children)) is not None:
                out.extend(i for i in items if is_variable(nodes[i]))
            else:
                walk(e.child)

    walk(0)
    return out


def _align(
    nodes: Sequence[Node], state: list[int], model: list[int], k: int
) -> list[tuple[list[int], int]] | None:
    """``k`` states per variable, each group of one shape, matched in order to model variables of
    that shape (non-trainable ones are skipped); None unless every group matches."""
    if not state or len(state) % k:
        return None
    groups = [state[i : i + k] for i in range(0, len(state), k)]
    links, at = [], 0
    for group in groups:
        shape = nodes[group[0]].shape
        if any(nodes[i].shape != shape for i in group):
            return None
        while at < len(model) and nodes[model[at]].shape != shape:
            at += 1
        if at == len(model):
            return None
        links.append((group, model[at]))
        at += 1
    return links


def _numbered(node_id: int, children: list[list[Edge]]) -> list[int] | None:
    """Element ids of children named "0", "1"… in any stored order (a scope tree sorts "10" before
    "2"), by number; else None."""
    by_number = {e.local_name: e.child for e in children[node_id]}
    if not by_number or set(by_number) != {str(i) for i in range(len(by_number))}:
        return None
    return [by_number[str(i)] for i in range(len(by_number))]


def _list_items(node_id: int, adjacency: Adjacency) -> list[int] | None:
    """Element ids of a tracked list (children named "0", "1"…), else None."""
    edges = adjacency[node_id]
    if not edges or any(name != str(i) for i, (name, _) in enumerate(edges)):
        return None
    return [c for _, c in edges]


def slot_name_of(list_name: str, slot_full_name: str, variable_full_name: str) -> str:
    """The name the optimizer gave this slot: ``m`` for tf_keras ``Adam/m/dense/kernel``,
    ``momentum`` for Keras 3 ``adam/dense_kernel_momentum`` held in ``_momentums``."""
    m = _TFKERAS_NAME.match(slot_full_name)
    if m and variable_full_name and m["var"] == variable_full_name:
        return m["slot"]
    singular = list_name.lstrip("_")
    singular = singular[:-3] + "y" if singular.endswith("ies") else singular.removesuffix("s")
    return singular


def infer_slots(opt: int, facts: Facts) -> list[Slot]:
    """Slots of an optimizer that records none, from its per-variable state lists.

    A state list's i-th element belongs to the i-th of the optimizer's ``_trainable_variables``
    (Keras 3); without that list (tf_keras new), the slot's ``full_name`` names the variable's. A
    pair whose shapes differ is not linked.
    """
    adj, variable, full_name = facts.adjacency, facts.variable, facts.full_name
    own = dict(adj[opt])
    trainable = _list_items(own["_trainable_variables"], adj) if "_trainable_variables" in own else None
    by_full_name: dict[str, list[int]] = {}
    if trainable is None:  # only the tf_keras form needs names
        for n, (is_var, name) in enumerate(zip(variable, full_name)):
            if is_var and name:
                by_full_name.setdefault(name, []).append(n)
    out: list[Slot] = []
    linked: set[tuple[int, str]] = set()  # (variable, slot name): one slot of a name per variable
    for list_name, list_id in own.items():
        items = None if list_name in _NOT_SLOT_LISTS else _list_items(list_id, adj)
        if not items or not all(variable[i] for i in items):
            continue
        members = set(items)
        for index, slot_id in enumerate(items):
            shape = facts.meta(slot_id)[1]
            var: int | None = None
            if trainable is not None and len(trainable) == len(items):
                var = trainable[index]
            else:
                m = _TFKERAS_NAME.match(full_name[slot_id])
                named = by_full_name.get(m["var"], []) if m else []
                candidates = [c for c in named if facts.meta(c)[1] == shape and c not in members]
                var = candidates[0] if len(candidates) == 1 else None  # two same-named variables: ambiguous
            if var is None or facts.meta(var)[1] != shape or var == slot_id:
                continue
            name = slot_name_of(list_name, full_name[slot_id], full_name[var])
            if (var, name) in linked:
                continue
            linked.add((var, name))
            out.append(Slot(opt, var, name, slot_id, True))
    return out
