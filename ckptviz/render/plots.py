"""Static pictures of diffs and training runs with matplotlib (imported here, on first use).

Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot: no global state, no
GUI backend, the same in a notebook, a script or a server. Each function returns the Figure and
writes it to ``path`` when given (the extension picks SVG or PNG).
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InvalidArgumentError
from ..model.paths import value_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..model.diff.result import DiffResult
    from ..model.timeline import Timeline


def short(key: str, width: int = 48) -> str:
    """A key as a label: without the ``/.ATTRIBUTES/VARIABLE_VALUE`` tail, middle elided."""
    key = value_path(key)
    return key if len(key) <= width else key[: width // 2 - 1] + "…" + key[-(width // 2) :]


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
        if fmt not in ("svg", "png", "pdf"):
            raise InvalidArgumentError(
                f"cannot tell the picture format of {os.fspath(path)!r}: use .svg, .png or .pdf"
            )
        fig.savefig(path, format=fmt, dpi=120)
    return fig


def svg_text(fig: Figure) -> str:
    """The figure as inline SVG text (for the HTML report)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg") :]


def timeline_heatmap(
    t: Timeline,
    path: str | os.PathLike[str] | None = None,
    *,
    metric: str = "relative_change",
    max_variables: int = 80,
) -> Figure:
    """Variables × steps, coloured by ``metric`` on a log scale: which layers moved, which froze
    (exact zeros are grey, missing values white)."""
    from matplotlib.colors import LogNorm

    m = t.matrix(metric)
    if len(m) > max_variables:  # keep the variables that moved most, in their own order
        keep = m.max(axis=1, skipna=True).fillna(-1).nlargest(max_variables).index
        m = m.loc[[k for k in m.index if k in set(keep)]]
    values = m.to_numpy(dtype=float)
    fig = _figure(min(4 + 0.5 * values.shape[1], 16), min(1.5 + 0.22 * values.shape[0], 24))
    ax = fig.add_subplot()
    positive = values[np.isfinite(values) & (values > 0)]
    grey = np.where(values == 0, 1.0, np.nan)
    ax.imshow(grey, aspect="auto", cmap="Greys", vmin=0, vmax=4, interpolation="nearest")
    shown = np.where(values > 0, values, np.nan)
    if positive.size:
        lo, hi = float(positive.min()), float(positive.max())
        image = ax.imshow(
            shown,
            aspect="auto",
            cmap="viridis",
            norm=LogNorm(lo, hi if hi > lo else lo * 10),
            interpolation="nearest",
        )
        fig.colorbar(image, ax=ax, label=f"{metric.replace('_', ' ')} (log)")
    ax.set_xticks(
        range(len(m.columns)), [str(c) for c in m.columns], rotation=90 if len(m.columns) > 12 else 0
    )
    ax.set_yticks(range(len(m.index)), [short(t.name(k)) for k in m.index], fontsize=7)
    ax.set_xlabel("step")
    ax.set_title(f"{metric.replace('_', ' ')} per variable (grey: exactly 0)")
    return _finish(fig, path)


def timeline_lines(
    t: Timeline,
    path: str | os.PathLike[str] | None = None,
    *,
    metric: str = "norm",
    variables: list[str] | None = None,
    max_variables: int = 12,
) -> Figure:
    """One line per variable of ``metric`` over steps (default: the biggest variables)."""
    m = t.matrix(metric)
    if variables is None:
        sizes = {k: max((s.size for s in per if s is not None), default=0) for k, per in t.stats.items()}
        variables = sorted(m.index, key=lambda k: -sizes[k])[:max_variables]
    fig = _figure(8, 4.5)
    ax = fig.add_subplot()
    for key in variables:
        ax.plot(
            m.columns,
            m.loc[key].to_numpy(dtype=float),
            marker="o",
            markersize=3,
            label=short(t.name(key), 40),
        )
    ax.set_xlabel("step")
    ax.set_ylabel(metric.replace("_", " "))
    if metric == "relative_change" and np.nanmax(m.loc[variables].to_numpy(dtype=float), initial=0) > 0:
        ax.set_yscale("symlog", linthresh=1e-6)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def timeline_histograms(
    t: Timeline, key: str, path: str | os.PathLike[str] | None = None, *, overlap: float = 2.0
) -> Figure:
    """TensorBoard's offset histograms: one curve per step, later steps lower and darker."""
    from matplotlib import colormaps

    steps, edges, counts = t.histogram(key)
    centers = (edges[:-1] + edges[1:]) / 2
    peak = max(1, int(counts.max(initial=0)))
    fig = _figure(8, 2 + 0.35 * len(steps))
    ax = fig.add_subplot()
    cmap = colormaps["Oranges"]
    n = len(steps)
    for i in range(n):  # oldest on top, as TensorBoard draws them
        base = (n - 1 - i) / overlap
        height = counts[i] / peak
        colour = cmap(0.35 + 0.65 * (i / max(1, n - 1)))
        ax.fill_between(centers, base, base + height, color=colour, alpha=0.85, zorder=i, linewidth=0)
        ax.plot(centers, base + height, color="#5a2d0c", linewidth=0.6, zorder=i)
    ax.set_yticks([(n - 1 - i) / overlap for i in range(n)], [str(s) for s in steps], fontsize=7)
    ax.set_ylabel("step")
    ax.set_xlabel("value")
    ax.set_title(short(t.name(key), 70))
    return _finish(fig, path)


def diff_bars(result: DiffResult, path: str | os.PathLike[str] | None = None, *, top: int = 30) -> Figure:
    """The ``top`` keys by relative change (log scale), coloured by how many elements changed."""
    from matplotlib import colormaps

    rows = [
        r
        for r in result.rows
        if r.delta is not None and r.delta.relative_change is not None and r.delta.relative_change > 0
    ]
    rows.sort(key=lambda r: -(r.delta.relative_change if r.delta and r.delta.relative_change else 0.0))
    rows = rows[:top][::-1]
    fig = _figure(8, 1.5 + 0.25 * max(1, len(rows)))
    ax = fig.add_subplot()
    if rows:
        values = [
            min(float(r.delta.relative_change), 1e300) for r in rows if r.delta and r.delta.relative_change
        ]
        colours = [colormaps["Purples"](0.3 + 0.7 * (r.fraction_changed or 0)) for r in rows]
        ax.barh(range(len(rows)), values, color=colours)
        ax.set_yticks(range(len(rows)), [short(r.key) for r in rows], fontsize=7)
        if max(values) / max(min(values), 1e-300) > 100:
            ax.set_xscale("log")
    else:
        ax.text(0.5, 0.5, "no numeric change", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_xlabel("relative change ‖b − a‖ / ‖a‖ (colour: fraction of elements changed)")
    c = result.counts
    ax.set_title(
        f"{c['changed']} changed, {c['added']} added, {c['removed']} removed, {c['unchanged']} unchanged"
    )
    return _finish(fig, path)
