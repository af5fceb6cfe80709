"""Each class of hostile bytes the fuzzer generates, forced on every bundle fixture: the whole
user path ends in values or ckptviz errors naming file and offset, never a foreign exception."""

from __future__ import annotations

import random
from pathlib import Path

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
