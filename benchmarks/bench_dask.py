#!/usr/bin/env python
"""``timeline`` and ``diff`` of a simulated run: single process against Dask with one and two
worker processes (``ckptviz[dask]``), in the same run.

    python benchmarks/bench_dask.py [--checkpoints N] [--runs N]

The run is ``--checkpoints`` (default 20) checkpoints of 64 float32 variables of 128×1024 plus a
step counter (~32 MiB each), written once with ckptviz under ``benchmarks/out/dask/``; each step
moves every variable a little. Workers read their own byte ranges from the files; the client reads
only the indexes. Times are medians of ``--runs`` (after one warm-up run per case; page cache warm).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out", "dask")


def generate(n: int) -> str:
    import numpy as np

    import ckptviz

    run = os.path.join(OUT, f"run{n}")
    done = os.path.join(run, ".complete")
    if os.path.exists(done):
        return run
    os.makedirs(run, exist_ok=True)
    rng = np.random.default_rng(0)
    values = {
        f"layer_{i:02d}/kernel": rng.standard_normal((128, 1024), dtype=np.float32) * 0.05 for i in range(64)
    }
    prefixes = []
    for step in range(1, n + 1):
        values = {
            k: v + rng.standard_normal(v.shape, dtype=np.float32) * np.float32(1e-3)
            for k, v in values.items()
        }
        prefix = os.path.join(run, f"ckpt-{step}")
        ckptviz.write_checkpoint(prefix, {**values, "global_step": np.int64(step * 100)}, overwrite=True)
        prefixes.append(prefix)
    state = ckptviz.CheckpointState(prefixes[-1], prefixes)
    from ckptviz.format.naming import format_state

    with open(os.path.join(run, "checkpoint"), "w") as f:
        f.write(format_state(state))
    open(done, "w").close()
    return run


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoints", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(HERE))
    import distributed

    import ckptviz

    run = generate(args.checkpoints)
    first, last = os.path.join(run, "ckpt-1"), os.path.join(run, f"ckpt-{args.checkpoints}")
    size = sum(os.path.getsize(os.path.join(run, f)) for f in os.listdir(run)) / (1 << 20)

    def fresh_timeline(client=None):  # type: ignore[no-untyped-def]
        return ckptviz.timeline(run, client=client)

    rows = [("timeline, single process (4 threads)", timed(fresh_timeline, args.runs)),
            ("diff first/last, single process", timed(lambda: ckptviz.diff(first, last), args.runs))]  # fmt: skip
    reference = fresh_timeline()
    for workers in (1, 2):
        with (
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            result = fresh_timeline(client)
            assert result.stats == reference.stats and result.edges == reference.edges, "results differ"
            rows.append(
                (
                    f"timeline, Dask {workers} worker process(es)",
                    timed(lambda: fresh_timeline(client), args.runs),
                )
            )
            rows.append(
                (
                    f"diff first/last, Dask {workers} worker process(es)",
                    timed(lambda: ckptviz.diff(first, last, client=client), args.runs),
                )
            )
    print(f"{args.checkpoints} checkpoints, {size:.0f} MiB in all; {os.cpu_count()} cores")
    for name, seconds in rows:
        print(f"{name:46} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
