"""Restoring a checkpoint into live objects: TensorFlow ones, or plain trees of numpy arrays.

All or nothing: every pair is checked (``match.py``), every value read and CRC-checked, and every
target asked whether it can take its value, before the first assignment. The returned
``RestoreStatus`` answers TF's status assertions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import NothingMatchedError, RestoreMismatchError
from .match import check, default_adapter, prepare, raise_on_mismatch
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
        """Paths of object variables the checkpoint has no value for (left unchanged). A
        ``Checkpoint``'s own ``save_counter`` is not one: TF asks no checkpoint to hold it."""
        return [r.path for r in self.report.missing_in_checkpoint if r.path != "save_counter"]

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
    src: Any,
    into: Any,
    select: Any = None,
    *,
    exclude: Any = None,
    assignment_map: Mapping[str, str] | None = None,
    root: str | None = None,
    allow_empty: bool = False,
) -> RestoreStatus:
    """Restore ``src`` (path, ``Checkpoint`` or derived) into ``into``, all or nothing.

    ``into`` is a ``tf.Module``, Keras model/layer/optimizer or ``tf.train.Checkpoint`` (needs
    TensorFlow), or a nested dict/list of numpy arrays (filled in place, no TensorFlow). The
    arguments are ``check``'s: ``select``/``exclude`` choose values, ``assignment_map`` renames
    them, ``root`` names the checkpoint object ``into`` is. Raises, having assigned nothing, when a
    shape or dtype differs (``RestoreMismatchError``), when a selected value has no taker, or when
    nothing at all would be restored (``NothingMatchedError``; ``allow_empty=True`` accepts that).
    """
    adapter = default_adapter(into)
    tf = getattr(adapter, "tf", None)
    if tf is not None and isinstance(into, tf.train.Checkpoint):
        _ = into.save_counter  # created on restore by TF too, so it can be matched
    view = prepare(src, select, exclude, assignment_map)
    report = check(view, into, root=root, adapter=adapter)
    raise_on_mismatch(report)
    # TF's Checkpoint makes and restores save_counter whatever else happens: it does not count
    restored = [r for r in report.matched if r.key and not r.key.startswith("save_counter/")]
    if not restored and not allow_empty:
        unbuilt: list[str] = getattr(adapter, "unbuilt", lambda _: [])(into)
        if unbuilt:
            shown = ", ".join(repr(u) for u in unbuilt[:5])
            raise NothingMatchedError(
                f"nothing was restored: {shown} {'has' if len(unbuilt) == 1 else 'have'} no variables yet "
                "(an unbuilt Keras model or layer); call the model once on a batch, or build(input_shape), "
                "then restore"
            )
        raise NothingMatchedError(f"nothing was restored: {report.no_match_hint()}")
    if select is not None:
        unused = [
            r.name or r.path
            for r in report.missing_in_object
            if r.key and not r.key.startswith("save_counter/")
        ]
        if unused:
            raise RestoreMismatchError(
                f"{len(unused)} selected value(s) have no taker in the object, nothing was restored: "
                f"{_show(unused)}; fix the selection or the object (report: ckptviz.check(...))",
                report,
            )
    pairs: list[tuple[Row, np.ndarray]] = [(r, view.read(r.key)) for r in report.matched if r.key]
    refused = [(r.path, why) for r, v in pairs if (why := adapter.assignable(r.target, v)) is not None]
    if refused:
        shown = "; ".join(f"{p}: {why}" for p, why in refused[:5])
        raise RestoreMismatchError(
            f"{len(refused)} value(s) cannot be assigned, nothing was restored: {shown}", report
        )
    for row, value in pairs:
        adapter.assign(row.target, value)
    return RestoreStatus(report, view.is_object_based)
