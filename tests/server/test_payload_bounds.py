"""Every reply of the panel's routes is bounded, whatever the checkpoint holds: preview values,
string lengths, rows per page, drawn nodes and the SVG's size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.model import preview
from ckptviz.server import handlers, payloads


@pytest.fixture
def big(tmp_path: Path) -> ckptviz.Checkpoint:
    prefix = ckptviz.write_checkpoint(
        tmp_path / "big",
        {
            "values": np.arange(2500, dtype=np.float32),
            "text": np.array(b"x" * 1000, dtype=object),
            "small": np.ones(3),
        },
    )
    return ckptviz.open(prefix)


def test_previews_hold_at_most_preview_max_values(big: ckptviz.Checkpoint) -> None:
    reply = payloads.tensor(big, "big", "values", "", 10)
    assert len(reply["preview"]["values"]) == payloads.PREVIEW_MAX and reply["preview"]["truncated"]
    small = payloads.tensor(big, "big", "small", "", 10)
    assert len(small["preview"]["values"]) == 3 and not small["preview"]["truncated"]


def test_strings_are_cut_at_string_max(big: ckptviz.Checkpoint) -> None:
    (value,) = payloads.tensor(big, "big", "text", "", 10)["preview"]["values"]
    assert value == "x" * preview.STRING_MAX + "…"


def test_drawn_nodes_are_capped() -> None:
    assert payloads.graph_options({"max_nodes": 10**6}).max_nodes == payloads.GRAPH_MAX_NODES


async def test_a_page_larger_than_page_max_is_refused(api: Any) -> None:
    status, body = await api("entries", path="many_keys/many", limit=str(payloads.PAGE_MAX + 1))
    assert status == 400 and f"between 1 and {payloads.PAGE_MAX}" in body["message"]
    status, body = await api("entries", path="many_keys/many", limit=str(payloads.PAGE_MAX))
    assert status == 200 and len(body["entries"]) == payloads.PAGE_MAX


async def test_an_svg_beyond_svg_max_is_not_sent(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ckptviz.render.layout import find_engine

    if find_engine() is None:
        pytest.skip("no Graphviz engine")
    monkeypatch.setattr(handlers, "SVG_MAX", 100)
    status, body = await api("graph", path="guide_legacy_adam")
    assert status == 200 and body["svg"] is None and "collapse more nodes" in body["svg_error"]


def test_a_big_tensors_preview_reads_only_its_values_and_says_they_are_unchecked(
    big: ckptviz.Checkpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preview, "VERIFY_MAX", 1024)  # as a 1 GiB tensor is treated
    monkeypatch.setattr(type(big), "read", lambda *a: pytest.fail("the whole tensor was read"))
    shown = payloads.tensor(big, "big", "values", "1500:", 10, stats=False)["preview"]
    assert shown["values"][:2] == [1500.0, 1501.0] and len(shown["values"]) == 1000
    assert shown["verified"] is False and "not checked" in shown["note"] and shown["read_bytes"] == 4000


def test_a_small_tensors_preview_is_checked(big: ckptviz.Checkpoint) -> None:
    shown = payloads.tensor(big, "big", "small", "", 10)["preview"]
    assert shown["verified"] is True and shown["note"] is None
