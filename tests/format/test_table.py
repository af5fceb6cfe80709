from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckptviz.errors import ChecksumMismatchError, CorruptCheckpointError
from ckptviz.format import table
from tests.conftest import DATA


def entries(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v, _ in table.TableReader(data, "t.index")]


@pytest.mark.parametrize(
    "name", ["many_keys/many.index", "guide_legacy_adam/ckpt-4.index", "dtypes/all.index"]
)
def test_rebuilding_a_tensorflow_index_gives_the_same_bytes(name: str) -> None:
    data = (DATA / name).read_bytes()
    builder = table.TableBuilder()
    for key, value in entries(data):
        builder.add(key, value)
    assert builder.finish() == data


def test_multi_block_index_lists_real_keys_only() -> None:
    data = (DATA / "many_keys/many.index").read_bytes()
    reader = table.TableReader(data, "many.index")
    assert len(reader.index) > 1  # several data blocks, separator keys in the index block
    keys = [k for k, _, _ in reader]
    assert len(keys) == len(set(keys)) and keys == sorted(keys)
    separators = {s for s, _ in reader.index}
    assert separators - set(keys), "TF shortens separators; they must not leak into the listing"


def test_empty_metaindex_and_footer_layout() -> None:
    builder = table.TableBuilder()
    builder.add(b"", b"\x08\x01\x1a\x02\x08\x01")
    data = builder.finish()
    footer = table.Footer.decode(data[-48:], "x", len(data) - 48)
    meta = data[footer.metaindex.offset : footer.metaindex.offset + footer.metaindex.size]
    assert meta == bytes.fromhex("0000000001000000")
    assert data[-8:] == bytes.fromhex("57fb808b247547db")


def test_separators_follow_leveldb() -> None:
    assert table.shortest_separator(b"abcd", b"abzz") == b"abd"
    assert table.shortest_separator(b"abc", b"abd") == b"abc"  # incremented byte would reach the limit
    assert table.shortest_separator(b"ab", b"abc") == b"ab"
    assert table.short_successor(b"save_counter/x") == b"t"
    assert table.short_successor(b"\xff\xffa") == b"\xff\xffb"


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.binary(min_size=1, max_size=40), st.binary(max_size=300), max_size=200),
    st.sampled_from([64, 512, table.BLOCK_SIZE]),
    st.booleans(),
)
def test_round_trip(items: dict[bytes, bytes], block_size: int, snappy: bool) -> None:
    builder = table.TableBuilder(block_size, table.SNAPPY if snappy else table.NO_COMPRESSION)
    for key in sorted(items):
        builder.add(key, items[key])
    assert entries(builder.finish()) == sorted(items.items())


def test_snappy_blocks_are_read() -> None:
    builder = table.TableBuilder(compression=table.SNAPPY)
    for i in range(100):
        builder.add(f"key/{i:04d}".encode(), b"value" * 20)
    data = builder.finish()
    assert data[table.Footer.decode(data[-48:], "", 0).metaindex.offset - 5] == table.SNAPPY
    assert len(entries(data)) == 100


def test_keys_must_increase() -> None:
    builder = table.TableBuilder()
    builder.add(b"b", b"")
    with pytest.raises(ValueError, match="strictly increasing"):
        builder.add(b"a", b"")


def test_short_file_message_names_the_file() -> None:
    with pytest.raises(
        CorruptCheckpointError, match=r"x.index at byte 0: file is too short to be an sstable"
    ):
        table.TableReader(b"\0" * 10, "x.index")


def test_block_checksum_mismatch() -> None:
    builder = table.TableBuilder()
    builder.add(b"a", b"1")
    data = bytearray(builder.finish())
    data[3] ^= 0x01
    with pytest.raises(ChecksumMismatchError, match="block checksum mismatch"):
        entries(bytes(data))
    assert entries_unverified(bytes(data))


def entries_unverified(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v, _ in table.TableReader(data, "t.index", verify_checksums=False)]
