"""Each class of hostile bytes the fuzzer generates, forced on every bundle fixture: the whole
user path ends in values or ckptviz errors naming file and offset, never a foreign exception."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import harness, mutate

BUNDLES = [f for f in harness.FIXTURES if f[0] == "bundle"]


def _variant_with_counts_or_ranks_numpy_cannot_hold(b: mutate.Bundle, rng: random.Random) -> bool:
    """A variant tensor whose payload's TensorProtos hold more values than their shape has
    elements, or a rank above numpy's 64."""
    from ckptviz.format.protos.ckptviz_format_pb2 import TensorProto, VariantTensorDataProto
    from tests.fuzz.encoding import variant_bytes

    key = next(k for k in b.entry_keys() if not b.entry(k).slices)
    tensor = TensorProto(dtype=rng.choice([1, 3, 7]))
    for _ in range(rng.choice([65, 100, 1])):
        tensor.tensor_shape.dim.add().size = 1
    filler = {1: tensor.float_val, 3: tensor.int_val, 7: tensor.string_val}[tensor.dtype]
    filler.extend([b"x" if tensor.dtype == 7 else 1] * rng.choice([1, 2, 5]))
    payload = VariantTensorDataProto(type_name="tensorflow::Iterator", tensors=[tensor]).SerializeToString()
    data, masked = variant_bytes([payload])
    b.point(key, data, masked, dtype=21, dims=[1])
    return False


CLASSES = {
    "second_header": mutate.m_second_header,
    "numpy_rank": mutate.m_numpy_rank,
    "variant_payloads": _variant_with_counts_or_ranks_numpy_cannot_hold,
}


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("fixture", BUNDLES, ids=lambda f: f[1])
def test_class_gives_ckptviz_errors(tmp_path: Path, name: str, fixture: tuple[str, str, str]) -> None:
    errors = 0
    for seed in range(4):
        b = mutate.Bundle(harness.fixture_files(*fixture), fixture[2])
        CLASSES[name](b, random.Random(f"{name}/{seed}"))
        if b.items:
            b.done()
        work = tmp_path / str(seed)
        work.mkdir()
        for file, data in b.files.items():
            (work / file).write_bytes(data)
        record = harness.user_path(str(work / fixture[2]), str(work))
        bad = [e for e in record["errors"] if e["verdict"] != "ok"]
        assert not bad, bad
        errors += bool(record["errors"])
    assert errors, f"{name} never reached a reader's check on {fixture[1]}"


def test_the_campaign_draws_every_class() -> None:
    names = {f.__name__ for f, _ in mutate.BUNDLE_MUTATIONS}
    assert {"m_second_header", "m_numpy_rank", "m_variant"} <= names


# -- object graphs whose names and pictures would cost without bound ---------------------------


def _graph_with_slot_chain(length: int, cycle: bool) -> Any:
    from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph

    g = TrackableObjectGraph()
    root = g.nodes.add()
    root.children.add(node_id=1, local_name="v")
    root.children.add(node_id=2, local_name="optimizer")
    g.nodes.add().attributes.add(
        name="VARIABLE_VALUE", full_name="v", checkpoint_key="v/.ATTRIBUTES/VARIABLE_VALUE"
    )
    optimizer = g.nodes.add()
    previous = 1
    for _ in range(length):
        g.nodes.add()
        optimizer.slot_variables.add(
            original_variable_node_id=previous, slot_name="m", slot_variable_node_id=len(g.nodes) - 1
        )
        previous = len(g.nodes) - 1
    if cycle:
        optimizer.slot_variables[0].original_variable_node_id = previous
    return g


@pytest.mark.parametrize(("length", "cycle"), [(20_000, False), (9, False), (1, True), (3, True)])
def test_chains_of_slots_of_slots_are_refused(length: int, cycle: bool) -> None:
    from ckptviz.errors import CorruptCheckpointError
    from ckptviz.model.graph import ObjectGraph

    with pytest.raises(CorruptCheckpointError, match=r"slot of (a slot|itself)") as info:
        ObjectGraph.from_proto(
            _graph_with_slot_chain(length, cycle), {}, source="ckpt", where=("ckpt.data-00000-of-00001", 40)
        )
    assert info.value.path == "ckpt.data-00000-of-00001" and info.value.offset == 40


def test_a_short_chain_of_slots_is_named() -> None:
    from ckptviz.model.graph import ObjectGraph

    graph = ObjectGraph.from_proto(_graph_with_slot_chain(3, False), {}, source="ckpt")
    assert graph.display_name(5) == "m of m of m of v"


def test_attributes_prefixing_many_keys_cost_linear_work_and_bounded_pictures() -> None:
    """8 objects whose attribute's checkpoint key prefixes 20 000 keys each: ownership, tooltips
    and the DOT picture stay small (tooltips list a few keys and count the rest)."""
    from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph
    from ckptviz.model.graph import ObjectGraph
    from ckptviz.render.labels import TOOLTIP_KEYS

    g = TrackableObjectGraph()
    root = g.nodes.add()
    entries = {}
    for i in range(8):
        root.children.add(node_id=i + 1, local_name=f"n{i}")
        g.nodes.add().attributes.add(name="VARIABLE_VALUE", full_name=f"n{i}", checkpoint_key=f"n{i}/")
        entries.update({f"n{i}/{j:05d}": ("float32", (1,)) for j in range(20_000)})
    graph = ObjectGraph.from_proto(g, entries, source="ckpt")
    assert len(graph.owner) == len(entries) and graph.owner["n7/19999"] == (8, "VARIABLE_VALUE")
    dot = graph.to_dot()
    assert "n3/00019" in dot and "n3/00020" not in dot and "19980 more keys" in dot
    assert len(dot) < 8 * (TOOLTIP_KEYS + 4) * 200
