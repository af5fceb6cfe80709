"""Request paths: relative to the server's root directory, checked for their syntax here, then
walked and opened only by ``format.confined`` (from the root's descriptor, links only beneath
it): what a request names is never looked up by its absolute path."""

from __future__ import annotations

import os
from urllib.parse import unquote

from ..errors import CheckpointError, OutsideRootError
from ..format.confined import ConfinedRoot, parts_of


class ForbiddenPathError(OutsideRootError):
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


class Root:
    """The server's root directory: ``resolve`` checks a request path's syntax and gives it back
    normalized (``a/b``, ``""`` for the root); ``files`` opens under it (a ``ConfinedRoot``)."""

    def __init__(self, directory: str) -> None:
        self.real = os.path.realpath(os.path.abspath(directory))  # only to scrub it from messages
        self.files = ConfinedRoot(self.real)

    def resolve(self, path: str | None) -> str:
        """``path`` relative to the root, normalized; ForbiddenPathError for any form of escape."""
        path = path or ""
        if "\x00" in path:
            raise BadRequestError("path contains a NUL byte")
        for form in _decoded_forms(path):
            parts = form.replace("\\", "/").split("/")
            if form.startswith(("/", "\\", "~")) or (len(form) > 1 and form[1] == ":") or "://" in form:
                raise ForbiddenPathError(f"path {path!r} is absolute; give it relative to the server's root")
            if ".." in parts:
                raise ForbiddenPathError(f"path {path!r} leaves the server's root directory")
        return "/".join(parts_of(path))

    def close(self) -> None:
        self.files.close()
