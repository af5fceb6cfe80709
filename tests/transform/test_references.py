"""kerchunk references: zarr and xarray read every dtype a byte range can express exactly as
ckptviz does, through fsspec's reference filesystem, and the rest is listed with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest

import ckptviz
from ckptviz.errors import DroppedKeysWarning
from ckptviz.transform.references import references, write_references
from tests.conftest import DATA
from tests.storage.conftest import S3, s3, s3_server  # noqa: F401 - fixtures

zarr = pytest.importorskip("zarr")
xr = pytest.importorskip("xarray")
DTYPES = str(DATA / "dtypes/all")
# what zarr cannot hold, by TensorFlow's dtype names
NOT_EXPRESSIBLE = {
    "bfloat16", "float4_e2m1fn", "float8_e4m3b11fnuz", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
    "float8_e5m2fnuz", "int2", "int4", "uint2", "uint4", "qint8", "qint16", "qint32", "quint8", "quint16",
    "string", "variant", "resource",
}  # fmt: skip


def _group(refs: dict[str, Any], remote_protocol: str, remote_options: dict[str, Any] | None = None) -> Any:
    """zarr's own fsspec store over the references (asynchronous, as zarr reads)."""
    fs = fsspec.filesystem(
        "reference",
        fo=refs,
        remote_protocol=remote_protocol,
        remote_options={**(remote_options or {}), "asynchronous": remote_protocol != "file"},
        asynchronous=True,
    )
    store = zarr.storage.FsspecStore(fs, read_only=True)
    return zarr.open_group(store, mode="r", zarr_format=2)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_zarr_reads_every_expressible_dtype_identically() -> None:
    with pytest.warns(
        DroppedKeysWarning, match=r"tensors of .*dtypes/all cannot be described by byte ranges"
    ):
        refs = references(DTYPES)
    ckpt = ckptviz.open(DTYPES)
    group = _group(refs, remote_protocol="file")
    left_out = json.loads(refs["refs"][".zattrs"])["ckptviz_not_expressed"]
    read = 0
    for key, entry in ckpt.entries.items():
        if entry.dtype.name in NOT_EXPRESSIBLE:
            assert (key in left_out and entry.dtype.name in left_out[key]) or "variable-length" in left_out[
                key
            ]
            continue
        assert _same(group[key][...], ckpt.read(key)), key
        assert group[key].attrs["tf_dtype"] == entry.dtype.name
        read += 1
    assert read == 20 and len(left_out) == len(ckpt.entries) - read


def test_xarray_opens_the_references_lazily(tmp_path: Path) -> None:
    with pytest.warns(DroppedKeysWarning):
        path = write_references(DTYPES, tmp_path / "refs.json")
    ds = xr.open_zarr(
        fsspec.get_mapper("reference://", fo=path, remote_protocol="file"), consolidated=False, zarr_format=2
    )
    ckpt = ckptviz.open(DTYPES)
    assert len(ds.data_vars) == 20
    for name, var in ds.data_vars.items():
        assert _same(var.values, ckpt.read(str(name))), name


def test_nested_keys_on_an_object_store(s3: S3) -> None:  # noqa: F811
    with pytest.warns(DroppedKeysWarning, match="'iterator/.ATTRIBUTES/ITERATOR_STATE' .variant tensors"):
        refs = references(s3.url("guide_legacy_adam/ckpt-4"), storage_options=s3.options)
    remote = {k: v for k, v in s3.options.items() if k != "skip_instance_cache"}
    group = _group(refs, remote_protocol="s3", remote_options=remote)
    local = ckptviz.open(str(DATA / "guide_legacy_adam/ckpt-4"))
    for key, entry in local.entries.items():
        if entry.dtype.is_fixed_width:
            assert _same(group[key][...], local.read(key)), key
    assert refs["refs"]["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE/0.0"][0].startswith(
        "s3://ckpts/guide_legacy_adam/"
    )


def test_partitioned_tensors_are_left_out_and_said_so() -> None:
    with pytest.warns(DroppedKeysWarning, match="a partitioned tensor is several byte ranges"):
        refs = references(str(DATA / "sliced_policy/ckpt"))
    left_out = json.loads(refs["refs"][".zattrs"])["ckptviz_not_expressed"]
    assert any("partitioned" in why for why in left_out.values())


def test_only_bundles() -> None:
    with pytest.raises(ckptviz.UnsupportedCheckpointError, match="only TensorBundle checkpoints"):
        references(str(DATA / "keras3_files/model.weights.h5"))
