"""``TensorProto`` and ``VariantTensorDataProto`` (framework/tensor.proto) as numpy values.

Variant tensors hold opaque C++ objects; TensorFlow's Python reader cannot return them. ckptviz
returns each element as a ``Variant``: its type name, metadata bytes and nested tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import dtypes
from .shapes import check_shape, numpy_problem

# TensorProto field holding the values of each dtype when tensor_content is empty.
_FIELD = {
    "float32": "float_val", "float64": "double_val", "int64": "int64_val", "bool": "bool_val",
    "complex64": "scomplex_val", "complex128": "dcomplex_val", "float16": "half_val",
    "bfloat16": "half_val", "uint32": "uint32_val", "uint64": "uint64_val", "string": "string_val",
}  # fmt: skip


_MAX_FILL = 1 << 24  # elements a short value list may be repeated into, without a budget
# numpy type of each repeated field, so values are taken exactly (never through float64)
_FIELD_TYPE = {
    "float_val": np.float32, "double_val": np.float64, "int_val": np.int64, "int64_val": np.int64,
    "bool_val": np.bool_, "uint32_val": np.uint32, "uint64_val": np.uint64,
}  # fmt: skip


class TensorProtoError(ValueError):
    """A TensorProto that does not hold a value of its own dtype and shape."""


class FillBudget:
    """Bytes that repeating short value lists may still allocate (TF fills a tensor from its last
    value): bounds what a tiny proto can expand into, across all the protos of one read."""

    def __init__(self, nbytes: int) -> None:
        self.left = nbytes

    def spend(self, nbytes: int, what: str) -> None:
        self.left -= nbytes
        if self.left < 0:
            raise TensorProtoError(
                f"{what} would be repeated into {nbytes} bytes, more than the data can hold"
            )


@dataclass
class Variant:
    """One element of a DT_VARIANT tensor, decoded from its ``VariantTensorDataProto``."""

    type_name: str
    metadata: bytes
    tensors: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        inner = ", ".join(f"{getattr(t, 'dtype', type(t).__name__)}{list(np.shape(t))}" for t in self.tensors)
        return f"Variant({self.type_name!r}, metadata={len(self.metadata)} bytes, tensors=[{inner}])"


def variant_from_proto(proto: Any, budget: FillBudget | None = None) -> Variant:
    return Variant(proto.type_name, bytes(proto.metadata), [to_numpy(t, budget) for t in proto.tensors])


def to_numpy(proto: Any, budget: FillBudget | None = None) -> Any:
    """The value of a ``TensorProto`` as TensorFlow's ``tf.make_ndarray`` would give it.

    Raises ``TensorProtoError`` for a proto that does not hold such a value."""
    dtype = dtypes.from_enum(proto.dtype)
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    problem = check_shape(shape) or numpy_problem(shape)
    if problem:
        raise TensorProtoError(f"TensorProto with {problem}")
    n = math.prod(shape)
    if dtype.name == "variant":
        items = [variant_from_proto(v, budget) for v in proto.variant_val]
        return _filled(_objects(items), n, shape, budget)
    if dtype.name == "string":
        return _filled(_objects([bytes(s) for s in proto.string_val]), n, shape, budget)
    if not dtype.is_fixed_width:
        raise TensorProtoError(f"a TensorProto of dtype {dtype.name} holds no readable values")
    np_dtype = dtype.numpy
    if proto.tensor_content:
        if len(proto.tensor_content) != n * np_dtype.itemsize:
            raise TensorProtoError(
                f"tensor_content holds {len(proto.tensor_content)} bytes for {n} {dtype.name} values"
            )
        return np.frombuffer(proto.tensor_content, dtype=np_dtype).reshape(shape).copy()
    name = _FIELD.get(dtype.name)
    if name is None:
        name = "float8_val" if dtype.name.startswith("float") else "int_val"
    raw = getattr(proto, name)
    values: np.ndarray
    if name == "float8_val":
        values = np.frombuffer(bytes(raw), dtype=np.uint8).view(np_dtype)
    elif name == "half_val":
        halves = np.array(list(raw), dtype=np.int64)
        if halves.size and (halves.min() < 0 or halves.max() > 0xFFFF):
            raise TensorProtoError(f"half_val holds {int(halves.max())}, not a 16-bit pattern")
        values = halves.astype(np.uint16).view(np_dtype)
    elif name in ("scomplex_val", "dcomplex_val"):
        if len(raw) % 2:
            raise TensorProtoError(f"{name} holds {len(raw)} numbers, not (real, imaginary) pairs")
        values = np.array(list(raw), dtype=np_dtype.char.lower()).view(np_dtype)
    else:
        values = np.array(list(raw), dtype=_FIELD_TYPE[name]).astype(np_dtype)
    return _filled(np.asarray(values, dtype=np_dtype), n, shape, budget)


def _filled(values: np.ndarray, n: int, shape: tuple[int, ...], budget: FillBudget | None) -> np.ndarray:
    """TensorFlow repeats the last value when fewer than ``n`` are given (zeros when none)."""
    if len(values) > n:
        raise TensorProtoError(f"{len(values)} values for a tensor of {n} elements")
    if len(values) < n:  # a few bytes must not expand into gigabytes
        if budget is not None:
            budget.spend(n * values.dtype.itemsize, f"{len(values)} values")
        elif n > _MAX_FILL:
            raise TensorProtoError(f"{len(values)} values would be repeated to fill {n} elements")
    if len(values) < n:
        pad = values[-1] if len(values) else (b"" if values.dtype == object else 0)
        values = (
            np.concatenate([values, np.full(n - len(values), pad, dtype=values.dtype)])
            if len(values)
            else np.full(n, pad, dtype=values.dtype)
        )
    return values.reshape(shape)


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def from_numpy(value: Any) -> Any:
    """A ``TensorProto`` holding ``value`` (tensor_content for fixed-width dtypes)."""
    from .protos.ckptviz_format_pb2 import TensorProto, VariantTensorDataProto

    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype == object and arr.size and isinstance(arr.reshape(-1)[0], Variant):
        dtype = dtypes.from_enum(dtypes.VARIANT)
    else:
        dtype = dtypes.as_dtype(arr.dtype)
    proto = TensorProto(dtype=dtype.as_datatype_enum)  # type: ignore[arg-type]
    for d in arr.shape:
        proto.tensor_shape.dim.add().size = d
    if dtype.name == "string":
        proto.string_val.extend(
            v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in arr.reshape(-1)
        )
    elif dtype.name == "variant":
        for v in arr.reshape(-1):
            inner = VariantTensorDataProto(type_name=v.type_name, metadata=v.metadata)
            inner.tensors.extend(from_numpy(t) for t in v.tensors)
            proto.variant_val.append(inner)
    else:
        proto.tensor_content = np.ascontiguousarray(arr, dtype=dtype.numpy).tobytes()
    return proto
