"""A real ``jupyter lab`` on loopback with the ckptviz extensions, and Debian's chromium driven by
Playwright; both started here and stopped by PID when the tests end."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import ARGS, CHROMIUM, SHOTS, free_port

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    missing = None
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        missing = "Debian's chromium is not installed (apt-get install chromium)"
    if missing:  # CI runs the browser tests or fails; a developer's machine may skip them
        (pytest.fail if os.environ.get("CKPTVIZ_REQUIRE_ORACLES") == "1" else pytest.skip)(missing)
    root = tmp_path_factory.mktemp("lab-root")
    for name in ("guide_legacy_adam", "keras3_files", "v1_format"):
        shutil.copytree(DATA / name, root / name)
    home = tmp_path_factory.mktemp("lab-home")
    port, token = free_port(), "ckptviz-browser-test"
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    with open(home / "lab.log", "wb") as log:  # the child keeps its own descriptor
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((home / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield {"url": base, "token": token, "root": root, "log": home / "lab.log"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")  # closed before other modules: playwright holds an event loop
def browser(lab: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, lab: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture(scope="module")
def big(lab: dict[str, Any]) -> dict[str, str]:
    """Under the lab's root: ``resnet/ckpt-1`` (Keras 3 ResNet50 + Adam, 283 MB) and, in
    ``many/``, two equal 50 000-variable checkpoints and a third with one variable changed."""
    from tests.bigdata import flat_bundle, resnet_bundle

    root = lab["root"]
    if not (root / "resnet").exists():
        resnet_bundle(root / "resnet" / "ckpt-1")
        flat_bundle(root / "many" / "ckpt-1")
        for name in ("ckpt-1.index", "ckpt-1.data-00000-of-00001"):  # an equal copy: ckpt-2
            shutil.copyfile(root / "many" / name, root / "many" / name.replace("ckpt-1", "ckpt-2"))
        flat_bundle(root / "many" / "ckpt-3", bump=31337)
    return {"resnet": "resnet/ckpt-1", "many": "many/ckpt-1"}
