"""Keras 3 weight files read as keyed tensors: ``.weights.h5`` (HDF5), ``.keras`` (a ZIP holding
``model.weights.h5``) and sharded ``.weights.json`` + ``*_NNNNN.weights.h5``
(keras/src/saving/saving_lib.py: ``H5IOStore``, ``ShardedH5IOStore``).

A key is the HDF5 path of a dataset, e.g. ``layers/dense/vars/0``. h5py is imported only when a
file is opened. Remote files and ZIP members are handed to h5py as file-like objects reading
byte ranges, so nothing is extracted or downloaded whole.
"""

from __future__ import annotations

import io
import json
import math
import posixpath
import struct
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import (
    CheckpointError,
    ClosedCheckpointError,
    CorruptCheckpointError,
    KeyNotFoundError,
    UnsupportedCheckpointError,
)
from . import storage
from .dtypes import DType, as_dtype, from_enum
from .entries import Entry
from .locate import HDF5_MAGIC, ZIP_MAGIC

if TYPE_CHECKING:
    from .reader import Opener

_UNKNOWN = from_enum(0)  # an HDF5 type with no TensorFlow dtype: listed, not readable
# A compressed dataset may expand to this many bytes per stored byte, plus a fixed allowance:
# weights barely compress, so anything claiming more is a decompression bomb.
_MAX_EXPANSION = 64
_EXPANSION_ALLOWANCE = 16 << 20
_MAX_MEMBER_EXPANSION = 64  # the same for a deflated ZIP member (deflate itself allows ~1032:1)
_H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, zipfile.BadZipFile, EOFError)


@contextmanager
def _errors(path: str, what: str) -> Iterator[None]:
    """h5py and zipfile failures on bad input as ``CorruptCheckpointError``."""
    try:
        yield
    except CheckpointError:
        raise
    except NotImplementedError as e:  # zipfile: unsupported compression method
        raise UnsupportedCheckpointError(f"{path}: {what}: {e}") from None
    except MemoryError:
        raise CorruptCheckpointError(f"{what}: it needs more memory than is available", path, 0) from None
    except _H5_ERRORS as e:
        raise CorruptCheckpointError(f"{what}: {e}", path, 0) from None


