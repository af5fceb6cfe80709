"""The ``ckptviz`` command: list, show, verify, draw and convert checkpoints from a shell.

Every failure a user can cause prints ``ckptviz: <message>`` and exits non-zero; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import (
    CheckpointError,
    CheckpointExistsError,
    CheckpointWarning,
    InvalidArgumentError,
    NothingMatchedError,
)
from ..model.checkpoint import Checkpoint, human_size
from ..model.stats import tensor_stats
from ..render.table import text_table
from .lab import lab as run_lab

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)?\s*$", re.IGNORECASE)


def size(text: str) -> int:
    """``100M``, ``1.5G``, ``4096``: bytes (powers of 1024, as TF's max_shard_size users expect)."""
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 100M, 2G or 4096)")
    return int(float(m[1]) * 1024 ** " KMGT".index(m[2].upper() or " "))


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"bad regular expression {text!r}: {e}") from None


def _bars() -> bool | None:
    """Progress bars on a terminal only (None: tqdm's own choice, by size); a log gets no ``\\r``."""
    return None if sys.stderr.isatty() else False


def _open(args: argparse.Namespace, path: str | None = None) -> Checkpoint:
    return Checkpoint(
        path or args.path, verify=not getattr(args, "no_verify", False), storage_options=_storage(args)
    )


def _storage_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``: VALUE as JSON when it is (true, 3, {...}), else text; ``a.b=v`` nests."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--storage-option takes KEY=VALUE, got {text.split('=')[0]!r}=…")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _storage(args: argparse.Namespace) -> dict[str, Any]:
    """fsspec ``storage_options`` from every ``--storage-option`` (their values are never printed)."""
    out: dict[str, Any] = {}
    for key, value in getattr(args, "storage_option", None) or ():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _warn_shards(ckpt: Checkpoint) -> None:
    from ..model.verify import shard_problems

    for p in shard_problems(ckpt):
        print(f"ckptviz: warning: data file {p.where} is {p.message}", file=sys.stderr)


def _ls(args: argparse.Namespace) -> int:
    with _open(args) as ckpt:
        _warn_shards(ckpt)
        records = ckpt.entry_records()
        if args.filter is not None:
            records = [r for r in records if args.filter.search(r.key) or args.filter.search(r.name)]
            if not records:
                raise NothingMatchedError(
                    f"no key or name matches {args.filter.pattern!r} ({len(ckpt)} tensors)"
                )
        if args.sort == "size":
            records.sort(key=lambda r: -r.nbytes)
        if args.json:
            json.dump([r.to_dict() for r in records], sys.stdout, indent=1)
            print()
            return 0
        shapes = {s: "[" + ",".join(map(str, s)) + "]" for s in {r.shape for r in records}}
        sizes = {n: human_size(n) for n in {r.nbytes for r in records}}  # each distinct one written once
        rows = [
            (r.key, r.name if r.name != r.key else "", r.dtype, shapes[r.shape], sizes[r.nbytes])
            for r in records
        ]
        header = ("key", "name", "dtype", "shape", "size")
        named = any(row[1] for row in rows)
        columns = [i for i in range(5) if i != 1 or named]
        for line in text_table([[row[i] for i in columns] for row in rows], [header[i] for i in columns]):
            print(line)
        total = human_size(sum(r.nbytes for r in records))
        kind = "object-based" if ckpt.is_object_based else "name-based"
        print(f"{len(records)} of {len(ckpt)} tensors, {total} in {ckpt.path} ({kind})")
    return 0


def _cut(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else f"{text[: limit - 20]}…{text[-19:]}"


def _preview(value: np.ndarray, args: argparse.Namespace) -> str:
    if value.dtype == object:  # strings and variants: a bounded preview, never megabytes of text
        flat = value.reshape(-1)
        shown = [_cut(repr(x)) for x in flat[: max(args.edgeitems * 2, 1)]]
        more = f" … and {flat.size - len(shown)} more" if flat.size > len(shown) else ""
        return "[" + ", ".join(shown) + more + "]" if value.ndim else shown[0]
    with np.printoptions(threshold=args.threshold, edgeitems=args.edgeitems, linewidth=120):
        return str(value if value.ndim else value[()])


def _show(args: argparse.Namespace) -> int:
    with _open(args) as ckpt:
        key = ckpt.key_of(args.key)
        entry = ckpt.entries[key]
        value = ckpt.read(key)
        stats = tensor_stats(value, bins=None if not args.json else 30, dtype_name=entry.dtype.name)
        if args.json:
            record = {
                "key": key,
                "dtype": entry.dtype.name,
                "shape": list(entry.shape),
                "nbytes": entry.nbytes,
                "stats": stats.to_dict() if stats else None,
                "preview": _preview(value, args),
            }
            json.dump(record, sys.stdout, indent=1, default=float)
            print()
            return 0
        print(f"{key}: {entry.dtype.name} [{','.join(map(str, entry.shape))}] {human_size(entry.nbytes)}")
        if stats is not None:
            print(stats.summary())
        print(_preview(value, args))
    return 0


def _tree(args: argparse.Namespace) -> int:
    from ..render.text import text_tree

    with _open(args) as ckpt:
        print(text_tree(ckpt.graph, max_depth=args.depth, max_children=args.max_children))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ..model.verify import verify

    report = verify(args.path, progress=_bars(), storage_options=_storage(args))
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=1)
        print()
    else:
        print(report)
    return 0 if report.ok else 1


