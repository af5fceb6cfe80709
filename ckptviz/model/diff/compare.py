"""The numbers of one diff row: two tensors compared chunk by chunk, in bounded memory.

Big tensors arrive as memory maps of the data files (format/bundle.py), so a chunk is the only
copy alive: peak extra memory is a few chunks per worker, whatever the checkpoint's size.
A big real tensor's sums come from one compiled pass (``model/kernels.py``); others are summed
chunk by chunk with numpy, each chunk's result added in float64.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..stats import compiled, is_numeric

if TYPE_CHECKING:
    from .columns import Metrics

CHUNK = 1 << 16  # elements: a chunk, its copy and the difference stay in cache (~1.5 MiB in float64)
_RANK_EXACT = 1 << 22  # deltas up to this many elements get an exact SVD; bigger ones a sketch
_SKETCH = 128  # rows of the random sketch of a big delta


@dataclass
class Delta:
    """How ``b`` differs from ``a`` (same dtype and shape). Metrics use positions finite on both sides.

    ``changed`` counts elements that differ (bit for bit when ``atol == rtol == 0``, else beyond
    ``atol + rtol * |a|``; a NaN, Inf or string that differs always counts).
    """

    elements: int
    changed: int = 0
    max_abs_diff: float | None = None
    mean_abs_diff: float | None = None
    rms_diff: float | None = None
    relative_change: float | None = None
    cosine: float | None = None
    norm_a: float | None = None
    norm_b: float | None = None
    norm_diff: float | None = None  # ‖b − a‖, for roll-ups
    nan_a: int = 0
    nan_b: int = 0
    inf_a: int = 0
    inf_b: int = 0
    rank: float | None = None


class _Sums:
    """Running sums over aligned pieces; ``finish`` turns them into a ``Delta``.

    Big real tensors (``stats.compiled``) go through the compiled loop of ``kernels.diff_step``:
    each is read once, every statistic from that pass (float32/float64 tensors as they are, other
    dtypes converted ``CHUNK`` elements at a time). Smaller ones, and complex ones (rare in
    checkpoints), are compared with numpy chunk by chunk, by the same rules."""

    def __init__(self, elements: int, atol: float, rtol: float) -> None:
        self.out = Delta(elements)
        self.atol, self.rtol = atol, rtol
        self.exact = atol == 0 and rtol == 0
        self.f, self.n = np.zeros(6), np.zeros(6, np.int64)  # sums and counts, by the slots below

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        a, b = a.reshape(-1), b.reshape(-1)
        if a.dtype.kind == "c" or not compiled(a.size):
            for start in range(0, a.size, CHUNK):
                self._add_numpy(a[start : start + CHUNK], b[start : start + CHUNK])
            return
        from .. import kernels

        own_bits = a.dtype == b.dtype and a.dtype in (np.float32, np.float64)  # stored bits = working ones
        step = max(a.size, 1) if own_bits else CHUNK
        for start in range(0, a.size, step):
            x, y = _working(a[start : start + step]), _working(b[start : start + step])
            if self.exact and not own_bits:  # converted values may collide (int64): the stored bits
                self.n[_CHANGED] += _differ(a[start : start + step], b[start : start + step])
            if x.dtype != y.dtype:  # pieces of different dtypes: both in float64
                x, y = x.astype(np.float64), y.astype(np.float64)
            kernels.diff_pass(x, y, own_bits and self.exact, self.exact, self.atol, self.rtol, self.f, self.n)

    def _add_numpy(self, a: np.ndarray, b: np.ndarray) -> None:
        f, n = self.f, self.n
        if self.exact:
            n[_CHANGED] += _differ(a, b)
        x, y = _working(a), _working(b)
        if x.dtype != y.dtype:
            x, y = x.astype(np.float64), y.astype(np.float64)
        xa, ya = np.isfinite(x), np.isfinite(y)
        if not (xa.all() and ya.all()):  # NaN/Inf: counted, then left out
            n[_NAN_A] += int(np.count_nonzero(np.isnan(x)))
            n[_NAN_B] += int(np.count_nonzero(np.isnan(y)))
            n[_INF_A] += int(np.count_nonzero(np.isinf(x)))
            n[_INF_B] += int(np.count_nonzero(np.isinf(y)))
            both = xa & ya
            if not self.exact:  # non-finite positions that are not the same special value
                same = (x == y) | (np.isnan(x) & np.isnan(y))
                n[_CHANGED] += int(np.count_nonzero(~both & ~same))
            x, y = x[both], y[both]
        with np.errstate(over="ignore"):  # beyond the working dtype's range |Δ| is inf, by rule
            d = np.abs(y - x)  # in the working dtype, as the compiled loop and compare_flat compute it
        n[_BOTH] += x.size
        f[_AA] += _dot(x, x)
        f[_BB] += _dot(y, y)
        f[_AB] += _dot(x, y)
        f[_DIFF] += _dot(d, d)
        if d.size:
            f[_SAD] += float(d.sum(dtype=np.float64))
            f[_MAD] = max(f[_MAD], float(d.max()))
        if not self.exact:
            n[_CHANGED] += int(np.count_nonzero(d > self.atol + self.rtol * np.abs(x)))

    def finish(self) -> Delta:
        f, n, out = self.f, self.n, self.out
        both = int(n[_BOTH])
        aa, bb, dd = float(f[_AA]), float(f[_BB]), float(f[_DIFF])
        out.changed = int(n[_CHANGED])
        out.nan_a, out.nan_b, out.inf_a, out.inf_b = (int(n[i]) for i in (_NAN_A, _NAN_B, _INF_A, _INF_B))
        out.norm_a, out.norm_b, out.norm_diff = math.sqrt(aa), math.sqrt(bb), math.sqrt(dd)
        if both:
            out.max_abs_diff = float(f[_MAD])
            out.mean_abs_diff = float(f[_SAD]) / both
            out.rms_diff = math.sqrt(dd / both)
        if aa > 0:
            out.relative_change = math.sqrt(dd) / out.norm_a
        elif both:
            out.relative_change = 0.0 if dd == 0 else math.inf
        if aa > 0 and bb > 0:
            out.cosine = max(-1.0, min(1.0, float(f[_AB]) / (out.norm_a * out.norm_b)))
        return out


# the sums' slots, as kernels.diff_step fills them (that module loads numba: not imported here)
_AA, _BB, _AB, _DIFF, _SAD, _MAD = range(6)
_BOTH, _CHANGED, _NAN_A, _NAN_B, _INF_A, _INF_B = range(6)


def _dot(x: np.ndarray, y: np.ndarray) -> float:
    """Re Σ conj(x)·y, summed in float64 without BLAS (OpenBLAS's threaded float64 dot of two
    arrays waits milliseconds for its threads on a busy machine)."""
    if x.dtype.kind == "c":
        return float((np.conj(x) * y).real.sum())
    return float(np.multiply(x, y, dtype=np.float64).sum())  # float32 squares of 1e20 overflow


def _differ(a: np.ndarray, b: np.ndarray) -> int:
    """Elements whose stored bits differ."""
    bits = _bits(a)
    if bits is None:  # odd widths (ml_dtypes int4 etc. are 1 byte, so only exotic ones end here)
        return int(np.count_nonzero(a != b))
    return int(np.count_nonzero(a.view(bits) != b.view(bits)))


def _bits(a: np.ndarray) -> np.dtype[Any] | None:
    size = a.dtype.itemsize
    return np.dtype(f"u{size}") if size in (1, 2, 4, 8) else None


def _working(a: np.ndarray) -> np.ndarray:
    """float32 for floats of 32 bits or fewer (bfloat16, float8… convert exactly), complex128 for
    complex, float64 for the rest (integers, bool, float64)."""
    kind, size = a.dtype.kind, a.dtype.itemsize
    if kind == "c":
        return a.astype(np.complex128)
    if (kind == "f" and size <= 4) or (kind == "V" and size <= 2):
        return a if a.dtype == np.float32 else a.astype(np.float32)
    return a if a.dtype == np.float64 else a.astype(np.float64)


def compare_numeric(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]], elements: int, atol: float = 0.0, rtol: float = 0.0
) -> Delta:
    """A ``Delta`` of numeric tensors given as aligned pieces (whole tensors, or slice by slice)."""
    sums = _Sums(elements, atol, rtol)
    for a, b in pairs:
        sums.add(a, b)
    return sums.finish()


def compare_objects(pairs: Iterable[tuple[np.ndarray, np.ndarray]], elements: int) -> Delta:
    """Strings element by element; variants by their serialized parts (type, metadata, tensors)."""
    out = Delta(elements)
    for a, b in pairs:
        for x, y in zip(a.reshape(-1), b.reshape(-1)):
            if _as_bytes(x) != _as_bytes(y):
                out.changed += 1
    return out


def _as_bytes(x: Any) -> bytes:
    if isinstance(x, bytes):
        return x
    parts = [str(getattr(x, "type_name", type(x).__name__)).encode(), bytes(getattr(x, "metadata", b""))]
    for t in getattr(x, "tensors", ()):
        t = np.asarray(t)
        parts.append(b"\0".join(map(_as_bytes, t.reshape(-1))) if t.dtype == object else t.tobytes())
        parts.append(repr((t.dtype.str, t.shape)).encode())
    return b"\x1f".join(parts)


def compare(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]],
    dtype: np.dtype[Any],
    elements: int,
    atol: float,
    rtol: float,
) -> Delta:
    if dtype != np.dtype(object) and is_numeric(dtype):
        return compare_numeric(pairs, elements, atol, rtol)
    return compare_objects(pairs, elements)


def effective_rank(a: np.ndarray, b: np.ndarray) -> float | None:
    """Roy & Vetterli's effective rank ``exp(entropy(s / sum(s)))`` of the 2-D delta ``b - a``.

    Up to ``_RANK_EXACT`` elements the singular values are exact; above, they come from a Gaussian
    sketch ``Ωᵀ(b − a)`` built block by block along the long axis, so cost and memory stay bounded
    (the sketch has ``_SKETCH`` rows). None for a zero delta.
    """
    if a.ndim != 2 or 0 in a.shape:
        return None
    if a.size <= _RANK_EXACT:
        s = np.linalg.svd(_working(b).astype(np.float64) - _working(a), compute_uv=False)
    else:
        s = np.linalg.svd(_sketch(a, b), compute_uv=False)
    total = float(s.sum())
    if total == 0 or not math.isfinite(total):
        return None
    p = s[s > 0] / total
    return float(math.exp(-float(np.sum(p * np.log(p)))))


def _sketch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    tall = a.shape[0] >= a.shape[1]
    long, short = (a.shape[0], a.shape[1]) if tall else (a.shape[1], a.shape[0])
    k = min(_SKETCH, short)
    rng = np.random.default_rng(0)
    out = np.zeros((k, short))
    step = max(1, CHUNK * 16 // short)
    for start, stop in _blocks(long, step):
        if tall:
            d = _working(b[start:stop]).astype(np.float64) - _working(a[start:stop])
        else:
            d = (_working(b[:, start:stop]).astype(np.float64) - _working(a[:, start:stop])).T
        out += rng.standard_normal((k, stop - start)) @ d
    return out


def _blocks(n: int, step: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, step):
        yield start, min(n, start + step)


SMALL = 1 << 14  # elements: tensors up to this size are compared many at a time


def compare_small(
    pairs: list[tuple[np.ndarray, np.ndarray]], atol: float = 0.0, rtol: float = 0.0
) -> list[Delta]:
    """Many small numeric tensors of one dtype at once: ``compare_numeric`` of each, computed over
    their concatenation with per-tensor sums by ``np.add.reduceat``, so 50 000 tiny keys cost a few
    numpy calls, not 50 000 × 15. Same working dtype, same rules for NaN/Inf and tolerances."""
    if not pairs:
        return []
    sizes = np.array([a.size for a, _ in pairs], np.int64)
    if pairs[0][0].dtype.kind == "c" or len(pairs) == 1:  # complex: rare, one by one
        return [compare_numeric([p], p[0].size, atol, rtol) for p in pairs]
    if not sizes.all():  # empty tensors have no segment: compare the others, then slot them in
        full = [p for p, n in zip(pairs, sizes.tolist()) if n]
        done = iter(compare_small(full, atol, rtol))
        return [next(done) if n else compare_numeric([p], 0) for p, n in zip(pairs, sizes.tolist())]
    ra = np.concatenate([a.reshape(-1) for a, _ in pairs])
    rb = np.concatenate([b.reshape(-1) for _, b in pairs])
    return compare_flat(ra, rb, sizes, atol, rtol)


def compare_flat(
    ra: np.ndarray, rb: np.ndarray, sizes: np.ndarray, atol: float = 0.0, rtol: float = 0.0
) -> list[Delta]:
    """``compare_small`` of tensors given back to back: ``ra[k:k + sizes[i]]`` is tensor ``i``'s
    elements (as a bundle stores a batch: ``BundleReader.read_flat``)."""
    return flat_metrics(ra, rb, sizes, atol, rtol).deltas()  # type: ignore[return-value]


def flat_metrics(
    ra: np.ndarray, rb: np.ndarray, sizes: np.ndarray, atol: float = 0.0, rtol: float = 0.0
) -> Metrics:
    """``compare_flat`` as columns: no Python object per tensor."""
    from .columns import Metrics

    if ra.dtype.kind == "c" or len(sizes) < 2 or not sizes.all():  # the pairs' special cases
        bounds = np.cumsum(sizes)[:-1]
        return Metrics.of_deltas(
            compare_small(list(zip(np.split(ra, bounds), np.split(rb, bounds))), atol, rtol)
        )
    starts = np.zeros(len(sizes), np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    add = np.add.reduceat
    exact = atol == 0 and rtol == 0
    x, y = _working(ra), _working(rb)
    zero = np.zeros(len(sizes), np.int64)
    nan_a = inf_a = nan_b = inf_b = zero
    changed = zero
    if exact:
        bits = _bits(ra)
        neq = ra.view(bits) != rb.view(bits) if bits is not None else ra != rb
        changed = add(neq, starts, dtype=np.int64)
    finite_x, finite_y = np.isfinite(x), np.isfinite(y)
    both = finite_x & finite_y
    n = add(both, starts, dtype=np.int64)
    if not both.all():  # NaN/Inf: counted, then left out of every metric (zeros add nothing)
        nan_x, nan_y = np.isnan(x), np.isnan(y)
        nan_a, nan_b = add(nan_x, starts, dtype=np.int64), add(nan_y, starts, dtype=np.int64)
        inf_a = sizes - add(finite_x, starts, dtype=np.int64) - nan_a
        inf_b = sizes - add(finite_y, starts, dtype=np.int64) - nan_b
        if not exact:  # non-finite positions that are not the same special value
            same = (x == y) | (nan_x & nan_y)
            changed = add(~both & ~same, starts, dtype=np.int64)
        x, y = np.where(both, x, x.dtype.type(0)), np.where(both, y, y.dtype.type(0))
    x64, y64 = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)  # squares of 1e20
    aa, bb, ab = add(x64 * x64, starts), add(y64 * y64, starts), add(x64 * y64, starts)
    with np.errstate(over="ignore"):  # beyond the working dtype's range |Δ| is inf, by rule
        d = np.subtract(y, x)
    dd = add(d * d, starts)
    np.abs(d, out=d)
    sad, mad = add(d, starts), np.maximum.reduceat(d, starts)
    if not exact:
        changed = changed + add(both & (d > atol + rtol * np.abs(x)), starts, dtype=np.int64)
    return _metrics(sizes, changed, n, aa, bb, ab, dd, sad, mad, (nan_a, nan_b, inf_a, inf_b))


def _metrics(
    sizes: np.ndarray,
    changed: np.ndarray,
    n: np.ndarray,
    aa: np.ndarray,
    bb: np.ndarray,
    ab: np.ndarray,
    dd: np.ndarray,
    sad: np.ndarray,
    mad: np.ndarray,
    specials: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> Metrics:
    """``_Sums.finish`` for many tensors: per-tensor sums in, their ``Delta`` fields out as columns."""
    from .columns import Metrics

    aa, bb, ab, dd = (v.astype(np.float64) for v in (aa, bb, ab, dd))
    na, nb, nd = np.sqrt(aa), np.sqrt(bb), np.sqrt(dd)
    some = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        safe_n = np.maximum(n, 1)
        mean = sad.astype(np.float64) / safe_n
        rms = np.sqrt(dd / safe_n)
        rel = np.where(aa > 0, nd / np.where(aa > 0, na, 1.0), np.where(dd == 0, 0.0, np.inf))
        q = ab / (na * nb)
        cos = np.where(np.isnan(q), 1.0, np.clip(q, -1.0, 1.0))  # as max(-1, min(1, q)) in Python
    nan_a, nan_b, inf_a, inf_b = specials
    every = np.ones(len(sizes), bool)
    counts = {
        "elements": sizes,
        "changed": changed,
        "nan_a": nan_a,
        "nan_b": nan_b,
        "inf_a": inf_a,
        "inf_b": inf_b,
    }
    floats = {
        "max_abs_diff": (mad.astype(np.float64), some),
        "mean_abs_diff": (mean, some),
        "rms_diff": (rms, some),
        "relative_change": (rel, (aa > 0) | some),
        "cosine": (cos, (aa > 0) & (bb > 0)),
        "norm_a": (na, every),
        "norm_b": (nb, every),
        "norm_diff": (nd, every),
    }
    return Metrics.of(counts, floats)
