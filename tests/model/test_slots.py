"""Optimizer recognition: what is an optimizer (and what, like a plain dict of variables, is not)."""

from __future__ import annotations

from typing import Any

import pytest

import ckptviz
from ckptviz.model.graph import ObjectGraph
from ckptviz.model.slots import keras_file_optimizers
from tests.conftest import DATA


def _graph(tree: dict[str, Any]) -> ObjectGraph:
    """An object graph from nested dicts: a ``(dtype, shape)`` leaf is a variable, a dict an object
    (keys are local names), a list a tracked list."""
    from ckptviz.transform.graph_proto import new_graph

    g = new_graph()
    entries: dict[str, tuple[str, list[int]]] = {}

    def add(value: Any, path: str) -> int:
        i = len(g.nodes)
        node = g.nodes.add()
        if isinstance(value, tuple):
            key = f"{path}/.ATTRIBUTES/VARIABLE_VALUE"
            node.attributes.add(name="VARIABLE_VALUE", full_name=path, checkpoint_key=key)
            entries[key] = (value[0], list(value[1]))
            return i
        items = enumerate(value) if isinstance(value, list) else value.items()
        for name, child in items:
            kid = add(child, f"{path}/{name}".lstrip("/"))
            g.nodes[i].children.add(node_id=kid, local_name=str(name))
        return i

    add(tree, "")
    return ObjectGraph.from_proto(g.SerializeToString(), entries)


INT = ("int64", ())
FLOAT = ("float32", ())
W = ("float32", (3, 2))


def kinds(graph: ObjectGraph) -> dict[str, str]:
    return {n.path: n.kind for n in graph if n.kind == "optimizer"}


def test_a_legacy_optimizer_before_its_first_step_is_an_optimizer() -> None:
    g = _graph({"optimizer": {"iter": INT, "learning_rate": FLOAT, "beta_1": FLOAT, "decay": FLOAT}, "w": W})
    assert kinds(g) == {"optimizer": "optimizer"}


@pytest.mark.parametrize(
    "tree",
    [
        {"state": {"iter": INT, "lr": FLOAT, "weights": W}},  # a dict with other things too
        {"state": {"iterations": FLOAT, "learning_rate": FLOAT}},  # a float "counter"
        {"state": {"beta1_power": FLOAT, "beta2_power": FLOAT, "kernel": W}},
        {"iter": INT, "lr": FLOAT, "model": {"w": W}},  # the root Checkpoint itself
        {"items": [INT, FLOAT, W]},  # a list
        {"items": [{"iter": INT, "lr": FLOAT, "w": W}]},
    ],
    ids=["dict", "float-counter", "tf1-names-in-a-dict", "root", "list", "dict-in-a-list"],
)
def test_a_plain_dict_or_list_of_variables_is_never_an_optimizer(tree: dict[str, Any]) -> None:
    g = _graph(tree)
    assert kinds(g) == {} and g.slots == []


def test_keras3_optimizers_are_still_recognised() -> None:
    g = ckptviz.open(str(DATA / "guide_keras3")).graph
    assert kinds(g) == {"optimizer": "optimizer"} and len(g.slots) == 4
    g = ckptviz.open(str(DATA / "tfkeras_new_adam/weights")).graph
    assert list(kinds(g).values()) == ["optimizer"] and {s.slot_name for s in g.slots} == {"m", "v"}


@pytest.mark.parametrize("name", ["model.weights.h5", "model.keras"])
def test_keras_file_optimizer_scope_is_an_optimizer(name: str) -> None:
    g = ckptviz.open(str(DATA / "keras3_files" / name)).graph
    marked = keras_file_optimizers(g.nodes, g.edges)
    assert [g[i].path for i in marked] == ["optimizer"]
    assert g.find("optimizer").kind == "optimizer"
    assert g.find("layers/dense").kind == "other"  # its vars/0 is a float kernel, not a counter
    assert 'class="optimizer" label="optimizer"' in g.to_dot()


def test_keras_file_optimizer_with_more_than_ten_variables() -> None:
    keys = {
        f"optimizer/vars/{i}": ("int64" if i == 0 else "float32", () if i < 2 else (4,)) for i in range(14)
    }
    keys.update({f"layers/dense/vars/{i}": ("float32", (4,)) for i in range(12)})
    keys["layers/counter/vars/0"] = ("int64", ())  # an int scalar alone is not an optimizer
    g = ObjectGraph.from_keys(keys)
    assert [g[i].path for i in keras_file_optimizers(g.nodes, g.edges)] == ["optimizer"]


@pytest.mark.parametrize("name", ["model.weights.h5", "model.keras"])
def test_keras_file_optimizer_state_is_drawn_and_named_as_slots(name: str) -> None:
    """Adam's ``optimizer/vars/2…`` are a momentum and a velocity per trainable variable, in
    training order: linked by shape, drawn as slots, named ``momentum of layers/dense/vars/0``."""
    g = ckptviz.open(str(DATA / "keras3_files" / name)).graph
    assert len(g.slots) == 8 and all(s.inferred for s in g.slots)
    links = {(g[s.slot_id].path, s.slot_name, g[s.variable_id].path) for s in g.slots}
    assert ("optimizer/vars/2", "momentum", "layers/dense/vars/0") in links
    assert ("optimizer/vars/9", "velocity", "layers/dense_1/vars/1") in links
    assert g.find("optimizer/vars/3").kind == "slot" and g.find("optimizer/vars/1").kind == "variable"
    assert g.display_name(g.find("optimizer/vars/7").id) == "velocity of layers/dense_1/vars/0"
    assert 'class="slot"' in g.to_dot() and "style=dotted" in g.to_dot()


def test_keras_file_state_that_does_not_line_up_links_nothing() -> None:
    keys = {"optimizer/vars/0": ("int64", ()), "optimizer/vars/1": ("float32", ())}
    keys.update({f"optimizer/vars/{i}": ("float32", (7,)) for i in (2, 3)})  # no [7] variable anywhere
    keys.update({"layers/dense/vars/0": ("float32", (4, 3)), "layers/dense/vars/1": ("float32", (3,))})
    g = ObjectGraph.from_keys(keys)
    assert g.find("optimizer").kind == "optimizer" and not g.slots
    assert g.find("optimizer/vars/2").kind == "variable"
