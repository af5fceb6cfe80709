"""A real JupyterLab 4 and a real Notebook 7 on loopback, started and stopped here, and Debian's
chromium driven by Playwright (never a downloaded browser). Screenshots go to build/screenshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import ARGS, CHROMIUM, SHOTS, free_port

REQUIRED = os.environ.get("CKPTVIZ_REQUIRE_ORACLES") == "1"  # CI: a missing browser fails, never skips
if not REQUIRED:
    pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
from playwright import sync_api  # noqa: E402

pytestmark = pytest.mark.browser

TOKEN = "ckptviz-browser-test"


@dataclass
class Server:
    app: str  # "lab" or "notebook"
    url: str
    root: Path
    runtime: Path
    process: subprocess.Popen[bytes]

    def page_url(self, notebook: str) -> str:
        where = "lab/tree" if self.app == "lab" else "notebooks"
        return f"{self.url}/{where}/{notebook}?token={TOKEN}"

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}/api/{path}?token={TOKEN}", timeout=5) as r:
            return json.loads(r.read())

    def kernel_client(self) -> Any:
        """A client of the notebook's kernel, to check from Python what the browser did."""
        from jupyter_client import BlockingKernelClient

        (kernel,) = self.api("kernels")
        client = BlockingKernelClient(connection_file=str(self.runtime / f"kernel-{kernel['id']}.json"))
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=30)
        return client


def start_server(app: str, base: Path) -> Server:
    root, runtime, settings = base / "root", base / "runtime", base / "settings"
    for d in (root, runtime, settings / "@jupyterlab" / "apputils-extension"):
        d.mkdir(parents=True, exist_ok=True)
    # no news toast over the page
    (settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}'
    )
    port = free_port()
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        PYTHONPATH=str(Path(__file__).parents[2]),
    )
    command = [sys.executable, "-m", "jupyterlab" if app == "lab" else "notebook", "--no-browser",
               f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={root}", "--allow-root", "--ServerApp.port_retries=0"]  # fmt: skip
    log = (base / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(app, f"http://127.0.0.1:{port}", root, runtime, process)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.api("status")
            return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise RuntimeError(
                    f"jupyter {app} did not start: {(base / 'server.log').read_text()[-2000:]}"
                ) from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")  # closed before other modules: playwright holds a running event loop
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session", params=["lab", "notebook"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(request.param, tmp_path_factory.mktemp(f"jupyter-{request.param}"))
    yield s
    for kernel in s.api("kernels"):  # shut kernels down with the server
        req = urllib.request.Request(f"{s.url}/api/kernels/{kernel['id']}?token={TOKEN}", method="DELETE")
        urllib.request.urlopen(req, timeout=10).close()
    stop(s.process)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)  # a loaded 2-core machine: waits end on a selector, not a clock
    yield page
    context.close()


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
