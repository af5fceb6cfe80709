"""The REST routes under ``{base_url}/ckptviz/api/``: one small handler per concept.

Every path a request names is made relative to the root by ``Root.resolve`` and opened only
through ``State.root.files`` (``format.confined``): the checkpoint a route reads is the reader
over those handles, and an export writes through the destination directory's descriptor.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import threading
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidArgumentError
from ..render.dot import view_to_dot
from ..render.layout import find_engine
from ..render.plan import select_view
from . import listing, payloads, runs
from .base import BaseHandler
from .filters import Matcher
from .paths import BadRequestError

SVG_MAX = 8 << 20  # bytes of one graph picture


class CheckpointsHandler(BaseHandler):
    """``GET checkpoints?path=DIR``: the checkpoints in a directory."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        directory = self.state.root.resolve(self.arg("path", ""))
        self.reply(await self.run(listing.scan, self.state.root.files, directory, quick=True))


class CheckpointRoute(BaseHandler):
    """A route about one checkpoint, named by ``path`` relative to the root."""

    async def with_checkpoint(
        self, build: Any, *args: Any, path: str | None = None, quick: bool = False
    ) -> Any:
        """``build(checkpoint, relative path, *args)`` on a reader thread, the checkpoint opened
        confined and cached."""
        relative = self.state.root.resolve(self.arg("path") if path is None else path)

        def work() -> Any:
            with self.state.cache.use(self.state.root.files, relative) as ckpt:
                return build(ckpt, relative, *args)

        return await self.run(work, quick=quick)

    def matcher(self, name: str) -> Matcher | None:
        """The ``name`` parameter as a filter: substring or glob, RE2 regex with ``regex=1``."""
        text = self.get_query_argument(name, "") or ""
        return Matcher(text, self.bool_arg("regex", False)) if text else None


class EntriesHandler(CheckpointRoute):
    """``GET entries?path=P&offset=&limit=&match=&code_path=``: one page of entries, and the code
    that restores the checkpoint (naming it ``code_path``, else ``path``)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        offset = self.int_arg("offset", 0)
        limit = self.int_arg("limit", 200, 1, payloads.PAGE_MAX)
        match = self.arg("match", "")
        code_path = self.get_query_argument("code_path", "") or None  # the path as the notebook sees it
        self.reply(await self.with_checkpoint(payloads.entries, offset, limit, match, code_path, quick=True))


class GraphHandler(CheckpointRoute):
    """``GET graph?path=P&max_nodes=&max_depth=&collapse=&expand=&focus=&filter=&regex=&slots=&svg=``:
    the render plan and, unless ``svg=0``, its SVG."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        options = payloads.graph_options(
            {
                "max_nodes": self.int_arg("max_nodes", 300, 1, payloads.GRAPH_MAX_NODES),
                "max_depth": self.int_arg("max_depth", None, 0, 10_000),
                "collapse": [self._ref(r) for r in self.get_query_arguments("collapse")],
                "expand": [self._ref(r) for r in self.get_query_arguments("expand")],
                "focus": self._ref(self.get_query_argument("focus", "") or "") or None,
                "filter": self.matcher("filter"),
                "slots": self.bool_arg("slots", True),
                "hide_empty": self.bool_arg("hide_empty", True),
            }
        )
        want_svg = self.bool_arg("svg", True)
        reveal = [self._ref(r) for r in self.get_query_arguments("reveal")]
        if reveal:
            options = dataclasses.replace(options, reveal=tuple(reveal))

        def build(ckpt: Any, relative: str) -> dict[str, Any]:
            graph = ckpt.graph
            view = select_view(graph, options)
            out = {"path": relative, **payloads.plan(graph, view), "svg": None, "svg_error": None}
            out["revealed"] = [r if isinstance(r, int) else graph.resolve(r).id for r in options.reveal]
            if want_svg:
                engine = find_engine()
                if engine is None:
                    out["svg_error"] = "no Graphviz engine on the server: apt-get install graphviz"
                else:
                    svg = engine.run(view_to_dot(graph, view, options), "svg", timeout=60, cancel=self._gone)
                    if len(svg) > SVG_MAX:
                        out["svg_error"] = f"the picture is {len(svg) >> 20} MiB; collapse more nodes"
                    else:
                        out["svg"] = svg.decode()
            return out

        self.reply(await self.with_checkpoint(build))

    def on_connection_close(self) -> None:
        """The browser moved on (a newer layout, a closed tab): stop this one's Graphviz."""
        self._gone.set()

    @property
    def _gone(self) -> threading.Event:
        if "_gone_event" not in self.__dict__:
            self.__dict__["_gone_event"] = threading.Event()
        return self.__dict__["_gone_event"]  # type: ignore[no-any-return]

    @staticmethod
    def _ref(text: str) -> str | int:
        return int(text) if text.lstrip("-").isdigit() and len(text) < 10 else text


