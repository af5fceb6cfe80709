"""Reads run off the event loop: 20 concurrent requests on a big checkpoint all answer, the
server stays responsive meanwhile, and the checkpoint is opened once (then cached)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import numpy as np
import pytest
from tornado.httpclient import AsyncHTTPClient

import ckptviz


@pytest.fixture
def big(root: Path) -> str:
    rng = np.random.default_rng(0)
    tensors = {f"layer{i}/kernel": rng.standard_normal((1024, 1024), dtype=np.float32) for i in range(20)}
    ckptviz.write_checkpoint(root / "big" / "ckpt-1", tensors)  # 80 MiB
    return "big/ckpt-1"


async def test_twenty_concurrent_requests_keep_the_loop_responsive(
    jp_fetch, jp_serverapp, jp_http_port, jp_base_url, jp_auth_header, big: str
) -> None:
    cache = jp_serverapp.web_app.settings["ckptviz"].cache
    opened = cache.opened

    own_client = AsyncHTTPClient(force_instance=True)  # not queued behind jp_fetch's requests
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    status = f"{base}api/status"

    async def tensor(i: int) -> dict:  # jp_fetch's client sends 10 at a time, queueing the rest
        r = await jp_fetch("ckptviz", "api", "tensor", params={"path": big, "key": f"layer{i}/kernel"})
        return json.loads(r.body)

    async def ping() -> float:
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        await own_client.fetch(status, headers=jp_auth_header)
        return time.perf_counter() - start

    started = time.perf_counter()
    *replies, ping_time = await asyncio.gather(*(tensor(i) for i in range(20)), ping())
    total = time.perf_counter() - started
    own_client.close()
    assert [r["key"] for r in replies] == [f"layer{i}/kernel" for i in range(20)]
    assert all(r["stats"]["size"] == 1024 * 1024 for r in replies)
    assert ping_time < max(0.5, total / 4), (ping_time, total)  # not queued behind the reads
    assert cache.opened == opened + 1


async def test_a_rewritten_checkpoint_is_opened_anew(api, root: Path) -> None:
    ckptviz.write_checkpoint(root / "re" / "ckpt", {"a": np.zeros(3, np.float32)})
    _, first = await api("entries", path="re/ckpt")
    ckptviz.write_checkpoint(
        root / "re" / "ckpt", {"a": np.zeros(3, np.float32), "b": np.ones(2)}, overwrite=True
    )
    _, second = await api("entries", path="re/ckpt")
    assert [e["key"] for e in first["entries"]] == ["a"]
    assert [e["key"] for e in second["entries"]] == ["a", "b"]
