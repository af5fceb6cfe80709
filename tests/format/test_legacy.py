"""V1 (SavedTensorSlices) checkpoints: the TensorFlow-written fixture, hand-built tables for what
the fixture lacks (more dtypes, sharded saves), and damaged files."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.errors import CheckpointError, CheckpointNotFoundError, CorruptCheckpointError
from ckptviz.format import slices
from ckptviz.format.dtypes import as_dtype
from ckptviz.format.legacy import V1Reader, shard_files
from ckptviz.format.protos.ckptviz_format_pb2 import SavedTensorSlices
from ckptviz.format.table import TableBuilder
from tests.conftest import DATA, assert_same_value, bit_flipped, expected, expected_value

FIXTURE = DATA / "v1_format" / "model.ckpt"
EMB = (np.arange(12).reshape(6, 2) / 4).astype(np.float32)  # what generate.py initialised it to

# Where TF's V1 writer puts each dtype's values (saved_tensor_slice_util.h).
FIELD = {"float32": "float_val", "float64": "double_val", "int64": "int64_val", "bool": "bool_val",
         "string": "string_val", "float16": "half_val", "complex64": "scomplex_val", "int32": "int_val",
         "uint16": "int_val", "int8": "int_val"}  # fmt: skip


def test_fixture_reads_like_tensorflow() -> None:
    want = expected("v1_format/expected.json")["keys"]
    reader = V1Reader(str(FIXTURE))
    assert list(reader.entries) == list(want)
    for key, record in want.items():
        entry = reader.entries[key]
        assert (entry.dtype.name, list(entry.shape)) == (record["dtype"], record["shape"])
        if "tf_error" in record["value"]:
            continue
        assert_same_value(reader.read(key), expected_value(record["value"]))


def test_sliced_tensor_is_reassembled_where_tensorflow_refuses() -> None:
    reader = V1Reader(str(FIXTURE))
    entry = reader.entries["emb"]
    assert [str(s) for s in entry.slices] == ["0,2:0,2", "2,2:0,2", "4,2:0,2"]
    assert entry.nbytes == 48
    got = reader.read("emb")
    assert got.dtype == np.float32 and got.tobytes() == EMB.tobytes()
    assert reader.read("count").shape == ()


def test_opened_through_the_public_api() -> None:
    with ckptviz.open(str(FIXTURE)) as ckpt:
        assert ckpt.format == "v1" and ckpt.keys() == ["count", "emb", "w"]
        assert "V1 name-based" in repr(ckpt)
    assert ckptviz.list_variables(str(FIXTURE)) == [("count", []), ("emb", [6, 2]), ("w", [3])]


# -- hand-built tables -----------------------------------------------------------------------------

Tensor = tuple[str, np.ndarray, list[tuple[tuple[int, int], ...]]]  # name, full value, slice extents


def v1_table(tensors: list[Tensor], tamper: Any = None) -> bytes:
    """A V1 file as TF's TensorSliceWriter lays it out; ``tamper(name, TensorProto)`` may damage it."""
    meta = SavedTensorSlices()
    meta.meta.versions.producer = 1
    data: dict[bytes, bytes] = {}
    for name, value, extents in tensors:
        dtype = as_dtype("string" if value.dtype == object else value.dtype)
        info = meta.meta.tensor.add(name=name, type=dtype.as_datatype_enum)
        for dim in value.shape:
            info.shape.dim.add().size = dim
        for ext in extents or [()]:
            piece = slices.Slice(ext)
            piece.to_proto(info.slice.add())
            saved = SavedTensorSlices()
            saved.data.name = name
            piece.to_proto(saved.data.slice)
            part = np.asarray(value[piece.index(value.shape)]).reshape(-1)
            field = getattr(saved.data.data, FIELD[dtype.name])
            if dtype.name == "float16":
                field.extend(part.view(np.uint16).tolist())
            elif dtype.name == "complex64":
                field.extend(part.view(np.float32).tolist())
            else:
                field.extend(part.tolist())
            if tamper is not None:
                tamper(name, saved.data.data)
            data[slices.encode_key(name, piece)] = saved.SerializeToString()
    builder = TableBuilder()
    builder.add(b"", meta.SerializeToString())
    for key in sorted(data):
        builder.add(key, data[key])
    return builder.finish()


def full(value: np.ndarray) -> list[tuple[tuple[int, int], ...]]:
    return [tuple((0, -1) for _ in value.shape)] if value.ndim else []


VALUES = {
    "b": np.array([True, False, True]),
    "c": np.array([1 + 2j, -3j], np.complex64),
    "h": np.array([[1.5, -2.25, 65504]], np.float16),
    "i8": np.array([-128, 127], np.int8),
    "s": np.array([b"", b"hello", bytes(range(256))], dtype=object),
    "s0": np.array(b"abc", dtype=object),
    "u16": np.array([65535, 0], np.uint16),
    "z": np.zeros((0, 3), np.float32),
}


def test_every_v1_dtype_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    path.write_bytes(v1_table([(k, v, full(v)) for k, v in VALUES.items()]))
    reader = V1Reader(str(path))
    assert list(reader.entries) == sorted(VALUES)
    for key, value in VALUES.items():
        assert_same_value(reader.read(key), value)
        assert reader.entries[key].dtype.name == ("string" if value.dtype == object else value.dtype.name)


