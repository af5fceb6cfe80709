"""Time to build and draw the dependency graph of big checkpoints: ResNet50 + Adam (the fixture,
943 nodes), BERT-base (TF1 names with Adam slots, synthesised keys), a 50 000-key TF1 checkpoint
(synthesised keys) and a synthetic Keras-3-style object graph of 50 000 nodes.

    python3 benchmarks/bench_graph.py [--repeat 3]

Prints one row per graph and step: build (parse the object graph + kinds + slot inference, or the
scope tree), plan (the default folded overview), DOT, and layout to SVG/PNG with each installed
engine, with the SVG's size in pixels (96 per inch).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
from ckptviz.model.graph import ObjectGraph
from ckptviz.render import DrawOptions, find_engine, select_view
from ckptviz.render.dot import view_to_dot
from tests.render.synthetic import bert_base_keys, many_keys

DATA = Path(__file__).parents[1] / "tests" / "data"


def resnet_inputs() -> tuple[bytes, dict[str, Any]]:
    meta = json.loads((DATA / "resnet50_adam/variables.json").read_text())
    return (DATA / "resnet50_adam/object_graph.pb").read_bytes(), meta


def synthetic_inputs(target: int = 50_000) -> tuple[bytes, dict[str, Any]]:
    """root -> model -> layers[i] -> {kernel, bias}; optimizer -> _variables, _trainable_variables,
    _momentums, _velocities (Keras 3 layout: slots inferred, not recorded)."""
    layers = (target - 10) // 7
    proto = TrackableObjectGraph()
    meta: dict[str, Any] = {}

    def node(key: str | None = None, shape: tuple[int, ...] = ()) -> int:
        n = proto.nodes.add()
        if key is not None:
            ck = f"{key}/.ATTRIBUTES/VARIABLE_VALUE"
            n.attributes.add(name="VARIABLE_VALUE", full_name=key, checkpoint_key=ck)
            meta[ck] = ("float32", shape)
        return len(proto.nodes) - 1

    def child(parent: int, name: str, kid: int) -> None:
        proto.nodes[parent].children.add(node_id=kid, local_name=name)

    root, model, opt = node(), node(), node()
    child(root, "model", model)
    child(root, "optimizer", opt)
    layer_list = node()
    child(model, "layers", layer_list)
    lists = {name: node() for name in ("_variables", "_trainable_variables", "_momentums", "_velocities")}
    for name, i in lists.items():
        child(opt, name, i)
    iterations, lr = node("optimizer/_iterations"), node("optimizer/_learning_rate")
    child(opt, "_iterations", iterations)
    child(opt, "_learning_rate", lr)
    child(lists["_variables"], "0", iterations)
    child(lists["_variables"], "1", lr)
    variables = []
    for i in range(layers):
        layer = node()
        child(layer_list, str(i), layer)
        for name, shape in (("kernel", (64, 64)), ("bias", (64,))):
            v = node(f"model/layers/{i}/{name}", shape)
            child(layer, name, v)
            variables.append((v, shape))
    for j, (v, shape) in enumerate(variables):
        child(lists["_trainable_variables"], str(j), v)
        for slot in ("_momentums", "_velocities"):
            index = len(proto.nodes[lists["_variables"]].children)
            s = node(f"optimizer/_variables/{index}", shape)
            child(lists["_variables"], str(index), s)
            child(lists[slot], str(j), s)
    return proto.SerializeToString(), meta


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def size_px(svg: bytes) -> str:
    m = re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return f"{float(m[1]) * 4 / 3:.0f}x{float(m[2]) * 4 / 3:.0f} px" if m else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engines = [e for e in (find_engine("dot"), find_engine("graphviz-pure")) if e is not None]
    resnet, keras3 = resnet_inputs(), synthetic_inputs()
    cases: list[tuple[str, Callable[[], ObjectGraph]]] = [
        ("ResNet50 + Adam", lambda: ObjectGraph.from_proto(*resnet)),
        ("BERT-base + Adam (TF1 keys)", lambda: ObjectGraph.from_keys(bert_base_keys())),
        ("50 000 TF1 keys", lambda: ObjectGraph.from_keys(many_keys(50_000))),
        ("Keras 3 object graph, 50k nodes", lambda: ObjectGraph.from_proto(*keras3)),
    ]
    rows = []
    view = DrawOptions()
    for name, build in cases:
        t_build, graph = timed(build, args.repeat)
        t_plan, plan = timed(lambda graph=graph: select_view(graph, view), args.repeat)
        t_dot, dot = timed(lambda graph=graph, plan=plan: view_to_dot(graph, plan, view), args.repeat)
        label = f"{name} ({len(graph)} nodes, {len(graph.slots)} slots, {len(plan.nodes)} drawn)"
        rows.append((label, "build graph", t_build, ""))
        rows.append((label, "plan (default overview)", t_plan, ""))
        rows.append((label, "DOT", t_dot, ""))
        for engine in engines:
            t_svg, svg = timed(lambda engine=engine, dot=dot: engine.run(dot, "svg"), args.repeat)
            rows.append((label, f"layout svg ({engine.name})", t_svg, size_px(svg)))
            rows.append((label, f"plan + DOT + SVG ({engine.name})", t_plan + t_dot + t_svg, ""))
            if "png" in engine.formats:
                t, _ = timed(lambda engine=engine, dot=dot: engine.run(dot, "png"), args.repeat)
                rows.append((label, f"layout png ({engine.name})", t, ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'graph':<{width}}  {'step':<34}  seconds (best of {args.repeat})")
    for label, step, seconds, note in rows:
        print(f"{label:<{width}}  {step:<34}  {seconds:8.3f}  {note}".rstrip())


if __name__ == "__main__":
    main()
