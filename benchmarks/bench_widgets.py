"""Speed of the notebook widgets, measured from Python (no browser): first paint (construction
plus the first state sync of the first view), click → preview round trips, and re-layout after
expand/collapse.

    python3 benchmarks/bench_widgets.py

Inputs are written once to benchmarks/out/: a 50 000-node Keras-3-style checkpoint (the
synthetic graph of bench_graph.py, tensors filled with a constant), a BERT-base-shaped name-based
checkpoint (199 variables, 110 M float32 values, 420 MiB) and ResNet50 + Adam from the fixture.
Each first-paint number is a fresh process.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).parent / "out" / "widgets"
sys.path.insert(0, str(Path(__file__).parent))


def bert_base() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "bert/embeddings/word_embeddings": (30522, 768),
        "bert/embeddings/position_embeddings": (512, 768),
        "bert/embeddings/token_type_embeddings": (2, 768),
        "bert/embeddings/LayerNorm/gamma": (768,),
        "bert/embeddings/LayerNorm/beta": (768,),
    }
    for i in range(12):
        p = f"bert/encoder/layer_{i}"
        for name in ("query", "key", "value"):
            shapes[f"{p}/attention/self/{name}/kernel"] = (768, 768)
            shapes[f"{p}/attention/self/{name}/bias"] = (768,)
        shapes[f"{p}/attention/output/dense/kernel"] = (768, 768)
        shapes[f"{p}/attention/output/dense/bias"] = (768,)
        for ln in ("attention/output/LayerNorm", "output/LayerNorm"):
            shapes[f"{p}/{ln}/gamma"] = (768,)
            shapes[f"{p}/{ln}/beta"] = (768,)
        shapes[f"{p}/intermediate/dense/kernel"] = (768, 3072)
        shapes[f"{p}/intermediate/dense/bias"] = (3072,)
        shapes[f"{p}/output/dense/kernel"] = (3072, 768)
        shapes[f"{p}/output/dense/bias"] = (768,)
    shapes["bert/pooler/dense/kernel"] = (768, 768)
    shapes["bert/pooler/dense/bias"] = (768,)
    return shapes


def inputs() -> dict[str, str]:
    from bench_graph import resnet_inputs, synthetic_inputs

    import ckptviz

    made = {
        "50k": OUT / "big50k" / "ckpt-1",
        "bert-base": OUT / "bert" / "model.ckpt-1",
        "resnet50": OUT / "resnet" / "ckpt-1",
    }
    if not Path(str(made["bert-base"]) + ".index").exists():
        rng = np.random.default_rng(0)
        ckptviz.write_checkpoint(
            made["bert-base"],
            {k: rng.standard_normal(s, np.float32) * 0.02 for k, s in bert_base().items()},
            overwrite=True,
        )
    for name, (proto, meta) in (("50k", synthetic_inputs()), ("resnet50", resnet_inputs())):
        if Path(str(made[name]) + ".index").exists():
            continue
        tensors = {}
        for key, m in meta.items():
            if key == "_CHECKPOINTABLE_OBJECT_GRAPH":
                continue
            dtype, shape = (m["dtype"], m["shape"]) if isinstance(m, dict) else m
            tensors[key] = np.full(shape, 0.5, np.float32 if dtype == "bfloat16" else dtype)
        ckptviz.write_checkpoint(made[name], tensors, proto, overwrite=True)
    return {k: str(v) for k, v in made.items()}


FIRST_PAINT = """
import json, sys, time
t = time.perf_counter()
import ckptviz, ckptviz.widgets
imports = time.perf_counter() - t
t0 = time.perf_counter()
ex = ckptviz.explore(sys.argv[1])
json.dumps(ex.graph.get_state()); json.dumps(ex.tensors.get_state())
t1 = time.perf_counter()
ex.graph.join(120)
print(json.dumps({"imports": imports, "first_paint": t1 - t0, "graph_ready": time.perf_counter() - t0,
                  "nodes_drawn": len(ex.graph.drawing["nodes"]), "keys": ex.tensors.total}))
