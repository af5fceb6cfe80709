"""Plain records."""

from __future__ import annotations

from ckptviz.model.records import EntryRecord


def test_an_entry_record_is_json_ready() -> None:
    record = EntryRecord("k", "n", "float32", (2, 3), 24, 0, 1, "a/b", "variable")
    assert record.to_dict()["shape"] == [2, 3]
