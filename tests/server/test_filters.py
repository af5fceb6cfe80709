"""Filters: substrings by default, globs with ``*?[``, regular expressions only through RE2."""

from __future__ import annotations

import pytest

from ckptviz.server.filters import Matcher
from ckptviz.server.paths import BadRequestError


@pytest.mark.parametrize(
    "pattern,regex,text,hit",
    [
        ("Kernel", False, "net/l1/kernel", True),  # substring, case-insensitive
        ("l1/k", False, "net/l1/kernel", True),
        ("(", False, "a(b", True),  # no regex meaning without regex=1
        ("net/*/kernel", False, "net/l1/kernel", True),  # a glob matches the whole text
        ("*/kernel", False, "net/l1/kernel/x", False),
        ("net/l[0-9]/?ernel", False, "net/l1/kernel", True),
        ("net/l[!1]/kernel", False, "net/l1/kernel", False),
        ("l[12]$", True, "net/l2", True),
        ("(a+)+b", True, "a" * 100_000, False),  # RE2: linear, answers at once
    ],
)
def test_matching(pattern: str, regex: bool, text: str, hit: bool) -> None:
    assert Matcher(pattern, regex).search(text) is hit


@pytest.mark.parametrize("pattern", ["(", "(a)\\1", "(?<=a)b"])
def test_what_re2_refuses_is_a_bad_request(pattern: str) -> None:
    with pytest.raises(BadRequestError, match="RE2"):
        Matcher(pattern, regex=True)


def test_patterns_are_bounded() -> None:
    with pytest.raises(BadRequestError, match="at most"):
        Matcher("a" * 5000)
