"""Time to build and draw the dependency graph: ResNet50 + Adam (the fixture, 943 nodes) and a
synthetic Keras-3-style checkpoint of 50 000 nodes built in memory.

    python3 benchmarks/bench_graph.py [--repeat 3]

Prints one row per graph and step: build (parse the object graph + kinds + slot inference),
view+DOT (default collapsed view, ~300 nodes), and layout to SVG/PNG with each installed engine.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
from ckptviz.model.graph import ObjectGraph
from ckptviz.render import GraphView, find_engine, select_view, to_dot

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engines = [e for e in (find_engine("dot"), find_engine("graphviz-pure")) if e is not None]
    rows = []
    for name, inputs in (("ResNet50 + Adam", resnet_inputs()), ("synthetic 50k", synthetic_inputs())):
        blob, meta = inputs
        t_build, graph = timed(lambda blob=blob, meta=meta: ObjectGraph.from_proto(blob, meta), args.repeat)
        t_dot, dot = timed(lambda graph=graph: to_dot(graph), args.repeat)
        drawn = len(select_view(graph, GraphView()).nodes)
        label = f"{name} ({len(graph)} nodes, {len(graph.slots)} slots, {drawn} drawn)"
        rows.append((label, "build ObjectGraph", t_build))
        rows.append((label, "view + DOT", t_dot))
        for engine in engines:
            for fmt in ("svg", "png"):
                if fmt in engine.formats:
                    t, _ = timed(lambda engine=engine, fmt=fmt, dot=dot: engine.run(dot, fmt), args.repeat)
                    rows.append((label, f"layout {fmt} ({engine.name})", t))
                    rows.append((label, f"total to {fmt} ({engine.name})", t_build + t_dot + t))
    width = max(len(r[0]) for r in rows)
    print(f"{'graph':<{width}}  {'step':<28}  seconds (best of {args.repeat})")
    for label, step, seconds in rows:
        print(f"{label:<{width}}  {step:<28}  {seconds:8.3f}")


if __name__ == "__main__":
    main()
