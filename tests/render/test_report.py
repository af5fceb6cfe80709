"""Self-contained HTML reports: everything inline, nothing fetched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ckptviz.model.diff import diff
from ckptviz.model.timeline import timeline
from ckptviz.render import report
from ckptviz.render.layout import find_engine
from tests.conftest import DATA

RUN = DATA / "training_run"


def fetches(page: str) -> list[str]:
    """URLs a browser would load: src/href attributes and CSS url() (XML namespaces are not loads)."""
    return re.findall(r"""(?:src|href)=["'](?!#|data:)([^"']+)""", page) + re.findall(r"url\((?!#)", page)


def test_diff_report_is_self_contained(tmp_path: Path) -> None:
    result = diff(RUN / "ckpt-2", RUN / "ckpt-12")
    page = report.diff_report(result, tmp_path / "d.html")
    assert (tmp_path / "d.html").read_text() == page
    assert fetches(page) == []
    assert "<table class='sortable'>" in page and "addEventListener('click'" in page
    assert page.count("<tr class='changed'>") >= result.counts["changed"]
    assert "model/frozen" in page and "frozen" in page
    if find_engine() is not None:
        assert 'class="node variable diff&#45;changed"' in page and "diff&#45;unchanged" in page
    else:  # pragma: no cover - depends on the machine
        assert "no Graphviz engine" in page
    assert page.count("<svg") >= 1  # the bar chart at least


def test_timeline_report_has_the_pictures_and_the_table(tmp_path: Path) -> None:
    t = timeline(RUN)
    page = report.timeline_report(t, tmp_path / "t.html", histograms=2)
    assert fetches(page) == []
    assert page.count("<svg") == 4  # heatmap, lines, two histograms
    assert "6 checkpoints, steps 2…12" in page
    assert page.count("<tr>") == 1 + len(t.variables) * 6  # header + every variable at every step


def test_table_rows_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "MAX_ROWS", 2)
    html = report.table(["a", "b"], [["x", 1.5], ["y", None], ["z", 3]])
    assert html.count("<tr>") == 1 + 2 and "1 more rows not shown" in html
    assert "data-v='1.5'" in html
