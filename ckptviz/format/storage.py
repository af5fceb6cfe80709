"""Random access to checkpoint files, local or remote.

Local files are read with ``pread`` straight into the caller's buffer; anything with a URL
scheme goes through fsspec, one byte range per request, so a remote checkpoint is never
downloaded whole.
"""

from __future__ import annotations

import errno
import mmap
import os
import posixpath
import stat
from typing import Any, Protocol

import numpy as np

from ..errors import (
    CheckpointNotFoundError,
    CorruptCheckpointError,
    NotARegularFileError,
    UnsupportedCheckpointError,
)


class Blob(Protocol):
    """One file: its ``path`` and ``size``, and exact reads at any offset."""

    path: str
    size: int

    def read(self, offset: int, n: int) -> bytes: ...
    def readinto(self, offset: int, out: Any) -> None: ...
    def close(self) -> None: ...


def is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _local(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def _byte_view(out: Any) -> memoryview:
    """Bytes of a buffer; numpy arrays of ml_dtypes types cannot export their format, only bytes."""
    if isinstance(out, np.ndarray):
        return memoryview(out.reshape(-1).view(np.uint8).data)
    return memoryview(out).cast("B")


def _check_range(blob: Blob, offset: int, n: int) -> None:
    if offset < 0 or n < 0 or offset + n > blob.size:
        raise CorruptCheckpointError(
            f"needs bytes [{offset}, {offset + n}) but the file has {blob.size} bytes "
            "(truncated, or not from this checkpoint)",
            blob.path,
            offset,
        )


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
                got = os.preadv(self._fd, [_byte_view(out)[done:]], offset + done)
                if got <= 0:
                    raise CorruptCheckpointError("file shrank while reading", self.path, offset + done)
                done += got
        except OSError as e:
            raise CorruptCheckpointError(
                f"cannot read {nbytes} bytes: {e.strerror}", self.path, offset
            ) from None

    def map(self, offset: int, n: int) -> np.ndarray:
        """Bytes ``[offset, offset+n)`` as a private copy-on-write memory map: no copy until
        written, and writes never reach the file. Each call maps anew, so arrays are independent.
        (The file must not be truncated in place while the array lives; TF never does that.)"""
        _check_range(self, offset, n)
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        region = mmap.mmap(self._fd, offset + n - start, access=mmap.ACCESS_COPY, offset=start)
        return np.frombuffer(region, dtype=np.uint8, count=n, offset=offset - start)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


def _filesystem(url: str) -> tuple[Any, str]:
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]
    except ImportError as e:
        raise UnsupportedCheckpointError(
            f"reading {url} needs an fsspec filesystem that is not installed: {e}"
        ) from None


class RemoteBlob:
    def __init__(self, url: str) -> None:
        self.path = url
        self._fs, self._key = _filesystem(url)
        try:
            self.size = int(self._fs.size(self._key))
        except FileNotFoundError:
            raise CheckpointNotFoundError(f"no such file: {url}", url) from None

    def read(self, offset: int, n: int) -> bytes:
        _check_range(self, offset, n)
        if n == 0:
            return b""
        data = self._fs.cat_file(self._key, start=offset, end=offset + n)
        if len(data) != n:
            raise CorruptCheckpointError(f"server returned {len(data)} of {n} bytes", self.path, offset)
        return bytes(data)

    def readinto(self, offset: int, out: Any) -> None:
        view = _byte_view(out)
        view[:] = self.read(offset, view.nbytes)

    def close(self) -> None:
        pass


def open_blob(path: str) -> Blob:
    return RemoteBlob(path) if is_remote(path) else LocalBlob(path)


def exists(path: str) -> bool:
    if is_remote(path):
        fs, key = _filesystem(path)
        return bool(fs.exists(key))
    return os.path.exists(_local(path))


def is_link(path: str) -> bool:
    """A local symbolic link, even one that leads nowhere."""
    return not is_remote(path) and os.path.islink(_local(path))


def isdir(path: str) -> bool:
    if is_remote(path):
        fs, key = _filesystem(path)
        return bool(fs.isdir(key))
    return os.path.isdir(_local(path))


def listdir(path: str) -> list[str]:
    """Names (not paths) in a directory; empty if it does not exist."""
    if is_remote(path):
        fs, key = _filesystem(path)
        try:
            return sorted(posixpath.basename(p.rstrip("/")) for p in fs.ls(key, detail=False))
        except FileNotFoundError:
            return []
    try:
        return sorted(os.listdir(_local(path)))
    except (FileNotFoundError, NotADirectoryError):
        return []


def join(directory: str, name: str) -> str:
    if os.path.isabs(name) or "://" in name:
        return name
    if is_remote(directory):
        return directory.rstrip("/") + "/" + name
    return os.path.join(directory, name)


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
        if limit is not None and blob.size > limit:
            raise CorruptCheckpointError(
                f"file of {blob.size} bytes is larger than the {limit} bytes such a file may have",
                path,
                limit,
            )
        return blob.read(0, blob.size)
    finally:
        blob.close()
