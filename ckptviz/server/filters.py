"""What the ``filter`` and ``variables`` parameters mean: a substring (case-insensitive), or a
glob when they hold ``*``, ``?`` or ``[``; a regular expression only with ``regex=1``, and then
through RE2, whose matching time is linear in the text (a pattern cannot freeze the server)."""

from __future__ import annotations

import re
from typing import Any

from .paths import BadRequestError

PATTERN_MAX = 1000  # characters of one filter


class Matcher:
    """``search(text)`` like a compiled pattern's, so the render plan can take it as its filter."""

    def __init__(self, text: str, regex: bool = False) -> None:
        if len(text) > PATTERN_MAX:
            raise BadRequestError(f"the filter has {len(text)} characters; at most {PATTERN_MAX}")
        self.pattern = text
        self._needle: str | None = None
        self._re2: Any = None
        if regex:
            self._re2 = _re2(text, text)
        elif any(c in text for c in "*?["):
            self._re2 = _re2(_glob_to_re2(text), text)
        else:
            self._needle = text.lower()

    def search(self, text: str) -> bool:
        if self._needle is not None:
            return self._needle in text.lower()
        return self._re2.search(text) is not None

    def __repr__(self) -> str:
        return repr(self.pattern)

    def __call__(self, text: str) -> bool:
        return self.search(text)


def _re2(pattern: str, shown: str) -> Any:
    import re2

    options = re2.Options()
    options.max_mem = 8 << 20  # a pattern's automaton stays small
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as e:
        why = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise BadRequestError(f"filter {shown!r} is not a regular expression RE2 accepts: {why}") from None


def _glob_to_re2(glob: str) -> str:
    """``*`` any run, ``?`` one character, ``[...]`` a class; matched against the whole text."""
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            body = glob[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "^(?s:" + "".join(out) + ")$"
