"""The numbers of one diff row: two tensors compared chunk by chunk, in bounded memory.

Big tensors arrive as memory maps of the data files (format/bundle.py), so a chunk is the only
copy alive: peak extra memory is a few chunks per worker, whatever the checkpoint's size.
Sums go through BLAS dot products in float32 for 32-bit-or-narrower floats (each chunk's result is
added in float64, so the error stays near float32 rounding) and float64 otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats import is_numeric

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
    """Running sums over chunks; ``finish`` turns them into a ``Delta``."""

    def __init__(self, elements: int) -> None:
        self.out = Delta(elements)
        self.n = 0  # positions finite on both sides
        self.aa = self.bb = self.ab = self.dd = self.sad = 0.0
        self.mad = 0.0

    def add(self, a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> None:
        exact = atol == 0 and rtol == 0
        if exact:
            bits = _bits(a)
            if bits is not None:
                self.out.changed += int(np.count_nonzero(a.view(bits) != b.view(bits)))
            else:  # odd widths (ml_dtypes int4 etc. are 1 byte, so only exotic ones end here)
                self.out.changed += int(np.count_nonzero(a != b))
        x, y = _working(a), _working(b)
        aa, bb = _dot(x, x), _dot(y, y)
        if not math.isfinite(aa + bb):  # rare: find the NaN/Inf and keep the rest
            xa, ya = np.isfinite(x), np.isfinite(y)
            self.out.nan_a += int(np.count_nonzero(np.isnan(x)))
            self.out.nan_b += int(np.count_nonzero(np.isnan(y)))
            self.out.inf_a += x.size - int(np.count_nonzero(xa)) - int(np.count_nonzero(np.isnan(x)))
            self.out.inf_b += y.size - int(np.count_nonzero(ya)) - int(np.count_nonzero(np.isnan(y)))
            both = xa & ya
            if not exact:  # non-finite positions that are not the same special value
                same = (x == y) | (np.isnan(x) & np.isnan(y))
                self.out.changed += int(np.count_nonzero(~both & ~same))
            x, y = x[both], y[both]
            aa, bb = _dot(x, x), _dot(y, y)
        self.n += x.size
        self.aa += aa
        self.bb += bb
        self.ab += _dot(x, y)
        d = np.subtract(y, x)
        self.dd += _dot(d, d)
        d = np.abs(d, out=d) if d.dtype.kind != "c" else np.abs(d)  # in place: this chunk's own difference
        if d.size:
            self.sad += float(d.sum())  # pairwise in float32: accurate, and 8× faster than a float64 cast
            self.mad = max(self.mad, float(d.max()))
        if not exact:
            self.out.changed += int(np.count_nonzero(d > atol + rtol * np.abs(x)))

    def finish(self) -> Delta:
        out = self.out
        out.norm_a, out.norm_b, out.norm_diff = math.sqrt(self.aa), math.sqrt(self.bb), math.sqrt(self.dd)
        if self.n:
            out.max_abs_diff = self.mad
            out.mean_abs_diff = self.sad / self.n
            out.rms_diff = math.sqrt(self.dd / self.n)
        if self.aa > 0:
            out.relative_change = math.sqrt(self.dd) / out.norm_a
        elif self.n:
            out.relative_change = 0.0 if self.dd == 0 else math.inf
        if self.aa > 0 and self.bb > 0:
            out.cosine = max(-1.0, min(1.0, self.ab / (out.norm_a * out.norm_b)))
        return out


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


def _dot(x: np.ndarray, y: np.ndarray) -> float:
    if x.dtype.kind == "c":
        return float(np.vdot(x, y).real)
    return float(np.dot(x, y))


def compare_numeric(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]], elements: int, atol: float = 0.0, rtol: float = 0.0
) -> Delta:
    """A ``Delta`` of numeric tensors given as aligned pieces (whole tensors, or slice by slice)."""
    sums = _Sums(elements)
    for a, b in pairs:
        fa, fb = a.reshape(-1), b.reshape(-1)
        for start in range(0, fa.size, CHUNK):
            sums.add(fa[start : start + CHUNK], fb[start : start + CHUNK], atol, rtol)
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
    """Many small numeric tensors of one dtype at once: one concatenation, per-tensor sums by
    ``np.add.reduceat`` in float64, so 50 000 tiny keys cost a few numpy calls, not 50 000 × 15."""
    sizes = np.array([a.size for a, _ in pairs], np.int64)
    if not len(pairs) or (sizes == 0).any() or pairs[0][0].dtype.kind == "c":
        return [compare_numeric([p], p[0].size, atol, rtol) for p in pairs]
    ra = np.concatenate([a.reshape(-1) for a, _ in pairs])
    rb = np.concatenate([b.reshape(-1) for _, b in pairs])
    x, y = ra.astype(np.float64), rb.astype(np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):  # rare: the careful path, tensor by tensor
        return [compare_numeric([p], p[0].size, atol, rtol) for p in pairs]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    add = np.add.reduceat
    aa, bb, ab = add(x * x, starts), add(y * y, starts), add(x * y, starts)
    d = np.abs(y - x)
    dd, sad, mad = add(d * d, starts), add(d, starts), np.maximum.reduceat(d, starts)
    if atol == 0 and rtol == 0:
        bits = _bits(ra)
        neq = ra.view(bits) != rb.view(bits) if bits is not None else ra != rb
    else:
        neq = d > atol + rtol * np.abs(x)
    changed = add(neq, starts, dtype=np.int64)
    out = []
    for i, n in enumerate(sizes.tolist()):
        na, nb, nd = math.sqrt(aa[i]), math.sqrt(bb[i]), math.sqrt(dd[i])
        rel = nd / na if na > 0 else (0.0 if nd == 0 else math.inf)
        cos = max(-1.0, min(1.0, float(ab[i]) / (na * nb))) if na > 0 and nb > 0 else None
        out.append(
            Delta(
                n,
                int(changed[i]),
                float(mad[i]),
                float(sad[i]) / n,
                math.sqrt(dd[i] / n),
                rel,
                cos,
                na,
                nb,
                nd,
            )
        )
    return out
