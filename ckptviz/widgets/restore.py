"""``RestoreView``: choose subtrees (picked in the graph or the table, or typed), name a live
object of the notebook, see the will-it-load report, then restore into it (all or nothing), save
the selection as a new checkpoint, or copy the equivalent code.

``root`` is the checkpoint subtree the live object stands for: ``net`` to restore the checkpoint's
``net/...`` into a Keras model named ``model`` (restored as ``tf.train.Checkpoint(net=model)``).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Any

import traitlets

from ..model.paths import split_slot_path, unescape_local_name
from .base import View, esm, shown
from .source import Source

SHOWN_ROWS = 200


def live_object(name: str, namespace: Mapping[str, Any]) -> Any:
    """``model`` or ``model.optimizer`` from the notebook's variables (attribute access only)."""
    parts = name.strip().split(".")
    if not name.strip() or not all(p.isidentifier() for p in parts):
        raise ValueError(f"{name!r} is not a variable name (use e.g. model or ckpt.net)")
    if parts[0] not in namespace:
        raise NameError(f"no variable named {parts[0]!r} in the notebook; create the object first")
    obj = namespace[parts[0]]
    for p in parts[1:]:
        obj = getattr(obj, p)
    return obj


def notebook_namespace() -> Mapping[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("not in a notebook: pass namespace= (e.g. globals()) to RestoreView")
    return shell.user_ns  # type: ignore[no-any-return]


def attribute_path(target: str, path: str) -> str | None:
    """Python that reaches the object at checkpoint ``path`` from ``target``: ``model.l1._kernel``,
    ``model._operations[3]``; None for slot variables (their optimizer owns them)."""
    if split_slot_path(path) is not None:
        return None
    out = target
    for part in path.split("/") if path else []:
        name = unescape_local_name(part)
        if name.isdigit():
            out += f"[{name}]"
        elif name.isidentifier() and not keyword.iskeyword(name):
            out += f".{name}"
        else:
            out = f"getattr({out}, {name!r})"
    return out


class RestoreView(View):
    """``paths`` (object paths or key globs; empty: everything under ``root``), ``target`` (a
    variable name), ``root``; ``report`` after ``check()``, ``result`` after ``restore()`` or
    ``save()``, ``code`` always."""

    _esm = traitlets.Unicode(esm("restore.js")).tag(sync=True)

    paths = traitlets.List(traitlets.Unicode()).tag(sync=True)
    target = traitlets.Unicode("").tag(sync=True)
    root = traitlets.Unicode("").tag(sync=True)
    save_to = traitlets.Unicode("").tag(sync=True)
    report = traitlets.Dict().tag(sync=True)
    result = traitlets.Unicode("").tag(sync=True)
    code = traitlets.Dict().tag(sync=True)

    ACTIONS = ("cancel", "check", "restore", "save", "set_paths")

    def __init__(self, source: Any, namespace: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.source = Source.of(source)
        self._namespace = namespace
        self.colours: dict[
            int, str
        ] = {}  # node of the source checkpoint -> will-it-load status, for the graph
        super().__init__(**kwargs)
        self._update_code()

    # -- what is chosen -----------------------------------------------------------------------------

    def _selection(self) -> list[str] | None:
        root = self.root.strip("/")
        return list(self.paths) or ([root] if root else None)

    def _view(self) -> Any:
        select = self._selection()
        view = self.source.checkpoint.derive()
        return view.select(select) if select else view

    def _object(self) -> Any:
        """The live object, placed where ``root`` is in the checkpoint: ``model`` as ``net`` is
        ``tf.train.Checkpoint(net=model)`` (a dict ``{"net": model}`` for numpy trees)."""
        if not self.target.strip():
            raise ValueError("type the name of the object to restore into (a variable of the notebook)")
        obj = live_object(
            self.target, self._namespace if self._namespace is not None else notebook_namespace()
        )
        for segment in reversed([s for s in self.root.strip("/").split("/") if s]):
            name = unescape_local_name(segment)
            obj = (
                {name: obj}
                if isinstance(obj, (Mapping, list, tuple))
                else _tf().train.Checkpoint(**{name: obj})
            )
        if hasattr(obj, "save_counter"):
            _ = obj.save_counter  # made on first use; restore makes it too, so check and restore agree
        return obj

    def _into(self) -> str:
        """``_object()`` as code."""
        out = self.target.strip() or "model"
        for segment in reversed([s for s in self.root.strip("/").split("/") if s]):
            name = unescape_local_name(segment)
            kwarg = (
                f"{name}={out}"
                if name.isidentifier() and not keyword.iskeyword(name)
                else f"**{{{name!r}: {out}}}"
            )
            out = f"tf.train.Checkpoint({kwarg})"
        return out

    def set_paths(self, paths: list[str]) -> None:
        self.paths = [p.strip() for p in paths if p.strip()]

    @traitlets.observe("paths", "target", "root")
    def _choice_changed(self, change: Any) -> None:
        self.report, self.result = {}, ""
        self._update_code()

    # -- actions -----------------------------------------------------------------------------------

    @shown
    def check(self) -> dict[str, Any]:
        """The will-it-load report of the selection against the live object."""
        from ..live.match import check

        self.error = self.result = ""
        view = self._view()
        report = check(view, self._object())
        record = report.to_dict()
        self.colours = _colours(self.source, record, view)
        self.report = _report_record(record)
        self._update_code(record)
        return self.report

    @shown
    def restore(self) -> str:
        """Restore the selection into the live object, all or nothing; refuses when nothing loads."""
        from ..live.match import check
        from ..live.restore import restore

        self.error = self.result = ""
        obj = self._object()
        view = self._view()
        report = check(view, obj)
        record = report.to_dict()
        self.colours = _colours(self.source, record, view)
        self.report = _report_record(record)
        if not record["counts"]["matched"]:
            raise ValueError(
                f"nothing to restore: none of the {len(record['rows'])} values pairs a checkpoint value with a "
                f"variable of {self.target} (check the paths and the subtree it stands for)"
            )
        status = restore(self.source.checkpoint, into=obj, select=self._selection())
        self.result = f"restored {len(status.matched)} value(s) into {self.target}"
        self._update_code(record)
        return self.result

    @shown
    def save(self, prefix: str | None = None) -> str:
        """Write the selection (renamed as it would load) as a new checkpoint at ``prefix``."""
        prefix = (prefix or self.save_to).strip()
        if not prefix:
            raise ValueError("type a prefix to save to (e.g. /tmp/partial/ckpt)")
        self.error = ""
        view = self._view()
        if not len(view):
            raise ValueError("the selection holds no values; nothing saved")
        written = view.save(prefix)
        self.result = f"saved {len(view)} value(s) to {written}"
        return self.result

    # -- code ----------------------------------------------------------------------------------------

    def _update_code(self, report: Any = None) -> None:
        select = self._selection()
        into = self._into()
        args = [repr(self.source.path), f"into={into}"]
        if select:
            args.append(f"select={select!r}")
        head = "import ckptviz\n" + ("import tensorflow as tf\n" if into.startswith("tf.") else "")
        code = {"ckptviz": f"{head}\nckptviz.restore({', '.join(args)})\n"}
        if report is not None:
            target, root = self.target.strip() or "model", self.root.strip("/")
            code["tensorflow"] = _tf_code(self.source.path, target, root, report, self._view())
        self.code = code


_RANK = {"matched": 0, "missing": 1, "mismatched": 2}


def _colours(source: Source, report: dict[str, Any], view: Any) -> dict[int, str]:
    """``{node of the source checkpoint: matched | missing | mismatched}`` (a node is as bad as its
    worst value). A selection or rename renumbers the view's nodes, so this goes through keys."""
    out: dict[int, str] = {}
    for key, status in report["by_key"].items():
        node = source.node_of_key(view.keys_map.get(key, key))
        if node is not None and _RANK[status] >= _RANK[out.get(node, "matched")]:
            out[node] = status
    return out


def _report_record(report: dict[str, Any]) -> dict[str, Any]:
    """``CheckReport.to_dict()`` cut to what the view shows: counts and the first rows."""

    def spec(s: dict[str, Any] | None) -> str:
        return "-" if s is None else f"{s['dtype']}{s['shape']}"

    rows = report["rows"]
    return {
        "ok": report["ok"],
        "counts": {k: v for k, v in report["counts"].items() if v},
        "rows": [
            [r["status"], r["path"], spec(r["checkpoint"]), spec(r["object"])] for r in rows[:SHOWN_ROWS]
        ],
        "more": max(0, len(rows) - SHOWN_ROWS),
    }


def _tf() -> Any:
    from ..live.tf import TFAdapter

    return TFAdapter().tf


def _tf_code(path: str, target: str, root: str, report: dict[str, Any], view: Any) -> str:
    """Plain TensorFlow that does the same restore: read every value first, then assign."""
    lines = ["import tensorflow as tf", "", f"reader = tf.train.load_checkpoint({path!r})", "pairs = ["]
    skipped = []
    graph = view.graph
    base = graph.home_path(graph.resolve(root).id) if root else ""
    for r in report["rows"]:
        if r["status"] != "matched" or not r["key"]:
            continue
        # Python reaches objects along real edges (``model._operations[3]._kernel``), not shown names
        home = graph.home_path(r["node_id"]) if r["node_id"] is not None else r["path"]
        inside = home[len(base) :].lstrip("/") if base and home.startswith(base) else home
        expr = attribute_path(target, inside) if not base or home != inside else None
        if expr is None:
            skipped.append(r["path"])
            continue
        lines.append(f"    ({expr}, {view.keys_map.get(r['key'], r['key'])!r}),")
    lines += [
        "]",
        "values = [reader.get_tensor(key) for _, key in pairs]  # read all before assigning any",
        "for (variable, _), value in zip(pairs, values):",
        "    variable.assign(value)",
    ]
    if skipped:
        lines.append(
            f"# not covered here (slot variables, objects outside {target}): {', '.join(skipped[:5])}"
        )
    return "\n".join(lines) + "\n"
