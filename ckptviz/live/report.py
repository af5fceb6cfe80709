"""The will-it-load report: one row per value on either side, as data, text, HTML and pandas."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

from ..model.graph import ObjectGraph

Status = Literal["matched", "missing", "mismatched"]
RowStatus = Literal["matched", "mismatched", "missing_in_object", "missing_in_checkpoint"]
ROW_STATUSES: tuple[RowStatus, ...] = ("mismatched", "missing_in_object", "missing_in_checkpoint", "matched")
_STATUS: dict[str, Status] = {
    "matched": "matched",
    "mismatched": "mismatched",
    "missing_in_object": "missing",
    "missing_in_checkpoint": "missing",
}
_RANK = {"matched": 0, "missing": 1, "mismatched": 2}
Spec = tuple[tuple[int, ...], str]  # (shape, dtype name)


def show_spec(s: Spec | None) -> str:
    """``float32[2048,1000]``, ``int64[]``: as TF users read them."""
    return "-" if s is None else f"{s[1]}[{','.join(map(str, s[0]))}]"


@dataclass
class Row:
    """One value: where it is on each side and whether they agree."""

    path: str
    status: RowStatus
    key: str | None = None
    node_id: int | None = None
    checkpoint: Spec | None = None
    object: Spec | None = None
    target: Any = field(default=None, repr=False)  # the live object to assign to
    name: str = ""  # the name people know it by, where the path says only `_trainable_variables/212`

    def to_dict(self) -> dict[str, Any]:
        def spec(s: Spec | None) -> dict[str, Any] | None:
            return None if s is None else {"shape": list(s[0]), "dtype": s[1]}

        return {
            "path": self.path,
            "name": self.name or self.path,
            "status": self.status,
            "key": self.key,
            "node_id": self.node_id,
            "checkpoint": spec(self.checkpoint),
            "object": spec(self.object),
        }


@dataclass
class CheckReport:
    """What would load: one ``Row`` per value on either side."""

    rows: list[Row]
    object_graph: ObjectGraph = field(repr=False)
    matched_nodes: dict[int, Any] = field(default_factory=dict, repr=False)
    root: str | None = None  # the checkpoint object the live object was matched as, if not the root

    def _of(self, status: str) -> list[Row]:
        return [r for r in self.rows if r.status == status]

    @property
    def matched(self) -> list[Row]:
        return self._of("matched")

    @property
    def mismatched(self) -> list[Row]:
        return self._of("mismatched")

    @property
    def missing_in_object(self) -> list[Row]:
        """Checkpoint values nothing in the object would receive."""
        return self._of("missing_in_object")

    @property
    def missing_in_checkpoint(self) -> list[Row]:
        """Object variables the checkpoint has no value for."""
        return self._of("missing_in_checkpoint")

    @property
    def ok(self) -> bool:
        """Everything on both sides pairs up with equal shapes and dtypes."""
        return all(r.status == "matched" for r in self.rows)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(ROW_STATUSES, 0)
        for r in self.rows:
            out[r.status] += 1
        return out

    @property
    def by_key(self) -> dict[str, Status]:
        """Checkpoint key -> ``matched | missing | mismatched`` (missing: nothing would receive it)."""
        return {r.key: _STATUS[r.status] for r in self.rows if r.key is not None}

    @property
    def by_node(self) -> dict[int, Status]:
        """Checkpoint node id -> status, for the graph renderer; a node is as bad as its worst value."""
        out: dict[int, Status] = {}
        for key, status in self.by_key.items():
            owner = self.object_graph.owner.get(key)
            if owner is not None and (owner[0] not in out or _RANK[status] > _RANK[out[owner[0]]]):
                out[owner[0]] = status
        return out

    @property
    def graph(self) -> Any:
        """The checkpoint's graph painted with this result: shows inline; ``.draw(max_depth=2, …)``
        takes every other picture option."""
        return self.object_graph.draw(status=self.by_node)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the verdict, counts, rows, and status by node and by key (separately)."""
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "rows": [r.to_dict() for r in self.rows],
            "by_node": {str(k): v for k, v in self.by_node.items()},
            "by_key": self.by_key,
        }

    def verdict(self) -> str:
        """One line that says whether it loads, then the counts."""
        c = self.counts()
        if not c["matched"] and not c["mismatched"]:
            head = "nothing would load: " + self.no_match_hint()
        elif c["mismatched"]:
            head = f"will not load: {c['mismatched']} value(s) disagree"
        elif self.ok:
            head = "loads: every value pairs up"
        else:
            head = "loads partially"
        at = f" as {self.root!r}" if self.root else ""
        return (
            f"{head}{at} ({c['matched']} matched, {c['mismatched']} mismatched, {c['missing_in_object']} "
            f"checkpoint values with no object, {c['missing_in_checkpoint']} object variables with no value)"
        )

    def no_match_hint(self) -> str:
        """What to do when no value pairs up: wrap the object, or name its place with root=."""
        if not self.object_graph.object_based:
            return "no variable name matches a key (pass root='scope' if the keys have a prefix)"
        children = {n: c for n, c in self.object_graph.children(0).items() if n != "save_counter"}
        shown = ", ".join(repr(n) for n in list(children)[:6])
        # the likely model: not an optimizer, and holding the most objects
        example = max(
            children,
            key=lambda n: (
                self.object_graph.nodes[children[n]].kind != "optimizer",
                len(self.object_graph.subtree(children[n])),
            ),
            default="model",
        )
        return (
            f"the checkpoint's root holds {shown}; pass root={example!r}, or wrap the object: "
            f"tf.train.Checkpoint({example}=obj)"
        )

    def ordered(self) -> list[Row]:
        """Mismatches first, then what is missing on each side, then what matched."""
        rank = {s: i for i, s in enumerate(ROW_STATUSES)}
        return sorted(self.rows, key=lambda r: rank[r.status])

    def table(self) -> str:
        lines = [(r.status, r.path, show_spec(r.checkpoint), show_spec(r.object)) for r in self.ordered()]
        header = ("status", "path", "checkpoint", "object")
        widths = [max(len(x[i]) for x in [header, *lines]) for i in range(4)]
        body = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [header, *lines]]
        return "\n".join([self.verdict(), *body])

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<ckptviz.CheckReport: {self.verdict()}>"

    def _repr_html_(self, limit: int = 200) -> str:
        colour = {
            "matched": "#2a2",
            "mismatched": "#c22",
            "missing_in_object": "#888",
            "missing_in_checkpoint": "#c80",
        }
        rows = self.ordered()
        body = "".join(
            f"<tr><td style='color:{colour[r.status]}'>{r.status}</td><td><code>{html.escape(r.path)}</code></td>"
            f"<td>{html.escape(show_spec(r.checkpoint))}</td><td>{html.escape(show_spec(r.object))}</td></tr>"
            for r in rows[:limit]
        )
        more = len(rows) - limit
        tail = (
            f"<tr><td colspan=4>… {more} more (use <code>.to_pandas()</code>)</td></tr>" if more > 0 else ""
        )
        return (
            f"<div><b>{html.escape(self.verdict())}</b><table><tr><th>status</th><th>path</th><th>checkpoint</th>"
            f"<th>object</th></tr>{body}{tail}</table></div>"
        )

    def to_pandas(self) -> Any:
        import pandas

        return pandas.DataFrame(
            [
                (r.status, r.path, r.key, r.node_id, show_spec(r.checkpoint), show_spec(r.object))
                for r in self.ordered()
            ],
            columns=["status", "path", "key", "node_id", "checkpoint", "object"],
        )
