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
from ..model.checkpoint import Checkpoint, human_size
from ..model.checkpoint import open as open_checkpoint
from ..model.select import value_path

Row = tuple[str, str, str, tuple[int, ...], int]  # key, object path, dtype, shape, bytes


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

    @cached_property
    def rows(self) -> list[Row]:
        """One row per key, in the checkpoint's order (metadata only)."""
        return [
            (e.key, value_path(e.key), e.dtype.name, tuple(e.shape), e.nbytes)
            for e in self.checkpoint.entries.values()
        ]

    def entry(self, key: str) -> dict[str, Any]:
        e = self.checkpoint.entries.get(key)
        if e is None:
            from ..errors import KeyNotFoundError

            raise KeyNotFoundError(key, self.checkpoint.entries)
        return {
            "key": e.key,
            "path": value_path(e.key),
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
        """The value for slicing and drawing: big tensors are memory-mapped and not CRC-checked here
        (a CRC pass would read all of it), so indexing reads only the pages it touches."""
        return self._unverified.read(key)

    # -- the object graph ------------------------------------------------------------------------

    @property
    def graph_ready(self) -> bool:
        return "graph" in self.__dict__

    @cached_property
    def graph(self) -> Any:
        return self.checkpoint.graph

    def node(self, node_id: int) -> dict[str, Any]:
        """Everything a details panel shows about one object."""
        g = self.graph
        n = g.nodes[node_id]
        slots = [
            {
                "slot_name": s.slot_name,
                "optimizer": g.nodes[s.optimizer_id].path,
                "variable": g.nodes[s.variable_id].path,
                "slot": g.nodes[s.slot_id].path,
                "variable_id": s.variable_id,
                "slot_id": s.slot_id,
                "inferred": s.inferred,
            }
            for s in g.slots_of(node_id)
        ]
        kids = g.out_edges(node_id)
        return {
            "id": n.id,
            "path": n.path,
            "name": n.name or "(root)",
            "kind": n.kind,
            "full_name": n.full_name,
            "dtype": n.dtype,
            "shape": list(n.shape) if n.shape is not None else None,
            "nbytes": n.nbytes,
            "size": human_size(n.nbytes),
            "keys": [v.key for v in n.values],
            "slots": slots,
            "children": [{"name": e.local_name, "id": e.child} for e in kids[:50]],
            "children_count": len(kids),
        }

    def find(self, path: str) -> int:
        return int(self.graph.find(path).id)

    def search(self, text: str, limit: int = 20) -> tuple[list[dict[str, Any]], int]:
        """Nodes whose path, local name or full name contains ``text`` (case-insensitive): the first
        ``limit`` (exact names first) and how many there are."""
        needle = text.strip().lower()
        if not needle:
            return [], 0
        hits = []
        for n in self.graph.nodes:
            if needle in n.path.lower() or needle in n.full_name.lower():
                hits.append(n)
        hits.sort(key=lambda n: (n.name.lower() != needle, n.kind == "slot", len(n.path)))
        return [
            {"id": n.id, "path": n.path, "full_name": n.full_name, "kind": n.kind} for n in hits[:limit]
        ], len(hits)

    def plan(self, **options: Any) -> tuple[Any, str]:
        """The render plan (``render.select_view``) and its DOT: the same the exported pictures use."""
        from ..render import GraphView, select_view
        from ..render.dot import view_to_dot

        o = GraphView(**options)
        view = select_view(self.graph, o)
        return view, view_to_dot(self.graph, view, o)
