"""Random access to checkpoint files, local or remote, and the path rules around them.

Local files are read with ``pread`` straight into the caller's buffer; anything with a URL
scheme goes through fsspec (remote.py), by byte ranges, so a remote checkpoint is never
downloaded whole. ``using(storage_options)`` sets the options of remote stores for the code it
wraps, and remembers what it looked up there (one HEAD per file per open, not five).
"""

from __future__ import annotations

import errno
import mmap
import os
import posixpath
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import numpy as np

from ..errors import (
    CheckpointNotFoundError,
    CorruptCheckpointError,
    NotARegularFileError,
)
from . import ranges

LOCAL_GAP = 64 << 10  # bytes worth reading through on a local disk rather than seeking
LOCAL_PART = 64 << 20


class Blob(Protocol):
    """One file: its ``path`` and ``size``, and exact reads at any offset."""

    path: str
    size: int

    def read(self, offset: int, n: int) -> bytes: ...
    def readinto(self, offset: int, out: Any) -> None: ...
    def read_ranges(self, wanted: list[tuple[int, int]]) -> list[bytearray]: ...
    def close(self) -> None: ...


class _Scope:
    """The remote-store options in force, and the ``info`` of every URL looked up under them."""

    def __init__(self, options: Mapping[str, Any] | None) -> None:
        self.options = dict(options or {})
        self.found: dict[str, dict[str, Any] | None] = {}


_SCOPE: ContextVar[_Scope | None] = ContextVar("ckptviz_storage_scope", default=None)


@contextmanager
def using(options: Mapping[str, Any] | None) -> Iterator[None]:
    """Remote paths opened inside read their store with ``options`` (fsspec ``storage_options``:
    endpoint, credentials, ``anon``…); lookups are remembered until the block ends."""
    token = _SCOPE.set(_Scope(options))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def current_options() -> dict[str, Any]:
    """The options of the innermost ``using`` (readers keep them for files they open later)."""
    scope = _SCOPE.get()
    return dict(scope.options) if scope is not None else {}


def _options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(options) if options is not None else current_options()


def _info(url: str, options: Mapping[str, Any]) -> dict[str, Any] | None:
    from . import remote

    scope = _SCOPE.get()
    if scope is None or scope.options != dict(options):
        return remote.info(url, options)
    if url not in scope.found:
        scope.found[url] = remote.info(url, options)
    return scope.found[url]