"""


def first_paint(path: str, repeat: int = 3) -> dict[str, Any]:
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", FIRST_PAINT, path], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def round_trips(path: str) -> dict[str, float]:
    """Server-side time of a click on each variable (details + values + heatmap + statistics for
    tensors under preview.SYNC_BYTES; bigger ones send statistics from a worker)."""
    import ckptviz

    ex = ckptviz.explore(path)
    graph = ex.graph
    times = []
    for node in [n for n in graph.source.graph.nodes if n.kind == "variable"]:
        t = time.perf_counter()
        graph.selected = node.id
        times.append(time.perf_counter() - t)
        graph.join(60)
    return {"median_ms": 1000 * statistics.median(times), "max_ms": 1000 * max(times), "clicks": len(times)}


def relayout(path: str) -> dict[str, float]:
    from ckptviz.widgets import ObjectGraphView

    view = ObjectGraphView(path)
    view.join(120)
    folded = [n["id"] for n in view.drawing["nodes"] if n["collapsed"] and n["id"] >= 0]
    out = {"nodes": len(view.drawing["nodes"])}
    expand, collapse = [], []
    for node in folded[:5]:
        view.expand(node)
        view.join(120)
        expand.append(view.layout_ms)
        view.collapse(node)
        view.join(120)
        collapse.append(view.layout_ms)
    out.update(expand_ms=statistics.median(expand), collapse_ms=statistics.median(collapse))
    return out


def clicks(name: str, path: str) -> dict[str, float]:
    """What one click costs on the server (the lab's graph tab: plan + Graphviz layout of the
    100-node overview) and in the kernel (the explorer's 300-node view), median of 3, in ms:
    first paint, expanding a stand-in, finding a node (reveal), and for the 50 000-variable
    checkpoint the diff tab's comparison of two equal copies. Fit and zoom are a CSS transform in
    the browser (no request)."""
    import ckptviz
    from ckptviz.render import DrawOptions as Options
    from ckptviz.render import find_engine, select_view
    from ckptviz.render.dot import view_to_dot
    from ckptviz.widgets import ObjectGraphView

    graph = ckptviz.open(path).graph
    graph.names  # noqa: B018 - built once per opened checkpoint, as the server's cache keeps it
    engine = find_engine()
    assert engine is not None

    def tab(**options: Any) -> float:
        o = Options(max_nodes=100, legend=False, **options)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            view = select_view(graph, o)
            engine.run(view_to_dot(graph, view, o), "svg")
            times.append(time.perf_counter() - t)
        return round(1000 * statistics.median(times), 1)

    first = select_view(graph, Options(max_nodes=100, legend=False))
    stand_in = next(i for i in first.nodes if i < 0)
    hit = {"resnet50": "conv4_block5_2_conv/kernel", "flat-50k": "v31337"}[name]
    out = {
        "tab_first_paint_ms": tab(),
        "tab_expand_stand_in_ms": tab(expand=[stand_in]),
        "tab_find_ms": tab(reveal=[hit]),
    }
    view = ObjectGraphView(path)
    view.join(120)
    t = time.perf_counter()
    view.query = hit.split("/")[0]
    out["explorer_search_kernel_ms"] = round(1000 * (time.perf_counter() - t), 1)  # the kernel is free again
    view.join(120)
    out["explorer_search_ms"] = round(1000 * (time.perf_counter() - t), 1)  # until the new picture
    out["explorer_layout_ms"] = view.layout_ms
    out["explorer_nodes_after_search"] = len(view.drawing["nodes"])
    if name == "flat-50k":
        twin = OUT / "flat-50k" / "ckpt-2"
        if not twin.with_suffix(".index").exists():
            from tests.bigdata import flat_bundle

            flat_bundle(twin)
        t = time.perf_counter()
        result = ckptviz.diff(path, str(twin))
        out["diff_50k_equal_ms"] = round(1000 * (time.perf_counter() - t), 1)
        out["diff_equal"] = bool(result.equal)
    return out


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from tests.bigdata import flat_bundle, resnet_bundle

    for name, make in (("resnet50", resnet_bundle), ("flat-50k", flat_bundle)):
        prefix = OUT / name / "ckpt-1"
        if not prefix.with_suffix(".index").exists():
            make(prefix)
        print(name, "clicks", json.dumps(clicks(name, str(prefix))))
    if "--clicks" in sys.argv:
        return
    paths = inputs()
    for name in ("50k", "bert-base", "resnet50"):
        print(name, "first paint", json.dumps(first_paint(paths[name])))
    print("bert-base click -> preview", json.dumps(round_trips(paths["bert-base"])))
    print("resnet50 expand/collapse of a 300-node view", json.dumps(relayout(paths["resnet50"])))


if __name__ == "__main__":
    main()
