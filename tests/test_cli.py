from __future__ import annotations

import json

import pytest

from ckptviz.cli import main
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam")


def test_ls_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", GUIDE]) == 0
    out = capsys.readouterr().out
    assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in out and "float32" in out and "[1,5]" in out
    assert "15 of 15 tensors" in out


def test_ls_json_filter_and_sort(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", GUIDE, "--json", "--filter", "OPTIMIZER_SLOT", "--sort", "size"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and {r["dtype"] for r in rows} == {"float32"}
    assert rows[0]["nbytes"] >= rows[-1]["nbytes"]


def test_show_values_and_stats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(DATA / "dtypes/all"), "bfloat16"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("bfloat16: bfloat16 [2,3] 12 B") and "min -2.25, max 7" in out


def test_errors_are_one_line_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", GUIDE, "nope"]) == 1
    assert capsys.readouterr().err.startswith("ckptviz: key 'nope' not found in checkpoint")
