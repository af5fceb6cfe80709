from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckptviz.format import slices
from ckptviz.format.slices import FULL, Slice


def test_slice_keys_match_tensorflow_bytes() -> None:
    assert slices.encode_key("emb", Slice(((2, 2), (0, 2)))).hex(" ") == "00 65 6d 62 00 01 01 02 82 82 80 82"
    big = slices.encode_key("big/.ATTRIBUTES/VARIABLE_VALUE", Slice(((0, 4), (0, 4))))
    assert big.endswith(bytes.fromhex("00 01 01 02 80 84 80 84"))


def test_ordered_code_examples_from_tensorflow() -> None:
    assert slices._signed_num_increasing(0x424242) == bytes.fromhex("f0424242")
    assert slices._signed_num_increasing(-0x800) == bytes.fromhex("3800")
    assert slices._signed_num_increasing(-1) == b"\x7f"


@given(st.integers(-(2**63), 2**63 - 1))
def test_signed_numbers_round_trip(value: int) -> None:
    encoded = slices._signed_num_increasing(value)
    assert slices._decode_signed(encoded, 0) == (value, len(encoded))


@given(st.lists(st.integers(-(2**62), 2**62), min_size=2, max_size=2))
def test_signed_encoding_sorts_like_the_numbers(pair: list[int]) -> None:
    a, b = pair
    assert (slices._signed_num_increasing(a) < slices._signed_num_increasing(b)) == (a < b)


@given(
    st.text(min_size=1, max_size=20),
    st.lists(st.tuples(st.integers(0, 10**12), st.integers(-1, 10**12)), min_size=1, max_size=4),
)
def test_keys_round_trip(name: str, extents: list[tuple[int, int]]) -> None:
    piece = Slice(tuple((0, FULL) if n == FULL else (s, n) for s, n in extents))
    assert slices.decode_key(slices.encode_key(name, piece)) == (name, piece)


@pytest.mark.parametrize("bad", [b"emb", b"\x00emb", b"\x00emb\x00\x01\x00", b"\x00e\x00\x01\x01\x01\x80"])
def test_bad_keys_are_rejected(bad: bytes) -> None:
    with pytest.raises(ValueError):
        slices.decode_key(bad)


def test_coverage() -> None:
    rows = [Slice(((0, 2), (0, FULL))), Slice(((2, 4), (0, FULL)))]
    assert slices.check_coverage("emb", [6, 2], rows) is None
    assert "cover 8 of its 12 elements" in (
        slices.check_coverage("emb", [6, 2], [*rows[:1], Slice(((2, 2), (0, 2)))]) or ""
    )
    assert "overlap" in (
        slices.check_coverage("emb", [4, 2], [Slice(((0, 3), (0, 2))), Slice(((2, 2), (0, 2)))]) or ""
    )
    assert "outside" in (slices.check_coverage("emb", [4, 2], [Slice(((0, 5), (0, 2)))]) or "")
    assert "rank" in (slices.check_coverage("emb", [4, 2], [Slice(((0, 4),))]) or "")


def test_assemble() -> None:
    full = np.arange(12).reshape(6, 2)
    pieces = [Slice(((0, 4), (0, FULL))), Slice(((4, 2), (0, FULL)))]
    out = slices.assemble([6, 2], full.dtype, pieces, lambda p: full[p.index([6, 2])])
    assert (out == full).all()


def test_twenty_thousand_one_element_slices() -> None:
    """Coverage of many pieces is checked on their grid, never pair by pair (which would take
    minutes here)."""
    n = 20_000
    rows = [Slice(((i, 1), (0, FULL))) for i in range(n)]
    assert slices.check_coverage("emb", [n, 3], rows) is None
    overlap = [*rows[:-1], Slice(((n - 2, 1), (0, FULL)))]
    assert slices.check_coverage("emb", [n, 3], overlap) == "slices of 'emb' overlap"
    gap = [*rows[:-1], Slice(((0, 0), (0, FULL)))]
    assert "cover 59997 of its 60000 elements" in str(slices.check_coverage("emb", [n, 3], gap))
    # Same volume, one cell twice and one never: only an exact tiling passes.
    swapped = [*rows[2:], Slice(((0, 1), (0, FULL))), Slice(((0, 1), (0, FULL)))]
    assert slices.check_coverage("emb", [n, 3], swapped) == "slices of 'emb' overlap"


@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_coverage_agrees_with_counting_cells(rows: int, cols: int, data: st.DataObject) -> None:
    """Random boxes (grids or not): the verdict equals a brute-force count of every element."""
    count = data.draw(st.integers(1, 8))
    pieces = []
    for _ in range(count):
        r0 = data.draw(st.integers(0, rows - 1))
        c0 = data.draw(st.integers(0, cols - 1))
        pieces.append(
            Slice(((r0, data.draw(st.integers(1, rows - r0))), (c0, data.draw(st.integers(1, cols - c0)))))
        )
    cells = np.zeros((rows, cols), dtype=int)
    for p in pieces:
        cells[p.index([rows, cols])] += 1
    assert (slices.check_coverage("t", [rows, cols], pieces) is None) == bool((cells == 1).all())


def test_keys_that_are_not_utf8_round_trip() -> None:
    name = b"scope\xff\xfe/var".decode("utf-8", "surrogateescape")
    key = slices.encode_key(name, Slice(((0, 2),)))
    assert b"scope\xff\x00\xfe/var" in key  # TF's escape of 0xff, then the raw byte
    assert slices.decode_key(key) == (name, Slice(((0, 2),)))
