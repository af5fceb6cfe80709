"""Keras 3 weight files: the Keras-written fixtures, sharded and remote forms, and damaged files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import ml_dtypes
import numpy as np
import pytest

import ckptviz
from ckptviz.errors import CheckpointError, CorruptCheckpointError, UnsupportedCheckpointError
from ckptviz.format.keras import KerasReader
from tests.conftest import DATA, bit_flipped, expected

FIXTURES = DATA / "keras3_files"
WANT = expected("keras3_files/expected.json")["keys"]


def assert_like_expected(reader: KerasReader) -> None:
    """Same keys in the same order, dtypes, shapes and value bytes as h5py read them."""
    import base64

    assert list(reader.entries) == list(WANT)
    for key, record in WANT.items():
        entry = reader.entries[key]
        assert (entry.dtype.name, list(entry.shape)) == (record["dtype"], record["shape"])
        value = reader.read(key)
        assert value.dtype == entry.dtype.numpy and value.shape == tuple(record["shape"])
        assert value.tobytes() == base64.b64decode(record["value"]["b64"])


@pytest.mark.parametrize("name", ["model.weights.h5", "model.keras"])
def test_fixture_reads_like_h5py(name: str) -> None:
    reader = KerasReader(str(FIXTURES / name))
    assert_like_expected(reader)
    assert reader.read("layers/dense_1/vars/0").dtype == ml_dtypes.bfloat16
    assert reader.read("optimizer/vars/0").shape == ()  # iterations, a 0-d array
    assert reader.entries["layers/dense/vars/0"].nbytes == 48
    reader.close()


@pytest.mark.parametrize("name", ["model.weights.h5", "model.keras"])
def test_opened_through_the_public_api(name: str) -> None:
    with ckptviz.open(str(FIXTURES / name)) as ckpt:
        assert ckpt.format == "keras" and "Keras weights" in repr(ckpt)
        assert ckpt.keys() == list(WANT)


def test_remote_files_are_read_by_range(tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    for name in ("model.weights.h5", "model.keras"):
        fs.pipe(f"/ckptviz-test/{name}", (FIXTURES / name).read_bytes())
        assert_like_expected(KerasReader(f"memory://ckptviz-test/{name}"))


def test_compressed_archive_member(tmp_path: Path) -> None:
    path = tmp_path / "deflated.keras"
    with zipfile.ZipFile(FIXTURES / "model.keras") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
    assert_like_expected(KerasReader(str(path)))


def test_sharded_weights(tmp_path: Path) -> None:
    """The layout of ``ShardedH5IOStore``: a JSON map and ``<base>_NNNNN.weights.h5`` files."""
    with h5py.File(FIXTURES / "model.weights.h5") as src:
        for number, group in enumerate(["layers", "optimizer"]):
            with h5py.File(tmp_path / f"model_{number:05d}.weights.h5", "w") as dst:
                src.copy(src[group], dst, group)
                if number == 0:
                    src.copy(src["vars"], dst, "vars")
    weight_map = {
        "/layers/dense/vars": ["model_00000.weights.h5"],
        "/layers/dense_1/vars": ["model_00000.weights.h5"],
        "/optimizer/vars": ["model_00001.weights.h5"],
        "/vars": "model_00000.weights.h5",
    }
    index = tmp_path / "model.weights.json"
    index.write_text(json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))
    reader = KerasReader(str(index))
    assert_like_expected(reader)
    assert reader.entries["optimizer/vars/0"].shard == 1
    (tmp_path / "model_00001.weights.h5").unlink()
    with pytest.raises(ckptviz.CheckpointNotFoundError):
        KerasReader(str(index))
    index.write_text(json.dumps({"weight_map": {"/vars": "../elsewhere.h5"}}))
    with pytest.raises(CorruptCheckpointError, match="bad shard file name"):
        KerasReader(str(index))


def test_other_hdf5_types(tmp_path: Path) -> None:
    path = tmp_path / "types.weights.h5"
    with h5py.File(path, "w") as f:
        f["b"] = np.array([True, False])
        f["be"] = np.array([1.5, 2], ">f4")
        f["c"] = np.array([1 + 2j], np.complex64)
        f["s"] = np.array([b"ab", b"", b"\xffx"], dtype=h5py.string_dtype("ascii"))
        f["s0"] = np.array("héllo", dtype=h5py.string_dtype())
        f["fixed"] = np.array([b"ab", b"cde"])
        f.create_dataset("gz", data=np.arange(1000, dtype=np.int16), compression="gzip")
        f["compound"] = np.zeros(2, dtype=[("a", "i4"), ("b", "f4")])
        f.create_dataset("external", shape=(4,), dtype="f4", external=[(str(path) + ".raw", 0, 16)])
    reader = KerasReader(str(path))
    assert reader.read("b").tolist() == [True, False]
    assert reader.read("be").dtype == np.float32 and reader.read("be").tolist() == [1.5, 2.0]
    assert reader.read("c").tolist() == [1 + 2j]
    assert reader.read("s").tolist() == [b"ab", b"", b"\xffx"] and reader.entries["s"].dtype.name == "string"
    assert reader.read("s0")[()] == "héllo".encode() and reader.read("s0").shape == ()
    assert reader.read("fixed").tolist() == [b"ab", b"cde"]
    assert reader.read("gz").tolist() == list(range(1000))
    with pytest.raises(UnsupportedCheckpointError, match="no TensorFlow dtype"):
        reader.read("compound")
    with pytest.raises(UnsupportedCheckpointError, match="keeps its data in other files"):
        reader.read("external")


def test_npz_weights_are_not_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("model.weights.npz", b"PK\x05\x06" + bytes(18))
    with pytest.raises(UnsupportedCheckpointError, match="pickled"):
        KerasReader(str(path))


# -- damaged input ---------------------------------------------------------------------------------


def test_declared_shape_larger_than_the_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("unwritten", shape=(10**9,), dtype="f4")  # reads as fill values
        f.create_dataset("bomb", shape=(10**9,), dtype="f4", compression="gzip", chunks=(10**6,))
    reader = KerasReader(str(path))
    for key in ("unwritten", "bomb"):
        assert reader.entries[key].shape == (10**9,)
        with pytest.raises(CorruptCheckpointError, match="needs 4000000000 bytes but 0 are stored"):
            reader.read(key)


def test_not_keras_files(tmp_path: Path) -> None:
    text = tmp_path / "model.weights.h5"
    text.write_text("hello")
    with pytest.raises(CorruptCheckpointError, match="neither the HDF5 nor the ZIP signature") as info:
        KerasReader(str(text))
    assert info.value.offset == 0
    assert "hello" not in str(info.value) and "68656c6c6f" not in str(info.value)  # contents never echoed
    archive = tmp_path / "model.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("config.json", "{}")
    with pytest.raises(CorruptCheckpointError, match=r"no model\.weights\.h5"):
        KerasReader(str(archive))


@pytest.mark.parametrize("name", ["model.weights.h5", "model.keras"])
def test_truncated_copies_raise_ckptviz_errors(tmp_path: Path, name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    path = tmp_path / name
    for cut in [*range(0, len(data), 97), len(data) - 1]:
        path.write_bytes(data[:cut])
        with pytest.raises(CorruptCheckpointError):
            KerasReader(str(path))


@pytest.mark.parametrize("name", ["model.weights.h5", "model.keras"])
def test_bit_flips_raise_only_ckptviz_errors(tmp_path: Path, name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    path = tmp_path / name
    for damaged in bit_flipped(data, name, 150):
        path.write_bytes(damaged)
        try:
            reader = KerasReader(str(path))
            for key in reader.entries:
                reader.read(key)
            reader.close()
        except CheckpointError:
            pass


# -- decompression bombs ------------------------------------------------------------------------


def gzip_bomb(path: Path, chunks: int = 256) -> None:
    """A dataset of ``chunks`` MiB of zeros stored as ~1 KiB gzip chunks (a 1000:1 expansion)."""
    import zlib

    chunk = 1 << 18  # float32 elements: 1 MiB per chunk
    packed = zlib.compress(bytes(4 * chunk), 9)
    with h5py.File(path, "w") as f:
        f.create_dataset("layers/dense/vars/1", data=np.ones(3, np.float32))
        d = f.create_dataset(
            "layers/dense/vars/0", shape=(chunks * chunk,), dtype="<f4", chunks=(chunk,), compression="gzip"
        )
        for i in range(chunks):
            d.id.write_direct_chunk((i * chunk,), packed)


def test_gzip_bombs_in_weights_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.weights.h5"
    gzip_bomb(path)
    reader = KerasReader(str(path))
    assert reader.read("layers/dense/vars/1").tolist() == [1, 1, 1]
    with pytest.raises(CorruptCheckpointError, match=r"needs 268435456 bytes but \d+ are stored") as info:
        reader.read("layers/dense/vars/0")
    assert info.value.path == str(path) and info.value.offset is not None


def test_deflate_bombs_in_keras_archives_are_refused(tmp_path: Path) -> None:
    inner = tmp_path / "model.weights.h5"
    with h5py.File(inner, "w") as f:
        f.create_dataset("vars/0", data=np.zeros(40 << 20, np.uint8))  # 40 MiB of zeros
    archive = tmp_path / "model.keras"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(inner, "model.weights.h5")
    with pytest.raises(CorruptCheckpointError, match="a decompression bomb") as info:
        KerasReader(str(archive))
    assert info.value.path == str(archive) and info.value.offset is not None


def test_memory_errors_become_ckptviz_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = KerasReader(str(FIXTURES / "model.weights.h5"))
    key = next(iter(reader.entries))

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(h5py.Dataset, "__getitem__", exhausted)
    with pytest.raises(CorruptCheckpointError, match="needs more memory than is available"):
        reader.read(key)


def test_hdf5_types_tensorflow_lacks_are_listed_not_read(tmp_path: Path) -> None:
    path = tmp_path / "odd.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("vars/0", data=np.zeros(2, np.longdouble))
        f.create_dataset("vars/1", data=np.ones(2, np.float32))
    reader = KerasReader(str(path))
    assert reader.entries["vars/0"].dtype.name.startswith("unknown_dtype")
    with pytest.raises(UnsupportedCheckpointError, match=str(path)):
        reader.read("vars/0")


def _weights_h5(groups: dict[str, dict[str, np.ndarray]]) -> bytes:
    import io

    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for group, datasets in groups.items():
            g = f.create_group(group)
            for name, value in datasets.items():
                g.create_dataset(name, data=value)
    return buf.getvalue()


def test_a_keras_file_written_on_windows_reads_with_slash_paths(tmp_path: Path) -> None:
    """Keras on Windows named groups with os.path.join (``layers\\\\dense\\\\vars``)."""
    import zipfile

    h5 = _weights_h5(
        {
            "layers\\dense\\vars": {"0": np.ones((2, 3), np.float32), "1": np.zeros(3, np.float32)},
            "optimizer\\vars": {"0": np.int64(5), "1": np.float32(0.01)},
        }
    )
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as z:
        z.writestr("metadata.json", "{}")
        z.writestr("config.json", "{}")
        z.writestr("model.weights.h5", h5)
    ckpt = ckptviz.open(str(tmp_path / "model.keras"))
    assert list(ckpt.entries) == [
        "layers/dense/vars/0",
        "layers/dense/vars/1",
        "optimizer/vars/0",
        "optimizer/vars/1",
    ]
    assert ckpt.read("layers/dense/vars/0").tolist() == np.ones((2, 3)).tolist()
    assert ckpt.graph.nodes[ckpt.graph.find("optimizer").id].kind == "optimizer"


def test_a_name_stored_with_both_separators_is_refused(tmp_path: Path) -> None:
    (tmp_path / "w.weights.h5").write_bytes(
        _weights_h5({"a\\b": {"0": np.ones(1)}, "a/b": {"0": np.ones(1)}})
    )
    with pytest.raises(ckptviz.CorruptCheckpointError, match="stored twice"):
        ckptviz.open(str(tmp_path / "w.weights.h5"))


def test_a_keras_file_that_is_hdf5(tmp_path: Path) -> None:
    """Keras 2 saved HDF5 under a ``.keras`` name: it is read by its bytes, not its name."""
    (tmp_path / "model.keras").write_bytes(
        _weights_h5({"model_weights/dense/dense": {"kernel:0": np.ones((2, 2))}})
    )
    ckpt = ckptviz.open(str(tmp_path / "model.keras"))
    assert ckpt.format == "keras" and list(ckpt.entries) == ["model_weights/dense/dense/kernel:0"]
