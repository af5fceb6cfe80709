"""The ``%ckpt`` subcommands: each takes parsed arguments and the notebook's namespace, calls the
layers below through ckptviz's public API, and returns the object the cell shows."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import CheckpointError, close_matches
from ..format import storage
from ..model.checkpoint import Checkpoint, human_size
from .parsing import MissingPieceError, UsageError, pairs
from .results import Info, Picture, Tree, Verified

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
        raise MissingPieceError(f"{what} (ckptviz.{name}) needs the {top!r} package: pip install {top}") from None
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
    ckpt = opened(a.path)
    frame = ckpt.to_pandas()
    if a.filter:
        try:
            pattern = re.compile(a.filter)
        except re.error as e:
            raise UsageError(f"--filter {a.filter!r} is not a regular expression: {e}") from None
        frame = frame[[bool(pattern.search(k)) for k in frame["key"]]]
    if a.sort == "size":
        frame = frame.sort_values("nbytes", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


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


def tree(a: argparse.Namespace, ns: Namespace) -> Tree:
    ckpt = opened(a.path)
    graph = ckpt.graph
    rows: list[tuple[int, str, str, str]] = []
    seen: set[int] = set()

    def walk(node_id: int, depth: int) -> None:
        for name, child in graph.children(node_id).items():
            node = graph.nodes[child]
            if child in seen:
                rows.append((depth, name, node.kind, f"-> {graph.display_name(child)}"))
                continue
            seen.add(child)
            spec = ""
            if node.dtype is not None:
                spec = f"{node.dtype} [{','.join(map(str, node.shape or ()))}] {human_size(node.nbytes)}"
            label = graph.display_name(child)
            shown = name if label == node.path else f"{name}  = {label}"
            rows.append((depth, shown, node.kind, spec))
            walk(child, depth + 1)
            for slot in graph.slots_of(child):
                if slot.variable_id == child:
                    rows.append((depth + 1, slot.slot_name, "slot", graph.display_name(slot.slot_id)))

    seen.add(0)
    walk(0, 0)
    return Tree(ckpt.path, rows)


def show(a: argparse.Namespace, ns: Namespace) -> np.ndarray:
    from ..model.stats import tensor_stats

    ckpt = opened(a.path)
    key = a.key
    if key not in ckpt.entries:
        node = ckpt.graph.resolve(key)  # an object path, alias or full name; KeyNotFoundError otherwise
        keys = ckpt.graph.keys_of(node.id)
        if len(keys) != 1:
            raise UsageError(f"{key!r} holds {len(keys)} tensors ({', '.join(keys[:5]) or 'none'}); name one key")
        key = keys[0]
    entry = ckpt.entries[key]
    value = ckpt.read(key)
    print(f"{entry.key}: {entry.dtype.name} [{','.join(map(str, entry.shape))}] {human_size(entry.nbytes)}")
    stats = tensor_stats(value, bins=None, dtype_name=entry.dtype.name)
    if stats is not None:
        print(stats.summary())
    return value


def graph(a: argparse.Namespace, ns: Namespace) -> Any:
    options = {
        "max_nodes": a.max_nodes or None,
        "max_depth": a.depth,
        "focus": a.focus,
        "filter": a.filter,
        "select": a.select,
    }
    g = opened(a.path).graph
    if a.export:
        from ..render import export_graph

        out = export_graph(g, expand_path(a.export), **options)
        print(f"wrote {out}")
        return out
    return Picture(g, options)


def verify(a: argparse.Namespace, ns: Namespace) -> Any:
    try:
        engine = public("verify", "checkpoint verification")
    except MissingPieceError:
        engine = None
    if engine is not None:
        return engine(expand_path(a.path))
    ckpt = opened(a.path)  # CRC32C checks are on: every read verifies its bytes
    problems = []
    for key in ckpt.entries:
        try:
            ckpt.read(key)
        except CheckpointError as e:
            problems.append(f"{key}: {e}")
    return Verified(ckpt.path, len(ckpt), ckpt.nbytes, problems)


# -- the widgets, diffs and runs (public API entries that may not be installed) ------------------


def browse(a: argparse.Namespace, ns: Namespace) -> Any:
    return public("explore", "the explorer widget")(expand_path(a.path))


def diff(a: argparse.Namespace, ns: Namespace) -> Any:
    run = public("diff", "the diff engine")
    return run(expand_path(a.a), expand_path(a.b), assignment_map=pairs(a.map) or None)


def timeline(a: argparse.Namespace, ns: Namespace) -> Any:
    run = public("timeline", "the training-run timeline")
    steps = a.dir.split("\n")  # a %%ckpt timeline cell: one checkpoint per line, in order
    return run([expand_path(p) for p in steps] if len(steps) > 1 else expand_path(a.dir))


# -- live objects --------------------------------------------------------------------------------


def check(a: argparse.Namespace, ns: Namespace) -> Any:
    from ..live.match import check as run

    return run(expand_path(a.path), lookup_object(ns, a.obj))


def restore(a: argparse.Namespace, ns: Namespace) -> Any:
    from ..live.restore import restore as run

    into = lookup_object(ns, a.into)
    source: Any = opened(a.path)
    if a.select or a.exclude:
        source = source.select(a.select, exclude=a.exclude)
    return run(source, into, assignment_map=pairs(a.map) or None)


# -- derived checkpoints -------------------------------------------------------------------------


def _written(prefix: Any) -> Checkpoint:
    ckpt = Checkpoint(str(prefix))
    print(f"wrote {ckpt.path} ({len(ckpt)} tensors)")
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
    "ls": ls, "info": info, "tree": tree, "show": show, "graph": graph, "browse": browse,
    "diff": diff, "timeline": timeline, "check": check, "restore": restore,
    "select": select, "rename": rename, "convert": convert, "verify": verify,
}


__all__ = ["RUN", "expand_path", "lookup_object"]
