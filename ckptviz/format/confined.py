"""Files confined to one directory, for code that serves other people's requests.

Every path is walked one component at a time from the directory's descriptor: each component is
looked at with ``lstat`` and opened with ``O_NOFOLLOW`` relative to the one before. Symbolic
links are followed by this walk only while they stay beneath the directory (an absolute target,
or ``..`` above it, is refused from the link's text alone: whether the outside path exists never
shows). Only directories and regular files are opened; a FIFO, socket or device is refused from
its ``lstat`` (and a file swapped for one meanwhile is opened ``O_NONBLOCK`` and refused by
``fstat``). Paths are ``/``-separated and relative to the directory; nothing here sees its
absolute path, so no message can show it.

``ConfinedRoot.open_checkpoint`` turns a path into a checkpoint reader whose every file (index,
each shard, V1 siblings, a Keras shard map and its shards, the ``checkpoint`` state file that
chose it) was opened by this walk; the reader gets those handles and cannot open anything else.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ..errors import (
    CheckpointError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    InvalidArgumentError,
    LfsPointerError,
    NotARegularFileError,
    OutsideRootError,
)
from . import lfs, naming, storage
from .locate import HDF5_MAGIC, ZIP_MAGIC, Location
from .reader import Reader

MAX_DEPTH = 256  # components of one path, link targets included: deeper is a request to refuse
MAX_LINKS = 40  # like the kernel's MAXSYMLINKS
NAME_MAX = 255  # bytes of one component (POSIX NAME_MAX on every common file system)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
_KERAS = (".weights.h5", ".h5", ".keras")

Kind = Literal["file", "dir", "other"]


def _kind(mode: int) -> Kind:
    return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"


def _what(mode: int) -> str:
    return storage._file_kind(mode)


def join(directory: str, name: str) -> str:
    return posixpath.join(directory, name) if directory else name


def parts_of(path: str) -> list[str]:
    """The components of a relative request path; refuses what no walk should start."""
    if "\x00" in path:
        raise InvalidArgumentError("the path contains a NUL byte")
    if path.startswith("/"):
        raise OutsideRootError(f"{path!r} is absolute; give a path relative to the root directory")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if len(parts) > MAX_DEPTH:
        raise InvalidArgumentError(f"the path has {len(parts)} components; at most {MAX_DEPTH} are followed")
    for part in parts:
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > NAME_MAX:
            raise InvalidArgumentError(f"a path component of {size} bytes is longer than {NAME_MAX}")
    return parts


@dataclass
class Found:
    """Where a walk ended: the parent directory's descriptor (the caller closes it), the last
    name in it (``""`` for the root itself), and its ``lstat`` (None if it does not exist)."""

    parent: int
    name: str
    info: os.stat_result | None


class ConfinedRoot:
    """A directory whose files are opened only through ``walk``; ``close()`` releases it."""

    def __init__(self, directory: str) -> None:
        self._real = os.path.realpath(directory)  # only to read absolute links that point inside
        self.fd = os.open(self._real, _DIR_FLAGS & ~os.O_NOFOLLOW)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # -- the walk ------------------------------------------------------------------------------

    def walk(self, path: str) -> Found:
        """Follow ``path`` from the root, links only beneath it; the last component is not opened."""
        pending = parts_of(path)[::-1]
        stack = [os.dup(self.fd)]  # descriptors of the directories walked through, root first
        links = 0
        try:
            while pending:
                name = pending.pop()
                if name == "..":
                    if len(stack) == 1:
                        raise OutsideRootError(f"{path!r} leads outside the root directory")
                    os.close(stack.pop())
                    continue
                try:
                    info = os.stat(name, dir_fd=stack[-1], follow_symlinks=False)
                except FileNotFoundError:
                    info = None
                except OSError as e:
                    raise self._error(path, e) from None
                if info is not None and stat.S_ISLNK(info.st_mode):
                    links += 1
                    try:
                        target = os.readlink(name, dir_fd=stack[-1])
                    except OSError as e:  # replaced under the walk
                        raise self._error(path, e) from None
                    if links > MAX_LINKS:
                        raise NotARegularFileError(f"{path!r} is a symbolic link loop", path)
                    if target.startswith("/"):  # inside only if it names the root: walked from there
                        if not (target + "/").startswith(self._real.rstrip("/") + "/"):
                            raise OutsideRootError(f"{path!r} leads outside the root directory")
                        while len(stack) > 1:
                            os.close(stack.pop())
                        target = target[len(self._real) :].lstrip("/")
                    pending.extend(parts_of(target)[::-1])  # without "" and "."
                    if len(pending) > MAX_DEPTH:
                        raise InvalidArgumentError(f"{path!r} leads through more than {MAX_DEPTH} components")
                    continue
                if not pending:
                    return Found(stack.pop(), name, info)
                if info is None or not stat.S_ISDIR(info.st_mode):
                    return Found(stack.pop(), name, None)  # no such directory: nothing there
                stack.append(self._open(name, stack[-1], _DIR_FLAGS, path))
            top = stack.pop()  # the walk ended on a directory (the root, or one reached by ".."/a link)
            return Found(top, "", os.fstat(top))
        finally:
            for fd in stack:
                os.close(fd)

    @staticmethod
    def _open(name: str, parent: int, flags: int, path: str) -> int:
        try:
            return os.open(name, flags, dir_fd=parent)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENXIO):  # swapped under the walk
                raise NotARegularFileError(f"{path!r} changed while it was opened", path) from None
            raise ConfinedRoot._error(path, e) from None

    @staticmethod
    def _error(path: str, e: OSError) -> CheckpointError:
        if isinstance(e, PermissionError):
            return NotARegularFileError(f"{path!r} is not readable by the server", path)
        if e.errno == errno.ENAMETOOLONG:
            return InvalidArgumentError(f"{path!r} is too long a path")
        return NotARegularFileError(f"cannot open {path!r}: {e.strerror}", path)

    # -- what callers use ----------------------------------------------------------------------

    def stat(self, path: str) -> os.stat_result | None:
        """``path``'s ``lstat`` after links beneath the root; None if it does not exist."""
        found = self.walk(path)
        os.close(found.parent)
        return found.info

    def kind(self, path: str) -> Kind | None:
        info = self.stat(path)
        return None if info is None else _kind(info.st_mode)

    def open_file(self, path: str) -> int:
        """A read-only descriptor of the regular file ``path``."""
        found = self.walk(path)
        try:
            if found.info is None:
                raise CheckpointNotFoundError(f"no such file: {path}", path)
            if not stat.S_ISREG(found.info.st_mode):  # never opened: a FIFO would block, a device act
                raise NotARegularFileError(
                    f"{path} is {_what(found.info.st_mode)}, not a checkpoint file", path
                )
            fd = self._open(found.name, found.parent, _FILE_FLAGS, path)
        finally:
            os.close(found.parent)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise NotARegularFileError(f"{path} is {_what(info.st_mode)}, not a checkpoint file", path)
        return fd

    def open_dir(self, path: str) -> int:
        """A descriptor of the directory ``path`` (``""``: the root), for listing and writing."""
        found = self.walk(path)
        try:
            if found.name == "":
                return os.dup(found.parent)
            if found.info is None:
                raise CheckpointNotFoundError(f"no such directory: {path}", path)
            if not stat.S_ISDIR(found.info.st_mode):
                raise NotARegularFileError(f"{path} is {_what(found.info.st_mode)}, not a directory", path)
            return self._open(found.name, found.parent, _DIR_FLAGS, path)
        finally:
            os.close(found.parent)

    def read_bytes(self, path: str, limit: int | None = None) -> bytes:
        with HeldBlob(self.open_file(path), path) as blob:
            return storage.read_whole(blob, path, limit)

    def scandir(self, path: str) -> Iterator[tuple[str, Kind | None, os.stat_result | None]]:
        """``(name, kind, lstat)`` of each entry of the directory ``path``, one pass, nothing
        opened; a link is followed by the walk (kind None: it leads outside, nowhere, or loops)."""
        fd = self.open_dir(path)
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISLNK(info.st_mode):
                        try:
                            info = self.stat(join(path, entry.name))  # type: ignore[assignment]
                        except CheckpointError:
                            info = None  # type: ignore[assignment]
                    yield entry.name, None if info is None else _kind(info.st_mode), info
        finally:
            os.close(fd)

    # -- checkpoints ---------------------------------------------------------------------------

    def locate(self, path: str) -> Location:
        """The checkpoint ``path`` names, like ``locate.locate`` for local paths, narrowed: a
        ``checkpoint`` state file's entry is used only as a relative path, else by its last name in
        that directory (how ``locate`` reads a directory copied from elsewhere); never a URL."""
        path = "/".join(parts_of(path))
        if self.kind(path) == "dir" and not path.endswith((*_KERAS, ".weights.json", ".index")):
            return self._locate_directory(path)
        return self._locate_file(path)

    def _locate_directory(self, path: str) -> Location:
        saved_model = join(path, naming.SAVED_MODEL_VARIABLES)
        if self.kind(naming.index_file(saved_model)) == "file":
            return Location("bundle", saved_model)
        state = self.checkpoint_state(path)
        if state is not None and state.model_checkpoint_path:
            return self._locate_file(state.model_checkpoint_path)
        found = [join(path, n[: -len(".index")]) for n, kind, _ in self.scandir(path) if n.endswith(".index")]
        if len(found) == 1:
            return Location("bundle", found[0])
        what = "several checkpoints and no 'checkpoint' file" if found else "no checkpoint"
        raise CheckpointNotFoundError(f"{path or '.'} holds {what}; pass a prefix", path)

    def _locate_file(self, path: str) -> Location:
        if path.endswith((*_KERAS, ".weights.json")) and self.kind(path) == "file":
            self._refuse_pointer(path)
            return Location("keras", path)
        if path.endswith(".index"):
            return Location("bundle", path[: -len(".index")])
        split = naming.split_data_file(path)
        if split:
            return Location("bundle", split[0])
        if self.kind(naming.index_file(path)) == "file":
            return Location("bundle", path)
        if self.kind(path) == "file":
            head = self.read_head(path)
            if head.startswith((HDF5_MAGIC, ZIP_MAGIC)):
                return Location("keras", path)
            self._refuse_pointer(path)
            return Location("v1", path)
        first = path.replace("-?????-of-", "-00000-of-")
        if first != path and self.kind(first) == "file":
            return Location("v1", first)
        raise CheckpointNotFoundError(f"no checkpoint {path!r} (no {posixpath.basename(path)}.index)", path)

    def _refuse_pointer(self, path: str) -> None:
        with HeldBlob(self.open_file(path), path) as blob:
            if lfs.is_pointer_blob(blob):
                raise LfsPointerError(lfs.message(path), path)

    def read_head(self, path: str, size: int = 8) -> bytes:
        with HeldBlob(self.open_file(path), path) as blob:
            return blob.read(0, min(size, blob.size))

    def checkpoint_state(self, directory: str) -> naming.CheckpointState | None:
        """The directory's ``checkpoint`` file with every entry made a path under the root: a
        relative one joined to the directory, any other (absolute, URL) by its last name there."""
        state_path = join(directory, naming.STATE_FILENAME)
        if self.kind(state_path) is None:
            return None
        text = self.read_bytes(state_path, naming.STATE_MAX_BYTES).decode("utf-8", "surrogateescape")
        state = naming.parse_state(text, state_path)

        def here(entry: str) -> str:
            if not entry:
                return entry
            if entry.startswith("/") or "://" in entry or "\\" in entry or "\x00" in entry:
                entry = posixpath.basename(entry.replace("\\", "/").rstrip("/"))
            return posixpath.normpath(join(directory, entry))

        state.model_checkpoint_path = here(state.model_checkpoint_path)
        state.all_model_checkpoint_paths = [here(p) for p in state.all_model_checkpoint_paths]
        return state

    def open_checkpoint(self, path: str, verify: bool = True) -> tuple[Location, Reader]:
        """``locate`` then a reader over files opened here, all of them before it is returned."""
        return self.open_location(self.locate(path), verify)

    def open_location(self, location: Location, verify: bool = True) -> tuple[Location, Reader]:
        files = HeldFiles(self)
        reader = open_reader(location, verify, files)
        try:
            open_shards = getattr(reader, "open_shards", None)
            if open_shards is not None:  # a bundle opens its data files on first read: now, here
                open_shards()
        except BaseException:
            reader.close()
            raise
        files.seal()
        return location, reader


