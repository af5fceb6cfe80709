"""What a face shows of one tensor before anyone asks for all of it, and what showing it costs.

The server's tensor route and the widgets' tensor panel both call ``preview``: the first ``limit``
values, in C order, of the tensor or of a basic slice of it (``value[index]``), with its dtype and
shape. How much is read, and whether it is checked:

- a fixed-width tensor of at most ``VERIFY_MAX`` bytes is read whole and its CRC32C checked;
- a bigger one in a bundle has only the byte ranges holding the shown values read (a few KiB of a
  1 GiB tensor). A checksum covers a whole tensor, so those values are shown unchecked: ``verified``
  is False and ``note`` says so, for the face to tell the user;
- a string or variant tensor is decoded whole (its checksum covers the whole entry) up to
  ``STRINGS_MAX`` stored bytes, each string cut to ``STRING_MAX`` characters; a bigger one shows none;
- partitioned tensors and other formats (V1, Keras) are read whole, checked as their reader checks.

``verified`` is True only when a checksum covering the shown values was checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import (
    CorruptCheckpointError,
    InvalidArgumentError,
    KeyNotFoundError,
    UnsupportedCheckpointError,
)
from ..format.bundle import BundleReader
from ..format.entries import Entry
from ..format.naming import OBJECT_GRAPH_KEY
from ..format.shapes import numpy_problem
from ..format.tensor_proto import Variant
from .checkpoint import Checkpoint, human_size

PREVIEW_MAX = 1000  # values shown
VERIFY_MAX = 8 << 20  # bytes: tensors up to this are read whole and checked
STRINGS_MAX = 16 << 20  # stored bytes of a string or variant tensor decoded for a preview
STRING_MAX = 200  # characters of one string shown

Index = tuple[int | slice, ...]


@dataclass
class Preview:
    """``values``: the first ``len(values)`` elements (flat, C order) of the tensor ``key`` or of
    its slice ``index``, whose shape is ``part_shape``; ``truncated`` when the part holds more.
    ``read`` bytes were read for them; ``verified`` when a checksum covering them was checked;
    ``note`` says why not (or why no values are shown), in words for the user."""

    key: str
    dtype: str
    shape: tuple[int, ...]
    index: Index
    part_shape: tuple[int, ...]
    values: np.ndarray
    truncated: bool
    verified: bool
    read: int
    note: str | None = None

    @property
    def numeric(self) -> bool:
        return self.values.dtype != object

    def array(self) -> np.ndarray:
        """The values in the part's shape when they are all of it; else as many whole rows (last
        axis) as they fill, at least one value."""
        if not self.truncated:
            return self.values.reshape(self.part_shape)
        width = self.part_shape[-1] if self.part_shape else 1
        rows = len(self.values) // width if width else 0
        return self.values[: rows * width].reshape(rows, width) if rows else self.values

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: values as numbers (NaN and infinities as text), strings cut."""
        return {
            "shape": list(self.part_shape),
            "values": [json_value(x) for x in self.values.tolist()],
            "truncated": self.truncated,
            "verified": self.verified,
            "read_bytes": self.read,
            "note": self.note,
        }


def json_value(x: Any) -> Any:
    """One value as JSON holds it: bytes decoded and cut, NaN/Infinity and complex as text."""
    if isinstance(x, bytes):
        s = x.decode("utf-8", "backslashreplace")
        return s if len(s) <= STRING_MAX else s[:STRING_MAX] + "…"
    if isinstance(x, Variant):
        return str(x)[:STRING_MAX]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (complex, np.complexfloating)):
        return f"{complex(x)}"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)[:STRING_MAX]
    return f if math.isfinite(f) else str(f)  # JSON has no NaN or Infinity


def normalize(shape: tuple[int, ...], index: Index) -> tuple[Index, tuple[int, ...]]:
    """``index`` (numpy basic indexing: ints and slices, leading dimensions) with every int made
    non-negative and every slice explicit, and the shape of ``value[index]``."""
    if len(index) > len(shape):
        raise InvalidArgumentError(
            f"index {index!r} has {len(index)} dimensions; the tensor has {len(shape)}"
        )
    out: list[int | slice] = []
    part: list[int] = []
    for dim, (i, n) in enumerate(zip([*index, *[slice(None)] * (len(shape) - len(index))], shape)):
        if isinstance(i, slice):
            start, stop, step = i.indices(n)
            out.append(slice(start, stop, step))
            part.append(len(range(start, stop, step)))
        else:
            if not -n <= int(i) < n:
                raise InvalidArgumentError(f"index {i} is out of range for dimension {dim} of size {n}")
            out.append(int(i) % n)
    return tuple(out), tuple(part)


