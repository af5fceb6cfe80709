"""The ``%ckpt`` grammar: one table of subcommands and their arguments, read by both the argparse
parsers and the tab completer, so the two never disagree. No IPython here."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..errors import CheckpointError
from ..render.table import text_table

# What a completer offers for an argument: paths on disk, a checkpoint's keys and object paths,
# notebook variables, files to write, fixed choices, or nothing.
PATH, KEY, VAR, FILE, CHOICE, TEXT, FLAG = "path", "key", "var", "file", "choice", "text", "flag"


class UsageError(CheckpointError, ValueError):
    """A ``%ckpt`` line that does not parse, or names something the notebook does not have."""


class MissingPieceError(CheckpointError, NotImplementedError):
    """A subcommand whose engine is not part of this installation."""


@dataclass(frozen=True)
class Arg:
    name: str  # "path" (positional) or "--filter"
    kind: str = TEXT
    help: str = ""
    nargs: str | None = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    type: Any = None
    default: Any = None
    required: bool = False

    @property
    def positional(self) -> bool:
        return not self.name.startswith("-")


@dataclass(frozen=True)
class Sub:
    help: str
    args: tuple[Arg, ...] = field(default_factory=tuple)

    def options(self) -> dict[str, Arg]:
        return {a.name: a for a in self.args if not a.positional} | {
            "--help": Arg("--help", FLAG),
            "--debug": Arg("--debug", FLAG),
        }

    def positionals(self) -> list[Arg]:
        return [a for a in self.args if a.positional]


_PATH_HELP = "prefix, .index, .data-*, directory, SavedModel, .weights.h5/.keras or URL"
_P = Arg("path", PATH, _PATH_HELP)
_SRC = Arg("src", PATH, "the source checkpoint (never modified)")
_DST = Arg("dst", FILE, "the new checkpoint prefix")
_OVERWRITE = Arg("--overwrite", FLAG, "replace an existing checkpoint at dst")
_ROOT = Arg("--root", KEY, "the checkpoint object OBJ is (net, for Checkpoint(net=model))", metavar="P")
_MAP = Arg(
    "--map", TEXT, "rename with an assignment map, as tf.train.init_from_checkpoint", "+", metavar="OLD=NEW"
)

SUBCOMMANDS: dict[str, Sub] = {
    "ls": Sub(
        "list the tensors of a checkpoint (a table)",
        (
            _P,
            Arg("--filter", TEXT, "only keys matching RE", metavar="RE"),
            Arg("--sort", CHOICE, "row order", choices=("key", "size"), default="key"),
        ),
    ),
    "info": Sub(
        "format, shards, sizes, object- or name-based, optimizers, the steps in its directory", (_P,)
    ),
    "tree": Sub(
        "the objects of a checkpoint as an indented tree, with the names people know",
        (
            _P,
            Arg("--depth", TEXT, "fold levels below this depth", type=int, metavar="N"),
            Arg("--max-children", TEXT, "fold longer lists of children", type=int, default=25, metavar="N"),
        ),
    ),
    "show": Sub(
        "one tensor's statistics and values (by key, object path or full name)",
        (_P, Arg("key", KEY, "a key, an object path or a TF1 name")),
    ),
    "graph": Sub(
        "draw the dependency graph",
        (
            _P,
            Arg("--export", FILE, "write it to FILE (.svg .png .pdf .dot)", metavar="FILE"),
            Arg("--depth", TEXT, "collapse below this depth", type=int, metavar="N"),
            Arg("--focus", KEY, "one object's subtree and the path to it", metavar="P"),
            Arg("--filter", TEXT, "objects whose path matches RE, and their ancestors", metavar="RE"),
            Arg("--select", KEY, "only these objects (a partial restore)", "+", metavar="P"),
            Arg("--expand", KEY, "keep these objects open", "+", metavar="P"),
            Arg("--collapse", KEY, "fold these objects", "+", metavar="P"),
            Arg(
                "--max-nodes",
                TEXT,
                "collapse subtrees beyond about N nodes (0: never)",
                type=int,
                metavar="N",
            ),
        ),
    ),
    "browse": Sub("explore a checkpoint: graph, tensors and restore views (a widget)", (_P,)),
    "diff": Sub(
        "compare two checkpoints (b against a)",
        (
            Arg("a", PATH, "the earlier checkpoint"),
            Arg("b", PATH, "the later checkpoint"),
            _MAP,
            Arg(
                "--match",
                CHOICE,
                "pair keys by key, TF1 full_name or object path",
                choices=("key", "full_name", "path"),
                default="key",
            ),
            Arg("--atol", TEXT, "elements within atol + rtol*|a| are unchanged", type=float, default=0.0),
            Arg("--rtol", TEXT, "relative tolerance", type=float, default=0.0),
        ),
    ),
    "timeline": Sub(
        "statistics of every variable over a training run",
        (Arg("dir", PATH, "a CheckpointManager directory"),),
    ),
    "check": Sub(
        "will it load? the checkpoint against a notebook object",
        (
            _P,
            Arg(
                "obj", VAR, "a variable of the notebook: a Keras model, tf.train.Checkpoint or dict of arrays"
            ),
            Arg("--select", KEY, "only these object paths or key globs", "+", metavar="P"),
            Arg("--exclude", KEY, "all but these object paths or key globs", "+", metavar="P"),
            _MAP,
            _ROOT,
        ),
    ),
    "restore": Sub(
        "restore into a notebook object, all or nothing",
        (
            _P,
            Arg("--into", VAR, "the notebook variable to restore into", metavar="OBJ", required=True),
            Arg("--select", KEY, "only these object paths or key globs", "+", metavar="P"),
            Arg("--exclude", KEY, "all but these object paths or key globs", "+", metavar="P"),
            _MAP,
            _ROOT,
        ),
    ),
    "select": Sub(
        "save only some objects to a new prefix",
        (
            _SRC,
            _DST,
            Arg("paths", KEY, "object paths, keys or globs such as 'net/*'", "+", metavar="P"),
            Arg("--exclude", KEY, "leave these out", "+", metavar="P"),
            _OVERWRITE,
        ),
    ),
    "rename": Sub(
        "save with keys or object paths renamed",
        (
            _SRC,
            _DST,
            Arg("pairs", TEXT, "an assignment map: 'old/'='new/'", "+", metavar="OLD=NEW"),
            _OVERWRITE,
        ),
    ),
    "convert": Sub(
        "convert between TF1 name-based and TF2 object-based checkpoints",
        (
            _SRC,
            _DST,
            Arg("--to", CHOICE, "the target kind", choices=("tf2", "tf1"), required=True),
            Arg("--naming", CHOICE, "TF1 names (to tf1)", choices=("full_name", "path"), default="full_name"),
            Arg("--select", KEY, "only these object paths or key globs", "+", metavar="P"),
            Arg("--root", TEXT, "object holding the variables (to tf2)", default="vars"),
            _MAP,
            _OVERWRITE,
        ),
    ),
    "verify": Sub("check every checksum, data file and object-graph reference", (_P,)),
}

USAGE = "usage: %ckpt SUBCOMMAND [ARGS] [--debug]   (%ckpt SUBCOMMAND --help for its arguments)"


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are exceptions, never ``sys.exit``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or f"{self.prog}: exit {status}")


def parser(name: str) -> argparse.ArgumentParser:
    sub = SUBCOMMANDS[name]
    p = _Parser(prog=f"%ckpt {name}", description=sub.help, add_help=False, exit_on_error=False)
    for a in sub.args:
        if a.kind == FLAG:
            p.add_argument(a.name, action="store_true", help=a.help)
            continue
        kw: dict[str, Any] = {"help": a.help}
        for attr in ("nargs", "metavar", "type", "default"):
            if getattr(a, attr) is not None:
                kw[attr] = getattr(a, attr)
        if a.choices:
            kw["choices"] = a.choices
        if not a.positional:
            kw["required"] = a.required
        p.add_argument(a.name, **kw)
    p.add_argument("-h", "--help", action="store_true", help="show this help")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    return p


def overview() -> str:
    """``%ckpt`` alone: every subcommand in one line each."""
    rows = [(n, s.help) for n, s in SUBCOMMANDS.items()]
    rows.append(("PATH", "a path alone: browse it (its info where the explorer widget is not installed)"))
    *subcommands, path = (f"  {line}" for line in text_table(rows))
    return "\n".join([USAGE, "", *subcommands, "", path])


def looks_like_path(word: str) -> bool:
    """A first word that is no subcommand but names a checkpoint: ``%ckpt run/ckpt-5``, or a bare
    ``%ckpt ckpt-5`` beside the notebook (a prefix: only ``ckpt-5.index`` exists)."""
    import os

    from ..format import naming

    path = os.path.expanduser(word)
    return "://" in word or os.sep in word or os.path.exists(path) or os.path.exists(naming.index_file(path))


@dataclass
class Command:
    name: str | None  # None: the overview was asked for
    args: argparse.Namespace
    help: str | None = None  # set when --help was asked for: print it, run nothing


def split(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError as e:
        raise UsageError(f"cannot split the line: {e}") from None


def parse(words: list[str]) -> Command:
    """A ``%ckpt`` line, already split and expanded, as a command to run (or help to print)."""
    debug = "--debug" in words
    if not words or words[0] in ("-h", "--help", "help") or words == ["--debug"]:
        return Command(None, argparse.Namespace(debug=debug), overview())
    name, rest = words[0], words[1:]
    if name not in SUBCOMMANDS:
        from ..errors import close_matches

        near = close_matches(name, SUBCOMMANDS)
        hint = (
            f"; did you mean {' or '.join(near)}?"
            if near
            else f"; the subcommands are {', '.join(SUBCOMMANDS)}"
        )
        raise UsageError(f"%ckpt: unknown subcommand {name!r}{hint}")
    p = parser(name)
    if "-h" in rest or "--help" in rest:
        return Command(name, argparse.Namespace(debug=debug), p.format_help())
    try:
        args = p.parse_args(rest)
    except argparse.ArgumentError as e:
        raise UsageError(f"{p.prog}: {e}") from None
    return Command(name, args)


def pairs(items: list[str] | None) -> dict[str, str]:
    """``OLD=NEW`` words as an assignment map."""
    out = {}
    for item in items or ():
        old, sep, new = item.partition("=")
        if not sep or not old:
            raise UsageError(f"an assignment map entry is OLD=NEW, got {item!r}")
        out[old] = new
    return out
