"""V1 checkpoints: one table of ``SavedTensorSlices`` (core/util/saved_tensor_slice.proto), as
written by ``tf.compat.v1.train.Saver(write_version=SaverDef.V1)`` and read by TensorFlow's
``TensorSliceReader`` (core/util/tensor_slice_reader.cc).

The file is a table in the ``.index`` format. Key ``""`` holds the ``meta``: every tensor's name,
shape, dtype and the slices it was saved in. Every other key is a slice key (``slices.encode_key``,
rank 0 for scalars) whose value holds that slice's values as a ``TensorProto``. A sharded V1 save
writes ``PREFIX-00000-of-00002``, ``PREFIX-00001-of-00002``, …, each with its own meta.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import (
    CheckpointNotFoundError,
    ClosedCheckpointError,
    CorruptCheckpointError,
    KeyNotFoundError,
    LfsPointerError,
    UnsupportedCheckpointError,
)
from . import lfs, slices, storage, tensor_proto
from .dtypes import DType, from_enum
from .entries import Entry
from .shapes import MAX_RANK, check_shape, numpy_problem
from .table import FOOTER_SIZE, MAGIC, TableReader

if TYPE_CHECKING:
    from .reader import Opener

_SHARD_RE = re.compile(r"^(?P<stem>.*)-(?P<shard>\d{5}|\?{5})-of-(?P<count>\d{5})$")
_COMPLEX = ("scomplex_val", "dcomplex_val")  # (real, imag) pairs: two numbers per element
# The TensorProto field TF's V1 writer stores each dtype's values in (saved_tensor_slice_util.h);
# the reader takes its values from that field only and requires exactly one per element.
_V1_FIELD = {
    "float32": "float_val", "float64": "double_val", "int64": "int64_val", "bool": "bool_val",
    "complex64": "scomplex_val", "complex128": "dcomplex_val", "float16": "half_val",
    "bfloat16": "half_val", "string": "string_val",
    **dict.fromkeys(
        ("int32", "int16", "int8", "uint8", "uint16", "qint8", "quint8", "qint16", "quint16", "qint32"),
        "int_val",
    ),
}  # fmt: skip


def shard_files(path: str) -> list[str]:
    """Every file of the V1 checkpoint ``path`` names: itself, or all ``-SSSSS-of-NNNNN`` siblings."""
    m = _SHARD_RE.match(path)
    if m is None or int(m["count"]) < 1:
        return [path]
    count = int(m["count"])
    return [f"{m['stem']}-{i:05d}-of-{count:05d}" for i in range(count)]


def _describe(piece: slices.Slice) -> str:
    return str(piece) or "(scalar)"


class _Tensor(NamedTuple):
    dtype: DType
    shape: tuple[int, ...]
    pieces: list[tuple[slices.Slice, int]]  # (slice, index of the file holding its data)


class V1Reader:
    """The tensors of a V1 checkpoint (one file, or the shards of a sharded save)."""

    def __init__(self, path: str, verify: bool = True, opener: Opener = storage) -> None:
        self.path, self.verify, self._opener = path, verify, opener
        self.prefix = path
        self._closed = False
        self.files = shard_files(path)
        self.num_shards = len(self.files)
        self._tensors: dict[str, _Tensor] = {}
        self._meta_at: dict[str, tuple[str, int]] = {}  # name -> (file, offset) of its metadata
        self._data: list[dict[bytes, tuple[bytes, int]]] = []  # per file: slice key -> (value, offset)
        for number, name in enumerate(self.files):
            self._load(number, name)
        self.entries: dict[str, Entry] = {}
        for key in sorted(self._tensors, key=lambda k: k.encode("utf-8", "surrogateescape")):
            self.entries[key] = self._entry(key, self._tensors[key])

    # -- opening -------------------------------------------------------------------------------

    def _load(self, number: int, path: str) -> None:
        from google.protobuf.message import DecodeError

        from .protos.ckptviz_format_pb2 import SavedTensorSlices

        try:
            data = self._opener.read_bytes(path)
        except CheckpointNotFoundError:
            if number == 0 and path == self.path:
                raise
            raise CorruptCheckpointError(
                f"V1 checkpoint file {storage.basename(path)} is missing (the checkpoint has "
                f"{self.num_shards} files; copy all of them)",
                path,
                0,
            ) from None
        if data.startswith(lfs.POINTER_MAGIC):
            raise LfsPointerError(lfs.message(path), path)
        if len(data) < FOOTER_SIZE or data[-8:] != MAGIC:
            raise CorruptCheckpointError(
                "not a TensorFlow checkpoint: no .index file for this prefix, and not a V1 checkpoint "
                "table either (its last 8 bytes are not a table's magic number)",
                path,
                max(len(data) - 8, 0),
            )
        table = iter(TableReader(data, path, self.verify))
        first = next(table, None)
        if first is None or first[0] != b"":
            raise CorruptCheckpointError("V1 checkpoint table has no metadata (empty key)", path, 0)
        try:
            meta = SavedTensorSlices.FromString(first[1]).meta
        except DecodeError as e:
            raise CorruptCheckpointError(f"bad V1 checkpoint metadata: {e}", path, first[2]) from None
        versions = meta.versions
        if versions.producer < 0 or versions.min_consumer > 1 or 1 in versions.bad_consumers:
            raise UnsupportedCheckpointError(
                f"{path}: V1 checkpoint version (producer {versions.producer}, min_consumer "
                f"{versions.min_consumer}) needs a newer reader"
            )
        for tensor in meta.tensor:
            self._register(tensor, number, path, first[2])
        # Values stay unparsed until read; only they, not the whole file, are kept.
        self._data.append({key: (value, offset) for key, value, offset in table})

    def _register(self, proto: Any, number: int, path: str, offset: int) -> None:
        name, shape = proto.name, tuple(d.size for d in proto.shape.dim)
        problem = "an unknown shape" if proto.shape.unknown_rank else check_shape(shape)
        if problem:
            raise CorruptCheckpointError(f"tensor {name!r} has {problem}", path, offset)
        for s in proto.slice:
            if len(s.extent) > MAX_RANK:
                raise CorruptCheckpointError(
                    f"a slice of tensor {name!r} has rank {len(s.extent)}", path, offset
                )
        dtype = from_enum(proto.type)
        pieces = [(slices.Slice.from_proto(s), number) for s in proto.slice]
        known = self._tensors.get(name)
        if known is None:
            self._tensors[name] = _Tensor(dtype, shape, pieces)
            self._meta_at[name] = (path, offset)
        elif known.dtype != dtype or known.shape != shape:
            raise CorruptCheckpointError(
                f"tensor {name!r} is {dtype.name}{list(shape)} in {storage.basename(path)} but "
                f"{known.dtype.name}{list(known.shape)} in another file of the checkpoint",
                path,
                offset,
            )
        else:
            known.pieces.extend(pieces)

    def _entry(self, key: str, tensor: _Tensor) -> Entry:
        stored = [self._data[n].get(slices.encode_key(key, piece)) for piece, n in tensor.pieces]
        found = [s for s in stored if s is not None]
        partial = len(tensor.pieces) != 1 or not tensor.pieces[0][0].covers(tensor.shape)
        return Entry(
            key,
            tensor.dtype,
            tensor.shape,
            shard=tensor.pieces[0][1] if tensor.pieces else 0,
            offset=found[0][1] if found else 0,
            size=sum(len(value) for value, _ in found),  # bytes of the stored protos, not raw values
            slices=tuple(piece for piece, _ in tensor.pieces) if partial else (),
        )

    def close(self) -> None:
        """V1 files were read whole when opened; closing drops them, and later reads raise."""
        self._closed = True
        self._data = []

    # -- values --------------------------------------------------------------------------------

    def read(self, key: str) -> np.ndarray:
        """The value of ``key``, reassembled from its slices (which TensorFlow's reader refuses)."""
        tensor = self._tensors.get(key)
        if tensor is None:
            raise KeyNotFoundError(key, self._tensors)
        problem = numpy_problem(tensor.shape)
        if problem:
            file, offset = self._meta_at.get(key, (self.path, 0))
            raise UnsupportedCheckpointError(
                f"{file} at byte {offset}: cannot read {key!r}, a tensor of {problem}"
            )
        if self._closed:
            raise ClosedCheckpointError(
                f"{self.path}: cannot read {key!r}, the checkpoint was closed; open it again"
            )
        if _V1_FIELD.get(from_enum(tensor.dtype.base_enum).name) is None:
            raise UnsupportedCheckpointError(
                f"{self.path}: tensor {key!r} has dtype {tensor.dtype.name}, which a V1 checkpoint cannot hold"
            )
        problem = slices.check_coverage(key, tensor.shape, [piece for piece, _ in tensor.pieces])
        if problem:
            raise CorruptCheckpointError(problem, *self._meta_at[key])
        # Parse every piece and check its element count before the whole tensor is allocated.
        protos = {piece: self._piece(key, tensor, piece, n) for piece, n in tensor.pieces}
        if len(protos) == 1 and next(iter(protos)).covers(tensor.shape):
            return self._values(key, *next(iter(protos.values())))
        dtype = tensor.dtype
        np_dtype = dtype.numpy if dtype.is_fixed_width else np.dtype(object)
        return slices.assemble(tensor.shape, np_dtype, list(protos), lambda p: self._values(key, *protos[p]))

    def _piece(self, key: str, tensor: _Tensor, piece: slices.Slice, number: int) -> Any:
        from google.protobuf.message import DecodeError

        from .protos.ckptviz_format_pb2 import SavedTensorSlices

        path = self.files[number]
        stored = self._data[number].get(slices.encode_key(key, piece))
        if stored is None:
            raise CorruptCheckpointError(
                f"slice {_describe(piece)} of {key!r} has no data", *self._meta_at[key]
            )
        value, offset = stored
        try:
            saved = SavedTensorSlices.FromString(value).data
        except DecodeError as e:
            raise CorruptCheckpointError(f"bad V1 data for {key!r}: {e}", path, offset) from None
        if saved.name != key or slices.Slice.from_proto(saved.slice) != piece:
            raise CorruptCheckpointError(
                f"data stored under slice {piece} of {key!r} is labelled {saved.name!r} "
                f"slice {slices.Slice.from_proto(saved.slice)}",
                path,
                offset,
            )
        data = saved.data
        base = from_enum(tensor.dtype.base_enum)
        field = _V1_FIELD[base.name]
        got = len(getattr(data, field)) // (2 if field in _COMPLEX else 1)
        want = math.prod(piece.shape(tensor.shape))
        if got != want:
            raise CorruptCheckpointError(
                f"slice {_describe(piece)} of {key!r} holds {got} values, its shape "
                f"{piece.shape(tensor.shape)} needs {want}",
                path,
                offset,
            )
        # The V1 writer leaves dtype and shape unset; fill them in and drop any stray fields.
        data.dtype = base.as_datatype_enum
        data.tensor_shape.Clear()
        for size in piece.shape(tensor.shape):
            data.tensor_shape.dim.add().size = size
        data.ClearField("tensor_content")
        data.ClearField("float8_val")
        return data, path, offset

    def _values(self, key: str, data: Any, path: str, offset: int) -> np.ndarray:
        try:
            return np.asarray(tensor_proto.to_numpy(data))
        except tensor_proto.TensorProtoError as e:
            raise CorruptCheckpointError(f"bad V1 data for {key!r}: {e}", path, offset) from None
