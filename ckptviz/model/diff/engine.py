"""Running a diff: pair the keys, compare the pairs on worker threads, keep the rows as columns.

numpy releases the GIL in the loops that matter (casts, dot products, comparisons), so threads
use every core; each worker holds a few chunks at a time (compare.py). Stored CRC32Cs decide
equality only with ``fast=True``; otherwise the bytes do. Per key, the diff does a few C-level
passes over the entries and nothing else: rows, names and roll-ups are made when first shown.
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ...errors import InvalidArgumentError
from ...format.bundle import BundleReader
from ...format.entries import Entries
from ..checkpoint import Checkpoint
from ..checkpoint import open as open_checkpoint
from ..distributed import resolve_client, run_diff
from ..progress import Progress, reporter
from ..stats import is_numeric
from .columns import STATUSES, Metrics, Table
from .compare import SMALL, Delta, compare, compare_small, effective_rank, flat_metrics
from .match import Match, Pairing, pair
from .result import DiffResult, KnownNames

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
    table, same = _table(ca, cb, pair(ca, cb, match, assignment_map))
    keys_a, keys_b, ea, eb = table.keys_a, table.keys_b, table.entries_a, table.entries_b
    metrics = table.metrics

    def compare_one(i: int) -> list[tuple[int, Delta, bool]]:
        """Row ``i``'s tensors compared on their own, answered as a Dask task answers."""
        x = ea[i]
        ka, kb = keys_a[i], keys_b[i]
        assert ka is not None and kb is not None
        dtype = x.dtype.numpy if x.dtype.is_fixed_width else np.dtype(object)
        if rank and len(x.shape) == 2 and x.dtype.is_fixed_width:  # read once, for both
            va, vb = ca.read(ka), cb.read(kb)
            delta = compare([(va, vb)], dtype, x.num_elements, atol, rtol)
            if delta.changed:
                delta.rank = effective_rank(va, vb)
        else:
            delta = compare(_pieces(ca, ka, cb, kb), dtype, x.num_elements, atol, rtol)
        return [(i, delta, False)]

    def compare_batch(rows: np.ndarray) -> Metrics:
        at = rows.tolist()
        names_a, names_b = [keys_a[i] for i in at], [keys_b[i] for i in at]
        flat_a, flat_b = read_flat(ca, names_a), read_flat(cb, names_b)
        if flat_a is not None and flat_b is not None and flat_a.dtype == flat_b.dtype:
            return flat_metrics(flat_a, flat_b, table.elements[rows], atol, rtol)
        pairs = list(zip(read_many(ca, names_a), read_many(cb, names_b)))
        return Metrics.of_deltas(compare_small(pairs, atol, rtol))

    total = 2 * int(table.nbytes[same].sum())
    report = reporter(progress, total, desc="diff", auto=total >= _BAR_BYTES)
    table.fast = by_crc = _by_crc(table, same) if fast else np.zeros(len(table), bool)
    same = same & ~by_crc
    both_bundles = ca.format == cb.format == "bundle"
    n_workers = workers or (min(4, os.cpu_count() or 1) if both_bundles else 1)

    def run(task: tuple[bool, np.ndarray]) -> tuple[np.ndarray, Metrics] | list[tuple[int, Delta, bool]]:
        batched, rows = task
        return (rows, compare_batch(rows)) if batched else compare_one(int(rows[0]))

    dask_client = resolve_client(client)
    try:
        done = 0
        if by_crc.any():  # decided without a read: no numbers but the count of elements, none changed
            metrics.has[by_crc] = True
            metrics.counts["elements"][by_crc] = table.elements[by_crc]
            done = 2 * int(table.nbytes[by_crc].sum())
            report(done, total)
        tasks = _tasks(table, same, fast, rank)
        if dask_client is None:
            _open_shards(ca, ea, same)  # before the threads, which would race to open them
            _open_shards(cb, eb, same)
        with ThreadPoolExecutor(max(1, n_workers)) as pool:
            outcomes = pool.map(run, tasks) if dask_client is None else _on_dask(dask_client, ca, cb, table, tasks, atol, rtol, rank)  # fmt: skip
            for outcome in outcomes:
                if isinstance(outcome, tuple):
                    rows, found = outcome
                    metrics.put(rows, found)
                else:  # one tensor (or a Dask task's rows)
                    rows = np.array([i for i, _, _ in outcome], np.int64)
                    for i, delta, _ in outcome:
                        metrics.set(i, delta)
                done += 2 * int(table.nbytes[rows].sum())
                report(done, total)
    finally:
        report(-1, total)
    compared = metrics.has
    table.status[compared] = np.where(metrics.counts["changed"][compared] > 0, _CHANGED, _UNCHANGED)
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
    return DiffResult(ca, cb, _in_key_order(table), options, KnownNames(ca, cb))


