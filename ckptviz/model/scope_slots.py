"""Which keys of a name-based checkpoint are optimizer slots, by their names and shapes.

TF1 optimizers name a slot ``<variable>/<Optimizer>[_N]`` (``dense/kernel/Adam``,
``dense/kernel/Adam_1``; ``<variable>/part_K/<Optimizer>`` for a partition) and keep their own
state at top level (``beta1_power``); TF2 Estimators name it ``training/<Optimizer>/<variable>/<slot>``.
Every rule runs on all keys at once: a regex once per distinct last segment (a checkpoint has a few
dozen), a set lookup per key, shapes compared as small integers.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from itertools import repeat
from typing import NamedTuple

import numpy as np

# Slot names of TF1 optimizers, in creation order (the N of ``_N``); by slot count when it varies.
TF1_SLOTS: dict[str, dict[int, tuple[str, ...]]] = {
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
    "AdamWeightDecay": {2: ("m", "v")},
}
# Slots named by their state rather than their optimizer: BERT's AdamWeightDecayOptimizer.
_NAMED_SLOTS = {"adam_m": ("AdamWeightDecay", 0), "adam_v": ("AdamWeightDecay", 1)}
ADAM_FAMILY = ("Adam", "AdamW", "LazyAdam", "Nadam")  # the optimizers that keep beta1/2_power
# Per-variable copies that are not optimizer state: EMA shadow variables.
_NOT_OPTIMIZERS = {"ExponentialMovingAverage", "MovingAverage"}
_SUFFIX = re.compile(r"^(?P<base>[A-Za-z][A-Za-z0-9]*?)(?:_(?P<n>\d+))?$")
_PART = re.compile(r"^(?P<var>.+)/part_\d+$")
_ESTIMATOR = re.compile(r"^(?P<opt>(?:.*/)?training/[A-Za-z]\w*)/(?P<var>.+)/(?P<slot>[^/]+)$")
_ADAM_STATE = re.compile(r"^beta[12]_power(_\d+)?$")


class Keys(NamedTuple):
    """Sorted keys split once: ``position[key]`` is a key's index; ``heads[i]`` is what comes
    before the last ``/`` of ``keys[i]`` (``""`` if none) and the last segment is
    ``lasts[last_id[i]]`` (a checkpoint has few distinct ones); ``text`` is the keys joined by
    newlines, to tell at once that no key holds a string."""

    keys: list[str]
    position: dict[str, int]
    heads: list[str]
    last_id: np.ndarray
    lasts: list[str]
    shapes: list[tuple[int, ...]]
    text: str


class TF1Slots(NamedTuple):
    """Per key: the variable key's index (-1: not a slot), the optimizer (``bases[base[i]]``), the
    ``N`` of ``_N`` (modulo 6: all a slot name needs), and whether it is a partition's slot."""

    var: np.ndarray
    base: np.ndarray
    n: np.ndarray
    bases: list[str]
    partition: np.ndarray


def _suffix(last: str) -> tuple[str, int] | None:
    """``(optimizer, N)`` a slot's last segment names, or None."""
    m = _SUFFIX.match(last)
    named = _NAMED_SLOTS.get(last)
    if (m is None and named is None) or (m is not None and m["base"] in _NOT_OPTIMIZERS):
        return None
    return named if named else (m["base"], int(m["n"] or 0))  # type: ignore[index]


def tf1_slots(k: Keys) -> TF1Slots:
    """Keys like ``<var>/Adam_1``: the parent key is a variable of the same shape (of the same
    layout for a partition: same rank, same shape after the first dimension), and the suffix names a
    known optimizer or one that two or more variables share (a capitalised name)."""
    n = len(k.keys)
    suffixes = [_suffix(last) for last in k.lasts]
    bases = list(dict.fromkeys(s[0] for s in suffixes if s is not None))
    code = {b: j for j, b in enumerate(bases)}
    base_of = np.array([-1 if s is None else code[s[0]] for s in suffixes], np.int64)
    nth_of = np.array([0 if s is None else s[1] % 6 for s in suffixes], np.int64)
    base, var = base_of[k.last_id], np.full(n, -1, np.int64)
    cand = np.flatnonzero(base >= 0)
    heads = list(map(k.heads.__getitem__, cand.tolist()))
    index, shapes = k.position, k.shapes
    at = np.fromiter(map(index.get, heads, repeat(-1)), np.int64, len(cand))
    if "" in index:  # a slot needs a parent scope: the empty key is none
        at[np.fromiter(map(operator.not_, heads), bool, len(heads))] = -1
    up = np.flatnonzero(at >= 0)
    same = map(
        operator.eq, map(shapes.__getitem__, at[up].tolist()), map(shapes.__getitem__, cand[up].tolist())
    )
    up = up[np.fromiter(same, bool, len(up))]
    var[cand[up]] = at[up]
    others = np.flatnonzero(at < 0)
    unkeyed = list(map(heads.__getitem__, others.tolist()))
    parts = {h: m for h in set(unkeyed) if "/part_" in h and (m := _PART.match(h))}
    owners = {h: index.get(m["var"], -1) for h, m in parts.items()}
    partition = np.zeros(n, bool)
    if parts:  # a partition: its variable is the key above part_K
        owner = np.fromiter(map(owners.get, unkeyed, repeat(-1)), np.int64, len(unkeyed))
        hit = np.flatnonzero(owner >= 0)
        for i, o in zip(cand[others[hit]].tolist(), owner[hit].tolist()):
            if len(shapes[o]) == len(shapes[i]) and shapes[o][1:] == shapes[i][1:]:
                var[i] = o
                partition[i] = True
    slots = np.flatnonzero(var >= 0)
    codes = base[slots]
    pairs = np.unique(codes * max(n, 1) + var[slots])  # distinct (optimizer, variable) pairs
    shared = np.bincount(pairs // max(n, 1), minlength=len(bases))
    keep = np.array(
        [b in TF1_SLOTS or (b[0].isupper() and shared[j] >= 2) for j, b in enumerate(bases)], bool
    )
    var[slots[~keep[codes]]] = -1
    base[var < 0] = -1
    partition &= var >= 0
    return TF1Slots(var, base, nth_of[k.last_id], bases, partition)


def tf1_slot_name(base: str, nth: int, slots_here: int, last: str) -> str:
    """The state a TF1 slot holds (``v`` for ``Adam_1``), by how many slots of its optimizer its
    variable (or partition) has; its suffix when the optimizer is not a known one."""
    names = TF1_SLOTS.get(base, {}).get(slots_here)
    return names[nth % len(names)] if names else last


def estimator_slots(k: Keys) -> dict[int, tuple[int, str, str]]:
    """``slot key index -> (variable key index, optimizer scope, slot name)`` for TF2 Estimators'
    names (``training/Adam/dense/kernel/m``)."""
    out: dict[int, tuple[int, str, str]] = {}
    if "training/" not in k.text:  # what the pattern needs: most checkpoints have none
        return out
    near = np.fromiter(map(str.__contains__, k.keys, repeat("training/")), bool, len(k.keys))
    for i in np.flatnonzero(near).tolist():
        m = _ESTIMATOR.match(k.keys[i])
        var = k.position.get(m["var"], -1) if m else -1
        if m and var >= 0 and k.shapes[var] == k.shapes[i]:
            out[i] = (var, m["opt"], m["slot"])
    return out


def adam_state(lasts: Sequence[str]) -> np.ndarray:
    """Whether each (distinct) last segment names an Adam accumulator (``beta2_power_3``)."""
    return np.array([_ADAM_STATE.match(last) is not None for last in lasts], bool)
