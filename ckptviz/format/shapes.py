"""The limits TensorFlow puts on a tensor shape (framework/tensor_shape.cc), checked before
anything is sized from a shape read off disk."""

from __future__ import annotations

from collections.abc import Sequence

MAX_RANK = 254  # TensorShape::MaxDimensions()
NUMPY_MAX_RANK = 64  # numpy's NPY_MAXDIMS: TF lists such tensors, numpy cannot hold their values
MAX_ELEMENTS = (1 << 63) - 1  # element counts are int64 in TensorFlow
# numpy sizes even an empty array by its non-zero dimensions, in bytes (16 per complex128)
_MAX_NONZERO = MAX_ELEMENTS // 16


def check_shape(shape: Sequence[int]) -> str | None:
    """None for a shape TensorFlow accepts, else what is wrong with it (a phrase)."""
    if len(shape) > MAX_RANK:
        return f"rank {len(shape)}, above TensorFlow's limit of {MAX_RANK}"
    n = nonzero = 1
    for d in shape:
        if d < 0:
            return f"a negative shape {list(shape)}"
        n *= d
        nonzero *= d or 1
    if n > MAX_ELEMENTS:
        return f"a shape {list(shape)} of more than 2**63 - 1 elements"
    if nonzero > _MAX_NONZERO:
        return f"a shape {list(shape)} too large for numpy, even without elements"
    return None


def numpy_problem(shape: Sequence[int]) -> str | None:
    """Why numpy cannot hold a value of this (TensorFlow-valid) shape, or None."""
    if len(shape) > NUMPY_MAX_RANK:
        return f"rank {len(shape)}, above the {NUMPY_MAX_RANK} dimensions a numpy array can have"
    return None
