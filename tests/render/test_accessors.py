"""The pictures and tables the render layer attaches to the model layer's objects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import ckptviz


def test_a_diff_shows_in_a_notebook_as_its_summary_then_the_most_changed_keys(tmp_path: Path) -> None:
    a = {f"w<{i:02d}>": np.full(3, 1.0, np.float32) for i in range(45)}
    b = {**a, "w<07>": np.full(3, 3.0, np.float32), "w<30>": np.full(3, 1.5, np.float32)}
    ckptviz.write_checkpoint(tmp_path / "a", a)
    ckptviz.write_checkpoint(tmp_path / "b", b)
    page = ckptviz.diff(tmp_path / "a", tmp_path / "b")._repr_html_()
    assert page.startswith("<div><pre>") and "45 keys: 2 changed" in page
    table = page[page.index("<table>") :]  # most changed first
    assert table.index("w&lt;07&gt;") < table.index("w&lt;30&gt;") < table.index("w&lt;00&gt;")
    assert "… 5 more" in page
