from __future__ import annotations

import numpy as np

import ckptviz
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam")


def test_python_types_follow_tensorflow() -> None:
    reader = ckptviz.load_checkpoint(GUIDE)
    assert isinstance(reader.get_tensor("save_counter/.ATTRIBUTES/VARIABLE_VALUE"), np.int64)
    assert isinstance(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"), bytes)
    assert isinstance(reader.get_tensor("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"), np.ndarray)
    assert not reader.has_tensor("nope")


def test_returned_arrays_are_fresh_and_writable() -> None:
    reader = ckptviz.load_checkpoint(GUIDE)
    a = reader.get_tensor("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE")
    a[:] = 0
    assert reader.get_tensor("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE").any()


def test_variants_decode_instead_of_failing() -> None:
    value = ckptviz.load_checkpoint(GUIDE).get_tensor("iterator/.ATTRIBUTES/ITERATOR_STATE")
    assert value.dtype == object and all(isinstance(v, ckptviz.Variant) for v in value)
    assert value[0].type_name == "tensorflow::Iterator"


def test_debug_string() -> None:
    text = ckptviz.load_checkpoint(GUIDE).debug_string().decode()
    assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE (DT_FLOAT) [1,5]\n" in text


def test_checksums_can_be_skipped() -> None:
    path = str(DATA / "corrupt/tensor_flip/ckpt-1")
    reader = ckptviz.load_checkpoint(path, verify=False)
    assert reader.get_tensor("net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE").shape == (1, 5)
