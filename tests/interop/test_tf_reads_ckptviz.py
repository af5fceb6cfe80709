"""Real TensorFlow reads and restores what ckptviz writes (and agrees on status assertions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz import RestoreMismatchError
from ckptviz.format.writer import write_checkpoint
from ckptviz.live.match import check
from ckptviz.live.restore import restore
from ckptviz.transform.convert import convert
from tests.conftest import DATA, bundle_fixtures

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.tensorflow

GUIDE = str(DATA / "guide_legacy_adam" / "ckpt-4")
TF1 = str(DATA / "tf1_saver" / "model.ckpt-2")
BIAS = "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"


def same_files(a: str, b: str) -> None:
    for suffix in (".index", ".data-00000-of-00001"):
        assert Path(a + suffix).read_bytes() == Path(b + suffix).read_bytes(), suffix


def test_one_variable_bundle_bytes_equal_tensorflow(tmp_path: Path) -> None:
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    tf.raw_ops.SaveV2(prefix=str(tmp_path / "tf"), tensor_names=["v"], shape_and_slices=[""], tensors=[value])
    same_files(write_checkpoint(tmp_path / "ours", {"v": value}), str(tmp_path / "tf"))


def test_object_based_bundle_bytes_equal_tensorflow(tmp_path: Path) -> None:
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    tf.train.Checkpoint(v=tf.Variable(value)).write(str(tmp_path / "tf"))
    graph = ckptviz.open(str(tmp_path / "tf")).object_graph_proto
    ours = write_checkpoint(tmp_path / "ours", {"v/.ATTRIBUTES/VARIABLE_VALUE": value}, graph)
    same_files(ours, str(tmp_path / "tf"))


def test_tensorflow_reads_every_dtype_we_write(tmp_path: Path) -> None:
    source = ckptviz.open(str(DATA / "dtypes" / "all"))
    tensors = {k: source.read(k) for k in source}
    dtypes = {k: e.dtype for k, e in source.entries.items()}
    prefix = write_checkpoint(tmp_path / "all", tensors, dtypes=dtypes, max_shard_size=200)
    assert ckptviz.open(prefix).num_shards > 1
    reader, original = tf.train.load_checkpoint(prefix), tf.train.load_checkpoint(source.path)
    assert reader.get_variable_to_dtype_map() == original.get_variable_to_dtype_map()
    for key in tensors:
        got, want = reader.get_tensor(key), original.get_tensor(key)
        assert (
            np.asarray(got).tobytes() == np.asarray(want).tobytes()
            if np.asarray(want).dtype != object
            else (np.asarray(got).tolist() == np.asarray(want).tolist())
        ), key


@pytest.mark.parametrize("record", bundle_fixtures(), ids=lambda f: f["name"])
def test_tensorflow_reads_copies_of_its_fixtures(tmp_path: Path, record: dict) -> None:  # type: ignore[type-arg]
    ckpt = ckptviz.open(str(DATA / record["path"]))
    copy = ckpt.save(str(tmp_path / "copy"))
    reader, original = tf.train.load_checkpoint(copy), tf.train.load_checkpoint(ckpt.path)
    shapes = original.get_variable_to_shape_map()
    assert reader.get_variable_to_shape_map() == shapes
    for key, dtype in original.get_variable_to_dtype_map().items():
        if dtype == tf.variant:
            continue  # TF's Python reader cannot return variants
        assert np.asarray(reader.get_tensor(key)).tolist() == np.asarray(original.get_tensor(key)).tolist()


def test_partial_restore_of_a_selection(tmp_path: Path) -> None:
    prefix = ckptviz.open(GUIDE).select("net/l1/bias").save(tmp_path / "bias")
    bias = tf.Variable(tf.zeros([5]))
    root = tf.train.Checkpoint(net=tf.train.Checkpoint(l1=tf.train.Checkpoint(bias=bias)))
    root.restore(prefix).assert_existing_objects_matched().assert_consumed()
    np.testing.assert_array_equal(bias.numpy(), ckptviz.open(GUIDE).read(BIAS))


def test_tf1_to_tf2_restores_with_assert_consumed(tmp_path: Path) -> None:
    prefix = convert(TF1, tmp_path / "tf2", select=["a", "b", "scoped/c"])
    a, b, c = tf.Variable(0.0), tf.Variable([0.0, 0.0]), tf.Variable([0.0, 0.0, 0.0])
    tf.train.Checkpoint(vars={"a": a, "b": b, "scoped/c": c}).restore(prefix).assert_consumed()
    src = ckptviz.open(TF1)
    for var, key in ((a, "a"), (b, "b"), (c, "scoped/c")):
        np.testing.assert_array_equal(var.numpy(), src.read(key))


def test_tf1_to_tf2_graph_matches_tensorflow_save(tmp_path: Path) -> None:
    prefix = convert(TF1, tmp_path / "ours", select=["a", "b", "scoped/c"])
    ckpt = tf.train.Checkpoint(
        vars={"a": tf.Variable(0.0), "b": tf.Variable([0.0, 0.0]), "scoped/c": tf.Variable([0.0] * 3)}
    )
    theirs = ckpt.save(str(tmp_path / "tf"))
    ours_graph, tf_graph = ckptviz.open(prefix).object_graph_proto, ckptviz.open(theirs).object_graph_proto

    def strip(g):  # type: ignore[no-untyped-def]
        return [
            ([(r.node_id, r.local_name) for r in n.children], [a.checkpoint_key for a in n.attributes])
            for n in g.nodes
        ]

    assert strip(ours_graph) == strip(tf_graph)


def tf1_saver_restore(prefix: str, names: dict[str, list[float] | float]) -> dict[str, np.ndarray]:
    with tf.Graph().as_default():
        variables = {}
        for name, init in names.items():
            scope, _, leaf = name.rpartition("/")
            with tf.compat.v1.variable_scope(scope or tf.compat.v1.get_variable_scope()):
                variables[name] = tf.compat.v1.get_variable(leaf, initializer=np.zeros_like(np.float32(init)))
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session() as sess:
            saver.restore(sess, prefix)
            return {n: sess.run(v) for n, v in variables.items()}


def test_tf2_to_tf1_restores_with_a_tf1_saver(tmp_path: Path) -> None:
    a = tf.Variable(1.5, name="a")
    b = tf.Variable([2.0, 3.0], name="b")
    c = tf.Variable([4.0, 5.0, 6.0], name="scoped/c")
    tf2 = tf.train.Checkpoint(vars={"a": a, "b": b, "c": c}).save(str(tmp_path / "tf2"))
    prefix = convert(tf2, tmp_path / "tf1", to="tf1")
    got = tf1_saver_restore(prefix, {"a": 0.0, "b": [0.0, 0.0], "scoped/c": [0.0, 0.0, 0.0]})
    assert got["a"] == 1.5 and got["b"].tolist() == [2, 3] and got["scoped/c"].tolist() == [4, 5, 6]


def test_ckptviz_restore_into_tf_objects_matches_tf_status(tmp_path: Path) -> None:
    def fresh():  # type: ignore[no-untyped-def]
        bias = tf.Variable(tf.zeros([5]))
        return bias, tf.train.Checkpoint(net=tf.train.Checkpoint(l1=tf.train.Checkpoint(bias=bias)))

    ours_bias, ours_root = fresh()
    tf_bias, tf_root = fresh()
    status = restore(GUIDE, ours_root)
    tf_status = tf_root.restore(GUIDE)
    np.testing.assert_array_equal(ours_bias.numpy(), tf_bias.numpy())
    for name in ("assert_existing_objects_matched", "assert_nontrivial_match", "assert_consumed"):
        outcomes = []
        for s in (status, tf_status):
            try:
                getattr(s, name)()
                outcomes.append("ok")
            except AssertionError:
                outcomes.append("raised")
        assert outcomes[0] == outcomes[1], name
    tf_status.expect_partial()


def test_restore_is_all_or_nothing_on_shape_mismatch() -> None:
    bias, kernel = tf.Variable(tf.zeros([5])), tf.Variable(tf.zeros([2, 5]))
    root = tf.train.Checkpoint(net=tf.train.Checkpoint(l1=tf.train.Checkpoint(bias=bias, kernel=kernel)))
    with pytest.raises(
        RestoreMismatchError, match=r"net/l1/kernel: checkpoint float32\[1, 5\] vs object float32\[2, 5\]"
    ):
        restore(GUIDE, root)
    assert not bias.numpy().any()
    report = check(GUIDE, root)
    assert [r.path for r in report.mismatched] == ["net/l1/kernel"] and next(
        r.path for r in report.matched
    ) == "net/l1/bias"


def test_restore_with_assignment_map_into_tf_module() -> None:
    class Dense(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.kernel = tf.Variable(tf.zeros([1, 5]))
            self.bias = tf.Variable(tf.zeros([5]))

    model = tf.Module()
    model.dense = Dense()
    status = restore(GUIDE, model, select="net", assignment_map={"net/l1/": "dense/"})
    status.assert_existing_objects_matched()
    np.testing.assert_array_equal(model.dense.bias.numpy(), ckptviz.open(GUIDE).read(BIAS))
