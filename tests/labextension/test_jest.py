"""The TypeScript model code's jest tests, run with the jlpm that builds the extension."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LABEXTENSION = Path(__file__).parent.parent.parent / "labextension"


def test_jest() -> None:
    jlpm = shutil.which("jlpm", path=str(Path(sys.executable).parent)) or shutil.which("jlpm")
    if jlpm is None or not (LABEXTENSION / "node_modules").is_dir():
        missing = "the labextension's node modules are not installed (pip install -e . installs them)"
        (pytest.fail if os.environ.get("CKPTVIZ_REQUIRE_ORACLES") == "1" else pytest.skip)(missing)
    done = subprocess.run(
        [jlpm, "test", "--silent"], cwd=LABEXTENSION, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "failed" not in done.stderr.split("Tests:")[-1].split("\n")[0]
