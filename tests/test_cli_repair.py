"""The command line as a user meets it: names people know, verdicts first, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ckptviz
from ckptviz.cli import main, size
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam")
TF1 = str(DATA / "tf1_saver/model.ckpt-2")
CLI = str(Path(sys.executable).parent / "ckptviz")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script: the real entry point."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120)


def test_entry_point_version_and_help() -> None:
    assert run("--version").stdout.startswith(f"ckptviz {ckptviz.__version__}")
    help_text = run("select", "--help").stdout
    assert "--exclude" in help_text and "--max-shard-size" in help_text and "100M" in help_text


@pytest.mark.parametrize(
    "args",
    [
        ["show", GUIDE, "net/l1/biass"],
        ["ls", GUIDE, "--filter", "("],
        ["ls", str(DATA / "nope")],
        ["rename", GUIDE, "/tmp/ckptviz-never-written", "nope/=x/"],
        ["copy", GUIDE, "/proc/ckptviz/cannot/write"],
        ["ls", "http://127.0.0.1:9/ckpt"],
    ],
)
def test_user_mistakes_print_one_line_and_exit_2(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("ckptviz: ") and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_show_takes_object_paths_and_full_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", GUIDE, "net/l1/bias"]) == 0
    assert capsys.readouterr().out.startswith("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE: float32 [5]")
    assert main(["show", TF1, "dense/kernel", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["key"] == "dense/kernel" and record["stats"]["histogram"]["counts"]


def test_show_of_strings_is_a_bounded_preview(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(DATA / "dtypes/all"), "string_long", "--edgeitems", "1"]) == 0
    out = capsys.readouterr().out
    assert "…" in out and max(len(line) for line in out.splitlines()) < 300  # 300-byte strings, cut


def test_ls_name_column_and_empty_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", str(DATA / "guide_keras3")]) == 0
    assert main(["ls", GUIDE, "--filter", "no-such-thing"]) == 2
    assert "no key or name matches 'no-such-thing'" in capsys.readouterr().err


def test_ls_notices_missing_and_truncated_shards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(DATA / "multi_shard", tmp_path / "m")
    data = sorted((tmp_path / "m").glob("*.data-*"))
    data[0].write_bytes(data[0].read_bytes()[:10])
    data[1].unlink()
    prefix = str(data[0]).split(".data-")[0]
    assert main(["ls", prefix]) == 0
    err = capsys.readouterr().err
    assert "is truncated" in err and "is missing" in err


def test_tree_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tree", GUIDE]) == 0
    out = capsys.readouterr().out
    assert "m of net/l1/kernel  slot  float32[1,5]" in out and out.startswith("(root)")
    assert main(["verify", GUIDE]) == 0
    assert capsys.readouterr().out.startswith("intact: ")
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path / "g")
    data = tmp_path / "g" / "ckpt-4.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[40] ^= 0xFF
    data.write_bytes(bytes(raw))
    assert main(["verify", str(tmp_path / "g" / "ckpt-4"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and any("checksum" in p["message"] for p in report["problems"])


def test_write_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert size("100M") == 100 << 20 and size("1.5G") == 3 << 29 and size("4096") == 4096
    assert main(["copy", GUIDE, f"{tmp_path}/out/", "--max-shard-size", "1K"]) == 0
    copied = ckptviz.open(str(tmp_path / "out" / "ckpt-4"))
    assert copied.num_shards > 1 and len(copied) == 15
    assert main(["select", GUIDE, str(tmp_path / "nohead"), "--exclude", "net/l1/kernel"]) == 0
    kept = ckptviz.open(str(tmp_path / "nohead"))
    assert "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE" in kept and not any("l1/kernel" in k for k in kept)
    assert main(["copy", GUIDE, GUIDE + "/ckpt-4", "--overwrite"]) == 2  # onto its own source
    assert "never modifies its source" in capsys.readouterr().err


def test_convert_says_what_it_drops_and_refuses_a_no_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", GUIDE, str(tmp_path / "tf1"), "--to", "tf1"]) == 0
    assert (
        "drops 1 key(s) that are not variables: iterator/.ATTRIBUTES/ITERATOR_STATE"
        in capsys.readouterr().err
    )
    assert main(["convert", TF1, str(tmp_path / "same"), "--to", "tf1"]) == 2
    assert "already name-based" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "same.index")


# multi_shard: the last of two data files; sliced_policy: the first of four, which ends with a
# piece of a partitioned variable
@pytest.mark.parametrize(("fixture", "shard"), [("multi_shard", -1), ("sliced_policy", 0)])
def test_ls_notices_a_data_file_one_byte_short(
    fixture: str, shard: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(DATA / fixture, tmp_path / "m")
    data = sorted((tmp_path / "m").glob("*.data-*"))[shard]
    data.write_bytes(data.read_bytes()[:-1])  # the file's last entry ends one byte past it
    prefix = str(data).split(".data-")[0]
    assert main(["ls", prefix]) == 0
    err = capsys.readouterr().err
    assert (
        f"data file {data.name} is truncated: {data.stat().st_size} bytes, its entries need {data.stat().st_size + 1}"
        in err
    )
