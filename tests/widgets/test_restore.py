from __future__ import annotations

import numpy as np
import pytest

import ckptviz
from ckptviz.widgets import RestoreView
from ckptviz.widgets.restore import attribute_path

from .conftest import GUIDE, KERAS3, click

KERNEL = "net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"


def test_attribute_path_spells_python() -> None:
    assert attribute_path("model", "l1/_kernel") == "model.l1._kernel"
    assert attribute_path("m", "_operations/3/kernel") == "m._operations[3].kernel"
    assert attribute_path("m", "a..b/c") == "getattr(m, 'a.b').c"
    assert attribute_path("m", "v/.OPTIMIZER_SLOT/optimizer/m") is None


def test_check_against_numpy_trees_without_tensorflow() -> None:
    live = {"net": {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(4, np.float32)}}}
    view = RestoreView(GUIDE, namespace={"live": live})
    view.paths, view.target = ["net/l1"], "live"
    click(view, do="check")
    # a selection keeps the save_counter TensorFlow restores too; the tree has no place for it
    assert view.report["counts"] == {"matched": 1, "mismatched": 1, "missing_in_object": 1}
    assert not view.report["ok"]
    graph = ckptviz.open(GUIDE).graph
    assert view.colours == {
        graph.find("net/l1/kernel").id: "matched",
        graph.find("net/l1/bias").id: "mismatched",
        graph.find("save_counter").id: "missing",
    }
    click(view, do="restore")  # all or nothing: the bias disagrees, so the kernel is not written either
    assert "1 value(s) disagree, nothing was restored" in view.error
    assert not live["net"]["l1"]["kernel"].any()


def test_unknown_target_and_empty_restore_are_messages() -> None:
    view = RestoreView(GUIDE, namespace={"other": {"x": np.zeros(3)}})
    click(view, do="check")
    assert "type the name of the object" in view.error
    view.target = "model"
    click(view, do="check")
    assert "no variable named 'model'" in view.error
    view.target = "other"
    click(view, do="restore")
    assert view.error.startswith("nothing to restore") and view.result == ""


def test_save_the_selection_as_a_checkpoint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    view = RestoreView(GUIDE, namespace={})
    click(view, do="set_paths", paths=["net/l1/bias", ""])
    view.save_to = str(tmp_path / "partial")
    click(view, do="save")
    assert view.result.startswith("saved 2 value(s) to")  # the bias and the save_counter
    assert "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE" in ckptviz.open(tmp_path / "partial").entries


def test_code_is_always_offered() -> None:
    view = RestoreView(GUIDE, namespace={})
    view.paths, view.target = ["net"], "ckpt"
    assert view.code["ckptviz"].endswith(
        f"ckptviz.restore({str(GUIDE / 'ckpt-4')!r}, into=ckpt, select=['net'])\n"
    )


@pytest.mark.tensorflow
def test_restore_a_subtree_into_a_live_keras_model() -> None:
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")

    class Net(keras.Model):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.l1 = keras.layers.Dense(5)

        def call(self, x):  # type: ignore[no-untyped-def]
            return self.l1(x)

    model = Net()
    model(tf.ones([1, 1]))
    namespace = {"model": model}
    view = RestoreView(KERAS3, namespace=namespace)
    view.root, view.target = "net", "model"  # the checkpoint's net/... is this model
    click(view, do="check")
    # restored as tf.train.Checkpoint(net=model): the selection's save_counter pairs up too
    assert view.report["ok"] and view.report["counts"] == {"matched": 3}, view.report
    assert "into=tf.train.Checkpoint(net=model), select=['net']" in view.code["ckptviz"]
    click(view, do="restore")
    assert view.result == "restored 3 value(s) into model" and not view.error
    want = ckptviz.open(KERAS3).read(KERNEL)
    np.testing.assert_array_equal(model.l1.kernel.numpy(), want)

    # the plain TensorFlow code does the same into a fresh model
    fresh = Net()
    fresh(tf.ones([1, 1]))
    code = view.code["tensorflow"]
    assert "model.l1._kernel" in code
    exec(code, {"model": fresh})
    np.testing.assert_array_equal(fresh.l1.kernel.numpy(), want)
