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
