"""What the handlers share: the root directory, the checkpoint cache and the reader threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .cache import CheckpointCache
from .paths import Root


@dataclass
class State:
    root: Root
    cache: CheckpointCache = field(default_factory=CheckpointCache)
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="ckptviz")
    )

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.cache.clear()
