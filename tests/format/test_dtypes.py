from __future__ import annotations

from pathlib import Path

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


def test_import_does_not_load_ml_dtypes() -> None:
    """ml_dtypes costs more at import than the rest of ckptviz: it loads on first need."""
    import subprocess
    import sys

    code = (
        "import sys, ckptviz\n"
        "assert 'ml_dtypes' not in sys.modules, 'import ckptviz imported ml_dtypes'\n"
        "r = ckptviz.load_checkpoint(sys.argv[1])\n"
        "r.get_variable_to_dtype_map(); r.get_tensor('float'); r.get_tensor('qint8'); r.get_tensor('string')\n"
        "assert 'ml_dtypes' not in sys.modules, 'listing and float32 reads imported ml_dtypes'\n"
        "assert str(r.get_tensor('bfloat16').dtype) == 'bfloat16'\n"
        "assert 'ml_dtypes' in sys.modules\n"
    )
    from tests.conftest import DATA

    path = str(DATA / "dtypes" / "all")
    subprocess.run([sys.executable, "-c", code, path], check=True, cwd=Path(__file__).parents[2])


def test_dtypes_compare_equal_to_numpy_and_tensorflow_dtypes() -> None:
    f32 = dtypes.as_dtype("float32")
    assert f32 == np.float32 and f32 == np.dtype("float32") and f32 == np.dtype("<f4") and f32 == "float32"
    assert f32 != np.float64 and f32 != np.dtype("int32") and f32 != "float64" and f32 != object()
    assert dtypes.as_dtype("bfloat16") == ml_dtypes.bfloat16
    assert dtypes.as_dtype("qint8") != np.int8 and dtypes.as_dtype("int8") == np.int8

    class TFLike:  # TensorFlow's tf.float32 exposes its enum value so
        as_datatype_enum = 1

    assert f32 == TFLike() and dtypes.as_dtype("int64") != TFLike() and dtypes.as_dtype(TFLike()) is f32
    assert len({f32, dtypes.from_enum(1), dtypes.as_dtype(np.float32)}) == 1  # equal, so one hash
    assert hash(f32) == hash(dtypes.from_enum(1))


def test_numpy_dtypes_are_explicitly_little_endian() -> None:
    for d in dtypes.ALL:
        if d.is_fixed_width:
            assert d.numpy.byteorder in "<|" and d.numpy.str[0] in "<|", d
    assert dtypes.as_dtype("float32").numpy.str == "<f4"
