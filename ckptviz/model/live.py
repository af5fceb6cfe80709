"""Restoring a checkpoint into live objects: TensorFlow ones, or plain trees of numpy arrays.

TensorFlow is imported only inside ``TFAdapter`` methods, so ``import ckptviz`` never needs it.
Every pair is checked (``check.py``) before the first assignment: a shape or dtype mismatch
restores nothing. The returned ``RestoreStatus`` answers TF's status assertions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .check import VALUE, Adapter, CheckReport, NestedAdapter, Row, check, raise_on_mismatch
from .restore import open_view


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
        name = str(getattr(obj, "name", "") or "")
        return name[:-2] if name.endswith(":0") else name or None

    def assign(self, target: Any, value: np.ndarray) -> None:
        target.assign(value)


def _is_variable(obj: Any) -> bool:
    """tf.Variable and Keras 3 variables: anything with a shape, a dtype and assign()."""
    return all(hasattr(obj, a) for a in ("assign", "shape", "dtype")) and not hasattr(
        obj, "trainable_variables"
    )


class RestoreStatus:
    """What a restore matched, with TF's status assertions (``tf.train.Checkpoint.restore``)."""

    def __init__(self, report: CheckReport, object_based: bool) -> None:
        self.report, self.object_based = report, object_based
        self._partial = False

    @property
    def matched(self) -> dict[str, str]:
        """``{path: checkpoint key}`` of every restored value."""
        return {r.path: r.key or r.path for r in self.report.matched}

    @property
    def unmatched_checkpoint(self) -> list[str]:
        """Checkpoint values that no object received."""
        return [r.key or r.path for r in self.report.missing_in_object]

    @property
    def unmatched_objects(self) -> list[str]:
        """Paths of object variables the checkpoint has no value for (left unchanged)."""
        return [r.path for r in self.report.missing_in_checkpoint]

    def assert_consumed(self) -> RestoreStatus:
        """Every checkpoint value and every object variable was matched."""
        self.assert_existing_objects_matched()
        if self.object_based and self.unmatched_checkpoint:  # TF's name-based status checks objects only
            raise AssertionError(
                f"Unresolved values in checkpoint: {_show(self.unmatched_checkpoint)} (restore with "
                "select= to take only part, or expect_partial())"
            )
        return self

    def assert_existing_objects_matched(self) -> RestoreStatus:
        """Every existing object variable received a value (checkpoint extras are fine)."""
        if self.unmatched_objects:
            raise AssertionError(
                f"Found {len(self.unmatched_objects)} Python objects that were not bound to checkpointed "
                f"values: {_show(self.unmatched_objects)}"
            )
        return self

    def assert_nontrivial_match(self) -> RestoreStatus:
        """Something besides the root matched."""
        if not self.object_based:
            return self.assert_consumed()
        if len(self.report.matched_nodes) <= 1 or not self.report.matched:
            raise AssertionError(
                "Nothing except the root object matched a checkpointed value; the checkpoint does not "
                f"match the object (objects without values: {_show(self.unmatched_objects)})"
            )
        return self

    def expect_partial(self) -> RestoreStatus:
        """Unmatched checkpoint values are expected (ckptviz never warns about them)."""
        self._partial = True
        return self

    def __repr__(self) -> str:
        return (
            f"<ckptviz.RestoreStatus: {len(self.matched)} restored, {len(self.unmatched_checkpoint)} checkpoint "
            f"values unused, {len(self.unmatched_objects)} object variables without a value>"
        )


def _show(items: list[str], n: int = 10) -> str:
    more = f" … and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(repr(i) for i in items[:n]) + more


def restore(
    src: Any, into: Any, select: Any = None, assignment_map: Mapping[str, str] | None = None
) -> RestoreStatus:
    """Restore ``src`` (path, ``Checkpoint`` or view) into ``into``, all or nothing.

    ``into`` is a ``tf.Module``, Keras model/layer/optimizer or ``tf.train.Checkpoint`` (needs
    TensorFlow), or a nested dict/list of numpy arrays (filled in place, no TensorFlow).
    ``select`` and ``assignment_map`` choose and rename checkpoint values first, as in
    ``Checkpoint.select`` / ``Checkpoint.rename``. Raises ``RestoreMismatchError`` listing every
    path whose shape or dtype differs, having assigned nothing.
    """
    view = open_view(src)
    if select is not None:
        view = view.select(select)
    if assignment_map:
        view = view.rename(assignment_map)
    adapter: Adapter = NestedAdapter() if isinstance(into, (Mapping, list, tuple)) else TFAdapter()
    if isinstance(adapter, TFAdapter) and isinstance(into, adapter.tf.train.Checkpoint):
        _ = into.save_counter  # created on restore by TF too, so it can be matched
    report = check(view, into, adapter)
    raise_on_mismatch(report)
    pairs: list[tuple[Row, np.ndarray]] = [(r, view.read(r.key)) for r in report.matched if r.key]
    for row, value in pairs:  # every value is read (and CRC-checked) before the first assignment
        adapter.assign(row.target, value)
    return RestoreStatus(report, view.is_object_based)
