"""``DerivedCheckpoint``: part of a checkpoint, possibly renamed or converted, that can be read,
saved or restored.

It never copies tensor data: it maps its keys to the source checkpoint's keys and carries its own
object graph (pruned by ``select``, rewritten by ``rename``). ``save`` streams the chosen tensors
into a new bundle; a derived checkpoint of the whole source saves a byte-identical copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, KeyNotFoundError
from ..format import naming
from ..format.bundle import BundleReader
from ..format.entries import Entry
from ..format.progress import Progress
from ..format.writer import infer_dtype
from ..model.assignment import AssignmentMap
from ..model.checkpoint import Checkpoint
from ..model.graph import ObjectGraph
from ..model.paths import value_path
from . import rename as renaming
from . import select as selecting


class DerivedCheckpoint:
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
        self._entries: dict[str, Entry] | None = None
        self._object_graph: ObjectGraph | None = None

    @classmethod
    def of(cls, source: Checkpoint) -> DerivedCheckpoint:
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
    def path(self) -> str:
        return self.source.path

    @property
    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            source = self.source.entries
            out = {new: source[old]._replace(key=new) for new, old in self.keys_map.items()}
            for key, value in self.extras.items():
                out[key] = Entry(key, infer_dtype(value), tuple(value.shape))
            self._entries = out
        return self._entries

    @property
    def graph(self) -> ObjectGraph:
        """The object graph of this checkpoint as it would be saved (a scope tree when name-based)."""
        if self._object_graph is None:
            if self._graph_is_source:
                self._object_graph = self.source.graph
            elif self._graph is None:
                self._object_graph = ObjectGraph.from_keys(self.entries, source=self.source.path)
            else:
                self._object_graph = ObjectGraph.from_proto(
                    self._graph, self.entries, source=self.source.path
                )
        return self._object_graph

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

    def to_numpy(self, select: selecting.Selector | None = None) -> dict[str, np.ndarray]:
        """``{path: array}``: object paths for variables (``net/l1/bias``), keys for everything else."""
        view = self if select is None else self.select(select)
        return {value_path(k): view.read(k) for k in view}

    def __repr__(self) -> str:
        kind = "object-based" if self.is_object_based else "name-based"
        return f"<ckptviz.DerivedCheckpoint of {self.source.path!r}: {len(self)} tensors, {kind}>"

    # -- deriving --------------------------------------------------------------------------------

    def _derived(self, keys: Mapping[str, str], graph: Any = None) -> DerivedCheckpoint:
        return DerivedCheckpoint(self.source, keys, graph)

    def select(
        self, selector: selecting.Selector | None = None, *, exclude: selecting.Selector | None = None
    ) -> DerivedCheckpoint:
        """Only the chosen objects, minus the ``exclude``d ones: object paths (``"net/l1"``, any
        alias), keys, ``full_name``s, any name a face shows, globs over keys and paths
        (``"*/bias*"``), node ids, or a predicate on keys; a list combines them.

        ``select=X`` keeps everything reachable from X (what ``tf.train.Checkpoint(x=X)`` saves);
        ``exclude=X`` drops X and what it owns and keeps what is still reachable from the root, so
        ``exclude="optimizer"`` keeps the model weights a Keras 3 optimizer also tracks. Keys are
        named by their objects' new paths, as TensorFlow would write them."""
        if self.extras:
            raise InvalidArgumentError(
                "select before converting: this checkpoint holds tensors its source does not"
            )
        if selector is None and exclude is None:
            raise InvalidArgumentError("select what? pass object paths, keys or globs, or exclude=…")
        graph, keys = self.graph, list(self.keys_map)
        if not graph.object_based:
            kept = selecting.name_based(graph, keys, selector, exclude)
            return self._derived({k: v for k, v in self.keys_map.items() if k in kept})
        proto, renamed = selecting.object_based(graph, keys, selector, exclude)
        return self._derived({new: self.keys_map[old] for new, old in renamed.items()}, proto)

    def rename(self, assignment_map: AssignmentMap) -> DerivedCheckpoint:
        """Keys (name-based) or object paths (object-based) renamed as ``init_from_checkpoint`` would."""
        if self.extras:
            raise InvalidArgumentError(
                "rename before converting: this checkpoint holds tensors its source does not"
            )
        if self._graph is None:
            return self._derived(renaming.rename_keys(self.keys_map, assignment_map))
        proto, renamed = renaming.rename_graph(self.graph, self.keys_map, assignment_map)
        return self._derived(renamed, proto)

    # -- writing -------------------------------------------------------------------------------

    def save(
        self,
        prefix: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        max_shard_size: int | None = None,
        progress: bool | Progress | None = None,
        dir_fd: int | None = None,
    ) -> str:
        """Write the view as a new checkpoint; returns its prefix. The source is never modified.
        ``dir_fd``: write ``prefix`` (a name) in the directory of that descriptor; the caller
        makes sure it is not the source."""
        from ..format import copying, writer

        prefix = os.fspath(prefix)
        if dir_fd is None:
            _refuse_source(self.source, prefix)
        bundle = self.source.reader if isinstance(self.source.reader, BundleReader) else None
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
            prefix,
            overwrite=overwrite,
            max_shard_size=max_shard_size,
            progress=progress,
            total_bytes=total,
            dir_fd=dir_fd,
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
        raise InvalidArgumentError(
            f"{prefix} is the checkpoint being read; save to another prefix (ckptviz never modifies its source)"
        )


def derive(src: Any) -> DerivedCheckpoint:
    """``src`` as a ``DerivedCheckpoint``: a path, a ``Checkpoint`` or a ``DerivedCheckpoint``."""
    if isinstance(src, DerivedCheckpoint):
        return src
    return DerivedCheckpoint.of(src if isinstance(src, Checkpoint) else Checkpoint(os.fspath(src)))
