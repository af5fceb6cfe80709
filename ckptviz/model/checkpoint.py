"""``Checkpoint``: one checkpoint, whatever its path form and file format, as keyed tensors."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CheckpointError, KeyNotFoundError, MissingDataError, MissingDataWarning
from ..format import naming, storage
from ..format.bundle import BundleReader
from ..format.dtypes import DType
from ..format.entries import Entry
from ..format.locate import Location, locate
from ..format.reader import Reader
from ..format.stamp import file_stamp
from .paths import VARIABLE_VALUE, is_object_key
from .records import KINDS

if TYPE_CHECKING:
    import pandas

    from .graph import ObjectGraph
    from .records import EntryRecord

_UNSET: Any = object()
_KIND_NAMES = np.array(KINDS, object)
_ENTRY_FIELDS = ("key", "dtype.name", "shape", "nbytes", "shard")  # what a record shows


def human_size(n: float) -> str:
    """``2.6 KiB``: byte counts as people read them."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _open_reader(location: Location, verify: bool) -> Reader:
    if location.kind == "bundle":
        return BundleReader(location.path, verify)
    if location.kind == "v1":
        from ..format.legacy import V1Reader

        return V1Reader(location.path, verify)
    from ..format.keras import KerasReader

    return KerasReader(location.path)


