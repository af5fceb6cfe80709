"""Derived checkpoints from a ``Checkpoint``, attached here as pandas attaches ``DataFrame.plot``:
the model layer reads, this layer derives. ``import ckptviz`` imports this module (it is small;
``derived.py`` loads on first use), so ``ckpt.select(...)`` always works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.checkpoint import Checkpoint

if TYPE_CHECKING:
    from .derived import DerivedCheckpoint


def derive(ckpt: Checkpoint) -> DerivedCheckpoint:
    """All of this checkpoint as a ``DerivedCheckpoint`` to select, rename, convert or save."""
    from .derived import DerivedCheckpoint

    return DerivedCheckpoint.of(ckpt)


def select(ckpt: Checkpoint, selector: Any = None, *, exclude: Any = None) -> DerivedCheckpoint:
    """The chosen object paths, keys, full names, key globs, node ids or keys passing a predicate."""
    return derive(ckpt).select(selector, exclude=exclude)


def rename(ckpt: Checkpoint, assignment_map: dict[str, str]) -> DerivedCheckpoint:
    """Keys or object paths renamed by an ``init_from_checkpoint`` assignment map."""
    return derive(ckpt).rename(assignment_map)


def save(ckpt: Checkpoint, prefix: str, *, overwrite: bool = False, max_shard_size: int | None = None) -> str:
    """A faithful copy (entries and object graph) at ``prefix``; returns the prefix."""
    return str(derive(ckpt).save(prefix, overwrite=overwrite, max_shard_size=max_shard_size))


def to_numpy(ckpt: Checkpoint, select: Any = None) -> dict[str, np.ndarray]:
    """``{path: array}`` of every (or the selected) tensor, without TensorFlow."""
    return dict(derive(ckpt).to_numpy(select))


def register() -> None:
    """Attach the derivations (idempotent)."""
    for name, fn in {
        "derive": derive,
        "select": select,
        "rename": rename,
        "save": save,
        "to_numpy": to_numpy,
    }.items():
        setattr(Checkpoint, name, fn)


register()
