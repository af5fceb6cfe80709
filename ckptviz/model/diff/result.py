"""The result of a diff, held as columns: rows, roll-ups by subtree and the faces' views, made on demand."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .columns import STATUSES
from .compare import Delta
from .rollup import Rollup

if TYPE_CHECKING:
    import pandas

    from ..checkpoint import Checkpoint
    from .columns import Table
    from .graph import DiffGraph

_METRICS = (
    "max_abs_diff",
    "mean_abs_diff",
    "rms_diff",
    "relative_change",
    "cosine",
    "changed",
    "norm_a",
    "norm_b",
    "nan_a",
    "nan_b",
    "inf_a",
    "inf_b",
    "rank",
)
# ``ranked``'s order of statuses: keys added or removed first, then changed, then unchanged
_RANK = np.array([{"added": 0, "removed": 0, "changed": 1, "unchanged": 2}[s] for s in STATUSES])


class KnownNames:
    """The names people know the keys of two checkpoints by (``velocity of net/l1/kernel``), worked
    out on first use: a diff needs none of them; a face showing some rows asks for those keys' names
    (``of``: one walk per key), a whole listing for every key's (``column``: each side's made at
    once). The name of ``b``'s key wins, then ``a``'s; the key itself where neither has one."""

    def __init__(self, a: Checkpoint, b: Checkpoint) -> None:
        self._sides = (a, b)
        self._all: tuple[dict[str, str], dict[str, str]] | None = None
        self._some: tuple[dict[str, str], dict[str, str]] = ({}, {})

    def of(self, key_a: str | None, key_b: str | None) -> str:
        if self._all is not None:
            names_a, names_b = self._all
            found = (key_b is not None and names_b.get(key_b)) or (key_a is not None and names_a.get(key_a))
        else:
            found = self._one(1, key_b) or self._one(0, key_a)
        return found or (key_a if key_a is not None else key_b or "")

    def _one(self, side: int, key: str | None) -> str:
        if key is None:
            return ""
        some = self._some[side]
        if key not in some:
            some[key] = self._sides[side].known_name(key)
        return some[key]

    def column(self, keys_a: list[str | None], keys_b: list[str | None]) -> list[str]:
        """``of`` of every ``(keys_a[i], keys_b[i])``, each side's names made at once."""
        if self._all is None:
            a, b = self._sides
            self._all = (a.known_names(), b.known_names())
        names_a, names_b = self._all
        get_a, get_b = names_a.get, names_b.get
        return [
            (kb is not None and get_b(kb))
            or (ka is not None and get_a(ka))
            or (ka if ka is not None else kb or "")
            for ka, kb in zip(keys_a, keys_b)
        ]


