"""The Keras models of the ``keras3_models`` fixtures, shared by the generator (which trains and
saves them) and the tests (which build them again to restore into).

Each builder returns a built model; ``train_step`` applies one optimizer step so every slot exists.
Needs TensorFlow and Keras 3 (or tf_keras for ``tf_keras_functional``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def functional(keras: Any, head: int = 2) -> Any:
    """Dense → BatchNormalization → Dense head: weights under ``model/_operations/N``."""
    inputs = keras.Input((4,))
    x = keras.layers.Dense(8, name="hidden")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    return keras.Model(inputs, keras.layers.Dense(head, name="head")(x))


def sequential(keras: Any, head: int = 2) -> Any:
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="relu", name="dense_a"),
            keras.layers.Dense(head, name="out"),
        ]
    )


def subclassed(keras: Any, head: int = 2) -> Any:
    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = keras.layers.Dense(5, name="encoder")
            self.head = keras.layers.Dense(head, name="head")

        def call(self, x: Any) -> Any:
            return self.head(self.encoder(x))

    net = Net()
    net(np.zeros((1, 4), "float32"))
    return net


def resnet50(keras: Any, classes: int = 1000) -> Any:
    """Keras ResNet50 at full size (25.6 M parameters); the input is small, the weights are not."""
    return keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=classes)


BUILDERS = {"functional": functional, "sequential": sequential, "subclassed": subclassed}
OPTIMIZERS = {"functional": "adam", "sequential": "sgd", "subclassed": "adam"}


def optimizer(keras: Any, kind: str) -> Any:
    return keras.optimizers.Adam(0.01) if kind == "adam" else keras.optimizers.SGD(0.05, momentum=0.9)


def train_step(tf: Any, model: Any, opt: Any, seed: int = 0) -> None:
    """One optimizer step on random data, so the optimizer has built every slot."""
    rng = np.random.default_rng(seed)
    shape = (2, *model.input_shape[1:]) if hasattr(model, "input_shape") else (2, 4)
    x = rng.random(shape, dtype=np.float32)
    with tf.GradientTape() as tape:
        y = model(x, training=True)
        loss = tf.reduce_mean(y * y)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
