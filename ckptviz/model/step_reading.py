"""One checkpoint of a timeline: the step it records, the variables followed, and their statistics,
computed on worker threads.

In a checkpoint that goes through the compiled loops (``worth_compiling``), the float32 and float64
tensors of a local bundle are taken from one read-only map of their data file, many in one
compiled call per task (``_file_tasks``): no read, copy or Python step per tensor but its CRC, and
a worker holds the GIL only between such calls, so the cores do not wait on each other. The others
go as ``_batches`` of keys: small tensors read together and computed in one call, any other big
tensor alone. The previous checkpoint's values are held (maps, or copies up to ``_HOLD_BYTES``)
so that no value is read twice.
"""

from __future__ import annotations

import heapq
import mmap
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from ..format import naming, storage
from ..format.bundle import BundleReader
from ..format.entries import Entry
from .checkpoint import Checkpoint
from .paths import VARIABLE_VALUE, attribute_key
from .runs import prefix_number
from .stats import (
    StepStats,
    compiled,
    fixed_edges,
    fixed_edges_many,
    is_numeric,
    step_stats,
    step_stats_many,
    step_stats_mapped,
    value_range,
    value_ranges,
)

_STEP_KEYS = ("global_step", attribute_key("global_step", VARIABLE_VALUE))
_COUNTER_KEY = attribute_key("save_counter", VARIABLE_VALUE)


@dataclass
class Step:
    """One checkpoint of the run: ``step`` from ``global_step``, else the prefix's number, else
    ``save_counter``, else its position."""

    prefix: str
    step: int
    timestamp: float | None = None
    global_step: int | None = None
    save_counter: int | None = None
    number: int | None = None  # the prefix's -N
    cached: bool = False  # came from the cache, not read this time
    unchanged: int = 0  # tensors with the previous step's stored size and CRC32C: statistics carried over


def _scalar(ckpt: Checkpoint, keys: Sequence[str]) -> int | None:
    for key in keys:
        e = ckpt.entries.get(key)
        if e is not None and e.shape == () and e.dtype.is_fixed_width:
            return int(ckpt.read_many([key])[key][()])  # exactly its bytes: no read-ahead
    return None


def step_of(ckpt: Checkpoint, index: int) -> Step:
    """The step a checkpoint records (``global_step``, its prefix's number, ``save_counter``)."""
    global_step = _scalar(ckpt, _STEP_KEYS)
    counter = _scalar(ckpt, (_COUNTER_KEY, "save_counter"))
    number = prefix_number(ckpt.path)
    step_no = next((s for s in (global_step, number, counter) if s is not None), index)
    return Step(ckpt.path, step_no, global_step=global_step, save_counter=counter, number=number)


def variables_of(ckpt: Checkpoint, select: Callable[[str], bool]) -> list[str]:
    """The numeric keys a timeline follows."""
    return [
        k
        for k, e in ckpt.entries.items()
        if k != naming.OBJECT_GRAPH_KEY and e.dtype.is_fixed_width and is_numeric(e.dtype.numpy) and select(k)
    ]


def worth_compiling(ckpt: Checkpoint, keys: list[str]) -> bool:
    """Whether a checkpoint's statistics go through the compiled loops: all of its tensors when
    one is big (``stats.compiled``), none for a checkpoint of small ones."""
    return any(compiled(ckpt.entries[k].num_elements) for k in keys)


def carried_over(
    ckpt: Checkpoint, previous: Checkpoint | None, key: str, earlier: dict[str, StepStats]
) -> StepStats | None:
    """The previous step's statistics of ``key`` when its stored bytes are the same (size and
    CRC32C, as the index records them): the values are, so only the change (zero) differs."""
    before = earlier.get(key)
    if before is None or previous is None:
        return None
    e, p = ckpt.entries[key], previous.entries.get(key)
    same = (
        p is not None
        and e.crc32c != 0
        and not e.slices
        and (p.crc32c, p.size, p.dtype, p.shape) == (e.crc32c, e.size, e.dtype, e.shape)
    )
    return replace(before, relative_change=0.0) if same else None


