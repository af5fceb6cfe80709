"""Progress of long work, as the faces want it: a ``(done, total)`` callback, or a tqdm bar.

The one rule for every layer that reports (writes, verification, diffs, timelines): ``done == -1``
means finished (it closes a bar). A caller's own callback gets every call but that.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]  # (units done, units in all)


def reporter(
    progress: bool | Progress | None, total: int | None, *, desc: str, unit: str = "B", auto: bool = False
) -> Progress:
    """``progress`` as a callback: the caller's, a tqdm bar (``True``, or ``None`` when ``auto``), or
    nothing. tqdm is imported only when a bar is drawn. ``total`` None: not known beforehand."""
    if callable(progress):
        user = progress
        return lambda done, t: None if done < 0 else user(done, t)
    if not (progress or (progress is None and auto)):
        return lambda done, t: None
    from tqdm.auto import tqdm

    # An automatic bar draws only on a terminal (tqdm's disable=None): a log or a pipe gets no
    # carriage returns; tqdm's notebook bar treats None as "show".
    bar = tqdm(
        total=total,
        unit=unit,
        unit_scale=unit == "B",
        desc=desc,
        leave=False,
        disable=None if progress is None else False,
    )

    def update(done: int, t: int) -> None:
        if done < 0:
            bar.close()
        else:
            bar.update(done - bar.n)

    return update
