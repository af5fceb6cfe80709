#!/usr/bin/env python
"""Speed and memory of ckptviz.diff and ckptviz.timeline against plain reads, in the same run.

    python benchmarks/bench_diff.py [--runs N] [--json]

Inputs are written once with ckptviz (no TensorFlow needed) under ``benchmarks/out/diff/``:
a pair shaped like Keras 3 ResNet50 + Adam (the 751 keys of tests/data/resnet50_adam, ~270 MiB
each; b is a after one simulated step, every float tensor perturbed), a pair of 50 000-key
checkpoints (10 % of keys changed), and a 10-checkpoint run of the ResNet50 shapes.

Each case runs in a fresh worker process (this file, ``--_worker``): one untimed warm-up pass,
then the median of ``--runs`` timed passes (wall time, and the worker's CPU time, which a loaded
machine disturbs less: its threads' time on every core). Memory is the worker's peak RSS (file pages of
memory-mapped tensors included) and the tracemalloc peak of one pass (Python and numpy
allocations: the extra memory the work needs). The page cache is warm.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out", "diff")
ROOT = os.path.dirname(HERE)
SHAPES = os.path.join(ROOT, "tests", "data", "resnet50_adam", "variables.json")
DONE = ".complete"
MIB = 1 << 20
RUN_LENGTH = 10


def _resnet_values(seed: int):  # type: ignore[no-untyped-def]
    import numpy as np

    rng = np.random.default_rng(seed)
    out = {}
    with open(SHAPES) as f:
        shapes = json.load(f)
    for key, spec in shapes.items():
        if spec["dtype"] == "string":
            continue  # the object graph: these synthetic checkpoints are name-based
        shape = tuple(spec["shape"])
        if spec["dtype"] == "int64":
            out[key] = np.full(shape, 1, np.int64)
        else:
            out[key] = (rng.standard_normal(shape, dtype=np.float32) * 0.05).astype(np.float32)
    return out


def _step(values, seed: int):  # type: ignore[no-untyped-def]
    """One simulated optimizer step: every float tensor moves a little, counters advance."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = {}
    for key, v in values.items():
        if v.dtype == np.float32:
            out[key] = v + rng.standard_normal(v.shape, dtype=np.float32) * np.float32(1e-3)
        else:
            out[key] = v + 1
    return out


def generate() -> None:
    import numpy as np

    import ckptviz

    if os.path.exists(os.path.join(OUT, DONE)):
        return
    os.makedirs(OUT, exist_ok=True)
    print("writing inputs under", OUT, file=sys.stderr)
    a = _resnet_values(0)
    ckptviz.write_checkpoint(os.path.join(OUT, "resnet_a"), a, overwrite=True)
    ckptviz.write_checkpoint(os.path.join(OUT, "resnet_b"), _step(a, 1), overwrite=True)
    rng = np.random.default_rng(2)
    keys = {
        f"vars/{i:05d}/.ATTRIBUTES/VARIABLE_VALUE": rng.standard_normal(4, dtype=np.float32)
        for i in range(50_000)
    }
    ckptviz.write_checkpoint(os.path.join(OUT, "keys_a"), keys, overwrite=True)
    changed = {k: (v + 1 if i % 10 == 0 else v) for i, (k, v) in enumerate(keys.items())}
    ckptviz.write_checkpoint(os.path.join(OUT, "keys_b"), changed, overwrite=True)
    values = a
    for i in range(RUN_LENGTH):
        ckptviz.write_checkpoint(os.path.join(OUT, "run", f"ckpt-{i + 1}"), values, overwrite=True)
        values = _step(values, 10 + i)
    open(os.path.join(OUT, DONE), "w").close()


def _path(name: str) -> str:
    return os.path.join(OUT, name)


def _run_paths() -> list[str]:
    return [_path(f"run/ckpt-{i + 1}") for i in range(RUN_LENGTH)]


