"""What every view shares: its ESM (a view's file after ``common.js``), error and progress traits,
and long work on a worker thread that the widget can cancel.

Errors never reach the kernel's log as tracebacks: a handler wrapped in ``shown`` puts the
exception's one-line message in the ``error`` trait, which the browser shows above the view.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anywidget
import traitlets

from ..format.progress import Progress

HERE = Path(__file__).parent
F = TypeVar("F", bound=Callable[..., Any])


def esm(name: str) -> str:
    """The ESM of a view: the shared drawing helpers, then the view's own ``render``."""
    return (HERE / "common.js").read_text() + "\n" + (HERE / name).read_text()


def css() -> str:
    return (HERE / "widgets.css").read_text()


def message(error: BaseException) -> str:
    """One sentence for the user: ckptviz errors are written to be read; others get their type."""
    from ..errors import CheckpointError

    if isinstance(error, KeyError) and not isinstance(error, CheckpointError) and error.args:
        text = str(error.args[0])  # str(KeyError) would quote it
    else:
        text = str(error) or type(error).__name__
    if isinstance(error, (CheckpointError, ValueError, TypeError, LookupError, OSError)):
        return text
    return f"{type(error).__name__}: {text}"


def shown(method: F) -> F:
    """Run ``method``; an exception becomes the widget's ``error`` message (and is not re-raised)."""

    @functools.wraps(method)
    def wrapper(self: View, *args: Any, **kwargs: Any) -> Any:
        try:
            out = method(self, *args, **kwargs)
        except Exception as e:  # shown to the user in the widget, by design
            self.error = message(e)
            return None
        return out

    return wrapper  # type: ignore[return-value]


class Cancelled(Exception):
    """Raised inside a task's work function when the user pressed Cancel."""


class Task:
    """A piece of long work on a daemon thread: ``progress(fraction, text)`` reports and raises
    ``Cancelled`` once ``cancel()`` was called."""

    def __init__(self, view: View, label: str, work: Callable[[Task], Any], done: Callable[[Any], None]):
        self.view, self.label = view, label
        self.cancelled = threading.Event()
        self._work, self._done = work, done
        self.thread = threading.Thread(target=self._run, name=f"ckptviz {label}", daemon=True)

    def progress(self, fraction: float | None = None, text: str | None = None) -> None:
        if self.cancelled.is_set():
            raise Cancelled(self.label)
        if fraction is not None:
            self.view.progress = max(0.0, min(1.0, float(fraction)))
        if text is not None:
            self.view.status = text

    def reporter(self, text: Callable[[int, int], str]) -> Progress:
        """The model layer's ``(done, total)`` progress (``format.progress``) as this task's bar,
        with ``text(done, total)`` as its status; Cancel stops the work at its next report."""

        def report(done: int, total: int) -> None:
            if done >= 0:
                self.progress(done / total if total else None, text(done, total))

        return report

    def cancel(self) -> None:
        self.cancelled.set()

    def _run(self) -> None:
        view = self.view
        try:
            result = self._work(self)
            if self.cancelled.is_set():
                raise Cancelled(self.label)
            self._done(result)
            view.status = ""
        except Cancelled:
            view.status = f"{self.label}: cancelled"
        except Exception as e:  # shown in the widget, by design
            view.error = message(e)
            view.status = ""
        finally:
            view.busy = False
            view.progress = 0.0
            if view._task is self:
                view._task = None


class View(anywidget.AnyWidget):
    """Base of the views: ``error`` (one line, shown in red), ``status``/``progress``/``busy``
    for long work, and the ``cancel`` message from the browser."""

    _css = traitlets.Unicode(css()).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._task: Task | None = None
        self.on_msg(self._on_message)

    # Messages from the browser: {"do": name, ...arguments}; each maps to a public method.
    ACTIONS: tuple[str, ...] = ("cancel",)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("do") not in self.ACTIONS:
            self.error = f"unknown request from the browser: {content!r}"
            return
        self.error = ""
        args = {k: v for k, v in content.items() if k != "do"}
        shown(lambda view, **kw: getattr(view, content["do"])(**kw))(self, **args)

    def start(self, label: str, work: Callable[[Task], Any], done: Callable[[Any], None]) -> Task:
        """Run ``work(task)`` off the kernel's main thread; ``done(result)`` when it finishes."""
        self.cancel()
        task = Task(self, label, work, done)
        self._task, self.busy, self.error, self.status = task, True, "", f"{label}…"
        task.thread.start()
        return task

    def cancel(self) -> None:
        """Stop the running task, if any (its result is dropped)."""
        if self._task is not None:
            self._task.cancel()

    def join(self, timeout: float | None = 60) -> None:
        """Wait for the running task (tests and scripts; the notebook never needs to)."""
        task = self._task
        if task is not None:
            task.thread.join(timeout)
            if task.thread.is_alive():
                raise TimeoutError(f"{task.label} still running after {timeout} s")
