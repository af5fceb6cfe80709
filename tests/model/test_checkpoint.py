from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ckptviz
from tests.conftest import DATA

GUIDE = DATA / "guide_legacy_adam"


@pytest.mark.parametrize(
    "form",
    ["ckpt-4", "ckpt-4.index", "ckpt-4.data-00000-of-00001", "", "/"],
    ids=["prefix", "index", "data", "directory", "directory/"],
)
def test_path_forms_resolve_to_the_prefix(form: str) -> None:
    path = str(GUIDE) + ("/" + form if form not in ("", "/") else form)
    assert ckptviz.open(path).path == str(GUIDE / "ckpt-4")


def test_savedmodel_directory() -> None:
    ckpt = ckptviz.open(str(DATA / "savedmodel"))
    assert ckpt.path.endswith("savedmodel/variables/variables") and ckpt.is_object_based


def test_directory_with_prefixes_and_no_state_file(tmp_path: Path) -> None:
    for f in GUIDE.glob("ckpt-[34].*"):
        shutil.copy(f, tmp_path)
    with pytest.raises(ckptviz.CheckpointNotFoundError, match=r"several checkpoints .* 'ckpt-3', 'ckpt-4'"):
        ckptviz.open(str(tmp_path))
    (tmp_path / "ckpt-3.index").unlink()
    assert ckptviz.open(str(tmp_path)).path.endswith("ckpt-4")


def test_moved_directory_with_absolute_paths_in_state_file(tmp_path: Path) -> None:
    for f in GUIDE.glob("ckpt-4.*"):
        shutil.copy(f, tmp_path)
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "/elsewhere/run/ckpt-4"\n')
    assert ckptviz.open(str(tmp_path)).path == str(tmp_path / "ckpt-4")


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ckptviz.CheckpointNotFoundError, match="no checkpoint in directory"):
        ckptviz.open(str(tmp_path))


def test_entries_and_views_read_no_tensor_data(monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = ckptviz.open(str(GUIDE))
    monkeypatch.setattr(ckpt.reader, "read", lambda key: pytest.fail(f"read {key}"))
    entry = ckpt.entries["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert (entry.dtype.name, entry.shape, entry.nbytes, entry.shard) == ("float32", (1, 5), 20, 0)
    assert repr(ckpt) == f"<ckptviz.Checkpoint '{GUIDE}/ckpt-4': 15 tensors, 2.6 KiB, object-based>"
    assert "net/l1/kernel" in ckpt._repr_html_()
    frame = ckpt.to_pandas()
    assert list(frame.columns) == ["key", "dtype", "shape", "nbytes", "shard"] and len(frame) == 15


def test_html_repr_is_bounded() -> None:
    html = ckptviz.open(str(DATA / "many_keys")).__class__._repr_html_(ckptviz.open(str(DATA / "many_keys")))
    assert html.count("<tr>") <= 42 and "more (use .to_pandas())" in html


def test_unknown_key_suggests_close_matches() -> None:
    with pytest.raises(
        ckptviz.KeyNotFoundError, match=r"did you mean 'net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE'"
    ):
        ckptviz.open(str(GUIDE)).read("net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUES")


def test_state_of_the_directory() -> None:
    state = ckptviz.open(str(GUIDE)).state
    assert state is not None and [Path(p).name for p in state.all_model_checkpoint_paths] == [
        "ckpt-2",
        "ckpt-3",
        "ckpt-4",
    ]


def test_object_graph_proto() -> None:
    proto = ckptviz.open(str(GUIDE)).object_graph_proto
    assert proto is not None and proto.nodes[0].children
    assert ckptviz.open(str(DATA / "tf1_saver")).object_graph_proto is None


def test_reprs_of_a_checkpoint_with_a_bad_entry_do_not_raise() -> None:
    ckpt = ckptviz.open(str(DATA / "corrupt/bad_entry_proto/ckpt-1"))  # entries decode on first use
    assert "unreadable" in repr(ckpt) and "is not a BundleEntryProto" in repr(ckpt)
    assert "unreadable" in ckpt._repr_html_()
    with pytest.raises(ckptviz.CorruptCheckpointError):
        list(ckpt.entries.values())


def test_a_page_of_entry_records_is_that_slice_of_all_of_them_and_builds_no_node_objects() -> None:
    ckpt = ckptviz.open(str(GUIDE / "ckpt-4"))
    everything = ckpt.entry_records()
    assert ckpt.entry_records(3, 9) == everything[3:9] and ckpt.entry_records(len(everything)) == []
    made = ckpt.graph.nodes._made  # type: ignore[attr-defined]
    assert not any(made)  # names, paths and kinds came from the graph's columns
    kernel = ckpt.graph.find("net/l1/kernel")
    assert kernel.kind == "variable" and [n for n in made if n is not None] == [kernel]
