"""Layer 3 — the jupyter_server extension: REST routes the JupyterLab panel calls, no side server.

Loaded by ``ckptviz._load_jupyter_server_extension``; ``import ckptviz`` never imports this.
"""

from __future__ import annotations

from typing import Any


def load(serverapp: Any) -> None:
    from .paths import Root
    from .routes import setup_routes
    from .state import State

    root = getattr(serverapp, "root_dir", None) or serverapp.contents_manager.root_dir
    state = State(Root(root))
    serverapp.web_app.settings["ckptviz"] = state
    setup_routes(serverapp.web_app)
    state.executor.submit(_warm_up)  # the first request should not pay for importing the readers
    serverapp.log.info("ckptviz: checkpoint routes under %sckptviz/api/", serverapp.base_url)


def _warm_up() -> None:
    from ..model import checkpoint, graph, scopes, stats  # noqa: F401
    from ..render import layout, plan  # noqa: F401
