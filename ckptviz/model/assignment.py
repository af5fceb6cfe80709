"""Assignment maps in ``tf.compat.v1.train.init_from_checkpoint``'s syntax: the one place their rules live.

``{'old/name': 'new/name'}`` renames one name; ``{'old_scope/': 'new_scope/'}`` moves a scope;
``{'/': 'new_scope/'}`` puts everything under a scope; ``{'old_scope/': '/'}`` lifts a scope to the
top. The exact entry beats any scope, and the longest scope wins.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InvalidArgumentError, NothingMatchedError

AssignmentMap = Mapping[str, str]


def check_assignment_map(assignment_map: AssignmentMap) -> None:
    if not assignment_map:
        raise InvalidArgumentError(
            "the assignment map is empty; pass {'old/': 'new/'} or {'old/name': 'new/name'}"
        )
    for old, new in assignment_map.items():
        if old.endswith("/") != new.endswith("/"):
            raise InvalidArgumentError(
                f"assignment map {old!r}: {new!r} mixes a scope and a name; "
                f"map scopes to scopes (e.g. {old.rstrip('/') + '/'!r}: {new.rstrip('/') + '/'!r}) "
                "and names to names"
            )


def require_all_used(assignment_map: AssignmentMap, used: set[str], hint: str = "") -> None:
    """Every entry of a map must match something: one typo (``{"nett/": …, "net/": …}``) is an
    error, never a half-applied rename. rename, check, restore and diff all ask here."""
    unused = [old for old in assignment_map if old not in used]
    if unused:
        shown = ", ".join(repr(u) for u in unused[:5])
        more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
        raise NothingMatchedError(f"assignment map entries that match nothing: {shown}{more}{hint}")


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


def rule_for(name: str, assignment_map: AssignmentMap) -> str | None:
    """The entry of the map that renames ``name`` (what ``apply`` uses), or None."""
    if name in assignment_map:
        return name
    scopes = [o for o in assignment_map if o.endswith("/") and (o == "/" or name.startswith(o))]
    return max(scopes, key=len) if scopes else None