class Checkpoint:
    """A checkpoint opened for reading: ``entries`` (metadata only) and lazy ``read(key)``.

    ``path`` may be a prefix, its ``.index``, a ``.data-*`` file, a directory (the latest
    checkpoint, or a SavedModel's variables), a V1 checkpoint file, a Keras ``.weights.h5`` /
    ``.keras`` file, or a URL fsspec understands. ``verify=False`` skips CRC32C checks.
    ``storage_options`` configure a remote store (fsspec's: ``endpoint_url``, ``key``/``secret``,
    ``anon``…); they are kept for later reads and never shown.
    """

    def __init__(
        self, path: str, verify: bool = True, *, storage_options: dict[str, Any] | None = None
    ) -> None:
        options = dict(storage_options or {})
        with storage.using(options):
            location = locate(str(path))
            self._setup(location, _open_reader(location, verify), options)

    @classmethod
    def of_reader(cls, location: Location, reader: Reader, signature: str | None = None) -> Checkpoint:
        """A checkpoint over a reader opened elsewhere (the server's, on files confined to its root);
        ``signature``: what the opener knows identifies these bytes (a path and change stamp)."""
        self = cls.__new__(cls)
        self._setup(location, reader, {})
        self.signature = signature
        return self

    def _setup(self, location: Location, reader: Reader, storage_options: dict[str, Any]) -> None:
        self.storage_options = storage_options
        # What identifies this checkpoint's bytes for results kept across calls (a timeline's), when
        # whoever opened it knows; None: such results are not reused.
        self.signature: str | None = None
        self.location = location
        self.path = self.location.path
        self.format = self.location.kind
        self.reader: Reader = reader  # the format layer's reader of this kind
        self._lock = threading.Lock()  # lazy set-up below runs once, whichever thread asks first
        self._graph_proto: Any = _UNSET
        self._graph: ObjectGraph | None = None
        self._state: tuple[Any, naming.CheckpointState | None] = (_UNSET, None)

    # -- mapping-like access to keys -----------------------------------------------------------

    @property
    def entries(self) -> Mapping[str, Entry]:
        """Metadata of every tensor by key: dtype, shape, nbytes, shard, offset… (no tensor data;
        each entry is decoded when first looked up)."""
        return self.reader.entries

    def dtypes_and_shapes(self) -> dict[str, tuple[DType, tuple[int, ...]]]:
        """``{key: (dtype, shape)}``: what listing needs, faster than ``entries`` on big bundles."""
        if isinstance(self.reader, BundleReader):
            return self.reader.dtypes_and_shapes()
        return {k: (e.dtype, e.shape) for k, e in self.entries.items()}

    def keys(self) -> list[str]:
        return list(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def read(self, key: str) -> np.ndarray:
        """The value of ``key`` as an array (strings: bytes objects; variants: ``Variant``).

        ``key`` may also be a name people know: an object path (``net/l1/kernel``), any alias
        path, or a variable's ``full_name`` (``dense/kernel``)."""
        if key not in self.entries:
            key = self.key_of(key)
        return self.reader.read(key)

    def read_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        """``{key: value}`` of many tensors, read together: a bundle's neighbouring byte ranges are
        merged and, on a remote store, fetched concurrently (tens of requests, not one per key)."""
        resolved = [k if k in self.entries else self.key_of(k) for k in keys]
        if isinstance(self.reader, BundleReader):
            return dict(zip(keys, self.reader.read_many(resolved)))
        return {k: self.reader.read(r) for k, r in zip(keys, resolved)}

    def key_of(self, name: str) -> str:
        """The bundle key a name means: the key itself, else the value of the object it names
        (an object path, alias or ``full_name``); ``KeyNotFoundError`` with close matches else."""
        if name in self.entries:
            return name
        if (
            name == naming.OBJECT_GRAPH_KEY
            or is_object_key(name)
            or (not self.is_object_based and self._graph is None)
        ):
            # a mistyped key: the hint comes from the keys, without building the object graph
            raise KeyNotFoundError(name, self.entries)
        graph = self.graph
        node = graph.lookup(name)
        keys = graph.keys_of(node.id) if node is not None else []
        if len(keys) > 1:  # an object with several values: its variable value, if it has one
            keys = [k for k in keys if graph.owner.get(k, (0, ""))[1] == VARIABLE_VALUE] or keys
        if len(keys) != 1:
            what = f"{name!r} names an object with {len(keys)} values" if keys else None
            if what:
                raise KeyNotFoundError(name, keys, what="tensor (pass one of its keys)")
            raise KeyNotFoundError(name, graph.candidate_names(keys=False), what="key, object path or name")
        return keys[0]

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.entries.values())

    @property
    def num_shards(self) -> int:
        return self.reader.num_shards

    # -- the object graph ----------------------------------------------------------------------

    @property
    def is_object_based(self) -> bool:
        return naming.OBJECT_GRAPH_KEY in self.entries

    @property
    def object_graph_proto(self) -> Any:
        """The ``TrackableObjectGraph`` message, or None for name-based checkpoints."""
        graph = self._graph
        if graph is not None and graph.object_based:  # parsed from the bytes the graph was built from
            return graph.proto
        if self._graph_proto is _UNSET:
            with self._lock:
                if self._graph_proto is _UNSET:
                    raw = self._graph_bytes() if self.is_object_based else None
                    self._graph_proto = None if raw is None else self._parsed(raw, _graph_message)
        return self._graph_proto

    def _graph_bytes(self) -> bytes:
        """The serialized object graph: the scalar string stored under ``_CHECKPOINTABLE_OBJECT_GRAPH``."""
        from ..errors import CorruptCheckpointError

        value = self.read(naming.OBJECT_GRAPH_KEY)
        raw = value[()] if value.shape == () else None
        if not isinstance(raw, bytes):
            file, offset = self._graph_where()
            raise CorruptCheckpointError(
                f"{naming.OBJECT_GRAPH_KEY} is a {self.entries[naming.OBJECT_GRAPH_KEY].dtype.name} tensor of "
                f"shape {list(value.shape)}, not the scalar string TensorFlow writes",
                file,
                offset,
            )
        return raw

    def _parsed(self, raw: bytes, parse: Any) -> Any:
        """``parse(raw)``, a protobuf decode error said as the corrupt object graph it is."""
        from google.protobuf.message import DecodeError

        from ..errors import CorruptCheckpointError

        try:
            return parse(raw)
        except DecodeError as e:
            file, offset = self._graph_where()
            raise CorruptCheckpointError(
                f"{naming.OBJECT_GRAPH_KEY} is not a TrackableObjectGraph: {e}", file, offset
            ) from None

    @property
    def graph(self) -> ObjectGraph:
        """Objects and their dependencies (a scope tree built from keys when name-based)."""
        if self._graph is None:
            raw = None
            if self.is_object_based:
                try:
                    raw = self._graph_bytes()
                except MissingDataError as e:  # an index-only copy: list what the index knows, loudly
                    warnings.warn(
                        f"values are unavailable: {e}; the object graph is stored there too, so objects are "
                        "shown as the scope tree of their keys",
                        MissingDataWarning,
                        stacklevel=2,
                    )
            with self._lock:
                if self._graph is None:
                    from .graph import ObjectGraph

                    where = self._graph_where() if raw is not None else None
                    self._graph = (
                        ObjectGraph.from_keys(self.entries, source=self.path)
                        if raw is None
                        else self._parsed(
                            raw,
                            lambda b: ObjectGraph.from_proto(b, self.entries, source=self.path, where=where),
                        )
                    )
        return self._graph

    def _graph_where(self) -> tuple[str, int]:
        """The data file and offset of the serialized object graph, which errors in it name."""
        entry = self.entries[naming.OBJECT_GRAPH_KEY]
        shard_path = getattr(self.reader, "shard_path", None)
        return (shard_path(entry.shard) if shard_path else self.path), entry.offset

    def entry_records(self, start: int = 0, stop: int | None = None) -> list[EntryRecord]:
        """Every tensor with the name people know it by and the object holding it (no tensor data);
        ``start``/``stop`` give one page of them, in ``entries`` order, at the cost of that page.
        The records are made as columns (each key's owner, its names, kind and entry), zipped once."""
        from functools import partial
        from itertools import islice

        from .records import EntryRecord

        graph = self.graph
        entries = list(islice(self.entries.values(), start, stop))
        keys, dtypes, shapes, sizes, shards = (list(map(attrgetter(f), entries)) for f in _ENTRY_FIELDS)
        owner = graph.owner
        found = [None if k == naming.OBJECT_GRAPH_KEY else owner.get(k) for k in keys]
        at = [j for j, f in enumerate(found) if f is not None]
        ids = [found[j][0] for j in at]  # type: ignore[index]
        # the object's columns where a key has one
        nodes, paths, kinds = (np.full(len(keys), None, object) for _ in range(3))
        names = np.array(keys, object)
        nodes[at], paths[at], names[at] = ids, graph.names.display_paths_of(ids), graph.names.names_of(ids)
        kinds[at] = _KIND_NAMES[graph.kind_codes[ids]]
        return list(
            map(
                partial(tuple.__new__, EntryRecord),  # each made in C, no Python frame per record
                zip(
                    keys,
                    names.tolist(),
                    dtypes,
                    shapes,
                    sizes,
                    shards,
                    nodes.tolist(),
                    paths.tolist(),
                    kinds.tolist(),
                ),
            )
        )

    def known_names(self) -> dict[str, str]:
        """``{key: the name people know}`` for the keys whose name is not the key itself."""
        graph = self.graph
        keys, ids = graph.holders()  # (no object holds the object graph's own key)
        return {k: text for k, text in zip(keys, graph.names.names_of(ids)) if text != k}

    def known_name(self, key: str) -> str:
        """``known_names().get(key, "")`` at the cost of one key: the name people know ``key`` by,
        ``""`` where that is the key itself (or the key holds no object's value)."""
        graph = self.graph
        node = graph.holder(key) if key != naming.OBJECT_GRAPH_KEY else None
        text = graph.names.name(node) if node is not None else key
        return text if text != key else ""

    # -- the directory around it ---------------------------------------------------------------

    @property
    def state(self) -> naming.CheckpointState | None:
        """The ``checkpoint`` file next to this checkpoint (CheckpointManager's history), if any;
        read again whenever that file changes, so a live training run is never stale."""
        directory = storage.dirname(self.path) or "."
        stamp = file_stamp(storage.join(directory, naming.STATE_FILENAME))
        if self._state[0] != stamp:
            with storage.using(self.storage_options):
                self._state = (stamp, naming.get_checkpoint_state(directory))
        return self._state[1]

    # -- views ---------------------------------------------------------------------------------

    def to_pandas(self) -> pandas.DataFrame:
        import pandas

        rows = [(e.key, e.dtype.name, list(e.shape), e.nbytes, e.shard) for e in self.entries.values()]
        return pandas.DataFrame(rows, columns=["key", "dtype", "shape", "nbytes", "shard"])

    def __repr__(self) -> str:
        try:
            kind = "object-based" if self.is_object_based else "name-based"
            if self.format != "bundle":
                kind = {"v1": "V1 name-based", "keras": "Keras weights"}[self.format]
            return (
                f"<ckptviz.Checkpoint {self.path!r}: {len(self)} tensors, {human_size(self.nbytes)}, {kind}>"
            )
        except CheckpointError as e:  # entries are decoded on first use; a repr must not raise
            return f"<ckptviz.Checkpoint {self.path!r}: unreadable: {e}>"

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    if TYPE_CHECKING:  # derived checkpoints, attached by the transform layer (transform/accessors.py)

        def derive(self) -> Any: ...
        def select(self, selector: Any = None, *, exclude: Any = None) -> Any: ...
        def rename(self, assignment_map: dict[str, str]) -> Any: ...
        def save(self, prefix: str, *, overwrite: bool = False, max_shard_size: int | None = None) -> str: ...
        def to_numpy(self, select: Any = None) -> dict[str, np.ndarray]: ...

        # notebook display, attached by the render layer (render/accessors.py)
        def _repr_html_(self) -> str: ...


def _graph_message(raw: bytes) -> Any:
    from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

    return TrackableObjectGraph.FromString(raw)


def open(  # noqa: A001 - mirrors ckptviz.open
    path: str, verify: bool = True, *, storage_options: dict[str, Any] | None = None
) -> Checkpoint:
    """Open any checkpoint path form; see ``Checkpoint``."""
    return Checkpoint(path, verify, storage_options=storage_options)
