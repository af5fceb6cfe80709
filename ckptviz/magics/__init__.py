"""``%ckpt`` and ``%%ckpt``: every part of ckptviz from a notebook cell.

``%load_ext ckptviz`` registers them. ``%ckpt SUBCOMMAND ARGS`` mirrors the command line (``%ckpt``
alone lists the subcommands); ``$var`` and ``{expr}`` expand from the notebook, and the object a
subcommand makes is returned (``r = %ckpt diff a b``). ``%%ckpt`` runs one subcommand per line, or
``%%ckpt SUBCOMMAND`` with one path per line. Errors print one line; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import re
import sys
import warnings
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..errors import CheckpointError, CheckpointExistsError, CheckpointWarning, RestoreMismatchError
from . import commands, completion, display
from .parsing import SUBCOMMANDS, looks_like_path, parse, split

# What a user can cause: bad arguments and names, missing or damaged files, absent extras.
USER_ERRORS = (CheckpointError, OSError, ImportError, ValueError, KeyError, RuntimeError, re.error)


def message(error: BaseException, sub: str | None) -> str:
    """One line for the user: what went wrong and, where it helps, what to do."""
    prefix = f"%ckpt {sub}" if sub else "%ckpt"
    if isinstance(error, ModuleNotFoundError) and error.name and not error.name.startswith("ckptviz"):
        top = error.name.split(".")[0]
        return f"{prefix}: this needs the {top!r} package (pip install {top})"
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    elif isinstance(error, OSError) and not isinstance(error, CheckpointError) and error.strerror:
        text = error.strerror + (f": {error.filename}" if error.filename else "")  # no "[Errno 2]"
    else:
        text = str(error)
    if isinstance(error, CheckpointExistsError):
        text += " (add --overwrite to replace it)"
    if isinstance(error, RestoreMismatchError) and text.endswith(" with select="):
        text = text[: -len("select=")] + "--select or --exclude"  # the Python API's hint, in magic words
    text = " ".join(text.split()) or type(error).__name__
    return text if text.startswith("%ckpt") else f"{prefix}: {text}"


class Results(list):  # type: ignore[type-arg]
    """The results of a ``%%ckpt`` cell: a list, shown one after another."""

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for r in self:
            if r is not None:
                display(r)  # type: ignore[no-untyped-call]


@magics_class
class CheckpointMagics(Magics):
    @line_cell_magic
    def ckpt(self, line: str, cell: str | None = None) -> Any:
        """See, compare and repair TensorFlow checkpoints: ``%ckpt`` alone lists the subcommands."""
        if cell is None:
            return self.run(split_or_report(line))
        return self.run_cell(line, cell)

    @property
    def namespace(self) -> dict[str, Any]:
        assert self.shell is not None
        return self.shell.user_ns  # type: ignore[no-any-return]

    def run(self, words: list[str] | None) -> Any:
        """One subcommand; errors become one printed line (the traceback with ``--debug``)."""
        if words is None:
            return None
        if (
            words
            and words[0] not in SUBCOMMANDS
            and not words[0].startswith("-")
            and looks_like_path(words[0])
        ):
            words = [_default_for_a_path(), *words]
        debug = "--debug" in words
        sub = words[0] if words and words[0] in SUBCOMMANDS else None
        try:
            command = parse(words)
            if command.help is not None:
                print(command.help)
                return None
            assert command.name is not None
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CheckpointWarning)
                result = commands.RUN[command.name](command.args, self.namespace)
            for w in caught:  # what a command did not do (dropped keys): one line each, like errors
                if issubclass(w.category, CheckpointWarning):
                    print(f"%ckpt {command.name}: warning: {w.message}", file=sys.stderr)
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return result
        except USER_ERRORS as e:
            if debug:
                raise
            print(message(e, sub), file=sys.stderr)
            return None

    def run_cell(self, line: str, cell: str) -> Any:
        head = split_or_report(line)
        if head is None:
            return None
        assert self.shell is not None
        expand = self.shell.var_expand  # $var and {expr}, as IPython expands the magic's own line
        lines = [expand(t) for t in cell.splitlines() if t.strip() and not t.lstrip().startswith("#")]  # type: ignore[no-untyped-call]
        rows = [split_or_report(t) for t in lines]
        if any(r is None for r in rows):
            return None
        words = [r for r in rows if r]
        out = Results()
        if not head:  # one subcommand per line; a bare path means `info PATH`
            jobs = [w if w[0] in SUBCOMMANDS or w[0].startswith("-") else ["info", *w] for w in words]
        else:
            paths = [p for w in words for p in w]
            jobs = _with_paths(head, paths)
        for job in jobs:
            result = self.run(job)
            if result is None and not _quiet(job):
                return None  # an error was printed: stop like a script would
            out.append(result)
        return out[0] if len(out) == 1 else out


def _default_for_a_path() -> str:
    """``%ckpt PATH`` browses when the explorer widget is installed, else says what PATH is."""
    try:
        commands.public("explore", "the explorer widget")
    except CheckpointError:
        return "info"
    return "browse"


def _quiet(words: list[str]) -> bool:
    """A subcommand that succeeds without a result (help)."""
    return not words or "--help" in words or "-h" in words


def _with_paths(head: list[str], paths: list[str]) -> list[list[str]]:
    """``%%ckpt SUB OPTIONS`` over a cell of paths: a run's steps for ``timeline``, both sides of a
    ``diff``, else the subcommand once per path."""
    sub = SUBCOMMANDS.get(head[0])
    if sub is None or not paths:
        return [head + paths]
    if head[0] == "timeline":
        return [["timeline", "\n".join(paths), *head[1:]]]
    if len([a for a in sub.positionals() if a.kind == "path"]) > 1:
        return [[head[0], *paths, *head[1:]]]
    return [[head[0], p, *head[1:]] for p in paths]


def split_or_report(line: str) -> list[str] | None:
    try:
        return split(line)
    except CheckpointError as e:
        print(message(e, None), file=sys.stderr)
        return None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext ckptviz``: register the magics and their tab completion (once)."""
    ipython.register_magics(CheckpointMagics)
    display.register(ipython)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        matchers = completer.custom_matchers
        matchers[:] = [m for m in matchers if getattr(m, "matcher_identifier", "") != "ckptviz.magics"]
        matchers.append(completion.matcher_for(ipython))


def unload_ipython_extension(ipython: Any) -> None:
    display.unregister(ipython)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        matchers = completer.custom_matchers
        matchers[:] = [m for m in matchers if getattr(m, "matcher_identifier", "") != "ckptviz.magics"]


__all__ = ["CheckpointMagics", "load_ipython_extension", "unload_ipython_extension"]
