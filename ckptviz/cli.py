"""The ``ckptviz`` command: list, show, draw and convert checkpoints from a shell."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import CheckpointError, CheckpointExistsError
from .model.checkpoint import Checkpoint, human_size
from .model.stats import tensor_stats


def _ls(args: argparse.Namespace) -> int:
    with Checkpoint(args.path, verify=not args.no_verify) as ckpt:
        entries = [e for e in ckpt.entries.values() if not args.filter or re.search(args.filter, e.key)]
        if args.sort == "size":
            entries.sort(key=lambda e: -e.nbytes)
        if args.json:
            rows = [
                {
                    "key": e.key,
                    "dtype": e.dtype.name,
                    "shape": list(e.shape),
                    "nbytes": e.nbytes,
                    "shard": e.shard,
                }
                for e in entries
            ]
            json.dump(rows, sys.stdout, indent=1)
            print()
            return 0
        import pandas

        frame = pandas.DataFrame(
            {
                "key": [e.key for e in entries],
                "dtype": [e.dtype.name for e in entries],
                "shape": ["[" + ",".join(map(str, e.shape)) + "]" for e in entries],
                "size": [human_size(e.nbytes) for e in entries],
            }
        )
        if len(frame):
            left = {
                c: f"{{:<{max(frame[c].str.len().max(), len(c))}}}".format for c in ("key", "dtype", "shape")
            }
            print(frame.to_string(index=False, justify="left", formatters=left))
        print(
            f"{len(entries)} of {len(ckpt)} tensors, {human_size(sum(e.nbytes for e in entries))} ({ckpt!r})"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    with Checkpoint(args.path, verify=not args.no_verify) as ckpt:
        entry = ckpt.entries.get(args.key)
        value = ckpt.read(args.key)
        assert entry is not None
        print(
            f"{entry.key}: {entry.dtype.name} [{','.join(map(str, entry.shape))}] {human_size(entry.nbytes)}"
        )
        stats = tensor_stats(value, bins=None, dtype_name=entry.dtype.name)
        if stats is not None:
            print(stats.summary())
        with np.printoptions(threshold=args.threshold, edgeitems=args.edgeitems, linewidth=120):
            print(value if value.ndim else value[()])
    return 0


def _pairs(items: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for item in items or ():
        old, sep, new = item.partition("=")
        if not sep:
            raise SystemExit(f"ckptviz: --rename takes OLD=NEW, got {item!r}")
        out[old] = new
    return out


def _write(args: argparse.Namespace) -> int:
    """copy / select / rename: a view of the source, saved to a new prefix."""
    view = Checkpoint(args.src).view()
    if getattr(args, "paths", None):
        view = view.select(list(args.paths))
    renames = _pairs(getattr(args, "rename", None) or getattr(args, "pairs", None))
    if renames:
        view = view.rename(renames)
    prefix = view.save(args.dst, overwrite=args.overwrite, max_shard_size=args.max_shard_size)
    print(f"wrote {prefix} ({len(view.keys())} tensors)")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .model.convert import convert

    prefix = convert(
        args.src,
        args.dst,
        to=args.to,
        naming=args.naming,
        select=args.select or None,
        assignment_map=_pairs(args.rename) or None,
        root=args.root,
        overwrite=args.overwrite,
        max_shard_size=args.max_shard_size,
    )
    print(f"wrote {prefix} ({args.to.upper()})")
    return 0


def _graph(args: argparse.Namespace) -> int:
    options = {
        "max_nodes": args.max_nodes or None,
        "max_depth": args.depth,
        "focus": args.focus,
        "filter": args.filter,
        "select": args.select,
        "hide_empty": not args.all,
        "optimizer_lists": args.all,
    }
    if args.output is None:
        print(Checkpoint(args.path).graph.to_dot(**options), end="")
        return 0
    from .render import export_graph

    out = export_graph(args.path, args.output, engine=args.engine, **options)
    print(f"wrote {out}")
    return 0


# -- diff and timeline: exit 0 equal, 1 different, 2 trouble (like diff(1)) ---------------------


def _fail(e: Exception) -> int:
    print(f"ckptviz: {e}", file=sys.stderr)
    return 2


def _fmt(x: float | None, spec: str = ".4g") -> str:
    return "" if x is None else format(x, spec)


def _diff_table(result: Any, only: Sequence[str] | None, limit: int) -> list[str]:
    """Rows most changed first, then the roll-up of the subtrees that changed (or froze)."""
    from .model.diff.result import _topmost
    from .render.report import _sort_key

    rows = [r for r in sorted(result.rows, key=_sort_key) if not only or r.status in only]
    width = min(70, max((len(r.key) for r in result.rows), default=3))
    lines = [f"{'key':<{width}}  {'status':<9}  {'dtype':<9}  {'shape':<14}  {'rel.change':>10}  "
             f"{'changed':>8}  {'max|Δ|':>10}  note"]  # fmt: skip
    for r in rows[:limit]:
        d = r.delta
        key = r.key if len(r.key) <= width else "…" + r.key[-width + 1 :]
        dtype = r.dtype_a if r.dtype_a == r.dtype_b else f"{r.dtype_a or '-'}>{r.dtype_b or '-'}"
        shape = "[" + ",".join(map(str, r.shape_b if r.shape_b is not None else r.shape_a or ())) + "]"
        if r.shape_changed:
            shape = f"{list(r.shape_a or ())}>{list(r.shape_b or ())}".replace(" ", "")
        frac = f"{r.fraction_changed:.1%}" if r.fraction_changed is not None else ""
        note = r.reason or (f"NaN/Inf {r.nonfinite}" if r.nonfinite else "")
        lines.append(f"{key:<{width}}  {r.status:<9}  {dtype or '':<9}  {shape:<14}  "
                     f"{_fmt(d.relative_change if d else None):>10}  {frac:>8}  "
                     f"{_fmt(d.max_abs_diff if d else None):>10}  {note}".rstrip())  # fmt: skip
    if len(rows) > limit:
        lines.append(f"… {len(rows) - limit} more rows (--limit, or --json for all)")
    frozen = _topmost([r for r in result.rollups if r.frozen and r.path]) if not result.equal else []
    moved = sorted(
        [r for r in result.rollups if r.path and r.status != "unchanged"] + frozen, key=lambda r: r.path
    )
    if moved:
        lines += [
            "",
            f"{'subtree':<{width}}  {'status':<9}  {'params':>10}  {'changed':>8}  {'rel.change':>10}  flags",
        ]
        for r in moved[:limit]:
            flags = " ".join(f for f, on in (("frozen", r.frozen), ("exploded", r.exploded)) if on)
            frac = f"{r.fraction_changed:.1%}" if r.fraction_changed is not None else ""
            lines.append(f"{r.path[-width:]:<{width}}  {r.status:<9}  {r.params:>10}  {frac:>8}  "
                         f"{_fmt(r.relative_change):>10}  {flags}".rstrip())  # fmt: skip
    return lines


def _diff(args: argparse.Namespace) -> int:
    from .model.diff import diff

    try:
        mapping = {}
        for item in args.map or ():
            old, sep, new = item.partition("=")
            if not sep:
                raise ValueError(f"--map takes OLD=NEW, got {item!r}")
            mapping[old] = new
        result = diff(
            args.a, args.b, assignment_map=mapping or None, match=args.match, atol=args.atol, rtol=args.rtol,
            rank=args.rank, fast=args.fast, verify=not args.no_verify,
        )  # fmt: skip
        if args.output:
            _diff_picture(result, args.output, args.engine)
    except (CheckpointError, ValueError, OSError, RuntimeError) as e:
        return _fail(e)
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
        from .render.report import diff_report

        diff_report(result, output, engine=engine)
    elif suffix in ("svg", "png", "pdf", "dot", "gv"):
        result.graph.draw(output, engine=engine)
    else:
        raise ValueError(f"cannot tell what to write to {output!r}: use .html, .svg, .png, .pdf or .dot")


def _timeline(args: argparse.Namespace) -> int:
    from .model.timeline import timeline

    try:
        paths = args.paths[0] if len(args.paths) == 1 else list(args.paths)
        t = timeline(
            paths, variables=args.variables, bins=args.bins, cache=args.cache, verify=not args.no_verify
        )
        if args.output:
            suffix = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
            if suffix in ("html", "htm"):
                from .render.report import timeline_report

                timeline_report(t, args.output)
            elif suffix in ("svg", "png", "pdf"):
                from .render.plots import timeline_heatmap

                timeline_heatmap(t, args.output)
            else:
                raise ValueError(
                    f"cannot tell what to write to {args.output!r}: use .html, .svg, .png or .pdf"
                )
    except (CheckpointError, ValueError, OSError) as e:
        return _fail(e)
    if args.json:
        json.dump(t.to_dict(), sys.stdout, indent=1, allow_nan=False)
        print()
    else:
        m = t.matrix()
        width = min(60, max((len(k) for k in m.index), default=8))
        print(f"relative change from the previous checkpoint, by step\n{'variable':<{width}}  "
              + "  ".join(f"{c:>9}" for c in m.columns))  # fmt: skip
        for key, row in m.iterrows():
            name = str(key) if len(str(key)) <= width else "…" + str(key)[-width + 1 :]
            cells = "  ".join(f"{'' if v != v else format(v, '.3g'):>9}" for v in row)
            print(f"{name:<{width}}  {cells}")
        print(repr(t))
    if args.output:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ckptviz", description="See, compare and repair TensorFlow checkpoints."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("ls", help="list the tensors of a checkpoint")
    ls.add_argument("path", help="prefix, .index, .data-*, directory, SavedModel, .weights.h5/.keras or URL")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.add_argument("--filter", metavar="REGEX", help="only keys matching REGEX")
    ls.add_argument("--sort", choices=["key", "size"], default="key")
    ls.set_defaults(run=_ls)

    show = sub.add_parser("show", help="print one tensor's values and statistics")
    show.add_argument("path")
    show.add_argument("key")
    show.add_argument("--threshold", type=int, default=200, help="numpy print threshold (elements)")
    show.add_argument("--edgeitems", type=int, default=3)
    show.set_defaults(run=_show)

    for p in (ls, show):
        p.add_argument("--no-verify", action="store_true", help="skip CRC32C checks (faster)")

    graph = sub.add_parser(
        "graph", help="draw the dependency graph (DOT on stdout, or -o FILE.svg/png/pdf/dot)"
    )
    graph.add_argument("path")
    graph.add_argument(
        "-o", "--output", metavar="FILE", help="write a picture; the extension picks the format"
    )
    graph.add_argument("--max-nodes", type=int, default=300, help="collapse subtrees beyond this (0: never)")
    graph.add_argument("--depth", type=int, help="collapse below this depth")
    graph.add_argument("--focus", metavar="PATH", help="one object's subtree and the path to it")
    graph.add_argument("--filter", metavar="REGEX", help="objects whose path matches, and their ancestors")
    graph.add_argument("--select", nargs="+", metavar="PATH", help="only these objects (a partial restore)")
    graph.add_argument("--all", action="store_true", help="also bookkeeping nodes without checkpoint values")
    graph.add_argument("--engine", help="'dot', 'graphviz-pure' or an executable's path")
    graph.set_defaults(run=_graph)

    copy = sub.add_parser("copy", help="copy a checkpoint (entries and object graph) to a new prefix")
    select = sub.add_parser("select", help="save only some object paths or key globs to a new prefix")
    rename = sub.add_parser("rename", help="rename keys or object paths with an assignment map")
    convert = sub.add_parser(
        "convert", help="convert between TF1 name-based and TF2 object-based checkpoints"
    )
    convert.add_argument("--to", choices=["tf2", "tf1"], required=True)
    convert.add_argument(
        "--naming", choices=["full_name", "path"], default="full_name", help="TF1 names (to tf1)"
    )
    convert.add_argument("--select", nargs="+", metavar="PATH_OR_GLOB")
    convert.add_argument("--root", default="vars", help="object holding the variables (to tf2)")
    for p in (copy, select, rename, convert):
        p.add_argument("src", help="the source checkpoint (never modified)")
        p.add_argument("dst", help="the new checkpoint prefix")
        p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint at dst")
        p.add_argument("--max-shard-size", type=int, metavar="BYTES", help="split data files at this size")
        p.set_defaults(run=_write)
    select.add_argument("paths", nargs="+", metavar="PATH_OR_GLOB", help="e.g. net/l1/bias or 'net/*'")
    rename.add_argument(
        "pairs", nargs="+", metavar="OLD=NEW", help="as tf.train.init_from_checkpoint: 'old/'='new/'"
    )
    for p in (select, convert):
        p.add_argument("--rename", nargs="+", metavar="OLD=NEW")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CheckpointExistsError as e:
        print(f"ckptviz: {e} (on the command line: --overwrite)", file=sys.stderr)
        return 1
    except CheckpointError as e:
        print(f"ckptviz: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
