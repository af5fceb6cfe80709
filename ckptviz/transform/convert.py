"""TF1 name-based ⇄ TF2 object-based conversion, as the TF2 migration guide does it by hand.

TF1 → TF2: every variable ``name`` becomes ``vars/<escaped name>/.ATTRIBUTES/VARIABLE_VALUE``
under an object graph ``root -vars-> {name: variable}``, which is what
``tf.train.Checkpoint(vars={...}).write()`` produces, so that object restores it.
TF2 → TF1: every variable is keyed by its recorded TF1 name (``full_name``), which is what a
TF1 ``Saver`` looks up; other attributes (iterator state, Python state) have no TF1 form.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np

from ..errors import DroppedKeysWarning, InvalidArgumentError, NameConflictError
from ..format.naming import OBJECT_GRAPH_KEY
from ..format.progress import Progress
from ..model import paths
from .derived import DerivedCheckpoint, derive
from .graph_proto import new_graph

_COUNTER = paths.attribute_key("save_counter", paths.VARIABLE_VALUE)
Naming = Literal["full_name", "path"] | Mapping[str, str] | Callable[[str, str], str]


def to_tf2(view: DerivedCheckpoint, root: str = "vars") -> DerivedCheckpoint:
    """A name-based view as an object-based one with ``root`` holding every variable by name."""
    if view.is_object_based:
        raise InvalidArgumentError(
            "the checkpoint is already object-based (TF2); save() copies it, to='tf1' converts back"
        )
    graph = new_graph()
    graph.nodes.add().children.add(node_id=1, local_name=root)
    holder = graph.nodes.add()
    # What Checkpoint.save() adds: TF's restore creates save_counter and assert_consumed wants its value.
    graph.nodes[0].children.add(node_id=2, local_name="save_counter")
    graph.nodes.add().attributes.add(
        name=paths.VARIABLE_VALUE, full_name="save_counter", checkpoint_key=_COUNTER
    )
    keys: dict[str, str] = {}
    for name in sorted(view.keys_map):
        nid = len(graph.nodes)
        holder.children.add(node_id=nid, local_name=name)
        key = paths.attribute_key(paths.join(paths.join("", root), name), paths.VARIABLE_VALUE)
        graph.nodes.add().attributes.add(name=paths.VARIABLE_VALUE, full_name=name, checkpoint_key=key)
        keys[key] = view.keys_map[name]
    for node in graph.nodes:
        node.has_checkpoint_values.value = True  # every node holds or leads to a variable
    return DerivedCheckpoint(view.source, keys, graph, extras={_COUNTER: np.array(1, dtype=np.int64)})


def tf1_names(view: DerivedCheckpoint, naming_: Naming = "full_name") -> dict[str, str]:
    """``{TF1 name: view key}`` for every variable of an object-based view; raises on clashes."""
    if not view.is_object_based:
        return {k: k for k in view.keys_map}
    graph = view.graph
    names: dict[str, list[str]] = {}
    for key in view.keys_map:
        owner = graph.owner.get(key)
        if owner is None or owner[1] != paths.VARIABLE_VALUE:
            continue  # iterator state, Python state: no TF1 form (to_tf1 reports them)
        node = graph.nodes[owner[0]]
        names.setdefault(_tf1_name(naming_, node.path, node.full_name), []).append(key)
    problems = {n: keys for n, keys in names.items() if len(keys) > 1 or not n}
    if problems:
        shown = "; ".join(
            f"{n or '(empty)'!r} <- {', '.join(ks[:3])}" for n, ks in list(problems.items())[:5]
        )
        raise NameConflictError(
            f"{len(problems)} TF1 name(s) are empty or shared: {shown}. Pass naming='path' to use object "
            "paths, a dict {object path: name}, or a function (path, full_name) -> name",
            problems,
        )
    return {n: keys[0] for n, keys in names.items()}


def _tf1_name(naming_: Naming, path: str, full_name: str) -> str:
    if naming_ == "full_name":
        return full_name
    if naming_ == "path":
        return path
    if isinstance(naming_, Mapping):
        return naming_.get(path, full_name)
    if callable(naming_):
        return naming_(path, full_name)
    raise InvalidArgumentError(f"naming must be 'full_name', 'path', a dict or a function, not {naming_!r}")


def to_tf1(view: DerivedCheckpoint, naming_: Naming = "full_name") -> DerivedCheckpoint:
    """An object-based view as a name-based one keyed by TF1 variable names; keys that are not
    variables (iterator state, Python state) have no TF1 form and are dropped with a warning."""
    if not view.is_object_based:
        raise InvalidArgumentError(
            "the checkpoint is already name-based (TF1); save() copies it, to='tf2' converts it"
        )
    names = tf1_names(view, naming_)
    dropped = sorted(set(view.keys_map) - set(names.values()))
    if dropped:
        shown = ", ".join(dropped[:5]) + (f" and {len(dropped) - 5} more" if len(dropped) > 5 else "")
        warnings.warn(
            f"converting to TF1 drops {len(dropped)} key(s) that are not variables: {shown}",
            DroppedKeysWarning,
            stacklevel=3,
        )
    return DerivedCheckpoint(view.source, {n: view.keys_map[k] for n, k in sorted(names.items())})


def convert(
    src: Any,
    dst: str | os.PathLike[str],
    to: Literal["tf2", "tf1"] = "tf2",
    *,
    naming: Naming = "full_name",
    select: Any = None,
    exclude: Any = None,
    assignment_map: Mapping[str, str] | None = None,
    root: str = "vars",
    overwrite: bool = False,
    max_shard_size: int | None = None,
    dir_fd: int | None = None,
    progress: bool | Progress | None = None,
) -> str:
    """Convert ``src`` (path, ``Checkpoint`` or view) and write it to ``dst``; returns ``dst``.

    ``select``, ``exclude`` and ``assignment_map`` apply to the source before converting. ``to="tf1"`` keys
    variables by ``naming``: their recorded ``full_name`` (default), their object ``"path"``, a
    dict ``{path: name}`` (others keep their full_name) or a function ``(path, full_name) -> name``.
    ``dir_fd``: ``dst`` is a name in the directory of that descriptor (see ``DerivedCheckpoint.save``).
    """
    view = derive(src)
    if select is not None or exclude is not None:
        view = view.select(select, exclude=exclude)
    if assignment_map:
        view = view.rename(assignment_map)
    if to == "tf2":
        out = to_tf2(view, root)
    elif to == "tf1":
        out = to_tf1(view, naming)
    else:
        raise InvalidArgumentError(f"to must be 'tf2' or 'tf1', not {to!r}")
    if OBJECT_GRAPH_KEY in out.keys_map:
        raise NameConflictError(f"a variable may not be named {OBJECT_GRAPH_KEY!r}", {OBJECT_GRAPH_KEY: []})
    return out.save(dst, overwrite=overwrite, max_shard_size=max_shard_size, progress=progress, dir_fd=dir_fd)