class _Window(io.RawIOBase):
    """Bytes ``[start, start + size)`` of a blob as a seekable read-only file."""

    def __init__(self, blob: storage.Blob, start: int = 0, size: int | None = None) -> None:
        self.blob, self.start = blob, start
        self.size = blob.size - start if size is None else size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = max(0, offset + (0, self.pos, self.size)[whence])
        return self.pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(view.nbytes, self.size - self.pos))
        if n:
            self.blob.readinto(self.start + self.pos, view[:n])
            self.pos += n
        return n


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, blob: storage.Blob) -> tuple[Any, int]:
    """A member as a file and the bytes it may yield: an uncompressed one read in place, anything
    else through zipfile's reader (which re-inflates from the start on every backward seek)."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        # The member may yield no more than it plausibly holds (and no more than it claims).
        limit = _MAX_MEMBER_EXPANSION * info.compress_size + _EXPANSION_ALLOWANCE
        if info.file_size > limit:
            raise CorruptCheckpointError(
                f"{info.filename} claims {info.file_size} bytes from {info.compress_size} compressed ones, "
                "more than weights expand to (a decompression bomb?)",
                blob.path,
                info.header_offset,
            )
        return archive.open(info), info.file_size
    header = blob.read(info.header_offset, 30)
    if header[:4] != ZIP_MAGIC:
        raise CorruptCheckpointError(
            f"bad ZIP local header for {info.filename}", blob.path, info.header_offset
        )
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.file_size > blob.size:
        raise CorruptCheckpointError(
            f"{info.filename} runs past the end of the archive (truncated?)", blob.path, start
        )
    return _Window(blob, start, info.file_size), info.file_size


class KerasReader:
    """The datasets of Keras 3 weight files (one file or all shards), read lazily by key."""

    def __init__(self, path: str, opener: Opener = storage) -> None:
        self.path = self.prefix = path
        self._opener = opener
        self._lock = threading.RLock()  # h5py files and the byte windows under them keep a position
        self._closed = False
        self._files: list[tuple[Any, int, str]] = []  # (h5py.File, bytes it may use, name)
        self._found: dict[str, Entry] = {}  # entry.shard is the number of the file holding it
        self._names: dict[str, str | bytes] = {}  # h5py gives bytes for names that are not UTF-8
        self._closers: list[Any] = []
        try:
            self._open(path)
        except BaseException:
            self.close()
            raise
        order = sorted(self._found, key=lambda k: k.encode("utf-8", "surrogateescape"))
        self.entries: dict[str, Entry] = {key: self._found[key] for key in order}
        self.num_shards = max(len(self._files), 1)

    # -- opening -------------------------------------------------------------------------------

    def _open(self, path: str) -> None:
        if path.endswith(".json"):
            directory = storage.dirname(path)
            for name in _shard_names(self._opener.read_bytes(path), path):
                blob = self._blob(storage.join(directory, name))
                self._add(_Window(blob), blob.size, storage.join(directory, name))
            return
        blob = self._blob(path)
        head = blob.read(0, min(8, blob.size))
        if head.startswith(ZIP_MAGIC):
            self._open_archive(blob)
        elif head.startswith(HDF5_MAGIC):
            self._add(_Window(blob), blob.size, path)
        else:
            raise CorruptCheckpointError(
                "not a Keras weights file: it starts with neither the HDF5 nor the ZIP signature", path, 0
            )

    def _blob(self, path: str) -> storage.Blob:
        blob = self._opener.open_blob(path)
        self._closers.append(blob)
        return blob

    def _open_archive(self, blob: storage.Blob) -> None:
        with _errors(blob.path, "not a readable .keras archive"):
            archive = zipfile.ZipFile(io.BufferedReader(_Window(blob)))
            self._closers.append(archive)
            names = set(archive.namelist())
            if "model.weights.h5" in names:
                self._add(
                    *_member(archive, archive.getinfo("model.weights.h5"), blob),
                    f"{blob.path}/model.weights.h5",
                )
            elif "model.weights.json" in names:
                for name in _shard_names(archive.read("model.weights.json"), blob.path):
                    if name not in names:
                        raise CorruptCheckpointError(
                            f"weight shard {name} is missing from the archive", blob.path, 0
                        )
                    self._add(*_member(archive, archive.getinfo(name), blob), f"{blob.path}/{name}")
            elif "model.weights.npz" in names:
                raise UnsupportedCheckpointError(
                    f"{blob.path}: model.weights.npz holds pickled objects, which ckptviz does not unpickle; "
                    "re-save the model with weights_format='h5'"
                )
            else:
                raise CorruptCheckpointError("the .keras archive has no model.weights.h5", blob.path, 0)

    def _add(self, fileobj: Any, size: int, name: str) -> None:
        import h5py

        number = len(self._files)
        with _errors(name, "not a readable HDF5 file"):
            raw = fileobj if isinstance(fileobj, io.BufferedIOBase) else io.BufferedReader(fileobj, 1 << 20)
            self._closers.append(raw)
            h5 = h5py.File(raw, "r")
            self._files.append((h5, size, name))
            found: list[tuple[str | bytes, Any]] = []
            h5.visititems(
                lambda key, obj: found.append((key, obj)) if isinstance(obj, h5py.Dataset) else None
            )
            for name_in_file, dataset in found:
                key = (
                    name_in_file.decode("utf-8", "surrogateescape")
                    if isinstance(name_in_file, bytes)
                    else name_in_file
                )
                # Keras on Windows joined group names with os.path.join: "layers\\dense\\vars"
                # is one group there; its keys read as the "/" paths every other writer uses.
                key = key.replace("\\", "/")
                if key in self._found:
                    raise CorruptCheckpointError(
                        f"dataset {key!r} is stored twice (in two weight shards, or under both '/' and '\\' names)",
                        name,
                        0,
                    )
                self._found[key] = _entry(key, dataset, number)
                self._names[key] = name_in_file

    def close(self) -> None:
        """Close every file; later reads raise ``ClosedCheckpointError``."""
        with self._lock:
            self._closed = True
            for h5, _, _ in self._files:
                with _errors(self.path, "closing"):
                    h5.close()
            for closer in reversed(self._closers):
                closer.close()
            self._files, self._closers = [], []

    # -- values --------------------------------------------------------------------------------

    def read(self, key: str) -> np.ndarray:
        entry = self.entries.get(key)
        if entry is None:
            raise KeyNotFoundError(key, self.entries)
        with self._lock:
            if self._closed:
                raise ClosedCheckpointError(
                    f"{self.path}: cannot read {key!r}, the checkpoint was closed; open it again"
                )
            return self._read(key, entry)

    def _read(self, key: str, entry: Entry) -> np.ndarray:
        h5, available, name = self._files[entry.shard]
        with _errors(name, f"cannot read dataset {key!r}"):
            dataset = h5[self._names[key]]
            _check_storage(key, dataset, available, name)
            if entry.dtype == _UNKNOWN:
                raise UnsupportedCheckpointError(
                    f"{name}: dataset {key!r} has HDF5 type {dataset.dtype}, which has no TensorFlow dtype"
                )
            if entry.dtype.name == "string":
                return _strings(dataset[()], entry.shape)
            out = np.asarray(dataset[()])
        if not out.dtype.isnative:
            out = out.astype(out.dtype.newbyteorder("="))
        return out.view(entry.dtype.numpy).reshape(entry.shape)


def _shard_names(text: bytes, path: str) -> list[str]:
    """The shard files a ``*.weights.json`` map lists, in order of first mention."""
    try:
        weight_map = json.loads(text)["weight_map"]
        names: list[str] = []
        for files in weight_map.values():
            for name in [files] if isinstance(files, str) else files:
                if not isinstance(name, str) or posixpath.basename(name) != name:
                    raise ValueError(f"bad shard file name {name!r}")
                if name not in names:
                    names.append(name)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CorruptCheckpointError(f"not a Keras sharded weights map: {e}", path, 0) from None
    return names


def _dtype(dataset: Any) -> DType:
    import h5py

    dt = dataset.dtype
    if h5py.check_string_dtype(dt) is not None:
        return as_dtype("string")
    if dt.kind in "biufc":
        try:
            return as_dtype(dt.newbyteorder("="))
        except TypeError:  # float128 and other types TensorFlow lacks: listed, not readable
            return _UNKNOWN
    if dt.kind != "V" or dt.names is not None or "dtype" not in dataset.attrs:
        return _UNKNOWN
    # Keras stores bfloat16 as 2-byte opaque data with attribute dtype="bfloat16". That string
    # lives in the global heap, and a damaged heap sends libhdf5 into an endless loop, so for
    # 2-byte data the attribute's presence is enough.
    if dt.itemsize == 2:
        return as_dtype("bfloat16")
    declared = dataset.attrs["dtype"]
    try:
        dtype = as_dtype(declared.decode("utf-8", "replace") if isinstance(declared, bytes) else declared)
    except TypeError:
        return _UNKNOWN
    return dtype if dtype.is_fixed_width and dtype.size == dt.itemsize else _UNKNOWN


def _entry(key: str, dataset: Any, number: int) -> Entry:
    if dataset.shape is None:  # a null dataspace: no value at all
        return Entry(key, _UNKNOWN, (), number)
    storage_size = dataset.id.get_storage_size()
    offset = dataset.id.get_offset()  # None unless stored contiguously
    return Entry(key, _dtype(dataset), tuple(dataset.shape), number, offset or 0, storage_size)


def _check_storage(key: str, dataset: Any, available: int, name: str) -> None:
    """Refuse datasets whose value would need more memory than the file can back."""
    if dataset.shape is None:  # a null dataspace holds nothing to read
        raise UnsupportedCheckpointError(f"{name}: dataset {key!r} has a null dataspace")
    need = math.prod(dataset.shape) * dataset.id.get_type().get_size()
    stored = dataset.id.get_storage_size()
    plist = dataset.id.get_create_plist()
    if plist.get_external_count() or dataset.is_virtual:
        raise UnsupportedCheckpointError(f"{name}: dataset {key!r} keeps its data in other files")
    limit = stored * _MAX_EXPANSION + _EXPANSION_ALLOWANCE if plist.get_nfilters() else stored
    if need > limit or stored > available:
        raise CorruptCheckpointError(
            f"dataset {key!r} of shape {list(dataset.shape)} needs {need} bytes but {stored} are stored "
            f"(the file holds {available}; compressed data may expand {_MAX_EXPANSION}-fold)",
            name,
            dataset.id.get_offset() or 0,
        )


def _strings(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    items = np.asarray(value, dtype=object).reshape(-1)
    out = np.empty(len(items), dtype=object)
    out[:] = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in items]
    return out.reshape(shape)
