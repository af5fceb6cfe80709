"""Which key of ``a`` goes with which key of ``b``, and why the others have no partner.

Each side's keys get a *name*: the key itself (``match="key"``), the TF1 variable name recorded in
the object graph (``"full_name"``, so a TF1 checkpoint meets its TF2 conversion) or the object path
(``"path"``). ``a``'s names then go through the assignment map, and equal names pair up.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ...errors import InvalidArgumentError
from ...format.naming import OBJECT_GRAPH_KEY
from .. import paths
from ..assignment import apply as apply_assignment_map
from ..assignment import require_all_used

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint

Match = Literal["key", "full_name", "path"]
MATCHES: tuple[Match, ...] = ("key", "full_name", "path")
_CLOSE = 50  # candidates scanned for a "closest" hint: bounded, so 50 000 unmatched keys stay linear


@dataclass
class Pairing:
    """``keys_a[i]`` pairs with ``keys_b[i]``; ``only_a`` / ``only_b``: unmatched key -> why."""

    keys_a: list[str] = field(default_factory=list)
    keys_b: list[str] = field(default_factory=list)
    only_a: dict[str, str] = field(default_factory=dict)
    only_b: dict[str, str] = field(default_factory=dict)


def names(ckpt: Checkpoint, match: Match) -> tuple[dict[str, str], dict[str, str]]:
    """``({name: key}, {key: why it has no name of its own})`` for one side (graph key left out)."""
    keys = [k for k in ckpt.entries if k != OBJECT_GRAPH_KEY]
    if match == "key" or not ckpt.is_object_based:
        return {k: k for k in keys}, {}
    named: dict[str, str] = {}
    for node in ckpt.graph.nodes:
        for attr in node.attributes:
            if attr.name == paths.VARIABLE_VALUE and len(attr.keys) == 1:
                name = node.full_name if match == "full_name" else node.path
                if name:
                    named[attr.keys[0]] = name
    out: dict[str, str] = {}
    clashes: dict[str, str] = {}
    for key in keys:
        name = named.get(key, key)
        if name in out:
            clashes[key] = f"its {match} {name!r} also names {out[name]!r}, which took the pair"
        else:
            out[name] = key
    return out, clashes


def check_used(assignment_map: Mapping[str, str], names_a: list[str]) -> None:
    """Every entry of the map must rename something of ``a`` (``assignment.require_all_used``)."""
    ordered = sorted(set(names_a) | {paths.object_path(n) for n in names_a})
    used = {
        old
        for old in assignment_map
        if old == "/" or _exact(ordered, old) or (old.endswith("/") and _starts(ordered, old))
    }
    example = f" (a's names look like {ordered[0]!r})" if ordered else " (a has no keys)"
    require_all_used(assignment_map, used, f" in a{example}")


def _exact(seq: list[str], name: str) -> list[str]:
    i = bisect.bisect_left(seq, name)
    return seq[i : i + 1] if i < len(seq) and seq[i] == name else []


def _starts(seq: list[str], prefix: str) -> bool:
    i = bisect.bisect_left(seq, prefix)
    return i < len(seq) and seq[i].startswith(prefix)


def rename(name: str, assignment_map: Mapping[str, str]) -> str:
    """The name through the map; an object key is renamed by its object path (``net/l1/kernel``)."""
    split = paths.split_key(name)
    if split:
        head = split[0]
        moved = apply_assignment_map(head, assignment_map)
        if moved != head:
            return moved + name[len(head) :]
    return apply_assignment_map(name, assignment_map)


def pair(
    a: Checkpoint, b: Checkpoint, match: Match = "key", assignment_map: Mapping[str, str] | None = None
) -> Pairing:
    if match not in MATCHES:
        raise InvalidArgumentError(f"match must be one of {', '.join(map(repr, MATCHES))}, not {match!r}")
    if match == "key" and not assignment_map:
        return _by_key(a, b)
    names_a, why_a = names(a, match)
    names_b, why_b = names(b, match)
    out = Pairing(only_a=dict(why_a), only_b=dict(why_b))
    renamed = {n: n for n in names_a}
    if assignment_map:
        check_used(assignment_map, list(names_a))
        renamed = {n: rename(n, assignment_map) for n in names_a}
    what = {"key": "key", "full_name": "full_name", "path": "object path"}[match]
    taken: dict[str, str] = {}
    for name, key in names_a.items():
        new = renamed[name]
        if new in taken:
            out.only_a[key] = (
                f"the assignment map sends it to {new!r}, like {taken[new]!r}, which took the pair"
            )
        elif new in names_b:
            taken[new] = key
            out.keys_a.append(key)
            out.keys_b.append(names_b[new])
        else:
            moved = f" (renamed from {name!r} by the assignment map)" if new != name else ""
            out.only_a[key] = f"b has no {what} {new!r}{moved}"
    paired_b = set(taken)
    for name, key in names_b.items():
        if name not in paired_b:
            out.only_b.setdefault(key, f"a has no {what} {name!r}")
    _hint(out, a, b)
    return out


def _by_key(a: Checkpoint, b: Checkpoint) -> Pairing:
    """``pair`` by key alone, as set operations (what the general walk does with every name its key)."""
    keys_a = [k for k in a.entries if k != OBJECT_GRAPH_KEY]
    keys_b = [k for k in b.entries if k != OBJECT_GRAPH_KEY]
    in_b = set(keys_b)
    both = [k for k in keys_a if k in in_b]
    out = Pairing(both, both)
    if len(both) < len(keys_a):
        out.only_a = {k: f"b has no key {k!r}" for k in keys_a if k not in in_b}
    if len(both) < len(keys_b):
        in_a = set(keys_a)
        out.only_b = {k: f"a has no key {k!r}" for k in keys_b if k not in in_a}
    _hint(out, a, b)
    return out


def _hint(out: Pairing, a: Checkpoint, b: Checkpoint) -> None:
    """Point each unmatched key at the closest unmatched key of the same dtype and shape, if any."""
    groups: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    for key in out.only_b:
        e = b.entries[key]
        groups.setdefault((e.dtype.name, e.shape), []).append(key)
    for key in out.only_a:
        e = a.entries[key]
        candidates = groups.get((e.dtype.name, e.shape), [])[:_CLOSE]
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
        if close:
            out.only_a[key] += f"; closest unmatched key of b with its dtype and shape: {close[0]!r}"
