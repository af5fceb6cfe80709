"""Files behind a URL (``s3://``, ``gs://``, ``http(s)://``, ``memory://``…), read through fsspec.

What remote reading needs beyond a byte-range call:
- reads in file order (a whole-checkpoint pass) fetch ahead in growing windows, cut into parts
  fetched concurrently, so a 300 MiB pass is tens of requests rather than one per tensor;
- a web server that ignores ``Range`` answers with the whole file: that answer is kept and read
  from (once, with a warning), never downloaded again per tensor;
- every fsspec / aiohttp / botocore failure becomes a ``CheckpointError`` naming the URL, and
  neither a URL's credentials nor ``storage_options`` ever appear in a message.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..errors import (
    CheckpointError,
    CheckpointNotFoundError,
    CheckpointWarning,
    CorruptCheckpointError,
    RemoteStorageError,
    UnsupportedCheckpointError,
)
from . import ranges
from .ranges import ByteRange

GAP = 1 << 20  # bytes of other data worth fetching rather than making another request
PART = 128 << 20  # bytes per request at most: longer spans become parts fetched concurrently
AHEAD_MIN, AHEAD_MAX = 1 << 20, 64 << 20  # the read-ahead window of a pass in file order
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def redact(url: str) -> str:
    """``url`` as messages show it: no ``user:password@``, no query (signed URLs carry keys there)."""
    return _USERINFO.sub("", url).split("?", 1)[0]


def store_of(url: str) -> tuple[str, str]:
    """``(scheme, host or bucket)``: what a URL's files share; a state file never leaves it."""
    scheme, _, rest = url.partition("://")
    return scheme.lower(), _USERINFO.sub("", rest).split("/", 1)[0].lower()


