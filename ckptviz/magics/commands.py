"""The ``%ckpt`` subcommands: each takes parsed arguments and the notebook's namespace, calls the
layers below through ckptviz's public API, and returns the object the cell shows."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import close_matches
from ..format import naming, storage
from ..model.checkpoint import Checkpoint, human_size
from .parsing import MissingPieceError, UsageError, pairs
from .results import Info, Text

Namespace = Mapping[str, Any]


def expand_path(path: str) -> str:
    return path if storage.is_remote(path) else os.path.expanduser(path)


def opened(path: str) -> Checkpoint:
    return Checkpoint(expand_path(path))


def public(name: str, what: str) -> Any:
    """``ckptviz.<name>``, or a one-line error naming what this installation lacks."""
    import ckptviz

    try:
        return getattr(ckptviz, name)
    except ModuleNotFoundError as e:
        top = (e.name or name).split(".")[0]
        if top == "ckptviz":
            raise MissingPieceError(
                f"{what} (ckptviz.{name}) is incomplete here: {e.name} is missing"
            ) from None
        raise MissingPieceError(
            f"{what} (ckptviz.{name}) needs the {top!r} package: pip install {top}"
        ) from None
    except AttributeError:
        raise MissingPieceError(f"{what} (ckptviz.{name}) is not part of this version of ckptviz") from None


def lookup_object(namespace: Namespace, name: str) -> Any:
    """The notebook object ``name`` names: a variable, or attributes of one (``model.net``)."""
    head, *attrs = name.split(".")
    if head not in namespace:
        names = [n for n in namespace if not n.startswith("_")]
        near = close_matches(head, names)
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        raise UsageError(f"the notebook has no variable named {head!r}{hint}")
    obj = namespace[head]
    for i, attr in enumerate(attrs):
        if not hasattr(obj, attr):
            raise UsageError(f"{'.'.join([head, *attrs[:i]])!r} has no attribute {attr!r}")
        obj = getattr(obj, attr)
    return obj


# -- reading -------------------------------------------------------------------------------------


def ls(a: argparse.Namespace, ns: Namespace) -> Any:
    """A table of every tensor: key, the name people know, dtype, shape, size, shard, object."""
    import pandas

    ckpt = opened(a.path)
    records = ckpt.entry_records()
    if a.filter:
        try:
            pattern = re.compile(a.filter)
        except re.error as e:
            raise UsageError(f"--filter {a.filter!r} is not a regular expression: {e}") from None
        records = [r for r in records if pattern.search(r.key) or pattern.search(r.name)]
    if a.sort == "size":
        records.sort(key=lambda r: -r.nbytes)
    columns = ["key", "name", "dtype", "shape", "nbytes", "shard", "kind"]
    return pandas.DataFrame([r.to_dict() for r in records], columns=columns)


def info(a: argparse.Namespace, ns: Namespace) -> Info:
    ckpt = opened(a.path)
    graph = ckpt.graph
    state = ckpt.state
    return Info(
        ckpt.path,
        ckpt.format,
        "object-based" if ckpt.is_object_based else "name-based",
        len(ckpt),
        ckpt.nbytes,
        ckpt.num_shards,
        [graph.display_name(n.id) for n in graph.of_kind("optimizer")],
        list(state.all_model_checkpoint_paths) if state else [],
        state.model_checkpoint_path if state else None,
        dict(graph.counts()),
    )


def tree(a: argparse.Namespace, ns: Namespace) -> Text:
    from ..render.text import text_tree

    return Text(text_tree(opened(a.path).graph, max_depth=a.depth, max_children=a.max_children))


def show(a: argparse.Namespace, ns: Namespace) -> np.ndarray:
    from ..model.stats import tensor_stats

    ckpt = opened(a.path)
    key = ckpt.key_of(a.key)  # a key, or an object path, alias or full name
    entry = ckpt.entries[key]
    value = ckpt.read(key)
    print(f"{entry.key}: {entry.dtype.name} [{','.join(map(str, entry.shape))}] {human_size(entry.nbytes)}")
    stats = tensor_stats(value, bins=None, dtype_name=entry.dtype.name)
    if stats is not None:
        print(stats.summary())
    return value


def graph(a: argparse.Namespace, ns: Namespace) -> Any:
    """The picture (``ObjectGraph.draw``), shown inline; ``--export`` writes it and returns the path."""
    given = {
        "max_depth": a.depth,
        "focus": a.focus,
        "filter": a.filter,
        "select": a.select,
        "expand": a.expand,
        "collapse": a.collapse,
    }
    options = {k: v for k, v in given.items() if v is not None}
    if a.max_nodes is not None:
        options["max_nodes"] = a.max_nodes or None
    picture = opened(a.path).graph.draw(**options)
    if a.export:
        out = picture.save(expand_path(a.export))
        print(f"wrote {out}")
        return out
    return picture


def verify(a: argparse.Namespace, ns: Namespace) -> Any:
    import warnings

    from ..model.verify import verify as run

    with warnings.catch_warnings():  # tqdm.auto warns on import in a kernel without ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        return run(expand_path(a.path), progress=None)


# -- the widgets, diffs and runs (public API entries that may not be installed) ------------------


def browse(a: argparse.Namespace, ns: Namespace) -> Any:
    return public("explore", "the explorer widget")(expand_path(a.path))


def diff(a: argparse.Namespace, ns: Namespace) -> Any:
    run = public("diff", "the diff engine")
    return run(
        expand_path(a.a),
        expand_path(a.b),
        assignment_map=pairs(a.map) or None,
        match=a.match,
        atol=a.atol,
        rtol=a.rtol,
    )


def timeline(a: argparse.Namespace, ns: Namespace) -> Any:
    run = public("timeline", "the training-run timeline")
    steps = a.dir.split("\n")  # a %%ckpt timeline cell: one checkpoint per line, in order
    return run([expand_path(p) for p in steps] if len(steps) > 1 else expand_path(a.dir)).compared()


# -- live objects --------------------------------------------------------------------------------


def check(a: argparse.Namespace, ns: Namespace) -> Any:
    from ..live.match import check as run

    return run(
        expand_path(a.path),
        lookup_object(ns, a.obj),
        select=a.select,
        exclude=a.exclude,
        assignment_map=pairs(a.map) or None,
        root=a.root,
    )


def restore(a: argparse.Namespace, ns: Namespace) -> Any:
    from ..live.restore import restore as run

    into = lookup_object(ns, a.into)
    return run(
        expand_path(a.path),
        into,
        a.select,
        exclude=a.exclude,
        assignment_map=pairs(a.map) or None,
        root=a.root,
    )


# -- derived checkpoints -------------------------------------------------------------------------


def _written(prefix: Any) -> Checkpoint:
    ckpt = Checkpoint(str(prefix))
    values = sum(k != naming.OBJECT_GRAPH_KEY for k in ckpt.entries)  # as the command line counts
    print(f"wrote {ckpt.path} ({values} tensors)")
    return ckpt


def select(a: argparse.Namespace, ns: Namespace) -> Checkpoint:
    view = opened(a.src).select(a.paths, exclude=a.exclude)
    return _written(view.save(expand_path(a.dst), overwrite=a.overwrite))


def rename(a: argparse.Namespace, ns: Namespace) -> Checkpoint:
    view = opened(a.src).rename(pairs(a.pairs))
    return _written(view.save(expand_path(a.dst), overwrite=a.overwrite))


def convert(a: argparse.Namespace, ns: Namespace) -> Checkpoint:
    from ..transform.convert import convert as run

    prefix = run(
        opened(a.src),
        expand_path(a.dst),
        to=a.to,
        naming=a.naming,
        select=a.select or None,
        assignment_map=pairs(a.map) or None,
        root=a.root,
        overwrite=a.overwrite,
    )
    return _written(prefix)


RUN: dict[str, Callable[[argparse.Namespace, Namespace], Any]] = {
    "ls": ls,
    "info": info,
    "tree": tree,
    "show": show,
    "graph": graph,
    "browse": browse,
    "diff": diff,
    "timeline": timeline,
    "check": check,
    "restore": restore,
    "select": select,
    "rename": rename,
    "convert": convert,
    "verify": verify,
}


__all__ = ["RUN", "expand_path", "lookup_object"]
