"""Plain records of the model layer. Each has ``to_dict()``: JSON-ready data (dtype names, shapes
as lists, node ids as identity) that the faces (CLI, widgets, server) send as they are."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..format.dtypes import as_dtype
from ..format.entries import Entry
from .paths import unescape_local_name

if TYPE_CHECKING:
    from .paths import NodePaths

Kind = Literal["optimizer", "variable", "slot", "other"]
KINDS: tuple[Kind, ...] = ("optimizer", "variable", "slot", "other")


class Edge(NamedTuple):
    """A ``children`` reference: ``parent --local_name--> child`` (local_name raw, unescaped)."""

    parent: int
    local_name: str
    child: int

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "local_name": self.local_name, "child": self.child}


class Slot(NamedTuple):
    """An optimizer slot: ``slot_id`` holds state ``slot_name`` of ``optimizer_id`` for ``variable_id``.

    ``inferred`` is False for TF's recorded ``slot_variables`` and True for links ckptviz infers
    (Keras 3 and new tf_keras optimizers, TF1 name-based slots).
    """

    optimizer_id: int
    variable_id: int
    slot_name: str
    slot_id: int
    inferred: bool

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class Value(NamedTuple):
    """Metadata of one bundle entry: never the tensor itself."""

    key: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "dtype": self.dtype, "shape": list(self.shape), "nbytes": self.nbytes}


@dataclass(frozen=True)
class Attribute:
    """A ``SerializedTensor``; ``keys`` are the bundle entries it owns (exact key, else by prefix)."""

    name: str
    full_name: str
    checkpoint_key: str
    keys: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "full_name": self.full_name,
            "checkpoint_key": self.checkpoint_key,
            "keys": list(self.keys),
        }


@dataclass(eq=False)
class Node:
    """One object. ``path`` is its escaped key prefix (``""`` for the root), built on request."""

    id: int
    kind: Kind = "other"
    attributes: tuple[Attribute, ...] = ()
    values: tuple[Value, ...] = ()
    has_checkpoint_values: bool = True
    registered_saver: str = ""
    reachable: bool = True  # via ``children`` from the root (slot variables are not)
    paths: NodePaths | None = field(default=None, repr=False)
    fixed_path: str = ""  # the path of a node that belongs to no graph (a drawing's stand-in)

    @property
    def path(self) -> str:
        return self.paths.path(self.id) if self.paths is not None else self.fixed_path

    @property
    def name(self) -> str:
        """The local name (unescaped last path segment); ``""`` for the root."""
        if self.paths is not None and self.paths.parent[self.id] >= 0:
            return unescape_local_name(self.paths.segment[self.id])
        path = self.path
        return unescape_local_name(path.rsplit("/", 1)[-1]) if path else ""

    @property
    def full_name(self) -> str:
        return next((a.full_name for a in self.attributes if a.full_name), "")

    @property
    def dtype(self) -> str | None:
        return self.values[0].dtype if len(self.values) == 1 else None

    @property
    def shape(self) -> tuple[int, ...] | None:
        return self.values[0].shape if len(self.values) == 1 else None

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.values)

    @property
    def keys(self) -> list[str]:
        return [v.key for v in self.values]

    def to_dict(self) -> dict[str, Any]:
        shape = self.shape
        return {
            "id": self.id,
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "full_name": self.full_name,
            "dtype": self.dtype,
            "shape": None if shape is None else list(shape),
            "nbytes": self.nbytes,
            "keys": self.keys,
            "attributes": [a.to_dict() for a in self.attributes],
            "has_checkpoint_values": self.has_checkpoint_values,
            "registered_saver": self.registered_saver,
            "reachable": self.reachable,
        }


class EntryRecord(NamedTuple):
    """One tensor as a listing shows it: its key, the name people know it by, and its object
    (``path`` is the object's display path: ``model/conv1_conv/kernel``)."""

    key: str
    name: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int
    shard: int
    node_id: int | None
    path: str | None
    kind: Kind | None

    def to_dict(self) -> dict[str, Any]:
        out = self._asdict()
        out["shape"] = list(self.shape)
        return out


def value_of(key: str, meta: Any) -> Value:
    """A Value from an Entry, a ``(dtype, shape)`` pair or a ``{"dtype", "shape"}`` mapping."""
    if type(meta) is Entry:  # the common case, on every key of a checkpoint
        return Value(key, meta.dtype.name, meta.shape, meta.nbytes)
    if isinstance(meta, Mapping):
        dtype, shape, nbytes = meta["dtype"], meta["shape"], meta.get("nbytes")
    elif isinstance(meta, tuple) and not hasattr(meta, "dtype"):
        dtype, shape, nbytes = meta[0], meta[1], meta[2] if len(meta) > 2 else None
    else:
        dtype, shape, nbytes = meta.dtype, meta.shape, getattr(meta, "nbytes", None)
    name = dtype if isinstance(dtype, str) else dtype.name
    shape = tuple(int(d) for d in shape)
    if nbytes is None:  # strings and variants: unknown without the data, counted as 0
        nbytes = math.prod(shape) * as_dtype(name).size
    return Value(key, name, shape, int(nbytes))
