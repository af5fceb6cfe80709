"""An audit hook (``sys.addaudithook``) that records every file and socket operation the
server's worker threads make outside the root: what the confined open promises never happens.

Armed per test (``watch``). Workers are every thread but the main one (the event loop and the
test body run there; the test itself may touch ``outside``). A worker may open: paths under the
root; the interpreter's own files (the Python prefix, site-packages) and the temporary
directory except pytest's; ckptviz's own modules; and names relative to a directory descriptor (a confined walk's
single components, which never contain ``..``). Anything else, any ``..`` in a relative name,
and any outgoing connection is a violation.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import tempfile
import threading
from typing import Any

import ckptviz

_EVENTS_PATH_FIRST = {"open", "os.listdir", "os.scandir", "os.chdir", "os.truncate", "shutil.copyfile"}
_EVENTS_DIR_FD = {"os.mkdir": 2, "os.remove": 1, "os.rmdir": 1, "os.chmod": 2, "os.utime": 4}


class Watch:
    def __init__(self) -> None:
        self.root: str | None = None
        self.tmp: str | None = None  # pytest's base temporary directory
        self.violations: list[tuple[str, Any]] = []
        self.main = threading.main_thread()
        prefixes = {
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            *site.getsitepackages(),
            site.getusersitepackages(),
        }
        prefixes |= {p for p in sysconfig.get_paths().values() if p}
        prefixes |= {"/proc", "/dev", "/sys", "/usr", "/etc", os.path.realpath(tempfile.gettempdir())}
        prefixes.add(os.path.dirname(ckptviz.__file__))  # its modules, imported lazily
        self.allowed = tuple(os.path.realpath(p).rstrip("/") + "/" for p in prefixes)

    def arm(self, root: str, tmp: str) -> None:
        self.root, self.tmp, self.violations = os.path.realpath(root) + "/", os.path.realpath(tmp) + "/", []

    def disarm(self) -> list[tuple[str, Any]]:
        self.root = None
        return self.violations

    def bad_path(self, path: Any) -> bool:
        if isinstance(path, int) or path is None:
            return False  # a descriptor: opened by a walk that was itself checked
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        path = os.fspath(path)
        if not os.path.isabs(path):
            return ".." in path.split("/")
        assert self.root is not None and self.tmp is not None
        real = os.path.realpath(path) + "/"
        lexical = os.path.normpath(path) + "/"
        if real.startswith(self.root) and lexical.startswith(self.root):
            return False
        if real.startswith(self.tmp) or lexical.startswith(self.tmp):
            return True  # the test's temporary files outside the root: "outside", the fixtures
        return not real.startswith(self.allowed)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self.root is None or threading.current_thread() is self.main:
            return
        if event in _EVENTS_PATH_FIRST:
            bad = self.bad_path(args[0])
        elif event in _EVENTS_DIR_FD:
            dir_fd = args[_EVENTS_DIR_FD[event]] if len(args) > _EVENTS_DIR_FD[event] else None
            bad = (dir_fd is None or dir_fd < 0) and self.bad_path(args[0])
        elif event == "os.rename":
            bad = any(
                (fd is None or fd < 0) and self.bad_path(p)
                for p, fd in ((args[0], args[2]), (args[1], args[3]))
            )
        elif event in ("os.symlink", "os.link"):
            bad = self.bad_path(args[1])
        elif event == "socket.connect":
            bad = True  # the server has no business connecting anywhere
        else:
            return
        if bad:
            self.violations.append((event, args[:2]))


WATCH = Watch()
sys.addaudithook(WATCH)
