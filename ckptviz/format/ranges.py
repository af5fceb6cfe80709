"""Typed byte ranges, ``(path, offset, length)``, and the one place they are planned and read.

Every backend reads the same way (zarr v3's store API): ranges are sorted, neighbours closer
than a gap are merged into one span (reading a few bytes of another tensor is cheaper than a
request), long spans are cut into parts that are fetched concurrently, and each range is then a
slice of its span. A backend only supplies ``fetch(spans) -> [bytes]``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import NamedTuple

from ..errors import CorruptCheckpointError


class ByteRange(NamedTuple):
    """``length`` bytes at ``offset`` of the file ``path``."""

    path: str
    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length


def check(path: str, size: int, offset: int, length: int) -> None:
    """Refuse a range that does not lie within a file of ``size`` bytes."""
    if offset < 0 or length < 0 or offset + length > size:
        raise CorruptCheckpointError(
            f"needs bytes [{offset}, {offset + length}) but the file has {size} bytes "
            "(truncated, or not from this checkpoint)",
            path,
            offset,
        )


def plan(ranges: Sequence[ByteRange], gap: int, part: int) -> list[ByteRange]:
    """The spans to fetch for ``ranges``: per path in offset order, neighbours at most ``gap``
    bytes apart merged, then every span cut into pieces of at most ``part`` bytes."""
    merged: list[ByteRange] = []
    for r in sorted(ranges, key=lambda r: (r.path, r.offset)):
        if not r.length:
            continue
        last = merged[-1] if merged else None
        if last is not None and last.path == r.path and r.offset - last.end <= gap:
            merged[-1] = ByteRange(r.path, last.offset, max(last.end, r.end) - last.offset)
        else:
            merged.append(r)
    return [
        ByteRange(s.path, at, min(part, s.end - at)) for s in merged for at in range(s.offset, s.end, part)
    ]


def read(
    ranges: Sequence[ByteRange], fetch: Callable[[list[ByteRange]], list[bytes]], gap: int, part: int
) -> list[bytearray]:
    """The bytes of every range, in the order given, from as few and as concurrent fetches as
    ``plan`` makes. ``fetch`` returns each span's bytes, exactly ``length`` of them."""
    spans = plan(ranges, gap, part)
    data = fetch(spans) if spans else []
    for span, got in zip(spans, data):
        if len(got) != span.length:
            raise CorruptCheckpointError(
                f"the store returned {len(got)} of the {span.length} bytes asked for", span.path, span.offset
            )
    by_path: dict[str, list[tuple[ByteRange, bytes]]] = {}
    for span, got in zip(spans, data):
        by_path.setdefault(span.path, []).append((span, got))
    return [_slice(by_path.get(r.path, []), r) for r in ranges]


def _slice(spans: list[tuple[ByteRange, bytes]], r: ByteRange) -> bytearray:
    """``r`` cut out of the offset-ordered, non-overlapping spans of its file that cover it."""
    out = bytearray(r.length)  # one copy, writable: arrays made from it are the caller's own
    if not r.length:
        return out
    first = bisect.bisect_right(spans, r.offset, key=lambda s: s[0].offset) - 1
    for span, got in spans[max(first, 0) :]:
        if span.offset >= r.end:
            break
        lo, hi = max(r.offset, span.offset), min(r.end, span.end)
        out[lo - r.offset : hi - r.offset] = memoryview(got)[lo - span.offset : hi - span.offset]
    return out
