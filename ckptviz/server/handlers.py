"""The REST routes under ``{base_url}/ckptviz/api/``: one small handler per concept."""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..format import naming
from ..render.dot import view_to_dot
from ..render.layout import find_engine
from ..render.plan import select_view
from . import listing, payloads, runs
from .base import BaseHandler
from .paths import BadRequestError

SVG_MAX = 8 << 20  # bytes of one graph picture


class CheckpointsHandler(BaseHandler):
    """``GET checkpoints?path=DIR``: the checkpoints in a directory."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        directory = self.state.root.resolve(self.arg("path", ""))
        self.reply(await self.run(listing.scan, self.state.root, directory))


class CheckpointRoute(BaseHandler):
    """A route about one checkpoint, named by ``path`` relative to the root."""

    async def with_checkpoint(self, build: Any, *args: Any, path: str | None = None) -> Any:
        """``build(checkpoint, relative path, *args)`` on a reader thread, the checkpoint cached."""
        text = self.arg("path") if path is None else path

        def work() -> Any:
            absolute = self.state.root.resolve(text)
            location, relative = self.state.root.locate(absolute), self.state.root.relative(absolute)
            with self.state.cache.use(location) as ckpt:
                return build(ckpt, relative, *args)

        return await self.run(work)


class EntriesHandler(CheckpointRoute):
    """``GET entries?path=P&offset=&limit=&match=&code_path=``: one page of entries, and the code
    that restores the checkpoint (naming it ``code_path``, else ``path``)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        offset = self.int_arg("offset", 0)
        limit = self.int_arg("limit", 200, 1, payloads.PAGE_MAX)
        code_path = self.get_query_argument("code_path", "") or None  # the path as the notebook sees it
        self.reply(
            await self.with_checkpoint(payloads.entries, offset, limit, self.arg("match", ""), code_path)
        )


class GraphHandler(CheckpointRoute):
    """``GET graph?path=P&max_nodes=&max_depth=&collapse=&expand=&focus=&filter=&slots=&svg=``:
    the render plan and, unless ``svg=0``, its SVG."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        options = payloads.graph_options(
            {
                "max_nodes": self.int_arg("max_nodes", 300, 1, payloads.GRAPH_MAX_NODES),
                "max_depth": self.int_arg("max_depth", None, 0),
                "collapse": [self._ref(r) for r in self.get_query_arguments("collapse")],
                "expand": [self._ref(r) for r in self.get_query_arguments("expand")],
                "focus": self._ref(self.get_query_argument("focus", "")) or None,
                "filter": self.get_query_argument("filter", "") or None,
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
            try:
                view = select_view(graph, options)
            except re.error as e:  # a bad filter: re.error is not a ValueError
                raise BadRequestError(f"filter is not a regular expression: {e}") from None
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
        return int(text) if text.lstrip("-").isdigit() else text


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
        root, cache = self.state.root, self.state.cache

        def build(ckpt: Any, relative: str) -> dict[str, Any]:
            out = payloads.tensor(ckpt, relative, key, self.arg("slice", ""), bins or 0, stats)
            if minus is not None:  # the same key in another checkpoint: the Δ histogram of a diff
                with cache.use(root.locate(root.resolve(minus))) as other:
                    out["delta"] = payloads.delta(ckpt, other, key, other_key, bins or 30)
            return out

        self.reply(await self.with_checkpoint(build))


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
        only = self.get_query_argument("only", "")
        if any(s not in runs.STATUSES for s in only.split(",") if s):
            raise BadRequestError(f"only must list statuses among {', '.join(runs.STATUSES)}, not {only!r}")
        offset = self.int_arg("offset", 0)
        limit = self.int_arg("limit", 200, 1, runs.ROWS_MAX)

        def work() -> Any:
            la, lb = root.locate(a), root.locate(b)
            with self.state.cache.use(la) as ca, self.state.cache.use(lb) as cb:
                stamp = (la.path, lb.path, stamp_of(la), stamp_of(lb), tuple(sorted(options.items())))
                return runs.diff(root, ca, cb, stamp, options, only, offset or 0, limit or 200)

        self.reply(await self.run(work))

    def float_arg(self, name: str) -> float:
        text = self.get_query_argument(name, "") or "0"
        try:
            value = float(text)
        except ValueError:
            raise BadRequestError(f"{name} must be a number, not {text!r}") from None
        if not value >= 0:
            raise BadRequestError(f"{name} must be >= 0, not {text!r}")
        return value


class TimelineHandler(BaseHandler):
    """``GET timeline?path=DIR&variables=REGEX&bins=30``: statistics of each variable at each
    checkpoint of a CheckpointManager directory."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        directory = self.state.root.resolve(self.arg("path"))
        variables = self.get_query_argument("variables", "") or None
        if variables is not None:
            try:
                re.compile(variables)
            except re.error as e:
                raise BadRequestError(f"variables is not a regular expression: {e}") from None
        bins = self.int_arg("bins", 30, 1, 200) or 30
        self.reply(await self.run(runs.timeline, self.state.root, directory, variables, bins))


def stamp_of(location: Any) -> tuple[float, int]:
    file = naming.index_file(location.path) if location.kind == "bundle" else location.path
    st = os.stat(file)
    return (st.st_mtime, st.st_size)


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
        root = self.state.root
        dest = root.resolve(body["dest"])
        if not os.path.isdir(os.path.dirname(dest)):
            raise BadRequestError(f"the directory of {body['dest']!r} does not exist")
        for file in [naming.index_file(dest), *naming_glob(dest)]:
            root.check(file)  # an existing file there must not be a symlink out of the root

        def build(ckpt: Any, relative: str) -> dict[str, Any]:
            if convert is not None:
                from ..transform.convert import convert as run_convert

                run_convert(ckpt, dest, convert, select=select, assignment_map=rename, overwrite=overwrite)
            else:
                view = ckpt.derive()
                if select:
                    view = view.select(select)
                if rename:
                    view = view.rename(rename)
                view.save(dest, overwrite=overwrite, progress=False)
            return {"path": root.relative(dest), "source": relative}

        self.set_status(201)
        self.reply(await self.with_checkpoint(build, path=body["path"]))


def naming_glob(prefix: str) -> list[str]:
    import glob

    return glob.glob(glob.escape(prefix) + ".data-*")
