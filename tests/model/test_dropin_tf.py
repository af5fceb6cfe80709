"""TensorFlow's own reading tests (checkpoint_utils_test, saver_test's CheckpointReader tests,
checkpoint_management_test), scenario by scenario: TF writes, TF and ckptviz read in one process,
and the drop-ins (``load_checkpoint``, ``list_variables``, ``latest_checkpoint``,
``get_checkpoint_state``) give TF's answers, errors and warnings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.errors import CheckpointWarning, KeyNotFoundError

tf = pytest.importorskip("tensorflow")


def _saver_checkpoint(prefix: Path, partitioned: bool = False) -> str:
    """saver_test's / checkpoint_utils_test's variables, written by a TF1 ``Saver``."""
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        tf.compat.v1.get_variable("v0", initializer=np.arange(6, dtype=np.float32).reshape(2, 3))
        tf.compat.v1.get_variable("v1", initializer=np.float64(3.5))
        with tf.compat.v1.variable_scope("useful_scope"):
            tf.compat.v1.get_variable("var4", initializer=np.ones((9, 9), np.float32))
        if partitioned:
            tf.compat.v1.get_variable(
                "part",
                shape=[10, 2],
                initializer=tf.compat.v1.ones_initializer(),
                partitioner=tf.compat.v1.fixed_size_partitioner(3),
            )
        sess.run(tf.compat.v1.global_variables_initializer())
        return str(tf.compat.v1.train.Saver().save(sess, str(prefix), write_state=True))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _saver_checkpoint(tmp_path_factory.mktemp("saver") / "model", partitioned=True)


def test_debug_string_is_tensorflows(saved: str) -> None:  # saver_test.testDebugString
    assert ckptviz.load_checkpoint(saved).debug_string() == tf.train.load_checkpoint(saved).debug_string()
    assert b"v0 (DT_FLOAT) [2,3]\n" in ckptviz.load_checkpoint(saved).debug_string()


def test_maps_tensors_and_listing_agree(saved: str) -> None:  # checkpoint_utils_test.testGetTensor
    ours, theirs = ckptviz.load_checkpoint(saved), tf.train.load_checkpoint(saved)
    assert ours.get_variable_to_shape_map() == theirs.get_variable_to_shape_map()
    assert {k: d.name for k, d in ours.get_variable_to_dtype_map().items()} == {
        k: d.name for k, d in theirs.get_variable_to_dtype_map().items()
    }
    for key in theirs.get_variable_to_shape_map():
        assert ours.has_tensor(key) and theirs.has_tensor(key)
        np.testing.assert_array_equal(ours.get_tensor(key), theirs.get_tensor(key))
    assert ckptviz.list_variables(saved) == tf.train.list_variables(saved)


def test_a_missing_key_raises_as_tensorflow_does(saved: str) -> None:  # testNoTensor
    ours, theirs = ckptviz.load_checkpoint(saved), tf.train.load_checkpoint(saved)
    with pytest.raises(tf.errors.NotFoundError):
        theirs.get_tensor("var5")
    with pytest.raises(KeyNotFoundError):
        ours.get_tensor("var5")


def test_names_people_know_stay_on_ckptviz_open(tmp_path: Path) -> None:
    """The drop-in answers only keys, as TF; ``ckptviz.open(...).read`` takes object paths."""
    prefix = tf.train.Checkpoint(step=tf.Variable(3)).write(str(tmp_path / "ckpt"))
    ours, theirs = ckptviz.load_checkpoint(prefix), tf.train.load_checkpoint(prefix)
    assert ours.has_tensor("step") is theirs.has_tensor("step") is False
    with pytest.raises(tf.errors.NotFoundError):
        theirs.get_tensor("step")
    with pytest.raises(KeyNotFoundError, match="step"):
        ours.get_tensor("step")
    assert ckptviz.open(prefix).read("step") == 3


def test_pathlib_paths_everywhere(tmp_path: Path) -> None:
    prefix = Path(_saver_checkpoint(tmp_path / "model"))
    assert (
        ckptviz.load_checkpoint(prefix).get_variable_to_shape_map()
        == tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    )
    assert ckptviz.list_variables(prefix) == tf.train.list_variables(prefix)
    assert ckptviz.latest_checkpoint(tmp_path) == tf.train.latest_checkpoint(tmp_path)
    ours, theirs = ckptviz.get_checkpoint_state(tmp_path), tf.train.get_checkpoint_state(tmp_path)
    assert ours is not None and ours.model_checkpoint_path == theirs.model_checkpoint_path


def test_a_prefix_named_checkpoint(tmp_path: Path) -> None:  # checkpoint_management_test.testNameCollision
    prefix = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).write(str(tmp_path / "checkpoint"))
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "checkpoint"\nall_model_checkpoint_paths: "checkpoint"\n'
    )
    for path in (prefix, str(tmp_path)):
        theirs = tf.train.load_checkpoint(path)
        ours = ckptviz.load_checkpoint(path)
        assert ours.get_variable_to_shape_map() == theirs.get_variable_to_shape_map()
        key = "v/.ATTRIBUTES/VARIABLE_VALUE"
        np.testing.assert_array_equal(ours.get_tensor(key), theirs.get_tensor(key))
    assert ckptviz.latest_checkpoint(tmp_path) == tf.train.latest_checkpoint(str(tmp_path)) == prefix


def test_an_empty_state_file_is_a_value_error(
    tmp_path: Path,
) -> None:  # testCheckPointStateFailsWhenIncomplete
    (tmp_path / "checkpoint").write_text("")
    for call in (
        tf.train.get_checkpoint_state,
        tf.train.latest_checkpoint,
        ckptviz.get_checkpoint_state,
        ckptviz.latest_checkpoint,
    ):
        with pytest.raises(ValueError):
            call(str(tmp_path))


def test_a_directory_without_checkpoints_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        tf.train.load_checkpoint(str(tmp_path))
    with pytest.raises(ValueError):
        ckptviz.load_checkpoint(str(tmp_path))


def test_an_unparsable_state_file_warns_and_gives_none(tmp_path: Path) -> None:
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: {{{")
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    with pytest.warns(CheckpointWarning, match="not a CheckpointState"):
        assert ckptviz.get_checkpoint_state(tmp_path) is None
    with pytest.warns(CheckpointWarning):
        assert ckptviz.latest_checkpoint(tmp_path) is None


def test_latest_filename(tmp_path: Path) -> None:  # testCheckpointStateWithLatestFilename
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        tf.compat.v1.get_variable("v", initializer=1.0)
        sess.run(tf.compat.v1.global_variables_initializer())
        saver = tf.compat.v1.train.Saver()
        saver.save(sess, str(tmp_path / "a"), latest_filename="my_state")
        saver.save(sess, str(tmp_path / "b"), latest_filename="my_state")
    assert not (tmp_path / "checkpoint").exists()
    for args in ((str(tmp_path), "my_state"), (str(tmp_path),)):
        assert ckptviz.latest_checkpoint(*args) == tf.train.latest_checkpoint(*args)
        theirs = tf.train.get_checkpoint_state(*args)
        ours = ckptviz.get_checkpoint_state(*args)
        assert (ours is None) is (theirs is None)
        if theirs is not None:
            assert ours is not None
            assert ours.model_checkpoint_path == theirs.model_checkpoint_path
            assert ours.all_model_checkpoint_paths == list(theirs.all_model_checkpoint_paths)


@pytest.mark.parametrize("form", ["relative", "absolute", "moved"])
def test_state_paths(tmp_path: Path, form: str) -> None:  # testRelPath / testAbsPath / a copied directory
    prefix = _saver_checkpoint(tmp_path / "model")
    recorded: dict[str, Any] = {
        "relative": "model",
        "absolute": prefix,
        "moved": "/elsewhere/on/another/machine/model",  # TF Serving fixtures, <tmp>/... of the writer
    }
    (tmp_path / "checkpoint").write_text(f'model_checkpoint_path: "{recorded[form]}"\n')
    theirs = tf.train.get_checkpoint_state(str(tmp_path))
    ours = ckptviz.get_checkpoint_state(tmp_path)
    assert ours is not None and ours.model_checkpoint_path == theirs.model_checkpoint_path
    assert ckptviz.latest_checkpoint(tmp_path) == tf.train.latest_checkpoint(str(tmp_path))
    # ckptviz.open goes further than TF for a directory copied from elsewhere: the prefix beside it
    assert ckptviz.open(tmp_path).path == os.fspath(prefix)
