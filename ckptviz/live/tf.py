"""TensorFlow and Keras objects as restore targets: the only module that imports TensorFlow, lazily,
when the adapter is made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..model.paths import VARIABLE_VALUE as VALUE


class TFAdapter:
    """``tf.Module``, Keras and ``tf.train.Checkpoint`` objects seen as TF's checkpointer sees them."""

    def __init__(self) -> None:
        import tensorflow as tf

        self.tf = tf

    def children(self, obj: Any) -> Mapping[str, Any]:
        if not isinstance(obj, self.tf.__internal__.tracking.Trackable) or _is_variable(obj):
            return {}
        return dict(self.tf.train.TrackableView.children(obj))

    def values(self, obj: Any) -> Mapping[str, tuple[tuple[int, ...], str]]:
        if not _is_variable(obj):
            return {}
        return {VALUE: (tuple(int(d) for d in obj.shape), str(getattr(obj.dtype, "name", obj.dtype)))}

    def slot(self, optimizer: Any, variable: Any, slot_name: str) -> Any:
        get_slot = getattr(optimizer, "get_slot", None)  # TF1 and legacy Keras optimizers
        if get_slot is None:
            return None
        try:
            return get_slot(variable, slot_name)
        except (KeyError, ValueError, AttributeError):
            return None  # slots not created yet (TF would defer; we report them unmatched)

    def name(self, obj: Any) -> str | None:
        """The TF1 name a name-based checkpoint keys it by; a Keras 3 variable's ``path``
        (``dense/kernel``: its ``name`` is only ``kernel``)."""
        path = getattr(obj, "path", None)
        if isinstance(path, str) and path:
            return path
        name = str(getattr(obj, "name", "") or "")
        return name[:-2] if name.endswith(":0") else name or None

    def unbuilt(self, root: Any) -> list[str]:
        """Keras layers and models under ``root`` that have not created their variables yet."""
        from .match import live_objects

        return [
            path or type(obj).__name__
            for path, obj in live_objects(root, self)
            if getattr(obj, "built", True) is False
        ]

    def assignable(self, target: Any, value: np.ndarray) -> str | None:
        return None if hasattr(target, "assign") else f"a {type(target).__name__} has no assign()"

    def assign(self, target: Any, value: np.ndarray) -> None:
        target.assign(value)


def _is_variable(obj: Any) -> bool:
    """tf.Variable and Keras 3 variables: anything with a shape, a dtype and assign()."""
    return all(hasattr(obj, a) for a in ("assign", "shape", "dtype")) and not hasattr(
        obj, "trainable_variables"
    )
