"""Running a diff: pair the keys, compare the pairs on worker threads, roll the rows up.

numpy releases the GIL in the loops that matter (casts, dot products, comparisons), so threads
use every core; each worker holds a few chunks at a time (compare.py). Stored CRC32Cs decide
equality only with ``fast=True``; otherwise the bytes do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ...errors import InvalidArgumentError
from ...format.bundle import BundleReader
from ..checkpoint import Checkpoint
from ..checkpoint import open as open_checkpoint
from ..distributed import resolve_client, run_diff
from ..progress import Progress, reporter
from ..stats import is_numeric
from .compare import SMALL, Delta, compare, compare_flat, compare_small, effective_rank
from .match import Match, pair
from .result import DiffResult, KnownNames, Row
from .rollup import rollup

_BAR_BYTES = 1 << 30  # a progress bar on diffs of at least this much data, unless asked otherwise


def _open(source: Any, verify: bool, storage_options: Mapping[str, Any] | None = None) -> Checkpoint:
    if isinstance(source, Checkpoint):
        return source
    return open_checkpoint(os.fspath(source), verify=verify, storage_options=dict(storage_options or {}))


def _pieces(a: Checkpoint, ka: str, b: Checkpoint, kb: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Aligned pieces of two tensors: slice by slice when both are stored in the same slices (one
    slice in memory, not the whole tensor), else whole (big ones are memory maps)."""
    ea, eb = a.entries[ka], b.entries[kb]
    ra, rb = a.reader, b.reader
    if ea.slices and ea.slices == eb.slices and isinstance(ra, BundleReader) and isinstance(rb, BundleReader):
        for (_, pa), (_, pb) in zip(ra.slice_entries(ea), rb.slice_entries(eb)):
            yield ra.read_entry(pa), rb.read_entry(pb)
        return
    yield a.read(ka), b.read(kb)


def read_flat(ckpt: Checkpoint, keys: list[str]) -> np.ndarray | None:
    """A bundle's ``read_flat``: the batch as one array when its tensors lie back to back."""
    return ckpt.reader.read_flat(keys) if isinstance(ckpt.reader, BundleReader) else None


def read_many(ckpt: Checkpoint, keys: list[str]) -> list[np.ndarray]:
    """The values of ``keys`` (small fixed-width tensors), in order: a bundle reads them together."""
    if isinstance(ckpt.reader, BundleReader):
        return ckpt.reader.read_many(keys)
    return [ckpt.read(k) for k in keys]