def is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _local(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def byte_view(out: Any) -> memoryview:
    """Bytes of a buffer; numpy arrays of ml_dtypes types cannot export their format, only bytes."""
    if isinstance(out, np.ndarray):
        return memoryview(out.reshape(-1).view(np.uint8).data)
    return memoryview(out).cast("B")


def _check_range(blob: Blob, offset: int, n: int) -> None:
    ranges.check(blob.path, blob.size, offset, n)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"


class LocalBlob:
    def __init__(self, path: str) -> None:
        self.path, self._fd = path, -1
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked next.
            self._fd = os.open(_local(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            raise CheckpointNotFoundError(f"no such file: {path}", path) from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise NotARegularFileError(f"{path} is a symbolic link loop, not a file", path) from None
            raise NotARegularFileError(f"cannot open {path}: {e.strerror}", path) from None
        info = os.fstat(self._fd)
        if not stat.S_ISREG(info.st_mode):
            self.close()
            raise NotARegularFileError(f"{path} is {_file_kind(info.st_mode)}, not a checkpoint file", path)
        self.size = info.st_size

    def read(self, offset: int, n: int) -> bytes:
        _check_range(self, offset, n)
        try:
            data = os.pread(self._fd, n, offset)
        except OSError as e:  # EIO, or a descriptor closed under us
            raise CorruptCheckpointError(f"cannot read {n} bytes: {e.strerror}", self.path, offset) from None
        if len(data) != n:  # the file shrank under us
            _check_range(self, offset + len(data), n - len(data))
        return data

    def readinto(self, offset: int, out: Any) -> None:
        nbytes = out.nbytes if isinstance(out, np.ndarray) else memoryview(out).nbytes
        if offset < 0 or offset + nbytes > self.size:
            _check_range(self, offset, nbytes)  # raises
        try:
            done = os.preadv(self._fd, [out], offset)
            while done < nbytes:  # short reads are rare; finish through a byte view
                got = os.preadv(self._fd, [byte_view(out)[done:]], offset + done)
                if got <= 0:
                    raise CorruptCheckpointError("file shrank while reading", self.path, offset + done)
                done += got
        except OSError as e:
            raise CorruptCheckpointError(
                f"cannot read {nbytes} bytes: {e.strerror}", self.path, offset
            ) from None

    def read_ranges(self, wanted: list[tuple[int, int]]) -> list[bytearray]:
        """The bytes at each ``(offset, length)``: neighbouring ranges in one ``pread``."""
        for offset, n in wanted:
            _check_range(self, offset, n)
        spans = [ranges.ByteRange(self.path, offset, n) for offset, n in wanted]
        return ranges.read(
            spans, lambda todo: [self.read(s.offset, s.length) for s in todo], LOCAL_GAP, LOCAL_PART
        )

    def map(self, offset: int, n: int, writable: bool = True) -> np.ndarray:
        """Bytes ``[offset, offset+n)`` as a private copy-on-write memory map: no copy until
        written, and writes never reach the file. Each call maps anew, so arrays are independent.
        ``writable=False``: a read-only map, which may be shared. (The file must not be truncated
        in place while the array lives; TF never does that.)"""
        _check_range(self, offset, n)
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        access = mmap.ACCESS_COPY if writable else mmap.ACCESS_READ
        region = mmap.mmap(self._fd, offset + n - start, access=access, offset=start)
        return np.frombuffer(region, dtype=np.uint8, count=n, offset=offset - start)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


def open_blob(path: str, options: Mapping[str, Any] | None = None, size: int | None = None) -> Blob:
    """The file at ``path``; remote ones with ``options`` (else those of the current ``using``),
    and without a lookup when their ``size`` is known."""
    if not is_remote(path):
        return LocalBlob(path)
    from .remote import RemoteBlob

    options = _options(options)
    return RemoteBlob(path, options, {"size": size} if size is not None else _info(path, options))


def exists(path: str) -> bool:
    if is_remote(path):
        return _info(path, _options(None)) is not None
    return os.path.exists(_local(path))


def redact(path: str) -> str:
    """``path`` as messages show it: a URL without credentials or query."""
    if not is_remote(path):
        return path
    from .remote import redact as redact_url

    return redact_url(path)


def is_link(path: str) -> bool:
    """A local symbolic link, even one that leads nowhere."""
    return not is_remote(path) and os.path.islink(_local(path))


def isdir(path: str) -> bool:
    if is_remote(path):
        from . import remote

        options = _options(None)
        return remote.isdir(path, _info(path, options), options)
    return os.path.isdir(_local(path))


def listdir(path: str) -> list[str]:
    """Names (not paths) in a directory; empty if it does not exist."""
    if is_remote(path):
        from . import remote

        return remote.listdir(path, _options(None))
    try:
        return sorted(os.listdir(_local(path)))
    except (FileNotFoundError, NotADirectoryError):
        return []


def scan(path: str) -> list[tuple[str, int | None, float | None]]:
    """``(name, size, modified time)`` of every file in a directory, from one listing (times and
    sizes are None where the store does not say); empty if it does not exist."""
    if is_remote(path):
        from . import remote

        return remote.scan(path, _options(None))
    try:
        with os.scandir(_local(path)) as found:
            out = []
            for e in found:
                if e.is_file():
                    st = e.stat()
                    out.append((e.name, st.st_size, st.st_mtime))
            return sorted(out)
    except (FileNotFoundError, NotADirectoryError):
        return []


def join(directory: str, name: str) -> str:
    """``name`` (from a state file, a shard list…) resolved in ``directory``. A name in another
    store (a URL beside a local directory, a local absolute path or another host's URL beside a
    remote one) is never followed there: it means the file of that name in ``directory``, as
    when a run is copied from elsewhere."""
    if not (os.path.isabs(name) or "://" in name):
        if is_remote(directory):
            return directory.rstrip("/") + "/" + name
        return os.path.join(directory, name)
    if same_store(directory, name):
        return name
    return join(directory, basename(name) if "://" in name else posixpath.basename(name.rstrip("/")))


def same_store(a: str, b: str) -> bool:
    """Both local, or both on one remote store (same scheme and host or bucket)."""
    if is_remote(a) or is_remote(b):
        from .remote import store_of

        return is_remote(a) and is_remote(b) and store_of(a) == store_of(b)
    return True


def dirname(path: str) -> str:
    if is_remote(path):
        scheme, _, rest = path.partition("://")
        return f"{scheme}://{posixpath.dirname(rest)}"
    return os.path.dirname(path)


def basename(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) if is_remote(path) else os.path.basename(path)


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """The whole file; with ``limit``, files larger than that many bytes are refused."""
    blob = open_blob(path)
    try:
        return read_whole(blob, path, limit)
    finally:
        blob.close()


def read_whole(blob: Blob, path: str, limit: int | None = None) -> bytes:
    """All of an open file; with ``limit``, a file larger than that many bytes is refused."""
    if limit is not None and blob.size > limit:
        raise CorruptCheckpointError(
            f"file of {blob.size} bytes is larger than the {limit} bytes such a file may have",
            path,
            limit,
        )
    return blob.read(0, blob.size)
