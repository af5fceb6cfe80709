"""TF1 scope trees: which optimizer owns what, and what is not an optimizer at all."""

from __future__ import annotations

import ckptviz
from tests.conftest import DATA

F = ("float32", [2, 3])


def _graph(keys: dict[str, tuple[str, list[int]]]) -> ckptviz.ObjectGraph:
    return ckptviz.ObjectGraph.from_keys(keys)


def test_adam_state_goes_to_adam_and_global_step_stays_at_the_root() -> None:
    g = _graph(
        {
            "a/w": F, "a/w/Adam": F, "a/w/Adam_1": F, "b/w": F, "b/w/Adam": F, "b/w/Adam_1": F,
            "a/w/Adagrad": F, "b/w/Adagrad": F,  # an alphabetically earlier optimizer
            "beta1_power": ("float32", []), "beta2_power": ("float32", []), "global_step": ("int64", []),
        }
    )  # fmt: skip
    adam = g.find("Adam")
    assert set(g.children(adam.id)) == {"beta1_power", "beta2_power"}
    assert "global_step" in g.children(0) and g.find("beta1_power").path == "beta1_power"
    assert {s.slot_name for s in g.slots if s.optimizer_id == adam.id} == {"m", "v"}


def test_ema_shadow_variables_are_not_an_optimizer() -> None:
    g = _graph({"a/w": F, "a/w/ExponentialMovingAverage": F, "b/w": F, "b/w/ExponentialMovingAverage": F})
    assert g.of_kind("optimizer") == [] and g.slots == []
    assert g.find("a/w/ExponentialMovingAverage").kind == "variable"


def test_partition_slots_link_to_their_variable() -> None:
    g = _graph(
        {
            "emb": ("float32", [6, 2]),
            "emb/part_0/Adagrad": ("float32", [3, 2]),
            "emb/part_1/Adagrad": ("float32", [3, 2]),
        }
    )
    assert {(g.nodes[s.variable_id].path, s.slot_name) for s in g.slots} == {("emb", "accumulator")}
    assert len(g.slots) == 2


def test_tf2_estimator_slots_and_hyperparameters() -> None:
    g = _graph({"dense/kernel": F, "training/Adam/dense/kernel/m": F, "training/Adam/dense/kernel/v": F,
                "training/Adam/iter": ("int64", []), "training/Adam/learning_rate": ("float32", [])})  # fmt: skip
    opt = g.find("training/Adam")
    assert opt.kind == "optimizer"
    assert {(g.nodes[s.variable_id].path, s.slot_name) for s in g.slots} == {
        ("dense/kernel", "m"),
        ("dense/kernel", "v"),
    }
    assert {"iter", "learning_rate"} <= set(g.children(opt.id))


def test_a_key_with_thousands_of_scopes() -> None:
    key = "/".join(["s"] * 5000)
    g = _graph({key: F})
    assert g.find(key).kind == "variable" and len(g) == 5001


def test_bert_adam_weight_decay_slots() -> None:
    g = _graph({"bert/w": F, "bert/w/adam_m": F, "bert/w/adam_v": F, "global_step": ("int64", [])})
    assert {(g.nodes[s.variable_id].path, s.slot_name) for s in g.slots} == {("bert/w", "m"), ("bert/w", "v")}
    assert g.find("AdamWeightDecay").kind == "optimizer"


def test_keras_file_optimizers_are_optimizers() -> None:
    g = ckptviz.open(str(DATA / "keras3_files/model.weights.h5")).graph
    assert g.find("optimizer").kind == "optimizer"


def test_adam_state_at_the_root_stays_there_when_adam_has_a_scope_of_its_name() -> None:
    """Moving it under Adam would hide ``Adam/beta1_power``: every key keeps an object."""
    scalar = ("float32", [])
    keys = {"Adam/beta1_power": scalar, "beta1_power": scalar, "x": F, "x/Adam": F, "x/Adam_1": F}
    g = _graph(keys)
    assert sorted(g.owner) == sorted(keys)
    assert g.find("beta1_power").id in g.children(0).values()
    assert g.find("Adam/beta1_power").kind == "variable" and g.find("Adam").kind == "optimizer"


def test_a_partition_of_another_layout_is_no_slot() -> None:
    g = _graph({"emb": ("float32", [6, 2]), "emb/part_0/Adagrad": ("float32", [3, 3])})
    assert g.slots == [] and g.find("emb/part_0/Adagrad").kind == "variable"
