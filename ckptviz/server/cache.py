"""What the server keeps between requests, bounded in entries and in bytes: opened checkpoints
(keyed by their located path and the main file's identity, so one rewritten in place is opened
anew; closed on eviction once no request still uses them) and computed results (diffs,
timelines). Every cache is owned by the ``State``; none lives at module level."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from ..format import naming
from ..format.confined import ConfinedRoot
from ..format.locate import Location
from ..format.stamp import stat_stamp
from ..model.checkpoint import Checkpoint


class Lru:
    """Values by key, the least recently used dropped beyond ``max_items`` or ``max_bytes``
    (each value is put with its size in bytes; one bigger than the budget is not kept)."""

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0

    def get(self, key: Hashable) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, nbytes: int) -> list[Any]:
        """Keep ``value``; returns the values dropped to make room (the caller may close them)."""
        dropped: list[Any] = []
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
                dropped.append(old[0])
            if nbytes > self.max_bytes:
                return [*dropped, value]
            self._items[key] = (value, nbytes)
            self.nbytes += nbytes
            while len(self._items) > self.max_items or self.nbytes > self.max_bytes:
                _, (gone, size) = self._items.popitem(last=False)
                self.nbytes -= size
                dropped.append(gone)
        return dropped

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> list[Any]:
        with self._lock:
            values = [v for v, _ in self._items.values()]
            self._items.clear()
            self.nbytes = 0
        return values


class _Slot:
    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint
        self.users = 0
        self.evicted = False

    def release(self) -> None:
        """One user fewer (lock held by the caller); closes it when evicted and unused."""
        if self.evicted and self.users == 0:
            self.checkpoint.close()


def stamp(files: ConfinedRoot, location: Location) -> tuple[Any, ...]:
    """What changes when a checkpoint is rewritten: its main file's ``format.stamp``, and its size
    (what an open checkpoint's reader holds in memory) last."""
    main = naming.index_file(location.path) if location.kind == "bundle" else location.path
    info = files.stat(main)
    if info is None:
        return (location.path, None, 0)
    return (location.path, stat_stamp(info), info.st_size)


class CheckpointCache:
    """``with cache.use(files, path) as ckpt:`` — at most ``size`` checkpoints and ``max_bytes``
    of their main files (what their readers hold in memory) stay open."""

    def __init__(self, size: int = 8, max_bytes: int = 512 << 20) -> None:
        self._lru = Lru(size, max_bytes)
        self._lock = threading.Lock()
        self.opened = 0  # how many times a checkpoint was opened (tests read it)

    @contextmanager
    def use(self, files: ConfinedRoot, path: str) -> Iterator[Checkpoint]:
        location = files.locate(path)
        key = stamp(files, location)
        with self._lock:
            slot: _Slot | None = self._lru.get(key)
            if slot is not None:
                slot.users += 1
        if slot is None:
            opened = _Slot(Checkpoint.of_reader(*files.open_location(location)))
            with self._lock:
                slot = self._lru.get(key)
                if slot is None:
                    slot, self.opened = opened, self.opened + 1
                    self._drop(self._lru.put(key, slot, key[-1] or 0))
                else:
                    opened.checkpoint.close()
                slot.users += 1
        try:
            yield slot.checkpoint
        finally:
            with self._lock:
                slot.users -= 1
                slot.release()

    @staticmethod
    def _drop(slots: list[_Slot]) -> None:
        for old in slots:
            old.evicted = True
            old.release()

    def clear(self) -> None:
        with self._lock:
            self._drop(self._lru.clear())
