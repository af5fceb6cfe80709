"""``CheckpointView``: part of a checkpoint, possibly renamed, that can be read, saved or restored.

A view never copies tensor data: it maps its keys to the source checkpoint's keys and carries
its own object graph (pruned by ``select``, rebuilt by ``rename``). ``save`` streams the chosen
tensors into a new bundle; a view of the whole checkpoint saves a byte-identical copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import KeyNotFoundError
from ..format import naming
from ..format.bundle import BundleReader, Entry
from ..format.writer import infer_dtype
from . import rename, select
from .select import value_path  # the method argument `select` shadows the module

if TYPE_CHECKING:
    from .checkpoint import Checkpoint


class CheckpointView:
    """Tensors of ``source`` under new keys (``keys``: new key → source key) and an object graph."""

    def __init__(
        self,
        source: Checkpoint,
        keys: Mapping[str, str],
        graph: Any = None,
        graph_is_source: bool = False,
        extras: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.source = source
        self.extras = dict(extras or {})  # new tensors the view adds (e.g. a save_counter)
        self.keys_map = dict(keys)
        self._graph = graph
        self._graph_is_source = graph_is_source  # the source's graph (or its lack), unchanged

    @classmethod
    def of(cls, source: Checkpoint) -> CheckpointView:
        """All of ``source``: its tensors and its object graph, unchanged."""
        keys = {k: k for k in source.entries if k != naming.OBJECT_GRAPH_KEY}
        return cls(source, keys, source.object_graph_proto, graph_is_source=True)

    # -- reading -------------------------------------------------------------------------------

    @property
    def object_graph_proto(self) -> Any:
        """The view's ``TrackableObjectGraph`` (None when name-based)."""
        return self._graph

    @property
    def is_object_based(self) -> bool:
        return self._graph is not None

    @property
    def entries(self) -> dict[str, Entry]:
        out = {new: self.source.entries[old]._replace(key=new) for new, old in self.keys_map.items()}
        for key, value in self.extras.items():
            out[key] = Entry(key, infer_dtype(value), tuple(value.shape))
        return out

    def keys(self) -> list[str]:
        return list(self.keys_map) + list(self.extras)

    def __contains__(self, key: object) -> bool:
        return key in self.keys_map or key in self.extras

    def __len__(self) -> int:
        return len(self.keys_map) + len(self.extras)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def read(self, key: str) -> np.ndarray:
        if key in self.extras:
            return self.extras[key]
        if key not in self.keys_map:
            raise KeyNotFoundError(key, self.keys())
        return self.source.read(self.keys_map[key])

    def to_numpy(self, select: select.Selector | None = None) -> dict[str, np.ndarray]:
        """``{path: array}``: object paths for variables (``net/l1/bias``), keys for everything else."""
        view = self if select is None else self.select(select)
        return {value_path(k): view.read(k) for k in view}

    def __repr__(self) -> str:
        kind = "object-based" if self.is_object_based else "name-based"
        return f"<ckptviz.CheckpointView of {self.source.path!r}: {len(self)} tensors, {kind}>"

    # -- deriving views ------------------------------------------------------------------------

    def _index(self) -> select.GraphIndex:
        return select.GraphIndex.build(self._graph, self.keys_map)

    def select(self, selector: select.Selector) -> CheckpointView:
        """Only the chosen subtrees: object paths (``"net/l1"``), key globs (``"*/bias*"``), node ids,
        or a predicate on keys; a list combines them. The object graph keeps the paths that reach
        them, ``save_counter``, and slots whose variable and optimizer are both kept."""
        keys = list(self.keys_map)
        if self._graph is None:
            chosen, _ = select.select_keys(keys, None, selector)
            return CheckpointView(self.source, {k: v for k, v in self.keys_map.items() if k in chosen})
        if self.extras:
            raise ValueError("select before converting: this view holds tensors that are not in its source")
        index = self._index()
        chosen, nodes = select.select_keys(keys, index, selector)
        graph, kept = select.prune(index, chosen, nodes)
        return CheckpointView(self.source, {k: v for k, v in self.keys_map.items() if k in kept}, graph)

    def rename(self, assignment_map: rename.AssignmentMap) -> CheckpointView:
        """Keys (name-based) or object paths (object-based) renamed as ``init_from_checkpoint`` would."""
        if self.extras:
            raise ValueError("rename before converting: this view holds tensors that are not in its source")
        if self._graph is None:
            return CheckpointView(self.source, rename.rename_keys(self.keys_map, assignment_map))
        graph, renamed = rename.rename_graph(self._graph, self.keys_map, assignment_map)
        return CheckpointView(self.source, {k: self.keys_map[v] for k, v in renamed.items()}, graph)

    # -- writing -------------------------------------------------------------------------------

    def save(
        self,
        prefix: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        max_shard_size: int | None = None,
        progress: bool | None = None,
    ) -> str:
        """Write the view as a new checkpoint; returns its prefix. The source is never modified."""
        from ..format import copying, writer

        prefix = os.fspath(prefix)
        _refuse_source(self.source, prefix)
        reader = getattr(self.source, "_reader", None)
        bundle = reader if isinstance(reader, BundleReader) else None
        faithful = (
            bundle is not None
            and self._graph_is_source
            and max_shard_size is None
            and all(k == v for k, v in self.keys_map.items())
            and not self.extras
            and len(self.keys_map) + int(self.is_object_based) == len(self.source.entries)
        )
        sources = list(self.keys_map.values())
        if bundle is not None:
            sources = copying.copy_order(
                bundle, sources + ([naming.OBJECT_GRAPH_KEY] if faithful and self.is_object_based else [])
            )
        new_key = {v: k for k, v in self.keys_map.items()}
        new_key.setdefault(naming.OBJECT_GRAPH_KEY, naming.OBJECT_GRAPH_KEY)
        total = sum(self.source.entries[k].nbytes for k in sources)
        with writer.BundleWriter(
            prefix, overwrite=overwrite, max_shard_size=max_shard_size, progress=progress, total_bytes=total
        ) as out:
            if faithful:
                out.min_shards = bundle.num_shards  # type: ignore[union-attr]
            for key in sources:
                if bundle is not None:
                    copying.copy_tensor(out, bundle, key, new_key[key], keep_shards=faithful)
                else:
                    out.add(new_key[key], self.source.read(key), self.source.entries[key].dtype)
            for key, value in self.extras.items():
                out.add(key, value)
            if self._graph is not None and not faithful:
                out.add(naming.OBJECT_GRAPH_KEY, self._graph.SerializeToString(), "string")
        return prefix


def _refuse_source(source: Checkpoint, prefix: str) -> None:
    if source.format == "bundle" and os.path.realpath(prefix) == os.path.realpath(source.path):
        raise ValueError(
            f"{prefix} is the checkpoint being read; save to another prefix (ckptviz never modifies its source)"
        )


def open_view(src: Any) -> CheckpointView:
    """A view of ``src``: a path, a ``Checkpoint`` or a ``CheckpointView``."""
    if isinstance(src, CheckpointView):
        return src
    from .checkpoint import Checkpoint

    return CheckpointView.of(src if isinstance(src, Checkpoint) else Checkpoint(os.fspath(src)))
