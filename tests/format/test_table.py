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


# TensorFlow 2.21 wrote this index: tf.raw_ops.SaveV2 of five small tensors under the keys "a",
# "b" * 600000, "c", "d" * 300000 and "e". The 600 000-byte key reaches 2 x 256 KiB, so TF's
# builder flushes the block before it and gives it a block of its own.
TF_HUGE_KEY_INDEX = ("0197ccb0f107009899b8651e06f277bb500802f1b2eff427296ef20fb5dc6ee7", 1800286)
TF_HUGE_KEY_BLOCKS = [(0, 36), (41, 600030), (600076, 300055), (900136, 25)]


def test_entries_of_half_a_mebibyte_get_a_block_of_their_own_as_in_tensorflow(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    import numpy as np

    import ckptviz

    names = ["a", "b" * 600_000, "c", "d" * 300_000, "e"]
    values = [
        np.arange(3, dtype=np.float32),
        np.ones(2, np.float32),
        np.array([1, 2], np.int64),
        np.zeros((2, 2), np.float32),
        np.array(7.0, np.float32),
    ]
    prefix = ckptviz.write_checkpoint(tmp_path / "big", dict(zip(names, values)))
    data = (tmp_path / "big.index").read_bytes()
    assert [tuple(h) for _, h in table.TableReader(data, "big.index").index] == TF_HUGE_KEY_BLOCKS
    assert (hashlib.sha256(data).hexdigest(), len(data)) == TF_HUGE_KEY_INDEX
    assert ckptviz.open(prefix).read("b" * 600_000).tolist() == [1, 1]


def test_restart_points_outside_the_block_are_corrupt() -> None:
    builder = table.TableBuilder()
    for i in range(40):
        builder.add(b"k%03d" % i, b"v")
    data = bytearray(builder.finish())
    reader = table.TableReader(bytes(data), "t.index")
    handle = reader.index[0][1]
    import struct

    from ckptviz.format import crc

    end = handle.offset + handle.size
    struct.pack_into("<I", data, end - 8, 10_000)  # the last restart offset
    data[end + 1 : end + 5] = struct.pack("<I", crc.mask(crc.value(bytes(data[handle.offset : end + 1]))))
    with pytest.raises(CorruptCheckpointError, match="restart point 2 of the block is offset 10000") as info:
        list(table.TableReader(bytes(data), "t.index"))
    assert info.value.offset == end - 8


def walked_one_by_one(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """The reference: every block walked entry by entry (``Block.entries``)."""
    reader = table.TableReader(data, "t.index", verify_checksums=False)
    out, last = [], b""
    for _, handle in reader.index:
        block = table.Block(table.read_block(data, handle, "t.index", False), "t.index", handle.offset)
        out += list(block.entries(after=last))
        last = block.last_key
    return out


def outcome(read: object) -> object:
    try:
        return read()  # type: ignore[operator]
    except CorruptCheckpointError as e:
        return str(e)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=120, unique=True),
    st.integers(1, 40),
    st.sampled_from([64, 1024, table.BLOCK_SIZE]),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
    st.data(),
)
def test_rows_walked_in_lockstep_are_the_entries_walked_one_by_one(
    keys: list[bytes], interval: int, block_size: int, flips: list[tuple[int, int]], data: st.DataObject
) -> None:
    """Restart runs walked together with numpy give exactly the sequential walk's entries, for
    any restart interval, value sizes (long varints included) and corrupted bytes; when the bytes
    are wrong, both raise the same error."""
    builder = table.TableBuilder(block_size)
    builder.data_block = table._BlockBuilder(interval)
    values = data.draw(st.lists(st.binary(max_size=300), min_size=len(keys), max_size=len(keys)))
    for key, value in zip(sorted(keys), values):
        builder.add(key, value)
    raw = bytearray(builder.finish())
    body = len(raw) - table.FOOTER_SIZE
    for at, byte in flips:  # anywhere but the footer; blocks are read without their checksums
        raw[at % body] = byte
    corrupted = bytes(raw)

    def lockstep() -> object:
        rows = table.TableReader(corrupted, "t.index", verify_checksums=False).rows()
        return [(k, rows.value(i), rows.offset(i)) for i, k in enumerate(rows.keys)]

    assert outcome(lockstep) == outcome(lambda: walked_one_by_one(corrupted))


@pytest.mark.parametrize("shift", [1, 2, -1])
def test_a_restart_point_inside_an_entry_changes_nothing(shift: int) -> None:
    """TensorFlow reads a block from its start and uses restart points only to seek: one that points
    into the middle of an entry leaves the listing as it was."""
    import struct

    builder = table.TableBuilder()
    for i in range(40):
        builder.add(b"key/%03d" % i, b"v" * (i % 7))
    data = bytearray(builder.finish())
    reader = table.TableReader(bytes(data), "t.index", verify_checksums=False)
    handle = reader.index[0][1]
    end = handle.offset + handle.size
    (count,) = struct.unpack_from("<I", data, end - 4)
    at = end - 4 * (count + 1) + 4  # restart point 1
    (point,) = struct.unpack_from("<I", data, at)
    struct.pack_into("<I", data, at, point + shift)
    rows = table.TableReader(bytes(data), "t.index", verify_checksums=False).rows()
    assert [(k, rows.value(i), rows.offset(i)) for i, k in enumerate(rows.keys)] == walked_one_by_one(
        bytes(data)
    )
    assert rows.keys == [b"key/%03d" % i for i in range(40)]


def test_an_entry_hidden_in_a_value_is_not_listed_when_a_restart_point_aims_at_it() -> None:
    """A value may hold bytes that look like an entry; a restart point aimed at them must not make
    them one: runs between restart points must tile the block exactly, else it is walked in order."""
    import struct

    hidden = bytes([0, 8, 0]) + b"key/015x"  # shared 0, 8 key bytes, empty value: sorts after key/015
    builder = table.TableBuilder()
    for i in range(40):
        builder.add(b"key/%03d" % i, hidden if i == 15 else b"")
    data = bytearray(builder.finish())
    reader = table.TableReader(bytes(data), "t.index", verify_checksums=False)
    handle = reader.index[0][1]
    end = handle.offset + handle.size
    (count,) = struct.unpack_from("<I", data, end - 4)
    at = end - 4 * (count + 1) + 4  # restart point 1, just after entry 15
    (point,) = struct.unpack_from("<I", data, at)
    struct.pack_into("<I", data, at, point - len(hidden))
    rows = table.TableReader(bytes(data), "t.index", verify_checksums=False).rows()
    assert rows.keys == [b"key/%03d" % i for i in range(40)]


def test_a_header_varint_that_never_ends_is_the_sequential_walks_error() -> None:
    """An entry header whose varint runs on through its key and value (every byte has its high bit
    set) is corrupt, as the entry-by-entry walk says, whatever the restart points promise."""
    builder = table.TableBuilder()
    builder.data_block = table._BlockBuilder(1)  # every entry its own restart run
    for i in range(4):
        builder.add(bytes([0xF0 + i]) * 20, b"\xff" * 200)
    data = bytearray(builder.finish())
    at = data.index(b"\xf1" * 20) - 2  # the second entry's value length: 2 bytes, then its key
    data[at + 1] |= 0x80  # the varint now runs on into the key and the value
    corrupted = bytes(data)
    with pytest.raises(CorruptCheckpointError) as walked:
        walked_one_by_one(corrupted)
    with pytest.raises(CorruptCheckpointError) as rows:
        table.TableReader(corrupted, "t.index", verify_checksums=False).rows()
    assert str(rows.value) == str(walked.value)
