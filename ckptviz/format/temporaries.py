"""The temporary files of a write in progress (``<name>.tempstate<random>``, TF's names), how
the next writer to a prefix tells a dead write's leftovers from a live one's, and the lock that
lets one writer at a time commit to (or sweep) a destination.

Everything is relative to the destination directory's descriptor. A live writer holds an
exclusive ``flock`` on its temporary index from the moment it starts (the kernel releases it
when the process dies, however it dies); that file is created, and other writers' are swept,
only under the destination lock, so no sweep ever sees a live writer's file before its lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from typing import Any

from . import naming

try:
    import fcntl
except ImportError:  # Windows: no locks, so no cleanup of other writers' temporaries
    fcntl = None  # type: ignore[assignment]

_CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def destination_lock(dir_fd: int, name: str) -> Any:
    """A ``filelock.FileLock`` for the prefix ``name`` in that directory. Its file lives in the
    temporary directory, named by the directory's identity (device, inode) rather than its path:
    nothing appears beside the checkpoint, and a directory reached by descriptor is named exactly."""
    import filelock

    info = os.fstat(dir_fd)
    key = f"{info.st_dev}:{info.st_ino}:{name}".encode("utf-8", "surrogateescape")
    locks = os.path.join(tempfile.gettempdir(), f"ckptviz-locks-{getattr(os, 'getuid', lambda: 0)()}")
    os.makedirs(locks, mode=0o700, exist_ok=True)
    return filelock.FileLock(os.path.join(locks, hashlib.sha256(key).hexdigest()[:40] + ".lock"))


def create_locked(dir_fd: int, name: str) -> int:
    """Create (empty) and lock ``name``; the descriptor holds the lock until it is closed."""
    fd = os.open(name, _CREATE, 0o644, dir_fd=dir_fd)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def remove_stale(dir_fd: int, prefix: str) -> None:
    """Delete the ``.tempstate`` files of writes to ``prefix`` (a name in the directory) that
    died: those whose temporary index no live writer holds locked. Call it under the lock."""
    if fcntl is None:
        return
    try:
        names = os.listdir(dir_fd)
    except OSError:
        return
    index = naming.index_file(prefix)
    data = re.compile(re.escape(prefix) + r"\.data-\d{5,}")  # as the writer names its temporaries
    groups: dict[str, list[str]] = {}  # temporary-name token -> its files
    for name in names:
        head, sep, token = name.partition(".tempstate")
        if sep and (head == index or data.fullmatch(head)):
            groups.setdefault(token, []).append(name)
    for group in groups.values():
        locks = [n for n in group if n.startswith(index + ".tempstate")]
        if locks and _locked(dir_fd, locks[0]):
            continue  # a live writer's (without its index the group is dead: see the module doc)
        for name in group:
            with contextlib.suppress(OSError):
                os.remove(name, dir_fd=dir_fd)


def _locked(dir_fd: int, name: str) -> bool:
    assert fcntl is not None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0), dir_fd=dir_fd)
    except OSError:
        return True  # gone already, or not ours to judge
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False
