"""Progress reporters: a caller's callback, or a tqdm bar that keeps logs clean."""

from __future__ import annotations

import pytest

from ckptviz.format.progress import reporter


def run(progress: bool | None) -> None:
    report = reporter(progress, 1000, desc="verify", auto=True)
    for done in (250, 500, 1000):
        report(done, 1000)
    report(-1, 1000)


def test_an_automatic_bar_writes_nothing_into_a_log(capsys: pytest.CaptureFixture[str]) -> None:
    run(None)  # captured stderr is not a terminal, like a CI log or `2> file`
    assert capsys.readouterr().err == ""


def test_a_bar_asked_for_is_drawn(capsys: pytest.CaptureFixture[str]) -> None:
    run(True)
    err = capsys.readouterr().err
    assert "\r" in err and "verify" in err


def test_a_callback_gets_every_step_but_the_close() -> None:
    seen: list[tuple[int, int]] = []
    report = reporter(lambda done, total: seen.append((done, total)), 10, desc="x")
    report(5, 10)
    report(-1, 10)
    assert seen == [(5, 10)]
