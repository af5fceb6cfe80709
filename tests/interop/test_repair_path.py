"""The repair path against real Keras 3 objects: never silent, names people know, root detection."""

from __future__ import annotations

import numpy as np
import pytest

import ckptviz
from tests.conftest import DATA

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow
GUIDE = str(DATA / "guide_keras3")


class Net(keras.Model):  # type: ignore[misc]
    def __init__(self, head: int = 5) -> None:
        super().__init__()
        self.l1 = keras.layers.Dense(head)

    def call(self, x):  # type: ignore[no-untyped-def]
        return self.l1(x)


def built(head: int = 5) -> Net:
    net = Net(head)
    net(tf.ones([1, 1]))
    return net


def test_an_unbuilt_model_is_an_error_that_says_what_to_do() -> None:
    with pytest.raises(ckptviz.NothingMatchedError, match=r"no variables yet .*call the model once"):
        ckptviz.restore(GUIDE, into=tf.train.Checkpoint(net=Net()))


def test_the_model_itself_is_matched_under_its_place_in_the_checkpoint() -> None:
    net = built()
    report = ckptviz.check(GUIDE, net)
    assert report.root == "net" and {r.path for r in report.matched} == {"net/l1/kernel", "net/l1/bias"}
    assert "as 'net'" in report.verdict()
    ckptviz.restore(GUIDE, into=net)
    expected = ckptviz.open(GUIDE).read("net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE")
    assert np.array_equal(net.l1.kernel.numpy(), expected)


def test_everything_except_the_head() -> None:
    net = built(head=3)  # a new head: its shape no longer fits
    ckpt = tf.train.Checkpoint(net=net)
    with pytest.raises(ckptviz.RestoreMismatchError, match="net/l1/kernel"):
        ckptviz.restore(GUIDE, into=ckpt)
    before = net.l1.kernel.numpy().copy()
    with pytest.raises(ckptviz.NothingMatchedError):  # the head was all this object had
        ckptviz.restore(GUIDE, into=ckpt, exclude=["net/l1"])
    status = ckptviz.restore(GUIDE, into=ckpt, exclude=["net/l1"], allow_empty=True)
    assert np.array_equal(net.l1.kernel.numpy(), before)
    assert set(status.matched) == {"save_counter"}


def test_selected_values_without_a_taker_are_an_error() -> None:
    net = built()
    with pytest.raises(ckptviz.RestoreMismatchError, match=r"selected value.*no taker"):
        ckptviz.restore(GUIDE, into=tf.train.Checkpoint(net=net), select=["net", "step"])


class Two(keras.Model):  # type: ignore[misc]
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.body = keras.layers.Dense(4)
        self.head = keras.layers.Dense(classes)

    def call(self, x):  # type: ignore[no-untyped-def]
        return self.head(self.body(x))


def test_restore_everything_except_a_new_head(tmp_path) -> None:  # type: ignore[no-untyped-def]
    old = Two(2)
    old(tf.ones([1, 3]))
    prefix = tf.train.Checkpoint(net=old).write(str(tmp_path / "ckpt"))
    new = Two(5)
    new(tf.ones([1, 3]))
    report = ckptviz.check(prefix, new)
    assert report.root == "net" and {r.path for r in report.mismatched} == {
        "net/head/kernel",
        "net/head/bias",
    }
    head_before = new.head.kernel.numpy().copy()
    ckptviz.restore(prefix, into=new, exclude=["net/head"])
    assert np.array_equal(new.body.kernel.numpy(), old.body.kernel.numpy())
    assert np.array_equal(new.head.kernel.numpy(), head_before)