_ADDED, _REMOVED, _CHANGED, _UNCHANGED = (
    STATUSES.index(s) for s in ("added", "removed", "changed", "unchanged")
)


class _Codes(dict[str, int]):
    """A small number for each distinct name, in order of first appearance."""

    def __missing__(self, name: str) -> int:
        self[name] = code = len(self)
        return code


class _Products(dict[tuple[int, ...], int]):
    """Elements of each shape, worked out once per distinct shape."""

    def __missing__(self, shape: tuple[int, ...]) -> int:
        self[shape] = n = math.prod(shape)
        return n


def _table(ca: Checkpoint, cb: Checkpoint, pairing: Pairing) -> tuple[Table, np.ndarray]:
    """The rows as columns (pairs, then keys only in ``a``, then only in ``b``) and which of them
    have numbers to compute (dtype and shape agree). Each column is one C-level pass (``map`` of
    ``attrgetter``): no Python frame, and no object, per row."""
    ta, tb = _entry_dict(ca), _entry_dict(cb)
    pa, pb = pairing.keys_a, pairing.keys_b
    ra, rb = list(pairing.only_a), list(pairing.only_b)
    xs, ys = list(map(ta.__getitem__, pa)), list(map(tb.__getitem__, pb))
    xr, yr = list(map(ta.__getitem__, ra)), list(map(tb.__getitem__, rb))
    n, p = len(pa) + len(ra) + len(rb), len(pa)
    main = ys + xr + yr  # the entry whose size a row reports: b's, else a's
    elements = np.fromiter(map(_Products().__getitem__, map(_SHAPE, main)), np.int64, n)
    itemsize = np.fromiter(map(_ITEMSIZE, main), np.int64, n)  # 0: not fixed-width
    nbytes = np.where(itemsize > 0, elements * itemsize, np.fromiter(map(_STORED, main), np.int64, n))
    status = np.full(n, _CHANGED, np.int8)
    status[p : p + len(ra)] = _REMOVED
    status[p + len(ra) :] = _ADDED
    dtypes_a, dtypes_b = list(map(_DTYPE, xs)), list(map(_DTYPE, ys))
    same_dtype = np.fromiter(map(operator.is_, dtypes_a, dtypes_b), bool, p)
    for i in np.flatnonzero(~same_dtype).tolist():  # equal DTypes are the same object but for odd ones
        same_dtype[i] = dtypes_a[i] == dtypes_b[i]
    same = np.zeros(n, bool)
    same[:p] = same_dtype & np.fromiter(map(operator.eq, map(_SHAPE, xs), map(_SHAPE, ys)), bool, p)
    none_b, none_a = [None] * len(ra), [None] * len(rb)
    reasons = dict(enumerate([*pairing.only_a.values(), *pairing.only_b.values()], p))
    table = Table(
        [*pa, *ra, *none_a], [*pb, *none_b, *rb], [*xs, *xr, *none_a], [*ys, *none_b, *yr], status, elements,
        nbytes, Metrics(n), np.zeros(n, bool), reasons,
    )  # fmt: skip
    return table, same


def _entry_dict(ckpt: Checkpoint) -> dict[str, Any]:
    """Every entry as a plain dict, the quickest to look up in (a bundle's decoded ones as they are)."""
    entries = ckpt.entries
    if isinstance(entries, dict):  # read only here
        return entries
    return entries.all() if isinstance(entries, Entries) else dict(entries.items())


_SHAPE, _DTYPE, _STORED = (
    operator.attrgetter("shape"),
    operator.attrgetter("dtype"),
    operator.attrgetter("size"),
)
_ITEMSIZE, _DTYPE_NAME = operator.attrgetter("dtype.size"), operator.attrgetter("dtype.name")
_SLICES, _CRC = operator.attrgetter("slices"), operator.attrgetter("crc32c")


def _in_key_order(table: Table) -> Table:
    """Rows sorted by key, stably; keys usually come sorted, which one comparison pass confirms."""
    keys = table.keys
    if all(map(operator.le, keys, keys[1:])):
        return table
    return table.take(sorted(range(len(keys)), key=keys.__getitem__))


