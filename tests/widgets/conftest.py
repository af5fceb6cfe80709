"""Widget models driven from Python, without a browser: traits in, traits and messages out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anywidget")

DATA = Path(__file__).parents[1] / "data"
GUIDE = DATA / "guide_legacy_adam"
KERAS3 = DATA / "guide_keras3"


def click(view: Any, **message: Any) -> None:
    """What the browser sends: a custom message ``{"do": action, ...}``."""
    view._on_message(view, message, [])


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys whose tensor data was read through any Checkpoint (verified or not)."""
    import ckptviz.model.checkpoint as checkpoint

    seen: list[str] = []
    original = checkpoint.Checkpoint.read

    def read(self: Any, key: str) -> Any:
        seen.append(key)
        return original(self, key)

    monkeypatch.setattr(checkpoint.Checkpoint, "read", read)
    return seen
