"""The repository itself: nothing half-merged is ever committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# What git writes into a file it could not merge: a line starting with seven '<', '=' or '>' (the
# first and last followed by a space and a name).
CONFLICT = r"^(<{7} |={7}$|>{7} |\|{7} )"


def conflict_markers(root: Path) -> list[str]:
    """``path:line: text`` of every conflict marker in the work tree's text files (tracked, and new
    files not ignored)."""
    done = subprocess.run(
        ["git", "grep", "-I", "-n", "--untracked", "-E", CONFLICT],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode not in (0, 1):  # 1: nothing found
        raise AssertionError(f"git grep failed: {done.stderr.strip()}")
    return done.stdout.splitlines()


def git_checkout(root: Path) -> bool:
    return shutil.which("git") is not None and (root / ".git").exists()


@pytest.mark.skipif(not git_checkout(ROOT), reason="not a git checkout (an unpacked sdist)")
def test_no_merge_conflict_markers_anywhere() -> None:
    found = conflict_markers(ROOT)
    assert not found, "unresolved merge conflicts:\n" + "\n".join(found)


def test_the_check_finds_each_kind_of_marker(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    marker = "<" * 7, "=" * 7, ">" * 7
    (tmp_path / "clean.md").write_text("Title\n" + "=" * 5 + "\n\n" + "=" * 8 + "\ntext <" + "<" * 7 + " x\n")
    assert conflict_markers(tmp_path) == []
    (tmp_path / "notes.md").write_text(f"a\n{marker[0]} HEAD\nmine\n{marker[1]}\ntheirs\n{marker[2]} main\n")
    assert conflict_markers(tmp_path) == [
        f"notes.md:2:{marker[0]} HEAD",
        f"notes.md:4:{marker[1]}",
        f"notes.md:6:{marker[2]} main",
    ]