def _on_dask(
    client: Any, ca: Checkpoint, cb: Checkpoint, table: Table, tasks: list[tuple[bool, np.ndarray]],
    atol: float, rtol: float, rank: bool,
) -> list[list[tuple[int, Any, bool]]]:  # fmt: skip
    """The tasks on a Dask client, in the ``(batched, [(row, key in a, key in b)])`` form it takes
    (rows a checksum decides never become tasks)."""
    keyed = [
        (batched, [(i, table.keys_a[i], table.keys_b[i]) for i in rows.tolist()]) for batched, rows in tasks
    ]
    return run_diff(client, ca, cb, keyed, atol, rtol, rank)


def _by_crc(table: Table, same: np.ndarray) -> np.ndarray:
    """``fast``: rows whose stored CRC32Cs (and sizes) are equal, which decides them equal unread."""
    rows = np.flatnonzero(same)
    xs, ys = [table.entries_a[i] for i in rows.tolist()], [table.entries_b[i] for i in rows.tolist()]
    crc_a, crc_b = (np.fromiter(map(_CRC, e), np.int64, len(rows)) for e in (xs, ys))
    size_a, size_b = (np.fromiter(map(_STORED, e), np.int64, len(rows)) for e in (xs, ys))
    whole = ~np.fromiter(map(bool, map(_SLICES, xs)), bool, len(rows))
    out = np.zeros(len(table), bool)
    out[rows] = (crc_a != 0) & (crc_a == crc_b) & (size_a == size_b) & whole
    return out


_BATCH = 4096  # small tensors per task
_BATCH_ELEMENTS = 1 << 18  # and elements: a batch's float64 working arrays stay ~2 MiB each


def _tasks(table: Table, same: np.ndarray, fast: bool, rank: bool) -> list[tuple[bool, np.ndarray]]:
    """Big tensors one per task, largest first (threads finish together); small numeric ones in
    batches of one dtype, compared together (``compare_small``). A task is (batched, its rows)."""
    rows = np.flatnonzero(same)
    at = rows.tolist()
    xs, ys = list(map(table.entries_a.__getitem__, at)), list(map(table.entries_b.__getitem__, at))
    codes = _Codes()
    dtype_of = np.fromiter(map(codes.__getitem__, map(_DTYPE_NAME, xs)), np.int64, len(xs))
    first = np.unique(dtype_of, return_index=True)[1].tolist()  # one entry of each dtype decides
    numeric = np.array([xs[j].dtype.is_fixed_width and is_numeric(xs[j].dtype.numpy) for j in first], bool)
    n = table.elements[rows]
    whole = ~np.fromiter(map(bool, map(_SLICES, xs)), bool, len(xs))
    whole &= ~np.fromiter(map(bool, map(_SLICES, ys)), bool, len(ys))
    batchable = (n > 0) & (n <= SMALL) & numeric[dtype_of] & whole & (not fast)
    if rank:
        batchable &= np.fromiter(map(len, map(_SHAPE, xs)), np.int64, len(xs)) != 2
    big = rows[~batchable]
    big = big[np.argsort(-table.nbytes[big], kind="stable")]
    tasks = [(False, big[k : k + 1]) for k in range(len(big))]
    for code in range(len(codes)):  # at most _BATCH tensors or _BATCH_ELEMENTS elements a batch
        group = rows[batchable & (dtype_of == code)]
        ends = np.cumsum(table.elements[group])
        start = 0
        while start < len(group):
            before = int(ends[start - 1]) if start else 0
            stop = int(np.searchsorted(ends, before + _BATCH_ELEMENTS, "right"))
            stop = min(max(stop, start + 1), start + _BATCH)
            tasks.append((True, group[start:stop]))
            start = stop
    return tasks


def _open_shards(ckpt: Checkpoint, entries: list[Any], compared: np.ndarray) -> None:
    """Open the data files before threads read them: a bundle opens all of them; another reader
    reads the smallest compared tensor of each data file once, which opens it."""
    if isinstance(ckpt.reader, BundleReader):
        ckpt.reader.open_shards()
        return
    smallest: dict[int, tuple[int, str]] = {}
    for e in (e for e, c in zip(entries, compared.tolist()) if c):
        if not e.slices and e.size < smallest.get(e.shard, (1 << 62, ""))[0]:
            smallest[e.shard] = (e.size, e.key)
    for _, key in smallest.values():
        ckpt.read(key)