def read_step(
    ckpt: Checkpoint,
    previous: Checkpoint | None,
    held: Held,
    index: int,
    select: Callable[[str], bool],
    bins: int,
    edges: dict[str, list[float]],
    workers: int,
    earlier: dict[str, StepStats],
    meanwhile: Callable[[], None] = lambda: None,
) -> tuple[Step, dict[str, StepStats], Held]:
    """One checkpoint's statistics, the change from ``previous`` (whose values read last time are
    ``held``), and the values to hold for the next one; ``meanwhile`` runs on this thread while the
    workers run (the timeline closes the checkpoints it is done with: unmapping takes a while)."""
    step = step_of(ckpt, index)
    keys = variables_of(ckpt, select)
    fast = worth_compiling(ckpt, keys)
    same = {k: st for k in keys if (st := carried_over(ckpt, previous, k, earlier)) is not None}
    step.unchanged = len(same)
    keys = [k for k in keys if k not in same]

    keep: Held = {}
    budget = [_HOLD_BYTES]  # bytes of copies still allowed; memory maps of the data files are free
    lock = threading.Lock()

    def batch(keys: list[str]) -> list[tuple[str, StepStats]]:
        """One task: a big tensor, or small ones read together and computed in one compiled call."""
        values = _read(ckpt, keys)
        with lock:
            for key, value in values.items():
                cost = 0 if _mapped(value) else value.nbytes
                if cost <= budget[0]:
                    budget[0] -= cost
                    keep[key] = value
        for key, value in values.items():
            if key not in edges:
                lo, hi = value_range(value)
                edges[key] = fixed_edges(lo, hi, bins)
        prev: dict[str, np.ndarray | None] = dict.fromkeys(keys)
        if previous is not None:  # a change to measure where the previous step has the same shape and dtype
            now, then = ckpt.entries, previous.entries
            alike = [
                k
                for k in keys
                if (p := then.get(k)) is not None and (p.shape, p.dtype) == (now[k].shape, now[k].dtype)
            ]
            # unmapped by this thread when done
            prev.update({k: _value(held.pop(k), then[k]) for k in alike if k in held})
            missing = [k for k in alike if prev[k] is None]
            prev.update(_read(previous, missing))
        if fast and len(keys) > 1:
            many = step_stats_many(
                [values[k] for k in keys], [edges[k] for k in keys], [prev[k] for k in keys]
            )
            return list(zip(keys, many))
        return [(k, step_stats(values[k], edges[k], prev[k], fast)) for k in keys]

    def in_file(keys: list[str], before: np.ndarray | None) -> list[tuple[str, StepStats]]:
        """One task: tensors of one dtype and data file from one map of it (their previous values
        from the map ``before``), checked and computed in one compiled call."""
        reader = ckpt.reader
        got = reader.read_mapped(keys) if isinstance(reader, BundleReader) else None
        if got is None:  # the file cannot be mapped after all: read as the others are
            return [part for keys_ in _batches(ckpt, keys) for part in batch(keys_)]
        whole, starts = got
        sizes = [ckpt.entries[k].num_elements for k in keys]
        new = [j for j, k in enumerate(keys) if k not in edges]  # bins fixed from their first values
        if new:
            lo, hi = value_ranges(whole, [starts[j] for j in new], [sizes[j] for j in new])
            edges.update(zip([keys[j] for j in new], fixed_edges_many(lo, hi, bins)))
        then = [held.pop(k)[1] for k in keys] if before is not None else None
        found = step_stats_mapped(whole, starts, sizes, [edges[k] for k in keys], before, then)
        with lock:
            keep.update({k: (whole, at) for k, at in zip(keys, starts)})
        return list(zip(keys, found))

    whole_files, rest = _file_tasks(ckpt, previous, held, keys, workers) if fast else ([], keys)
    tasks = [partial(in_file, *t) for t in whole_files]
    batches = [partial(batch, part) for part in _batches(ckpt, rest)]
    tasks[workers:workers] = batches  # once each worker has a map's task
    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = pool.map(_call, tasks)
        meanwhile()
        done = {k: st for part in results for k, st in part}
    done.update(same)
    return step, {k: done[k] for k in sorted(done)}, keep


Held = dict[str, "np.ndarray | tuple[np.ndarray, int]"]  # a value, or (its data file's map, its start)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_PARTS = 8  # tasks per worker for a checkpoint's mapped tensors: the last to end are short


