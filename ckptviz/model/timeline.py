"""``ckptviz.timeline(run)``: every variable of every checkpoint of a training run, in one pass each.

A run is a ``CheckpointManager`` directory (its ``checkpoint`` file lists the prefixes and their
timestamps) or an explicit list of paths. Each checkpoint is read once, next to its predecessor's
memory maps for the relative change. Histograms use bins fixed per variable from the first
checkpoint holding it, so a variable's pictures line up across steps. Results are cached per
checkpoint file (in memory, and in a small JSON file beside the run with ``cache=True``), so a
second timeline after new saves reads only the new checkpoints (and the last old one, for the
relative change).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidArgumentError, NothingMatchedError
from ..format import storage
from .checkpoint import Checkpoint
from .checkpoint import open as open_checkpoint
from .distributed import resolve_client, run_timeline
from .progress import Progress, reporter
from .runs import run_prefixes, signature
from .stats import StepStats
from .step_reading import Held, Step, read_step

if TYPE_CHECKING:
    import pandas

CACHE_FILE = ".ckptviz-timeline.json"
_VERSION = 1


@dataclass
class Timeline:
    """``steps`` in run order; ``stats[key][i]`` is variable ``key`` at ``steps[i]`` (None where the
    checkpoint lacks it); ``edges[key]`` its histogram bins. Pictures: ``ckptviz.render.plots``
    (``timeline_heatmap``, ``timeline_lines``, ``timeline_histograms``)."""

    source: Any
    steps: list[Step]
    stats: dict[str, list[StepStats | None]]
    edges: dict[str, list[float]]
    options: dict[str, Any] = field(default_factory=dict)
    # what was computed per checkpoint, by signature: ``refresh`` reads only what is new
    records: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    names_from: Any = field(default=None, repr=False)  # the last checkpoint: a path, or an open Checkpoint
    _names: dict[str, str] | None = field(default=None, repr=False)

    @property
    def names(self) -> dict[str, str]:
        """``{key: the name people know}`` where it differs, from the run's last checkpoint's
        metadata, on first use (a timeline needs none; pictures and tables show them)."""
        if self._names is None:
            last = self.names_from
            self._names = {}
            if isinstance(last, Checkpoint):  # the caller's own, never re-opened by path
                self._names = last.known_names()
            elif last is not None:
                with open_checkpoint(
                    last, verify=False, storage_options=self.options.get("storage_options")
                ) as ckpt:
                    self._names = ckpt.known_names()
        return self._names

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    @property
    def variables(self) -> list[str]:
        return list(self.stats)

    def to_pandas(self) -> pandas.DataFrame:
        """Long form: one row per (step, variable), histograms left out (see ``histogram``)."""
        import pandas

        cols = ["step", "checkpoint", "timestamp", "variable", "size", "norm", "mean", "std", "min", "max",
                "nan", "inf", "relative_change"]  # fmt: skip
        rows = []
        for key, per_step in self.stats.items():
            for s, st in zip(self.steps, per_step):
                if st is not None:
                    rows.append((s.step, os.path.basename(s.prefix), s.timestamp, key, st.size, st.norm, st.mean,
                                 st.std, st.min, st.max, st.nan, st.inf, st.relative_change))  # fmt: skip
        return pandas.DataFrame(rows, columns=cols)

    def matrix(self, metric: str = "relative_change") -> pandas.DataFrame:
        """Variables × steps of one metric (NaN where missing): the heatmap's data."""
        import pandas

        data = [
            [
                getattr(st, metric) if st is not None and getattr(st, metric) is not None else np.nan
                for st in per
            ]
            for per in self.stats.values()
        ]
        return pandas.DataFrame(
            data, index=list(self.stats), columns=[s.step for s in self.steps], dtype=float
        )

    def histogram(self, key: str) -> tuple[list[int], np.ndarray, np.ndarray]:
        """``(steps, edges, counts[step, bin])`` of one variable (rows of missing steps are zero)."""
        if key not in self.stats:
            from ..errors import KeyNotFoundError

            raise KeyNotFoundError(key, self.stats, what="variable")
        edges = np.asarray(self.edges[key])
        counts = np.zeros((len(self.steps), len(edges) - 1), np.int64)
        for i, st in enumerate(self.stats[key]):
            if st is not None:
                counts[i] = st.counts
        return [s.step for s in self.steps], edges, counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: steps, per-variable series (NaN/Inf as None), edges and counts."""
        from .diff.result import _json

        return {
            "steps": [vars(s) for s in self.steps],
            "variables": {
                key: {
                    "edges": self.edges.get(key),
                    "series": [
                        {k: _json(v) for k, v in st.to_dict().items()} if st is not None else None
                        for st in per
                    ],
                }
                for key, per in self.stats.items()
            },
            # credentials and a Dask client stay here
            "options": {k: v for k, v in self.options.items() if k not in ("storage_options", "client")},
            "names": {k: self.names[k] for k in self.stats if k in self.names},
        }

    def compared(self) -> Timeline:
        """``self`` when it has something to show: two checkpoints or more and a variable; else an
        ``InvalidArgumentError`` (``NothingMatchedError`` for ``variables``) saying what to pass."""
        source = os.fspath(self.source) if isinstance(self.source, (str, os.PathLike)) else None
        if len(self.steps) < 2:
            one = storage.basename(self.steps[0].prefix) if self.steps else "none"
            if source is None:
                what = f"one checkpoint was given ({one})"
            else:
                what = (
                    f"{source!r} holds one ({one})"
                    if storage.isdir(source)
                    else f"{source!r} is one checkpoint"
                )
            raise InvalidArgumentError(
                f"a timeline compares checkpoints and {what}: pass a CheckpointManager directory "
                "holding two or more, or several checkpoint paths in order"
            )
        if not self.stats:
            where = repr(source) if source is not None else "these checkpoints"
            variables = self.options.get("variables")
            if variables:
                raise NothingMatchedError(f"no numeric variable of {where} matches {variables!r}")
            raise InvalidArgumentError(f"{where} holds no numeric variable to follow")
        return self

    def refresh(self, **overrides: Any) -> Timeline:
        """The timeline again, reading only checkpoints saved (or rewritten) since."""
        return timeline(self.source, **{**self.options, **overrides}, previous=self)

    def __repr__(self) -> str:
        span = f"steps {self.steps[0].step}…{self.steps[-1].step}" if self.steps else "empty"
        read = sum(not s.cached for s in self.steps)
        same = sum(s.unchanged for s in self.steps)
        carried = f", {same} tensors unchanged" if same else ""  # their statistics carried over, not re-read
        return (
            f"<ckptviz.Timeline {len(self.steps)} checkpoints ({span}, {read} read{carried}), "
            f"{len(self.stats)} variables>"
        )


def timeline(
    run: Any,
    *,
    variables: str | Sequence[str] | None = None,
    bins: int = 30,
    cache: bool | str = False,
    verify: bool = True,
    workers: int | None = None,
    progress: bool | Progress | None = None,
    storage_options: dict[str, Any] | None = None,
    client: Any = None,
    previous: Timeline | None = None,
) -> Timeline:
    """Statistics of every numeric variable at every checkpoint of a run.

    ``run``: a ``CheckpointManager`` directory, or a list of paths or open ``Checkpoint``s in order
    (those are read as they are, never re-opened or closed, and their results are not cached). ``variables``: a regex
    searched in keys, or a list of keys (default: every numeric key). ``bins``: histogram bins per
    variable, fixed across the run. ``cache``: also keep results in ``CACHE_FILE`` beside the run
    (``True``; a remote run keeps it in memory only) or at a given local path. ``progress``: a tqdm
    bar (True), or ``(done, total)`` callback. ``storage_options``: for a run on a remote store.
    ``client``: a Dask client (or True for the current one) computes every tensor of every
    checkpoint as a task reading its own byte range (``ckptviz[dask]``; no cache).
    ``previous``: an earlier timeline whose results are reused (``Timeline.refresh`` passes it).
    """
    options = dict(storage_options or {})
    with storage.using(options):
        paths, stamps, directory = run_prefixes(run)
    dask_client = resolve_client(client)
    if dask_client is not None:
        if cache:
            raise InvalidArgumentError("timeline(client=...) keeps no cache; pass cache=False")
        steps_, stats_, edges_ = run_timeline(
            dask_client, paths, stamps, _selector(variables), bins, verify, options
        )
        settings_: dict[str, Any] = {"variables": variables, "bins": bins, "verify": verify, "client": client}
        if options:
            settings_["storage_options"] = options
        return Timeline(run, steps_, stats_, edges_, settings_, names_from=paths[-1] if paths else None)
    cache_path = _cache_path(directory, cache)
    disk = _load(cache_path) if isinstance(cache_path, str) else {}
    memory = previous.records if previous is not None else {}
    records: dict[str, dict[str, Any]] = {}  # this run's: what the next refresh may reuse
    report = reporter(progress, len(paths), desc="timeline", unit="ckpt")
    steps: list[Step] = []
    stats: dict[str, list[StepStats | None]] = {}
    edges: dict[str, list[float]] = {}
    last: Checkpoint | None = None  # the checkpoint read just before, still open for the next delta
    held: Held = {}  # and the values read from it, so none is read twice
    done_with: list[Checkpoint] = []  # closed (unmapped) while the next checkpoint's work runs
    prev_sig: str | None = ""
    given = {id(p) for p in paths if isinstance(p, Checkpoint)}  # the caller's, never closed here
    select = _selector(variables)
    n_workers = workers or min(4, os.cpu_count() or 1)
    for i, (prefix, stamp) in enumerate(zip(paths, stamps)):
        sig = (prefix.signature or "") if isinstance(prefix, Checkpoint) else signature(prefix)
        key = f"{sig}#{prev_sig}#{bins}#{variables!r}"  # a record holds the variables it was asked for
        record = (memory.get(key) or disk.get(key)) if sig and prev_sig is not None else None
        if record is not None and all(edges.get(k, e) == e for k, e in record["edges"].items()):
            shown = prefix.path if isinstance(prefix, Checkpoint) else prefix
            step = Step(shown, **record["step"], timestamp=stamp, cached=True)
            per = {k: StepStats(**v.to_dict()) for k, v in record["stats"].items()}  # the caller's own
            for k, e in record["edges"].items():
                edges.setdefault(k, e)
            if last is not None:
                done_with.append(last)
                last, held = None, {}
        else:
            ckpt = _open(prefix, verify, options)
            before = last if last is not None else _open(paths[i - 1], False, options) if i else None
            earlier = {k: v[-1] for k, v in stats.items() if v and v[-1] is not None} if i else {}
            meanwhile = partial(_close_all, done_with, given)
            step, per, held = read_step(
                ckpt, before, held, i, select, bins, edges, n_workers, earlier, meanwhile
            )
            step.timestamp = stamp
            if before is not None:
                done_with.append(before)
            last = ckpt
            record = {
                "step": {
                    k: getattr(step, k)
                    for k in ("step", "global_step", "save_counter", "number", "unchanged")
                },
                "stats": dict(per),  # as they are: JSON only when the cache file is written
                "edges": {k: edges[k] for k in per},
            }
            if sig:
                disk[key] = record
        if sig:
            records[key] = record  # what the next refresh may reuse
        for k, st in per.items():
            stats.setdefault(k, [None] * i).append(st)
        for per_step in stats.values():
            if len(per_step) == i:
                per_step.append(None)
        steps.append(step)
        prev_sig = sig or None
        report(i + 1, len(paths))
    if last is not None:
        done_with.append(last)
    _close_all(done_with, given)
    report(-1, len(paths))
    if isinstance(cache_path, str):
        _save(cache_path, disk, {signature(p) for p in paths if not isinstance(p, Checkpoint)})
    settings: dict[str, Any] = {
        "variables": variables,
        "bins": bins,
        "cache": cache,
        "verify": verify,
        "workers": workers,
    }
    if options:
        settings["storage_options"] = options
    return Timeline(run, steps, stats, edges, settings, records, paths[-1] if paths else None)


def _open(item: Any, verify: bool, options: dict[str, Any]) -> Checkpoint:
    return (
        item
        if isinstance(item, Checkpoint)
        else open_checkpoint(item, verify=verify, storage_options=options)
    )


def _close_all(done_with: list[Checkpoint], given: set[int]) -> None:
    """Close what this run opened and is done with, never a checkpoint the caller passed in."""
    while done_with:
        ckpt = done_with.pop()
        if id(ckpt) not in given:
            ckpt.close()


def _cache_path(directory: str | None, cache: bool | str) -> str | None:
    """Where results persist: beside a local run (``True``), at a given local path, or nowhere."""
    if cache is True and directory and storage.is_remote(directory):
        import warnings

        from ..errors import CheckpointWarning

        warnings.warn(
            f"timeline: no cache file is written beside the remote run {storage.redact(directory)}; results "
            "are kept in memory for this session (pass cache='local/path.json' to keep them on disk)",
            CheckpointWarning,
            stacklevel=3,
        )
        return None
    if isinstance(cache, str) and storage.is_remote(cache):
        from ..errors import InvalidArgumentError as Invalid

        raise Invalid(f"cache must be a local file path, not {storage.redact(cache)}")
    if cache is True:
        return os.path.join(directory, CACHE_FILE) if directory else None
    return cache or None


def _selector(variables: str | Sequence[str] | None) -> Callable[[str], bool]:
    if variables is None:
        return lambda key: True
    if isinstance(variables, str):
        pattern = re.compile(variables)
        return lambda key: pattern.search(key) is not None
    wanted = set(variables)
    return wanted.__contains__


def _load(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return {}  # another version's cache: recompute, then overwrite it
    records = dict(data["records"])
    for record in records.values():
        record["stats"] = {k: StepStats(**v) for k, v in record["stats"].items()}
    return records


def _save(path: str, records: dict[str, Any], live: set[str]) -> None:
    """Records of checkpoints still in the run only: the file stays the size of the run."""
    kept = {
        k: {**v, "stats": {name: st.to_dict() for name, st in v["stats"].items()}}
        for k, v in records.items()
        if k.split("#", 1)[0] in live
    }
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump({"version": _VERSION, "records": kept}, f, separators=(",", ":"), allow_nan=True)
    os.replace(tmp, path)
