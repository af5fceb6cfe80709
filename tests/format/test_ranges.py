"""Typed byte ranges: merging neighbours, cutting long spans, slicing ranges back out."""

from __future__ import annotations

import pytest

from ckptviz.errors import CorruptCheckpointError
from ckptviz.format.ranges import ByteRange, check, plan, read


def test_plan_merges_neighbours_per_file_and_cuts_long_spans() -> None:
    ranges = [ByteRange("b", 0, 4), ByteRange("a", 100, 10), ByteRange("a", 0, 10), ByteRange("a", 15, 5)]
    assert plan(ranges, gap=5, part=1000) == [
        ByteRange("a", 0, 20),
        ByteRange("a", 100, 10),
        ByteRange("b", 0, 4),
    ]
    assert plan([ByteRange("a", 0, 25)], gap=0, part=10) == [
        ByteRange("a", 0, 10), ByteRange("a", 10, 10), ByteRange("a", 20, 5)
    ]  # fmt: skip
    assert plan([ByteRange("a", 5, 0)], gap=0, part=10) == []


def test_read_slices_every_range_from_its_spans_in_the_order_asked() -> None:
    data = {"a": bytes(range(200)), "b": b"xyz" * 10}
    fetched: list[ByteRange] = []

    def fetch(spans: list[ByteRange]) -> list[bytes]:
        fetched.extend(spans)
        return [data[s.path][s.offset : s.end] for s in spans]

    wanted = [
        ByteRange("a", 150, 30),
        ByteRange("b", 3, 3),
        ByteRange("a", 5, 20),
        ByteRange("a", 8, 3),
        ByteRange("a", 0, 0),
    ]
    got = read(wanted, fetch, gap=16, part=16)
    assert [bytes(g) for g in got] == [data[r.path][r.offset : r.end] for r in wanted]
    assert fetched == [
        ByteRange("a", 5, 16),
        ByteRange("a", 21, 4),
        ByteRange("a", 150, 16),
        ByteRange("a", 166, 14),
        ByteRange("b", 3, 3),
    ]
    assert isinstance(got[0], bytearray)  # the caller's own, writable


def test_a_short_answer_is_an_error_naming_file_and_offset() -> None:
    with pytest.raises(
        CorruptCheckpointError, match=r"^a at byte 8: the store returned 2 of the 4 bytes asked for$"
    ):
        read([ByteRange("a", 8, 4)], lambda spans: [b"xy"], gap=0, part=100)


def test_check_refuses_ranges_beyond_the_file() -> None:
    check("f", 10, 6, 4)
    with pytest.raises(
        CorruptCheckpointError, match=r"^f at byte 6: needs bytes \[6, 11\) but the file has 10 bytes"
    ):
        check("f", 10, 6, 5)
