"""The in-process IPython shell the magics' tests run in, and helpers to run and complete lines."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("IPython")
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell

import ckptviz
import ckptviz.examples
from tests.conftest import DATA

GUIDE = ckptviz.examples.path("guide")
TF1 = ckptviz.examples.path("tf1_saver")
KERNEL = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
__all__ = ["DATA", "GUIDE", "KERNEL", "TF1", "available", "completions", "fails", "live_tree", "run"]


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "ckptviz")
    return ip


@pytest.fixture
def ip(shell: InteractiveShell) -> InteractiveShell:
    shell.user_ns.update(guide=GUIDE, tf1=TF1, live=live_tree())
    return shell


def live_tree() -> dict[str, Any]:
    return {"net": {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(5, np.float32)}}}


def run(ip: InteractiveShell, code: str) -> Any:
    """Run ``code`` as a cell; return the value of ``r`` when the cell assigns it."""
    ip.user_ns.pop("r", None)
    result = ip.run_cell(code)
    assert result.error_in_exec is None and result.error_before_exec is None, result
    return ip.user_ns.get("r")


def fails(ip: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str) -> str:
    """The one line a failing ``%ckpt`` prints; it must return None and show no traceback."""
    capsys.readouterr()
    assert run(ip, f"r = %ckpt {line}") is None
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and out == ""
    assert err.count("\n") == 1 and err.startswith("%ckpt"), err
    return err.strip()


def available(name: str) -> bool:
    try:
        getattr(ckptviz, name)
    except (AttributeError, ImportError):
        return False
    return True


def completions(ip: InteractiveShell, text: str) -> list[tuple[str, str]]:
    with provisionalcompleter():
        found = list(ip.Completer.completions(text, len(text)))
    # what the line becomes when each completion is accepted
    return [(text[: c.start] + c.text, c.type) for c in found]
