"""``TimelineView``: a CheckpointManager run over time (``ckptviz.timeline``): the heatmap of
relative change per variable and step, one variable's lines (mean ± std, min, max, norm) and its
histograms offset by step. It follows a live run: while the widget is shown it polls the run's
``checkpoint`` file and reads only the new checkpoints; hidden or closed, it stops polling."""

from __future__ import annotations

import os
import threading
from typing import Any

import traitlets

from ..format import naming
from ..format.stamp import file_stamp
from .base import Task, View, esm, shown

ROWS = 80  # variables in the heatmap: the most changed first
HISTOGRAM_STEPS = 8  # offset histograms of the last steps


def run_timeline(run: str, task: Task, previous: Any = None) -> Any:
    """The model layer's timeline (only new checkpoints are read when ``previous`` is given)."""
    from ..model.timeline import timeline

    progress = task.reporter(lambda done, total: f"reading checkpoint {done} of {total}")
    return previous.refresh(progress=progress) if previous is not None else timeline(run, progress=progress)


def _signature(run: str) -> Any:
    """The run's ``checkpoint`` file's stamp: it changes with every save."""
    return file_stamp(os.path.join(run, naming.STATE_FILENAME))


class TimelineView(View):
    """``run`` is a CheckpointManager directory. ``follow`` polls it every ``interval`` seconds
    while ``visible`` (the browser reports it); ``close()`` stops for good."""

    _esm = traitlets.Unicode(esm("timeline.js")).tag(sync=True)

    steps = traitlets.List(traitlets.Int()).tag(sync=True)
    variables = traitlets.List(traitlets.Unicode()).tag(sync=True)
    matrix: traitlets.List[Any] = traitlets.List().tag(
        sync=True
    )  # matrix[variable][step]: relative change or None
    key = traitlets.Unicode("").tag(sync=True)
    series = traitlets.Dict().tag(sync=True)
    follow = traitlets.Bool(True).tag(sync=True)
    visible = traitlets.Bool(True).tag(sync=True)
    interval = traitlets.Float(2.0).tag(sync=True)
    polls = traitlets.Int(0).tag(sync=True)

    ACTIONS = ("cancel", "poll")

    def __init__(
        self,
        run: str | os.PathLike[str],
        *,
        follow: bool = True,
        interval: float = 2.0,
        start: bool = True,
        **kwargs: Any,
    ) -> None:
        self._stop = threading.Event()
        self.run = os.fspath(run)
        if not os.path.isdir(self.run) or naming.get_checkpoint_state(self.run) is None:
            raise ValueError(f"{self.run!r} is not a CheckpointManager directory (it has no checkpoint file)")
        self.result: Any = None
        self._seen: tuple[int, int] | None = None
        super().__init__(follow=follow, interval=interval, **kwargs)
        if start:  # else the first poll waits for the widget to be shown (an explorer's tab)
            self.poll()
        self._poller = threading.Thread(target=self._poll_loop, name="ckptviz timeline poll", daemon=True)
        self._poller.start()

    # -- following a run -----------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self.follow and self.visible and not self.busy:
                self.poll()

    @shown
    def poll(self) -> bool:
        """Read the run again if its ``checkpoint`` file changed; True when it did."""
        signature = _signature(self.run)
        if signature == self._seen:
            return False
        self._seen = signature
        self.polls += 1
        previous = self.result
        self.start("timeline", lambda task: run_timeline(self.run, task, previous), self._finished)
        return True

    @property
    def polling(self) -> bool:
        return self._poller.is_alive()

    def close(self) -> None:
        """Stop polling and close the widget."""
        stop = getattr(self, "_stop", None)  # also from __del__ of a view whose construction failed
        if stop is not None:
            stop.set()
        if getattr(self, "_task", None) is not None:
            self.cancel()
        super().close()

    # -- what is drawn -------------------------------------------------------------------------------

    def _finished(self, result: Any) -> None:
        self.result = result
        record = result.to_dict()
        self._record = record
        steps = [s["step"] for s in record["steps"]]
        change = {
            key: [s["relative_change"] if s else None for s in v["series"]]
            for key, v in record["variables"].items()
        }
        ranked = sorted(change, key=lambda k: -max((x for x in change[k] if x is not None), default=0.0))[
            :ROWS
        ]
        with self.hold_sync():
            self.steps, self.variables = steps, ranked
            self.matrix = [change[k] for k in ranked]
        if not self.key and ranked:
            self.key = ranked[0]
        else:
            self._show_series()

    @traitlets.observe("key")
    def _key_changed(self, change: Any) -> None:
        self._show_series()

    @shown
    def _show_series(self) -> None:
        record = getattr(self, "_record", None)
        if record is None or not self.key:
            return
        if self.key not in record["variables"]:
            raise KeyError(f"{self.key!r} is not a numeric variable of this run")
        v = record["variables"][self.key]
        series = v["series"]
        lines = {
            m: [s[m] if s else None for s in series]
            for m in ("mean", "std", "min", "max", "norm", "relative_change")
        }
        shown_steps = list(range(len(series)))[-HISTOGRAM_STEPS:]
        histograms = [
            {"step": self.steps[i], "counts": series[i]["counts"]} for i in shown_steps if series[i]
        ]
        self.series = {
            "key": self.key,
            "steps": self.steps,
            "lines": lines,
            "edges": v["edges"],
            "histograms": histograms,
        }