def _call(task: Callable[[], Any]) -> Any:
    return task()


def _value(item: np.ndarray | tuple[np.ndarray, int], entry: Entry) -> np.ndarray:
    """A held value as an array of its tensor's shape."""
    if isinstance(item, tuple):
        whole, at = item
        return whole[at : at + entry.num_elements].reshape(entry.shape)
    return item


def _file_tasks(
    ckpt: Checkpoint, previous: Checkpoint | None, held: Held, keys: list[str], workers: int
) -> tuple[list[tuple[list[str], np.ndarray | None]], list[str]]:
    """``(keys, previous map)`` tasks for the float32/float64 tensors of a local bundle that start
    where a map of their dtype can (their offset a multiple of its size) and whose previous values,
    if any, are held as a map of their data file (as this step holds its own), and the keys left
    over. A task's tensors share a dtype, a data file and their previous values' data file; each
    such group is cut into ``_PARTS × workers`` tasks of about equal bytes, so that the cores
    finish together."""
    if not isinstance(ckpt.reader, BundleReader) or storage.is_remote(ckpt.path):
        return [], keys
    now, then = ckpt.entries, previous.entries if previous is not None else {}
    groups: dict[tuple[str, int, int], list[str]] = {}
    before: dict[tuple[str, int, int], np.ndarray | None] = {}
    rest = []
    for k in keys:
        e, p = now[k], then.get(k)
        alike = p is not None and (p.shape, p.dtype) == (e.shape, e.dtype)  # a change to measure
        item = held.get(k) if alike else None
        if (
            e.slices
            or e.dtype.numpy not in _FLOATS
            or e.offset % e.dtype.numpy.itemsize  # not where a map of its dtype can start it
            or (alike and not isinstance(item, tuple))  # its previous values are not in a map
        ):
            rest.append(k)
            continue
        group = (e.dtype.name, e.shard, then[k].shard if alike else -1)
        groups.setdefault(group, []).append(k)
        before[group] = item[0] if isinstance(item, tuple) else None  # any map of that file will do
    tasks = []
    for group, members in groups.items():
        members.sort(key=lambda k: -now[k].size)
        parts: list[list[str]] = [[] for _ in range(_PARTS * max(1, workers))]
        lightest = [(0, j) for j in range(len(parts))]  # a heap of (bytes, part)
        for k in members:  # the largest first, each to the lightest part
            load, j = heapq.heappop(lightest)
            parts[j].append(k)
            heapq.heappush(lightest, (load + now[k].size, j))
        tasks += [(part, before[group]) for part in parts if part]
    return tasks, rest


def _read(ckpt: Checkpoint, keys: list[str]) -> dict[str, np.ndarray]:
    """Several tensors in one ``read_many``; one alone as ``read`` reads it (no read-ahead)."""
    return ckpt.read_many(keys) if len(keys) > 1 else {k: ckpt.read(k) for k in keys}


_HOLD_BYTES = 256 << 20  # copied values (small or remote tensors) held for the next step's change
_TASK_BYTES = 1 << 20  # a worker's task: one big tensor, or small ones up to this many bytes


def _batches(ckpt: Checkpoint, keys: list[str]) -> list[list[str]]:
    """``keys`` in tasks, the longest first. Small tensors go together up to ``_TASK_BYTES`` (a
    few hand-offs between threads and one compiled call each, not one per tensor): mostly
    Python, they come first, while the other thread's time goes to a big tensor's pass. Each big
    tensor (``stats.compiled``) is a task alone, largest first, so the last to end are short."""
    entries = ckpt.entries
    big = sorted((k for k in keys if compiled(entries[k].num_elements)), key=lambda k: -entries[k].nbytes)
    out: list[list[str]] = []
    size = _TASK_BYTES
    for key in (k for k in keys if not compiled(entries[k].num_elements)):
        if size + entries[key].nbytes > _TASK_BYTES:
            out.append([])
            size = 0
        out[-1].append(key)
        size += entries[key].nbytes
    return out + [[k] for k in big]


def _mapped(value: np.ndarray) -> bool:
    """A memory map of a data file (``BundleReader`` maps big local tensors): holding it costs
    page cache, not memory of our own."""
    base = value.base
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)
