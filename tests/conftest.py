"""Shared helpers: the TensorFlow-written fixtures in tests/data and what TF said about them."""

from __future__ import annotations

import base64
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

DATA = Path(__file__).parent / "data"

# No assertion may depend on the machine's load: property tests have no per-example deadline.
settings.register_profile("ckptviz", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ckptviz")


def corpus() -> list[dict[str, Any]]:
    return json.loads((DATA / "corpus.json").read_text())["fixtures"]  # type: ignore[no-any-return]


def bundle_fixtures() -> list[dict[str, Any]]:
    """One corpus line per TensorBundle checkpoint: no error cases, no other path forms of it."""
    import ckptviz

    out = []
    for case in corpus():
        if "error" in case or "." in case["name"]:
            continue
        with ckptviz.open(str(DATA / case["path"])) as ckpt:
            if ckpt.format == "bundle":
                out.append(case)
    return out


def expected(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


def expected_value(record: dict[str, Any], dtype: str = "") -> Any:
    """TF's ``get_tensor`` result as recorded by tests/data/generate.py.

    h5py reports Keras' bfloat16 datasets as opaque ``|V2``; ``dtype`` (the key's dtype name)
    gives them their type back.
    """
    if "strings" in record:
        items = [base64.b64decode(s) for s in record["strings"]]
        if record.get("python_type") == "bytes":
            return items[0]
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out.reshape(record["shape"])
    import ml_dtypes

    name = dtype if record["numpy_dtype"].startswith("|V") else record["numpy_dtype"]
    dtype = np.dtype(getattr(ml_dtypes, name)) if hasattr(ml_dtypes, name) else np.dtype(name)
    return np.frombuffer(base64.b64decode(record["b64"]), dtype=dtype).reshape(record["shape"])


def bit_flipped(data: bytes, seed: object, count: int) -> Iterator[bytes]:
    """``count`` copies of ``data`` with 1 to 8 random bits flipped each, reproducibly."""
    rng = random.Random(str(seed))
    for _ in range(count):
        damaged = bytearray(data)
        for _ in range(rng.choice([1, 1, 2, 3, 8])):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        yield bytes(damaged)


def assert_same_value(got: Any, want: Any) -> None:
    """Equal bytes, dtype, shape and Python type (NaNs and -0.0 included)."""
    assert type(got).__name__ == type(want).__name__ or (isinstance(want, np.ndarray) and np.ndim(got) == 0)
    if isinstance(want, bytes):
        assert got == want
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape and g.dtype == w.dtype
    if w.dtype == object:
        assert g.tolist() == w.tolist()
    else:
        assert g.tobytes() == w.tobytes()


@pytest.fixture
def data_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Copy a fixture directory into tmp_path, so a test may damage it."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(DATA / name, dest)
        return dest

    return copy
