"""ckptviz.restore into a Keras 3 model and optimizer gives what TensorFlow's own restore gives."""

from __future__ import annotations

import numpy as np
import pytest

import ckptviz
from tests.conftest import DATA

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow
GUIDE = str(DATA / "guide_keras3")


def guide_objects():  # type: ignore[no-untyped-def]
    """The guide's Net and Adam (Keras 3), built but not trained."""

    class Net(keras.Model):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.l1 = keras.layers.Dense(5)

        def call(self, x):  # type: ignore[no-untyped-def]
            return self.l1(x)

    net = Net()
    net(tf.ones([1, 1]))
    opt = keras.optimizers.Adam(0.1)
    opt.build(net.trainable_variables)
    return tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)


def test_restore_matches_tensorflow() -> None:
    ours, theirs = guide_objects(), guide_objects()
    status = ckptviz.restore(GUIDE, into=ours)
    theirs.restore(tf.train.latest_checkpoint(GUIDE)).expect_partial()
    assert status.unmatched_checkpoint == ["iterator/.ATTRIBUTES/ITERATOR_STATE"]
    for a, b in zip(
        ours.optimizer.variables + ours.net.variables, theirs.optimizer.variables + theirs.net.variables
    ):
        assert np.array_equal(a.numpy(), b.numpy()), a.path
    assert int(ours.step.numpy()) == int(theirs.step.numpy())


def test_check_before_restoring() -> None:
    report = ckptviz.check(GUIDE, guide_objects())
    assert {r.path for r in report.matched} >= {"net/l1/kernel", "optimizer/_variables/2"}
    assert not report.mismatched
