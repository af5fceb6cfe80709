"""Renaming object-based checkpoints keeps the whole graph; clashes and no-ops are loud."""

from __future__ import annotations

from pathlib import Path

import pytest

import ckptviz
from tests.conftest import DATA

KERAS3 = str(DATA / "guide_keras3")
TFKERAS = str(DATA / "tfkeras_new_adam")


def _slots(graph: ckptviz.ObjectGraph) -> set[tuple[int, int, str, int, bool]]:
    return {tuple(s) for s in graph.slots}  # type: ignore[misc]


def test_rename_keeps_non_value_nodes_and_inferred_slots(tmp_path: Path) -> None:
    src = ckptviz.open(KERAS3)
    renamed = src.rename({"net/": "model/"})
    saved = ckptviz.open(renamed.save(tmp_path / "r"))
    assert len(saved.graph) == len(src.graph)  # _momentums, _velocities, list wrappers: all kept
    assert _slots(saved.graph) == _slots(src.graph)  # same node ids, same inferred links
    assert saved.graph.find("model/l1/_kernel").kind == "variable"
    assert {n.path for n in saved.graph if n.path.startswith("optimizer")} == {
        n.path for n in src.graph if n.path.startswith("optimizer")
    }


def test_rename_keeps_alias_edges(tmp_path: Path) -> None:
    src = ckptviz.open(TFKERAS)
    aliases = [e for e in src.graph.edges if e.local_name.startswith("layer-")]
    assert aliases
    out = ckptviz.open(src.rename({"layer_with_weights-0/": "dense/"}).save(tmp_path / "r"))
    assert {(e.parent, e.local_name, e.child) for e in aliases} <= {tuple(e) for e in out.graph.edges}
    assert "dense/kernel/.ATTRIBUTES/VARIABLE_VALUE" in out
    assert (
        out.read("dense/kernel/.ATTRIBUTES/VARIABLE_VALUE").tolist()
        == src.read("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE").tolist()
    )


def test_longest_scope_wins_and_exact_beats_scope() -> None:
    ckpt = ckptviz.open(str(DATA / "guide_legacy_adam"))
    out = ckpt.rename({"net/": "a/", "net/l1/": "b/", "net/l1/bias": "c"})
    assert "b/kernel/.ATTRIBUTES/VARIABLE_VALUE" in out
    assert "c/.ATTRIBUTES/VARIABLE_VALUE" in out
    assert not any(k.startswith("a/l1") for k in out)


def test_clashes_and_no_ops_raise() -> None:
    ckpt = ckptviz.open(str(DATA / "guide_legacy_adam"))
    with pytest.raises(ckptviz.NameConflictError, match="moves both"):
        ckpt.rename({"net/l1/kernel": "step"})
    with pytest.raises(ckptviz.NothingMatchedError, match=r"match nothing: .nope/. in this checkpoint"):
        ckpt.rename({"nope/": "x/"})
    with pytest.raises(ckptviz.NothingMatchedError):
        ckptviz.open(str(DATA / "tf1_saver/model.ckpt-2")).rename({"nope": "x"})


def test_select_by_any_alias_keeps_the_object_whole() -> None:
    ckpt = ckptviz.open(TFKERAS)
    by_alias = ckpt.select(["layer-0"])  # the same Dense as layer_with_weights-0
    by_path = ckpt.select(["layer_with_weights-0"])
    assert set(by_alias.keys()) == set(by_path.keys())
    assert "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE" in by_alias
    full_name = ckpt.graph.find("layer_with_weights-0/kernel").full_name
    assert "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE" in ckpt.select([full_name])
