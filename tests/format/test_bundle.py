"""Bundles built by hand: big-endian data, snappy-compressed indexes, many shards; valid
re-encodings, readers shared between threads, final close()."""

from __future__ import annotations

import gc
import random
import shutil
import sys
import threading
import time
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.errors import ClosedCheckpointError
from ckptviz.format import bundle as bundle_module
from ckptviz.format import crc, naming, table, values
from ckptviz.format.bundle import BundleReader
from ckptviz.format.protos.ckptviz_format_pb2 import BundleEntryProto, BundleHeaderProto
from ckptviz.format.reader import Reader
from tests.conftest import DATA
from tests.fuzz.encoding import REENCODINGS, build_table, read_items, reencode_entry


def build(prefix: Path, tensors: dict[str, np.ndarray], big_endian: bool = False, shards: int = 1) -> None:
    """A bundle written the way TF's BundleWriter does, on a host of the given byte order."""
    header = BundleHeaderProto(num_shards=shards, endianness=BundleHeaderProto.BIG if big_endian else 0)
    header.version.producer = 1
    builder = table.TableBuilder(compression=table.SNAPPY)
    builder.add(b"", header.SerializeToString())
    files = [bytearray() for _ in range(shards)]
    for i, key in enumerate(sorted(tensors)):
        value = tensors[key]
        if value.dtype == object:
            data, masked = values.encode_strings(value)
            if big_endian:  # the in-stream checksum is host order; lengths CRC'd as big-endian words
                lengths = np.array([len(v) for v in value.reshape(-1)], ">u4").tobytes()
                lcrc = crc.value(lengths)
                raw = crc.mask(lcrc).to_bytes(4, "big")
                body = b"".join(value.reshape(-1))
                varints = data[: len(data) - 4 - len(body)]
                data = varints + raw + body
                masked = crc.mask(crc.value(body, crc.value(raw, lcrc)))
        else:
            data = value.astype(value.dtype.newbyteorder(">") if big_endian else value.dtype).tobytes()
            masked = crc.mask(crc.value(data))
        shard = i % shards
        entry = BundleEntryProto(dtype=ckptviz.as_dtype(value.dtype).as_datatype_enum, shard_id=shard)
        entry.shape.SetInParent()
        for d in value.shape:
            entry.shape.dim.add(size=d)
        entry.offset, entry.size, entry.crc32c = len(files[shard]), len(data), masked
        files[shard] += data
        builder.add(key.encode(), entry.SerializeToString())
    Path(naming.index_file(str(prefix))).write_bytes(builder.finish())
    for shard, data in enumerate(files):
        Path(naming.data_file(str(prefix), shard, shards)).write_bytes(bytes(data))


TENSORS = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5,
    "i64": np.array([1, -2, 2**40], dtype=np.int64),
    "c64": np.array([1 + 2j, -3.5 - 4j], dtype=np.complex64),
    "f16": np.array([0.5, -1.0], dtype=np.float16),
    "u8": np.array([1, 255], dtype=np.uint8),
    "s": np.array([b"", b"hello", b"x" * 200], dtype=object),
}


@pytest.mark.parametrize("big_endian", [False, True], ids=["little", "big"])
@pytest.mark.parametrize("shards", [1, 3])
def test_hand_built_bundles(tmp_path: Path, big_endian: bool, shards: int) -> None:
    build(tmp_path / "ckpt", TENSORS, big_endian, shards)
    reader = ckptviz.load_checkpoint(str(tmp_path / "ckpt"))
    for key, want in TENSORS.items():
        got = reader.get_tensor(key)
        assert got.dtype == want.dtype and got.tolist() == want.tolist(), key
        assert got.dtype.byteorder in "<|" and got.dtype.str[0] in "<|"  # swapped to little-endian


def test_corrupt_big_endian_string_checksum(tmp_path: Path) -> None:
    build(tmp_path / "ckpt", {"s": TENSORS["s"]}, big_endian=True)
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 1
    data.write_bytes(bytes(raw))
    with pytest.raises(ckptviz.ChecksumMismatchError):
        ckptviz.load_checkpoint(str(tmp_path / "ckpt")).get_tensor("s")


