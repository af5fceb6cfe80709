"""Writing a TensorBundle V2 checkpoint byte for byte as TensorFlow does.

The layout follows ``BundleWriter`` (tensor_bundle.cc): tensor bytes are appended to the data
file in the order they are added, the index is written at the end with keys sorted, entries
are ``BundleEntryProto`` messages with proto3 defaults omitted and the shape always present,
and the header is ``{num_shards, LITTLE, version{producer: 1}}`` (``08 01 1a 02 08 01``). With
several data files the result is what TF's ``MergeBundles`` makes of several writers.

Writes are atomic like TF's: every file is first written under ``<name>.tempstate<random>``;
data files are renamed into place first and the ``.index`` last (``os.replace``, never a
removal first), so a checkpoint exists exactly when its ``.index`` does, and an overwritten one
is always the old or the new one, whenever the process dies. Temporary files of a killed
write are removed by the next writer to that prefix (a live writer holds a lock on
its temporary index, so a concurrent one is left alone). Writers to one prefix may run at once:
each commit (check, renames, removal of the replaced data files) holds the destination's lock
(``temporaries.destination_lock``), so the last commit wins whole and no cleanup removes files
another writer's index reads. Every file operation is relative to the destination directory's
descriptor, opened once (or given: ``dir_fd``, how the server writes under its root). An overwrite whose data files would
have the names of the current ones gets one more, empty, data file instead: the new files then
never replace bytes the old index reads, and the index switches from old to new in one
``os.replace``.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import numpy as np

from ..errors import (
    CheckpointExistsError,
    ClosedCheckpointError,
    InvalidArgumentError,
    UnsupportedCheckpointError,
)
from . import crc, naming, slices, storage, temporaries, values
from .dtypes import STRING, VARIANT, DType, as_dtype
from .progress import Progress, reporter
from .table import TableBuilder
from .tensor_proto import Variant

_PROGRESS_MIN_BYTES = 256 << 20  # a progress bar only for writes that take a while
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def infer_dtype(value: Any) -> DType:
    """The TF dtype of a value: numpy's for arrays, string for text/bytes, variant for ``Variant``."""
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype == object:
        first = arr.reshape(-1)[0] if arr.size else b""
        return as_dtype(VARIANT if isinstance(first, Variant) else STRING)
    return as_dtype(arr.dtype)


def _object_array(value: Any) -> np.ndarray:
    if isinstance(value, (bytes, str, Variant)):
        out = np.empty((), dtype=object)
        out[()] = value
        return out
    return np.asarray(value, dtype=object)


def _fixed_array(value: Any, dtype: DType) -> np.ndarray:
    """A C-contiguous array in the host's (little-endian) order; quantized values as plain ints."""
    if isinstance(value, np.ndarray) and value.dtype.names:  # TF's quantized structured dtypes
        value = value.view(value.dtype[0])
    arr = np.asarray(value, dtype=dtype.numpy)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray makes scalars 1-d)


def _shown(key: bytes) -> str:
    return repr(key) if key[:1] == b"\x00" else repr(key.decode("utf-8", "surrogateescape"))


def _key_bytes(key: str | bytes) -> bytes:
    raw = key if isinstance(key, bytes) else key.encode("utf-8", "surrogateescape")
    if not raw:
        raise InvalidArgumentError("the empty key is the bundle header; tensors need a non-empty key")
    return raw


