"""Tables as the faces show them: aligned text for a terminal or a repr, HTML for a notebook.

One rule for both: an optional header row, then the rows; in text, columns two spaces apart, each as
wide as its widest cell, left-aligned (``<``) or right-aligned (``>``, for numbers), a cell longer
than its column's limit cut to ``…`` and its end (the end of a path is the part that differs), and
no trailing blanks.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from itertools import repeat
from typing import Any


def cut(text: str, limit: int | None) -> str:
    """``text``, or ``…`` and its last ``limit - 1`` characters when it is longer than ``limit``."""
    return text if limit is None or len(text) <= limit else "…" + text[len(text) - limit + 1 :]


def text_table(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] | None = None,
    align: str = "",
    limits: Sequence[int | None] = (),
) -> list[str]:
    """The lines of ``rows`` (and ``header``) as aligned text. ``align[i]`` is ``<`` or ``>`` for
    column ``i`` (default ``<``); ``limits[i]`` the most characters a cell of it shows."""
    lines = [list(header)] if header is not None else []
    lines += [["" if c is None else str(c) for c in row] for row in rows]
    if not lines:
        return []
    n = max(map(len, lines))
    if min(map(len, lines)) < n:  # ragged rows: the missing cells are blank
        lines = [line + [""] * (n - len(line)) for line in lines]
    columns = []
    for i, cells in enumerate(zip(*lines)):  # column by column, each step one C-level map
        limit = limits[i] if i < len(limits) else None
        if limit is not None and max(map(len, cells)) > limit:
            cells = tuple(cut(c, limit) for c in cells)
        width = max(map(len, cells))
        pad = str.rjust if i < len(align) and align[i] == ">" else str.ljust
        columns.append(map(pad, cells, repeat(width)))
    return list(map(str.rstrip, map("  ".join, zip(*columns))))


def html_table(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] | None = None,
    row_headers: bool = False,
    code: Sequence[int] = (),
) -> str:
    """``rows`` as an HTML table, every cell escaped and left-aligned; ``row_headers``: the first
    cell of each row is its label (``<th>``); columns in ``code`` are shown as code."""
    left = " style='text-align:left'"

    def cell(i: int, c: Any) -> str:
        text = html.escape("" if c is None else str(c))
        return f"<code>{text}</code>" if i in code else text

    head = (
        "<thead><tr>" + "".join(f"<th{left}>{html.escape(str(c))}</th>" for c in header) + "</tr></thead>"
        if header is not None
        else ""
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<{tag}{left}>{cell(i, c)}</{tag}>"
            for i, c in enumerate(row)
            for tag in ("th" if row_headers and i == 0 else "td",)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{head}<tbody>{body}</tbody></table>"
