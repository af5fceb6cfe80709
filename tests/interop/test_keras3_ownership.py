"""Keras 3 checkpoints file model weights under ``optimizer/_trainable_variables/N``: select,
exclude, check and restore follow what belongs to what, and agree with TensorFlow's own saves
and restores, value by value."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from tests.conftest import DATA
from tests.data import keras_models as M

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow
KINDS = list(M.BUILDERS)


def prefix(kind: str) -> str:
    return str(DATA / "keras3_models" / kind / "ckpt")


def objects(kind: str, head: int = 2, optimizer: bool = True) -> Any:
    """A fresh model of the fixture's architecture (and its optimizer, built), not trained."""
    model = M.BUILDERS[kind](keras, head)
    if not optimizer:
        return tf.train.Checkpoint(model=model)
    opt = M.optimizer(keras, M.OPTIMIZERS[kind])
    opt.build(model.trainable_variables)
    return tf.train.Checkpoint(model=model, optimizer=opt)


def values(ckpt: Any) -> list[tuple[str, np.ndarray]]:
    """Every variable in order (Keras numbers a second model or optimizer of a kind: ``adam_1``)."""
    variables = list(ckpt.model.variables) + list(
        getattr(ckpt, "optimizer", keras.optimizers.SGD()).variables
    )
    return [(v.path.rsplit("/", 1)[-1].rsplit("_", 1)[-1], v.numpy()) for v in variables]


@pytest.mark.parametrize("kind", KINDS)
def test_restore_equals_tensorflows_restore(kind: str) -> None:
    ours, theirs = objects(kind), objects(kind)
    ckptviz.restore(prefix(kind), into=ours).assert_consumed()
    theirs.read(prefix(kind)).assert_consumed()
    a, b = values(ours), values(theirs)
    assert [n for n, _ in a] == [n for n, _ in b] and len(a) > 6
    for (name, x), (_, y) in zip(a, b):
        assert np.array_equal(x, y), name


@pytest.mark.parametrize("kind", KINDS)
def test_select_and_exclude_save_what_tensorflow_would(kind: str, tmp_path: Path) -> None:
    """``exclude optimizer`` keeps every model weight the optimizer also tracks: the keys are the
    ones ``Checkpoint(model=m).write`` makes, and TF restores every one of them."""
    live = objects(kind)
    live.read(prefix(kind)).assert_consumed()
    for name, kwargs in (("model", {"exclude": "optimizer"}), ("optimizer", {"selector": "optimizer"})):
        ours = ckptviz.open(prefix(kind)).select(kwargs.get("selector"), exclude=kwargs.get("exclude"))
        ours.save(tmp_path / f"ours_{name}")
        tf.train.Checkpoint(**{name: getattr(live, name)}).write(str(tmp_path / f"tf_{name}"))
        want = dict(tf.train.list_variables(str(tmp_path / f"tf_{name}")))
        got = dict(ckptviz.list_variables(str(tmp_path / f"ours_{name}")))
        assert got == want, name
    model_only = objects(kind, optimizer=False)
    model_only.read(str(tmp_path / "ours_model")).assert_consumed()
    for a, b in zip(model_only.model.variables, live.model.variables):
        assert np.array_equal(a.numpy(), b.numpy()), a.path
    assert len(model_only.model.trainable_variables) == len(live.model.trainable_variables) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_check_and_restore_agree_on_the_same_objects(kind: str) -> None:
    """Restoring without what check called mismatched, or only what it called matched, restores
    exactly check's matched set: check and restore mean the same objects by the same paths."""
    target = objects(kind, head=3, optimizer=False)
    report = ckptviz.check(prefix(kind), target)
    matched = {r.path for r in report.matched}
    mismatched = [r.path for r in report.mismatched]
    assert len(mismatched) == 2 and all("head" in p or "out" in p for p in mismatched), mismatched
    assert any("kernel" in p for p in matched), matched
    source = ckptviz.open(prefix(kind))
    for how in ({"exclude": mismatched}, {"select": sorted(matched)}):
        into = objects(kind, head=3, optimizer=False)
        before = {v.path: v.numpy() for v in into.model.variables}
        status = ckptviz.restore(prefix(kind), into=into, **how)
        assert set(status.matched) == matched, how
        key_of = {r.target.path: r.path for r in status.report.matched}  # read back by the shown path
        assert len(key_of) == len(matched)
        for v in into.model.variables:
            if v.path in key_of:
                assert np.array_equal(v.numpy(), source.read(key_of[v.path])), (how, v.path)
            else:
                assert np.array_equal(v.numpy(), before[v.path]), (how, v.path)


