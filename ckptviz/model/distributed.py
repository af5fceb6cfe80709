"""``diff``, ``timeline`` and per-tensor statistics as Dask tasks (``pip install ckptviz[dask]``).

The client reads only indexes (and a few scalars, for step numbers). Each task gets where its
tensors live, a ``TensorSource`` (data file URL, byte range, dtype, shape, CRC32C and the store's
options), and reads those bytes itself, on whichever worker runs it: nothing streams through the
client. Tasks run the same functions as the single-process path on the same values, so results
are identical (the same statistics, the same histogram counts). ``dask.distributed`` is imported
only here, and only when a client is used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import ChecksumMismatchError, InvalidArgumentError
from ..format import crc, storage
from ..format.bundle import BundleReader
from .checkpoint import Checkpoint
from .checkpoint import open as open_checkpoint
from .stats import StepStats, TensorStats, fixed_edges, step_stats, tensor_stats, value_range
from .step_reading import carried_over, step_of, variables_of, worth_compiling


def resolve_client(client: Any) -> Any:
    """``client``, or the current Dask client for ``True``."""
    if client is True:
        try:
            from distributed import get_client
        except ImportError:
            raise InvalidArgumentError("client=True needs Dask: pip install 'ckptviz[dask]'") from None
        try:
            return get_client()
        except ValueError:
            raise InvalidArgumentError(
                "client=True but no Dask client is running; pass client=Client(...)"
            ) from None
    return client


@dataclass(frozen=True)
class TensorSource:
    """Where one tensor's value lives: a byte range of a data file (``url``), or, for anything a
    range cannot describe (partitioned tensors, V1 and Keras files), the checkpoint and key."""

    checkpoint: str
    key: str
    options: dict[str, Any] = field(default_factory=dict, repr=False)  # credentials: never shown
    verify: bool = True
    url: str | None = None
    file_size: int = 0
    offset: int = 0
    length: int = 0
    dtype: str = ""
    shape: tuple[int, ...] = ()
    crc32c: int = 0

    def read(self) -> np.ndarray:
        if self.url is None:
            with open_checkpoint(self.checkpoint, self.verify, storage_options=self.options) as ckpt:
                return ckpt.read(self.key)
        return read_sources([self])[0]


def source_of(ckpt: Checkpoint, key: str) -> TensorSource:
    e = ckpt.entries[key]
    base = TensorSource(ckpt.path, key, ckpt.storage_options, getattr(ckpt.reader, "verify", True))
    reader = ckpt.reader
    if not isinstance(reader, BundleReader) or e.slices or not e.dtype.is_fixed_width or reader.endian != "<":
        return base
    blob = reader.data_blob(e)
    return replace(
        base,
        url=blob.path,
        file_size=blob.size,
        offset=e.offset,
        length=e.size,
        dtype=e.dtype.name,
        shape=e.shape,
        crc32c=e.crc32c,
    )


def read_sources(sources: Sequence[TensorSource]) -> list[np.ndarray]:
    """The values of ``sources``: byte ranges of one data file read together, CRC32C checked."""
    from ..format.dtypes import as_dtype

    out: list[np.ndarray | None] = [None] * len(sources)
    by_file: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        if s.url is None:
            out[i] = s.read()
        else:
            by_file.setdefault(s.url, []).append(i)
    for url, members in by_file.items():
        first = sources[members[0]]
        blob = storage.open_blob(url, first.options, size=first.file_size)
        try:
            got = blob.read_ranges([(sources[i].offset, sources[i].length) for i in members])
        finally:
            blob.close()
        for i, data in zip(members, got):
            s = sources[i]
            value = np.frombuffer(data, dtype=as_dtype(s.dtype).numpy).reshape(s.shape)
            if s.verify and crc.mask(crc.value(value)) != s.crc32c:
                raise ChecksumMismatchError(
                    f"checksum mismatch for {s.key!r}: stored {crc.unmask(s.crc32c):#010x}, computed "
                    f"{crc.value(value):#010x} (the data file may come from another checkpoint)",
                    storage.redact(url),
                    s.offset,
                )
            out[i] = value
    return [v for v in out if v is not None]


# -- diff -------------------------------------------------------------------------------------------


def diff_task(
    batched: bool, items: list[tuple[int, TensorSource, TensorSource]], atol: float, rtol: float, rank: bool
) -> list[tuple[int, Any, bool]]:
    """One task of ``diff``: what ``engine.compare_batch`` / ``compare_one`` compute, from ranges."""
    from .diff.compare import compare, compare_small, effective_rank

    values = read_sources([s for _, a, b in items for s in (a, b)])
    pairs = list(zip(values[0::2], values[1::2]))
    if batched:
        return [(i, d, False) for (i, _, _), d in zip(items, compare_small(pairs, atol, rtol))]
    (i, a, _), (x, y) = items[0], pairs[0]
    delta = compare(iter([(x, y)]), x.dtype, x.size, atol, rtol)
    if rank and len(a.shape) == 2 and delta.changed:
        delta.rank = effective_rank(x, y)
    return [(i, delta, False)]


def run_diff(
    client: Any,
    a: Checkpoint,
    b: Checkpoint,
    tasks: list[tuple[bool, list[tuple[int, str, str]]]],
    atol: float,
    rtol: float,
    rank: bool,
) -> list[list[tuple[int, Any, bool]]]:
    """Every task on ``client`` (rows a stored checksum settles never become tasks)."""
    futures = []
    for batched, items in tasks:
        sources = [(i, source_of(a, ka), source_of(b, kb)) for i, ka, kb in items]
        futures.append(client.submit(diff_task, batched, sources, atol, rtol, rank, pure=False))
    return list(client.gather(futures))


# -- timeline ---------------------------------------------------------------------------------------


def first_step_task(
    src: TensorSource, prev: TensorSource | None, bins: int, fast: bool
) -> tuple[list[float], StepStats]:
    """A variable's first checkpoint: its bins, fixed from this value's range, and its statistics."""
    value = src.read()
    lo, hi = value_range(value)
    edges = fixed_edges(lo, hi, bins)
    return edges, step_stats(value, edges, prev.read() if prev is not None else None, fast)


def step_task(
    src: TensorSource, prev: TensorSource | None, first: tuple[list[float], StepStats], fast: bool
) -> StepStats:
    return step_stats(src.read(), first[0], prev.read() if prev is not None else None, fast)


def run_timeline(
    client: Any,
    paths: list[str],
    stamps: list[float | None],
    select: Any,
    bins: int,
    verify: bool,
    options: Mapping[str, Any],
) -> tuple[list[Any], dict[str, list[StepStats | None]], dict[str, list[float]]]:
    """Steps, statistics and bins of a run, every tensor of every checkpoint a task."""
    ckpts = [open_checkpoint(p, verify, storage_options=dict(options)) for p in paths]
    steps, firsts = [], {}
    # per step: {key: future of StepStats, or ("carried", key)}; resolved in step order below
    pending: list[dict[str, Any]] = []
    present: list[set[str]] = []
    for i, ckpt in enumerate(ckpts):
        step = step_of(ckpt, i)
        step.timestamp = stamps[i]
        prev = ckpts[i - 1] if i else None
        todo: dict[str, Any] = {}
        keys = variables_of(ckpt, select)
        fast = worth_compiling(ckpt, keys)  # as the single-process path decides
        for key in keys:
            known = {key: StepStats()} if i and key in present[i - 1] else {}
            if carried_over(ckpt, prev, key, known) is not None:
                todo[key] = "carried"
                step.unchanged += 1
                continue
            e, p = ckpt.entries[key], prev.entries.get(key) if prev is not None else None
            before = (
                source_of(prev, key)
                if prev is not None and p is not None and (p.shape, p.dtype) == (e.shape, e.dtype)
                else None
            )
            if before is not None:
                before = replace(before, verify=False)  # as the single-process path reads it
            src = source_of(ckpt, key)
            if key not in firsts:
                firsts[key] = client.submit(first_step_task, src, before, bins, fast, pure=False)
                todo[key] = firsts[key]
            else:
                todo[key] = client.submit(step_task, src, before, firsts[key], fast, pure=False)
        pending.append(todo)
        present.append(set(todo))
        steps.append(step)
    results = client.gather([pending, firsts])
    done, first_results = results
    stats: dict[str, list[StepStats | None]] = {}
    for i, todo in enumerate(done):
        for key in sorted(todo):
            value = todo[key]
            if value == "carried":
                earlier = stats[key][i - 1]
                assert earlier is not None
                value = replace(earlier, relative_change=0.0)
            elif isinstance(value, tuple):
                value = value[1]
            stats.setdefault(key, [None] * i).append(value)
        for per_step in stats.values():
            if len(per_step) == i:
                per_step.append(None)
    for ckpt in ckpts:
        ckpt.close()
    edges = {key: first_results[key][0] for key in first_results}
    return steps, dict(sorted(stats.items())), edges


# -- per-tensor statistics -------------------------------------------------------------------------


def stats_task(src: TensorSource, bins: int | None, dtype_name: str) -> TensorStats | None:
    return tensor_stats(src.read(), bins, dtype_name)


def checkpoint_stats(
    path: Any,
    keys: Sequence[str] | None = None,
    *,
    bins: int | None = 30,
    client: Any = None,
    verify: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> dict[str, TensorStats]:
    """``{key: TensorStats}`` of every numeric tensor (or ``keys``): on ``client``, one task each,
    else here; the same numbers either way."""
    ckpt = (
        path
        if isinstance(path, Checkpoint)
        else open_checkpoint(os.fspath(path), verify, storage_options=dict(storage_options or {}))
    )
    from .stats import is_numeric

    wanted = (
        list(keys)
        if keys is not None
        else [k for k, e in ckpt.entries.items() if e.dtype.is_fixed_width and is_numeric(e.dtype.numpy)]
    )
    names = {k: ckpt.entries[ckpt.key_of(k)].dtype.name for k in wanted}
    client = resolve_client(client)
    if client is None:
        found = {k: tensor_stats(ckpt.read(k), bins, names[k]) for k in wanted}
    else:
        futures = {
            k: client.submit(stats_task, source_of(ckpt, ckpt.key_of(k)), bins, names[k], pure=False)
            for k in wanted
        }
        found = client.gather(futures)
    return {k: v for k, v in found.items() if v is not None}
