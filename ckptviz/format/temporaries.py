"""The temporary files of a write in progress (``<name>.tempstate<random>``, TF's names) and
how the next writer to a prefix tells a dead write's leftovers from a live one's.

A live writer holds an exclusive ``flock`` on its temporary index from the moment it starts;
the kernel releases it when the process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import os
import re

from . import naming

try:
    import fcntl
except ImportError:  # Windows: no locks, so no cleanup of other writers' temporaries
    fcntl = None  # type: ignore[assignment]


def create_locked(path: str) -> int:
    """Create (empty) and lock ``path``; the descriptor holds the lock until it is closed."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def remove_stale(prefix: str) -> None:
    """Delete the ``.tempstate`` files of writes to ``prefix`` that died: those whose temporary
    index no live writer holds locked."""
    if fcntl is None:
        return
    directory = os.path.dirname(prefix) or "."
    try:
        names = os.listdir(directory)
    except OSError:
        return
    index = os.path.basename(naming.index_file(prefix))
    data = re.compile(re.escape(os.path.basename(prefix)) + r"\.data-\d{5,}")  # as _temp_data_path names them
    groups: dict[str, list[str]] = {}  # temporary-name token -> its files
    for name in names:
        head, sep, token = name.partition(".tempstate")
        if sep and (head == index or data.fullmatch(head)):
            groups.setdefault(token, []).append(name)
    for group in groups.values():
        locks = [n for n in group if n.startswith(index + ".tempstate")]
        if locks and _locked(os.path.join(directory, locks[0])):
            continue
        for name in group:
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))


def _locked(path: str) -> bool:
    assert fcntl is not None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return True  # gone already, or not ours to judge
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False