@pytest.mark.parametrize("kind", KINDS)
def test_every_name_shown_is_accepted_back(kind: str) -> None:
    """ls names, display paths, slot names, layer names and raw keys all resolve to their object."""
    ckpt = ckptviz.open(prefix(kind))
    graph = ckpt.graph
    for record in ckpt.entry_records():
        if record.node_id is None:
            continue
        for name in (
            record.name,
            record.key,
            graph.display_path(record.node_id),
            graph.nodes[record.node_id].path,
        ):
            assert graph.resolve(name).id == record.node_id, name
            assert np.array_equal(ckpt.read(name), ckpt.read(record.key)), name
    scopes = [graph.common_scope(n.id).rsplit("/", 1)[-1] for n in graph.nodes]
    for node in graph.nodes:  # a layer by the name its variables share, where no other shares it
        if scopes[node.id] and scopes.count(scopes[node.id]) == 1:
            assert graph.resolve(scopes[node.id]).id == node.id


# -- the full-size case: Keras ResNet50 + Adam (25.6 M parameters, 293 MiB) --------------------


@pytest.fixture(scope="module")
def resnet50(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Written once per test run (too big to keep in the repository)."""
    out = tmp_path_factory.mktemp("resnet50") / "ckpt"
    keras.utils.set_random_seed(5)
    model = M.resnet50(keras)
    opt = keras.optimizers.Adam(1e-3)
    M.train_step(tf, model, opt)
    tf.train.Checkpoint(model=model, optimizer=opt).write(str(out))
    return str(out)


@pytest.mark.slow
def test_resnet50_exclude_optimizer_keeps_every_weight(resnet50: str, tmp_path: Path) -> None:
    source = ckptviz.open(resnet50)
    trainable = [k for k in source.entries if k.startswith("optimizer/_trainable_variables/")]
    assert len(trainable) == 214
    stripped = source.select(exclude="optimizer")
    stripped.save(tmp_path / "model")
    kept = ckptviz.open(str(tmp_path / "model"))
    assert len(kept.entries) - 1 == 214 + 106  # weights + BatchNorm moving statistics, no slots
    weights = sum(kept.entries[k].nbytes for k in kept.entries if not k.startswith("_CHECKPOINTABLE"))
    assert weights > 97 * 2**20
    into = tf.train.Checkpoint(model=M.resnet50(keras))
    into.read(str(tmp_path / "model")).assert_consumed()
    for v in into.model.variables:
        path = f"model/{v.path}"
        assert np.array_equal(v.numpy(), kept.read(path)), path
    assert os.path.getsize(resnet50 + ".data-00000-of-00001") > 290 * 2**20


def test_excluding_a_layer_drops_what_it_owns_wherever_else_it_is_listed(tmp_path: Path) -> None:
    """The optimizer lists the head's weights too; excluding the head drops them (and their slots),
    so a model with a new head and its optimizer restore everything else without a shape clash."""
    source = ckptviz.open(prefix("functional"))
    head = source.graph.resolve("model/head")
    owned = {source.graph.resolve(n).id for n in ("head/kernel", "head/bias")}
    out = source.select(exclude="model/head")
    left = {source.graph.owner[k][0] for k in out.keys_map.values() if k in source.graph.owner}
    assert not left & (owned | {head.id})
    slots = {s.slot_id for s in source.graph.slots if s.variable_id in owned}
    assert len(slots) == 4 and not left & slots
    assert len(out) == len(source.entries) - 1 - 2 - 4  # the graph is rewritten, not counted
    out.save(tmp_path / "no_head")
    fresh = objects("functional", head=3)
    fresh.read(str(tmp_path / "no_head")).expect_partial()  # no shape clash anywhere
    hidden = ckptviz.open(str(tmp_path / "no_head")).read("hidden/kernel")
    assert np.array_equal(fresh.model.get_layer("hidden").kernel.numpy(), hidden)
