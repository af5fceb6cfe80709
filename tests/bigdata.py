"""Checkpoints the size users meet, written at test time (never committed): a Keras 3 ResNet50 +
Adam bundle from the graph-only fixture's object graph and shapes, and an object-based checkpoint
of 50 000 variables side by side (``tf.train.Checkpoint(v0=…, v1=…, …)``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import ckptviz

DATA = Path(__file__).parent / "data"


def resnet_bundle(prefix: Path, seed: int = 0) -> str:
    """ResNet50 + Adam with random weights (histograms worth looking at) and zero slots."""
    meta = json.loads((DATA / "resnet50_adam/variables.json").read_text())
    rng = np.random.default_rng(seed)
    tensors = {}
    for key, m in meta.items():
        if key == "_CHECKPOINTABLE_OBJECT_GRAPH":
            continue
        dtype = np.float32 if m["dtype"] == "bfloat16" else np.dtype(m["dtype"])
        if ".OPTIMIZER_SLOT" in key or key.startswith("optimizer/") or dtype.kind != "f":
            tensors[key] = np.zeros(m["shape"], dtype)
        else:
            tensors[key] = (rng.standard_normal(m["shape"], np.float32) * 0.05).astype(dtype)
    graph = (DATA / "resnet50_adam/object_graph.pb").read_bytes()
    return ckptviz.write_checkpoint(prefix, tensors, graph, progress=False)


def flat_bundle(prefix: Path, count: int = 50_000, bump: int | None = None) -> str:
    """``count`` float32[2] variables ``v0``… under the root, object-based; ``bump`` adds 1 to one."""
    from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph

    graph = TrackableObjectGraph()
    root = graph.nodes.add()
    tensors: dict[str, np.ndarray] = {}
    values = np.arange(count * 2, dtype=np.float32).reshape(count, 2) / count
    for i in range(count):
        root.children.add(node_id=i + 1, local_name=f"v{i}")
        key = f"v{i}/.ATTRIBUTES/VARIABLE_VALUE"
        graph.nodes.add().attributes.add(name="VARIABLE_VALUE", full_name=f"v{i}", checkpoint_key=key)
        tensors[key] = values[i] + (1 if i == bump else 0)
    root.children.add(node_id=count + 1, local_name="save_counter")
    graph.nodes.add().attributes.add(
        name="VARIABLE_VALUE",
        full_name="save_counter",
        checkpoint_key="save_counter/.ATTRIBUTES/VARIABLE_VALUE",
    )
    tensors["save_counter/.ATTRIBUTES/VARIABLE_VALUE"] = np.array(1, np.int64)
    return ckptviz.write_checkpoint(prefix, tensors, graph, progress=False)