def _pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    out = {}
    for item in items or ():
        old, sep, new = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{option} takes OLD=NEW, got {item!r}")
        out[old] = new
    return out


def _destination(src: Checkpoint, dst: str) -> str:
    """``copy SRC DIR/`` (or an existing directory) writes inside it, under the source's name."""
    if dst.endswith(("/", os.sep)) or os.path.isdir(dst):
        return os.path.join(dst, os.path.basename(src.path))
    return dst


def _write(args: argparse.Namespace) -> int:
    """copy / select / rename: a derived checkpoint of the source, saved to a new prefix."""
    src = Checkpoint(args.src, storage_options=_storage(args))
    derived = src.derive()
    paths, exclude = getattr(args, "paths", None), getattr(args, "exclude", None)
    if paths or exclude:
        derived = derived.select(list(paths) if paths else None, exclude=exclude)
    renames = _pairs(getattr(args, "rename", None) or getattr(args, "pairs", None), "--rename")
    if renames:
        derived = derived.rename(renames)
    prefix = derived.save(
        _destination(src, args.dst),
        overwrite=args.overwrite,
        max_shard_size=args.max_shard_size,
        progress=_bars(),
    )
    print(f"wrote {prefix} ({len(derived.keys())} tensors)")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from ..transform.convert import convert

    src = Checkpoint(args.src, storage_options=_storage(args))
    prefix = convert(
        src,
        _destination(src, args.dst),
        to=args.to,
        naming=args.naming,
        select=args.select or None,
        exclude=args.exclude or None,
        assignment_map=_pairs(args.rename, "--rename") or None,
        root=args.root,
        overwrite=args.overwrite,
        max_shard_size=args.max_shard_size,
        progress=_bars(),
    )
    print(f"wrote {prefix} ({args.to.upper()})")
    return 0


