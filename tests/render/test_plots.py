"""matplotlib pictures of runs and diffs: written as SVG/PNG, loaded only when drawn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ckptviz.model.diff import diff
from ckptviz.model.timeline import timeline
from ckptviz.render import plots
from tests.conftest import DATA

RUN = DATA / "training_run"
KERNEL = "model/hidden/_kernel/.ATTRIBUTES/VARIABLE_VALUE"


def test_matplotlib_is_not_imported_by_the_package_or_its_engines() -> None:
    code = (
        "import ckptviz, sys; t = ckptviz.timeline('tests/data/training_run'); "
        "d = ckptviz.diff('tests/data/training_run/ckpt-2', 'tests/data/training_run/ckpt-4'); d.to_dict(); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_timeline_pictures(tmp_path: Path) -> None:
    t = timeline(RUN)
    fig = plots.timeline_heatmap(t, tmp_path / "h.svg")
    assert (tmp_path / "h.svg").read_text().lstrip().startswith("<?xml")
    ax = fig.axes[0]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["2", "4", "6", "8", "10", "12"]
    assert "model/frozen/kernel" in [tick.get_text() for tick in ax.get_yticklabels()]  # names, not keys
    plots.timeline_lines(t, tmp_path / "l.png")
    assert (tmp_path / "l.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plots.timeline_histograms(t, KERNEL, tmp_path / "o.png")
    assert [tick.get_text() for tick in fig.axes[0].get_yticklabels()] == ["2", "4", "6", "8", "10", "12"]
    with pytest.raises(ValueError, match=r"use \.svg, \.png or \.pdf"):
        plots.timeline_heatmap(t, tmp_path / "h.gif")


def test_diff_bars_show_the_biggest_changes_first(tmp_path: Path) -> None:
    result = diff(RUN / "ckpt-2", RUN / "ckpt-12")
    fig = plots.diff_bars(result, tmp_path / "b.svg", top=3)
    widths = sorted((bar.get_width() for bar in fig.axes[0].patches), reverse=True)
    changes = sorted(
        (r.delta.relative_change for r in result.rows if r.delta and r.delta.relative_change), reverse=True
    )
    assert widths == pytest.approx(changes[:3])
    assert len(fig.axes[0].get_yticklabels()) == 3
    assert "svg" in plots.svg_text(fig)[:10]
