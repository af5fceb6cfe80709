"""Make the README's pictures with ckptviz itself: docs/graph.svg (`ckptviz graph` of the guide's
checkpoint) and docs/explorer.png (`ckptviz.explore` in a real JupyterLab, a variable clicked,
screenshotted by Debian's chromium through Playwright).

    python scripts/pictures.py          # from the repository's root, with ckptviz[test] installed
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TOKEN = "ckptviz-pictures"
CELL = 'import ckptviz\n\nckptviz.explore("training_checkpoints/")'
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


def graph_svg() -> Path:
    sys.path.insert(0, str(ROOT))
    import ckptviz

    return ckptviz.export_graph(ckptviz.examples.path("guide"), DOCS / "graph.svg")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def explorer_png(base: Path) -> Path:
    import nbformat
    from playwright.sync_api import sync_playwright

    root = base / "root"
    shutil.copytree(ROOT / "ckptviz" / "examples" / "guide", root / "training_checkpoints")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nbformat.write(nb, root / "explore.ipynb")
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"))  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=5) as r:
                    json.loads(r.read())
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                        args=CHROMIUM_ARGS)  # fmt: skip
            page = browser.new_page(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
            page.set_default_timeout(120_000)
            page.goto(f"{url}/lab/tree/explore.ipynb?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell .jp-InputArea-editor")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-editor").first.click()
            page.keyboard.press("Control+Enter")
            node = page.locator(".ckv-node", has_text="kernel").first
            node.wait_for()
            node.click()
            page.wait_for_selector(".ckv:has(.ckv-graph) .ckv-stat-mean")
            out = DOCS / "explorer.png"
            page.locator(".jp-Notebook .jp-CodeCell").first.screenshot(path=str(out))
            browser.close()
        return out
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    DOCS.mkdir(exist_ok=True)
    print(f"wrote {graph_svg().relative_to(ROOT)}")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"wrote {explorer_png(Path(tmp)).relative_to(ROOT)}")
