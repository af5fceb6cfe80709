"""Opened checkpoints, kept for the next request: bounded, keyed by path and the index file's
mtime and size (a checkpoint rewritten in place is opened anew), closed on eviction once no
request still uses them."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from ..format import naming
from ..format.locate import Location
from ..model.checkpoint import Checkpoint


def _stamp(location: Location) -> tuple[str, float, int]:
    file = naming.index_file(location.path) if location.kind == "bundle" else location.path
    st = os.stat(file)
    return (location.path, st.st_mtime, st.st_size)


class _Slot:
    def __init__(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint
        self.users = 0
        self.evicted = False


class CheckpointCache:
    """``with cache.use(location) as ckpt:`` — at most ``size`` checkpoints stay open."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._slots: OrderedDict[tuple[str, float, int], _Slot] = OrderedDict()
        self._lock = threading.Lock()
        self.opened = 0  # how many times a checkpoint was opened (tests read it)

    @contextmanager
    def use(self, location: Location) -> Iterator[Checkpoint]:
        key = _stamp(location)
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:
                self._slots.move_to_end(key)
                slot.users += 1
        if slot is None:
            opened = _Slot(Checkpoint(location.path))
            with self._lock:
                slot = self._slots.get(key)
                if slot is None:
                    slot, self.opened = opened, self.opened + 1
                    self._slots[key] = slot
                    self._evict()
                else:
                    opened.checkpoint.close()
                    self._slots.move_to_end(key)
                slot.users += 1
        try:
            yield slot.checkpoint
        finally:
            with self._lock:
                slot.users -= 1
                close = slot.evicted and slot.users == 0
            if close:
                slot.checkpoint.close()

    def _evict(self) -> None:
        """Drop the least recently used beyond ``size`` (lock held); close those not in use."""
        while len(self._slots) > self.size:
            _, old = self._slots.popitem(last=False)
            old.evicted = True
            if old.users == 0:
                old.checkpoint.close()

    def clear(self) -> None:
        with self._lock:
            slots, self._slots = list(self._slots.values()), OrderedDict()
        for slot in slots:
            slot.evicted = True
            if slot.users == 0:
                slot.checkpoint.close()
