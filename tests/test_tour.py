"""scripts/tour.sh (what `./scripts/demo.sh --no-lab` shows): a narrated tour, not a shell trace."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
STEPS = 9


@pytest.mark.slow
def test_the_tour_narrates_each_step(tmp_path: Path) -> None:
    shim = tmp_path / "bin" / "ckptviz"  # the `ckptviz` command pip installs, for this checkout
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m ckptviz.cli "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}", "CKPTVIZ_TOUR_OUT": "out"}
    out_dir = ROOT / "out"
    assert not out_dir.exists()
    try:
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "tour.sh")], env=env, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
        written = sorted(p.name for p in out_dir.iterdir())
    finally:
        subprocess.run(["rm", "-rf", str(out_dir)], check=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["wrote out/run.html"]  # diff and timeline say it on stderr
    text = done.stdout
    headings = re.findall(r"^(\d+)\. \S.*\n\S.*\n\$ ckptviz ", text, re.MULTILINE)  # heading, why, command
    assert headings == [str(i) for i in range(1, STEPS + 1)]
    commands = [line for line in text.splitlines() if line.startswith("$ ")]
    assert all(line.startswith("$ ckptviz ") for line in commands) and len(commands) == 12
    assert not re.search(r"^\+ ", text, re.MULTILINE)  # no shell trace
    for noise in (str(ROOT), sys.executable, "\r", "<ckptviz", "\x1b["):  # output is not a terminal
        assert noise not in text
    assert "intact: out/no-l1" in text and "wrote out/guide.svg" in text
    for name in ("guide.svg", "guide-partial.svg", "run.html"):
        assert name in written and f"out/{name} " in text.split("Files written")[1]
