"""What every checkpoint reader offers (``BundleReader``, ``V1Reader``, ``KerasReader``), so
the layers above can hold any of them without knowing which.

Readers decode lazily and may be shared between threads. ``close()`` is final: any later read
raises ``ClosedCheckpointError``; closing twice is fine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from .entries import Entry
    from .storage import Blob


@runtime_checkable
class Reader(Protocol):
    """Keyed tensors of one checkpoint: metadata without reading data, values on request."""

    @property
    def path(self) -> str:
        """The prefix of a bundle, else the file that was opened."""

    @property
    def entries(self) -> Mapping[str, Entry]:
        """Metadata of every tensor by key, in key order (no tensor data is read)."""

    @property
    def num_shards(self) -> int:
        """Data files (bundles), shard files (V1, Keras): 1 for a single file."""

    def read(self, key: str) -> np.ndarray[Any, Any]:
        """The value of ``key``; ``KeyNotFoundError`` if there is none."""

    def close(self) -> None:
        """Release files; later reads raise ``ClosedCheckpointError``."""


@runtime_checkable
class RawReader(Reader, Protocol):
    """A reader that can hand out a tensor's stored bytes for a verbatim copy (bundles)."""

    @property
    def endian(self) -> str:
        """``<`` or ``>``: the byte order of the stored tensor bytes."""

    def raw_chunks(self, entry: Entry) -> tuple[Iterator[bytes | memoryview], int]:
        """The stored bytes of ``entry`` in order (checksummed while streaming) and their masked CRC32C."""


class Opener(Protocol):
    """Where a reader gets its files: ``storage`` (by path, local or remote) by default, or a
    set of files already opened confined to a directory (``confined.HeldFiles``)."""

    def open_blob(self, path: str) -> Blob: ...

    def read_bytes(self, path: str, limit: int | None = None) -> bytes: ...
