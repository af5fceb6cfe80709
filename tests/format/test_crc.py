from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ckptviz.format import crc


def test_check_value_and_mask_match_tensorflow() -> None:
    assert crc.value(b"123456789") == 0xE3069283
    assert crc.mask(0) == 0xA282EAD8


def test_value_extends() -> None:
    assert crc.value(b"6789", crc.value(b"12345")) == crc.value(b"123456789")


@given(st.integers(0, 2**32 - 1))
def test_unmask_inverts_mask(x: int) -> None:
    assert crc.unmask(crc.mask(x)) == x


@given(st.lists(st.integers(0, 2**32 - 1), max_size=50))
def test_mask_many_is_mask_of_each(xs: list[int]) -> None:
    import numpy as np

    assert crc.mask_many(np.array(xs, np.uint32)).tolist() == [crc.mask(x) for x in xs]


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_combine_joins_two_pieces(a: bytes, b: bytes) -> None:
    assert crc.combine(crc.value(a), crc.value(b), len(b)) == crc.value(a + b)


def test_combine_over_long_lengths() -> None:
    # lengths with high bits set take the periodic part of the power table (x^(2^31) == x)
    zeros = bytes(3 << 20)
    assert crc.combine(crc.value(b"abc"), crc.value(zeros), len(zeros)) == crc.value(b"abc" + zeros)


@given(st.binary(max_size=2000), st.integers(1, 9))
def test_value_in_pieces_is_value(data: bytes, pieces: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        assert crc.value_in_pieces(data or b"x", pieces, pool.submit) == crc.value(data or b"x")


def test_combine_for_lengths_beyond_the_power_table() -> None:
    def power_of_x(bits: int) -> int:  # x^bits by squaring as it goes, without the table's period
        out, square = 1 << 31, 1 << 30
        while bits:
            if bits & 1:
                out = crc._multiply(square, out)
            square = crc._multiply(square, square)
            bits >>= 1
        return out

    for length in (1, 3 << 20, 2**28 + 5, 2**40 + 12345, 2**61 - 1):
        assert (
            crc.combine(0x12345678, 0x9ABCDEF0, length)
            == crc._multiply(power_of_x(8 * length), 0x12345678) ^ 0x9ABCDEF0
        )
