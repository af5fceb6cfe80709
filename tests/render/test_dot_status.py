"""A will-it-load check (ckptviz.check) painted on the graph."""

from __future__ import annotations

import numpy as np
import pytest

import ckptviz
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam")


def test_check_report_colours_the_nodes() -> None:
    live = {"net": {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(4, np.float32)}}}
    report = ckptviz.check(GUIDE, live)
    dot = ckptviz.open(GUIDE).graph.to_dot(status=report.by_node)
    lines = {line.split()[0]: line for line in dot.splitlines() if line.startswith("  n") and "[id=" in line}
    graph = ckptviz.open(GUIDE).graph
    kernel, bias = graph.find("net/l1/kernel").id, graph.find("net/l1/bias").id
    assert 'class="variable matched"' in lines[f"n{kernel}"]
    assert (
        'class="variable mismatched"' in lines[f"n{bias}"] and "will it load: mismatched" in lines[f"n{bias}"]
    )
    assert 'class="variable missing"' in lines[f"n{graph.find('step').id}"]
    assert 'class="other"' in lines["n0"]  # objects the check says nothing about keep their kind's look
    assert "legend_mismatched" in dot


def test_name_based_status_by_key() -> None:
    graph = ckptviz.open(str(DATA / "tf1_saver")).graph
    dot = graph.to_dot(status={graph.find("dense/kernel").id: "matched"})
    assert 'class="variable matched"' in dot


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown status 'fine'"):
        ckptviz.open(GUIDE).graph.to_dot(status={0: "fine"})
