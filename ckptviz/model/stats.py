"""Summary statistics and histograms of one tensor, in bounded memory.

A tensor is walked in chunks of ``CHUNK`` elements (big tensors are memory-mapped, so a chunk is
the only float64 copy alive), twice when a histogram is asked for: once for the range, once for
the counts. Faces (CLI, widgets, server) send ``TensorStats.to_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import repeat
from typing import Any

import numpy as np

CHUNK = 1 << 20  # elements per float64 chunk: 8 MiB


def is_numeric(dtype: np.dtype[Any]) -> bool:
    """Numbers we can summarise: numpy's own kinds and ml_dtypes' (bfloat16, float8, int4…)."""
    if dtype.kind in "biufc":
        return True
    try:
        np.zeros(1, dtype).astype(np.float64)
    except (TypeError, ValueError):
        return False
    return dtype.kind == "V" and dtype.names is None


def chunks(value: np.ndarray, size: int = CHUNK) -> Iterator[np.ndarray]:
    """``value`` flattened, as float64 (complex: magnitude) pieces of at most ``size`` elements."""
    flat = value.reshape(-1)
    for start in range(0, flat.size, size):
        piece = flat[start : start + size]
        yield np.abs(piece) if piece.dtype.kind == "c" else piece.astype(np.float64)


@dataclass
class Histogram:
    """``counts[i]`` finite values in ``[edges[i], edges[i+1])`` (the last bin is closed)."""

    counts: list[int]
    edges: list[float]


@dataclass
class TensorStats:
    """min/max/mean/std over finite values, NaN/Inf/zero counts, and a histogram."""

    dtype: str
    shape: list[int]
    size: int
    finite: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    nan: int = 0
    inf: int = 0
    zeros: int = 0
    histogram: Histogram | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """``min -2.25, max 7, mean 1.2, std 3, zeros 0/6``: one line for a terminal."""
        if self.size == 0:
            return "empty"
        parts = []
        if self.finite:
            parts += [
                f"min {self.min:.6g}",
                f"max {self.max:.6g}",
                f"mean {self.mean:.6g}",
                f"std {self.std:.6g}",
            ]
        else:
            parts += ["min nan", "max nan"]
        parts.append(f"zeros {self.zeros}/{self.size}")
        if self.nan or self.inf:
            parts += [f"nan {self.nan}", f"inf {self.inf}"]
        return ", ".join(parts)


def tensor_stats(
    value: np.ndarray, bins: int | None = 30, dtype_name: str | None = None
) -> TensorStats | None:
    """Statistics of a numeric tensor (None for strings, variants, quantized structs)."""
    value = np.asarray(value)
    if not is_numeric(value.dtype):
        return None
    out = TensorStats(dtype_name or value.dtype.name, list(value.shape), int(value.size))
    total = total_sq = 0.0
    lo, hi = math.inf, -math.inf
    for x in chunks(value):
        ok = np.isfinite(x)
        n_ok = int(np.count_nonzero(ok))
        out.nan += int(np.count_nonzero(np.isnan(x)))
        out.inf += x.size - n_ok - int(np.count_nonzero(np.isnan(x)))
        out.zeros += int(np.count_nonzero(x == 0))
        if n_ok:
            good = x if n_ok == x.size else x[ok]
            lo, hi = min(lo, float(good.min())), max(hi, float(good.max()))
            total += float(good.sum())
            out.finite += n_ok
    if out.finite:
        out.min, out.max, out.mean = lo, hi, total / out.finite
        for x in chunks(value):  # second pass: squared deviations, stable where sum-of-squares is not
            good = x[np.isfinite(x)]
            total_sq += float(np.square(good - out.mean).sum())
        out.std = math.sqrt(total_sq / out.finite)
        if bins:
            out.histogram = histogram(value, bins, (lo, hi))
    return out


def histogram(value: np.ndarray, bins: int, value_range: tuple[float, float]) -> Histogram:
    """Counts of the finite values of ``value`` on ``bins`` equal bins over ``value_range``."""
    lo, hi = value_range
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.zeros(bins, np.int64)
    for x in chunks(value):
        counts += np.histogram(x[np.isfinite(x)], bins=edges)[0]
    return Histogram([int(c) for c in counts], [float(e) for e in edges])


# -- one pass, for a training run --------------------------------------------------------------

RUN_CHUNK = 1 << 16  # elements: small enough that the working copies stay in cache
COMPILED_MIN = 1 << 16  # elements: a tensor this big is worth loading the compiled loops for


def compiled(size: int) -> bool:
    """Whether work on ``size`` elements goes through the compiled loops (``kernels``), a rule of
    size alone so that every process (a Dask worker too) computes the same numbers: small runs
    and diffs use numpy and never wait for numba to load (0.3 s from its cache, seconds to
    compile where no cache is writable)."""
    return size >= COMPILED_MIN


def fixed_edges(lo: float, hi: float, bins: int, margin: float = 0.25) -> list[float]:
    """Bin edges for a variable across a run: its first range widened by ``margin`` on each side,
    since weights drift; values beyond land in ``under`` / ``over``."""
    return fixed_edges_many(np.array([lo]), np.array([hi]), bins, margin)[0]


def fixed_edges_many(lo: np.ndarray, hi: np.ndarray, bins: int, margin: float = 0.25) -> list[list[float]]:
    """``fixed_edges`` of many ranges at once: a range that is not finite counts as (0, 0); one
    without width is widened by a quarter of its value, or by 0.5 at least."""
    ok = np.isfinite(lo) & np.isfinite(hi)
    lo, hi = np.where(ok, lo, 0.0), np.where(ok, hi, 0.0)
    width = (hi - lo) * margin
    pad = np.where(width != 0, width, np.maximum(np.abs(lo) * margin, 0.5))
    edges: list[list[float]] = np.linspace(lo - pad, hi + pad, bins + 1, axis=-1).tolist()
    return edges


def value_range(value: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite values (inf, -inf when none), chunk by chunk in the working dtype
    (floats of 32 bits or fewer convert to float32 exactly, so the range is float64's)."""
    lo, hi = math.inf, -math.inf
    flat = value.reshape(-1)
    for start in range(0, flat.size, RUN_CHUNK * 16):
        x = _float(flat[start : start + RUN_CHUNK * 16])
        c_lo, c_hi = (float(x.min()), float(x.max())) if x.size else (math.inf, -math.inf)
        if not (math.isfinite(c_lo) and math.isfinite(c_hi)):  # NaN or Inf: only the finite ones
            x = x[np.isfinite(x)]
            if not x.size:
                continue
            c_lo, c_hi = float(x.min()), float(x.max())
        lo, hi = min(lo, c_lo), max(hi, c_hi)
    return lo, hi


