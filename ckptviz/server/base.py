"""The one base handler: authentication and authorization, reads off the event loop, and the
single map from ckptviz errors to HTTP statuses with a JSON body (never a traceback)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import (
    CheckpointError,
    CheckpointExistsError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    InvalidArgumentError,
    KeyNotFoundError,
    NameConflictError,
    OutsideRootError,
    UnsupportedCheckpointError,
)
from .paths import BadRequestError
from .state import State

T = TypeVar("T")
REPLY_MAX = 32 << 20  # bytes of one JSON reply; routes page and trim below this


class ReplyTooLargeError(BadRequestError):
    """A reply that would exceed ``REPLY_MAX`` bytes (HTTP 413)."""


# First match wins: the specific classes before the ones they subclass.
ERROR_STATUS: list[tuple[type[BaseException], int]] = [
    (OutsideRootError, 403),
    (ReplyTooLargeError, 413),
    (BadRequestError, 400),
    (CheckpointNotFoundError, 404),
    (KeyNotFoundError, 404),
    (CheckpointExistsError, 409),
    (NameConflictError, 409),
    (CorruptCheckpointError, 422),
    (UnsupportedCheckpointError, 422),
    (InvalidArgumentError, 400),  # a selection that matches nothing, saving onto the source…
    (CheckpointError, 422),
    (PermissionError, 403),
    (FileNotFoundError, 404),
    (NotADirectoryError, 404),
    (IsADirectoryError, 400),
    (ValueError, 400),
]


def status_of(error: BaseException) -> int | None:
    return next((code for cls, code in ERROR_STATUS if isinstance(error, cls)), None)


class BaseHandler(APIHandler):
    """Every ckptviz route: ``@web.authenticated`` and ``@authorized`` on each method (the
    ``contents`` resource: reading a checkpoint is reading files), JSON in and out."""

    auth_resource = "contents"

    @property
    def state(self) -> State:
        return self.settings["ckptviz"]  # type: ignore[no-any-return]

    async def run(self, fn: Callable[..., T], *args: Any, quick: bool = False) -> T:
        """``fn(*args)`` on a thread pool (``quick``: the one cheap requests have to themselves):
        file reads never block the event loop; a request whose client left before it started is
        dropped."""
        pool = self.state.quick if quick else self.state.executor
        future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        self._pending = [*getattr(self, "_pending", []), future]
        try:
            return await future
        except asyncio.CancelledError:
            raise web.Finish() from None  # the client went away: nobody to answer

    def on_connection_close(self) -> None:
        for future in getattr(self, "_pending", []):
            future.cancel()  # a job not started yet never runs; one running finishes
        super().on_connection_close()

    def arg(self, name: str, default: str | None = None) -> str:
        value = self.get_query_argument(name, default)
        if value is None:
            raise BadRequestError(f"missing query parameter {name!r}")
        return value

    def int_arg(self, name: str, default: int | None, lo: int = 0, hi: int | None = None) -> int | None:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise BadRequestError(f"{name} must be an integer, not {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            raise BadRequestError(f"{name} must be between {lo} and {hi}, not {value}")
        return value

    def bool_arg(self, name: str, default: bool) -> bool:
        text = self.get_query_argument(name, None)
        if text is None or text == "":
            return default
        if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise BadRequestError(f"{name} must be true or false, not {text!r}")
        return text.lower() in ("1", "true", "yes")

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise BadRequestError("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequestError("the request body must be a JSON object")
        return body

    def reply(self, payload: Any) -> None:
        text = json.dumps(payload, allow_nan=False)
        if len(text) > REPLY_MAX:
            raise ReplyTooLargeError(
                f"the reply would be {len(text) >> 20} MiB (at most {REPLY_MAX >> 20}); ask for fewer rows or nodes"
            )
        self.set_header("Content-Type", "application/json")
        self.finish(text)

    # -- errors ---------------------------------------------------------------------------------

    def _message(self, error: BaseException) -> str:
        """The ckptviz message, with the server's root directory taken out of absolute paths."""
        text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
        return text.replace(self.state.root.real + "/", "").replace(self.state.root.real, ".")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        mapped = status_of(error) if error is not None else None
        if mapped is None:
            if isinstance(error, web.HTTPError) or error is None:
                super().write_error(status_code, **kwargs)
                return
            body = {"message": "internal error in the ckptviz server extension (see the server log)"}
        else:
            self.set_status(mapped)
            body = {"message": self._message(error), "error": type(error).__name__}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if value is not None and status_of(value) is not None:
            self.log.info("ckptviz: %s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)
