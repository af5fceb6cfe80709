"""A damaged object graph entry raises a ckptviz error naming the data file and offset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz.format.naming import OBJECT_GRAPH_KEY


def test_an_object_graph_that_is_not_a_scalar_string(tmp_path: Path) -> None:
    prefix = ckptviz.write_checkpoint(
        tmp_path / "ckpt", {OBJECT_GRAPH_KEY: np.array([b"a", b"b"], dtype=object), "v": np.ones(2)}
    )
    with pytest.raises(
        ckptviz.CorruptCheckpointError, match=r"data-00000-of-00001 at byte \d+: .* not the scalar string"
    ):
        ckptviz.open(str(prefix)).graph  # noqa: B018
