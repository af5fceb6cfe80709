"""Where each handler is mounted: ``{base_url}/ckptviz/api/<name>``."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from . import handlers

ROUTES: dict[str, type] = {
    "checkpoints": handlers.CheckpointsHandler,
    "entries": handlers.EntriesHandler,
    "graph": handlers.GraphHandler,
    "tensor": handlers.TensorHandler,
    "diff": handlers.DiffHandler,
    "timeline": handlers.TimelineHandler,
    "export": handlers.ExportHandler,
}


def setup_routes(web_app: Any) -> None:
    base = url_path_join(web_app.settings["base_url"], "ckptviz", "api")
    web_app.add_handlers(".*$", [(url_path_join(base, name), cls) for name, cls in ROUTES.items()])
