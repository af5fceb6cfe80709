"""Keras 3 .weights.h5 / .keras files check and restore into the model that wrote them with the
matches Keras' own load_weights makes."""

from __future__ import annotations

import numpy as np
import pytest

import ckptviz
from tests.conftest import DATA

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow


def model():  # type: ignore[no-untyped-def]
    """The fixture's model (tests/data/generate.py), compiled and built, optimizer included."""
    m = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Dense(2, dtype="bfloat16"),
        ]
    )
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    m.optimizer.build(m.trainable_variables)
    return m


@pytest.mark.parametrize("name", ["model.weights.h5", "model.keras"])
def test_restore_matches_load_weights(name: str) -> None:
    path = str(DATA / "keras3_files" / name)
    report = ckptviz.check(path, model())
    assert report.ok, report.table()
    assert any(
        r.name.endswith("/kernel") and r.path.endswith("/vars/0") for r in report.matched
    )  # Variable.path
    ours, theirs = model(), model()
    ckptviz.restore(path, into=ours)
    theirs.load_weights(str(DATA / "keras3_files" / "model.weights.h5"))
    for a, b in zip(ours.weights + ours.optimizer.variables, theirs.weights + theirs.optimizer.variables):
        assert np.array_equal(np.asarray(a.numpy(), np.float32), np.asarray(b.numpy(), np.float32)), a.path


def test_a_different_model_is_reported_not_restored() -> None:
    other = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(5), keras.layers.Dense(2)])
    before = [w.numpy().copy() for w in other.weights]
    with pytest.raises(ckptviz.RestoreMismatchError, match="disagree, nothing was restored"):
        ckptviz.restore(str(DATA / "keras3_files/model.weights.h5"), into=other)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, other.weights))