def _graph(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {
        "max_depth": args.depth,
        "focus": args.focus,
        "filter": args.filter,
        "select": args.select,
        "expand": args.expand,
        "collapse": args.collapse,
        "hide_empty": not args.all,
        "optimizer_lists": args.all,
    }
    if args.max_nodes is not None:
        options["max_nodes"] = args.max_nodes or None
    if args.output is None:
        print(_open(args).graph.to_dot(**options), end="")
        return 0
    from ..render import export_graph

    out = export_graph(_open(args), args.output, engine=args.engine, **options)
    print(f"wrote {out}")
    return 0


# -- diff and timeline: exit 0 equal, 1 different, 2 trouble (like diff(1)) ---------------------


def _fmt(x: float | None, spec: str = ".4g") -> str:
    return "" if x is None else format(x, spec)


def _diff_table(result: Any, only: Sequence[str] | None, limit: int) -> list[str]:
    """Rows most changed first, then the roll-up of the subtrees that changed (or froze)."""
    from ..model.diff.result import _topmost

    rows = result.ranked(only or (), limit)
    total = sum(n for status, n in result.counts.items() if not only or status in only)
    cells = []
    for r in rows:
        d = r.delta
        dtype = r.dtype_a if r.dtype_a == r.dtype_b else f"{r.dtype_a or '-'}>{r.dtype_b or '-'}"
        shape = "[" + ",".join(map(str, r.shape_b if r.shape_b is not None else r.shape_a or ())) + "]"
        if r.shape_changed:
            shape = f"{list(r.shape_a or ())}>{list(r.shape_b or ())}".replace(" ", "")
        frac = f"{r.fraction_changed:.1%}" if r.fraction_changed is not None else ""
        note = r.reason or (f"NaN/Inf {r.nonfinite}" if r.nonfinite else "")
        cells.append((r.name or r.key, r.status, dtype, shape, _fmt(d.relative_change if d else None), frac,
                      _fmt(d.max_abs_diff if d else None), note))  # fmt: skip
    header = ("name", "status", "dtype", "shape", "rel.change", "changed", "max|Δ|", "note")
    lines = text_table(cells, header, "<<<<>>><", [70])
    if total > limit:
        lines.append(f"… {total - limit} more rows (--limit, or --json for all)")
    frozen = _topmost([r for r in result.rollups if r.frozen and r.path]) if not result.equal else []
    moved = sorted(
        [r for r in result.rollups if r.path and r.status != "unchanged"] + frozen, key=lambda r: r.path
    )
    if moved:
        subtrees = [
            (
                r.path,
                r.status,
                r.params,
                f"{r.fraction_changed:.1%}" if r.fraction_changed is not None else "",
                _fmt(r.relative_change),
                " ".join(f for f, on in (("frozen", r.frozen), ("exploded", r.exploded)) if on),
            )
            for r in moved[:limit]
        ]
        lines += ["", *text_table(subtrees, ("subtree", "status", "params", "changed", "rel.change", "flags"),
                                  "<<>>><", [70])]  # fmt: skip
    return lines


def _diff(args: argparse.Namespace) -> int:
    from ..model.diff import diff

    result = diff(
        args.a, args.b, assignment_map=_pairs(args.map, "--map") or None, match=args.match, atol=args.atol,
        rtol=args.rtol, rank=args.rank, fast=args.fast, verify=not args.no_verify, progress=_bars(),
        storage_options=_storage(args),
    )  # fmt: skip
    if args.output:
        _diff_picture(result, args.output, args.engine)
    if args.json:
        record = result.to_dict()
        if args.only:
            record["rows"] = [r for r in record["rows"] if r["status"] in args.only]
        json.dump(record, sys.stdout, indent=1, allow_nan=False)
        print()
    else:
        print("\n".join(_diff_table(result, args.only, args.limit)))
        print()
        print(result.summary())
    if args.output:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0 if result.equal else 1


def _diff_picture(result: Any, output: str, engine: str | None) -> None:
    suffix = output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if suffix in ("html", "htm"):
        from ..render.report import diff_report

        diff_report(result, output, engine=engine)
    elif suffix in ("svg", "png", "pdf", "dot", "gv"):
        result.graph.draw(output, engine=engine)
    else:
        raise InvalidArgumentError(
            f"cannot tell what to write to {output!r}: use .html, .svg, .png, .pdf or .dot"
        )


def _timeline(args: argparse.Namespace) -> int:
    from ..model.timeline import timeline

    paths = args.paths[0] if len(args.paths) == 1 else list(args.paths)
    t = timeline(
        paths, variables=args.variables, bins=args.bins, cache=args.cache, verify=not args.no_verify, progress=_bars(),
        storage_options=_storage(args),
    ).compared()  # fmt: skip
    if args.output:
        suffix = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
        if suffix in ("html", "htm"):
            from ..render.report import timeline_report

            timeline_report(t, args.output)
        elif suffix in ("svg", "png", "pdf"):
            from ..render.plots import timeline_heatmap

            timeline_heatmap(t, args.output)
        else:
            raise InvalidArgumentError(
                f"cannot tell what to write to {args.output!r}: use .html, .svg, .png or .pdf"
            )
    if args.json:
        json.dump(t.to_dict(), sys.stdout, indent=1, allow_nan=False)
        print()
    else:
        m = t.matrix()
        print("relative change from the previous checkpoint, by step")
        named = any(t.name(key) != key for key in m.index)  # the keys beside, where names differ
        cells = [
            [t.name(key), *("" if v != v else format(v, ".3g") for v in row), *([key] if named else [])]
            for key, row in m.iterrows()
        ]
        header = ["variable", *map(str, m.columns), *(["key"] if named else [])]
        for line in text_table(cells, header, "<" + ">" * len(m.columns), [60]):
            print(line)
        cached = sum(s.cached for s in t.steps)
        print(f"{len(t.steps)} checkpoints (steps {t.steps[0].step}…{t.steps[-1].step}), {len(t.stats)} variables"
              + (f"; {cached} checkpoints from the cache" if cached else ""))  # fmt: skip
    if args.output:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


class _Parser(argparse.ArgumentParser):
    """Argument mistakes read like every other failure: one line, then where help is."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"ckptviz: {message} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


PATH_HELP = "prefix, .index, .data-*, directory, SavedModel, .weights.h5/.keras or URL"


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="ckptviz", description="See, compare and repair TensorFlow checkpoints.")
    parser.add_argument("--version", action="version", version=f"ckptviz {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    ls = sub.add_parser("ls", help="list the tensors of a checkpoint")
    ls.add_argument("path", help=PATH_HELP)
    ls.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    ls.add_argument("--filter", metavar="REGEX", type=_regex, help="only keys or names matching REGEX")
    ls.add_argument("--sort", choices=["key", "size"], default="key", help="order of the rows (default: key)")
    ls.set_defaults(run=_ls)

    show = sub.add_parser("show", help="print one tensor's values and statistics")
    show.add_argument("path", help=PATH_HELP)
    show.add_argument("key", help="a key, an object path (net/l1/kernel) or a full name (dense/kernel)")
    show.add_argument(
        "--json", action="store_true", help="print a JSON record: metadata, statistics, preview"
    )
    show.add_argument(
        "--threshold", type=int, default=200, help="numpy print threshold in elements (default 200)"
    )
    show.add_argument("--edgeitems", type=int, default=3, help="items shown at each edge (default 3)")
    show.set_defaults(run=_show)

    tree = sub.add_parser("tree", help="the object graph as an indented text tree")
    tree.add_argument("path", help=PATH_HELP)
    tree.add_argument("--depth", type=int, help="fold objects below this depth")
    tree.add_argument(
        "--max-children", type=int, default=25, help="fold the rest of longer lists (default 25)"
    )
    tree.set_defaults(run=_tree)

    for p in (ls, show, tree):
        p.add_argument("--no-verify", action="store_true", help="skip CRC32C checks (faster)")

    verify = sub.add_parser(
        "verify", help="check every checksum, data file, slice and reference; exit 1 on damage"
    )
    verify.add_argument("path", help=PATH_HELP)
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=_verify)

    graph = sub.add_parser(
        "graph", help="draw the dependency graph (DOT on stdout, or -o FILE.svg/png/pdf/dot)"
    )
    graph.add_argument("path", help=PATH_HELP)
    graph.add_argument(
        "-o", "--output", metavar="FILE", help="write a picture; the extension picks the format"
    )
    graph.add_argument(
        "--max-nodes", type=int, help="fold subtrees beyond about this many nodes (default 100; 0: never)"
    )
    graph.add_argument("--depth", type=int, help="fold below this depth (counted from --focus when given)")
    graph.add_argument(
        "--focus", metavar="NAME", help="one object's subtree and the path to it (path, key or full name)"
    )
    graph.add_argument("--expand", nargs="+", metavar="NAME", default=[], help="keep these objects open")
    graph.add_argument("--collapse", nargs="+", metavar="NAME", default=[], help="fold these objects")
    graph.add_argument("--filter", metavar="REGEX", help="objects whose path, label or full name matches")
    graph.add_argument(
        "--select", nargs="+", metavar="NAME", help="only these objects (a partial restore's picture)"
    )
    graph.add_argument("--all", action="store_true", help="also bookkeeping nodes without checkpoint values")
    graph.add_argument("--engine", help="'dot', 'graphviz-pure' or an executable's path")
    graph.set_defaults(run=_graph)

    copy = sub.add_parser("copy", help="copy a checkpoint (entries and object graph) to a new prefix")
    select = sub.add_parser("select", help="save only some objects, keys or globs to a new prefix")
    rename = sub.add_parser("rename", help="rename keys or object paths with an assignment map")
    convert = sub.add_parser(
        "convert", help="convert between TF1 name-based and TF2 object-based checkpoints"
    )
    convert.add_argument("--to", choices=["tf2", "tf1"], required=True, help="the format to write")
    convert.add_argument(
        "--naming", choices=["full_name", "path"], default="full_name", help="TF1 names (to tf1)"
    )
    convert.add_argument("--select", nargs="+", metavar="NAME_OR_GLOB", help="convert only these")
    convert.add_argument("--root", default="vars", help="object holding the variables (to tf2; default vars)")
    for p in (copy, select, rename, convert):
        p.add_argument("src", help="the source checkpoint (never modified)")
        p.add_argument("dst", help="the new checkpoint prefix, or a directory (ending in /) to write into")
        p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint at dst")
        p.add_argument(
            "--max-shard-size", type=size, metavar="SIZE", help="split data files at this size (100M, 2G)"
        )
        p.set_defaults(run=_write)
    select.add_argument(
        "paths", nargs="*", metavar="NAME_OR_GLOB", help="e.g. net/l1/bias, dense/kernel or 'net/*'"
    )
    rename.add_argument(
        "pairs", nargs="+", metavar="OLD=NEW", help="as tf.train.init_from_checkpoint: 'old/'='new/'"
    )
    for p in (select, convert):
        p.add_argument("--exclude", nargs="+", metavar="NAME_OR_GLOB", help="leave these out (e.g. the head)")
        p.add_argument("--rename", nargs="+", metavar="OLD=NEW", help="then rename, as in the rename command")
    convert.set_defaults(run=_convert)

    d = sub.add_parser("diff", help="compare two checkpoints (exit 0 equal, 1 different, 2 trouble)")
    d.add_argument("a", help="the reference checkpoint")
    d.add_argument("b", help="the checkpoint compared with it")
    d.add_argument("--map", nargs="+", metavar="OLD=NEW", help="rename a's names first: 'old/'='new/'")
    d.add_argument("--match", choices=["key", "full_name", "path"], default="key", help="how keys pair up")
    d.add_argument("--atol", type=float, default=0.0, help="elements within atol + rtol*|a| are unchanged")
    d.add_argument("--rtol", type=float, default=0.0)
    d.add_argument(
        "--only", nargs="+", choices=["added", "removed", "changed", "unchanged"], help="rows to show"
    )
    d.add_argument("--rank", action="store_true", help="effective rank of 2-D deltas")
    d.add_argument("--fast", action="store_true", help="equal stored checksums mean equal (no read)")
    d.add_argument("--json", action="store_true", help="print the records as JSON")
    d.add_argument("--limit", type=int, default=200, help="rows in the table")
    d.add_argument(
        "-o", "--output", metavar="FILE", help="diff.html (report), or the coloured graph .svg/.png"
    )
    d.add_argument("--engine", help="Graphviz engine for pictures")
    d.set_defaults(run=_diff)

    tl = sub.add_parser("timeline", help="statistics of every variable over a training run")
    tl.add_argument(
        "paths", nargs="+", metavar="RUN", help="a CheckpointManager directory, or checkpoint paths in order"
    )
    tl.add_argument("--variables", metavar="REGEX", help="only keys matching REGEX")
    tl.add_argument("--bins", type=int, default=30, help="histogram bins per variable")
    tl.add_argument(
        "--cache", action="store_true", help="keep results beside the run (next time reads only new)"
    )
    tl.add_argument("--json", action="store_true", help="print the timeline as JSON")
    tl.add_argument("-o", "--output", metavar="FILE", help="timeline.html (report), or the heatmap .png/.svg")
    tl.set_defaults(run=_timeline)
    for p in (d, tl):
        p.add_argument("--no-verify", action="store_true", help="skip CRC32C checks (faster)")

    for p in sub.choices.values():
        p.add_argument(
            "--storage-option", action="append", type=_storage_option, metavar="KEY=VALUE",
            help="an fsspec storage option for s3://, gs://, http(s):// paths (endpoint_url=…, anon=true); repeatable",
        )  # fmt: skip
    lab = sub.add_parser("lab", help="open JupyterLab on the tour notebook (or PATH), or print its URL")
    lab.add_argument("path", nargs="?", help="a notebook or directory (default: the tour notebook)")
    lab.add_argument("--no-browser", action="store_true", help="only print the URL")
    lab.add_argument("--port", type=int, default=0, help="the port to serve on (default: a free one)")
    lab.set_defaults(run=run_lab)
    return parser


def _say(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    print(f"ckptviz: warning: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.debug:
        return int(args.run(args))
    try:
        with warnings.catch_warnings():  # ckptviz's warnings as they happen, one line each
            warnings.simplefilter("always", CheckpointWarning)
            warnings.showwarning = _say
            return int(args.run(args))
    except CheckpointExistsError as e:
        print(f"ckptviz: {e} (on the command line: --overwrite)", file=sys.stderr)
    except (CheckpointError, argparse.ArgumentTypeError) as e:
        print(f"ckptviz: {e}", file=sys.stderr)
    except BrokenPipeError:
        return 0
    except OSError as e:  # unwritable outputs, network errors for URLs
        print(f"ckptviz: {e.strerror or e}{f': {e.filename}' if e.filename else ''}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2  # 1 is an answer (different, damaged), 2 a failure, as diff(1) and cmp(1) use them


if __name__ == "__main__":
    sys.exit(main())
