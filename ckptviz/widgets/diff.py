"""``DiffView``: what changed from a second checkpoint to this one (``ckptviz.diff(other, this)``,
run on a worker thread with progress and Cancel): the table filterable by status and sortable by
size of change, the roll-up by subtree, per-key statistics side by side with a histogram of the
deltas, and the statuses that colour the Graph view (mode ``diff``)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import traitlets

from ..model.checkpoint import human_size
from ..model.stats import tensor_stats
from .base import Task, View, esm, shown
from .source import Source

STATUSES = ("all", "changed", "added", "removed", "unchanged")
_SORT = {
    "change": lambda r: (-(r["relative_change"] or 0.0), -(r["max_abs_diff"] or 0.0), r["key"]),
    "size": lambda r: (-r["nbytes"], r["key"]),
    "key": lambda r: r["key"],
}
ROLLUPS = 60
DELTA_ELEMENTS = 1 << 24  # the delta histogram of bigger tensors is not computed on a click


def run_diff(other: Any, this: Any, task: Task) -> Any:
    """The model layer's diff; its byte progress drives the widget's bar (and Cancel stops it)."""
    from ..model.diff import diff

    return diff(
        other, this, progress=task.reporter(lambda d, t: f"comparing: {human_size(d)} of {human_size(t)}")
    )


class DiffView(View):
    """``other`` is the checkpoint compared against (a path); ``compare()`` starts the diff."""

    _esm = traitlets.Unicode(esm("diff.js")).tag(sync=True)

    other = traitlets.Unicode("").tag(sync=True)
    counts = traitlets.Dict().tag(sync=True)
    show = traitlets.Unicode("changed").tag(sync=True)
    sort = traitlets.Unicode("change").tag(sync=True)
    offset = traitlets.Int(0).tag(sync=True)
    limit = traitlets.Int(100).tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    matched = traitlets.Int(0).tag(sync=True)
    rollups: traitlets.List[Any] = traitlets.List().tag(sync=True)
    key = traitlets.Unicode("").tag(sync=True)
    detail = traitlets.Dict().tag(sync=True)

    ACTIONS = ("cancel", "compare")

    def __init__(self, source: Any, other: str | os.PathLike[str] | None = None, **kwargs: Any) -> None:
        self.source = Source.of(source)
        self.result: Any = None
        self._records: list[dict[str, Any]] = []
        self._order: list[dict[str, Any]] = []
        self._listeners: list[Any] = []
        super().__init__(**kwargs)
        if other is not None:
            self.other = os.fspath(other)
            self.compare()

    def on_result(self, callback: Any) -> None:
        """``callback(result)`` after each finished diff (the Explorer colours its graph)."""
        self._listeners.append(callback)

    @shown
    def compare(self, other: str | None = None) -> None:
        if other is not None:
            self.other = other
        if not self.other.strip():
            raise ValueError("type the path of a checkpoint to compare with")
        from ..model.checkpoint import open as open_checkpoint

        theirs = open_checkpoint(self.other.strip())  # a bad path is reported now, not on the worker
        self.start("diff", lambda task: run_diff(theirs, self.source.checkpoint, task), self._finished)

    def _finished(self, result: Any) -> None:
        self.result = result
        record = result.to_dict()
        self.counts = record["counts"]
        self._records = record["rows"]
        ranked = sorted(
            record["rollups"], key=lambda r: (r["status"] == "unchanged", -(r["relative_change"] or 0.0))
        )
        self.rollups = [r for r in ranked if r["path"]][:ROLLUPS]
        self._refilter()
        for callback in self._listeners:
            callback(result)

    @traitlets.observe("show", "sort")
    def _query_changed(self, change: Any) -> None:
        self._refilter()

    @traitlets.observe("offset", "limit")
    def _window_changed(self, change: Any) -> None:
        self._page()

    @shown
    def _refilter(self) -> None:
        if self.show not in STATUSES:
            raise ValueError(f"unknown status {self.show!r}; choose one of {', '.join(STATUSES)}")
        if self.sort not in _SORT:
            raise ValueError(f"cannot sort by {self.sort!r}; choose one of {', '.join(_SORT)}")
        rows = [r for r in self._records if self.show == "all" or r["status"] == self.show]
        self._order = sorted(rows, key=_SORT[self.sort])
        self.matched = len(self._order)
        self.status = f"no {self.show} keys" if self.result is not None and not rows else ""
        if self.offset:
            self.offset = 0
        else:
            self._page()

    def _page(self) -> None:
        cols = (
            "key",
            "status",
            "dtype_a",
            "dtype_b",
            "shape_a",
            "shape_b",
            "max_abs_diff",
            "relative_change",
            "fraction_changed",
            "name",
        )
        self.rows = [[r[c] for c in cols] for r in self._order[self.offset : self.offset + self.limit]]

    @traitlets.observe("key")
    def _key_changed(self, change: Any) -> None:
        self._show_detail()

    @shown
    def _show_detail(self) -> None:
        row = next((r for r in self._records if r["key"] == self.key), None)
        if row is None:
            self.detail = {}
            return
        out: dict[str, Any] = {"row": row}
        a = b = None
        if row["key_a"] is not None:
            a = self.result.a.read(row["key_a"])
            out["a"] = _stats(a)
        if row["key_b"] is not None:
            b = self.result.b.read(row["key_b"])
            out["b"] = _stats(b)
        if (
            a is not None
            and b is not None
            and a.shape == b.shape
            and out.get("a")
            and out.get("b")
            and a.size <= DELTA_ELEMENTS
        ):
            out["delta"] = _stats(np.subtract(b, a, dtype=np.float64))
        self.detail = out


def _stats(value: np.ndarray) -> dict[str, Any] | None:
    stats = tensor_stats(value, 30)
    return stats.to_dict() if stats is not None else None
