"""A real jupyter_server with the ckptviz extension, its root holding copies of tests/data, and a
directory outside that root for the path-escape tests. While a test's requests run, an audit
hook (tests/server/audit.py) fails it if the server touches anything outside the root."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403 - the jp_* fixtures
from tornado.httpclient import HTTPClientError

from .audit import WATCH

DATA = Path(__file__).parent.parent / "data"
ROOT_FIXTURES = [
    "guide_legacy_adam",
    "keras3_files",
    "keras3_models",
    "savedmodel",
    "tf1_saver",
    "v1_format",
    "many_keys",
]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"ckptviz": True}}}


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint and a secret outside the server's root."""
    out = tmp_path_factory.mktemp("outside")
    shutil.copytree(DATA / "guide_legacy_adam", out / "guide")
    (out / "secret.txt").write_text("secret")
    return out


@pytest.fixture
def root(jp_root_dir: Path) -> Path:
    for name in ROOT_FIXTURES:
        shutil.copytree(DATA / name, jp_root_dir / name)
    shutil.copytree(DATA / "corrupt", jp_root_dir / "corrupt")
    return jp_root_dir


@pytest.fixture
def confined(jp_serverapp: Any, root: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Armed from the moment the server runs until the test ends: any open, listing, write or
    connection by a server thread outside the root fails the test."""
    WATCH.arm(str(root), str(tmp_path_factory.getbasetemp()))
    yield WATCH
    violations = WATCH.disarm()
    assert not violations, f"the server reached outside its root: {violations[:5]}"


@pytest.fixture
def api(jp_fetch: Any, root: Path, confined: Any) -> Any:
    """``await api("entries", path=...)`` -> (status, JSON body); errors return their status too."""

    async def call(route: str, method: str = "GET", body: Any = None, **params: Any) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method}
        if params:
            kwargs["params"] = params
        if body is not None:
            kwargs["body"] = json.dumps(body)
        try:
            response = await jp_fetch("ckptviz", "api", route, **kwargs)
        except HTTPClientError as e:
            assert e.response is not None
            assert e.response.headers["Content-Type"].startswith("application/json")
            return e.code, json.loads(e.response.body)
        return response.code, json.loads(response.body)

    return call
