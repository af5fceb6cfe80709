"""A Checkpoint shared by threads (a server's): same answers as serial use; state follows the run."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import ckptviz
from tests.conftest import DATA

GUIDE = DATA / "guide_legacy_adam"


def test_eight_threads_on_a_fresh_checkpoint_read_what_serial_reads() -> None:
    serial = ckptviz.open(str(GUIDE))
    expected = {k: serial.read(k) for k in serial.entries}
    for _ in range(5):
        shared = ckptviz.open(str(GUIDE))

        def work(_: int, shared: ckptviz.Checkpoint = shared) -> tuple[int, dict[str, np.ndarray]]:
            return len(shared.graph), {k: shared.read(k) for k in sorted(expected)}

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(work, range(8)))
        for size, values in results:
            assert size == len(serial.graph)
            assert all(np.array_equal(values[k], expected[k]) or values[k].dtype == object for k in expected)


def test_state_is_read_again_when_the_checkpoint_file_changes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(GUIDE, run)
    ckpt = ckptviz.open(str(run))
    assert ckpt.state is not None and len(ckpt.state.all_model_checkpoint_paths) == 3
    text = (run / "checkpoint").read_text().replace('all_model_checkpoint_paths: "ckpt-2"\n', "")
    (run / "checkpoint.tmp").write_text(text)
    (run / "checkpoint.tmp").rename(run / "checkpoint")  # as TF writes it: a new file renamed in
    assert len(ckpt.state.all_model_checkpoint_paths) == 2


def test_checkpoint_is_a_context_manager() -> None:
    with ckptviz.open(str(GUIDE)) as ckpt:
        assert len(ckpt)