def value_ranges(
    values: np.ndarray, starts: Sequence[int], sizes: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """``value_range`` of each tensor ``sizes[j]`` elements from ``starts[j]`` of the float32 or
    float64 ``values`` (a data file's map), as two float64 columns. Tensors lying in order at most
    ``RANGE_GAP`` elements apart are reduced together, in one call over the stretch they cover; a
    tensor holding NaN or Inf, an empty one, or tensors that overlap are worked out one by one."""
    at, size = np.asarray(starts, np.int64), np.asarray(sizes, np.int64)
    order = np.argsort(at, kind="stable")
    a, end = at[order], (at + size)[order]
    lo, hi = np.full(len(at), np.inf), np.full(len(at), -np.inf)
    if len(at) and (size > 0).all() and (a[1:] >= end[:-1]).all():
        for run in np.split(np.arange(len(a)), np.flatnonzero(a[1:] - end[:-1] > RANGE_GAP) + 1):
            first = a[run[0]]
            cuts = np.stack([a[run], end[run]], axis=1).ravel()[:-1] - first  # each tensor, then the gap
            stretch = values[first : end[run[-1]]]
            lo[order[run]] = np.minimum.reduceat(stretch, cuts)[::2]
            hi[order[run]] = np.maximum.reduceat(stretch, cuts)[::2]
    odd = np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi)))
    for j in odd.tolist():
        lo[j], hi[j] = value_range(values[at[j] : at[j] + size[j]])
    return lo, hi


RANGE_GAP = 1 << 14  # elements between tensors reduced together: about what a reduction call costs


@dataclass(slots=True)  # no __dict__: a timeline holds thousands
class StepStats:
    """One variable at one checkpoint: moments of the finite values, NaN/Inf, the change from the
    previous checkpoint (``‖x − prev‖ / ‖prev‖``) and counts on the run's fixed bins."""

    size: int = 0
    norm: float | None = None
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    nan: int = 0
    inf: int = 0
    relative_change: float | None = None
    counts: list[int] = field(default_factory=list)
    under: int = 0
    over: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}  # asdict's deep copy costs more
        out["counts"] = list(self.counts)
        return out


