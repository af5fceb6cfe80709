"""TensorFlow's ``DataType`` enum (framework/types.proto) as ``DType`` objects.

Names are TensorFlow's (``tf.half.name == "float16"``); numpy types come from numpy and
ml_dtypes, quantized types are the same one-field structured dtypes TensorFlow uses.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

STRING, RESOURCE, VARIANT = 7, 20, 21

# enum value -> (TF name, numpy dtype or None for non-memcpy types)
_TABLE: dict[int, tuple[str, Any]] = {
    1: ("float32", np.float32),
    2: ("float64", np.float64),
    3: ("int32", np.int32),
    4: ("uint8", np.uint8),
    5: ("int16", np.int16),
    6: ("int8", np.int8),
    7: ("string", np.object_),
    8: ("complex64", np.complex64),
    9: ("int64", np.int64),
    10: ("bool", np.bool_),
    11: ("qint8", np.dtype([("qint8", "i1")])),
    12: ("quint8", np.dtype([("quint8", "u1")])),
    13: ("qint32", np.dtype([("qint32", "<i4")])),
    14: ("bfloat16", ml_dtypes.bfloat16),
    15: ("qint16", np.dtype([("qint16", "<i2")])),
    16: ("quint16", np.dtype([("quint16", "<u2")])),
    17: ("uint16", np.uint16),
    18: ("complex128", np.complex128),
    19: ("float16", np.float16),
    20: ("resource", None),
    21: ("variant", np.object_),
    22: ("uint32", np.uint32),
    23: ("uint64", np.uint64),
    24: ("float8_e5m2", ml_dtypes.float8_e5m2),
    25: ("float8_e4m3fn", ml_dtypes.float8_e4m3fn),
    26: ("float8_e4m3fnuz", ml_dtypes.float8_e4m3fnuz),
    27: ("float8_e4m3b11fnuz", ml_dtypes.float8_e4m3b11fnuz),
    28: ("float8_e5m2fnuz", ml_dtypes.float8_e5m2fnuz),
    29: ("int4", ml_dtypes.int4),
    30: ("uint4", ml_dtypes.uint4),
    31: ("int2", ml_dtypes.int2),
    32: ("uint2", ml_dtypes.uint2),
    33: ("float4_e2m1fn", ml_dtypes.float4_e2m1fn),
}
_REF_OFFSET = 100  # TF1 reference types: base value + 100


class DType:
    """One TensorFlow dtype: ``name`` as TF spells it, ``as_numpy_dtype``, ``as_datatype_enum``."""

    __slots__ = ("_numpy", "as_datatype_enum", "base_enum", "is_fixed_width", "name", "numpy", "size")

    def __init__(self, enum: int) -> None:
        base = enum - _REF_OFFSET if enum > _REF_OFFSET else enum
        self.as_datatype_enum, self.base_enum = enum, base
        # A value from a newer TensorFlow still lists; reading it is unsupported.
        name, numpy = _TABLE.get(base, (f"unknown_dtype_{base}", None))
        self.name = name + "_ref" if enum > _REF_OFFSET else name
        self._numpy = numpy
        # Attributes, not properties: the reader consults them for every tensor it reads.
        # is_fixed_width: stored as raw element bytes (TF's DataTypeCanUseMemcpy).
        self.is_fixed_width: bool = numpy is not None and base not in (STRING, VARIANT)
        # numpy: the dtype of values as read (quantized types as plain integers, as TF returns them).
        dt = np.dtype(numpy if numpy is not None else object)
        self.numpy: np.dtype[Any] = dt[0] if dt.names else dt
        # size: bytes per element on disk (int4 and friends are stored one per byte).
        self.size: int = self.numpy.itemsize if self.is_fixed_width else 0

    @property
    def as_numpy_dtype(self) -> Any:
        if self._numpy is None:
            raise TypeError(f"{self.name} tensors have no numpy equivalent")
        return self._numpy

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.as_datatype_enum == other.as_datatype_enum
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.as_datatype_enum)

    def __repr__(self) -> str:
        return f"ckptviz.{self.name}"

    def __str__(self) -> str:
        return self.name


_CACHE = {value: DType(value) for value in _TABLE}
_BY_NAME = {d.name: d for d in _CACHE.values()}
_BY_NAME["half"] = _CACHE[19]
_BY_NAME["float"] = _CACHE[1]
_BY_NAME["double"] = _CACHE[2]


def from_enum(value: int) -> DType:
    """The DType for a stored ``DataType`` value (unknown values give a DType that cannot be read)."""
    cached = _CACHE.get(value)
    return cached if cached is not None else DType(value)


def as_dtype(value: Any) -> DType:
    """A DType from a DType, an enum value, a TF name or anything numpy accepts."""
    if isinstance(value, DType):
        return value
    if isinstance(value, int):
        return from_enum(value)
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    dt = np.dtype(value)
    if dt.kind in "OSU":
        return _CACHE[STRING]
    for d in _CACHE.values():
        if d._numpy is not None and d.base_enum not in (STRING, VARIANT) and np.dtype(d._numpy) == dt:
            return d
    raise TypeError(f"no TensorFlow dtype for numpy dtype {dt}")


ALL = tuple(_CACHE.values())