class BundleWriter:
    """Accumulates tensors into ``PREFIX.data-*`` and writes ``PREFIX.index`` on ``finish()``.

    ``max_shard_size`` (bytes) starts a new data file whenever the next tensor would not fit
    (a tensor is never split; one larger than the limit gets a file of its own). Use as a
    context manager: the checkpoint is committed on success and nothing is left on error.
    ``progress``: a bar (True; None: for writes of ``total_bytes`` past 256 MiB on a terminal) or a
    ``(bytes written, total_bytes or 0)`` callback (``format.progress``).
    """

    def __init__(
        self,
        prefix: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        max_shard_size: int | None = None,
        progress: bool | Progress | None = None,
        total_bytes: int | None = None,
        dir_fd: int | None = None,
    ) -> None:
        self.prefix = os.fspath(prefix)
        self._dir, self._lock_fd = -1, -1
        if storage.is_remote(self.prefix):
            raise UnsupportedCheckpointError(
                f"cannot write to {self.prefix}: write to a local prefix, then upload the files"
            )
        if max_shard_size is not None and max_shard_size <= 0:
            raise InvalidArgumentError(f"max_shard_size must be positive, got {max_shard_size}")
        self.overwrite, self.max_shard_size = overwrite, max_shard_size
        if dir_fd is None:
            directory = os.path.dirname(self.prefix)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._name = os.path.basename(self.prefix)
            self._dir = os.open(directory or ".", _DIR_FLAGS)
        else:
            if "/" in self.prefix or self.prefix in ("", ".", ".."):
                raise InvalidArgumentError(
                    f"with dir_fd, the prefix is a name in that directory, not {self.prefix!r}"
                )
            self._name, self._dir = self.prefix, os.dup(dir_fd)
        self._check_destination()
        self._token = f".tempstate{random.getrandbits(64)}"  # TF's temporary-name suffix
        self._files: list[Any] = []  # open temporary data files, by shard id
        self._sizes: list[int] = []
        self._entries: dict[bytes, Any] = {}  # key -> BundleEntryProto
        self.min_shards = 1
        self._closed = False
        self._failed: str | None = None  # why an add failed: the data file may hold stray bytes
        self._commit_lock = temporaries.destination_lock(self._dir, self._name)
        with self._commit_lock:
            temporaries.remove_stale(self._dir, self._name)
            # The temporary index exists (empty) from the start and stays locked while this
            # writer lives: remove_stale in another writer leaves locked groups alone.
            self._lock_fd = temporaries.create_locked(self._dir, self._temp_index_path())
        big = total_bytes is not None and total_bytes >= _PROGRESS_MIN_BYTES
        self._report = reporter(
            progress, total_bytes, desc=f"writing {os.path.basename(self.prefix)}", auto=big
        )
        self._total, self._written = total_bytes, 0

    # -- destination ---------------------------------------------------------------------------

    def _exists(self, name: str) -> bool:
        """Whether ``name`` is in the directory (a symbolic link counts; it is replaced, never followed)."""
        try:
            os.stat(name, dir_fd=self._dir, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def _check_destination(self) -> None:
        index = naming.index_file(self.prefix)
        if self._exists(naming.index_file(self._name)) and not self.overwrite:
            raise CheckpointExistsError(
                f"checkpoint {self.prefix} already exists ({index}); pass overwrite=True to replace it "
                "or choose another prefix"
            )

    def _temp_data_path(self, shard: int) -> str:
        return f"{self._name}.data-{shard:05d}{self._token}"

    def _temp_index_path(self) -> str:
        return naming.index_file(self._name) + self._token

    def _shard_file(self, shard: int) -> Any:
        while len(self._files) <= shard:
            fd = os.open(self._temp_data_path(len(self._files)), _CREATE, 0o644, dir_fd=self._dir)
            self._files.append(os.fdopen(fd, "wb"))
            self._sizes.append(0)
        return self._files[shard]

    def _pick_shard(self, nbytes: int) -> int:
        current = max(len(self._files) - 1, 0)
        if (
            self.max_shard_size is not None
            and self._sizes
            and self._sizes[current] > 0
            and self._sizes[current] + nbytes > self.max_shard_size
        ):
            return current + 1
        return current

    # -- adding tensors ------------------------------------------------------------------------

    def _new_entry(self, key: bytes, dtype: DType, shape: tuple[int, ...]) -> Any:
        from .protos.ckptviz_format_pb2 import BundleEntryProto

        if self._closed:
            raise ClosedCheckpointError(f"{self.prefix}: this BundleWriter has already finished or aborted")
        if key in self._entries:
            raise InvalidArgumentError(f"duplicate key {_shown(key)}: each tensor may be added once")
        if dtype.base_enum != dtype.as_datatype_enum or not (
            dtype.is_fixed_width or dtype.base_enum in (STRING, VARIANT)
        ):
            raise UnsupportedCheckpointError(
                f"{_shown(key)}: a {dtype.name} tensor cannot be saved in a checkpoint"
            )
        entry = BundleEntryProto(dtype=dtype.as_datatype_enum)  # type: ignore[arg-type]
        entry.shape.SetInParent()  # TF always writes the shape, even for scalars
        for d in shape:
            entry.shape.dim.add().size = d
        self._entries[key] = entry
        return entry

    def _append(
        self, entry: Any, chunks: list[Any] | Iterator[Any], nbytes: int, masked: int, shard: int | None
    ) -> None:
        shard = self._pick_shard(nbytes) if shard is None else shard
        if shard < 0:
            raise InvalidArgumentError(f"shard must be a non-negative number, got {shard}")
        f = self._shard_file(shard)
        entry.shard_id, entry.offset, entry.size, entry.crc32c = shard, self._sizes[shard], nbytes, masked
        written = 0
        for chunk in chunks:
            written += f.write(chunk)
            self._written += memoryview(chunk).nbytes
            self._report(self._written, self._total or 0)
        if written != nbytes:
            raise InvalidArgumentError(f"the chunks of a tensor held {written} bytes, {nbytes} were declared")
        self._sizes[shard] += nbytes

    @contextlib.contextmanager
    def _adding(self) -> Iterator[None]:
        """Marks the writer failed when an add does not complete (the data file may hold part of it).
        Errors in the arguments, found before anything is written, leave the writer usable."""
        if self._failed is not None:
            raise ClosedCheckpointError(
                f"{self.prefix}: an earlier add failed ({self._failed}); this writer cannot add or finish"
            )
        sizes, count = list(self._sizes), len(self._entries)
        try:
            yield
        except BaseException as e:
            if (
                len(self._entries) != count
                or self._sizes != sizes
                or any(f.tell() != n for f, n in zip(self._files, self._sizes))
            ):
                self._failed = f"{type(e).__name__}: {e}"
            raise

    def add(self, key: str | bytes, value: Any, dtype: Any = None, *, shard: int | None = None) -> None:
        """Append one tensor (anything ``np.asarray`` takes; bytes/str for strings, ``Variant``)."""
        raw_key = _key_bytes(key)
        if raw_key[0] == 0:
            raise InvalidArgumentError(
                f"key {key!r} starts with a NUL byte, which marks slice keys; use add_slice"
            )
        with self._adding():
            self._add(raw_key, value, dtype, shard)

    def add_raw(
        self,
        key: str | bytes,
        dtype: Any,
        shape: tuple[int, ...],
        chunks: Iterable[Any],
        size: int,
        masked_crc: int,
        *,
        shard: int | None = None,
    ) -> None:
        """Append a tensor given as its stored bytes (as ``BundleReader.raw_chunks`` yields them):
        ``size`` bytes in ``chunks``, whose masked CRC32C is ``masked_crc``. Nothing is re-encoded,
        so a copy is byte-identical to its source. A source that fails mid-stream (a checksum
        error) makes this writer refuse to finish."""
        raw_key = _key_bytes(key)
        if raw_key[0] == 0:
            raise InvalidArgumentError(
                f"key {key!r} starts with a NUL byte, which marks slice keys; use add_slice_raw"
            )
        with self._adding():
            self._append_raw(raw_key, as_dtype(dtype), tuple(shape), chunks, size, masked_crc, shard)

    def add_slice_raw(
        self,
        full_key: str,
        full_shape: tuple[int, ...],
        piece: slices.Slice,
        dtype: Any,
        chunks: Iterable[Any],
        size: int,
        masked_crc: int,
        *,
        shard: int | None = None,
        full_shard: int | None = None,
    ) -> None:
        """``add_slice`` for stored bytes: one part of a partitioned tensor, copied verbatim.
        ``full_shard`` sets the shard recorded in the full tensor's entry (TF's ``MergeBundles``
        leaves the first part's shard there)."""
        dt = as_dtype(dtype)
        with self._adding():
            full = self._full_entry(full_key, dt, tuple(full_shape))
            if full_shard is not None:
                full.shard_id = full_shard
            self._append_raw(
                slices.encode_key(full_key, piece),
                dt,
                tuple(piece.shape(full_shape)),
                chunks,
                size,
                masked_crc,
                shard,
            )
            full.slices.append(piece.to_proto(_slice_proto()))

    def _append_raw(
        self,
        key: bytes,
        dtype: DType,
        shape: tuple[int, ...],
        chunks: Iterable[Any],
        size: int,
        masked_crc: int,
        shard: int | None,
    ) -> None:
        if dtype.is_fixed_width and size != dtype.size * math.prod(shape):
            raise InvalidArgumentError(
                f"{_shown(key)}: a {dtype.name} tensor of shape {list(shape)} has "
                f"{dtype.size * math.prod(shape)} bytes, not {size}"
            )
        entry = self._new_entry(key, dtype, shape)
        try:
            self._append(entry, iter(chunks), size, masked_crc, shard)
        except BaseException:
            del self._entries[key]
            raise

    def _add(self, key: bytes, value: Any, dtype: Any, shard: int | None) -> None:
        dt = as_dtype(dtype) if dtype is not None else infer_dtype(value)
        if dt.base_enum in (STRING, VARIANT):
            arr = _object_array(value)
            data, masked = (values.encode_strings if dt.base_enum == STRING else values.encode_variants)(arr)
            self._append(self._new_entry(key, dt, arr.shape), [data], len(data), masked, shard)
            return
        if not dt.is_fixed_width:
            raise UnsupportedCheckpointError(f"{key!r}: a {dt.name} tensor cannot be saved in a checkpoint")
        arr = _fixed_array(value, dt)
        raw = arr.reshape(-1).view(np.uint8)
        entry = self._new_entry(key, dt, arr.shape)
        self._append(entry, [raw] if raw.size else [], raw.size, crc.mask(crc.value(raw)), shard)

    def add_slice(
        self,
        full_key: str,
        full_shape: tuple[int, ...],
        piece: slices.Slice,
        value: Any,
        dtype: Any = None,
        *,
        shard: int | None = None,
    ) -> None:
        """TF's ``AddSlice``: one slice of a partitioned tensor (a covering slice is a plain entry)."""
        dt = as_dtype(dtype) if dtype is not None else infer_dtype(value)
        if piece.covers(full_shape):
            self.add(full_key, value, dt, shard=shard)
            return
        with self._adding():
            full = self._full_entry(full_key, dt, tuple(full_shape))
            self._add(slices.encode_key(full_key, piece), value, dt, shard)
            full.slices.append(piece.to_proto(_slice_proto()))

    def _full_entry(self, full_key: str, dtype: DType, shape: tuple[int, ...]) -> Any:
        key = _key_bytes(full_key)
        entry = self._entries.get(key)
        if entry is None:
            return self._new_entry(key, dtype, shape)
        if entry.dtype != dtype.as_datatype_enum or tuple(d.size for d in entry.shape.dim) != shape:
            raise InvalidArgumentError(f"slices of {full_key!r} disagree on its dtype or full shape")
        if not entry.slices:
            raise InvalidArgumentError(f"{full_key!r} was added whole; it cannot also get slices")
        return entry

    # -- committing ----------------------------------------------------------------------------

    def _index_bytes(self, num_shards: int) -> bytes:
        from .protos.ckptviz_format_pb2 import BundleHeaderProto

        header = BundleHeaderProto(num_shards=num_shards)
        header.version.producer = 1
        builder = TableBuilder()
        builder.add(b"", header.SerializeToString())
        for key in sorted(self._entries):
            builder.add(key, self._entries[key].SerializeToString())
        return builder.finish()

    def finish(self) -> str:
        """Write the index and move every file into place; returns the prefix.

        Refuses (and removes its temporaries) when an earlier add failed part-way."""
        if self._failed is not None:
            reason = self._failed
            self.abort()
            raise ClosedCheckpointError(
                f"{self.prefix}: not written, because an earlier add failed ({reason}); nothing was changed"
            )
        if self._closed:
            raise ClosedCheckpointError(f"{self.prefix}: this BundleWriter has already finished or aborted")
        try:
            self._shard_file(max(self.min_shards, len(self._files), 1) - 1)  # TF always writes a data file
            with self._commit_lock:  # what is checked here stays true until the commit is done
                self._check_destination()  # someone may have written it meanwhile
                if self._collides(len(self._files)):
                    # The data files would replace those the current index reads. One more (empty)
                    # shard gives them other names, so the index switches from old to new at once.
                    self._shard_file(len(self._files))
                for f in self._files:
                    f.close()
                num_shards = len(self._files)
                with os.fdopen(os.dup(self._lock_fd), "r+b") as f:  # the locked file, kept (and locked)
                    f.write(self._index_bytes(num_shards))
                at = {"src_dir_fd": self._dir, "dst_dir_fd": self._dir}
                for shard in range(num_shards):
                    os.replace(
                        self._temp_data_path(shard), naming.data_file(self._name, shard, num_shards), **at
                    )
                # the commit: atomic, the old index is never removed
                os.replace(self._temp_index_path(), naming.index_file(self._name), **at)
                self._remove_stale_data_files(num_shards)
        except BaseException:
            self.abort()
            raise
        finally:
            self._report(-1, self._total or 0)
        self._closed = True
        self._release()
        return self.prefix

    def _collides(self, num_shards: int) -> bool:
        """Whether an existing checkpoint at the prefix has data files of this shard count."""
        return self._exists(naming.data_file(self._name, 0, num_shards)) and self._exists(
            naming.index_file(self._name)
        )

    def _release(self) -> None:
        """Close the temporary index (releasing its lock) and the directory."""
        for attr in ("_lock_fd", "_dir"):
            if getattr(self, attr, -1) >= 0:
                os.close(getattr(self, attr))
                setattr(self, attr, -1)

    def __del__(self) -> None:
        self._release()  # an unfinished writer's temporaries stay, for the next writer to remove

    def _remove_stale_data_files(self, num_shards: int) -> None:
        """Data files of a replaced checkpoint with another shard count would confuse readers.
        Called under the destination lock, right after this writer's commit: the only index
        then is this one, and it reads none of them."""
        for name in os.listdir(self._dir):
            split = naming.split_data_file(name)
            if split and split[0] == self._name and split[2] != num_shards:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(name, dir_fd=self._dir)

    def abort(self) -> None:
        """Close and delete the temporary files; the destination is left as it was."""
        self._closed = True
        for f in self._files:
            f.close()
        if self._dir >= 0:
            for name in [self._temp_data_path(i) for i in range(len(self._files))] + [
                self._temp_index_path()
            ]:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(name, dir_fd=self._dir)
        self._release()

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            if not self._closed:
                self.finish()
        else:
            self.abort()


def _slice_proto() -> Any:
    from .protos.ckptviz_format_pb2 import TensorSliceProto

    return TensorSliceProto()


# -- the public one-call writer --------------------------------------------------------------------


def write_checkpoint(
    prefix: str | os.PathLike[str],
    tensors: Mapping[str, Any],
    object_graph: Any = None,
    *,
    dtypes: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    max_shard_size: int | None = None,
    progress: bool | Progress | None = None,
) -> str:
    """Write ``tensors`` ({key: array}) as a TensorBundle V2 checkpoint TensorFlow reads.

    ``object_graph`` (a ``TrackableObjectGraph`` message or its bytes) makes it object-based; it
    is stored last under ``_CHECKPOINTABLE_OBJECT_GRAPH``, as TF does. ``dtypes`` overrides the
    inferred dtype per key (e.g. ``"bfloat16"``, ``"qint8"``). Tensors are written in the
    mapping's order. Returns the prefix.
    """
    dtypes = dtypes or {}
    graph_bytes = _graph_bytes(object_graph, tensors)
    total = sum(_nbytes(v) for v in tensors.values())
    with BundleWriter(
        prefix, overwrite=overwrite, max_shard_size=max_shard_size, progress=progress, total_bytes=total
    ) as writer:
        for key, value in tensors.items():
            writer.add(key, value, dtypes.get(key))
        if graph_bytes is not None:
            writer.add(naming.OBJECT_GRAPH_KEY, graph_bytes, "string")
    return writer.prefix


def _nbytes(value: Any) -> int:
    return int(getattr(value, "nbytes", 0)) if isinstance(value, np.ndarray) and value.dtype != object else 0


def _graph_bytes(object_graph: Any, tensors: Mapping[str, Any]) -> bytes | None:
    if object_graph is None:
        return None
    if naming.OBJECT_GRAPH_KEY in tensors:
        raise InvalidArgumentError(
            f"pass the object graph either as object_graph or as {naming.OBJECT_GRAPH_KEY!r}, not both"
        )
    from .protos.ckptviz_format_pb2 import TrackableObjectGraph

    if isinstance(object_graph, (bytes, bytearray)):
        raw, proto = bytes(object_graph), TrackableObjectGraph.FromString(bytes(object_graph))
    else:
        raw, proto = object_graph.SerializeToString(), object_graph
    keys = sorted(tensors)
    missing = [
        a.checkpoint_key
        for node in proto.nodes
        for a in node.attributes
        if not _has_key_or_prefix(keys, a.checkpoint_key)
    ]
    if missing:
        shown = ", ".join(repr(k) for k in missing[:5])
        raise InvalidArgumentError(
            f"the object graph refers to {len(missing)} key(s) missing from tensors: {shown}; "
            "add those tensors or remove the attributes"
        )
    return raw


def _has_key_or_prefix(sorted_keys: list[str], key: str) -> bool:
    """TF maps attributes to keys exactly, else by prefix (legacy saveables append ``_STATE`` etc.)."""
    import bisect

    i = bisect.bisect_left(sorted_keys, key)
    return i < len(sorted_keys) and sorted_keys[i].startswith(key)
