"""Every fixture in tests/data/corpus.json reads exactly as TensorFlow read it (or fails as listed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.format.bundle import BundleReader
from tests.conftest import DATA, assert_same_value, bundle_fixtures, corpus, expected, expected_value

CASES = corpus()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_reads_like_tensorflow(case: dict[str, Any]) -> None:
    path = str(DATA / case["path"])
    if "error" in case:
        with pytest.raises(getattr(ckptviz, case["error"])):
            ckptviz.load_checkpoint(path)
        return
    want = expected(case["expected"])["keys"]
    reader = ckptviz.load_checkpoint(path)
    assert reader.get_variable_to_shape_map() == {k: v["shape"] for k, v in want.items()}
    assert {k: d.name for k, d in reader.get_variable_to_dtype_map().items()} == {
        k: v["dtype"] for k, v in want.items()
    }
    for key, record in want.items():
        assert reader.has_tensor(key)
        value = record["value"]
        if "tf_error" in value:  # TF cannot convert it; ckptviz still must not crash
            got = reader.get_tensor(key)
            assert np.asarray(got).shape == tuple(record["shape"])
            continue
        assert_same_value(reader.get_tensor(key), expected_value(value, record["dtype"]))


@pytest.mark.parametrize("case", [c for c in CASES if "error" not in c], ids=lambda c: c["name"])
def test_list_variables_is_sorted_like_tensorflow(case: dict[str, Any]) -> None:
    want = expected(case["expected"])["keys"]
    assert ckptviz.list_variables(str(DATA / case["path"])) == sorted(
        (k, v["shape"]) for k, v in want.items()
    )


def test_every_dtype_of_tensorflow_is_covered() -> None:
    """The fixtures hold every dtype a bundle can store, with TF's names."""
    names = {v["dtype"] for c in CASES if "expected" in c for v in expected(c["expected"])["keys"].values()}
    storable = {d.name for d in ckptviz.format.dtypes.ALL if d.name != "resource"}
    assert storable - names == set()


@pytest.mark.parametrize("case", bundle_fixtures(), ids=lambda c: c["name"])
def test_fast_listing_agrees_with_full_entries(case: dict[str, Any]) -> None:
    prefix = ckptviz.open(str(DATA / case["path"])).path
    lazy = BundleReader(prefix)
    listed = lazy.dtypes_and_shapes()
    assert lazy.entries.made is None  # listing decoded dtype/shape prefixes only
    assert listed == {k: (e.dtype, e.shape) for k, e in BundleReader(prefix).entries.items()}
