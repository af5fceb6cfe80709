#!/usr/bin/env python
"""Time of the inputs the fuzzer's hostile classes build, which once took minutes or recursed:

    python benchmarks/bench_hostile.py [--keys 20000]

- 8 objects whose attribute's checkpoint key prefixes ``--keys`` keys each: building the object
  graph (key ownership) and drawing it (labels and tooltips);
- a chain of 20 000 slots of slots, refused as damage.
"""

from __future__ import annotations

import argparse
import contextlib
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=20_000)
    args = parser.parse_args()

    from ckptviz.errors import CorruptCheckpointError
    from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
    from ckptviz.model.graph import ObjectGraph

    g = TrackableObjectGraph()
    root = g.nodes.add()
    entries = {}
    for i in range(8):
        root.children.add(node_id=i + 1, local_name=f"n{i}")
        g.nodes.add().attributes.add(name="VARIABLE_VALUE", full_name=f"n{i}", checkpoint_key=f"n{i}/")
        entries.update({f"n{i}/{j:06d}": ("float32", (1,)) for j in range(args.keys)})
    start = time.perf_counter()
    graph = ObjectGraph.from_proto(g, entries, source="bench")
    built = time.perf_counter()
    dot = graph.to_dot()
    drawn = time.perf_counter()
    print(
        f"8 x {args.keys} prefixed keys: graph {built - start:.2f} s, DOT {drawn - built:.2f} s ({len(dot)} bytes)"
    )

    chain = TrackableObjectGraph()
    chain.nodes.add().children.add(node_id=1, local_name="v")
    optimizer = chain.nodes.add()
    previous = 1
    for _ in range(20_000):
        chain.nodes.add()
        optimizer.slot_variables.add(
            original_variable_node_id=previous, slot_name="m", slot_variable_node_id=len(chain.nodes) - 1
        )
        previous = len(chain.nodes) - 1
    start = time.perf_counter()
    with contextlib.suppress(CorruptCheckpointError):
        ObjectGraph.from_proto(chain, {}, source="bench")
    print(f"20 000 slots of slots: refused in {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
