"""Tab completion of ``%ckpt`` lines: subcommands, options, paths (checkpoint prefixes first), a
checkpoint's object paths and keys once its path is typed, and notebook variables.

``complete`` is plain Python over the grammar in ``parsing``; ``matcher`` adapts it to IPython's
completer (``IPCompleter.custom_matchers``, matcher API v2). Completion never raises.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..format import naming
from ..format.stamp import file_stamp
from .parsing import CHOICE, FILE, FLAG, KEY, PATH, SUBCOMMANDS, VAR, Arg

LIMIT = 500  # completions offered at most (a 6000-key checkpoint stays responsive)


def complete(
    text: str,
    namespace: Mapping[str, Any],
    expand: Callable[[str], str] = str,
    names: Names | None = None,
) -> tuple[str, list[tuple[str, str]]]:
    """``(word, [(completion, type)])`` for ``text``, a ``%ckpt`` line up to the cursor without
    the ``%ckpt``. Each completion replaces ``word``, the last (partial) word of ``text``.
    ``expand`` resolves ``$var`` and ``{expr}`` in the checkpoint path already typed; ``names``
    keeps the typed checkpoint's names between calls (the matcher's own)."""
    words = text.split()
    current = "" if not words or text[-1:].isspace() else words.pop()
    if not words:
        return current, [(s, "subcommand") for s in SUBCOMMANDS if s.startswith(current)]
    sub = SUBCOMMANDS.get(words[0])
    if sub is None:
        return current, []
    options = sub.options()
    if current.startswith("-"):
        return current, [(o, "option") for o in options if o.startswith(current)]
    arg = _expected(words[1:], options, sub.positionals())
    if arg is None:
        return current, []
    try:
        items = _offer(arg, current, words[1:], options, namespace, expand, names or Names())
    except Exception:
        items = []
    return current, items[:LIMIT]


def _expected(words: list[str], options: Mapping[str, Arg], positionals: list[Arg]) -> Arg | None:
    """The argument the next word fills, after ``words``."""
    pending: Arg | None = None
    filled = 0
    for w in words:
        if w.startswith("-"):
            opt = options.get(w)
            pending = opt if opt is not None and opt.kind != FLAG else None
        elif pending is not None:
            pending = pending if pending.nargs == "+" else None
        elif filled < len(positionals) and positionals[filled].nargs != "+":
            filled += 1
    if pending is not None:
        return pending
    if filled < len(positionals):
        return positionals[filled]
    return None


def _source_path(words: list[str], options: Mapping[str, Arg]) -> str | None:
    """The checkpoint already typed: the first positional word."""
    skip = False
    for w in words:
        if w.startswith("-"):
            opt = options.get(w)
            skip = opt is not None and opt.kind != FLAG
        elif skip:
            skip = False
        else:
            return w
    return None


def _offer(
    arg: Arg,
    current: str,
    words: list[str],
    options: Mapping[str, Arg],
    namespace: Mapping[str, Any],
    expand: Callable[[str], str],
    names: Names,
) -> list[tuple[str, str]]:
    if arg.kind in (PATH, FILE):
        return paths(current)
    if arg.kind == CHOICE:
        return [(c, "choice") for c in arg.choices if c.startswith(current)]
    if arg.kind == VAR:
        return variables(current, namespace)
    if arg.kind == KEY:
        source = _source_path(words, options)
        return names(expand(source), current) if source else []
    return []


def paths(current: str) -> list[tuple[str, str]]:
    """Files under the typed directory starting with the typed name: checkpoint prefixes first
    (one per checkpoint, not its ``.index`` and ``.data-*`` files), then directories, then files."""
    head, base = os.path.split(current)
    directory = os.path.expanduser(head) or "."
    try:
        listing = sorted(os.listdir(directory))
    except OSError:
        return []
    prefixes, dirs, files = [], [], []
    parts = set()
    for name in listing:
        if not name.startswith(base) or (name.startswith(".") and not base.startswith(".")):
            continue
        if name.endswith(".index"):
            prefixes.append(name[: -len(".index")])
            continue
        split = naming.split_data_file(name)
        if split is not None:
            parts.add(split[0])
            continue
        if os.path.isdir(os.path.join(directory, name)):
            dirs.append(name + "/")
        else:
            files.append(name)
    files += [p for p in sorted(parts) if p not in prefixes]  # data files whose index is missing
    joined = [
        (os.path.join(head, n), t)
        for group, t in ((prefixes, "checkpoint"), (dirs, "directory"), (files, "file"))
        for n in group
    ]
    return joined


class Names:
    """Object paths (the names people know) then keys of the checkpoint being typed, kept while its
    index file's stamp (``format.stamp``) is unchanged: one checkpoint at a time, owned by the
    matcher that completes its lines."""

    def __init__(self) -> None:
        self._kept: tuple[tuple[str, Any], list[tuple[str, str]]] | None = None

    def __call__(self, source: str, current: str) -> list[tuple[str, str]]:
        from .commands import expand_path

        path = expand_path(source)
        key = (path, file_stamp(naming.index_file(path)) or file_stamp(path))
        if self._kept is None or self._kept[0] != key:
            from ..model.checkpoint import Checkpoint

            with Checkpoint(path, verify=False) as ckpt:
                graph = ckpt.graph
                objects = sorted({n.path for n in graph.nodes if n.path and n.reachable})
                found = [(p, "object") for p in objects] + [
                    (k, "key") for k in sorted(ckpt.entries) if k not in objects
                ]
            self._kept = (key, found)
        return [(n, t) for n, t in self._kept[1] if n.startswith(current)]


def variables(current: str, namespace: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Notebook variables (no private names, modules or functions), with attributes after a dot."""
    import types

    head, dot, tail = current.rpartition(".")
    if dot:
        try:
            from .commands import lookup_object

            obj = lookup_object(namespace, head)
        except Exception:
            return []
        return [
            (f"{head}.{a}", "attribute")
            for a in sorted(dir(obj))
            if a.startswith(tail) and not a.startswith("_")
        ]
    skip = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)
    return [
        (n, "variable")
        for n in sorted(namespace)
        if n.startswith(current)
        and not n.startswith("_")
        and not isinstance(namespace[n], skip)
        and n not in ("In", "Out", "exit", "quit", "get_ipython")
    ]


