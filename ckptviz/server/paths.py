"""Path safety: every path a request names is relative to the server's root directory, and
nothing it leads to (a symlink, a shard, a ``checkpoint`` file's entries) may lie outside it."""

from __future__ import annotations

import glob
import os
from urllib.parse import unquote

from ..errors import CheckpointError
from ..format import naming
from ..format.locate import Location, locate


class ForbiddenPathError(CheckpointError, PermissionError):
    """A request named a path outside the root directory (HTTP 403)."""


class BadRequestError(CheckpointError, ValueError):
    """A request's parameters are missing or malformed (HTTP 400)."""


def _decoded_forms(path: str) -> list[str]:
    """``path`` and what it becomes when URL-decoded again and again (double-encoding tricks)."""
    forms = [path]
    for _ in range(4):
        again = unquote(forms[-1])
        if again == forms[-1]:
            break
        forms.append(again)
    return forms


def _inside(root: str, real: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


class Root:
    """The server's root directory; ``resolve`` turns a request's relative path into a safe
    absolute one, ``check`` refuses an absolute one that leads (through symlinks) outside."""

    def __init__(self, directory: str) -> None:
        self.real = os.path.realpath(os.path.abspath(directory))

    def resolve(self, path: str | None) -> str:
        """The absolute path of ``path`` (``""`` is the root itself), or ForbiddenPathError."""
        path = path or ""
        if "\x00" in path:
            raise BadRequestError("path contains a NUL byte")
        for form in _decoded_forms(path):
            parts = form.replace("\\", "/").split("/")
            if form.startswith(("/", "\\", "~")) or (len(form) > 1 and form[1] == ":"):
                raise ForbiddenPathError(f"path {path!r} is absolute; give it relative to the server's root")
            if ".." in parts:
                raise ForbiddenPathError(f"path {path!r} leaves the server's root directory")
        return self.check(os.path.join(self.real, *[p for p in path.split("/") if p not in ("", ".")]))

    def check(self, absolute: str) -> str:
        """``absolute`` if it and what it links to lie inside the root, else ForbiddenPathError."""
        if not self.contains(absolute):
            raise ForbiddenPathError(f"{self.relative(absolute)!r} leads outside the server's root directory")
        return absolute

    def contains(self, absolute: str) -> bool:
        return _inside(self.real, os.path.realpath(absolute))

    def relative(self, absolute: str) -> str:
        """``absolute`` as the client names it: relative to the root, ``/``-separated."""
        rel = os.path.relpath(os.path.abspath(absolute), self.real)
        return "" if rel == "." else rel.replace(os.sep, "/")

    def locate(self, absolute: str) -> Location:
        """Which checkpoint ``absolute`` means, refusing one whose files (the ``.index``, every
        shard, a directory's ``checkpoint`` file's target) lead outside the root."""
        location = locate(absolute)
        for file in files_of(location):
            self.check(file)
        return location


def files_of(location: Location) -> list[str]:
    """Every file a checkpoint reads: its ``.index`` and shards, or its single file."""
    if location.kind != "bundle":
        return [location.path]
    shards = glob.glob(glob.escape(location.path) + ".data-*")
    return [naming.index_file(location.path), location.path, *shards]
