"""The numbers of many diff rows as columns: one array per ``Delta`` field, one entry per row.

A diff of 50 000 small tensors computes its numbers as arrays (``compare.flat_metrics``) and keeps
them so: a ``Delta`` is made only for a row somebody looks at. A float field that a ``Delta``
leaves None (no finite position, zero norms) is False in that field's ``present`` mask, so a NaN
or Inf that was computed stays a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from .compare import Delta

FLOATS = (
    "max_abs_diff", "mean_abs_diff", "rms_diff", "relative_change", "cosine", "norm_a", "norm_b",
    "norm_diff", "rank",
)  # fmt: skip
COUNTS = ("elements", "changed", "nan_a", "nan_b", "inf_a", "inf_b")
STATUSES = ("added", "removed", "changed", "unchanged")  # a row's status: its index in the table


class Metrics:
    """``Delta`` fields of ``n`` rows; ``has[i]``: row ``i`` has numbers (dtype and shape agree)."""

    def __init__(self, n: int) -> None:
        self.has = np.zeros(n, bool)
        self.counts = {name: np.zeros(n, np.int64) for name in COUNTS}
        self.floats = {name: np.zeros(n, np.float64) for name in FLOATS}
        self.present = {name: np.zeros(n, bool) for name in FLOATS}

    def __len__(self) -> int:
        return len(self.has)

    @classmethod
    def of(cls, counts: dict[str, np.ndarray], floats: dict[str, tuple[np.ndarray, np.ndarray]]) -> Metrics:
        """Rows that all have numbers: count columns, and (values, present) per float column
        (fields not given stay 0 / None)."""
        out = cls(len(counts["elements"]))
        out.has[:] = True
        for name, values in counts.items():
            out.counts[name][:] = values
        for name, (values, present) in floats.items():
            out.floats[name][:] = values
            out.present[name][:] = present
        return out

    @classmethod
    def of_deltas(cls, deltas: Sequence[Delta]) -> Metrics:
        out = cls(len(deltas))
        for i, d in enumerate(deltas):
            out.set(i, d)
        return out

    def set(self, i: int, delta: Delta) -> None:
        """Row ``i``'s numbers from one ``Delta`` (big tensors, strings: one row at a time)."""
        self.has[i] = True
        for name, counts in self.counts.items():
            counts[i] = getattr(delta, name)
        for name, floats in self.floats.items():
            value = getattr(delta, name)
            self.present[name][i] = value is not None
            floats[i] = value if value is not None else 0.0

    def put(self, rows: np.ndarray, other: Metrics) -> None:
        """Rows ``rows`` (increasing) of this table are ``other``'s rows, in order."""
        where: np.ndarray | slice = rows
        if len(rows) and int(rows[-1]) - int(rows[0]) + 1 == len(rows):  # a run: slices copy faster
            where = slice(int(rows[0]), int(rows[-1]) + 1)
        self._put(where, other)

    def _put(self, rows: np.ndarray | slice, other: Metrics) -> None:
        self.has[rows] = other.has
        for name, counts in self.counts.items():
            counts[rows] = other.counts[name]
        for name, floats in self.floats.items():
            floats[rows] = other.floats[name]
            self.present[name][rows] = other.present[name]

    def values(self, name: str) -> list[Any]:
        """One field of every row as plain Python numbers (None where a row has no value)."""
        if name in self.counts:
            return [v if h else None for v, h in zip(self.counts[name].tolist(), self.has.tolist())]
        present = self.present[name] & self.has
        return [v if p else None for v, p in zip(self.floats[name].tolist(), present.tolist())]

    def delta(self, i: int) -> Delta | None:
        if not self.has[i]:
            return None
        fields: dict[str, Any] = {name: int(column[i]) for name, column in self.counts.items()}
        for name, column in self.floats.items():
            fields[name] = float(column[i]) if self.present[name][i] else None
        return Delta(**fields)

    def deltas(self) -> list[Delta | None]:
        """Every row's ``Delta`` (None where it has none), built column by column."""
        columns = zip(*(self.values(name) for name in _FIELDS))
        return [Delta(*row) if h else None for row, h in zip(columns, self.has.tolist())]


_FIELDS = [f.name for f in fields(Delta)]  # positional order of Delta's fields (all of COUNTS and FLOATS)


class Table:
    """A diff's rows as columns, in key order: each side's key and entry (None where the key is
    on the other side only), status, elements, bytes, numbers; ``Row`` objects on demand."""

    def __init__(
        self,
        keys_a: list[str | None],
        keys_b: list[str | None],
        entries_a: list[Any],
        entries_b: list[Any],
        status: np.ndarray,
        elements: np.ndarray,
        nbytes: np.ndarray,
        metrics: Metrics,
        fast: np.ndarray,
        reasons: dict[int, str],
    ) -> None:
        self.keys_a, self.keys_b, self.entries_a, self.entries_b = keys_a, keys_b, entries_a, entries_b
        self.status, self.elements, self.nbytes, self.metrics = status, elements, nbytes, metrics
        self.fast, self.reasons = fast, reasons

    def __len__(self) -> int:
        return len(self.keys_a)

    def take(self, order: list[int]) -> Table:
        """The rows in another order (``reasons`` follow their rows)."""
        at = np.array(order, np.int64)
        metrics = _taken(self.metrics, at)
        where = {old: new for new, old in enumerate(order)} if self.reasons else {}
        return Table(
            [self.keys_a[i] for i in order], [self.keys_b[i] for i in order],
            [self.entries_a[i] for i in order], [self.entries_b[i] for i in order],
            self.status[at], self.elements[at], self.nbytes[at], metrics, self.fast[at],
            {where[i]: why for i, why in self.reasons.items()},
        )  # fmt: skip

    @property
    def keys(self) -> list[str]:
        """Each row's key: ``a``'s, else ``b``'s."""
        return [ka if ka is not None else kb for ka, kb in zip(self.keys_a, self.keys_b)]  # type: ignore[misc]


def _taken(m: Metrics, at: np.ndarray) -> Metrics:
    out = Metrics(len(at))
    out.has = m.has[at]
    out.counts = {name: column[at] for name, column in m.counts.items()}
    out.floats = {name: column[at] for name, column in m.floats.items()}
    out.present = {name: column[at] for name, column in m.present.items()}
    return out
