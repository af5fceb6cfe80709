"""Two checkpoints and a training run: the ``diff`` and ``timeline`` payloads, bounded, computed
once per version of their files (``format.stamp``) and kept in the ``State``'s bounded caches: a
diff for paging; a run's timeline until one of its checkpoints changes, and then handed to the
next one to reuse (``model.timeline``'s ``previous``)."""

from __future__ import annotations

import contextlib
import json
import re
from typing import TYPE_CHECKING, Any

from ..errors import CheckpointNotFoundError, NothingMatchedError
from ..format import naming
from ..model.checkpoint import Checkpoint
from .cache import stamp
from .filters import Matcher
from .payloads import fit

if TYPE_CHECKING:
    from .state import State

ROWS_MAX = 1000
ROLLUPS_MAX = 2000
VARIABLES_MAX = 200
STEPS_MAX = 500  # checkpoints of one timeline
STATUSES = ("added", "removed", "changed", "unchanged")
_NUMBER = re.compile(r"-(\d+)$")


def _nbytes(record: Any) -> int:
    return len(json.dumps(record, default=str))


def diff(
    state: State, a: str, b: str, options: dict[str, Any], only: str, offset: int, limit: int
) -> dict[str, Any]:
    from ..model.diff import diff as run_diff

    files = state.root.files
    with state.cache.use(files, a) as ca, state.cache.use(files, b) as cb:
        key = ("diff", stamp(files, ca.location), stamp(files, cb.location), tuple(sorted(options.items())))
        record = state.results.get(key)
        if record is None:
            record = run_diff(ca, cb, progress=False, **options).to_dict()
            state.results.put(key, record, _nbytes(record))
    rows = [r for r in record["rows"] if not only or r["status"] in only.split(",")]
    return {
        "a": ca.path,
        "b": cb.path,
        "equal": record["equal"],
        "counts": record["counts"],
        "options": options,
        "total": len(rows),
        "offset": offset,
        "limit": limit,
        "rows": (page := fit(rows[offset : offset + limit])),
        "truncated": len(page) < len(rows[offset : offset + limit]),  # by bytes: ask again from offset+len
        "rollups": record["rollups"][:ROLLUPS_MAX],
        "rollups_truncated": len(record["rollups"]) > ROLLUPS_MAX,
    }


def run_prefixes(state: State, directory: str) -> tuple[list[str], list[float | None]]:
    """The checkpoints of a run and their times: the ``checkpoint`` file's list (its entries made
    paths under the root), else every prefix in the directory, by number."""
    files = state.root.files
    recorded = files.checkpoint_state(directory)
    if recorded is not None and recorded.all_model_checkpoint_paths:
        prefixes = recorded.all_model_checkpoint_paths
        times: list[float | None] = list(recorded.all_model_checkpoint_timestamps)
        return prefixes, (times + [None] * len(prefixes))[: len(prefixes)]
    found = [
        f"{directory}/{name[: -len('.index')]}".lstrip("/")
        for name, kind, _ in files.scandir(directory)
        if name.endswith(".index") and kind == "file"
    ]
    if not found:
        raise CheckpointNotFoundError(
            f"no checkpoint file and no checkpoints in {directory or '.'}", directory
        )
    found.sort(key=lambda p: (int(m[1]) if (m := _NUMBER.search(p)) else -1, p))
    return found, [None] * len(found)


def timeline(state: State, directory: str, variables: Matcher | None, bins: int) -> dict[str, Any]:
    from ..model.timeline import Timeline
    from ..model.timeline import timeline as run_timeline

    files = state.root.files
    prefixes, times = run_prefixes(state, directory)
    if len(prefixes) > STEPS_MAX:
        prefixes, times = prefixes[-STEPS_MAX:], times[-STEPS_MAX:]
    locations = [files.locate(p) for p in prefixes]
    stamps = tuple(stamp(files, loc) for loc in locations)
    key = (directory, repr(variables), bins)  # one entry per run and question, replaced as the run grows
    kept = state.timelines.get(key)
    if kept is not None and kept[0] == stamps:
        record = kept[1]
    else:
        with contextlib.ExitStack() as opened:
            ckpts = []
            for location, signature in zip(locations, stamps):
                ckpt = Checkpoint.of_reader(*files.open_location(location), signature=repr(signature))
                opened.callback(ckpt.close)
                ckpts.append(ckpt)
            keys: list[str] | None = None
            if variables is not None:
                every = {k for c in ckpts for k in c.entries if k != naming.OBJECT_GRAPH_KEY}
                keys = sorted(k for k in every if variables.search(k))
                if not keys:
                    raise NothingMatchedError(f"variables {variables.pattern!r} matched no key of the run")
            # what the last one computed per checkpoint is reused, not read again
            previous = Timeline(directory, [], {}, {}, records=kept[2]) if kept is not None else None
            found = run_timeline(ckpts, variables=keys, bins=bins, progress=False, previous=previous)
            record = found.to_dict()  # names come from the open checkpoints: before they close
        for step, when in zip(record["steps"], times):
            step["timestamp"] = step["timestamp"] if step.get("timestamp") is not None else when
        state.timelines.put(key, (stamps, record, found.records), 2 * _nbytes(record))
    names = sorted(record["variables"])
    kept = names[:VARIABLES_MAX]
    return {
        "path": directory,
        "steps": record["steps"],
        "variables": {k: record["variables"][k] for k in kept},
        "total_variables": len(names),
        "truncated": len(names) > VARIABLES_MAX,
        "options": {"variables": None if variables is None else variables.pattern, "bins": bins},
    }
