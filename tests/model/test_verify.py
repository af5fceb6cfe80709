"""``verify`` reports what it finds wrong and never raises for damage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import ckptviz
from ckptviz.format.naming import OBJECT_GRAPH_KEY
from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
from ckptviz.model.verify import verify


def test_an_object_graph_naming_a_key_the_bundle_lacks_is_a_problem(tmp_path: Path) -> None:
    g = TrackableObjectGraph()
    root, layer, kernel, bias = g.nodes.add(), g.nodes.add(), g.nodes.add(), g.nodes.add()
    root.children.add(node_id=1, local_name="layer")
    layer.children.add(node_id=2, local_name="kernel")
    layer.children.add(node_id=3, local_name="bias")
    kernel.attributes.add(name="VARIABLE_VALUE", checkpoint_key="layer/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    bias.attributes.add(name="VARIABLE_VALUE", checkpoint_key="layer/bias/.ATTRIBUTES/VARIABLE_VALUE")
    tensors = {  # the graph stored as a plain string tensor: the writer checks no keys against it
        "layer/kernel/.ATTRIBUTES/VARIABLE_VALUE": np.ones(3, np.float32),
        OBJECT_GRAPH_KEY: np.array(g.SerializeToString(), dtype=object),
    }
    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", tensors)
    report = verify(prefix)
    assert [(p.where, p.message) for p in report.problems] == [
        (
            "object graph",
            "node 3 (layer/bias) names 'layer/bias/.ATTRIBUTES/VARIABLE_VALUE', which the bundle lacks",
        )
    ]
    assert report.tensors == 2  # the kernel and the object graph, both read and checked
