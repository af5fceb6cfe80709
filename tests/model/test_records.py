"""Plain records, and the pause of garbage collection while a listing makes many of them."""

from __future__ import annotations

import gc

import pytest

from ckptviz.model.records import EntryRecord, many_objects


def test_collection_is_paused_while_many_records_are_made_and_resumed_after_even_on_error() -> None:
    assert gc.isenabled()
    with many_objects():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), many_objects():
        raise ValueError("while making records")
    assert gc.isenabled()


def test_collection_left_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with many_objects():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_entry_record_is_json_ready() -> None:
    record = EntryRecord("k", "n", "float32", (2, 3), 24, 0, 1, "a/b", "variable")
    assert record.to_dict()["shape"] == [2, 3]
