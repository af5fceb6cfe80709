"""One helper for the faces' text and HTML tables."""

from __future__ import annotations

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
