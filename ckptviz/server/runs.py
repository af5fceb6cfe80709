"""Two checkpoints and a training run: the ``diff`` and ``timeline`` payloads, bounded, with the
paths the engines report made relative to the server's root."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from ..format import naming
from ..model.checkpoint import Checkpoint
from .paths import Root

ROWS_MAX = 1000
ROLLUPS_MAX = 2000
VARIABLES_MAX = 200
STATUSES = ("added", "removed", "changed", "unchanged")

_DIFFS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()  # paging a long diff computes it once
_LOCK = threading.Lock()
_KEEP = 4


def diff(
    root: Root,
    a: Checkpoint,
    b: Checkpoint,
    stamp: tuple[Any, ...],
    options: dict[str, Any],
    only: str,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    from ..model.diff import diff as run_diff

    with _LOCK:
        result = _DIFFS.get(stamp)
    if result is None:
        result = run_diff(a, b, progress=False, **options)
        with _LOCK:
            _DIFFS[stamp] = result
            while len(_DIFFS) > _KEEP:
                _DIFFS.popitem(last=False)
    record = result.to_dict()
    rows = [r for r in record["rows"] if not only or r["status"] in only.split(",")]
    return {
        "a": root.relative(record["a"]),
        "b": root.relative(record["b"]),
        "equal": record["equal"],
        "counts": record["counts"],
        "options": options,
        "total": len(rows),
        "offset": offset,
        "limit": limit,
        "rows": rows[offset : offset + limit],
        "rollups": record["rollups"][:ROLLUPS_MAX],
        "rollups_truncated": len(record["rollups"]) > ROLLUPS_MAX,
    }


def run_prefixes(directory: str) -> list[str]:
    """The checkpoints of a run as the timeline reads them: the ``checkpoint`` file's list, else
    every prefix in the directory (so each can be checked against the root first)."""
    state = naming.get_checkpoint_state(directory)
    if state is not None and state.all_model_checkpoint_paths:
        return list(state.all_model_checkpoint_paths)
    return naming.prefixes_in(directory)


def timeline(root: Root, directory: str, variables: str | None, bins: int) -> dict[str, Any]:
    from ..model.timeline import timeline as run_timeline

    for prefix in run_prefixes(directory):
        root.locate(prefix)  # 403 before reading anything a state file names outside the root
    record = run_timeline(directory, variables=variables, bins=bins, progress=False).to_dict()
    names = sorted(record["variables"])
    kept = names[:VARIABLES_MAX]
    for step in record["steps"]:
        step["prefix"] = root.relative(step["prefix"])
    return {
        "path": root.relative(directory),
        "steps": record["steps"],
        "variables": {k: record["variables"][k] for k in kept},
        "total_variables": len(names),
        "truncated": len(names) > VARIABLES_MAX,
        "options": {"variables": variables, "bins": bins},
    }
