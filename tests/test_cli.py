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
    assert main(["show", GUIDE, "nope"]) == 2
    assert capsys.readouterr().err.startswith("ckptviz: key, object path or name 'nope' not found in checkpoint")


def test_select_convert_rename_copy(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import ckptviz

    assert main(["select", GUIDE, str(tmp_path / "bias"), "net/l1/bias"]) == 0
    assert sorted(ckptviz.open(str(tmp_path / "bias")).entries) == [
        "_CHECKPOINTABLE_OBJECT_GRAPH",
        "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE",
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
    ]
    tf1 = str(DATA / "tf1_saver")
    assert main(["convert", tf1, str(tmp_path / "tf2"), "--to", "tf2"]) == 0
    assert "vars/scoped.Sc/.ATTRIBUTES/VARIABLE_VALUE" in ckptviz.open(str(tmp_path / "tf2"))
    assert main(["rename", tf1, str(tmp_path / "ren"), "dense/=encoder/"]) == 0
    assert "encoder/kernel" in ckptviz.open(str(tmp_path / "ren"))
    assert main(["copy", GUIDE, str(tmp_path / "bias")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["copy", GUIDE, str(tmp_path / "bias"), "--overwrite"]) == 0
    assert len(ckptviz.open(str(tmp_path / "bias"))) == 15
