"""``ckptviz lab``: JupyterLab on the tour notebook (or a path), for the command line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..errors import CheckpointError


def lab(args: argparse.Namespace) -> int:
    """``ckptviz lab [PATH]``: JupyterLab on the tour notebook (or PATH), in a browser when there is
    one; the URL (with its token) is printed either way, and the server runs until Ctrl-C."""
    import importlib.util
    import secrets
    import shutil
    import signal
    import socket
    import subprocess
    import time
    import webbrowser
    from pathlib import Path

    if importlib.util.find_spec("jupyterlab") is None:
        raise CheckpointError("`ckptviz lab` needs JupyterLab: pip install 'ckptviz[notebook]'")
    here = Path(__file__).resolve().parent.parent  # the package
    target = Path(args.path) if args.path else here.parent / "notebooks" / "tour.ipynb"  # a checkout
    if not args.path and not target.exists():  # installed: copy the shipped notebooks to edit them
        target = Path.cwd() / "ckptviz-notebooks" / "tour.ipynb"
        for nb in (here / "notebooks").glob("*.ipynb"):
            if not (target.parent / nb.name).exists():
                target.parent.mkdir(exist_ok=True)
                shutil.copyfile(nb, target.parent / nb.name)
    if not target.exists():
        raise CheckpointError(f"no notebook or directory at {str(target)!r}")
    target = target.resolve()
    root = target if target.is_dir() else target.parent
    with socket.socket() as s:
        s.bind(("127.0.0.1", args.port))
        port = s.getsockname()[1]
    token = secrets.token_hex(24)
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    try:  # no graphical session: a terminal browser is no way to see a notebook
        browser = not (args.no_browser or headless) and webbrowser.get() is not None
    except webbrowser.Error:
        browser = False
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
    ]
    command += [] if browser else ["--no-browser"]
    command += ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    command += [str(target)] if target.is_file() else []
    page = f"lab/tree/{target.name}" if target.is_file() else "lab"
    url = f"http://127.0.0.1:{port}/{page}?token={token}"

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # a SIGTERM stops the server too, never leaving it behind

    signal.signal(signal.SIGTERM, stop)
    server = subprocess.Popen(command)
    try:
        while server.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise CheckpointError(f"JupyterLab exited with status {server.returncode} before serving")
        print(
            f"JupyterLab is serving {target.name}{'' if browser else ' (no browser found: open this URL)'}:\n{url}",
            flush=True,
        )
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=30)
        return 0