class TensorHandler(CheckpointRoute):
    """``GET tensor?path=P&key=K&slice=0:4,:&bins=30&stats=auto&minus=Q&minus_key=``: a bounded
    preview, and statistics (``auto``: for tensors up to ``payloads.STATS_AUTO_MAX`` elements; ``1``
    always; ``0`` never); with ``minus``, the statistics of ``P[K] - Q[minus_key or K]``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        key = self.arg("key")
        bins = self.int_arg("bins", 30, 0, 1000)
        text = self.get_query_argument("stats", "")
        stats = None if text in ("", "auto") else self.bool_arg("stats", True)
        minus = self.get_query_argument("minus", "") or None
        other_key = self.get_query_argument("minus_key", "") or key
        state = self.state
        other = state.root.resolve(minus) if minus is not None else None

        def build(ckpt: Any, relative: str) -> dict[str, Any]:
            out = payloads.tensor(ckpt, relative, key, self.arg("slice", ""), bins or 0, stats)
            if other is not None:  # the same key in another checkpoint: the Δ histogram of a diff
                with state.cache.use(state.root.files, other) as b:
                    out["delta"] = payloads.delta(ckpt, b, key, other_key, bins or 30)
            return out

        self.reply(await self.with_checkpoint(build, quick=stats is False and other is None))


class DiffHandler(BaseHandler):
    """``GET diff?a=P&b=Q&match=key&atol=&rtol=&only=changed,added&offset=&limit=``: diff rows
    (paged) and the roll-up by subtree; a diff is computed once and kept for paging."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        root = self.state.root
        a, b = root.resolve(self.arg("a")), root.resolve(self.arg("b"))
        match = self.get_query_argument("match", "key")
        if match not in ("key", "full_name", "path"):
            raise BadRequestError(f"match must be key, full_name or path, not {match!r}")
        options = {"match": match, "atol": self.float_arg("atol"), "rtol": self.float_arg("rtol")}
        only = self.get_query_argument("only", "") or ""
        if any(s not in runs.STATUSES for s in only.split(",") if s):
            raise BadRequestError(f"only must list statuses among {', '.join(runs.STATUSES)}, not {only!r}")
        offset = self.int_arg("offset", 0)
        limit = self.int_arg("limit", 200, 1, runs.ROWS_MAX)
        self.reply(await self.run(runs.diff, self.state, a, b, options, only, offset or 0, limit or 200))

    def float_arg(self, name: str) -> float:
        text = self.get_query_argument(name, "") or "0"
        try:
            value = float(text)
        except ValueError:
            raise BadRequestError(f"{name} must be a number, not {text!r}") from None
        if not value >= 0 or value == float("inf"):
            raise BadRequestError(f"{name} must be >= 0 and finite, not {text!r}")
        return value


class TimelineHandler(CheckpointRoute):
    """``GET timeline?path=DIR&variables=TEXT&regex=&bins=30``: statistics of each variable at each
    checkpoint of a CheckpointManager directory (``variables``: a substring or glob of keys)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        directory = self.state.root.resolve(self.arg("path"))
        variables = self.matcher("variables")
        bins = self.int_arg("bins", 30, 1, 200) or 30
        self.reply(await self.run(runs.timeline, self.state, directory, variables, bins))


class ExportHandler(CheckpointRoute):
    """``POST export`` ``{"path", "dest", "select"?, "rename"?, "convert"?: "tf1"|"tf2",
    "overwrite"?}``: a new checkpoint inside the root; XSRF-checked like every POST."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        for name in ("path", "dest"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise BadRequestError(f"export needs {name!r}, a path relative to the server's root")
        select, rename = body.get("select"), body.get("rename")
        if select is not None and not (isinstance(select, list) and all(isinstance(s, str) for s in select)):
            raise BadRequestError("select must be a list of object paths or key globs")
        if rename is not None and not (
            isinstance(rename, dict) and all(isinstance(v, str) for v in rename.values())
        ):
            raise BadRequestError("rename must map old paths to new ones")
        convert = body.get("convert")
        if convert not in (None, "tf1", "tf2"):
            raise BadRequestError(f"convert must be 'tf1' or 'tf2', not {convert!r}")
        overwrite = body.get("overwrite", False) is True
        files = self.state.root.files
        dest = self.state.root.resolve(body["dest"])
        parent, name = posixpath.split(dest)
        if not name or name in (".", ".."):
            raise BadRequestError(f"dest {body['dest']!r} must name a checkpoint prefix")

        def build(ckpt: Any, relative: str) -> dict[str, Any]:
            try:
                dir_fd = files.open_dir(parent)  # the directory, once: every write is relative to it
            except FileNotFoundError:
                raise BadRequestError(f"the directory of {body['dest']!r} does not exist") from None
            try:
                _refuse_source(files, ckpt, dir_fd, name)
                if convert is not None:
                    from ..transform.convert import convert as run_convert

                    run_convert(
                        ckpt,
                        name,
                        convert,
                        select=select,
                        assignment_map=rename,
                        overwrite=overwrite,
                        dir_fd=dir_fd,
                    )
                else:
                    view = ckpt.derive()
                    if select:
                        view = view.select(select)
                    if rename:
                        view = view.rename(rename)
                    view.save(name, overwrite=overwrite, progress=False, dir_fd=dir_fd)
            finally:
                os.close(dir_fd)
            return {"path": dest, "source": relative}

        self.set_status(201)
        self.reply(await self.with_checkpoint(build, path=body["path"]))


def _refuse_source(files: Any, ckpt: Any, dir_fd: int, name: str) -> None:
    """An export onto the checkpoint it reads would rewrite files while reading them."""
    if ckpt.format != "bundle":
        return
    source_dir = files.stat(posixpath.dirname(ckpt.path))
    here = os.fstat(dir_fd)
    same_dir = source_dir is not None and (source_dir.st_dev, source_dir.st_ino) == (here.st_dev, here.st_ino)
    if same_dir and posixpath.basename(ckpt.path) == name:
        raise InvalidArgumentError(
            f"{name} is the checkpoint being read; export to another prefix (its source is never modified)"
        )
