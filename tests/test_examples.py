"""The bundled examples are byte-for-byte the TensorFlow-written fixtures they copy."""

from __future__ import annotations

from pathlib import Path

import pytest

import ckptviz
import ckptviz.examples as examples

DATA = Path(__file__).parent / "data"
SOURCES = {"guide": "guide_legacy_adam", "tf1_saver": "tf1_saver", "training_run": "training_run"}


@pytest.mark.parametrize("name", examples.names())
def test_examples_are_copies_of_the_fixtures(name: str) -> None:
    here = Path(examples.path(name))
    files = sorted(p.name for p in here.iterdir())
    assert files and all((here / f).read_bytes() == (DATA / SOURCES[name] / f).read_bytes() for f in files)
    checkpoint_files = {
        p.name for p in (DATA / SOURCES[name]).iterdir() if p.suffix in (".index",) or ".data-" in p.name
    }
    assert checkpoint_files <= set(files)


def test_paths_and_steps() -> None:
    assert examples.names() == ["guide", "tf1_saver", "training_run"]
    assert Path(ckptviz.open(examples.path("guide")).path).name == "ckpt-4"
    assert [Path(p).name for p in examples.steps("guide")] == ["ckpt-2", "ckpt-3", "ckpt-4"]
    assert [Path(p).name for p in examples.steps("training_run")] == [
        f"ckpt-{i}" for i in (2, 4, 6, 8, 10, 12)
    ]
    assert examples.path("tf1_saver", step=1).endswith("tf1_saver/model.ckpt-1")
    with pytest.raises(KeyError, match="example 'guide' has no step 1; it has steps 2, 3, 4"):
        examples.path("guide", step=1)
    with pytest.raises(
        KeyError, match="no example named 'nope'; the examples are guide, tf1_saver, training_run"
    ):
        examples.path("nope")
    assert ckptviz.examples is examples  # the lazy attribute
    with pytest.raises(KeyError, match="no example named 'nope'"):
        examples.steps("nope")
