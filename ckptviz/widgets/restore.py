"""``RestoreView``: choose subtrees (picked in the graph or the table, or typed), name a live
object of the notebook, see the will-it-load report, then restore into it (all or nothing), save
the selection as a new checkpoint, or copy the equivalent code.

``root`` is the checkpoint subtree the live object stands for: ``net`` to restore the checkpoint's
``net/...`` into a Keras model named ``model`` (an assignment map ``{"net/": "/"}``).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Any

import traitlets

from ..format.naming import unescape_local_name
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
    if ".OPTIMIZER_SLOT" in path:
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
        self.colours: dict[int | str, str] = {}  # source checkpoint key -> will-it-load status, for the graph
        super().__init__(**kwargs)
        self._update_code()

    # -- what is chosen -----------------------------------------------------------------------------

    def _selection(self) -> tuple[list[str] | None, dict[str, str] | None]:
        root = self.root.strip("/")
        paths = list(self.paths) or ([root] if root else [])
        return paths or None, ({f"{root}/": "/"} if root else None)

    def _view(self) -> Any:
        select, assignment_map = self._selection()
        view = self.source.checkpoint.view()
        if select:
            view = view.select(select)
        return view.rename(assignment_map) if assignment_map else view

    def _object(self) -> Any:
        if not self.target.strip():
            raise ValueError("type the name of the object to restore into (a variable of the notebook)")
        return live_object(
            self.target, self._namespace if self._namespace is not None else notebook_namespace()
        )

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
        from ..model.check import check

        self.error = self.result = ""
        view = self._view()
        report = check(view, self._object())
        self.colours = _colours(report, view)
        self.report = _report_record(report)
        self._update_code(report)
        return self.report

    @shown
    def restore(self) -> str:
        """Restore the selection into the live object, all or nothing; refuses when nothing loads."""
        from ..model.check import check
        from ..model.live import restore

        self.error = self.result = ""
        obj = self._object()
        view = self._view()
        report = check(view, obj)
        self.colours = _colours(report, view)
        self.report = _report_record(report)
        if not report.matched:
            raise ValueError(
                f"nothing to restore: none of the {len(report.rows)} values pairs a checkpoint value with a "
                f"variable of {self.target} (check the paths and the subtree it stands for)"
            )
        select, assignment_map = self._selection()
        status = restore(self.source.checkpoint, into=obj, select=select, assignment_map=assignment_map)
        self.result = f"restored {len(status.matched)} value(s) into {self.target}"
        self._update_code(report)
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
        select, assignment_map = self._selection()
        target = self.target.strip() or "model"
        args = [repr(self.source.path), f"into={target}"]
        if select:
            args.append(f"select={select!r}")
        if assignment_map:
            args.append(f"assignment_map={assignment_map!r}")
        code = {"ckptviz": f"import ckptviz\n\nckptviz.restore({', '.join(args)})\n"}
        if report is not None:
            code["tensorflow"] = _tf_code(self.source.path, target, report, self._view())
        self.code = code


def _colours(report: Any, view: Any) -> dict[int | str, str]:
    """``{key of the source checkpoint: matched | missing | mismatched}``: a selection or rename
    renumbers the view's nodes, so the graph is coloured through keys."""
    status = {"matched": "matched", "mismatched": "mismatched", "missing_in_object": "missing"}
    return {
        view.keys_map.get(r.key, r.key): status[r.status] for r in report.rows if r.key and r.status in status
    }


def _report_record(report: Any) -> dict[str, Any]:
    def spec(s: Any) -> str:
        return "-" if s is None else f"{s[1]}{list(s[0])}"

    counts: dict[str, int] = {}
    for r in report.rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {
        "ok": bool(report.ok),
        "counts": counts,
        "rows": [[r.status, r.path, spec(r.checkpoint), spec(r.object)] for r in report.rows[:SHOWN_ROWS]],
        "more": max(0, len(report.rows) - SHOWN_ROWS),
    }


def _tf_code(path: str, target: str, report: Any, view: Any) -> str:
    """Plain TensorFlow that does the same restore: read every value first, then assign."""
    lines = ["import tensorflow as tf", "", f"reader = tf.train.load_checkpoint({path!r})", "pairs = ["]
    skipped = []
    for r in report.matched:
        expr = attribute_path(target, r.path)
        if expr is None:
            skipped.append(r.path)
            continue
        lines.append(f"    ({expr}, {view.keys_map.get(r.key, r.key)!r}),")
    lines += [
        "]",
        "values = [reader.get_tensor(key) for _, key in pairs]  # read all before assigning any",
        "for (variable, _), value in zip(pairs, values):",
        "    variable.assign(value)",
    ]
    if skipped:
        lines.append(f"# not covered: {len(skipped)} optimizer slot variable(s); restore those with ckptviz")
    return "\n".join(lines) + "\n"
