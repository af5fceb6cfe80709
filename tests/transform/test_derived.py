"""Derived checkpoints: select, rename and convert, without TensorFlow."""

from __future__ import annotations

from pathlib import Path

import pytest

import ckptviz
from ckptviz import NameConflictError
from ckptviz.model.paths import escape_local_name, unescape_local_name
from ckptviz.transform.convert import convert
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam" / "ckpt-4")
TF1 = str(DATA / "tf1_saver" / "model.ckpt-2")
BIAS = "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"


def graph_rows(proto) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        (
            [(r.node_id, r.local_name) for r in n.children],
            [a.checkpoint_key for a in n.attributes],
            [(s.original_variable_node_id, s.slot_name, s.slot_variable_node_id) for s in n.slot_variables],
        )
        for n in proto.nodes
    ]


def test_select_one_variable_prunes_the_graph_to_its_path() -> None:
    view = ckptviz.open(GUIDE).select("net/l1/bias")
    assert sorted(view.keys()) == [BIAS, "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    assert graph_rows(view.object_graph_proto) == [
        ([(1, "net"), (2, "save_counter")], [], []),
        ([(3, "l1")], [], []),
        ([], ["save_counter/.ATTRIBUTES/VARIABLE_VALUE"], []),
        ([(4, "bias")], [], []),
        ([], [BIAS], []),
    ]
    assert all(n.has_checkpoint_values.value for n in view.object_graph_proto.nodes)


def test_slots_are_kept_only_with_their_optimizer() -> None:
    ckpt = ckptviz.open(GUIDE)
    assert not any(".OPTIMIZER_SLOT" in k for k in ckpt.select("net"))
    both = ckpt.select(["net", "optimizer"])
    assert sum(".OPTIMIZER_SLOT" in k for k in both) == 4
    optimizer = next(n for n in both.object_graph_proto.nodes if n.slot_variables)
    assert len(optimizer.slot_variables) == 4 and "iterator/.ATTRIBUTES/ITERATOR_STATE" not in both


def test_select_by_glob_node_id_and_predicate() -> None:
    ckpt = ckptviz.open(GUIDE)
    assert BIAS in ckpt.select("*/bias/.ATTRIBUTES/*")
    assert BIAS in ckpt.select(13)  # node 13 is net/l1/bias
    assert sorted(ckpt.select(lambda k: k.startswith("step/")).keys()) == [
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
        "step/.ATTRIBUTES/VARIABLE_VALUE",
    ]
    with pytest.raises(ckptviz.KeyNotFoundError, match="did you mean 'net/l1/bias'"):
        ckpt.select("net/l1/bais")


def test_saved_selection_reads_back_with_the_source_untouched(tmp_path: Path) -> None:
    before = Path(GUIDE + ".index").read_bytes()
    prefix = ckptviz.open(GUIDE).select("net/l1").save(tmp_path / "part")
    saved = ckptviz.open(prefix)
    assert saved.is_object_based and sorted(saved.to_numpy()) == [
        "net/l1/bias",
        "net/l1/kernel",
        "save_counter",
    ]
    assert saved.read(BIAS).tolist() == ckptviz.open(GUIDE).read(BIAS).tolist()
    assert Path(GUIDE + ".index").read_bytes() == before
    with pytest.raises(ValueError, match="is the checkpoint being read"):
        saved.save(prefix, overwrite=True)


def test_assignment_maps_follow_init_from_checkpoint() -> None:
    tf1 = ckptviz.open(TF1)
    assert "new/kernel" in tf1.rename({"dense/": "new/"})
    assert "top/a" in tf1.rename({"/": "top/"})
    assert "kernel" in tf1.rename({"dense/": "/"})
    assert "alpha" in tf1.rename({"a": "alpha"})
    with pytest.raises(ValueError, match="mixes a scope and a name"):
        tf1.rename({"dense/": "new"})
    with pytest.raises(ValueError, match="renames both"):
        tf1.rename({"a": "b"})


