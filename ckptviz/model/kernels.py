"""Compiled loops for the statistics of a run step and of a diff: one pass over a tensor.

A tensor is walked in blocks of ``BLOCK`` elements that stay in cache. Each block goes through one
loop the compiler vectorises, in the tensor's own dtype (16 float32 lanes): sums (each block's
added to float64 totals), min and max (as integers, see ``_key``) and, for a run step, every
value's bin estimated from equal widths, one byte each where the bins allow. A scalar loop then
counts them. With few bins (``PAIR_WIDTH``), element ``j`` and element ``j + half`` of a block are
counted together as one pair of bins (``_count_pairs``): half the increments, into a table that
stays in L1 and is folded into the bins once per tensor. Otherwise each bin is counted into
``ROWS`` interleaved rows (element ``j`` into row ``j % ROWS``): increments of one bin by
neighbouring elements go to different counters, so none waits for the store of the one before.
A block that holds NaN or ±Inf (its sums come out non-finite: NaN and Inf propagate) is done
again element by element in float64, keeping only finite values, so the usual all-finite block
pays for no per-element test (sums too large for float32 take that path too). ``fastmath``
is limited to ``reassoc`` and ``nsz``: sums may be added in another order, which changes their
last bits only, but NaN and Inf still propagate (no ``nnan``/``ninf``) and nothing is fused into
an FMA (no ``contract``), so a tolerance test rounds as numpy's does. Counts, min, max and the
diff's changed elements and largest difference are exact.

numba is imported with this module, which loads only when a big tensor needs it
(``stats.compiled``): ``import ckptviz`` and small runs never pay for it. The loops hold no GIL,
so the thread pools of timeline and diff use every core. Machine code is cached beside this file,
else in the user's cache directory (numba's own fallback); where no cache is writable it is
compiled once per process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import numba
import numpy as np

BLOCK = 1 << 14  # elements: a block of two float64 tensors and its slots is 320 KiB, within L2
ROWS = 8  # interleaved rows of bin counts: consecutive elements count in different rows
PAIR_WIDTH = 64  # slots (bins + 3) up to which bins are counted in pairs: a table of 32 KiB at most
SETTLE = 256  # slots searched together for values near an edge (about two in a block)

_FAST = {"reassoc", "nsz"}
_F = TypeVar("_F", bound=Callable[..., Any])

# run state, float64: sums of (x - shift) and its square, Σ(x - prev)², Σprev², the shift
S1, S2, DD, PP, SHIFT = range(5)
# run state, int64: finite values, NaN, ±Inf, and min and max as ``_key``s
N, NAN, INF, LO, HI = range(5)


def _jit(**options: Any) -> Callable[[_F], _F]:
    """``numba.njit`` without the GIL, cached where a cache directory is writable."""

    def wrap(fn: _F) -> _F:
        try:
            compiled: _F = numba.njit(nogil=True, cache=True, **options)(fn)
        except RuntimeError:  # "no locator available": nowhere to keep machine code
            compiled = numba.njit(nogil=True, **options)(fn)
        return compiled

    return wrap


def run_state(bins: int, tensors: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empty accumulators for ``run_step``, one row each of ``tensors``: float sums, integer
    counts, and ``ROWS`` × (bins + 3) bin counts (under, the bins, over, and a scratch column: see
    ``run_step``); ``run_counts`` adds the rows up."""
    n = np.zeros((tensors, 5), np.int64)
    n[:, LO], n[:, HI] = (1 << 63) - 1, -(1 << 63)  # min and max keys: none yet
    return np.zeros((tensors, 5)), n, np.zeros((tensors, ROWS, bins + 3), np.int64)


def run_counts(counts: np.ndarray) -> np.ndarray:
    """The ``bins + 2`` counts (under, the bins, over) of each tensor of a ``run_state``."""
    total: np.ndarray = counts[:, :, :-1].sum(axis=1)
    return total