@dataclass
class Row:
    """One key (or pair of keys). ``delta`` holds the numbers when dtype and shape agree."""

    key_a: str | None
    key_b: str | None
    status: str
    dtype_a: str | None = None
    dtype_b: str | None = None
    shape_a: tuple[int, ...] | None = None
    shape_b: tuple[int, ...] | None = None
    elements: int = 0
    nbytes: int = 0
    delta: Delta | None = None
    fast: bool = False  # decided equal from the stored CRC32Cs, not the bytes (``fast=True``)
    reason: str = ""  # why a key has no partner
    known: KnownNames | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The name people know it by (``velocity of net/l1/kernel``); the key where there is none."""
        return self.known.of(self.key_a, self.key_b) if self.known is not None else self.key

    @property
    def key(self) -> str:
        return self.key_a if self.key_a is not None else self.key_b  # type: ignore[return-value]

    @property
    def dtype_changed(self) -> bool:
        return None not in (self.dtype_a, self.dtype_b) and self.dtype_a != self.dtype_b

    @property
    def shape_changed(self) -> bool:
        return None not in (self.shape_a, self.shape_b) and self.shape_a != self.shape_b

    @property
    def fraction_changed(self) -> float | None:
        if self.delta is None or not self.elements:
            return None
        return self.delta.changed / self.elements

    @property
    def nonfinite(self) -> str:
        """``appeared`` / ``disappeared`` when NaN or Inf counts go from zero to some or back."""
        d = self.delta
        if d is None:
            return ""
        before, after = d.nan_a + d.inf_a, d.nan_b + d.inf_b
        return "appeared" if after and not before else "disappeared" if before and not after else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "key_a": self.key_a,
            "key_b": self.key_b,
            "status": self.status,
            "dtype_changed": self.dtype_changed,
            "shape_changed": self.shape_changed,
            "dtype_a": self.dtype_a,
            "dtype_b": self.dtype_b,
            "shape_a": list(self.shape_a) if self.shape_a is not None else None,
            "shape_b": list(self.shape_b) if self.shape_b is not None else None,
            "elements": self.elements,
            "nbytes": self.nbytes,
            "fraction_changed": _json(self.fraction_changed),
            "nonfinite": self.nonfinite,
            "fast": self.fast,
            "reason": self.reason,
        }
        delta = asdict(self.delta) if self.delta is not None else {}
        out.update({m: _json(delta.get(m)) for m in _METRICS})
        return out


def _finite_or_none(values: np.ndarray, present: np.ndarray) -> list[Any]:
    """``_json`` of a column: its numbers where present and finite, None elsewhere."""
    out = values.astype(object)
    out[~(present & np.isfinite(values))] = None
    return out.tolist()  # type: ignore[no-any-return]


def _json(x: Any) -> Any:
    """Plain Python numbers; NaN and Inf as None (JSON has neither)."""
    if x is None:
        return None
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def shown_value(dtype: str | None, shape: tuple[int, ...] | None) -> str:
    """``float32[3,4]``, or ``-`` where a side has none."""
    return f"{dtype}[{','.join(map(str, shape or ()))}]" if dtype is not None else "-"


class DiffResult:
    """What ``ckptviz.diff(a, b)`` found; ``rows`` in key order, ``rollups`` root first.

    Held as columns (``columns.Table``): ``rows`` and ``result[key]`` make ``Row`` objects when
    first asked for, and the roll-ups are summed on first use, so a diff of 50 000 keys costs no
    50 000 Python objects until something shows them."""

    def __init__(
        self, a: Checkpoint, b: Checkpoint, table: Table, options: dict[str, Any], known: KnownNames
    ) -> None:
        self.a, self.b, self.table, self.options, self.known = a, b, table, options, known
        self._rows: list[Row] | None = None
        self._made: dict[int, Row] = {}
        self._index: dict[str, int] | None = None
        self._rollups: list[Rollup] | None = None

    # -- rows -------------------------------------------------------------------------------------

    def _row(self, i: int) -> Row:
        row = self._made.get(i)
        if row is None:
            row = self._made[i] = self._new_row(i, self.table.metrics.delta(i))
        return row

    def _new_row(self, i: int, delta: Delta | None) -> Row:
        t = self.table
        x, y = t.entries_a[i], t.entries_b[i]
        return Row(
            t.keys_a[i], t.keys_b[i], STATUSES[t.status[i]],
            x.dtype.name if x is not None else None, y.dtype.name if y is not None else None,
            x.shape if x is not None else None, y.shape if y is not None else None,
            int(t.elements[i]), int(t.nbytes[i]), delta, bool(t.fast[i]), t.reasons.get(i, ""), self.known,
        )  # fmt: skip

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            made = self._made  # a row already shown stays the same object
            deltas = self.table.metrics.deltas()  # built column by column, not one by one
            self._rows = [
                r if (r := made.get(i)) is not None else self._new_row(i, d) for i, d in enumerate(deltas)
            ]
            self._made = dict(enumerate(self._rows))
        return self._rows

    def ranked(self, statuses: Collection[str] = (), limit: int | None = None) -> list[Row]:
        """Rows most changed first: keys added or removed, then changed ones by relative change
        (largest first; none counts as 0), then unchanged ones; ties in key order. ``statuses``
        keeps only those. Sorted as columns: only the rows returned become ``Row`` objects."""
        t, m = self.table, self.table.metrics
        change = np.where(m.present["relative_change"] & m.has, m.floats["relative_change"], 0.0)
        order = np.lexsort((-change, _RANK[t.status]))  # stable: ties stay in key order
        if statuses:
            order = order[np.isin(t.status[order], [STATUSES.index(s) for s in statuses])]
        return [self._row(i) for i in order[:limit].tolist()]

    @property
    def rollups(self) -> list[Rollup]:
        if self._rollups is None:
            from .rollup import rollup

            options = self.options
            self._rollups = rollup(self.table, self.a, self.b, options["explode"], options["max_norm"])
        return self._rollups

    # -- counts -----------------------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        c = np.bincount(self.table.status, minlength=len(STATUSES)).tolist()
        return dict(zip(STATUSES, c))

    @property
    def equal(self) -> bool:
        """No key added, removed or changed (``diff``'s exit status 0)."""
        c = self.counts
        return c["added"] == c["removed"] == c["changed"] == 0

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, key: str) -> Row:
        """The row of a key of ``a`` or, failing that, of ``b``."""
        if self._index is None:
            t, index = self.table, {}
            for i in range(len(t) - 1, -1, -1):  # the first row naming a key wins
                for k in (t.keys_b[i], t.keys_a[i]):
                    if k is not None:
                        index[k] = i
            self._index = index
        at = self._index.get(key)
        if at is None:
            from ...errors import KeyNotFoundError

            raise KeyNotFoundError(key, self._index)
        return self._row(at)

    def frozen(self) -> list[Rollup]:
        """Subtrees with parameters where nothing moved (leaves of the frozen part: topmost first)."""
        return [r for r in self.rollups if r.frozen]

    def exploded(self) -> list[Rollup]:
        return [r for r in self.rollups if r.exploded]

    # -- views ------------------------------------------------------------------------------------

    def summary(self) -> str:
        c, t = self.counts, self.table
        has = t.metrics.has
        changed_params = int(t.metrics.counts["changed"][has].sum())
        compared = int(t.elements[has].sum())
        lines = [
            f"a: {self.a.path}",
            f"b: {self.b.path}",
            f"{len(t)} keys: {c['changed']} changed, {c['added']} added, {c['removed']} removed, "
            f"{c['unchanged']} unchanged",
        ]
        if compared:
            lines.append(
                f"{changed_params} of {compared} compared elements changed ({changed_params / compared:.2%})"
            )
        root = self.rollups[0] if self.rollups and self.rollups[0].path == "" else None
        if root is not None and root.relative_change is not None:
            lines.append(f"relative change of everything compared: {root.relative_change:.4g}")
        top = _topmost([r for r in self.rollups if r.frozen and r.path])
        if top:
            lines.append(f"frozen: {', '.join(r.path for r in top[:8])}{' …' if len(top) > 8 else ''}")
        boom = [r.path or "(root)" for r in self.rollups if r.exploded]
        if boom:
            lines.append(f"exploded: {', '.join(boom[:8])}{' …' if len(boom) > 8 else ''}")
        return "\n".join(lines)

    def tree(self, only: str | None = None, limit: int | None = None) -> str:
        """Changed leaves as ``path:`` / ``- a:`` / ``+ b:`` lines (orbax's ``tree_difference``)."""
        out: list[str] = []
        status = self.table.status
        wanted = status != STATUSES.index("unchanged")
        if only is not None:
            wanted &= status == (STATUSES.index(only) if only in STATUSES else -1)
        chosen = np.flatnonzero(wanted).tolist()
        for r in map(self._row, chosen[:limit]):
            out.append(f"{r.key}:")
            if r.key_a is not None:
                extra = f" norm {r.delta.norm_a:.6g}" if r.delta and r.delta.norm_a is not None else ""
                out.append(f"  - a: {shown_value(r.dtype_a, r.shape_a)}{extra}")
            if r.key_b is not None:
                rename = f" (as {r.key_b})" if r.key_a is not None and r.key_a != r.key_b else ""
                out.append(f"  + b: {shown_value(r.dtype_b, r.shape_b)}{_numbers(r)}{rename}")
            if r.reason:
                out.append(f"    ({r.reason})")
        if limit is not None and len(chosen) > limit:
            out.append(f"… {len(chosen) - limit} more")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.summary() + ("\n\n" + self.tree(limit=50) if not self.equal else "")

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"<ckptviz.DiffResult {len(self.table)} keys: {c['changed']} changed, {c['added']} added, "
            f"{c['removed']} removed, {c['unchanged']} unchanged>"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready records for the faces: rows, roll-ups, summary counts and the options used."""
        return {
            "a": self.a.path,
            "b": self.b.path,
            "equal": self.equal,
            "counts": self.counts,
            "options": dict(self.options),
            "rows": self.records(),
            "rollups": [r.to_json() for r in self.rollups],
        }

    def records(self) -> list[dict[str, Any]]:
        """``[row.to_dict() for row in rows]``, built column by column."""
        columns = self._columns()
        names = list(columns)
        return [dict(zip(names, values)) for values in zip(*columns.values())]

    def _columns(self) -> dict[str, list[Any]]:
        """Every field of ``Row.to_dict`` as a column, from the table."""
        t, m = self.table, self.table.metrics
        dtype_a = [x.dtype.name if x is not None else None for x in t.entries_a]
        dtype_b = [y.dtype.name if y is not None else None for y in t.entries_b]
        shape_a = [x.shape if x is not None else None for x in t.entries_a]
        shape_b = [y.shape if y is not None else None for y in t.entries_b]
        has, elements = m.has, t.elements
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = m.counts["changed"] / elements
        shown = has & (elements > 0)
        c = m.counts
        before, after = c["nan_a"] + c["inf_a"], c["nan_b"] + c["inf_b"]
        nonfinite = np.where(has & (after > 0) & (before == 0), "appeared", "")
        nonfinite = np.where(has & (before > 0) & (after == 0), "disappeared", nonfinite)
        known = self.known
        out: dict[str, list[Any]] = {
            "key": t.keys,
            "name": known.column(t.keys_a, t.keys_b),
            "key_a": t.keys_a,
            "key_b": t.keys_b,
            "status": [STATUSES[s] for s in t.status.tolist()],
            "dtype_changed": [
                da is not None and db is not None and da != db for da, db in zip(dtype_a, dtype_b)
            ],
            "shape_changed": [
                sa is not None and sb is not None and sa != sb for sa, sb in zip(shape_a, shape_b)
            ],
            "dtype_a": dtype_a,
            "dtype_b": dtype_b,
            "shape_a": [list(s) if s is not None else None for s in shape_a],
            "shape_b": [list(s) if s is not None else None for s in shape_b],
            "elements": elements.tolist(),
            "nbytes": t.nbytes.tolist(),
            "fraction_changed": _finite_or_none(fraction, shown),
            "nonfinite": nonfinite.tolist(),
            "fast": t.fast.tolist(),
            "reason": [t.reasons.get(i, "") for i in range(len(t))],
        }
        for name in _METRICS:
            out[name] = (
                m.values(name) if name in m.counts else _finite_or_none(m.floats[name], m.present[name] & has)
            )
        return out

    def to_pandas(self) -> pandas.DataFrame:
        """One row per key (``a``'s key, else ``b``'s), key as index."""
        import pandas

        frame = pandas.DataFrame(self._columns(), columns=list(Row(None, "", "").to_dict()))
        return frame.set_index("key")

    def rollup_frame(self) -> pandas.DataFrame:
        """The roll-ups, one row per object path (``""`` is the root), path as index."""
        import pandas

        frame = pandas.DataFrame.from_records(
            [r.to_dict() for r in self.rollups], columns=list(Rollup("").to_dict())
        )
        return frame.set_index("path")

    @property
    def graph(self) -> DiffGraph:
        """``b``'s object graph coloured by change; draw it with any ``graph.draw`` option."""
        from .graph import DiffGraph

        return DiffGraph(self)

    if TYPE_CHECKING:  # notebook display, attached by the render layer (render/accessors.py)

        def _repr_html_(self) -> str: ...


def _numbers(r: Row) -> str:
    d = r.delta
    if d is None:
        return ""
    parts = [f"norm {d.norm_b:.6g}"] if d.norm_b is not None else []
    if r.elements:
        parts.append(f"{d.changed}/{r.elements} changed")
    if d.relative_change is not None:
        parts.append(f"relative change {d.relative_change:.4g}")
    if d.max_abs_diff is not None:
        parts.append(f"max |Δ| {d.max_abs_diff:.4g}")
    if r.nonfinite:
        parts.append(f"NaN/Inf {r.nonfinite}")
    return " " + ", ".join(parts) if parts else ""


def _topmost(rollups: list[Rollup]) -> list[Rollup]:
    """Drop paths under another listed path: ``net/l1`` frozen says its kernel is too."""
    out: list[Rollup] = []
    for r in sorted(rollups, key=lambda r: r.path):
        if not out or not r.path.startswith(out[-1].path + "/"):
            out.append(r)
    return out