def step_stats(
    value: np.ndarray, edges: list[float], previous: np.ndarray | None = None, fast: bool | None = None
) -> StepStats:
    """``StepStats`` in one pass over ``value`` (and ``previous``, same shape, when given).

    ``counts`` are on ``edges`` as ``np.histogram`` counts (``[e_i, e_i+1)``, the last bin closed;
    ``under``/``over`` outside them). The compiled loop of ``kernels.run_step`` does the work, on
    the tensor itself for float32/float64 and on converted chunks of ``RUN_CHUNK`` for the rest;
    ``fast=False`` (default: ``compiled(value.size)``) computes with numpy instead: the same counts,
    min and max, and the moments to rounding. A timeline decides per checkpoint, so that all its
    tensors take one path."""
    flat = value.reshape(-1)
    prev = previous.reshape(-1) if previous is not None else None
    if not (compiled(flat.size) if fast is None else fast):
        return _step_numpy(flat, prev, edges)
    from . import kernels  # numba loads with the first big tensor, not with ckptviz

    f, n, counts = kernels.run_state(len(edges) - 1)
    fixed = np.asarray(edges, np.float64)
    work = np.float64
    for x, p in _pieces(flat, prev):
        work = x.dtype.type
        kernels.run_pass(x, p, fixed, f, n, counts)
    return _from_state([flat.size], prev is not None, np.dtype(work), f, n, counts)[0]


def step_stats_many(
    values: Sequence[np.ndarray], edges: Sequence[list[float]], previous: Sequence[np.ndarray | None]
) -> list[StepStats]:
    """``step_stats(value, edges, previous, fast=True)`` of each of many tensors, the same
    numbers: small ones, laid end to end per dtype (converted together) for one compiled call,
    with no Python per tensor around the loop."""
    from . import kernels

    groups: dict[tuple[Any, Any, int], list[int]] = {}
    for i, (value, prev) in enumerate(zip(values, previous)):
        groups.setdefault((value.dtype, None if prev is None else prev.dtype, len(edges[i])), []).append(i)
    out: list[StepStats] = [StepStats()] * len(values)
    for (_, with_prev, n_edges), members in groups.items():
        x = _float(np.concatenate([values[i].reshape(-1) for i in members]))
        before = [q.reshape(-1) for q in (previous[i] for i in members) if q is not None]
        p = _float(np.concatenate(before)) if with_prev is not None else None
        if p is not None and p.dtype != x.dtype:  # a float32 step after a float64 one: both in float64
            x, p = x.astype(np.float64), p.astype(np.float64)
        sizes = [values[i].size for i in members]
        bounds = np.zeros(len(members) + 1, np.int64)
        np.cumsum(sizes, out=bounds[1:])
        f, n, counts = kernels.run_state(n_edges - 1, len(members))
        kernels.run_pass(x, p, np.array([edges[i] for i in members], np.float64), f, n, counts, bounds)
        for i, st in zip(members, _from_state(sizes, p is not None, x.dtype, f, n, counts)):
            out[i] = st
    return out


def step_stats_mapped(
    values: np.ndarray,
    starts: Sequence[int],
    sizes: Sequence[int],
    edges: Sequence[list[float]],
    previous: np.ndarray | None = None,
    before: Sequence[int] | None = None,
) -> list[StepStats]:
    """``step_stats(value, edges, previous, fast=True)`` of each tensor ``sizes[j]`` elements from
    ``starts[j]`` of ``values`` (float32 or float64; its previous values from ``before[j]`` of
    ``previous``), the same numbers: many tensors of a checkpoint, from the memory map of its data
    file, in one compiled call. Every ``edges[j]`` has as many bins."""
    from . import kernels

    f, n, counts = kernels.run_state(len(edges[0]) - 1, len(starts))
    parts = (np.asarray(starts), np.asarray(sizes), np.asarray(starts if before is None else before))
    kernels.run_pass(values, previous, np.array(edges, np.float64), f, n, counts, parts=parts)
    return _from_state(list(sizes), previous is not None, values.dtype, f, n, counts)


