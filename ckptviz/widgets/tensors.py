"""``TensorsView``: every key in a sortable, filterable table, paged from Python (the browser
holds one window of rows), and the tensor panel for the selected key."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import traitlets

from ..model.checkpoint import human_size
from .base import esm, shown
from .panel import TensorPanel

MODES = ("substring", "glob", "regex")
COLUMNS = ("key", "name", "dtype", "shape", "size")
_SORT = {
    "key": lambda r: r[0],
    "name": lambda r: (r[1], r[0]),
    "dtype": lambda r: (r[2], r[0]),
    "shape": lambda r: (len(r[3]), r[3], r[0]),
    "size": lambda r: (r[4], r[0]),
}


def matcher(text: str, mode: str) -> Any:
    """A predicate on strings for ``text`` in ``mode`` (substring and glob ignore case)."""
    if mode == "substring":
        needle = text.lower()
        return lambda s: needle in s.lower()
    if mode == "glob":
        pattern = re.compile(fnmatch.translate(text), re.IGNORECASE)
        return lambda s: pattern.fullmatch(s) is not None
    if mode == "regex":
        try:
            pattern = re.compile(text)
        except re.error as e:
            raise ValueError(f"bad regular expression {text!r}: {e}") from None
        return lambda s: pattern.search(s) is not None
    raise ValueError(f"unknown filter mode {mode!r}; expected one of {', '.join(MODES)}")


class TensorsView(TensorPanel):
    """``filter``/``mode`` choose rows (by key or object path), ``sort``/``descending`` order them;
    ``offset``/``limit`` is the window in ``rows`` (``[key, name, dtype, shape, bytes, size]``);
    ``matched`` rows of ``total`` pass the filter. Setting ``key`` (a click) opens the panel."""

    _esm = traitlets.Unicode(esm("tensors.js")).tag(sync=True)

    filter = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Unicode("substring").tag(sync=True)
    sort = traitlets.Unicode("key").tag(sync=True)
    descending = traitlets.Bool(False).tag(sync=True)
    offset = traitlets.Int(0).tag(sync=True)
    limit = traitlets.Int(100).tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    matched = traitlets.Int(0).tag(sync=True)
    picked = traitlets.List(traitlets.Unicode()).tag(sync=True)  # keys' object paths for a restore

    ACTIONS = ("cancel", "pick")

    def __init__(self, source: Any, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self._order: list[Any] = []
        self.total = len(self.source.rows)
        self._refilter()

    @traitlets.observe("filter", "mode", "sort", "descending")
    def _query_changed(self, change: Any) -> None:
        self._refilter()

    @traitlets.observe("offset", "limit")
    def _window_changed(self, change: Any) -> None:
        self._page()

    @shown
    def _refilter(self) -> None:
        self.error = self.status = ""
        if self.sort not in _SORT:
            raise ValueError(f"cannot sort by {self.sort!r}; columns: {', '.join(COLUMNS)}")
        rows = self.source.rows
        if self.filter:
            ok = matcher(self.filter, self.mode)
            rows = [r for r in rows if ok(r[0]) or (r[1] != r[0] and ok(r[1])) or (r[5] and ok(r[5]))]
        self._order = sorted(rows, key=_SORT[self.sort], reverse=self.descending)
        self.matched = len(self._order)
        if self.filter and not self._order:
            self.status = f"no key or object path matches {self.filter!r} ({self.mode})"
        if self.offset:
            self.offset = 0  # observed: pages
        else:
            self._page()

    def _page(self) -> None:
        window = self._order[self.offset : self.offset + self.limit]
        self.rows = [[r[0], r[1], r[2], list(r[3]), r[4], human_size(r[4])] for r in window]

    def refresh(self) -> None:
        """Rows again (names and object paths arrive once the object graph is built)."""
        self._refilter()

    def pick(self, key: str) -> None:
        """Add ``key``'s object (its path; the key itself when it has none) to ``picked``."""
        path = self.source.entry(key)["path"] or key
        if path not in self.picked:
            self.picked = [*self.picked, path]
