"""Protobuf records read with numpy, against a record-at-a-time reading of the same bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckptviz.format import varint, wire
from ckptviz.format.wire import LEN, VARINT, Unsupported


def one_by_one(raw: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """``(field, value or payload start, payload end or -1)`` of each record, read in Python."""
    out, pos = [], start
    while pos < end:
        tag, pos = varint.decode(raw, pos, end)
        value, pos = varint.decode(raw, pos, end)
        if tag & 7 == LEN:
            out.append((tag >> 3, pos, pos + value))
            pos += value
        else:
            out.append((tag >> 3, value, -1))
    return out


def record(field: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return varint.encode(field << 3) + varint.encode(value)
    return varint.encode(field << 3 | LEN) + varint.encode(len(value)) + value


# Payloads full of bytes that look like tags of the fields read (0x08, 0x12, 0x1a), so that
# chains through false starts are followed too.
payloads = st.binary(max_size=40) | st.lists(
    st.sampled_from([b"\x08", b"\x12", b"\x1a", b"\x03", b"\x00"])
).map(b"".join)
messages = st.lists(
    st.one_of(
        st.tuples(st.just(1), st.integers(0, 2**64 - 1)),
        st.tuples(st.sampled_from([2, 3]), payloads),
    ),
    max_size=40,  # past the lock steps: long messages are followed by pointer doubling
)


@given(st.lists(messages, min_size=1, max_size=6))
def test_records_of_many_messages(batch: list[list[tuple[int, int | bytes]]]) -> None:
    raw, starts, ends = b"", [], []
    for fields in batch:
        starts.append(len(raw))
        raw += b"".join(record(f, v) for f, v in fields)
        ends.append(len(raw))
    got = wire.records(
        np.frombuffer(raw, np.uint8), np.array(starts), np.array(ends), {1: VARINT, 2: LEN, 3: LEN}
    )
    expected = [(i, *r) for i, (a, b) in enumerate(zip(starts, ends)) for r in one_by_one(raw, a, b)]
    assert list(zip(got.owner.tolist(), got.field.tolist(), got.value.tolist(), got.end.tolist())) == expected
    assert got.continued == sum(len(varint.encode(v if e < 0 else e - v)) - 1 for _, _, v, e in expected)


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20), st.integers(0, 3))
def test_varints(values: list[int], pad: int) -> None:
    raw = b"".join(varint.encode(v) for v in values) + b"\x80" * pad
    pos, at = 0, []
    for v in values:
        at.append(pos)
        pos += len(varint.encode(v))
    buf = np.frombuffer(raw, np.uint8)
    got, after = wire.varints(buf, np.array(at), np.full(len(at), len(raw)))
    assert got.tolist() == values and after.tolist() == [*at[1:], pos]


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80" * 10 + b"\x01",  # longer than 10 bytes
        b"\x80" * 9 + b"\x02",  # beyond 64 bits
        b"\x80\x80",  # cut
    ],
)
def test_varints_refused(raw: bytes) -> None:
    _, after = wire.varints(np.frombuffer(raw, np.uint8), np.array([0]), np.array([len(raw)]))
    assert after.tolist() == [-1]


@pytest.mark.parametrize(
    "raw",
    [
        record(4, 1),  # a field not asked for
        record(1, b"x"),  # the wrong wire type
        b"\x0d\x00\x00\x00\x00",  # a fixed32
        record(2, b"abc")[:-1],  # a payload past the end
        b"\x88\x01\x01",  # a two-byte tag
        b"".join(record(1, 5) for _ in range(30)) + b"\x10",  # a long message, cut
        b"".join(record(1, 5) for _ in range(30)) + record(4, 1),  # a long message, an odd field
        b"".join(record(1, 5) for _ in range(30)) + record(4, 1) + record(1, 5),  # ... and more after it
    ],
)
def test_anything_else_is_unsupported(raw: bytes) -> None:
    with pytest.raises(Unsupported):
        wire.records(np.frombuffer(raw, np.uint8), np.array([0]), np.array([len(raw)]), {1: VARINT, 2: LEN})


def test_a_message_field_whose_payload_starts_with_none_of_its_fields() -> None:
    """Long messages drop false starts by what a message payload may start with; a true record
    that does not fit that is declined, never skipped."""
    inner = {1: VARINT}
    good = b"".join(record(2, record(1, i)) for i in range(30))
    buf = np.frombuffer(good, np.uint8)
    assert len(wire.records(buf, np.array([0]), np.array([len(good)]), {2: inner}).owner) == 30
    odd = good + record(2, b"\x7f")
    buf = np.frombuffer(odd, np.uint8)
    with pytest.raises(Unsupported):
        wire.records(buf, np.array([0]), np.array([len(odd)]), {2: inner})
