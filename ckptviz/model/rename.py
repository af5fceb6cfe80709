"""Renaming with assignment maps in ``tf.compat.v1.train.init_from_checkpoint``'s syntax.

``{'old/name': 'new/name'}`` renames one variable; ``{'old_scope/': 'new_scope/'}`` moves a
scope; ``{'/': 'new_scope/'}`` puts everything under a scope; ``{'old_scope/': '/'}`` lifts a
scope to the top. Name-based checkpoints are renamed key by key; object-based ones path by path
(``net/l1/bias``), with the object graph rebuilt so TF finds the objects under their new paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..format.naming import unescape_local_name
from .select import GraphIndex, copy_slot_links, has_values, set_has_checkpoint_values

AssignmentMap = Mapping[str, str]


def check_assignment_map(assignment_map: AssignmentMap) -> None:
    for old, new in assignment_map.items():
        if old.endswith("/") != new.endswith("/"):
            raise ValueError(
                f"assignment map {old!r}: {new!r} mixes a scope and a name; "
                f"map scopes to scopes (e.g. {old.rstrip('/') + '/'!r}: {new.rstrip('/') + '/'!r}) "
                "and names to names"
            )


def apply(name: str, assignment_map: AssignmentMap) -> str:
    """``name`` renamed by the exact entry, else the longest matching scope; unchanged if none matches."""
    if name in assignment_map:
        return assignment_map[name]
    best = None
    for old in assignment_map:
        if (
            old.endswith("/")
            and (old == "/" or name.startswith(old))
            and (best is None or len(old) > len(best))
        ):
            best = old
    if best is None:
        return name
    rest = name if best == "/" else name[len(best) :]
    new = assignment_map[best]
    return rest if new == "/" else new + rest


def rename_keys(keys: Mapping[str, str], assignment_map: AssignmentMap) -> dict[str, str]:
    """``{new key: source key}`` for a name-based view; two keys landing on one name is an error."""
    check_assignment_map(assignment_map)
    out: dict[str, str] = {}
    for key, source in keys.items():
        new = apply(key, assignment_map)
        if new in out:
            raise ValueError(
                f"the assignment map renames both {_back(out, new, keys)!r} and {key!r} to {new!r}"
            )
        out[new] = source
    return out


def _back(out: Mapping[str, str], new: str, keys: Mapping[str, str]) -> str:
    return next(k for k, s in keys.items() if s == out[new])


def rename_graph(
    proto: Any, keys: Mapping[str, str], assignment_map: AssignmentMap
) -> tuple[Any, dict[str, str]]:
    """The object graph rebuilt as a tree of renamed paths, and ``{new key: source key}``.

    Each object moves to ``apply(path)``; missing intermediate objects are created (TF restores
    through any object with the right children). Aliases to already placed objects are dropped.
    """
    from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

    check_assignment_map(assignment_map)
    index = GraphIndex.build(proto, keys)
    out = TrackableObjectGraph()
    out.nodes.add()
    by_path: dict[str, int] = {"": 0}
    moved: dict[int, int] = {0: 0}

    def place(path: str) -> int:
        if path in by_path:
            return by_path[path]
        head, _, last = path.rpartition("/")
        parent = place(head)
        nid = len(out.nodes)
        out.nodes.add()
        out.nodes[parent].children.add(node_id=nid, local_name=unescape_local_name(last))
        by_path[path] = nid
        return nid

    # Objects holding values move; the others are recreated only where a moved path needs them.
    regular = sorted(n for n in index.paths if n and n not in index.slots and has_values(proto.nodes[n]))
    new_path: dict[int, str] = {0: ""}
    for nid in regular:
        path = apply(index.paths[nid], assignment_map).strip("/")
        if path in by_path and by_path[path] in moved.values():
            clash = next(index.paths[o] for o, m in moved.items() if m == by_path[path])
            raise ValueError(f"the assignment map moves both {clash!r} and {index.paths[nid]!r} to {path!r}")
        moved[nid] = place(path)
        new_path[nid] = path
    for sid, (opt, var, _slot) in index.slots.items():
        if opt in moved and var in moved:
            new_path[sid] = (
                f"{new_path[var]}/.OPTIMIZER_SLOT/{new_path[opt]}/{index.paths[sid].rsplit('/', 1)[1]}"
            )
            moved[sid] = len(out.nodes)
            out.nodes.add()
    renamed: dict[str, str] = {}
    for old, new in moved.items():
        src, node = proto.nodes[old], out.nodes[new]
        old_prefix, new_prefix = index.paths[old], new_path[old]
        for attr in src.attributes:
            copy = node.attributes.add()
            copy.CopyFrom(attr)
            copy.checkpoint_key = new_prefix + attr.checkpoint_key[len(old_prefix) :]
        copy_slot_links(src, node, moved)
        if src.HasField("registered_saver"):
            node.registered_saver.CopyFrom(src.registered_saver)
    for key, source in keys.items():
        owner = index.owner.get(key)
        if owner is None or owner[0] not in moved:
            continue  # keys outside the graph (the graph itself) do not travel
        nid = owner[0]
        renamed[new_path[nid] + key[len(index.paths[nid]) :]] = source
    set_has_checkpoint_values(out, like=proto)
    return out, renamed
