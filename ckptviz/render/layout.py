"""Lay DOT out with a Graphviz engine and export pictures.

Engines, in order: the system ``dot`` on PATH (faster, and it writes PDF), else the command of the
``graphviz-pure`` package, a dependency of ckptviz (a static port: SVG/PNG/JPEG, no PDF), so a plain
``pip install ckptviz`` draws. Both run as a subprocess fed DOT on stdin, which is all the
``graphviz`` Python package would do. DOT export needs no engine. Every failure is one
``LayoutError`` or ``UnsupportedCheckpointError`` line saying what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import (
    CheckpointError,
    LargeGraphWarning,
    LayoutCancelledError,
    LayoutError,
    LayoutTimeoutError,
    UnsupportedCheckpointError,
)
from ..model.checkpoint import Checkpoint
from ..model.graph import ObjectGraph
from .dot import view_to_dot
from .plan import DEFAULT_MAX_NODES, DrawOptions, Plan, select_view

TEXT_FORMATS = {"dot", "gv"}
HOW_TO_GET_ONE = (
    "ckptviz depends on graphviz-pure (`pip install graphviz-pure` restores it in this environment), "
    "or install Graphviz (`apt-get install graphviz`, `brew install graphviz`); a '.dot' file needs none"
)
TOO_BIG = "draw fewer nodes (--max-nodes, --depth or --focus; max_nodes, max_depth or focus in Python)"


@dataclass(frozen=True)
class Engine:
    """A Graphviz command: ``name`` is ``dot`` or ``graphviz-pure``; ``command`` its executable."""

    name: str
    command: str

    @property
    def formats(self) -> frozenset[str]:
        return _formats(self.command)

    def run(self, dot: str, fmt: str, timeout: float = 300, cancel: threading.Event | None = None) -> bytes:
        """The ``fmt`` output of laying out ``dot`` (``LayoutError``, one line, on failure).

        The Graphviz process is killed when ``timeout`` seconds pass (``LayoutTimeoutError``) or
        ``cancel`` is set (``LayoutCancelledError``): a layout never outlives who asked for it."""
        try:
            process = subprocess.Popen(
                [self.command, f"-T{fmt}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as e:
            raise LayoutError(
                f"cannot run {self.name} ({self.command}): {e.strerror or e}; {HOW_TO_GET_ONE}"
            ) from None
        deadline = time.monotonic() + timeout
        data: bytes | None = dot.encode()
        try:
            while True:
                try:
                    out, err = process.communicate(data, timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    data = None  # sent; a retry must not send it again
                    if cancel is not None and cancel.is_set():
                        raise LayoutCancelledError(f"the {self.name} layout was cancelled") from None
                    if time.monotonic() > deadline:
                        raise LayoutTimeoutError(
                            f"{self.name} did not finish the layout in {timeout:g} s and was stopped"
                        ) from None
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        if process.returncode != 0:
            formats = self.formats  # asked only now: a layout that works costs no second process
            if fmt not in formats:
                raise UnsupportedCheckpointError(
                    f"{self.name} cannot write {fmt!r} (it writes {', '.join(sorted(_PICTURES & formats))})"
                    + ("; PDF needs the system Graphviz: `apt-get install graphviz`" if fmt == "pdf" else "")
                )
            said = " ".join(err.decode(errors="replace").split())
            raise LayoutError(
                f"{self.name} could not lay the graph out as {fmt} (exit {process.returncode}): "
                f"{_cut(said) or 'no message'}; save it as .dot, or try the other engine (--engine)"
            )
        return out


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Past this many drawn nodes Graphviz takes from seconds to minutes (a 2000-node DAG took 1-2.6 s
# here; ranks of thousands far longer) and the picture is too big to read.
LARGE_GRAPH = 1500


LAYOUT_TIMEOUT = 300.0  # seconds an exported picture's layout may take
FOLD_HINT = (
    f"fold it with max_depth (--depth N), draw one part with focus (--focus PATH) or filter, "
    f"or keep max_nodes (--max-nodes) at a few hundred (default {DEFAULT_MAX_NODES})"
)


def warn_if_large(plan: Plan) -> None:
    """Warn (``LargeGraphWarning``) before Graphviz runs on a plan of thousands of nodes."""
    n = len(plan.nodes)
    if n > LARGE_GRAPH:
        warnings.warn(
            LargeGraphWarning(
                f"the picture has {n} nodes: its layout may take minutes and it will be too big to read; {FOLD_HINT}"
            ),
            stacklevel=3,
        )


_PICTURES = frozenset({"svg", "png", "pdf", "jpeg", "jpg", "gif", "ps", "eps"})


def _formats(command: str) -> frozenset[str]:
    """Output formats the engine lists for ``-T?`` (``png:cairo`` counts as ``png``)."""
    try:
        done = subprocess.run([command, "-T?"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LayoutError(
            f"cannot run {command}: {getattr(e, 'strerror', None) or e}; {HOW_TO_GET_ONE}"
        ) from None
    text = (done.stderr + done.stdout).split("Use one of:", 1)[-1]
    return frozenset(word.split(":", 1)[0] for word in text.split())


def find_engine(engine: str | None = None) -> Engine | None:
    """The engine to use: ``engine`` may be ``"dot"``, ``"graphviz-pure"`` or an executable's path;
    ``None`` picks the system ``dot``, else graphviz-pure (also when its script directory, e.g. a
    kernel's venv ``bin``, is not on PATH)."""
    if engine is not None and os.sep in engine:
        return Engine(Path(engine).name, engine) if os.access(engine, os.X_OK) else None
    names = [engine] if engine else ["dot", "graphviz-pure"]
    for name in names:
        found = shutil.which(name)
        if found is None:
            scripts = {sysconfig.get_path("scripts"), str(Path(sys.executable).parent)}
            found = next((str(p) for d in scripts if os.access(p := Path(d) / name, os.X_OK)), None)
        if found is not None:
            return Engine(name, found)
    return None


def require_engine(engine: str | None, target: str, verb: str = "write") -> Engine:
    """``find_engine(engine)``, or a one-line error: ``cannot <verb> <target>: … was not found; …``."""
    found = find_engine(engine)
    if found is None:
        which = (
            f"the Graphviz engine {engine!r}"
            if engine
            else "a Graphviz layout engine (`dot` or graphviz-pure)"
        )
        raise UnsupportedCheckpointError(f"cannot {verb} {target}: {which} was not found; {HOW_TO_GET_ONE}")
    return found


def as_graph(source: Any) -> ObjectGraph:
    """An ObjectGraph from a checkpoint path, a Checkpoint or an ObjectGraph."""
    if isinstance(source, ObjectGraph):
        return source
    if isinstance(source, Checkpoint):
        return source.graph
    if isinstance(source, (str, os.PathLike)):
        from ..model.checkpoint import open as open_checkpoint

        return open_checkpoint(os.fspath(source)).graph
    raise TypeError(
        f"expected a checkpoint path, a Checkpoint or an ObjectGraph, not {type(source).__name__}"
    )


def dot_and_plan(graph: ObjectGraph, options: DrawOptions) -> tuple[str, Plan]:
    plan = select_view(graph, options)
    return view_to_dot(graph, plan, options), plan


def render(source: Any, fmt: str = "svg", engine: str | None = None, **options: Any) -> bytes:
    """The picture of ``source``'s graph as bytes (``fmt`` ``dot`` needs no engine); warns with
    ``LargeGraphWarning`` before laying out thousands of nodes."""
    dot, plan = dot_and_plan(as_graph(source), DrawOptions(**options))
    if fmt in TEXT_FORMATS:
        return dot.encode()
    found = require_engine(engine, f"{fmt!r}")
    warn_if_large(plan)
    try:
        return found.run(dot, fmt, timeout=LAYOUT_TIMEOUT)
    except LayoutTimeoutError as e:
        raise LayoutTimeoutError(f"{e}: the picture has {len(plan.nodes)} nodes; {FOLD_HINT}") from None


def export_graph(
    source: Any,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,  # noqa: A002 - the name graphviz and pydot use
    engine: str | None = None,
    **options: Any,
) -> Path:
    """Write the dependency graph of ``source`` (a checkpoint path, Checkpoint or ObjectGraph) to
    ``path``; the format follows the extension (``.svg``, ``.png``, ``.pdf``, ``.dot``) unless
    ``format`` is given. ``options`` are ``DrawOptions``'s: ``max_nodes=100``, ``max_depth``,
    ``collapse``, ``expand``, ``focus``, ``filter``, ``select``, ``hide_empty``, ``slots``, ``legend``,
    ``rankdir``, ``title``. Returns the path written."""
    out = Path(path)
    fmt = (format or out.suffix.lstrip(".")).lower()
    if not fmt:
        raise ValueError(
            f"cannot tell the format of {str(out)!r}: give it an extension (.svg, .png, .pdf, .dot)"
        )
    graph = as_graph(source)
    if fmt not in TEXT_FORMATS:
        require_engine(engine, repr(str(out)))  # fail before any work
    data = render(graph, fmt, engine, **options)
    out.write_bytes(data)
    return out


def mimebundle(
    graph: ObjectGraph, engine: str | None = None, fmt: str = "svg", **options: Any
) -> dict[str, str]:
    """Jupyter's display data: SVG (or PNG, base64) when an engine is found, else text saying how
    to get one."""
    dot, plan = dot_and_plan(graph, DrawOptions(**options))
    return bundle_of(graph, dot, plan, engine, fmt)


def bundle_of(
    graph: ObjectGraph, dot: str, plan: Plan, engine: str | None = None, fmt: str = "svg"
) -> dict[str, str]:
    bundle = {"text/plain": repr(graph)}
    found = find_engine(engine)
    if found is None:
        which = f"the Graphviz engine {engine!r} was not found" if engine else "no Graphviz engine to draw it"
        bundle["text/plain"] += f"\n({which}: {HOW_TO_GET_ONE})"
        return bundle
    warn_if_large(plan)
    try:
        picture = found.run(dot, "png" if fmt == "png" else "svg")
    except CheckpointError as e:  # a notebook shows the line, not a formatter's traceback
        bundle["text/plain"] += f"\n({e})"
        return bundle
    if fmt == "png":
        import base64

        bundle["image/png"] = base64.b64encode(picture).decode()
    else:
        bundle["image/svg+xml"] = picture.decode()
    return bundle
