from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

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
    assert capsys.readouterr().err.startswith(
        "ckptviz: key, object path or name 'nope' not found in checkpoint"
    )


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


RUN = DATA / "training_run"


def test_diff_exit_status_like_diff(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(RUN / "ckpt-2"), str(RUN / "ckpt-2")]) == 0
    out = capsys.readouterr().out
    assert "18 keys: 0 changed, 0 added, 0 removed, 18 unchanged" in out
    assert main(["diff", str(RUN / "ckpt-2"), str(RUN / "ckpt-12"), "--only", "changed"]) == 1
    out = capsys.readouterr().out
    table = out.split("\n\n")[0].splitlines()
    assert table[0].startswith("name") and "frozen" not in table[1]  # most changed first, unchanged hidden
    assert "model/frozen " in out and "frozen" in out.split("subtree")[1]


def test_diff_json_map_and_errors(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import ckptviz

    src = str(DATA / "guide_legacy_adam/ckpt-4")
    renamed = ckptviz.open(src).rename({"net/": "model/"}).save(str(tmp_path / "r"))
    assert main(["diff", src, renamed, "--map", "net/=model/", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["equal"] and record["counts"]["unchanged"] == 14
    assert main(["diff", src, renamed, "--map", "nett/=model/"]) == 2
    assert capsys.readouterr().err.startswith(
        "ckptviz: assignment map entries that match nothing: 'nett/' in a"
    )
    assert main(["diff", src, str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ckptviz: ") and "Traceback" not in err
    assert main(["diff", src, src, "--map", "oops"]) == 2
    assert "--map takes OLD=NEW" in capsys.readouterr().err
    assert main(["diff", src, src, "-o", str(tmp_path / "x.gif")]) == 2


def test_diff_writes_a_report(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "d.html"
    assert main(["diff", str(RUN / "ckpt-2"), str(RUN / "ckpt-4"), "-o", str(out)]) == 1
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert f"wrote {out}" in capsys.readouterr().err


def test_timeline_table_json_and_picture(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["timeline", str(RUN), "--variables", "model/head/"]) == 0
    out = capsys.readouterr().out
    assert "model/head/bias/.ATTRIBUTES/VARIABLE_VALUE" in out
    assert out.splitlines()[-1].startswith("6 checkpoints (steps 2…12), 2 variables")  # (; N from the cache)
    assert main(["timeline", str(RUN / "ckpt-2"), str(RUN / "ckpt-4"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in record["steps"]] == [2, 4]
    assert main(["timeline", str(RUN), "-o", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["timeline", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.startswith("ckptviz: no checkpoint")


def test_a_keras3_timeline_shows_the_names_people_know_beside_the_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keras 3 files model weights under ``optimizer/_trainable_variables/N``: the table and the
    report name them by layer (``hidden/kernel``) and keep the keys beside."""
    for n in (1, 2):  # the TensorFlow-written functional model + optimizer, saved twice
        for f in (DATA / "keras3_models" / "functional").glob("ckpt.*"):
            shutil.copy(f, tmp_path / f"ckpt-{n}.{f.name.split('.', 1)[1]}")
    paths = [str(tmp_path / "ckpt-1"), str(tmp_path / "ckpt-2")]
    assert main(["timeline", *paths, "-o", str(tmp_path / "run.html")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[0] == "variable" and lines[1].split()[-1] == "key"
    row = next(line for line in lines if "optimizer/_trainable_variables/0/" in line)
    assert row.split()[0] == "hidden/kernel"
    page = (tmp_path / "run.html").read_text()
    assert "Histograms of hidden/kernel" in page and "optimizer/_trainable_variables/0/" in page


def test_timeline_of_one_checkpoint_says_it_needs_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", str(RUN / "ckpt-4")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        f"ckptviz: a timeline compares checkpoints and {str(RUN / 'ckpt-4')!r} is one checkpoint: pass a "
        "CheckpointManager directory holding two or more, or several checkpoint paths in order\n"
    )
    assert main(["timeline", str(RUN), "--variables", "no-such-layer"]) == 2
    assert (
        capsys.readouterr().err == f"ckptviz: no numeric variable of {str(RUN)!r} matches 'no-such-layer'\n"
    )


def test_output_names_paths_as_typed_and_shows_no_python_reprs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(RUN, tmp_path / "run")
    shutil.copytree(DATA / "tf1_saver", tmp_path / "tf1")
    monkeypatch.chdir(tmp_path)
    commands = [
        ["ls", "run"], ["tree", "run"], ["show", "run", "model/head/bias"], ["verify", "run"],
        ["graph", "run", "-o", "g.svg"], ["diff", "run/ckpt-2", "run", "-o", "d.html"],
        ["timeline", "run", "-o", "t.html"], ["select", "run", "out/head", "model/head"],
        ["convert", "tf1", "out/tf2", "--to", "tf2"], ["show", "run", "nope"], ["ls", "run/ckpt-4"],
    ]  # fmt: skip
    said = ""
    for command in commands:
        main(command)
        captured = capsys.readouterr()
        said += captured.out + captured.err
    assert str(tmp_path) not in said and "<ckptviz" not in said and "object at 0x" not in said
    for typed in ("in run/ckpt-12 (object-based)", "intact: run/ckpt-12", "wrote g.svg", "wrote d.html",
                  "wrote t.html", "wrote out/head", "wrote out/tf2", "a: run/ckpt-2", "in run/ckpt-4 ("):  # fmt: skip
        assert typed in said


def test_progress_bars_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from ckptviz import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert cli._bars() is False  # a log or a pipe: no bar, no carriage returns
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli._bars() is None  # a terminal: a bar when the work is long


def test_verify_reports_a_missing_data_file_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(RUN, tmp_path / "run")
    (tmp_path / "run" / "ckpt-12.data-00000-of-00001").unlink()
    assert main(["verify", str(tmp_path / "run")]) == 1
    out = capsys.readouterr().out
    assert out == (
        f"damaged: {tmp_path / 'run' / 'ckpt-12'}: 1 problem(s) (0 tensors, 0 B checked)\n"
        "  ckpt-12.data-00000-of-00001: missing: its 19 tensors cannot be read "
        "(copy every data file with the .index)\n"
    )
    assert main(["verify", str(tmp_path / "run" / "ckpt-99")]) == 2  # nothing there: an error, not damage
    assert capsys.readouterr().err.startswith("ckptviz: no checkpoint index")