def open_reader(location: Location, verify: bool, opener: HeldFiles) -> Reader:
    if location.kind == "bundle":
        from .bundle import BundleReader

        return BundleReader(location.path, verify, opener)
    if location.kind == "v1":
        from .legacy import V1Reader

        return V1Reader(location.path, verify, opener)
    from .keras import KerasReader

    return KerasReader(location.path, opener)


class HeldBlob(storage.LocalBlob):
    """A ``LocalBlob`` over a descriptor opened elsewhere (it owns the descriptor)."""

    def __init__(self, fd: int, path: str) -> None:  # no super().__init__: it would open by path
        self.path, self._fd = path, fd
        self.size = os.fstat(fd).st_size

    def __enter__(self) -> HeldBlob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HeldFiles:
    """The ``Opener`` of one checkpoint's reader: while the reader is set up, each file it asks
    for is opened by ``ConfinedRoot``; once ``seal``ed, it opens nothing more (the reader then
    holds every descriptor itself and closes them with itself)."""

    def __init__(self, root: ConfinedRoot) -> None:
        self._root: ConfinedRoot | None = root
        self.paths: list[str] = []  # what was opened, in order

    def seal(self) -> None:
        self._root = None

    def open_blob(self, path: str) -> storage.Blob:
        if self._root is None:
            raise CheckpointNotFoundError(f"no such file: {path}", path)  # it was not there when opened
        blob = HeldBlob(self._root.open_file(path), path)
        self.paths.append(path)
        return blob

    def read_bytes(self, path: str, limit: int | None = None) -> bytes:
        blob = self.open_blob(path)
        try:
            if limit is not None and blob.size > limit:
                raise CorruptCheckpointError(f"file larger than {limit} bytes", path, limit)
            return blob.read(0, blob.size)
        finally:
            blob.close()
