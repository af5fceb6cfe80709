"""``Checkpoint``: one checkpoint, whatever its path form and file format, as keyed tensors."""

from __future__ import annotations

import html
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CheckpointError
from ..format import naming, storage
from ..format.bundle import BundleReader, Entry
from ..format.dtypes import DType
from ..format.locate import Location, locate

if TYPE_CHECKING:
    import pandas

    from .graph import ObjectGraph
    from .restore import CheckpointView

_HTML_ROWS = 40


def human_size(n: float) -> str:
    """``2.6 KiB``: byte counts as people read them."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _open_reader(location: Location, verify: bool) -> Any:
    if location.kind == "bundle":
        return BundleReader(location.path, verify)
    if location.kind == "v1":
        from ..format.legacy import V1Reader

        return V1Reader(location.path, verify)
    from ..format.keras import KerasReader

    return KerasReader(location.path)


class Checkpoint:
    """A checkpoint opened for reading: ``entries`` (metadata only) and lazy ``read(key)``.

    ``path`` may be a prefix, its ``.index``, a ``.data-*`` file, a directory (the latest
    checkpoint, or a SavedModel's variables), a V1 checkpoint file, a Keras ``.weights.h5`` /
    ``.keras`` file, or a URL fsspec understands. ``verify=False`` skips CRC32C checks.
    """

    def __init__(self, path: str, verify: bool = True) -> None:
        self.location = locate(str(path))
        self.path = self.location.path
        self.format = self.location.kind
        self._reader = _open_reader(self.location, verify)

    # -- mapping-like access to keys -----------------------------------------------------------

    @property
    def entries(self) -> dict[str, Entry]:
        """Metadata of every tensor by key: dtype, shape, nbytes, shard, offset… (no tensor data)."""
        return self._reader.entries  # type: ignore[no-any-return]

    def dtypes_and_shapes(self) -> dict[str, tuple[DType, tuple[int, ...]]]:
        """``{key: (dtype, shape)}``: what listing needs, faster than ``entries`` on big bundles."""
        if isinstance(self._reader, BundleReader):
            return self._reader.dtypes_and_shapes()
        return {k: (e.dtype, e.shape) for k, e in self.entries.items()}

    def keys(self) -> list[str]:
        return list(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def read(self, key: str) -> np.ndarray:
        """The value of ``key`` as an array (strings: bytes objects; variants: ``Variant``)."""
        return self._reader.read(key)  # type: ignore[no-any-return]  # raises KeyNotFoundError

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.entries.values())

    @property
    def num_shards(self) -> int:
        return getattr(self._reader, "num_shards", 1)

    # -- the object graph ----------------------------------------------------------------------

    @property
    def is_object_based(self) -> bool:
        return naming.OBJECT_GRAPH_KEY in self.entries

    @cached_property
    def object_graph_proto(self) -> Any:
        """The ``TrackableObjectGraph`` message, or None for name-based checkpoints."""
        if not self.is_object_based:
            return None
        from ..errors import CorruptCheckpointError
        from ..format.protos.ckptviz_format_pb2 import TrackableObjectGraph

        raw = self.read(naming.OBJECT_GRAPH_KEY)[()]
        try:
            return TrackableObjectGraph.FromString(raw)
        except Exception as e:  # protobuf's DecodeError
            raise CorruptCheckpointError(f"bad {naming.OBJECT_GRAPH_KEY}: {e}", self.path) from None

    @cached_property
    def graph(self) -> ObjectGraph:
        """Objects and their dependencies (a scope tree built from keys when name-based)."""
        from .graph import ObjectGraph

        return ObjectGraph.from_checkpoint(self)

    # -- the directory around it ---------------------------------------------------------------

    @cached_property
    def state(self) -> naming.CheckpointState | None:
        """The ``checkpoint`` file next to this checkpoint (CheckpointManager's history), if any."""
        return naming.get_checkpoint_state(storage.dirname(self.path) or ".")

    # -- views ---------------------------------------------------------------------------------

    def to_pandas(self) -> pandas.DataFrame:
        import pandas

        rows = [(e.key, e.dtype.name, list(e.shape), e.nbytes, e.shard) for e in self.entries.values()]
        return pandas.DataFrame(rows, columns=["key", "dtype", "shape", "nbytes", "shard"])

    def __repr__(self) -> str:
        try:
            kind = "object-based" if self.is_object_based else "name-based"
            if self.format != "bundle":
                kind = {"v1": "V1 name-based", "keras": "Keras weights"}[self.format]
            return (
                f"<ckptviz.Checkpoint {self.path!r}: {len(self)} tensors, {human_size(self.nbytes)}, {kind}>"
            )
        except CheckpointError as e:  # entries are decoded on first use; a repr must not raise
            return f"<ckptviz.Checkpoint {self.path!r}: unreadable: {e}>"

    def _repr_html_(self) -> str:
        try:
            self.entries  # noqa: B018 - decodes them, or says why it cannot
        except CheckpointError:
            return f"<div><b>{html.escape(repr(self))}</b></div>"
        rows = []
        for e in list(self.entries.values())[:_HTML_ROWS]:
            shape = "×".join(map(str, e.shape)) or "scalar"
            rows.append(
                f"<tr><td style='text-align:left'><code>{html.escape(e.key)}</code></td><td>{e.dtype.name}</td>"
                f"<td>{shape}</td><td>{human_size(e.nbytes)}</td></tr>"
            )
        more = len(self) - _HTML_ROWS
        tail = f"<tr><td colspan=4>… {more} more (use .to_pandas())</td></tr>" if more > 0 else ""
        return (
            f"<div><b>{html.escape(repr(self))}</b><table><thead><tr><th>key</th><th>dtype</th><th>shape</th>"
            f"<th>size</th></tr></thead><tbody>{''.join(rows)}{tail}</tbody></table></div>"
        )

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing and restoring (see restore.py) --

    def view(self) -> CheckpointView:
        """All of this checkpoint as a ``ckptviz.model.restore.CheckpointView`` (select, rename, save)."""
        from .restore import CheckpointView

        return CheckpointView.of(self)

    def select(self, selector: Any) -> CheckpointView:
        """A ``CheckpointView`` of the chosen object paths, key globs, node ids or keys passing a predicate."""
        return self.view().select(selector)

    def rename(self, assignment_map: dict[str, str]) -> CheckpointView:
        """A ``CheckpointView`` with keys or object paths renamed by an ``init_from_checkpoint`` map."""
        return self.view().rename(assignment_map)

    def save(self, prefix: str, *, overwrite: bool = False, max_shard_size: int | None = None) -> str:
        """A faithful copy (entries and object graph) at ``prefix``; returns the prefix."""
        return str(self.view().save(prefix, overwrite=overwrite, max_shard_size=max_shard_size))

    def to_numpy(self, select: Any = None) -> dict[str, np.ndarray]:
        """``{path: array}`` of every (or the selected) tensor, without TensorFlow."""
        return dict(self.view().to_numpy(select))


def open(path: str, verify: bool = True) -> Checkpoint:  # noqa: A001 - mirrors ckptviz.open
    """Open any checkpoint path form; see ``Checkpoint``."""
    return Checkpoint(path, verify)
