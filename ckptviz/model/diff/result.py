"""The result of a diff: one row per key, roll-ups by subtree, and the faces' views of them."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .compare import Delta
from .rollup import Rollup

if TYPE_CHECKING:
    import pandas

    from ..checkpoint import Checkpoint
    from .graph import DiffGraph

STATUSES = ("added", "removed", "changed", "unchanged")
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


class KnownNames:
    """The names people know the keys of two checkpoints by, worked out on first use: a diff
    needs none of them, only what shows its rows does (a 50 000-key scope tree costs seconds)."""

    def __init__(self, a: Checkpoint, b: Checkpoint) -> None:
        self._sides: tuple[Checkpoint, Checkpoint] | None = (a, b)
        self._names: tuple[dict[str, str], dict[str, str]] = ({}, {})

    def of(self, key_a: str | None, key_b: str | None) -> str:
        if self._sides is not None:
            a, b = self._sides
            self._names, self._sides = (a.known_names(), b.known_names()), None
        names_a, names_b = self._names
        return (
            names_b.get(key_b or "")
            or names_a.get(key_a or "")
            or (key_a if key_a is not None else key_b or "")
        )


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


@dataclass
class DiffResult:
    """What ``ckptviz.diff(a, b)`` found; ``rows`` in key order, ``rollups`` root first."""

    a: Checkpoint
    b: Checkpoint
    rows: list[Row]
    rollups: list[Rollup]
    options: dict[str, Any] = field(default_factory=dict)
    _index: dict[str, Row] = field(default_factory=dict, repr=False)

    # -- counts -----------------------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.rows)
        return {s: c.get(s, 0) for s in STATUSES}

    @property
    def equal(self) -> bool:
        """No key added, removed or changed (``diff``'s exit status 0)."""
        c = self.counts
        return c["added"] == c["removed"] == c["changed"] == 0

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: str) -> Row:
        """The row of a key of ``a`` or, failing that, of ``b``."""
        if not self._index:
            for r in reversed(self.rows):
                for k in (r.key_b, r.key_a):
                    if k is not None:
                        self._index[k] = r
        row = self._index.get(key)
        if row is None:
            from ...errors import KeyNotFoundError

            raise KeyNotFoundError(key, self._index)
        return row

    def frozen(self) -> list[Rollup]:
        """Subtrees with parameters where nothing moved (leaves of the frozen part: topmost first)."""
        return [r for r in self.rollups if r.frozen]

    def exploded(self) -> list[Rollup]:
        return [r for r in self.rollups if r.exploded]

    # -- views ------------------------------------------------------------------------------------

    def summary(self) -> str:
        c = self.counts
        changed_params = sum(r.delta.changed for r in self.rows if r.delta is not None)
        compared = sum(r.elements for r in self.rows if r.delta is not None)
        lines = [
            f"a: {self.a.path}",
            f"b: {self.b.path}",
            f"{len(self.rows)} keys: {c['changed']} changed, {c['added']} added, {c['removed']} removed, "
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
        rows = [r for r in self.rows if r.status != "unchanged" and (only is None or r.status == only)]
        for r in rows[:limit]:
            out.append(f"{r.key}:")
            if r.key_a is not None:
                extra = f" norm {r.delta.norm_a:.6g}" if r.delta and r.delta.norm_a is not None else ""
                out.append(f"  - a: {shown_value(r.dtype_a, r.shape_a)}{extra}")
            if r.key_b is not None:
                rename = f" (as {r.key_b})" if r.key_a is not None and r.key_a != r.key_b else ""
                out.append(f"  + b: {shown_value(r.dtype_b, r.shape_b)}{_numbers(r)}{rename}")
            if r.reason:
                out.append(f"    ({r.reason})")
        if limit is not None and len(rows) > limit:
            out.append(f"… {len(rows) - limit} more")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.summary() + ("\n\n" + self.tree(limit=50) if not self.equal else "")

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"<ckptviz.DiffResult {len(self.rows)} keys: {c['changed']} changed, {c['added']} added, "
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
            "rows": [r.to_dict() for r in self.rows],
            "rollups": [{k: _json(v) for k, v in r.to_dict().items()} for r in self.rollups],
        }

    def to_pandas(self) -> pandas.DataFrame:
        """One row per key (``a``'s key, else ``b``'s), key as index."""
        import pandas

        records = [r.to_dict() for r in self.rows]
        frame = pandas.DataFrame.from_records(records, columns=list(Row(None, "", "").to_dict()))
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
