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
    ]
    resnet = Path(__file__).parent / "out" / "resnet50" / "ckpt"  # bench_read.py writes it (TensorFlow)
    if resnet.with_suffix(".index").exists() and importlib.util.find_spec("anywidget"):

        def explore() -> None:
            import ckptviz.widgets

            ckptviz.widgets.Explorer(str(resnet))

        explore()  # imports the widgets once
        rows.append(("explore() construction, ResNet50+Adam", timed(explore, 3), 0.3))
    print(f"ckptviz from {Path(ckptviz.__file__).parent.parent} (python {sys.version.split()[0]})")
    print(f"{'case':<40}{'CPU time':>10}{'target':>10}")
    for name, t, target in rows:
        print(f"{name:<40}{t * 1000:>8.1f}ms" + ("" if target is None else f"{target * 1000:>8.0f}ms"))


if __name__ == "__main__":
    main()