def _case(case: str):  # type: ignore[no-untyped-def]
    import ckptviz

    def read_all(paths: list[str]) -> None:
        for p in paths:
            with ckptviz.open(p) as ck:
                for key in ck.entries:
                    ck.read(key)

    if case == "read-resnet-pair":
        return lambda: read_all([_path("resnet_a"), _path("resnet_b")])
    if case == "diff-resnet-pair":
        return lambda: ckptviz.diff(_path("resnet_a"), _path("resnet_b"), progress=False)
    if case == "diff-resnet-pair-1-worker":
        return lambda: ckptviz.diff(_path("resnet_a"), _path("resnet_b"), progress=False, workers=1)
    if case == "read-keys-pair":
        return lambda: read_all([_path("keys_a"), _path("keys_b")])
    if case == "diff-keys-pair":
        return lambda: ckptviz.diff(_path("keys_a"), _path("keys_b"), progress=False)
    if case == "diff-keys-open":  # the diff's own work: both indexes already parsed
        a, b = ckptviz.open(_path("keys_a")), ckptviz.open(_path("keys_b"))
        a.entries, b.entries  # noqa: B018
        return lambda: ckptviz.diff(a, b, progress=False)
    if case == "read-run":
        return lambda: read_all(_run_paths())

    if case == "timeline-run":
        return lambda: ckptviz.timeline(_run_paths())  # a new timeline owns no results: cold
    if case == "timeline-run-again":
        first = ckptviz.timeline(_run_paths())  # computed once: every refresh reads nothing new
        return first.refresh
    raise ValueError(case)


CASES = [
    ("read-resnet-pair", "read both ResNet50+Adam checkpoints (every key, CRC verified)"),
    ("diff-resnet-pair", "ckptviz.diff of that pair (every tensor changed)"),
    ("diff-resnet-pair-1-worker", "the same diff on one thread"),
    ("read-keys-pair", "read both 50 000-key checkpoints"),
    ("diff-keys-pair", "ckptviz.diff of the 50 000-key pair"),
    ("diff-keys-open", "the same diff of the pair already open (indexes parsed)"),
    ("read-run", f"read all {RUN_LENGTH} checkpoints of the run"),
    ("timeline-run", f"ckptviz.timeline of the {RUN_LENGTH} checkpoints (cold)"),
    ("timeline-run-again", "the timeline again, nothing new (cached in memory)"),
]


def worker(case: str, runs: int) -> dict[str, float]:
    import tracemalloc

    work = _case(case)
    work()  # warm-up: page cache, imports
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    tracemalloc.start()
    work()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "seconds": statistics.median(times),
        "cpu": statistics.median(cpu),
        "traced_peak": traced,
        "rss_peak": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--_worker")
    args = parser.parse_args()
    if args._worker:
        print(json.dumps(worker(args._worker, args.runs)))
        return
    generate()
    load_before = os.getloadavg()[0]  # other work on the machine disturbs wall times: reported
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    results = {}
    for case, _ in CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--_worker", case, "--runs", str(args.runs)],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        results[case] = json.loads(done.stdout.strip().splitlines()[-1])
    sizes = {n: sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT) if f.startswith(n + ".")) for n in ("resnet_a", "keys_a")}  # fmt: skip
    print(
        f"ResNet50-shaped checkpoint: {sizes['resnet_a'] / MIB:.0f} MiB; 50 000-key checkpoint: {sizes['keys_a'] / MIB:.1f} MiB"
    )
    print(f"{'case':<28} {'time':>8} {'ratio':>7} {'CPU':>8} {'RSS peak':>10} {'traced peak':>12}  what")
    base = {"diff-resnet-pair": "read-resnet-pair", "diff-resnet-pair-1-worker": "read-resnet-pair",
            "diff-keys-pair": "read-keys-pair", "timeline-run": "read-run", "timeline-run-again": "read-run"}  # fmt: skip
    for case, what in CASES:
        r = results[case]
        ratio = f"{r['seconds'] / results[base[case]]['seconds']:.2f}×" if case in base else ""
        print(
            f"{case:<28} {r['seconds']:>7.3f}s {ratio:>7} {r['cpu']:>7.3f}s {r['rss_peak'] / MIB:>8.0f} MiB {r['traced_peak'] / MIB:>9.1f} MiB  {what}"
        )
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    if args.json:
        with open(os.path.join(OUT, "results.json"), "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
