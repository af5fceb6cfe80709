"""The interop tests skip without TensorFlow; in CI (CKPTVIZ_REQUIRE_ORACLES=1) that is a failure."""

from __future__ import annotations

import importlib.util
import os

import pytest


@pytest.mark.skipif(os.environ.get("CKPTVIZ_REQUIRE_ORACLES") != "1", reason="only CI requires the oracles")
@pytest.mark.parametrize("module", ["tensorflow", "keras"])
def test_the_oracles_are_installed(module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{module} is missing: the interop tests would skip"