def diff(
    a: Any,
    b: Any,
    *,
    assignment_map: Mapping[str, str] | None = None,
    match: Match = "key",
    atol: float = 0.0,
    rtol: float = 0.0,
    rank: bool = False,
    fast: bool = False,
    explode: float = 1.0,
    max_norm: float | None = None,
    workers: int | None = None,
    progress: bool | Progress | None = None,
    verify: bool = True,
    storage_options: Mapping[str, Any] | None = None,
    client: Any = None,
) -> DiffResult:
    """Compare checkpoint ``a`` (the reference) with ``b``: paths in any form, or ``Checkpoint``s.

    ``match``: pair keys by ``"key"``, TF1 ``"full_name"`` or object ``"path"``; ``assignment_map``
    renames ``a``'s names first (``init_from_checkpoint`` syntax; an entry matching nothing raises).
    ``atol``/``rtol``: what counts as a changed element (default: any bit). ``rank``: effective rank
    of 2-D deltas. ``fast``: trust equal stored CRC32Cs instead of reading. ``explode``/``max_norm``:
    roll-up thresholds on relative change and norm. ``progress``: True/False for a tqdm bar (default:
    on past 1 GiB) or a callback ``(bytes done, bytes total)``. ``storage_options``: for paths on a
    remote store (fsspec's: endpoint, credentials…). ``client``: a Dask client (or True for the
    current one) runs the comparisons as tasks that read their own byte ranges (``ckptviz[dask]``).
    """
    if atol < 0 or rtol < 0:
        raise InvalidArgumentError(f"atol and rtol must be >= 0, got atol={atol}, rtol={rtol}")
    ca, cb = _open(a, verify, storage_options), _open(b, verify, storage_options)
    pairing = pair(ca, cb, match, assignment_map)
    ea, eb = ca.entries, cb.entries
    rows: list[Row] = []
    jobs: list[tuple[int, str, str]] = []
    for ka, kb in pairing.pairs:
        x, y = ea[ka], eb[kb]
        n = y.num_elements
        size = n * y.dtype.size if y.dtype.is_fixed_width else y.nbytes
        row = Row(ka, kb, "changed", x.dtype.name, y.dtype.name, x.shape, y.shape, n, size)
        if x.dtype == y.dtype and x.shape == y.shape:
            jobs.append((len(rows), ka, kb))
        rows.append(row)
    for key, why in pairing.only_a.items():
        e = ea[key]
        rows.append(
            Row(key, None, "removed", e.dtype.name, None, e.shape, None, e.num_elements, e.nbytes, reason=why)
        )
    for key, why in pairing.only_b.items():
        e = eb[key]
        rows.append(
            Row(None, key, "added", None, e.dtype.name, None, e.shape, e.num_elements, e.nbytes, reason=why)
        )

    def compare_one(job: tuple[int, str, str]) -> list[tuple[int, Delta, bool]]:
        i, ka, kb = job
        x, y = ea[ka], eb[kb]
        if fast and x.crc32c and y.crc32c and not x.slices and x.crc32c == y.crc32c and x.size == y.size:
            return [(i, Delta(x.num_elements), True)]
        dtype = x.dtype.numpy if x.dtype.is_fixed_width else np.dtype(object)
        if rank and len(x.shape) == 2 and x.dtype.is_fixed_width:  # read once, for both
            va, vb = ca.read(ka), cb.read(kb)
            delta = compare([(va, vb)], dtype, x.num_elements, atol, rtol)
            if delta.changed:
                delta.rank = effective_rank(va, vb)
        else:
            delta = compare(_pieces(ca, ka, cb, kb), dtype, x.num_elements, atol, rtol)
        return [(i, delta, False)]

    def compare_batch(batch: list[tuple[int, str, str]]) -> list[tuple[int, Delta, bool]]:
        keys_a, keys_b = [ka for _, ka, _ in batch], [kb for _, _, kb in batch]
        flat_a, flat_b = read_flat(ca, keys_a), read_flat(cb, keys_b)
        if flat_a is not None and flat_b is not None and flat_a.dtype == flat_b.dtype:
            sizes = np.array([ea[ka].num_elements for ka in keys_a], np.int64)
            deltas = compare_flat(flat_a, flat_b, sizes, atol, rtol)
        else:
            deltas = compare_small(list(zip(read_many(ca, keys_a), read_many(cb, keys_b))), atol, rtol)
        return [(i, d, False) for (i, _, _), d in zip(batch, deltas)]

    tasks = _tasks(jobs, rows, ea, eb, fast, rank)
    total = sum(2 * rows[i].nbytes for i, _, _ in jobs)
    report = reporter(progress, total, desc="diff", auto=total >= _BAR_BYTES)
    both_bundles = ca.format == cb.format == "bundle"
    n_workers = workers or (min(4, os.cpu_count() or 1) if both_bundles else 1)

    def run(task: tuple[bool, list[tuple[int, str, str]]]) -> list[tuple[int, Delta, bool]]:
        batched, items = task
        return compare_batch(items) if batched else compare_one(items[0])

    def answered_here(task: tuple[bool, list[tuple[int, str, str]]]) -> list[tuple[int, Delta, bool]] | None:
        """Rows a stored checksum decides (``fast``): no read, so no task."""
        _, ka, kb = task[1][0]
        x, y = ea[ka], eb[kb]
        if fast and x.crc32c and y.crc32c and not x.slices and x.crc32c == y.crc32c and x.size == y.size:
            return compare_one(task[1][0])
        return None

    dask_client = resolve_client(client)
    if dask_client is None:
        _open_shards(ca, [ka for _, ka, _ in jobs])  # before the threads, which would race to open them
        _open_shards(cb, [kb for _, _, kb in jobs])
    done = 0
    try:
        with ThreadPoolExecutor(max(1, n_workers)) as pool:
            outcomes = (
                pool.map(run, tasks)
                if dask_client is None
                else run_diff(dask_client, ca, cb, tasks, answered_here, atol, rtol, rank)
            )
            for results in outcomes:
                for i, delta, by_crc in results:
                    row = rows[i]
                    row.delta, row.fast = delta, by_crc
                    row.status = "changed" if delta.changed else "unchanged"
                    done += 2 * row.nbytes
                report(done, total)
    finally:
        report(-1, total)
    rows.sort(key=_key)
    known = KnownNames(ca, cb)
    for r in rows:
        r.known = known
    options = {
        "match": match,
        "assignment_map": dict(assignment_map or {}),
        "atol": atol,
        "rtol": rtol,
        "rank": rank,
        "fast": fast,
        "explode": explode,
        "max_norm": max_norm,
    }
    return DiffResult(ca, cb, rows, rollup(rows, ca, cb, explode, max_norm), options)