def positions(shape: tuple[int, ...], index: Index, count: int) -> np.ndarray:
    """Flat (C-order) positions in a tensor of ``shape`` of the first ``count`` elements of
    ``value[index]`` (``index`` as ``normalize`` makes it): O(count), whatever the tensor's size."""
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    sliced = [(d, i) for d, i in enumerate(index) if isinstance(i, slice)]
    base = sum(i * strides[d] for d, i in enumerate(index) if not isinstance(i, slice))
    flat = np.full(count, base, np.int64)
    if not sliced or not count:
        return flat
    dims = tuple(len(range(s.start, s.stop, s.step)) for _, s in sliced)
    for (d, s), at in zip(sliced, np.unravel_index(np.arange(count, dtype=np.int64), dims)):
        flat += (s.start + at.astype(np.int64) * s.step) * strides[d]
    return flat


def preview(ckpt: Checkpoint, key: str, index: Index = (), limit: int = PREVIEW_MAX) -> Preview:
    """The first ``limit`` values of ``ckpt[key][index]`` and how they were read (module docstring)."""
    entry = ckpt.entries.get(key)
    if entry is None:
        raise KeyNotFoundError(key, ckpt.entries)
    shape = tuple(entry.shape)
    exact, part = normalize(shape, index)
    size = math.prod(part)
    count = min(limit, size)
    reader = ckpt.reader

    def made(values: np.ndarray, verified: bool, read: int, note: str | None = None) -> Preview:
        return Preview(key, entry.dtype.name, shape, index, part, values, size > count, verified, read, note)

    checked = bool(getattr(reader, "verify", False))
    unchecked = None if checked else "values not checked: this checkpoint was opened without verification"
    if not entry.dtype.is_fixed_width or key == OBJECT_GRAPH_KEY:
        if entry.nbytes > STRINGS_MAX:
            note = f"a {entry.dtype.name} tensor of {human_size(entry.nbytes)}: too big to preview"
            return made(np.empty(0, object), False, 0, note)
        whole = np.asarray(ckpt.read(key))
        return made(_take(whole, index, count), checked, entry.nbytes, unchecked)
    ranged = isinstance(reader, BundleReader) and not entry.slices and entry.nbytes > VERIFY_MAX
    if not ranged or not count:
        whole = np.asarray(ckpt.read(key)) if count else np.empty(0, entry.dtype.numpy)
        return made(
            _take(whole, index, count), checked and count > 0, entry.nbytes if count else 0, unchecked
        )
    assert isinstance(reader, BundleReader)
    values, read = _read_positions(reader, entry, positions(shape, exact, count))
    note = (
        f"the first {count:,} of {size:,} values, read on their own from a {human_size(entry.nbytes)} tensor: "
        "not checked against its checksum (that needs all of it)"
    )
    return made(values, False, read, note)


def _take(whole: np.ndarray, index: Index, count: int) -> np.ndarray:
    part = whole[index] if index else whole
    return np.asarray(part).reshape(-1)[:count].copy()  # a copy: never a view of a whole big map


def _read_positions(reader: BundleReader, entry: Entry, flat: np.ndarray) -> tuple[np.ndarray, int]:
    """The elements at ``flat`` positions of a fixed-width bundle entry, reading only the runs of
    neighbouring elements that hold them (the store merges close runs into one read)."""
    problem = numpy_problem(entry.shape)
    if problem:
        raise UnsupportedCheckpointError(f"{reader.path}: cannot read {entry.key!r}, a tensor of {problem}")
    dtype = entry.dtype.numpy
    need = math.prod(entry.shape) * dtype.itemsize
    blob = reader.data_blob(entry)  # checks the entry's range lies in its data file
    if entry.size != need:
        raise CorruptCheckpointError(
            f"entry {entry.key!r} holds {entry.size} bytes but a {entry.dtype.name} tensor of shape "
            f"{list(entry.shape)} needs {need}",
            blob.path,
            entry.offset,
        )
    wanted = np.unique(flat)
    breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
    starts = wanted[np.r_[0, breaks]]
    ends = wanted[np.r_[breaks - 1, len(wanted) - 1]] + 1
    runs = [
        (entry.offset + int(s) * dtype.itemsize, int(e - s) * dtype.itemsize) for s, e in zip(starts, ends)
    ]
    data = b"".join(blob.read_ranges(runs))
    values = np.frombuffer(data, dtype=dtype)[np.searchsorted(wanted, flat)]  # a copy, in the order asked
    if reader.endian != "<" and dtype.itemsize > 1:  # as the reader swaps a big-endian bundle's values
        unit = dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize
        values.view(f"u{unit}").byteswap(inplace=True)
    return values, len(data)