def _from_state(
    sizes: list[int], with_prev: bool, work: np.dtype[Any], f: np.ndarray, n: np.ndarray, counts: np.ndarray
) -> list[StepStats]:
    """``StepStats`` of each tensor (of ``sizes`` elements) of a ``kernels.run_state``, its numbers
    worked out as columns (the same operations, in the same order, as for one tensor alone)."""
    from . import kernels

    finite = n[:, kernels.N]
    s1, s2, shift = f[:, kernels.S1], f[:, kernels.S2], f[:, kernels.SHIFT]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shifted = s1 / np.maximum(finite, 1)
        variance = s2 / np.maximum(finite, 1) - shifted**2
        square = s2 + 2 * shift * s1 + finite * shift * shift
        columns = [
            np.sqrt(np.where(square > 0, square, 0.0)),  # norm
            shift + shifted,  # mean
            np.sqrt(np.where(variance > 0, variance, 0.0)),  # std
            kernels.from_keys(n[:, kernels.LO], work),
            kernels.from_keys(n[:, kernels.HI], work),
        ]
        dd, pp = f[:, kernels.DD], f[:, kernels.PP]
        change = np.where(pp > 0, np.sqrt(dd) / np.sqrt(pp), np.where(dd == 0, 0.0, np.inf))
    total = kernels.run_counts(counts)
    moments = zip(*(c.tolist() for c in columns))
    rows = zip(sizes, finite.tolist(), moments, n[:, kernels.NAN].tolist(), n[:, kernels.INF].tolist(),
               change.tolist() if with_prev else repeat(None), total.tolist())  # fmt: skip
    out = []
    for size, seen, moment, nan, inf, rel, bins in rows:
        norm, mean, std, lo, hi = moment if seen else (None,) * 5
        out.append(StepStats(size, norm, mean, std, lo, hi, nan, inf, rel, bins[1:-1], bins[0], bins[-1]))
    return out


def _relative_change(dd: float, pp: float) -> float:
    """``‖x − prev‖ / ‖prev‖`` from ``dd = ‖x − prev‖²`` and ``pp = ‖prev‖²`` (inf when only prev is 0)."""
    return math.sqrt(dd) / math.sqrt(pp) if pp > 0 else (0.0 if dd == 0 else math.inf)


def _step_numpy(flat: np.ndarray, prev: np.ndarray | None, edges: list[float]) -> StepStats:
    """``step_stats`` of a small tensor with numpy: the same counts, min and max, exactly, and the
    moments in float64."""
    x = _float(flat)
    out = StepStats(size=int(flat.size))
    ok = np.isfinite(x)
    good = x if ok.all() else x[ok]
    out.nan = int(np.count_nonzero(np.isnan(x)))
    out.inf = x.size - good.size - out.nan
    fixed = np.asarray(edges, np.float64)
    out.counts = np.histogram(good, bins=fixed)[0].tolist()  # compares with the float64 edges
    out.under, out.over = int(np.count_nonzero(good < fixed[0])), int(np.count_nonzero(good > fixed[-1]))
    if good.size:
        g = good.astype(np.float64)
        out.min, out.max = float(good.min()), float(good.max())
        out.mean, out.std, out.norm = float(g.mean()), float(g.std()), math.sqrt(float(np.dot(g, g)))
    if prev is not None:
        p = _float(prev)
        both = ok & np.isfinite(p)
        q = p[both].astype(np.float64)
        d = x[both].astype(np.float64) - q
        dd, pp = float(np.dot(d, d)), float(np.dot(q, q))
        out.relative_change = _relative_change(dd, pp)
    return out


def _pieces(flat: np.ndarray, prev: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """``flat`` and ``prev`` as float32 or float64 pieces of one dtype: whole when they are
    already, else converted ``RUN_CHUNK`` elements at a time (bounded memory)."""
    work = _float(flat[:0]).dtype
    if flat.dtype == work and (prev is None or prev.dtype == work):
        yield flat, prev
        return
    for start in range(0, flat.size, RUN_CHUNK):
        x = _float(flat[start : start + RUN_CHUNK])
        if prev is None:
            yield x, None
            continue
        p = _float(prev[start : start + RUN_CHUNK])
        if p.dtype != x.dtype:  # a float32 step after a float64 one: both in float64
            x, p = x.astype(np.float64), p.astype(np.float64)
        yield x, p


def _float(x: np.ndarray) -> np.ndarray:
    """float32 for floats of 32 bits or fewer, float64 for the rest; complex as magnitude."""
    if x.dtype.kind == "c":
        magnitude: np.ndarray = np.abs(x)
        return magnitude.astype(np.float64)
    if (x.dtype.kind == "f" and x.dtype.itemsize <= 4) or (x.dtype.kind == "V" and x.dtype.itemsize <= 2):
        return x if x.dtype == np.float32 else x.astype(np.float32)
    return x if x.dtype == np.float64 else x.astype(np.float64)