def test_big_tensors_are_private_writable_maps(tmp_path: Path) -> None:
    from ckptviz.format.bundle import MAP_MIN_BYTES

    big = np.arange(MAP_MIN_BYTES // 4 + 3, dtype=np.float32)
    ckptviz.write_checkpoint(tmp_path / "ckpt", {"big": big, "small": np.ones(3, np.float32)})
    data = tmp_path / "ckpt.data-00000-of-00001"
    before = data.read_bytes()
    reader = ckptviz.load_checkpoint(str(tmp_path / "ckpt"))
    a, b = reader.get_tensor("big"), reader.get_tensor("big")
    assert a.flags.writeable and np.array_equal(a, big)
    a[:] = -1  # copy-on-write: neither the other array nor the file sees it
    assert np.array_equal(b, big) and data.read_bytes() == before
    raw = bytearray(before)
    raw[100] ^= 1
    data.write_bytes(bytes(raw))
    with pytest.raises(ckptviz.ChecksumMismatchError):
        ckptviz.load_checkpoint(str(tmp_path / "ckpt")).get_tensor("big")


def test_reads_fall_back_when_the_file_cannot_be_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ckptviz.format import storage
    from ckptviz.format.bundle import MAP_MIN_BYTES

    big = np.arange(MAP_MIN_BYTES // 8, dtype=np.float64)
    ckptviz.write_checkpoint(tmp_path / "ckpt", {"big": big})

    def refuse(*args: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(storage.LocalBlob, "map", refuse)
    assert np.array_equal(ckptviz.load_checkpoint(str(tmp_path / "ckpt")).get_tensor("big"), big)


# -- valid re-encodings, threads, close, the garbage collector ---------------------------------


def copy_fixture(name: str, prefix: str, dest: Path) -> Path:
    for f in (DATA / name).glob(prefix + ".*"):
        shutil.copy(f, dest / f.name)
    return dest / prefix


def everything(path: Path) -> tuple[object, dict[str, str]]:
    reader = ckptviz.load_checkpoint(str(path))
    listing = sorted(
        (k, shape, reader.get_variable_to_dtype_map()[k].name)
        for k, shape in reader.get_variable_to_shape_map().items()
    )
    entries = sorted((k, e.dtype.name, e.shape) for k, e in ckptviz.open(str(path)).entries.items())
    return (listing, entries), {k: digest(reader.get_tensor(k)) for k, _, _ in listing}


@pytest.mark.parametrize("how", REENCODINGS)
@pytest.mark.parametrize(
    "fixture", [("dtypes", "all"), ("guide_legacy_adam", "ckpt-4"), ("sliced_policy", "ckpt")]
)
def test_valid_reencodings_list_and_read_identically(
    tmp_path: Path, how: str, fixture: tuple[str, str]
) -> None:
    """Legal protobuf that TF reads the same (fields repeated, reordered, merged, unknown) must not
    fool the fast listing path, which decodes entries from their first bytes."""
    original = everything(DATA / fixture[0] / fixture[1])
    prefix = copy_fixture(*fixture, tmp_path)
    index = Path(str(prefix) + ".index")
    rng = random.Random(how)
    items = [(k, v if not k else reencode_entry(v, rng, how)) for k, v in read_items(index.read_bytes())]
    index.write_bytes(build_table(items))
    assert everything(prefix) == original


def hammer(ckpt: ckptviz.Checkpoint, want: dict[str, Any]) -> list[BaseException]:
    """8 threads' first calls on one fresh checkpoint; the errors they met."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    keys = list(want)

    def use(i: int) -> None:
        try:
            barrier.wait()
            if i % 2:
                assert len(ckpt.entries) == len(want)
            else:
                assert len(ckpt.dtypes_and_shapes()) == len(want)
            key = keys[i * 7 % len(keys)]
            assert ckpt.read(key).shape == want[key].shape
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.parametrize(
    "path", ["many_keys/many", "guide_keras3/ckpt-1", "v1_format/model.ckpt", "keras3_files/model.keras"]
)
def test_first_use_from_many_threads(path: str) -> None:
    """Fresh readers shared by 8 threads: each sees every key, with its value."""
    want = ckptviz.open(str(DATA / path)).entries
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to meet any race
    try:
        for _ in range(20):
            assert not hammer(ckptviz.open(str(DATA / path)), want)
    finally:
        sys.setswitchinterval(old)


@pytest.mark.parametrize(
    "path",
    [
        "guide_keras3/ckpt-1",
        "v1_format/model.ckpt",
        "keras3_files/model.weights.h5",
        "keras3_files/model.keras",
    ],
)
def test_close_is_final(path: str) -> None:
    ckpt = ckptviz.open(str(DATA / path))
    key = next(iter(ckpt.entries))
    ckpt.read(key)
    ckpt.close()
    with pytest.raises(ClosedCheckpointError, match="closed; open it again"):
        ckpt.read(key)
    ckpt.close()  # twice is fine
    assert isinstance(ckpt.reader, Reader)


def test_library_code_leaves_the_garbage_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("ckptviz switched the process-wide garbage collector off")

    monkeypatch.setattr(gc, "disable", refuse)
    monkeypatch.setattr(gc, "freeze", refuse)
    path = str(DATA / "many_keys" / "many")
    reader = ckptviz.load_checkpoint(path)
    assert len(reader.get_variable_to_shape_map()) == len(reader.get_variable_to_dtype_map()) == 6000
    assert len(ckptviz.open(path).entries) == 6000
    assert len(ckptviz.list_variables(path)) == 6000
    assert len(ckptviz.open(path).entry_records()) == 6000


def test_raw_chunks_check_the_crc_while_streaming(tmp_path: Path) -> None:
    data = np.arange(1000, dtype=np.float32)
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"x": data})
    reader = BundleReader(prefix)
    entry = reader.entries["x"]
    chunks, masked = reader.raw_chunks(entry, chunk=1000)
    assert masked == entry.crc32c and b"".join(bytes(c) for c in chunks) == data.tobytes()
    raw = bytearray(Path(prefix + ".data-00000-of-00001").read_bytes())
    raw[3500] ^= 1
    Path(prefix + ".data-00000-of-00001").write_bytes(bytes(raw))
    got = []
    with pytest.raises(
        ckptviz.ChecksumMismatchError, match=r"data-00000-of-00001 at byte 0: checksum mismatch for 'x'"
    ):
        for chunk in BundleReader(prefix).raw_chunks(entry, chunk=1000)[0]:
            got.append(chunk)
    assert len(got) == 3  # the last chunk is withheld


def digest(value: object) -> str:
    from tests.fuzz.harness import digest as fuzz_digest

    return fuzz_digest(value)


def test_lazy_decode_runs_once_under_a_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """8 threads' first walks over a fresh reader's entries: they are decoded by one of them, while
    the others wait (a second decode racing the first is what lost keys)."""
    from ckptviz.format.entries import Entries

    inside, calls = [], []
    original = Entries._decode

    def slow(self: Entries, rows: list[int], keys: list[str]) -> list[object]:
        inside.append(1)
        calls.append(len(inside))
        time.sleep(0.05)
        out = original(self, rows, keys)
        inside.pop()
        return out  # type: ignore[return-value]

    monkeypatch.setattr(Entries, "_decode", slow)
    reader = BundleReader(str(DATA / "guide_keras3" / "ckpt-1"))
    barrier = threading.Barrier(8)
    seen: list[int] = []

    def use(i: int) -> None:
        barrier.wait()
        seen.append(len(list(reader.entries.values())) if i % 2 else len(reader.dtypes_and_shapes()))

    threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and len(set(seen)) == 1 and seen[0] > 0


def test_entries_are_decoded_when_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening lists keys without decoding an entry; a lookup decodes that entry alone, and a walk
    over all of them gives the same entries in key order."""
    from ckptviz.format.entries import Entries

    decoded: list[int] = []
    original = Entries._decode

    def counting(self: Entries, rows: list[int], keys: list[str]) -> list[object]:
        decoded.append(len(rows))
        return original(self, rows, keys)  # type: ignore[return-value]

    monkeypatch.setattr(Entries, "_decode", counting)
    reader = BundleReader(str(DATA / "guide_keras3" / "ckpt-1"))
    keys = list(reader.entries)
    assert keys == sorted(keys, key=lambda k: k.encode()) and decoded == []
    one = reader.entries[keys[-1]]
    assert decoded == [1] and one.key == keys[-1]
    assert [e.key for e in reader.entries.values()] == keys and reader.entries[keys[-1]] == one


def test_keys_that_are_not_utf8_list_and_read(tmp_path: Path) -> None:
    """TF keys are bytes: ones that are not UTF-8 keep their bytes (as surrogate escapes), whole
    or partitioned."""
    from ckptviz.format.slices import Slice
    from ckptviz.format.writer import BundleWriter

    plain = b"caf\xe9/w".decode("utf-8", "surrogateescape")
    sliced = b"emb\xff\xfe".decode("utf-8", "surrogateescape")
    with BundleWriter(tmp_path / "ckpt") as w:
        w.add(plain, np.arange(3, dtype=np.float32))
        w.add_slice(sliced, (4,), Slice(((0, 2),)), np.array([1, 2], np.int64))
        w.add_slice(sliced, (4,), Slice(((2, 2),)), np.array([3, 4], np.int64))
    ckpt = ckptviz.open(str(tmp_path / "ckpt"))
    assert sorted(ckpt.keys()) == sorted([plain, sliced])
    assert ckpt.read(plain).tolist() == [0, 1, 2] and ckpt.read(sliced).tolist() == [1, 2, 3, 4]
    reader = ckptviz.load_checkpoint(str(tmp_path / "ckpt"))
    assert reader.get_variable_to_shape_map() == {plain: [3], sliced: [4]}
    assert len(ckpt.to_pandas()) == 2 and "2 tensors" in repr(ckpt)


@pytest.mark.parametrize("extra", [4, -4])
def test_stored_size_must_be_dtype_times_shape(tmp_path: Path, extra: int) -> None:
    """TensorFlow refuses an entry whose size is not its dtype's size times its element count,
    larger as well as smaller, even when the data file holds the bytes and the CRC matches them."""
    src = DATA / "guide_legacy_adam"
    key = b"net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    items = read_items((src / "ckpt-4.index").read_bytes())
    entry = BundleEntryProto.FromString(dict(items)[key])
    data = (src / "ckpt-4.data-00000-of-00001").read_bytes()
    entry.size += extra
    entry.crc32c = crc.mask(crc.value(data[entry.offset : entry.offset + entry.size]))
    (tmp_path / "ckpt.index").write_bytes(
        build_table([(k, entry.SerializeToString() if k == key else v) for k, v in items])
    )
    (tmp_path / "ckpt.data-00000-of-00001").write_bytes(data)
    with pytest.raises(
        ckptviz.CorruptCheckpointError,
        match=r"holds \d+ bytes but a float32 tensor of shape \[1, 5\] needs 20",
    ) as info:
        ckptviz.open(str(tmp_path / "ckpt")).read(key.decode())
    assert info.value.path == str(tmp_path / "ckpt.index") and info.value.offset


def test_a_batch_stored_back_to_back_is_read_as_one_array(tmp_path: Path) -> None:
    """``read_flat``: the values in the order asked, as one array, each part's checksum checked,
    read as one range when they lie close together in one data file (in any order, byte-aligned
    or not); None for two dtypes or parts far apart."""
    from ckptviz.errors import ChecksumMismatchError
    from ckptviz.format.writer import BundleWriter

    tensors = {f"t{i}": np.arange(i + 1, dtype=np.float32) * (i + 1) for i in range(5)}
    with BundleWriter(tmp_path / "ckpt") as w:
        for key, value in tensors.items():
            w.add(key, value)
        w.add("ints", np.arange(3, dtype=np.int32))
        w.add("u_odd", np.arange(3, dtype=np.uint8))  # what follows starts off a 4-byte boundary
        w.add("u_float", np.full(2, 7.5, np.float32))
        w.add("v_big", np.zeros(1 << 19, np.float32))  # 2 MiB between its neighbours
        w.add("w_far", np.ones(2, np.float32))
    reader = BundleReader(str(tmp_path / "ckpt"))
    keys = list(tensors)

    def one_by_one(names: list[str]) -> list[float]:
        return np.concatenate([reader.read(k).reshape(-1) for k in names]).tolist()

    flat = reader.read_flat(keys)
    assert flat is not None and flat.tolist() == one_by_one(keys)
    for names in (keys[::-1], ["t0", "t2"], ["t3", "u_float", "t1"], ["u_float", "t4"]):  # gathered
        got = reader.read_flat(names)
        assert got is not None and got.dtype == np.float32 and got.tolist() == one_by_one(names), names
    assert reader.read_flat(["t4", "ints"]) is None  # two dtypes
    assert reader.read_flat(["t0", "w_far"]) is None  # 2 MiB apart: read one by one
    entry = reader.entries["t3"]
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[entry.offset + 4] ^= 0x01
    data.write_bytes(bytes(raw))
    with pytest.raises(ChecksumMismatchError, match="t3"):
        BundleReader(str(tmp_path / "ckpt")).read_flat(keys)
    with pytest.raises(ChecksumMismatchError, match="t3"):
        BundleReader(str(tmp_path / "ckpt")).read_flat(["t4", "t3", "t0"])


def test_a_batch_names_its_first_entry_whose_size_does_not_match_its_shape(tmp_path: Path) -> None:
    """``read_flat`` refuses what ``read`` refuses, naming the first bad entry of the batch."""
    from ckptviz.format.writer import BundleWriter

    with BundleWriter(tmp_path / "ckpt") as w:
        for i in range(5):
            w.add(f"t{i}", np.arange(4, dtype=np.float32))
    items = read_items((tmp_path / "ckpt.index").read_bytes())
    changed = []
    for k, v in items:
        if k in (b"t2", b"t4"):  # shapes that no longer match the 16 stored bytes
            entry = BundleEntryProto.FromString(v)
            entry.shape.dim[0].size = 3
            v = entry.SerializeToString()
        changed.append((k, v))
    (tmp_path / "ckpt.index").write_bytes(build_table(changed))
    with pytest.raises(
        ckptviz.CorruptCheckpointError, match=r"'t2' holds 16 bytes but .* shape \[3\] needs 12"
    ):
        BundleReader(str(tmp_path / "ckpt")).read_flat([f"t{i}" for i in range(5)])


def test_big_tensors_are_checksummed_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_module, "CORES", 3)
    monkeypatch.setattr(crc, "PIECE_BYTES", 64)  # every tensor of 128 bytes or more is cut up
    for f in (DATA / "tfkeras_functional").glob("ckpt.*"):  # TensorFlow-written
        shutil.copy(f, tmp_path / f.name)
    prefix = str(tmp_path / "ckpt")
    with ckptviz.open(prefix, verify=False) as plain:
        want = {k: plain.read(k) for k in plain}
    reader = BundleReader(prefix)
    for key, value in want.items():
        np.testing.assert_array_equal(reader.read(key), value)
    assert reader._checksummers is not None  # the pieces really went through the pool
    reader.close()
    worker = BundleReader(prefix)  # a worker thread's reads (a diff's, a timeline's): whole
    thread = threading.Thread(target=lambda: [worker.read(k) for k in want])
    thread.start()
    thread.join()
    assert worker._checksummers is None
    # one flipped bit in the last piece of the biggest tensor is still found
    numbers = [e for e in reader.entries.values() if e.dtype.is_fixed_width]
    big = max(numbers, key=attrgetter("size"))
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[big.offset + big.size - 1] ^= 0x10
    data.write_bytes(bytes(raw))
    with pytest.raises(ckptviz.ChecksumMismatchError, match=f"checksum mismatch for '{big.key}'"):
        BundleReader(prefix).read(big.key)


def test_read_mapped_takes_a_data_file_whole_once_and_checks_every_tensor(tmp_path: Path) -> None:
    """One read-only map of the file per dtype, shared by every call; each tensor's values are
    ``read``'s and its CRC is checked; anything the map cannot serve gives None."""
    rng = np.random.default_rng(0)
    tensors = {
        "a": rng.standard_normal(1000).astype(np.float32),
        "b": rng.standard_normal((7, 9)).astype(np.float32),
        "odd": np.ones(3, np.float16),  # 6 bytes: what follows is not 4-byte aligned
        "c": rng.standard_normal(5).astype(np.float32),
        "d": rng.standard_normal(10).astype(np.float64),
    }
    ckptviz.write_checkpoint(tmp_path / "ckpt", tensors)
    reader = BundleReader(str(tmp_path / "ckpt"))
    got = reader.read_mapped(["b", "a"])
    assert got is not None
    whole, starts = got
    assert whole.dtype == np.float32 and not whole.flags.writeable
    for key, at in zip(["b", "a"], starts):
        np.testing.assert_array_equal(whole[at : at + tensors[key].size], tensors[key].ravel())
    again = reader.read_mapped(["a"])
    assert again is not None and again[0] is whole  # mapped once, shared
    c = reader.entries["c"]
    assert c.offset % 4, "the fixture must put 'c' off a 4-byte boundary"
    assert reader.read_mapped(["c"]) is None  # unaligned
    assert reader.read_mapped(["a", "d"]) is None  # two dtypes
    assert reader.read_mapped(["odd"]) is not None  # float16 at an even offset
    with pytest.raises(ckptviz.KeyNotFoundError):
        reader.read_mapped(["a", "nope"])
    reader.close()
    assert reader._whole == {}
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    b = BundleReader(str(tmp_path / "ckpt")).entries["b"]
    raw[b.offset + b.size - 1] ^= 0x01  # the last byte of "b"
    data.write_bytes(bytes(raw))
    with pytest.raises(ckptviz.ChecksumMismatchError, match="checksum mismatch for 'b'") as caught:
        BundleReader(str(tmp_path / "ckpt")).read_mapped(["a", "b"])
    assert caught.value.path.endswith("ckpt.data-00000-of-00001") and caught.value.offset == b.offset
    assert BundleReader(str(tmp_path / "ckpt"), verify=False).read_mapped(["a", "b"]) is not None


def test_read_mapped_gives_none_when_the_file_cannot_be_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ckptviz.format import storage

    ckptviz.write_checkpoint(tmp_path / "ckpt", {"a": np.ones(100, np.float32)})

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(storage.LocalBlob, "map", refuse)
    assert BundleReader(str(tmp_path / "ckpt")).read_mapped(["a"]) is None
