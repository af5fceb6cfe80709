"""What changes when a file is rewritten: the one rule every cache of ckptviz checks.

``(inode, mtime in ns, size)``: TensorFlow renames a new ``checkpoint`` file (and a rewritten
checkpoint's files) into place, which changes the inode even when the size and a coarse mtime do
not. Remote files have no cheap stat (each would be a network request): they are ``"remote"``,
read once.
"""

from __future__ import annotations

import os

from . import storage

Stamp = tuple[int, int, int]


def stat_stamp(st: os.stat_result) -> Stamp:
    """The stamp of a file already stat'ed (by descriptor, or under a confined root)."""
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def file_stamp(path: str | os.PathLike[str]) -> Stamp | str | None:
    """The stamp of ``path``; None when it does not exist (or cannot be stat'ed)."""
    path = os.fspath(path)
    if storage.is_remote(path):
        return "remote"
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat_stamp(st)
