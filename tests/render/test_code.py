"""Restore code is written from what the checkpoint is, with its own root names, and runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz.render.code import identifier, restore_code

DATA = Path(__file__).parents[1] / "data"


def test_object_based_code_names_the_checkpoints_roots_and_asserts_the_match() -> None:
    code = restore_code(ckptviz.open(DATA / "guide_legacy_adam"), "ckpt-4")
    assert "tf.train.Checkpoint(iterator=iterator, net=net, optimizer=optimizer, step=step)" in code
    assert "save_counter" not in code.split("checkpoint = ")[1].split("\n")[0]
    assert 'status = checkpoint.restore("ckpt-4")' in code and "assert_existing_objects_matched()" in code


def test_name_based_and_keras_files_get_their_own_code() -> None:
    tf1 = restore_code(ckptviz.open(DATA / "tf1_saver"), "model.ckpt")
    assert "tf.compat.v1.train.Saver()" in tf1 and "tf.train.Checkpoint" not in tf1
    keras = next((DATA / "keras3_files").glob("*.weights.h5"))
    assert restore_code(ckptviz.open(keras), "m.weights.h5").endswith('model.load_weights("m.weights.h5")')


def test_identifiers() -> None:
    assert [identifier(n) for n in ("net", "my-net", "3d", "class")] == ["net", "my_net", "3d_", "class_"]


def test_the_object_based_code_restores_into_real_objects() -> None:
    tf = pytest.importorskip("tensorflow")
    prefix = DATA / "guide_legacy_adam" / "ckpt-4"
    code = restore_code(ckptviz.open(prefix), str(prefix)).split("# or, without")[0]

    tf_keras = pytest.importorskip("tf_keras")

    class Net(tf_keras.Model):  # the guide's model, as tests/data/generate.py saved it
        def __init__(self) -> None:
            super().__init__()
            self.l1 = tf_keras.layers.Dense(5)

        def call(self, x):  # type: ignore[no-untyped-def]
            return self.l1(x)

    net = Net()
    net(tf.ones([1, 1]))
    inputs = tf.range(10.0)[:, None]
    dataset = tf.data.Dataset.from_tensor_slices(dict(x=inputs, y=inputs * 5.0 + tf.range(5.0)[None, :]))
    namespace = {
        "net": net,
        "optimizer": tf_keras.optimizers.legacy.Adam(0.1),
        "step": tf.Variable(1),
        "iterator": iter(dataset.repeat().batch(2)),
    }
    exec(code, namespace)
    expected = ckptviz.open(prefix).read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_allclose(net.l1.kernel.numpy(), expected)
