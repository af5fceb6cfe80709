"""Entries decoded with numpy (TensorFlow's usual form) against protobuf (every form)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckptviz.errors import CorruptCheckpointError
from ckptviz.format import varint
from ckptviz.format.entries import Entries, Entry, _dtype_and_shape, _entry
from ckptviz.format.protos.ckptviz_format_pb2 import BundleEntryProto
from ckptviz.format.table import TableBuilder, TableReader


def table_of(values: list[bytes], block_size: int = 1 << 18) -> TableReader:
    """An index table of ``values`` under keys k0000, k0001, ... after the bundle header row."""
    builder = TableBuilder(block_size)
    builder.add(b"", b"header")
    for i, value in enumerate(values):
        builder.add(b"k%04d" % i, value)
    return TableReader(builder.finish(), "t")


def by_protobuf(values: list[bytes]) -> list[Entry] | str:
    """The reference: every value parsed by protobuf (one that does not parse fails them all),
    then each checked as every entry is."""
    try:
        protos = [BundleEntryProto.FromString(value) for value in values]
    except Exception:
        return "not an entry"
    out = []
    try:
        for i, proto in enumerate(protos, 1):
            key = f"k{i - 1:04d}"
            out.append(_entry(key, proto, _dtype_and_shape(proto, key, "t", 100 * i), "t", 100 * i))
    except CorruptCheckpointError:
        return "corrupt"
    return out


def decoded(values: list[bytes]) -> list[Entry] | str:
    """``values`` decoded by ``Entries``, with numpy (however few) and through protobuf one by one:
    the two must agree."""
    from unittest import mock

    from ckptviz.format import entries as module

    outcomes = []
    for batch in (0, 10**9):
        with mock.patch.object(module, "_BATCH", batch):
            entries = Entries(table_of(values), "t")
            try:
                made = list(entries.values())
            except CorruptCheckpointError as e:
                outcomes.append("not an entry" if "not a BundleEntryProto" in str(e) else "corrupt")
                continue
            assert [entries.heads()[e.key] for e in made] == [(e.dtype, e.shape) for e in made]
            outcomes.append(made)
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


def field(number: int, wire: int, payload: bytes) -> bytes:
    return varint.encode(number << 3 | wire) + payload


def length_delimited(number: int, payload: bytes) -> bytes:
    return field(number, 2, varint.encode(len(payload)) + payload)


dims = st.lists(st.integers(-2, 2**40), max_size=5)
numbers = st.one_of(st.integers(0, 300), st.integers(0, 2**63 - 1), st.integers(-(2**63), -1))
pieces = st.one_of(
    st.builds(lambda v: field(1, 0, varint.encode(v % 2**64)), st.integers(0, 30)),  # dtype
    st.builds(  # shape
        lambda ds: length_delimited(
            2, b"".join(length_delimited(2, field(1, 0, varint.encode(d % 2**64))) for d in ds)
        ),
        dims,
    ),
    st.builds(lambda v: field(3, 0, varint.encode(v % 2**64)), numbers),  # shard_id
    st.builds(lambda v: field(4, 0, varint.encode(v % 2**64)), numbers),  # offset
    st.builds(lambda v: field(5, 0, varint.encode(v % 2**64)), numbers),  # size
    st.builds(lambda v: field(6, 5, v.to_bytes(4, "little")), st.integers(0, 2**32 - 1)),  # crc32c
    st.builds(lambda b: length_delimited(7, b), st.binary(max_size=6)),  # slices
    st.builds(lambda n, b: length_delimited(n, b), st.integers(8, 40), st.binary(max_size=4)),  # unknown
    st.binary(max_size=3),  # garbage
)


def canonical(dtype: int, shape: list[int], shard: int, offset: int, size: int, crc32c: int) -> bytes:
    proto = BundleEntryProto(dtype=dtype, shard_id=shard, offset=offset, size=size, crc32c=crc32c)
    for d in shape:
        proto.shape.dim.add(size=d)
    return proto.SerializeToString()


tensorflow_like = st.builds(
    canonical,
    st.integers(0, 30),
    st.lists(st.integers(0, 10**6), max_size=4),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**62),
    st.integers(0, 2**62),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(tensorflow_like, st.lists(pieces, max_size=6).map(b"".join)), min_size=1, max_size=8)
)
def test_entries_decode_as_protobuf_reads_them(values: list[bytes]) -> None:
    """Any mix of entries (TensorFlow's form, fields repeated, out of order, unknown, negative,
    out of range, garbage) decodes to what protobuf reads, or fails as it does."""
    assert decoded(values) == by_protobuf(values)


@pytest.mark.parametrize(
    "value",
    [
        canonical(1, [3, 4], 0, 0, 48, 7) + field(2, 2, b"\x02\x12\x00"),  # a later shape extends the first
        canonical(1, [3], 2, 5, 12, 7) + field(3, 0, b"\x01"),  # a repeated shard id: the last wins
        canonical(1, [3], 0, 0, 12, 7)[:-1],  # a crc32c cut short
        field(1, 0, b"\x01")
        + length_delimited(2, length_delimited(2, b"\x08\x03"))
        + field(3, 0, b"\xff" * 4 + b"\x0f"),
    ],
)
def test_entries_that_only_look_canonical(value: bytes) -> None:
    assert decoded([value]) == by_protobuf([value])


def test_thousands_of_entries_share_one_decoded_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    from ckptviz.format import entries as module

    calls: list[int] = []
    original = module._dtype_and_shape

    def counting(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(module, "_dtype_and_shape", counting)
    values = [canonical(1, [4], 0, 16 * i, 16, i) for i in range(3000)]
    made = list(Entries(table_of(values), "t").values())
    assert len(calls) == 1 and [e.offset for e in made] == [16 * i for i in range(3000)]


def test_looking_up_many_keys_one_by_one_decodes_them_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """No quadratic walk: a few hundred lookups seek their table blocks, then the rest of the
    entries are listed and decoded in one batch."""
    from ckptviz.format import entries as module

    seeks: list[str] = []
    batches: list[int] = []
    decode, seek = module.Entries._decode, module.Entries._seek

    def counting_decode(self: Entries, rows: list[int], keys: list[str]) -> list[Entry]:
        batches.append(len(rows))
        return decode(self, rows, keys)

    def counting_seek(self: Entries, key: str) -> Entry | None:
        seeks.append(key)
        return seek(self, key)

    monkeypatch.setattr(module.Entries, "_decode", counting_decode)
    monkeypatch.setattr(module.Entries, "_seek", counting_seek)
    entries = Entries(table_of([canonical(1, [4], 0, 16 * i, 16, i) for i in range(2000)]), "t")
    got = [entries[f"k{i:04d}"].offset for i in range(2000)]
    assert got == [16 * i for i in range(2000)]
    assert len(seeks) == module._LOOKUPS and batches == [2000]


def test_a_lookup_before_listing_seeks_one_block_and_misses_cleanly() -> None:
    """Found or not, a key looked up on a fresh reader is answered from one block; listing later
    gives the same entries."""
    values = [canonical(1, [4], 0, 16 * i, 16, i) for i in range(3000)]
    table = table_of(values, block_size=1024)
    assert len(table.index) > 50
    entries = Entries(table, "t")
    assert (
        "k2999" in entries
        and "k3000" not in entries
        and "k0999" in entries
        and "" not in entries
        and "\x00x" not in entries
    )
    assert entries._listing is None
    one = entries["k1234"]
    with pytest.raises(KeyError):
        entries["k12345"]
    assert entries._listing is None
    assert list(entries)[1234] == "k1234" and entries.all()["k1234"] == one
