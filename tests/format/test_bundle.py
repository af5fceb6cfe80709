"""Bundles built by hand: big-endian data, snappy-compressed indexes, many shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz.format import crc, naming, table, values
from ckptviz.format.protos.ckptviz_format_pb2 import BundleEntryProto, BundleHeaderProto


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