def matcher_for(shell: Any) -> Any:
    """The IPython matcher completing ``%ckpt`` lines and ``%%ckpt`` cells of ``shell``."""
    from IPython.core.completer import SimpleCompletion, context_matcher

    names = Names()

    @context_matcher(identifier="ckptviz.magics")  # type: ignore[untyped-decorator]
    def ckpt_matcher(context: Any) -> dict[str, Any]:
        text = _magic_text(context.full_text.split("\n"), context.cursor_line, context.text_until_cursor)
        if text is None:
            return {"completions": [], "suppress": False}
        word, items = complete(text, shell.user_ns, shell.var_expand, names)
        token = context.token
        if not token.endswith(word) and word.endswith(token):  # IPython split the word (e.g. at '$')
            cut = len(word) - len(token)
            items, word = [(t[cut:], k) for t, k in items], token
        return {
            "completions": [SimpleCompletion(t, type=k) for t, k in items],
            "matched_fragment": word,
            "suppress": bool(items),
            "ordered": True,
        }

    return ckpt_matcher


def _magic_text(lines: list[str], cursor_line: int, until_cursor: str) -> str | None:
    """The ``%ckpt`` arguments up to the cursor, or None when the cursor is in no ``%ckpt`` line."""
    first = lines[0].lstrip() if lines else ""
    if cursor_line > 0 and (first == "%%ckpt" or first.startswith("%%ckpt ")):
        head = first[len("%%ckpt") :].split()
        return f"{head[0]} {until_cursor}" if head else until_cursor  # body: subcommands, or paths
    stripped = until_cursor.lstrip()
    for magic in ("%%ckpt ", "%ckpt "):
        if stripped.startswith(magic):
            return stripped[len(magic) :]
    return None
