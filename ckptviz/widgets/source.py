"""One checkpoint as the views see it: plain records (dicts) and lazy reads.

Every call the views make into the model and render layers goes through here, so the views
handle records, never the model's classes or private attributes. Nothing here reads tensor data
unless a method named for it (``read``, ``window``) is called.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any

import numpy as np

from ..format.naming import OBJECT_GRAPH_KEY
from ..format.progress import Progress
from ..model.checkpoint import Checkpoint, human_size
from ..model.checkpoint import open as open_checkpoint

BIG = 20_000  # keys: past this the object graph is built on a worker thread, not on first paint
Row = tuple[str, str, str, tuple[int, ...], int, str]  # key, name, dtype, shape, bytes, object path


class Source:
    """A checkpoint shared by the views of one explorer."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint

    @classmethod
    def of(cls, source: Any) -> Source:
        """A ``Source`` from a path, a ``Checkpoint`` or another ``Source`` (shared, not copied)."""
        if isinstance(source, Source):
            return source
        if isinstance(source, Checkpoint):
            return cls(source)
        if isinstance(source, (str, os.PathLike)):
            return cls(open_checkpoint(os.fspath(source)))
        raise TypeError(f"expected a checkpoint path or a ckptviz.Checkpoint, not {type(source).__name__}")

    @property
    def path(self) -> str:
        return self.checkpoint.path

    def __repr__(self) -> str:
        return f"<ckptviz.widgets.Source {self.path!r}>"

    # -- keys ------------------------------------------------------------------------------------

    @property
    def rows(self) -> list[Row]:
        """One row per key (``EntryRecord``s: the name people know it by, its object's path). Until
        the object graph is built (a worker builds it for big checkpoints), keys alone."""
        if "_rows" not in self.__dict__:
            if self.small:
                self.graph  # noqa: B018 - built here, on first paint
            if not self.graph_ready:
                return [
                    (e.key, e.key, e.dtype.name, tuple(e.shape), e.nbytes, "")
                    for e in self.checkpoint.entries.values()
                ]
            self._rows = [
                (r.key, r.name, r.dtype, r.shape, r.nbytes, r.path or "")
                for r in self.checkpoint.entry_records()
            ]
        return self._rows

    def entry(self, key: str) -> dict[str, Any]:
        e = self.checkpoint.entries.get(key)
        if e is None:
            from ..errors import KeyNotFoundError

            raise KeyNotFoundError(key, self.checkpoint.entries)
        owner = self.graph.owner.get(key) if self.graph_ready else None
        return {
            "key": e.key,
            "path": self.graph.display_path(owner[0]) if owner else None,
            "dtype": e.dtype.name,
            "shape": list(e.shape),
            "nbytes": e.nbytes,
            "size": human_size(e.nbytes),
            "numeric": e.dtype.is_fixed_width and e.key != OBJECT_GRAPH_KEY,
        }

    # -- tensor data (only on request) -------------------------------------------------------------

    def read(self, key: str) -> np.ndarray:
        """The whole value, CRC-checked."""
        return self.checkpoint.read(key)

    @cached_property
    def _unverified(self) -> Checkpoint:
        return open_checkpoint(self.path, verify=False)

    def window(self, key: str) -> np.ndarray:
        """The value for a pass over every element (``measure``): big tensors memory-mapped and not
        CRC-checked (a CRC pass would read all of it once more). Previews use ``model.preview``."""
        return self._unverified.read(key)

    # -- the object graph ------------------------------------------------------------------------

    @property
    def small(self) -> bool:
        """Small enough to build the object graph on first paint."""
        return len(self.checkpoint.entries) < BIG

    @property
    def graph_ready(self) -> bool:
        return "graph" in self.__dict__

    @cached_property
    def graph(self) -> Any:
        graph = self.checkpoint.graph
        self.__dict__.pop("_rows", None)
        return graph

    def node(self, node_id: int) -> dict[str, Any]:
        """Everything a details panel shows about one object."""
        g = self.graph
        out: dict[str, Any] = g.nodes[node_id].to_dict()
        out["key_path"], out["path"] = out["path"], g.display_path(node_id)  # the key's path one line away
        paths = {
            i: g.display_name(i)
            for s in g.slots_of(node_id)
            for i in (s.optimizer_id, s.variable_id, s.slot_id)
        }
        out["slots"] = [
            {
                **s.to_dict(),
                "optimizer": paths[s.optimizer_id],
                "variable": paths[s.variable_id],
                "slot": paths[s.slot_id],
            }
            for s in g.slots_of(node_id)
        ]
        kids = g.out_edges(node_id)
        out["children"] = [e.to_dict() for e in kids[:50]]
        out["children_count"] = len(kids)
        out["size"] = human_size(out["nbytes"])
        out["name"] = g.display_name(node_id) if node_id else "(root)"
        return out

    def find(self, path: str) -> int:
        """Any name a face shows: display path, Keras name, slot name, TF path, key, full name."""
        return int(self.graph.resolve(path).id)

    def search(self, text: str, limit: int = 20) -> tuple[list[dict[str, Any]], int]:
        """Nodes whose path, local name or full name contains ``text`` (case-insensitive): the first
        ``limit`` (exact names first) and how many there are."""
        needle = text.strip().lower()
        if not needle:
            return [], 0
        g = self.graph
        nodes = g.nodes
        hits = [nodes[i] for i, text in enumerate(self.search_index) if needle in text]
        # the object of that name first, then what holds values (a click previews it), then short paths
        hits.sort(
            key=lambda n: (
                g.display_path(n.id).rsplit("/", 1)[-1].lower() != needle,
                not n.values,
                n.kind == "slot",
                len(n.path),
            )
        )
        return [
            {
                "id": n.id,
                "path": g.display_path(n.id),
                "name": g.display_name(n.id),
                "full_name": n.full_name,
                "kind": n.kind,
            }
            for n in hits[:limit]
        ], len(hits)

    def measure(self, what: str, progress: Progress | None = None) -> dict[int, float]:
        """``{node id: value}`` for each variable and slot with one numeric key: its L2 ``norm``
        or its ``nan`` count. Reads every such tensor (memory-mapped, a page at a time);
        ``progress(tensors done, tensors)`` reports (``format.progress``) and may raise to cancel."""
        graph = self.graph
        held = [n for n in graph.nodes if n.kind in ("variable", "slot") and len(n.values) == 1]
        out: dict[int, float] = {}
        for count, node in enumerate(held):
            if progress is not None and count % 200 == 0:
                progress(count, len(held))
            entry = self.checkpoint.entries.get(node.values[0].key)
            if entry is None or not entry.dtype.is_fixed_width:
                continue
            value = np.asarray(self.window(entry.key))
            if value.dtype.kind not in "fciub":
                continue
            if what == "nan":
                out[node.id] = float(np.isnan(value).sum()) if value.dtype.kind in "fc" else 0.0
            else:
                out[node.id] = float(np.sqrt(np.sum(np.square(value, dtype=np.float64))))
        return out

    @cached_property
    def search_index(self) -> list[str]:
        """Per node, the names a search looks in (path, full name, display path and name),
        lower-cased once: a search of 50 000 nodes is then a scan of strings."""
        g = self.graph
        ids = range(len(g.nodes))  # every name as a column: no Node object per node
        columns = zip(g.paths.all(), g.full_names, g.names.display_paths_of(ids), g.names.names_of(ids))
        return list(map(str.lower, map("\n".join, columns)))

    def node_of_key(self, key: str) -> int | None:
        owner = self.graph.owner.get(key)
        return int(owner[0]) if owner else None

    def plan(self, **options: Any) -> tuple[Any, str]:
        """The render plan (``render.select_view``) and its DOT: the same the exported pictures use."""
        from ..render import DrawOptions, select_view
        from ..render.dot import view_to_dot

        o = DrawOptions(**options)
        view = select_view(self.graph, o)
        return view, view_to_dot(self.graph, view, o)
