from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from ckptviz.format import dtypes


def test_names_follow_tensorflow() -> None:
    names = {d.as_datatype_enum: d.name for d in dtypes.ALL}
    assert names[19] == "float16" and names[14] == "bfloat16" and names[11] == "qint8"
    assert names[21] == "variant" and names[33] == "float4_e2m1fn"
    assert len(names) == 33


def test_numpy_types() -> None:
    assert dtypes.from_enum(14).as_numpy_dtype is ml_dtypes.bfloat16
    # TF's qint8 numpy type is a one-field record, but its values read back as plain int8.
    assert np.dtype(dtypes.from_enum(11).as_numpy_dtype).names == ("qint8",)
    assert dtypes.from_enum(11).numpy == np.int8
    assert dtypes.from_enum(29).size == 1  # int4: one value per byte on disk


def test_reference_and_unknown_types() -> None:
    assert dtypes.from_enum(101).name == "float32_ref"
    unknown = dtypes.from_enum(77)
    assert unknown.name == "unknown_dtype_77" and not unknown.is_fixed_width
    with pytest.raises(TypeError):
        unknown.as_numpy_dtype  # noqa: B018


def test_as_dtype() -> None:
    assert dtypes.as_dtype("half") == dtypes.as_dtype(np.float16) == "float16"
    assert dtypes.as_dtype(np.int8).name == "int8"
    assert dtypes.as_dtype(np.dtype(object)).name == "string"
    assert dtypes.as_dtype(ml_dtypes.float8_e4m3fn).as_datatype_enum == 25
    assert repr(dtypes.as_dtype("int4")) == "ckptviz.int4"
