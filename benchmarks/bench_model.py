"""Interactive paths of the model layer on big checkpoints: listing, check, select, a typo's hint.

    python benchmarks/bench_model.py            # inputs under benchmarks/out/model (made once)

Only the public API is timed, so the same script measures any revision (PYTHONPATH=<checkout>).
"""

from __future__ import annotations

import contextlib
import importlib.util
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import ckptviz
from ckptviz.format.naming import OBJECT_GRAPH_KEY
from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph

OUT = Path(__file__).parent / "out" / "model"


def object_based(prefix: Path, n: int) -> Path:
    """``model/layer_i/kernel`` for i < n: an object graph of n variables under n layers."""
    if prefix.with_suffix(".index").exists():
        return prefix
    g = TrackableObjectGraph()
    root, model = g.nodes.add(), g.nodes.add()
    root.children.add(node_id=1, local_name="model")
    tensors = {}
    for i in range(n):
        layer = len(g.nodes)
        g.nodes.add().children.add(node_id=layer + 1, local_name="kernel")
        model.children.add(node_id=layer, local_name=f"layer_{i}")
        key = f"model/layer_{i}/kernel/.ATTRIBUTES/VARIABLE_VALUE"
        g.nodes.add().attributes.add(name="VARIABLE_VALUE", full_name=f"layer_{i}/kernel", checkpoint_key=key)
        tensors[key] = np.full(4, i, np.float32)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    ckptviz.write_checkpoint(prefix, tensors, g, overwrite=True)
    return prefix


def name_based(prefix: Path, n: int, changed: bool = False) -> Path:
    """A TF1 ``Saver``'s names, n keys: ``tower_t/block_b/layer_l/kernel`` and ``bias`` each with
    ``/Adam`` and ``/Adam_1``, ``beta1_power``, ``beta2_power``, ``global_step``, and 2 % of the
    keys in partitioned embeddings (``embeddings/table_e/part_k/Adam``). ``changed``: every tenth
    key one more (the other side of a diff)."""
    if prefix.with_suffix(".index").exists():
        return prefix
    t = {"global_step": np.int64(1000), "beta1_power": np.float32(0.9), "beta2_power": np.float32(0.99)}
    e = 0
    while len(t) + 9 <= n * 0.02:
        t[f"embeddings/table_{e}"] = np.zeros((8, 2), np.float32)
        for k in range(4):
            for slot in ("Adam", "Adam_1"):
                t[f"embeddings/table_{e}/part_{k}/{slot}"] = np.zeros((2, 2), np.float32)
        e += 1
    i = 0
    while len(t) + 3 <= n:
        kernel = i % 2 == 0
        name = f"tower_{i // 2000}/block_{i // 40 % 50}/layer_{i // 2 % 20}/{'kernel' if kernel else 'bias'}"
        for suffix in ("", "/Adam", "/Adam_1"):
            t[name + suffix] = np.full((2, 2) if kernel else (2,), i, np.float32)
        i += 1
    while len(t) < n:
        t[f"metrics/count_{len(t)}"] = np.float32(0)
    if changed:
        t = {k: v + 1 if j % 10 == 0 else v for j, (k, v) in enumerate(t.items())}
    prefix.parent.mkdir(parents=True, exist_ok=True)
    ckptviz.write_checkpoint(prefix, t, overwrite=True)
    return prefix


def timed(fn: object, runs: int = 5) -> float:
    """Median CPU seconds of this process: steady on a busy 2-core machine, where wall time is not."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    p4 = object_based(OUT / "vars4000" / "ckpt", 4000)
    p8 = object_based(OUT / "vars8000" / "ckpt", 8000)
    p50 = object_based(OUT / "vars50000" / "ckpt", 50_000)
    tree = {"model": {f"layer_{i}": {"kernel": np.zeros(4, np.float32)} for i in range(4000)}}
    selection = [f"model/layer_{i}" for i in range(8000)]
    big = ckptviz.open(str(p50))
    big.entries  # noqa: B018 - listed once, as a face would have it already

    def typo() -> None:
        with contextlib.suppress(ckptviz.KeyNotFoundError):
            big.read("model/layer_123/kernal/.ATTRIBUTES/VARIABLE_VALUE")

    def page() -> None:  # one page of a listing, the checkpoint already open and shown once
        try:
            big.entry_records(25_000, 25_100)
        except TypeError:  # a revision without pages: every record, then the page
            big.entry_records()[25_000:25_100]

    page()
    from ckptviz.model.graph import ObjectGraph

    tf1 = name_based(OUT / "tf1_50000" / "a", 50_000)
    tf1_b = name_based(OUT / "tf1_50000" / "b", 50_000, changed=True)
    tf1_entries = ckptviz.open(str(tf1)).entries
    list(tf1_entries.values())  # listed once, as a face would have it already

    def fresh_diffs() -> Iterator[ckptviz.DiffResult]:
        """Diffs whose names were never asked for (no scope tree made), one per timed run."""
        return iter([ckptviz.diff(str(tf1), str(tf1_b), progress=False) for _ in range(5)])

    shown, whole = iter([d.rows for d in fresh_diffs()]), fresh_diffs()

    def page_of_names() -> None:  # what `ckptviz diff` prints: 200 rows' names
        [r.name for r in next(shown)[:200]]

    serialized, entries = big.read(OBJECT_GRAPH_KEY)[()], big.entries
    rows = [
        ("open + object graph, 50 000 variables", timed(lambda: ckptviz.open(str(p50)).graph), 0.1),
        (
            "from_proto(bytes), 50 000 variables",
            timed(lambda: ObjectGraph.from_proto(serialized, entries)),
            0.05,
        ),
        (
            "open + entries listed, 50 000 keys",
            timed(lambda: list(ckptviz.open(str(p50)).entries.values())),
            None,
        ),
        ("open + entry_records(), 50 000 keys", timed(lambda: ckptviz.open(str(p50)).entry_records()), 0.1),
        ("a page of 100 entry records", timed(page, 20), 0.001),
        ("check, 4 000 keys", timed(lambda: ckptviz.check(str(p4), tree)), 0.2),
        ("select 8 000 variables", timed(lambda: ckptviz.open(str(p8)).select(selection)), 0.3),
        ("typo hint, 50 000 keys", timed(typo), 0.05),
        ("scope tree, TF1 names, 50 000 keys", timed(lambda: ObjectGraph.from_keys(tf1_entries)), 0.1),
        ("open + scope tree, 50 000 keys", timed(lambda: ckptviz.open(str(tf1)).graph), None),
        ("diff of two: 200 rows' names", timed(page_of_names), None),
        ("diff of two: to_dict()", timed(lambda: next(whole).to_dict()), 0.2),
    ]
    resnet = Path(__file__).parent / "out" / "resnet50" / "ckpt"  # bench_read.py writes it (TensorFlow)
    if resnet.with_suffix(".index").exists() and importlib.util.find_spec("anywidget"):

        def explore() -> None:
            import ckptviz.widgets

            ckptviz.widgets.Explorer(str(resnet))

        explore()  # imports the widgets once
        rows.append(("explore() construction, ResNet50+Adam", timed(explore, 3), 0.3))
    print(f"ckptviz from {Path(ckptviz.__file__).parent.parent} (python {sys.version.split()[0]})")
    print(f"{'case':<42}{'CPU time':>10}{'target':>10}")
    for name, t, target in rows:
        print(f"{name:<42}{t * 1000:>8.1f}ms" + ("" if target is None else f"{target * 1000:>8.0f}ms"))


if __name__ == "__main__":
    main()
