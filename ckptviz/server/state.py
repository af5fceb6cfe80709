"""What the handlers share: the root directory, the bounded caches, and two thread pools, so a
cheap request (a listing, a page of entries) never waits behind statistics, diffs or pictures."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .cache import CheckpointCache, Lru
from .paths import Root

# One core stays free for the cheap requests' pool and the event loop.
HEAVY_WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass
class State:
    root: Root
    cache: CheckpointCache = field(default_factory=CheckpointCache)
    results: Lru = field(default_factory=lambda: Lru(max_items=16, max_bytes=64 << 20))  # diffs
    timelines: Lru = field(default_factory=lambda: Lru(max_items=8, max_bytes=64 << 20))  # by run
    executor: ThreadPoolExecutor = field(  # statistics, diffs, timelines, graphs, exports
        default_factory=lambda: ThreadPoolExecutor(max_workers=HEAVY_WORKERS, thread_name_prefix="ckptviz")
    )
    quick: ThreadPoolExecutor = field(  # listings, entries, previews
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="ckptviz-quick")
    )

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.quick.shutdown(wait=False, cancel_futures=True)
        self.cache.clear()
        self.results.clear()
        self.timelines.clear()
        self.root.close()