def run_pass(
    x: np.ndarray,
    p: np.ndarray | None,
    edges: np.ndarray,
    f: np.ndarray,
    n: np.ndarray,
    counts: np.ndarray,
    bounds: np.ndarray | None = None,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> None:
    """``run_step`` of a contiguous 1-D float32 or float64 ``x`` (and ``p``, its previous step's,
    of the same dtype and size, or None) into the state of one tensor; given ``bounds`` (int64,
    one more than tensors), of the tensors ``x[bounds[j]:bounds[j + 1]]`` laid end to end, each on
    its own ``edges[j]`` into its own state: many small tensors in one call. ``parts`` =
    ``(starts, sizes, previous starts)`` instead: tensor ``j`` is ``sizes[j]`` elements from
    ``starts[j]`` of ``x`` and from ``previous starts[j]`` of ``p`` (``x`` and ``p`` may then be
    whole data files, of any sizes): a checkpoint's big tensors in one call."""
    x, p = np.ascontiguousarray(x), None if p is None else np.ascontiguousarray(p)
    if p is not None and p.dtype != x.dtype:  # the loop reads both in one dtype
        raise ValueError(f"previous values of {p.dtype} for {x.dtype}")
    if parts is None:
        if p is not None and p.size != x.size:
            raise ValueError(f"previous values of {p.size} elements for {x.size}")
        if bounds is None:
            bounds, edges = np.array([0, x.size], np.int64), edges.reshape(1, -1)
        elif not (bounds[0] == 0 and bounds[-1] == x.size) or (np.diff(bounds) < 0).any():
            raise ValueError("bounds do not cut x into one piece per tensor")
        parts = (bounds[:-1], np.diff(bounds), bounds[:-1])
    starts, sizes, before = (np.asarray(c, np.int64) for c in parts)
    if not len(starts) == len(sizes) == len(before) == len(edges) == len(f):
        raise ValueError("one start, size, previous start, edges and state per tensor")
    for at, whole in ((starts, x), (before, x if p is None else p)):
        if len(at) and ((at < 0).any() or (sizes < 0).any() or (at + sizes > whole.size).any()):
            raise ValueError("a tensor lies outside the values given")
    xi, mask = int_view(x)
    near = counts.shape[-1] - 1  # the scratch column: the slot of a value near an edge
    block = int(min(BLOCK, sizes.max(initial=0)))
    slots = np.empty(block, np.min_scalar_type(near))  # one byte for up to 253 bins
    width = near + 1 if near < PAIR_WIDTH else 0  # slots per pair table row; 0: no pairs
    pairs = np.zeros(width * width, np.int64)
    codes = np.empty(block // 2 if width else 0, np.uint16)
    ro = _readonly
    run_steps(
        ro(x),
        ro(xi),
        mask,
        ro(x if p is None else p),
        p is not None,
        ro(starts),
        ro(sizes),
        ro(before),
        ro(edges),
        f,
        n,
        counts,
        slots,
        pairs,
        codes,
    )


def diff_pass(
    x: np.ndarray,
    y: np.ndarray,
    bits: bool,
    exact: bool,
    atol: float,
    rtol: float,
    f: np.ndarray,
    n: np.ndarray,
) -> None:
    """``diff_step`` of contiguous 1-D ``x`` and ``y`` of one dtype, float32 or float64."""
    ro, real = _readonly, x.dtype.type
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    xi, yi = int_view(x)[0], int_view(y)[0]
    diff_step(ro(x), ro(y), ro(xi), ro(yi), bits, exact, real(atol), real(rtol), f, n)


def _readonly(x: np.ndarray) -> np.ndarray:
    """A read-only view: numba compiles once per dtype, not once per writable/read-only mix."""
    view = x.view()
    view.flags.writeable = False
    return view


def int_view(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """``x`` (float32 or float64) as signed integers of its width, with ``_key``'s mask."""
    ints = np.dtype(f"i{x.dtype.itemsize}")
    return x.view(ints), ints.type((1 << (ints.itemsize * 8 - 1)) - 1)


def from_keys(keys: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    """The floats (as float64) of ``dtype`` (float32 or float64) whose ``_key``s are ``keys``."""
    ints = np.dtype(f"i{dtype.itemsize}")
    k = np.asarray(keys).astype(ints)
    bits = np.where(k < 0, k ^ ints.type((1 << (ints.itemsize * 8 - 1)) - 1), k)
    floats: np.ndarray = bits.astype(ints).view(f"f{dtype.itemsize}").astype(np.float64)
    return floats


@_jit()
def _plan(edges: Any, real: Any) -> Any:
    """How ``_block`` estimates a value's bin in the tensor's dtype (``real``: float32 lanes for
    float32 tensors): ``t = (v − e0) · norm``, bin ``floor(t) + 1``, trusted where ``t`` is farther
    than ``tol`` from a whole number. ``tol`` bounds the rounding of that arithmetic (``e0`` and
    ``norm`` rounded to the dtype, three roundings of ``t``) and how far the edges are from equal
    widths; a value nearer an edge goes to ``_slot``, which compares it with the edges themselves.
    Edges too uneven for any estimate send every value there."""
    bins = edges.size - 1
    width = edges[bins] - edges[0]
    norm = bins / width if width > 0 else 0.0
    eps = np.finfo(real).eps
    uneven = 0.0
    for j in range(bins + 1):
        uneven = max(uneven, abs((edges[j] - edges[0]) * norm - j))
    error = abs(edges[0]) * eps * norm + 4 * eps * (bins + 2) + uneven
    tol = 4 * error + 1e-12
    if not (norm > 0 and tol < 0.25 and np.isfinite(norm * max(abs(edges[0]), abs(edges[bins])))):
        tol = 2.0  # every value within tol of a whole number: all go to _slot
    return real(edges[0]), real(norm), real(bins + 0.5), real(tol), real(-0.5), real(1.0), real(0.0)


@_jit()
def _key(xi: Any, i: int, mask: Any) -> Any:
    """The bits ``xi[i]`` of a float as an integer of the same width that sorts as the (finite)
    floats do: integer min/max vectorise where float ones do not (the compiler cannot assume no
    NaN). A compare and a masked xor in the integers' own width (a shift by a count the compiler
    cannot see would widen every lane to 64 bits)."""
    b = xi[i]
    zero = xi.dtype.type(0)
    return xi.dtype.type(b ^ (mask if b < zero else zero))


@_jit(fastmath=_FAST)
def _block(
    x: Any, xi: Any, p: Any, with_prev: bool, shift: Any, mask: Any, plan: Any, slots: Any, near_slot: Any
) -> Any:
    """One vectorised pass over a block, in its own dtype (16 float32 lanes): sums about
    ``shift``, min/max keys, and each value's bin slot (``near_slot`` where ``_slot`` must
    decide). Loops run from 0 (blocks come as slices) so indices are known non-negative: no
    wraparound test per element, which would turn every load into a gather."""
    e0, norm, top, tol, below, one, zero = plan
    s1 = s2 = dd = pp = zero
    lo = hi = _key(xi, 0, mask)
    for i in range(x.size):
        v = x[i]
        c = v - shift
        s1 += c
        s2 += c * c
        if with_prev:
            q = p[i]
            d = v - q
            dd += d * d
            pp += q * q
        k = _key(xi, i, mask)
        lo = min(lo, k)
        hi = max(hi, k)
        t = (v - e0) * norm
        t = t if t > below else below  # below the first edge: floor -1, slot 0
        t = t if t < top else top  # above the last: slot bins + 1
        whole = np.floor(t)
        near = (t - whole < tol) | (whole + one - t < tol)
        slots[i] = near_slot if near else slots.dtype.type(np.int32(whole) + 1)
    return s1, s2, dd, pp, lo, hi


@_jit(fastmath=_FAST)
def _mean(x: Any) -> float:
    """The mean of the finite values of ``x`` (0 when none): one sum, a finite test only if needed."""
    total = 0.0
    for i in range(x.size):
        total += np.float64(x[i])
    if np.isfinite(total):
        return total / x.size if x.size else 0.0
    total, seen = 0.0, 0
    for i in range(x.size):
        if np.isfinite(x[i]):
            total += np.float64(x[i])
            seen += 1
    return total / seen if seen else 0.0


@_jit()
def _finite(v: Any, n: Any, nan: int, inf: int) -> bool:
    """Whether ``v`` is finite; if not, counted in ``n[nan]`` or ``n[inf]``."""
    if np.isfinite(v):
        return True
    if np.isnan(v):
        n[nan] += 1
    else:
        n[inf] += 1
    return False


@_jit()
def _slot(v: float, edges: Any, bins: int) -> Any:
    """0 below ``edges[0]``, ``k`` in ``[edges[k-1], edges[k])`` (the last bin closed), ``bins + 1``
    above: np.histogram's rule, by binary search on the edges (float64 comparisons are exact)."""
    if v < edges[0]:
        return np.uint32(0)
    if v > edges[bins]:
        return np.uint32(bins + 1)
    if v == edges[bins]:
        return np.uint32(bins)
    lo, hi = 0, bins  # edges[lo - 1] <= v < edges[hi]: searchsorted's "right", compiled in a fraction
    while lo < hi:
        mid = (lo + hi) // 2
        if edges[mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    return np.uint32(lo)


@_jit()
def _count(slots: Any, size: int, counts: Any) -> None:
    """Count ``slots[:size]`` into the ``ROWS`` rows of ``counts``, element ``j`` into row
    ``j % ROWS``, written out so that each row's index is a constant."""
    whole = size - size % ROWS
    for j in range(0, whole, ROWS):
        counts[0, slots[j]] += 1
        counts[1, slots[j + 1]] += 1
        counts[2, slots[j + 2]] += 1
        counts[3, slots[j + 3]] += 1
        counts[4, slots[j + 4]] += 1
        counts[5, slots[j + 5]] += 1
        counts[6, slots[j + 6]] += 1
        counts[7, slots[j + 7]] += 1
    for j in range(whole, size):
        counts[j - whole, slots[j]] += 1


@_jit()
def _count_pairs(slots: Any, size: int, counts: Any, pairs: Any, codes: Any, width: int) -> Any:
    """Count ``slots[:size]`` as pairs (element ``j`` with element ``j + size // 2``) into the
    table ``pairs`` (``width`` × ``width``, folded into ``counts`` by ``_fold_pairs``); an odd
    last element into ``counts`` itself. Returns the largest slot."""
    half = size // 2
    top = slots[0]
    for j in range(half):  # a vector loop: each pair's code, and the largest slot
        a, b = slots[j], slots[j + half]
        codes[j] = np.uint16(a) * np.uint16(width) + np.uint16(b)
        top = max(top, max(a, b))
    for j in range(half):
        pairs[codes[j]] += 1
    if size % 2:
        last = slots[size - 1]
        counts[0, last] += 1
        top = max(top, last)
    return top


@_jit()
def _fold_pairs(pairs: Any, width: int, counts: Any) -> None:
    """Add the pair table to row 0 of ``counts`` (each pair counts in both its bins) and empty it."""
    for a in range(width):
        for b in range(width):
            c = pairs[a * width + b]
            if c:
                counts[0, a] += c
                counts[0, b] += c
                pairs[a * width + b] = 0


@_jit()
def _settle(x: Any, slots: Any, near_slot: Any, edges: Any, counts: Any) -> None:
    """Count the values of the block ``x`` whose slot is ``near_slot`` (the largest slot) in the
    bins ``_slot`` finds: slots are searched ``SETTLE`` at a time by their maximum (a vector
    loop in their own width, over a slice, as in ``_block``), one by one only where that is
    ``near_slot``."""
    bins = edges.size - 1
    for start in range(0, x.size, SETTLE):
        part = slots[start : min(start + SETTLE, x.size)]
        top = part[0]
        for j in range(part.size):
            top = max(top, part[j])
        if top == near_slot:
            for j in range(part.size):
                if part[j] == near_slot:
                    counts[0, _slot(np.float64(x[start + j]), edges, bins)] += 1


@_jit()
def run_step(
    x: Any,
    xi: Any,
    mask: Any,
    p: Any,
    with_prev: bool,
    edges: Any,
    f: Any,
    n: Any,
    counts: Any,
    slots: Any,
    pairs: Any,
    codes: Any,
) -> None:
    """Add the 1-D tensor ``x`` (float32 or float64; ``xi, mask`` from ``int_view``) and ``p``,
    the previous step's, when ``with_prev``, to the state from ``run_state``: moments about a
    shift (the first block's mean of finite values), the change, min, max and the bins.
    ``slots``: room for a block's slots, of an unsigned type holding ``bins + 2``, the slot of
    values near an edge: the scratch column. A block holding any is searched for them, and each
    is compared with the edges (``_slot``) and counted in its bin. ``pairs`` and ``codes``: the
    pair table and room for a block's pair codes (``_count_pairs``), or empty to count each bin
    alone (then the scratch column's counts tell whether a block has such values, and it is
    emptied after each block)."""
    bins = edges.size - 1
    near = bins + 2
    near_slot = slots.dtype.type(near)
    plan = _plan(edges, x.dtype.type)
    for start in range(0, x.size, BLOCK):
        stop = min(start + BLOCK, x.size)
        if n[N] == 0:  # moments about a first guess of the mean: no cancellation in the variance
            f[SHIFT] = np.float64(x.dtype.type(_mean(x[start:stop])))  # rounded as the sums use it
        shift = x.dtype.type(f[SHIFT])
        s1, s2, dd, pp, lo, hi = _block(
            x[start:stop], xi[start:stop], p[start:stop], with_prev, shift, mask, plan, slots, near_slot
        )
        if np.isfinite(s1 + s2 + dd + pp):  # every value finite, on both sides
            f[S1] += s1
            f[S2] += s2
            f[DD] += dd
            f[PP] += pp
            n[LO] = min(n[LO], lo)
            n[HI] = max(n[HI], hi)
            n[N] += stop - start
            if pairs.size:
                pending = _count_pairs(slots, stop - start, counts, pairs, codes, near + 1) == near_slot
            else:
                _count(slots, stop - start, counts)
                pending = False  # values within rounding of an edge, counted in the scratch column
                for row in range(ROWS):
                    pending |= counts[row, near] != 0
                    counts[row, near] = 0
            if pending:  # compared with the edges instead
                _settle(x[start:stop], slots, near_slot, edges, counts)
            continue
        for i in range(start, stop):  # NaN or Inf somewhere (or sums beyond range): one by one
            v = np.float64(x[i])
            ok = _finite(v, n, NAN, INF)
            if with_prev:
                q = np.float64(p[i])
                if ok and np.isfinite(q):
                    f[DD] += (v - q) * (v - q)
                    f[PP] += q * q
            if ok:
                c = v - np.float64(shift)
                f[S1] += c
                f[S2] += c * c
                k = _key(xi, i, mask)
                n[LO] = min(n[LO], k)
                n[HI] = max(n[HI], k)
                n[N] += 1
                counts[0, _slot(v, edges, bins)] += 1
    if pairs.size:  # (values near an edge leave counts in the scratch column, which no one reads)
        _fold_pairs(pairs, near + 1, counts)


@_jit()
def run_steps(
    x: Any,
    xi: Any,
    mask: Any,
    p: Any,
    with_prev: bool,
    starts: Any,
    sizes: Any,
    before: Any,
    edges: Any,
    f: Any,
    n: Any,
    counts: Any,
    slots: Any,
    pairs: Any,
    codes: Any,
) -> None:
    """``run_step`` of each tensor ``x[starts[j]:starts[j] + sizes[j]]`` (its previous values at
    ``before[j]`` of ``p``) into row ``j`` of the state."""
    for j in range(starts.size):
        a, b, q = starts[j], starts[j] + sizes[j], before[j]
        run_step(
            x[a:b],
            xi[a:b],
            mask,
            p[q : q + b - a],
            with_prev,
            edges[j],
            f[j],
            n[j],
            counts[j],
            slots,
            pairs,
            codes,
        )


# diff state, float64: Σa², Σb², Σab, Σ(b − a)², Σ|b − a|, max |b − a|
AA, BB, AB, DIFF, SAD, MAD = range(6)

# diff state, int64: positions finite on both, changed, NaN in a, NaN in b, Inf in a, Inf in b
BOTH, CHANGED, NAN_A, NAN_B, INF_A, INF_B = range(6)


@_jit(fastmath=_FAST)
def _diff_sums(x: Any, y: Any, xi: Any, yi: Any, bits: bool, atol: Any, rtol: Any, gap: Any) -> Any:
    """One vectorised pass over a block (slices, as in ``_block``): the sums, changed elements,
    and |y − x| into ``gap``."""
    aa = bb = ab = dd = sad = 0.0
    changed = 0
    for i in range(x.size):
        u, v = x[i], y[i]
        d = abs(v - u)  # in the working dtype, as numpy computes it: the same largest difference
        gap[i] = d
        a, b, e = np.float64(u), np.float64(v), np.float64(d)
        aa += a * a
        bb += b * b
        ab += a * b
        dd += e * e
        sad += e
        if bits:
            changed += xi[i] != yi[i]
        else:
            changed += d > atol + rtol * abs(u)
    return aa, bb, ab, dd, sad, changed


@_jit()
def _largest(gap: Any, size: int) -> Any:
    """The largest of ``gap[:size]`` (non-negative floats, given as integers: their bits sort alike)."""
    top = gap[0]
    for i in range(size):
        top = max(top, gap[i])
    return top


@_jit()
def diff_step(
    x: Any, y: Any, xi: Any, yi: Any, bits: bool, exact: bool, atol: Any, rtol: Any, f: Any, n: Any
) -> None:
    """Add the aligned 1-D pieces ``x``, ``y`` (float32 or float64, as ``xi``/``yi`` their
    ``int_view``s) to the sums ``f`` and counts ``n`` (the slots below, float64 and int64). ``bits``: count changed elements by their
    bits; else with ``exact`` the caller counts them, and without, those beyond ``atol + rtol·|x|``
    (``atol``/``rtol`` in the working dtype, as numpy compares)."""
    gap = np.empty(BLOCK, x.dtype)
    gap_bits = gap.view(xi.dtype)
    for start in range(0, x.size, BLOCK):
        stop = min(start + BLOCK, x.size)
        aa, bb, ab, dd, sad, changed = _diff_sums(
            x[start:stop], y[start:stop], xi[start:stop], yi[start:stop], bits, atol, rtol, gap
        )
        if math.isfinite(aa + bb + sad):  # every value finite on both sides
            f[AA] += aa
            f[BB] += bb
            f[AB] += ab
            f[DIFF] += dd
            f[SAD] += sad
            gap_bits[0] = _largest(gap_bits, stop - start)  # back to the float it is
            f[MAD] = max(f[MAD], np.float64(gap[0]))
            n[BOTH] += stop - start
            if bits or not exact:
                n[CHANGED] += changed
            continue
        for i in range(start, stop):  # NaN or Inf somewhere: element by element
            u, v = x[i], y[i]
            fu, fv = _finite(u, n, NAN_A, INF_A), _finite(v, n, NAN_B, INF_B)
            if bits:
                n[CHANGED] += xi[i] != yi[i]
            if fu and fv:
                d = abs(v - u)
                a, b, e = np.float64(u), np.float64(v), np.float64(d)
                f[AA] += a * a
                f[BB] += b * b
                f[AB] += a * b
                f[DIFF] += e * e
                f[SAD] += e
                f[MAD] = max(f[MAD], e)
                n[BOTH] += 1
                if not exact:
                    n[CHANGED] += d > atol + rtol * abs(u)
            elif not exact and not (u == v or (np.isnan(u) and np.isnan(v))):
                n[CHANGED] += 1  # non-finite positions that are not the same special value
