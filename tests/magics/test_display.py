"""What a notebook shows for ``%ckpt timeline`` and ``%ckpt verify``: the picture and the table,
not a repr."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

import ckptviz

from .conftest import DATA, GUIDE, fails, run

RUN = ckptviz.examples.path("training_run")
PNG = b"\x89PNG\r\n\x1a\n"


def shown(ip: InteractiveShell, obj: object) -> dict[str, object]:
    data, _ = ip.display_formatter.format(obj)
    return data


def test_timeline_shows_its_heatmap(ip: InteractiveShell) -> None:
    t = run(ip, f"r = %ckpt timeline {RUN}")
    assert isinstance(t, ckptviz.Timeline)  # the object itself, for code
    data = shown(ip, t)
    assert isinstance(data["image/png"], bytes) and data["image/png"].startswith(PNG)
    assert data["text/plain"] == f"timeline of {RUN}: 6 checkpoints, steps 2…12, 18 variables"


def test_timeline_of_one_checkpoint_says_it_needs_two(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    err = fails(ip, capsys, f"timeline {RUN}/ckpt-4")
    assert err == (
        f"%ckpt timeline: a timeline compares checkpoints and '{RUN}/ckpt-4' is one checkpoint: pass a "
        "CheckpointManager directory holding two or more, or several checkpoint paths in order"
    )


def test_verify_shows_a_table_naming_every_problem(ip: InteractiveShell, tmp_path: Path) -> None:
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path / "g")
    data_file = tmp_path / "g" / "ckpt-4.data-00000-of-00001"
    entries = ckptviz.open(str(tmp_path / "g")).entries
    raw = bytearray(data_file.read_bytes())
    for key in ("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE", "step/.ATTRIBUTES/VARIABLE_VALUE"):  # two damaged
        raw[entries[key].offset] ^= 0xFF
    data_file.write_bytes(bytes(raw))
    ip.user_ns["bad"] = str(tmp_path / "g")
    report = run(ip, "r = %ckpt verify $bad")
    assert len(report.problems) == 2
    page = shown(ip, report)["text/html"]
    assert isinstance(page, str) and page.count("<tr><td") == 2 and "damaged: " in page
    for p in report.problems:
        assert (
            p.where in page and "checksum mismatch" in p.message and p.message.split(":")[-1].strip() in page
        )
    assert shown(ip, report)["text/plain"] == str(report)
    ok = run(ip, f"r = %ckpt verify {GUIDE}")
    assert "intact: " in shown(ip, ok)["text/html"] and "<table>" not in shown(ip, ok)["text/html"]


def test_unloading_removes_the_pictures(ip: InteractiveShell) -> None:
    t = ckptviz.timeline(RUN)
    ip.run_line_magic("unload_ext", "ckptviz")
    try:
        assert "image/png" not in shown(ip, t)
    finally:
        ip.run_line_magic("load_ext", "ckptviz")
    assert "image/png" in shown(ip, t)
