"""The ``ckptviz`` command: list, show, draw and convert checkpoints from a shell."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence

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
    view = Checkpoint(args.src).derive()
    if getattr(args, "paths", None):
        view = view.select(list(args.paths))
    renames = _pairs(getattr(args, "rename", None) or getattr(args, "pairs", None))
    if renames:
        view = view.rename(renames)
    prefix = view.save(args.dst, overwrite=args.overwrite, max_shard_size=args.max_shard_size)
    print(f"wrote {prefix} ({len(view.keys())} tensors)")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .transform.convert import convert

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