_BATCH = 4096  # small tensors per task
_BATCH_ELEMENTS = 1 << 18  # and elements: a batch's float64 working arrays stay ~2 MiB each


def _tasks(
    jobs: list[tuple[int, str, str]],
    rows: list[Row],
    ea: Mapping[str, Any],
    eb: Mapping[str, Any],
    fast: bool,
    rank: bool,
) -> list[tuple[bool, list[tuple[int, str, str]]]]:
    """Big tensors one per task, largest first (threads finish together); small numeric ones in
    batches of one dtype, compared together (``compare_small``)."""
    big: list[tuple[int, str, str]] = []
    small: dict[str, list[tuple[int, str, str]]] = {}
    numeric: dict[str, bool] = {}  # by dtype name: decided once, not once per key
    for job in jobs:
        i, ka, kb = job
        x, n = ea[ka], rows[i].elements
        name = x.dtype.name
        if name not in numeric:
            numeric[name] = x.dtype.is_fixed_width and is_numeric(x.dtype.numpy)
        batchable = (
            0 < n <= SMALL
            and numeric[name]
            and not fast
            and not x.slices
            and not eb[kb].slices
            and not (rank and len(x.shape) == 2)
        )
        if batchable:
            small.setdefault(name, []).append(job)
        else:
            big.append(job)
    big.sort(key=lambda j: -rows[j[0]].nbytes)
    tasks = [(False, [j]) for j in big]
    for group in small.values():  # at most _BATCH tensors or _BATCH_ELEMENTS elements a batch
        batch: list[tuple[int, str, str]] = []
        elements = 0
        for job in group:
            n = rows[job[0]].elements
            if batch and (len(batch) == _BATCH or elements + n > _BATCH_ELEMENTS):
                tasks.append((True, batch))
                batch, elements = [], 0
            batch.append(job)
            elements += n
        if batch:
            tasks.append((True, batch))
    return tasks


def _key(row: Row) -> str:
    return row.key_a if row.key_a is not None else row.key_b  # type: ignore[return-value]


def _open_shards(ckpt: Checkpoint, keys: list[str]) -> None:
    """Read the smallest tensor of each data file once, which opens the file."""
    entries = ckpt.entries
    smallest: dict[int, tuple[int, str]] = {}
    for key in keys:
        e = entries[key]
        if not e.slices and e.size < smallest.get(e.shard, (1 << 62, ""))[0]:
            smallest[e.shard] = (e.size, key)
    for _, key in smallest.values():
        ckpt.read(key)