def test_object_based_rename_rebuilds_the_graph(tmp_path: Path) -> None:
    view = ckptviz.open(GUIDE).select(["net", "optimizer"]).rename({"net/l1/": "model/dense/"})
    assert "model/dense/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE" in view
    saved = ckptviz.open(view.save(tmp_path / "r"))
    paths = {a.checkpoint_key for n in saved.object_graph_proto.nodes for a in n.attributes}
    assert paths == set(saved.keys()) - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    root = saved.object_graph_proto.nodes[0]
    # the whole graph is kept: `net` stays, an empty holder TF's restore skips
    assert sorted(r.local_name for r in root.children) == ["model", "net", "optimizer", "save_counter"]
    assert not saved.graph.find("net").has_checkpoint_values


def test_local_name_escaping() -> None:
    assert escape_local_name("a.b/c") == "a..b.Sc"
    assert unescape_local_name("a..b.Sc") == "a.b/c"


def test_tf1_to_tf2_layout(tmp_path: Path) -> None:
    prefix = convert(TF1, tmp_path / "tf2", select=["a", "b", "scoped/c"])
    out = ckptviz.open(prefix)
    assert sorted(out.keys()) == [
        "_CHECKPOINTABLE_OBJECT_GRAPH",
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
        "vars/a/.ATTRIBUTES/VARIABLE_VALUE",
        "vars/b/.ATTRIBUTES/VARIABLE_VALUE",
        "vars/scoped.Sc/.ATTRIBUTES/VARIABLE_VALUE",
    ]
    holder = out.object_graph_proto.nodes[1]
    assert [r.local_name for r in holder.children] == ["a", "b", "scoped/c"]
    assert (
        out.read("vars/scoped.Sc/.ATTRIBUTES/VARIABLE_VALUE").tolist()
        == ckptviz.open(TF1).read("scoped/c").tolist()
    )


def test_tf2_to_tf1_uses_full_names_and_reports_clashes(tmp_path: Path) -> None:
    with pytest.warns(ckptviz.DroppedKeysWarning, match="iterator/.ATTRIBUTES/ITERATOR_STATE"):
        prefix = convert(GUIDE, tmp_path / "tf1", to="tf1")
    keys = ckptviz.list_variables(prefix)
    assert ("net/dense/kernel", [1, 5]) in keys and ("Adam/net/dense/bias/m", [5]) in keys
    assert not ckptviz.open(prefix).is_object_based
    with pytest.raises(NameConflictError, match="naming='path'") as err:
        convert(GUIDE, tmp_path / "clash", to="tf1", naming=lambda path, full: "same")
    assert "same" in err.value.problems
    with pytest.warns(ckptviz.DroppedKeysWarning):
        paths = ckptviz.list_variables(convert(GUIDE, tmp_path / "paths", to="tf1", naming="path"))
    assert ("net/l1/bias", [5]) in paths


def test_round_trip_tf1_tf2_tf1_keeps_every_value(tmp_path: Path) -> None:
    tf2 = convert(TF1, tmp_path / "tf2")
    back = ckptviz.open(convert(tf2, tmp_path / "back", to="tf1", select="vars"))
    src = ckptviz.open(TF1)
    assert set(back.keys()) == set(src.keys()) | {"save_counter"}  # conversion to TF2 added it
    for key in src:
        assert back.read(key).tobytes() == src.read(key).tobytes()


def test_sliced_variables_convert_with_their_slices(tmp_path: Path) -> None:
    src = ckptviz.open(str(DATA / "sliced_tf1" / "model.ckpt"))
    out = ckptviz.open(convert(src, tmp_path / "s"))
    entry = out.entries["vars/emb/.ATTRIBUTES/VARIABLE_VALUE"]
    assert len(entry.slices) == 3
    assert out.read("vars/emb/.ATTRIBUTES/VARIABLE_VALUE").tolist() == src.read("emb").tolist()


def test_to_numpy_uses_object_paths() -> None:
    arrays = ckptviz.open(GUIDE).to_numpy(select="net")
    assert sorted(arrays) == ["net/l1/bias", "net/l1/kernel", "save_counter"]
