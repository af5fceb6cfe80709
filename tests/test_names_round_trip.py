"""Every name a face prints is accepted back by every face: ``ls`` → ``show``, a graph label →
``--focus``, a diff row → ``show``, a tree line → ``%ckpt show``, a check row → ``select``, on
Keras 3 checkpoints whose weights are keyed under ``optimizer/_trainable_variables/N``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import ckptviz
from ckptviz.cli import main
from ckptviz.render import DrawOptions
from ckptviz.render.plan import select_view
from ckptviz.render.text import text_tree
from tests.conftest import DATA

KERAS3 = [str(DATA / "keras3_models" / k / "ckpt") for k in ("functional", "sequential", "subclassed")]
GUIDE = str(DATA / "guide_keras3" / "ckpt-1")
CASES = [
    *KERAS3,
    GUIDE,
    str(DATA / "tfkeras_functional" / "ckpt"),
    str(DATA / "guide_legacy_adam" / "ckpt-4"),
]


def shown_value(capsys: pytest.CaptureFixture[str], path: str, name: str) -> str:
    assert main(["show", path, name]) == 0, name
    return capsys.readouterr().out.splitlines()[0].split(":")[0]  # the key it resolved to


@pytest.mark.parametrize("path", CASES)
def test_ls_names_and_tree_lines_are_accepted_by_show(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", path, "--json"]) == 0
    records = [r for r in json.loads(capsys.readouterr().out) if r["node_id"] is not None]
    assert records
    for r in records:
        assert shown_value(capsys, path, r["name"]) == r["key"]
        assert shown_value(capsys, path, r["path"]) == r["key"]  # the display path
    graph = ckptviz.open(path).graph
    for line in text_tree(graph).splitlines()[1:]:
        label = re.split(r"  +", line.strip())[0]
        if graph.lookup(label) is None and " of " not in label:
            continue  # a bare local name ("kernel") is a label, not a path: its path is shown elsewhere
        assert graph.resolve(label) is not None, label


@pytest.mark.parametrize("path", KERAS3)
def test_graph_labels_are_accepted_by_focus(path: str, tmp_path: Path) -> None:
    graph = ckptviz.open(path).graph
    plan = select_view(graph, DrawOptions(max_nodes=None))
    record = plan.to_dict()
    layers = [n for n in record["nodes"] if n["kind"] == "other" and graph.common_scope(n["id"])]
    assert layers
    for n in layers:  # the layer name drawn on its box, its display path, its display name
        for name in {n["label"].split("\n")[0], n["path"], n["display_name"]}:
            if (
                name.count("/") == 0
                and [graph.common_scope(i).rsplit("/", 1)[-1] for i in range(len(graph))].count(name) > 1
            ):
                continue  # two layers with one name (Keras 3 subclassed: net/kernel twice) are ambiguous
            assert main(["graph", path, "--focus", name, "-o", str(tmp_path / "g.dot")]) == 0, name


@pytest.mark.parametrize("path", KERAS3)
def test_diff_rows_and_check_rows_are_accepted_back(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = ckptviz.diff(path, path)
    ckpt = ckptviz.open(path)
    for row in result.rows:
        assert shown_value(capsys, path, row.name) == row.key
    named = [r.name for r in result.rows if r.name != r.key]
    assert any(n.startswith(("momentum of ", "velocity of ")) for n in named)
    assert all("_trainable_variables" not in n for n in named)
    for r in ckpt.entry_records():
        if r.node_id is not None:
            kept = ckpt.select([r.path])
            assert len(kept) >= 1, r.path
