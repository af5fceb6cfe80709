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

from .paths import VARIABLE_VALUE, Adjacency
from .records import KINDS, Edge, Node, Slot

# Children that mark an optimizer without recorded slots: an integer iteration counter plus a
# learning rate or a state list (Keras 3, tf_keras new and legacy), or TF1's Adam accumulators.
_ITERATIONS = {"_iterations", "iter", "iterations"}
_HYPER = {"_learning_rate", "learning_rate", "lr", "_variables"}
_TF1_STATE = {"beta1_power", "beta2_power"}
# Everything an optimizer made only of variables may hold: a plain dict of variables that happens to
# have an ``iter`` and an ``lr`` among other things is not an optimizer.
_HYPERPARAMETERS = _ITERATIONS | _HYPER | _TF1_STATE | {
    "decay", "beta_1", "beta_2", "epsilon", "rho", "momentum", "nesterov", "amsgrad", "weight_decay",
    "initial_accumulator_value", "learning_rate_power", "l1_regularization_strength",
    "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta", "global_clipnorm",
    "clipnorm", "clipvalue", "current_loss_scale", "good_steps", "loss_scale",
}
_INTEGER = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
# Lists of an optimizer that hold all its variables or the model's, never one slot per variable.
_NOT_SLOT_LISTS = {"_variables", "variables", "_trainable_variables", "_trainable_variables_indices"}
# tf_keras new optimizers name slots "<Optimizer>/<slot>/<variable name>" ("Adam/m/dense/kernel").
_TFKERAS_NAME = re.compile(r"^[^/]+/(?P<slot>[^/]+)/(?P<var>.+)$")


class Facts(Protocol):
    """What classifying needs of a graph, by node id: its edges, which nodes are variables, their
    ``full_name``s, and the dtype and shape of a node holding exactly one value."""

    adjacency: Adjacency
    variable: Sequence[bool]
    full_name: Sequence[str]

    def meta(self, node: int) -> tuple[str | None, tuple[int, ...] | None]: ...


def is_variable(node: Node) -> bool:
    """TF 1.x's visualiser test: a node whose attribute is ``VARIABLE_VALUE``."""
    return any(a.name == VARIABLE_VALUE for a in node.attributes)


def classify(facts: Facts, recorded: list[Slot]) -> tuple[np.ndarray, list[Slot]]:
    """Every node's kind (an index into ``KINDS``) and all slot links (recorded, then inferred)."""
    adj = facts.adjacency
    count = len(adj)
    optimizers = {s.optimizer_id for s in recorded}
    slots = list(recorded)
    marks = _ITERATIONS | _TF1_STATE  # an optimizer without recorded slots has one of these
    hits = [k for k, name in enumerate(adj.local) if name in marks]
    candidates = np.unique(np.searchsorted(adj.ptr, np.asarray(hits, np.int64), side="right") - 1) if hits else []
    for node in [int(c) for c in candidates]:
        if node not in optimizers and looks_like_optimizer(node, facts):
            optimizers.add(node)
            slots.extend(infer_slots(node, facts))
    kinds = np.where(np.asarray(facts.variable, bool), KINDS.index("variable"), KINDS.index("other")).astype(np.int8)
    if not count:
        return kinds, slots
    slot_ids = [s.slot_id for s in slots if s.slot_id not in optimizers]
    kinds[np.asarray(slot_ids, np.int64)] = KINDS.index("slot")
    kinds[np.asarray(sorted(optimizers), np.int64)] = KINDS.index("optimizer")
    return kinds, slots


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
    for e in edges:
        children[e.parent].append(e)
    marked = []
    for node in nodes:
        own = {e.local_name: e.child for e in children[node.id]}
        store = own.get("vars")
        items = _numbered(store, children) if store is not None and node.kind in ("other", "optimizer") else None
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
            slot_shape = facts.meta(slot_id)[1]
            var: int | None = None
            if trainable is not None and len(trainable) == len(items):
                var = trainable[index]
            else:
                m = _TFKERAS_NAME.match(full_name[slot_id])
                candidates = [
                    c for c in (by_full_name.get(m["var"], []) if m else []) if facts.meta(c)[1] == slot_shape and c not in members
                ]
                var = candidates[0] if len(candidates) == 1 else None  # two same-named variables: ambiguous
            if var is None or facts.meta(var)[1] != slot_shape or var == slot_id:
                continue
            name = slot_name_of(list_name, full_name[slot_id], full_name[var])
            if (var, name) in linked:
                continue
            linked.add((var, name))
            out.append(Slot(opt, var, name, slot_id, True))
    return out
