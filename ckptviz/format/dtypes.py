"""TensorFlow's ``DataType`` enum (framework/types.proto) as ``DType`` objects.

Names are TensorFlow's (``tf.half.name == "float16"``); numpy types come from numpy and
ml_dtypes, quantized types are the same one-field structured dtypes TensorFlow uses. Every
numpy dtype is explicitly little-endian, the byte order of checkpoints (big-endian bundles are
byte-swapped when read).

ml_dtypes is imported only when a dtype it defines (bfloat16, float8, int4, ...) is first
asked for its numpy type: importing it costs more than the rest of ckptviz together.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..errors import UnknownDTypeError

STRING, RESOURCE, VARIANT = 7, 20, 21

# enum value -> (TF name, numpy type, an ml_dtypes attribute name (bytes per element), or None
# for types without a memcpy-able value)
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
    14: ("bfloat16", ("bfloat16", 2)),
    15: ("qint16", np.dtype([("qint16", "<i2")])),
    16: ("quint16", np.dtype([("quint16", "<u2")])),
    17: ("uint16", np.uint16),
    18: ("complex128", np.complex128),
    19: ("float16", np.float16),
    20: ("resource", None),
    21: ("variant", np.object_),
    22: ("uint32", np.uint32),
    23: ("uint64", np.uint64),
    24: ("float8_e5m2", ("float8_e5m2", 1)),
    25: ("float8_e4m3fn", ("float8_e4m3fn", 1)),
    26: ("float8_e4m3fnuz", ("float8_e4m3fnuz", 1)),
    27: ("float8_e4m3b11fnuz", ("float8_e4m3b11fnuz", 1)),
    28: ("float8_e5m2fnuz", ("float8_e5m2fnuz", 1)),
    29: ("int4", ("int4", 1)),
    30: ("uint4", ("uint4", 1)),
    31: ("int2", ("int2", 1)),
    32: ("uint2", ("uint2", 1)),
    33: ("float4_e2m1fn", ("float4_e2m1fn", 1)),
}
_REF_OFFSET = 100  # TF1 reference types: base value + 100


def _little_endian(dt: np.dtype[Any]) -> np.dtype[Any]:
    return dt.newbyteorder("<") if dt.byteorder not in ("|", "<") else dt


class DType:
    """One TensorFlow dtype: ``name`` as TF spells it, ``as_numpy_dtype``, ``as_datatype_enum``.

    Equal to another DType of the same enum value, to its TF name, to the numpy type or dtype
    it maps to, and to anything with an ``as_datatype_enum`` (TensorFlow's ``tf.float32``).
    """

    __slots__ = ("_ml", "_numpy", "_type", "as_datatype_enum", "base_enum", "is_fixed_width", "name", "size")

    def __init__(self, enum: int) -> None:
        base = enum - _REF_OFFSET if enum > _REF_OFFSET else enum
        self.as_datatype_enum, self.base_enum = enum, base
        # A value from a newer TensorFlow still lists; reading it is unsupported.
        name, spec = _TABLE.get(base, (f"unknown_dtype_{base}", None))
        self.name = name + "_ref" if enum > _REF_OFFSET else name
        # Attributes, not properties: the reader consults them for every tensor it reads.
        # is_fixed_width: stored as raw element bytes (TF's DataTypeCanUseMemcpy).
        self.is_fixed_width: bool = spec is not None and base not in (STRING, VARIANT)
        self._ml: str | None = spec[0] if isinstance(spec, tuple) else None
        self._type: Any = None if isinstance(spec, tuple) else spec
        self._numpy: np.dtype[Any] | None = None
        if self._ml is None:
            self._resolve()
        # size: bytes per element on disk (int4 and friends are stored one per byte).
        self.size: int = (
            (spec[1] if isinstance(spec, tuple) else self.numpy.itemsize) if self.is_fixed_width else 0
        )

    def _resolve(self) -> np.dtype[Any]:
        if self._ml is not None and self._type is None:
            import ml_dtypes

            self._type = getattr(ml_dtypes, self._ml)
        dt = np.dtype(self._type if self._type is not None else object)
        # numpy: the dtype of values as read (quantized types as plain integers, as TF returns them).
        self._numpy = _little_endian(dt[0] if dt.names else dt)
        return self._numpy

    @property
    def numpy(self) -> np.dtype[Any]:
        """The little-endian numpy dtype of values as read (object for strings and variants)."""
        return self._numpy if self._numpy is not None else self._resolve()

    @property
    def as_numpy_dtype(self) -> Any:
        if not self.is_fixed_width and self.base_enum not in (STRING, VARIANT):
            raise UnknownDTypeError(f"{self.name} tensors have no numpy equivalent")
        if self._type is None:
            self._resolve()
        return self._type

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.as_datatype_enum == other.as_datatype_enum
        if isinstance(other, str):
            return self.name == other
        enum = getattr(other, "as_datatype_enum", None)
        if isinstance(enum, int):
            return self.as_datatype_enum == enum
        if isinstance(other, (np.dtype, type)):
            try:
                return self == as_dtype(other)
            except (UnknownDTypeError, TypeError):
                return False
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
# Plain numpy dtypes -> DType; ml_dtypes ones are looked up only once ml_dtypes is loaded.
_BY_NUMPY = {
    np.dtype(d._type): d
    for d in _CACHE.values()
    if d._type is not None and d.is_fixed_width and not np.dtype(d._type).names
}


def from_enum(value: int) -> DType:
    """The DType for a stored ``DataType`` value (unknown values give a DType that cannot be read)."""
    cached = _CACHE.get(value)
    return cached if cached is not None else DType(value)


def as_dtype(value: Any) -> DType:
    """A DType from a DType, an enum value, a TF name, a TF DType or anything numpy accepts."""
    if isinstance(value, DType):
        return value
    if isinstance(value, int):
        return from_enum(value)
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    enum = getattr(value, "as_datatype_enum", None)
    if isinstance(enum, int):
        return from_enum(enum)
    try:
        dt = np.dtype(value)
    except TypeError:
        raise UnknownDTypeError(f"no TensorFlow dtype for {value!r}") from None
    if dt.kind in "OSU":
        return _CACHE[STRING]
    if dt.byteorder not in ("|", "="):
        dt = dt.newbyteorder("=")
    found = _BY_NUMPY.get(dt)
    if found is not None:
        return found
    if "ml_dtypes" in sys.modules:  # a value of an ml_dtypes type means it is loaded already
        for d in _CACHE.values():
            if d._ml is not None and d.numpy == dt:
                return d
    for d in _CACHE.values():  # TF's quantized structured dtypes
        if d._type is not None and d.is_fixed_width and np.dtype(d._type) == dt:
            return d
    raise UnknownDTypeError(f"no TensorFlow dtype for numpy dtype {dt}")


ALL = tuple(_CACHE.values())
