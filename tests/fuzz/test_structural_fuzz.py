"""Structural fuzzing: CRC-correct mutations of the TensorFlow-written fixtures, run through the
whole user path (open, listing, reprs, maps, every tensor, the graph, a DOT export), each input
in a forked child with a memory limit and a timeout.

A fixed seed and a few hundred inputs keep this under a minute; the long campaign is
``python -m tests.fuzz.harness --inputs 6000`` (see that module).
"""

from __future__ import annotations

import time

from tests.fuzz import harness

SEED = 20261201
INPUTS = 390  # 30 per fixture


def test_mutated_checkpoints_give_values_or_ckptviz_errors() -> None:
    start = time.monotonic()
    results = harness.campaign(INPUTS, SEED, workers=2)
    report = harness.summary(results, time.monotonic() - start)
    bad = [r for r in results if r["outcome"] not in harness.FINE]
    assert not bad, report
    # The valid re-encodings were read and compared with the originals, not just attempted.
    assert sum(r["equivalent"] and r["outcome"] == "values" for r in results) >= 30, report
    # Reading damaged input costs little more than reading the intact fixture.
    heavy = [r for r in results if r.get("memory", 0) > (64 << 20) + 64 * r["bytes"]]
    assert not heavy, report