def filesystem(url: str, options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` with ``options`` (endpoint, credentials…), and its path."""
    import fsspec

    scheme = url.partition("://")[0].lower()
    try:
        fsspec.get_filesystem_class(scheme)
    except ImportError as e:
        package = _PACKAGES.get(scheme)
        hint = f"; pip install {package}" if package else ""
        raise UnsupportedCheckpointError(
            f"reading {redact(url)} needs a package that is not installed{hint} ({e})"
        ) from None
    except ValueError:
        raise UnsupportedCheckpointError(
            f"cannot read {redact(url)}: no filesystem knows {scheme}://"
        ) from None
    try:
        return fsspec.core.url_to_fs(url, **dict(options or {}))  # type: ignore[no-any-return]
    except (TypeError, ValueError) as e:  # the message may quote an option's value: not shown
        raise RemoteStorageError(
            f"cannot use storage_options for {redact(url)}: {type(e).__name__}", url
        ) from None


def _network_errors() -> tuple[type[BaseException], ...]:
    """What a store's client raises when the store fails (imported only if installed)."""
    found: list[type[BaseException]] = [OSError, TimeoutError]
    try:
        import aiohttp

        found.append(aiohttp.ClientError)
    except ImportError:
        pass
    try:
        import botocore.exceptions

        found += [botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError]
    except ImportError:
        pass
    return tuple(found)


def reason(e: BaseException) -> str:
    """A failure in words, with any URL credentials taken out."""
    status = getattr(e, "status", None)
    if isinstance(status, int):
        return f"HTTP {status} {getattr(e, 'message', '') or ''}".strip()
    text = _USERINFO.sub("", str(e)).split("?", 1)[0].strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


@contextmanager
def errors(url: str, what: str = "read") -> Iterator[None]:
    """Store failures during ``what`` as ckptviz errors naming ``url``."""
    try:
        yield
    except CheckpointError:
        raise
    except FileNotFoundError as e:
        cause = e.__cause__  # fsspec's HTTP info reports any failure as "not found", from the real one
        missing = isinstance(cause, FileNotFoundError) or getattr(cause, "status", None) in (404, 410)
        if cause is not None and not missing and isinstance(cause, _network_errors()):
            raise RemoteStorageError(f"cannot {what} {redact(url)}: {reason(cause)}", url) from None
        raise CheckpointNotFoundError(f"no such file: {redact(url)}", url) from None
    except PermissionError as e:
        raise RemoteStorageError(f"cannot {what} {redact(url)}: access denied ({reason(e)})", url) from None
    except _network_errors() as e:
        raise RemoteStorageError(f"cannot {what} {redact(url)}: {reason(e)}", url) from None


def _is_http(fs: Any) -> bool:
    return "http" in getattr(fs, "protocol", ())


def info(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """fsspec's ``info`` (one HEAD over HTTP, never a GET of the body), None if there is no such file."""
    fs, key = filesystem(url, options)
    try:
        with errors(url, "look up"):
            return dict(fs.info(key))
    except CheckpointNotFoundError:
        return None


def isdir(url: str, found: dict[str, Any] | None, options: Mapping[str, Any] | None = None) -> bool:
    """A directory: over HTTP, a URL answering with a listing page (``found``: its ``info``)."""
    fs, key = filesystem(url, options)
    if _is_http(fs):
        return found is not None and str(found.get("mimetype", "")).startswith("text/html")
    with errors(url, "look up"):
        return bool(fs.isdir(key))


def listdir(url: str, options: Mapping[str, Any] | None = None) -> list[str]:
    """Names in the directory ``url`` (over HTTP: the links of its listing page that lead into it)."""
    fs, key = filesystem(url, options)
    base = url.rstrip("/") + "/"
    try:
        with errors(url, "list"):
            found = fs.ls(key, detail=False)
    except CheckpointNotFoundError:
        return []
    names = set()
    for p in found:
        p = str(p).rstrip("/")
        if _is_http(fs):
            if not p.startswith(base) or "/" in p[len(base) :]:
                continue  # a link out of the directory, or deeper into it
            p = p[len(base) :]
        names.add(p.rsplit("/", 1)[-1])
    return sorted(names)


def scan(url: str, options: Mapping[str, Any] | None = None) -> list[tuple[str, int | None, float | None]]:
    """``(name, size, modified time)`` of the files directly in ``url``, from one listing."""
    fs, key = filesystem(url, options)
    if _is_http(fs):  # a listing page has links only
        return [(name, None, None) for name in listdir(url, options)]
    try:
        with errors(url, "list"):
            found = fs.ls(key, detail=True)
    except CheckpointNotFoundError:
        return []
    out = []
    for info in found:
        if info.get("type") != "file":
            continue
        stamp = (
            info.get("LastModified") or info.get("mtime") or info.get("last_modified") or info.get("updated")
        )
        seconds = (
            stamp.timestamp()
            if hasattr(stamp, "timestamp")
            else float(stamp)
            if isinstance(stamp, (int, float))
            else None
        )
        out.append((str(info["name"]).rstrip("/").rsplit("/", 1)[-1], info.get("size"), seconds))
    return sorted(out)


class RemoteBlob:
    """One remote file: exact reads of any range, with read-ahead for passes in file order."""

    def __init__(
        self, url: str, options: Mapping[str, Any] | None = None, found: dict[str, Any] | None = None
    ) -> None:
        self.path = url
        self._fs, self._key = filesystem(url, options)
        if found is None:
            found = info(url, options)
            if found is None:
                raise CheckpointNotFoundError(f"no such file: {redact(url)}", url)
        if found.get("size") is None:
            raise RemoteStorageError(f"cannot read {redact(url)}: the server does not say how big it is", url)
        self.size = int(found["size"])
        self._lock = threading.Lock()
        self._window: tuple[int, bytes] = (0, b"")  # the last read-ahead
        self._next = -(1 << 62)  # where the next read of a pass in file order starts (none yet)
        self._ahead = 0
        self._whole: bytes | None = None  # the whole file, from a server that ignores Range
        # Object stores always honour Range; a web server is asked once before parts go concurrently.
        self._ranged = not _is_http(self._fs)
        self.requests = 0  # for benchmarks: requests made and bytes received
        self.received = 0

    def read(self, offset: int, n: int) -> bytes:
        return bytes(self._view(offset, n))

    def readinto(self, offset: int, out: Any) -> None:
        from .storage import byte_view

        view = byte_view(out)
        view[:] = self._view(offset, view.nbytes)

    def _view(self, offset: int, n: int) -> memoryview:
        """Bytes ``[offset, offset + n)``, from the read-ahead window or the store, not copied."""
        ranges.check(self.path, self.size, offset, n)
        if n == 0:
            return memoryview(b"")
        if self._whole is not None:
            return memoryview(self._whole)[offset : offset + n]
        start, data = self._window
        if start <= offset and offset + n <= start + len(data):
            self._next = offset + n
            return memoryview(data)[offset - start : offset - start + n]
        with self._lock:
            sequential = 0 <= offset - self._next <= GAP
            self._ahead = min(max(self._ahead * 2, AHEAD_MIN), AHEAD_MAX) if sequential else 0
            at, length = offset, min(max(n, self._ahead), self.size - offset)
            if self._ahead and self.size <= AHEAD_MAX:
                at, length = 0, self.size  # a pass over a small file: all of it, in any order
            self._next = offset + n
        got = self.read_ranges([(at, length)])[0]
        if length <= AHEAD_MAX and (
            length > n or length >= len(self._window[1])
        ):  # a read-ahead, or no smaller
            self._window = (at, bytes(got))
        return memoryview(got)[offset - at : offset - at + n]

    def read_ranges(self, wanted: list[tuple[int, int]]) -> list[bytearray]:
        """The bytes at each ``(offset, length)``, neighbours merged and parts fetched concurrently."""
        for offset, n in wanted:
            ranges.check(self.path, self.size, offset, n)
        typed = [ByteRange(self.path, offset, n) for offset, n in wanted]
        return ranges.read(typed, self._fetch, GAP, PART)

    def _fetch(self, spans: list[ByteRange]) -> list[bytes]:
        out: dict[int, bytes] = {}
        if not self._ranged and self._whole is None:  # one request first: does the server do Range?
            out[0] = self._get_one(spans[0])
        if self._whole is not None:
            return [self._whole[s.offset : s.end] for s in spans]
        rest = [i for i in range(len(spans)) if i not in out]
        if rest:
            with errors(self.path):
                got = self._fs.cat_ranges(
                    [self._key] * len(rest),
                    [spans[i].offset for i in rest],
                    [spans[i].end for i in rest],
                    on_error="return",
                )
            for i, data in zip(rest, got):
                if isinstance(data, BaseException):
                    with errors(self.path):
                        raise data
                out[i] = self._checked(spans[i], bytes(data))
        return [out[i] for i in range(len(spans))]

    def _get_one(self, span: ByteRange) -> bytes:
        whole = span.offset == 0 and span.length == self.size
        with errors(self.path):
            if whole:
                data = bytes(self._fs.cat_file(self._key))
            else:
                data = bytes(self._fs.cat_file(self._key, start=span.offset, end=span.end))
        return self._checked(span, data)

    def _checked(self, span: ByteRange, data: bytes) -> bytes:
        self.requests += 1
        self.received += len(data)
        if len(data) == span.length:
            self._ranged = self._ranged or span.length < self.size
            return data
        if len(data) == self.size and not self._ranged:
            with self._lock:
                if self._whole is None:
                    self._whole = data
                    warnings.warn(
                        f"{redact(self.path)}: the server ignores HTTP Range requests, so the whole file "
                        f"({self.size} bytes) was downloaded once and is read from memory",
                        CheckpointWarning,
                        stacklevel=2,
                    )
            return data[span.offset : span.end]
        raise CorruptCheckpointError(
            f"the server returned {len(data)} bytes for a request of {span.length} (the file has {self.size})",
            redact(self.path),
            span.offset,
        )

    def close(self) -> None:
        self._window, self._whole = (0, b""), None
