"""Plain Python trees as restore targets: dicts and lists of numpy arrays, no TensorFlow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..format.dtypes import as_dtype
from ..model.paths import VARIABLE_VALUE as VALUE


class NestedAdapter:
    """Plain Python trees: dict keys and list indices are local names, arrays are variables."""

    def children(self, obj: Any) -> Mapping[str, Any]:
        if isinstance(obj, Mapping):
            return {str(k): v for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return {str(i): v for i, v in enumerate(obj)}
        return {}

    def values(self, obj: Any) -> Mapping[str, tuple[tuple[int, ...], str]]:
        if isinstance(obj, (Mapping, list, tuple)):
            return {}
        arr = np.asarray(obj)
        return {VALUE: (tuple(arr.shape), as_dtype(arr.dtype).name)}

    def slot(self, optimizer: Any, variable: Any, slot_name: str) -> Any:
        return None

    def name(self, obj: Any) -> str | None:
        return None

    def assignable(self, target: Any, value: np.ndarray) -> str | None:
        if not isinstance(target, np.ndarray):
            return f"a {type(target).__name__} cannot be filled in place; use numpy arrays as leaves"
        if not target.flags.writeable:
            return "the array is read-only"
        if not np.can_cast(value.dtype, target.dtype, "same_kind"):
            return f"a {value.dtype} value does not fit a {target.dtype} array"
        return None

    def assign(self, target: Any, value: np.ndarray) -> None:
        np.copyto(target, value)
