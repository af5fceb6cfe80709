"""Restoring a checkpoint into live objects: TensorFlow ones, or plain trees of numpy arrays.

All or nothing: every pair is checked (``match.py``), every value read and CRC-checked, and every
target asked whether it can take its value, before the first assignment. The returned
``RestoreStatus`` answers TF's status assertions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import RestoreMismatchError
from ..transform.derived import derive
from .match import check, default_adapter, raise_on_mismatch
from .report import CheckReport, Row


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
    view = derive(src)
    if select is not None:
        view = view.select(select)
    if assignment_map:
        view = view.rename(assignment_map)
    adapter = default_adapter(into)
    tf = getattr(adapter, "tf", None)
    if tf is not None and isinstance(into, tf.train.Checkpoint):
        _ = into.save_counter  # created on restore by TF too, so it can be matched
    report = check(view, into, adapter)
    raise_on_mismatch(report)
    pairs: list[tuple[Row, np.ndarray]] = [(r, view.read(r.key)) for r in report.matched if r.key]
    refused = [(r.path, why) for r, v in pairs if (why := adapter.assignable(r.target, v)) is not None]
    if refused:
        shown = "; ".join(f"{p}: {why}" for p, why in refused[:5])
        raise RestoreMismatchError(f"{len(refused)} value(s) cannot be assigned, nothing was restored: {shown}", report)
    for row, value in pairs:
        adapter.assign(row.target, value)
    return RestoreStatus(report, view.is_object_based)
