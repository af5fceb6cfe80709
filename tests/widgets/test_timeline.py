from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

import ckptviz
from ckptviz.widgets import TimelineView

from .conftest import GUIDE, click

KERNEL = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"


def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(GUIDE, run)
    return run


def save_another(run: Path, number: int) -> None:
    """What a CheckpointManager does on save: the new files, then the rewritten state file."""
    for f in run.glob("ckpt-4.*"):
        shutil.copy(f, run / f.name.replace("ckpt-4", f"ckpt-{number}"))
    numbers = [2, 3, 4, *range(5, number + 1)]
    lines = [f'model_checkpoint_path: "ckpt-{number}"']
    lines += [f'all_model_checkpoint_paths: "ckpt-{n}"' for n in numbers]
    lines += [f"all_model_checkpoint_timestamps: {1795318586.0 + n}" for n in numbers]
    (run / "checkpoint").write_text("\n".join(lines) + "\n")


def test_heatmap_lines_and_histograms(tmp_path: Path) -> None:
    view = TimelineView(run_dir(tmp_path), follow=False)
    view.join()
    try:
        want = ckptviz.timeline(GUIDE).to_dict()
        assert view.steps == [2, 3, 4] and not view.error
        assert set(view.variables) == set(want["variables"])
        row = view.matrix[view.variables.index(KERNEL)]
        assert row[0] is None and row[1] == pytest.approx(
            want["variables"][KERNEL]["series"][1]["relative_change"]
        )
        view.key = KERNEL
        assert view.series["lines"]["mean"][2] == pytest.approx(
            want["variables"][KERNEL]["series"][2]["mean"]
        )
        assert [h["step"] for h in view.series["histograms"]] == [2, 3, 4]
        view.key = "no/such/key"
        assert "not a numeric variable" in view.error
    finally:
        view.close()


class Ticks(threading.Event):
    """A poll loop's stop event that counts the loop's turns: ``turned(n)`` waits for ``n`` more."""

    def __init__(self) -> None:
        super().__init__()
        self._turns = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        stopped = super().wait(timeout)
        self._turns.release()
        return stopped

    def turned(self, n: int) -> bool:
        return all(self._turns.acquire(timeout=WAIT) for _ in range(n))


WAIT = 120  # seconds: only a bound on a hang; every wait below ends on an event


def test_follows_a_live_run_and_stops_when_hidden_or_closed(tmp_path: Path) -> None:
    run = run_dir(tmp_path)
    view = TimelineView(run, interval=0.05)
    view.join()
    assert view.steps == [2, 3, 4] and view.polling
    seen = threading.Event()
    view.observe(lambda change: seen.set() if change["new"] == [2, 3, 4, 5] else None, "steps")
    save_another(run, 5)
    assert seen.wait(WAIT)  # the poller saw the new save and read it
    view.join()
    view.visible = False  # the browser says the widget is off screen
    polls = view.polls
    save_another(run, 6)
    view._stop = ticks = Ticks()  # the loop reads its stop event at each turn
    assert ticks.turned(2)  # a whole turn began and ended after the save, while hidden
    assert view.polls == polls and view.steps == [2, 3, 4, 5]
    click(view, do="poll")  # asked for explicitly, it reads the new save
    view.join()
    assert view.steps == [2, 3, 4, 5, 6]
    view.close()
    view._poller.join(WAIT)
    assert not view.polling


def test_a_directory_without_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a CheckpointManager directory"):
        TimelineView(tmp_path)
