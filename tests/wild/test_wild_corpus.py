"""Every file of the wild corpus reads as TensorFlow 2.21 read it (``manifest.json``): keys,
dtypes, shapes, value hashes, object graphs, optimizer kinds, state files, Keras files, and the
keys TF lists but cannot read (an index-only copy) or does not read at all (Git LFS pointers)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.errors import CheckpointWarning, LfsPointerError, MissingDataError
from tests.wild.conftest import PRESENT, WILD, records, value_hash

pytestmark = pytest.mark.skipif(not PRESENT, reason="the wild corpus (../shared/corpora/wild) is not here")

COMPLETE = records("checkpoints")
INCOMPLETE = records("incomplete_checkpoints")
UNREADABLE = records("unreadable")
KERAS = records("keras_files")
STATES = records("checkpoint_states")


def _id(record: dict[str, Any]) -> str:
    return str(record.get("prefix") or record["path"])


def _quiet_open(path: str) -> ckptviz.CheckpointReader:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckpointWarning)
        return ckptviz.load_checkpoint(path)


@pytest.mark.parametrize("record", COMPLETE + INCOMPLETE, ids=_id)
def test_keys_dtypes_shapes_and_values_as_tensorflow_read_them(record: dict[str, Any]) -> None:
    reader = _quiet_open(str(WILD / record["prefix"]))
    keys = record["keys"]
    assert reader.get_variable_to_shape_map() == {k["key"]: k["shape"] for k in keys}
    assert {k: d.name for k, d in reader.get_variable_to_dtype_map().items()} == {
        k["key"]: k["dtype"] for k in keys
    }
    assert ckptviz.list_variables(str(WILD / record["prefix"])) == sorted(
        (k["key"], k["shape"]) for k in keys
    )
    if "debug_string_entries" in record:
        assert reader.debug_string().count(b"\n") == record["debug_string_entries"]
    for k in keys:
        error = k.get("get_tensor_error", "")
        if "No such file" in error:  # the data file was not copied: TF lists the key, cannot read it
            with pytest.raises(MissingDataError, match=r"data file .* is missing") as raised:
                reader.get_tensor(k["key"])
            assert raised.value.path.endswith(error.rsplit(";", 1)[0].rsplit("/", 1)[-1])
            continue
        value = reader.get_tensor(k["key"])
        if error:  # a variant TF cannot turn into numpy; ckptviz returns it, shaped as stored
            assert np.shape(value) == tuple(k["shape"])
            continue
        assert value_hash(value, k["dtype"]) == k["sha256"], k["key"]


@pytest.mark.parametrize(
    "record", [r for r in COMPLETE + INCOMPLETE if isinstance(r["object_graph"], dict)], ids=_id
)
def test_object_graph_and_optimizers_as_tensorflow_records_them(record: dict[str, Any]) -> None:
    want = record["object_graph"]
    with ckptviz.open(str(WILD / record["prefix"])) as ckpt:
        proto = ckpt.object_graph_proto
        graph = ckpt.graph
    assert len(graph.nodes) == want["num_nodes"]
    edges = sorted((i, c.local_name, c.node_id) for i, n in enumerate(proto.nodes) for c in n.children)
    assert edges == sorted((e[2], e[1], e[3]) for e in want["edges"])
    slots = sorted(
        (i, s.original_variable_node_id, s.slot_name, s.slot_variable_node_id)
        for i, n in enumerate(proto.nodes)
        for s in n.slot_variables
    )
    assert slots == sorted((s[3], s[4], s[1], s[5]) for s in want["slot_variables"])
    for node in want["nodes"]:
        keys = sorted(a[2] for a in node["attributes"])
        assert sorted(a.checkpoint_key for a in graph.nodes[node["id"]].attributes) == keys
    # Optimizers: every node that records slot variables, every object held as `optimizer` (even
    # one saved before its first step, which has no children yet), and the guides' `*_optimizer`.
    ids = want["optimizer_node_ids"]
    expected = set(ids["by_slot_variables"]) | set(ids["by_declared_path"].values())
    expected |= {n["id"] for n in want["nodes"] if n["path"].rsplit("/", 1)[-1].endswith("_optimizer")}
    expected |= {n["id"] for n in want["nodes"] if n["path"].endswith("/optimizer") and n["num_children"]}
    assert {n.id for n in graph.of_kind("optimizer")} == expected


@pytest.mark.parametrize("record", INCOMPLETE, ids=_id)
def test_index_only_checkpoints_list_loudly(record: dict[str, Any]) -> None:
    """TF lists an index-only copy; so does ckptviz, warning that values (and with them the
    object graph of an object-based checkpoint) are unavailable."""
    with ckptviz.open(str(WILD / record["prefix"])) as ckpt:
        assert len(ckpt.entries) == record["num_keys"]
        if record["object_graph"] is None and ckpt.is_object_based:
            with pytest.warns(CheckpointWarning, match="values are unavailable"):
                graph = ckpt.graph
            assert graph.nodes and not graph.object_based


@pytest.mark.parametrize("record", UNREADABLE, ids=_id)
def test_git_lfs_pointers_say_how_to_fetch(record: dict[str, Any]) -> None:
    assert "bad magic" in record["tf_error"]  # what TF says; ckptviz says what the file is
    for path in [str(WILD / record["prefix"])] + [str(WILD / f["path"]) for f in record["files"]]:
        with pytest.raises(LfsPointerError, match=r"Git LFS pointer.*git lfs pull"):
            ckptviz.open(path)


@pytest.mark.parametrize("record", KERAS, ids=_id)
def test_keras_files(record: dict[str, Any]) -> None:
    datasets = record.get("h5") or next(iter(record.get("h5_members", {}).values()), [])
    want = {d["name"]: d for d in datasets if d["type"] == "dataset"}
    assert len(want) == record["num_datasets"]
    reader = ckptviz.load_checkpoint(str(WILD / record["path"]))
    assert reader.get_variable_to_shape_map() == {k: d["shape"] for k, d in want.items()}
    for key, d in want.items():
        assert value_hash(reader.get_tensor(key), "") == d["sha256"], key


@pytest.mark.parametrize("record", STATES, ids=_id)
def test_state_files(record: dict[str, Any]) -> None:
    directory = (WILD / record["path"]).parent
    state = ckptviz.get_checkpoint_state(directory)
    assert state is not None
    assert state.model_checkpoint_path == str(WILD / record["model_checkpoint_path"])
    assert state.all_model_checkpoint_paths == [str(WILD / p) for p in record["all_model_checkpoint_paths"]]
    assert len(state.all_model_checkpoint_timestamps) == record["num_timestamps"]
    latest = record["tf.train.latest_checkpoint"]
    assert ckptviz.latest_checkpoint(directory) == (str(WILD / latest) if latest else None)
