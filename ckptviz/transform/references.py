"""A checkpoint as a kerchunk reference description: every tensor a zarr (v2) array whose one chunk
is a byte range of a data file, so zarr, xarray and Dask open a TensorFlow checkpoint lazily, on
disk or on an object store, with no ckptviz in the read path.

    refs = ckptviz.transform.references.references("s3://bucket/run/ckpt-100")
    fs = fsspec.filesystem("reference", fo=refs, remote_protocol="s3", remote_options={...})
    zarr.open_group(fs.get_mapper(), mode="r")["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"][...]

Keys become zarr paths (``/`` nests groups). What a byte range cannot describe is left out, each
with its reason in the root's ``ckptviz_not_expressed`` attribute and a ``DroppedKeysWarning``:
dtypes zarr has no type for (bfloat16, float8 and 4-/2-bit types, quantized types, strings,
variants, resources), partitioned tensors (several ranges), and tensors outside TensorBundle
files (V1 and Keras checkpoints).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from typing import Any

from ..errors import DroppedKeysWarning, UnsupportedCheckpointError
from ..format import naming, storage
from ..format.bundle import BundleReader
from ..format.entries import Entry
from ..model.checkpoint import Checkpoint
from ..model.checkpoint import open as open_checkpoint

_ZARR_KINDS = "biufc"  # numpy kinds zarr v2 stores natively (bool, ints, floats, complex)


def _why_not(entry: Entry) -> str | None:
    """Why ``entry`` cannot be one zarr chunk, or None if it can."""
    dtype = entry.dtype
    if not dtype.is_fixed_width:
        return f"{dtype.name} tensors have variable-length elements, which zarr v2 cannot describe by range"
    if entry.slices:
        return "a partitioned tensor is several byte ranges, not one chunk"
    numpy = dtype.numpy
    if numpy.kind not in _ZARR_KINDS or numpy.names is not None or numpy.type.__module__ != "numpy":
        return f"zarr has no data type for {dtype.name}"
    if dtype.name.startswith(("qint", "quint")):
        return f"zarr has no data type for {dtype.name} (quantized)"
    return None


def references(source: Any, *, storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The kerchunk (version 1) references of every tensor of ``source`` (a path or Checkpoint)."""
    ckpt = (
        source
        if isinstance(source, Checkpoint)
        else open_checkpoint(os.fspath(source), storage_options=dict(storage_options or {}))
    )
    reader = ckpt.reader
    if not isinstance(reader, BundleReader):
        raise UnsupportedCheckpointError(
            f"{ckpt.path}: only TensorBundle checkpoints (.index + .data-*) can be described by byte ranges"
        )
    refs: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    groups = {""}
    for key, entry in ckpt.entries.items():
        why = _why_not(entry)
        if why is None and key == naming.OBJECT_GRAPH_KEY:
            why = "the object graph is metadata"
        if why is not None:
            skipped[key] = why
            continue
        parts = key.split("/")
        for depth in range(1, len(parts)):
            groups.add("/".join(parts[:depth]))
        shape = list(entry.shape)
        numpy = entry.dtype.numpy
        if entry.dtype.size > 1:
            numpy = numpy.newbyteorder(">") if reader.endian == ">" else numpy.newbyteorder("<")
        refs[f"{key}/.zarray"] = json.dumps(
            {
                "zarr_format": 2,
                "shape": shape,
                "chunks": [max(d, 1) for d in shape],
                "dtype": numpy.str,
                "compressor": None,
                "filters": None,
                "fill_value": None,
                "order": "C",
            }
        )
        dims = [f"{parts[-1]}_{i}" for i in range(len(shape))]
        refs[f"{key}/.zattrs"] = json.dumps(
            {"_ARRAY_DIMENSIONS": dims, "tf_dtype": entry.dtype.name, "tf_key": key}
        )
        if entry.num_elements:
            chunk = ".".join("0" for _ in shape) or "0"
            file = reader.data_blob(entry).path
            refs[f"{key}/{chunk}"] = [
                file if storage.is_remote(file) else os.path.abspath(file),
                entry.offset,
                entry.size,
            ]
    for group in groups:
        refs[f"{group}/.zgroup" if group else ".zgroup"] = json.dumps({"zarr_format": 2})
    refs[".zattrs"] = json.dumps({"ckptviz_source": ckpt.path, "ckptviz_not_expressed": skipped})
    shown = [k for k in skipped if k != naming.OBJECT_GRAPH_KEY]
    if shown:
        listed = ", ".join(f"{k!r} ({skipped[k]})" for k in shown[:5])
        more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        warnings.warn(
            f"{len(shown)} tensors of {ckpt.path} cannot be described by byte ranges and are left out: {listed}{more}",
            DroppedKeysWarning,
            stacklevel=2,
        )
    return {"version": 1, "refs": refs}


def write_references(source: Any, out: str | os.PathLike[str], **kw: Any) -> str:
    """``references(source)`` written as JSON to the local file ``out`` (atomically); returns its path."""
    data = references(source, **kw)
    path = os.fspath(out)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    os.replace(tmp, path)
    return path
