"""One helper for the faces' text and HTML tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ckptviz.render.table import cut, html_table, text_table


def test_text_columns_align_numbers_right_and_cut_long_names_from_the_left() -> None:
    lines = text_table(
        [("net/a/kernel", 3, "x"), ("net/" + "b" * 30 + "/bias", 12345, None)],
        header=("name", "size", "note"),
        align="<>",
        limits=[20],
    )
    assert lines == [
        "name                   size  note",
        "net/a/kernel              3  x",
        "…bbbbbbbbbbbbbb/bias  12345",
    ]
    assert all(len(line.rstrip()) == len(line) for line in lines)  # no trailing blanks
    assert text_table([]) == []


def test_cut_keeps_the_end() -> None:
    assert cut("abcdef", 4) == "…def" and cut("abc", 4) == "abc" and cut("abcdef", None) == "abcdef"


def test_html_escapes_every_cell() -> None:
    out = html_table([("<b>", "a & b")], header=("where", "what"), row_headers=True, code=(1,))
    assert "<tr><th style='text-align:left'>&lt;b&gt;</th>" in out and "<b>" not in out
    assert "<code>a &amp; b</code>" in out and out.startswith("<table><thead><tr><th")


def cell_by_cell(
    rows: Sequence[Sequence[Any]], header: Sequence[str] | None, align: str, limits: Sequence[int | None]
) -> list[str]:
    """The table rule written plainly, one cell at a time."""
    lines = [list(header)] if header is not None else []
    lines += [["" if c is None else str(c) for c in row] for row in rows]
    if not lines:
        return []
    n = max(len(line) for line in lines)
    lines = [[cut(c, limits[i] if i < len(limits) else None) for i, c in enumerate(line)] for line in lines]
    widths = [max((len(line[i]) for line in lines if i < len(line)), default=0) for i in range(n)]
    right = [i < len(align) and align[i] == ">" for i in range(n)]
    return [
        "  ".join(c.rjust(widths[i]) if right[i] else c.ljust(widths[i]) for i, c in enumerate(line)).rstrip()
        for line in lines
    ]


cells = st.one_of(st.none(), st.integers(-999, 10**6), st.text(" ab/é…", max_size=12))


@given(
    st.lists(st.lists(cells, min_size=1, max_size=4), max_size=6),
    st.one_of(st.none(), st.lists(st.text("hx ", max_size=5), min_size=1, max_size=4)),
    st.text("<>", max_size=4),
    st.lists(st.one_of(st.none(), st.integers(1, 8)), max_size=4),
)
def test_text_table_is_the_rule_applied_cell_by_cell(
    rows: list[list[Any]], header: list[str] | None, align: str, limits: list[int | None]
) -> None:
    assert text_table(rows, header, align, limits) == cell_by_cell(rows, header, align, limits)