def test_sharded_save_is_read_from_all_its_files(tmp_path: Path) -> None:
    big = np.arange(12, dtype=np.int64).reshape(4, 3)
    (tmp_path / "m-00000-of-00002").write_bytes(v1_table([("big", big, [((0, 1), (0, -1))])]))
    (tmp_path / "m-00001-of-00002").write_bytes(
        v1_table([("big", big, [((1, 3), (0, -1))]), ("w", VALUES["b"], full(VALUES["b"]))])
    )
    for name in ("m-00001-of-00002", "m-?????-of-00002"):
        reader = V1Reader(str(tmp_path / name))
        assert reader.num_shards == 2 and list(reader.entries) == ["big", "w"]
        assert_same_value(reader.read("big"), big)
        assert reader.entries["w"].shard == 1
    (tmp_path / "m-00000-of-00002").unlink()
    with pytest.raises(CorruptCheckpointError, match="m-00000-of-00002 is missing"):
        V1Reader(str(tmp_path / "m-00001-of-00002"))
    assert shard_files("a/m.ckpt") == ["a/m.ckpt"]
    assert shard_files("m-00002-of-00003")[0] == "m-00000-of-00003"


# -- damaged input ---------------------------------------------------------------------------------


def read_all(path: Path, verify: bool = True) -> None:
    reader = V1Reader(str(path), verify)
    for key in reader.entries:
        reader.read(key)


def test_not_a_table(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    path.write_bytes(b"just some text, long enough to hold a footer of forty-eight bytes.")
    with pytest.raises(CorruptCheckpointError, match="not a TensorFlow checkpoint") as info:
        V1Reader(str(path))
    assert info.value.offset == path.stat().st_size - 8
    with pytest.raises(CheckpointNotFoundError):
        V1Reader(str(tmp_path / "absent"))


def _extra_value(name: str, data: Any) -> None:
    data.float_val.append(4.0)


def _no_values(name: str, data: Any) -> None:
    data.ClearField("float_val")


def _content_instead(name: str, data: Any) -> None:  # TF's V1 reader looks only at float_val
    data.ClearField("float_val")
    data.tensor_content = np.array([1, 2, 3], np.float32).tobytes()


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_extra_value, "holds 4 values, its shape \\[3\\] needs 3"),
        (_no_values, "holds 0 values"),
        (_content_instead, "holds 0 values"),
    ],
)
def test_wrong_number_of_values(tmp_path: Path, tamper: Any, message: str) -> None:
    value = np.array([1, 2, 3], np.float32)
    path = tmp_path / "model.ckpt"
    path.write_bytes(v1_table([("w", value, full(value))], tamper))
    reader = V1Reader(str(path))
    with pytest.raises(CorruptCheckpointError, match=message) as info:
        reader.read("w")
    assert info.value.offset is not None


def test_data_labelled_as_another_tensor(tmp_path: Path) -> None:
    value = np.array([1, 2, 3], np.float32)
    path = tmp_path / "model.ckpt"
    items = _table(v1_table([("w", value, full(value))]))
    saved = SavedTensorSlices.FromString(items[1][1])
    saved.data.name = "other"
    builder = TableBuilder()
    builder.add(b"", items[0][1])
    builder.add(items[1][0], saved.SerializeToString())
    path.write_bytes(builder.finish())
    with pytest.raises(CorruptCheckpointError, match="labelled 'other'"):
        V1Reader(str(path)).read("w")


def test_huge_declared_shape_is_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"
    value = np.zeros(3, np.float32)
    raw = v1_table([("w", value, full(value))])
    meta = SavedTensorSlices.FromString(next(iter(_table(raw)))[1])
    meta.meta.tensor[0].shape.dim[0].size = 1 << 40
    path.write_bytes(_rebuilt(raw, meta.SerializeToString()))
    reader = V1Reader(str(path))
    assert reader.entries["w"].shape == (1 << 40,)
    with pytest.raises(CorruptCheckpointError, match=f"needs {1 << 40}"):
        reader.read("w")


def test_missing_and_overlapping_slices(tmp_path: Path) -> None:
    value = np.arange(6, dtype=np.float32)
    path = tmp_path / "model.ckpt"
    path.write_bytes(v1_table([("v", value, [((0, 4),), ((3, 3),)])]))
    with pytest.raises(CorruptCheckpointError, match="overlap"):
        V1Reader(str(path)).read("v")
    path.write_bytes(v1_table([("v", value, [((0, 4),)])]))
    with pytest.raises(CorruptCheckpointError, match="cover 4 of its 6 elements"):
        V1Reader(str(path)).read("v")


def _table(raw: bytes) -> list[tuple[bytes, bytes, int]]:
    from ckptviz.format.table import TableReader

    return list(TableReader(raw, "x"))


def _rebuilt(raw: bytes, meta: bytes) -> bytes:
    builder = TableBuilder()
    for key, value, _ in _table(raw):
        builder.add(key, meta if key == b"" else value)
    return builder.finish()


def test_truncated_copies_raise_ckptviz_errors(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    path = tmp_path / "model.ckpt"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(CorruptCheckpointError):
            read_all(path)


@pytest.mark.parametrize("verify", [True, False])
def test_bit_flips_raise_only_ckptviz_errors(tmp_path: Path, verify: bool) -> None:
    data = FIXTURE.read_bytes()
    path = tmp_path / "model.ckpt"
    for damaged in bit_flipped(data, verify, 400):
        path.write_bytes(damaged)
        with contextlib.suppress(CheckpointError):
            read_all(path, verify)
