"""The graph route draws with graphviz-pure where the system has no `dot` (the other faces:
tests/test_without_system_graphviz.py, whose fixture takes `dot` off PATH)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_without_system_graphviz import PURE, no_dot  # noqa: F401 - the fixture


@pytest.mark.usefixtures("no_dot")
async def test_graph_route_draws_with_graphviz_pure(api: Any) -> None:
    code, body = await api("graph", path="guide_legacy_adam/ckpt-4")
    assert code == 200 and body["svg_error"] is None
    assert PURE in body["svg"] and 'class="node variable"' in body["svg"]
