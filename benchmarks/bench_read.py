#!/usr/bin/env python
"""Read speed of ckptviz against TensorFlow, and the machine's physical limit.

    python benchmarks/bench_read.py [--runs N] [--json] [--profile]

Inputs are generated once with TensorFlow and cached under ``benchmarks/out/``; without
TensorFlow the script measures ckptviz alone on whatever inputs are already cached.

Every case runs in its own fresh worker process (this same file, ``--_worker``): the library is
imported, one untimed warm-up pass is made, then ``--runs`` timed passes follow; the median is
reported. TensorFlow and ckptviz are measured in the same run of this script, so their ratio is
meaningful even though absolute times drift between runs. Page cache is warm (files are read
once before any case runs).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
INPUTS = {
    # name: (directory, prefix inside it, description)
    "keys50k": ("keys50k", "ckpt", "50 000 float32[4] variables, tf.train.Checkpoint"),
    "resnet50": ("resnet50", "ckpt", "Keras 3 ResNet50 + Adam after one step, tf.train.Checkpoint"),
}
DONE = ".complete"  # written last, so an interrupted generation is redone
MIB = 1 << 20


def prefix_of(name: str) -> str:
    directory, prefix, _ = INPUTS[name]
    return os.path.join(OUT, directory, prefix)


def have_input(name: str) -> bool:
    return os.path.exists(os.path.join(OUT, INPUTS[name][0], DONE))


def have_tensorflow() -> bool:
    return importlib.util.find_spec("tensorflow") is not None


# -- generating inputs (worker side, needs TensorFlow) ---------------------------------------------


def _generate_keys50k(prefix: str) -> None:
    import numpy as np
    import tensorflow as tf

    values = np.random.default_rng(0).standard_normal((50_000, 4), dtype=np.float32)
    variables = [tf.Variable(row) for row in values]
    tf.train.Checkpoint(vars=variables).write(prefix)


def _generate_resnet50(prefix: str) -> None:
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = keras.applications.ResNet50(weights=None)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((2, 224, 224, 3), dtype=np.float32)
    model.train_on_batch(x, np.array([1, 2]))
    tf.train.Checkpoint(model=model, optimizer=model.optimizer).write(prefix)


def generate(name: str) -> None:
    directory = os.path.join(OUT, INPUTS[name][0])
    tmp = directory + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    {"keys50k": _generate_keys50k, "resnet50": _generate_resnet50}[name](os.path.join(tmp, INPUTS[name][1]))
    open(os.path.join(tmp, DONE), "w").close()
    shutil.rmtree(directory, ignore_errors=True)
    os.rename(tmp, directory)


# -- the measured work (worker side) ---------------------------------------------------------------


def _library(lib: str):  # type: ignore[no-untyped-def]
    if lib == "tf":
        import tensorflow as tf

        return tf.train.load_checkpoint
    import ckptviz

    if lib == "ckptviz-noverify":
        return lambda path: ckptviz.load_checkpoint(path, verify=False)
    return ckptviz.load_checkpoint


def _case(lib: str, case: str):  # type: ignore[no-untyped-def]
    """A zero-argument callable doing one pass of ``case`` (setup done outside it).

    ``read*`` cases are ``INPUT-ORDER``: ``map`` iterates the library's own
    ``get_variable_to_shape_map()`` (the usual loop; TensorFlow's order is its hash map's),
    ``sorted`` the keys sorted (index order, TensorFlow's best case: its table iterator only
    moves forward), ``shuffled`` one fixed random permutation (the same for both libraries).
    """
    load = _library(lib)
    if case == "list":
        prefix = prefix_of("keys50k")
        return lambda: load(prefix).get_variable_to_shape_map()
    what, order = case.split("-")
    reader = load(prefix_of({"read50k": "keys50k", "read300m": "resnet50"}[what]))
    keys = list(reader.get_variable_to_shape_map())
    if order != "map":
        keys.sort()
    if order == "shuffled":
        import random

        random.Random(0).shuffle(keys)

    def read_all():  # type: ignore[no-untyped-def]
        return {k: reader.get_tensor(k) for k in keys}

    return read_all


def worker(lib: str, case: str, runs: int, profile: bool) -> None:
    t0 = time.perf_counter()
    work = _case(lib, case)
    setup = time.perf_counter() - t0
    work()  # warm-up: caches, lazy imports, first-touch allocations
    if profile:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.runcall(work)
        elapsed = time.perf_counter() - t0
        text = io.StringIO()
        stats = pstats.Stats(prof, stream=text)
        stats.sort_stats("tottime").print_stats(18)
        stats.sort_stats("cumulative").print_stats(18)
        print(json.dumps({"profile": text.getvalue(), "elapsed": elapsed}))
        return
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
        del result
    print(json.dumps({"times": times, "setup": setup}))


# -- driver ------------------------------------------------------------------------------------------


def run_worker(*args: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker", *args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def import_times(module: str, runs: int) -> dict:
    """Median time of ``import module`` inside a fresh interpreter, and of the whole process."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    inside, whole = [], []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, env=env)  # warm
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        whole.append(time.perf_counter() - t0)
        inside.append(float(proc.stdout.strip().splitlines()[-1]))
    return {"times": inside, "median": statistics.median(inside), "process_median": statistics.median(whole)}


def import_profile(module: str, top: int = 15) -> str:
    """The slowest modules (cumulative) of ``python -X importtime -c 'import module'``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line.split(":", 1)[1].split("|")
        rows.append((int(cumulative), int(self_us), name.rstrip()))
    rows.sort(reverse=True)
    lines = [f"{'cumulative ms':>14} {'self ms':>8}  module"]
    lines += [f"{c / 1000:14.1f} {s / 1000:8.1f}  {n}" for c, s, n in rows[:top]]
    return "\n".join(lines)


def bandwidth(runs: int, nbytes: int = 300 * MIB) -> dict:
    """numpy memcpy and CRC32C throughput over ``nbytes`` (already-touched memory), in GB/s."""
    import numpy as np

    src = np.random.default_rng(0).integers(0, 256, nbytes, dtype=np.uint8)
    dst = np.empty_like(src)
    dst.fill(0)
    copy = []
    for _ in range(runs):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        copy.append(time.perf_counter() - t0)
    fresh = []  # into newly allocated memory, as a reader returning new arrays must
    for _ in range(runs):
        t0 = time.perf_counter()
        out = np.empty_like(src)
        np.copyto(out, src)
        fresh.append(time.perf_counter() - t0)
        del out
    result = {
        "bytes": nbytes,
        "memcpy_GBps": nbytes / statistics.median(copy) / 1e9,
        "memcpy_fresh_GBps": nbytes / statistics.median(fresh) / 1e9,
    }
    try:
        from crc32c import crc32c
    except ImportError:
        return result
    crc = []
    for _ in range(runs):
        t0 = time.perf_counter()
        crc32c(src)
        crc.append(time.perf_counter() - t0)
    result["crc32c_GBps"] = nbytes / statistics.median(crc) / 1e9
    return result


def warm_cache(name: str) -> int:
    """Read every file of an input once; returns the total size of its data files."""
    directory = os.path.join(OUT, INPUTS[name][0])
    total = 0
    for fn in os.listdir(directory):
        with open(os.path.join(directory, fn), "rb") as f:
            while chunk := f.read(16 * MIB):
                if ".data-" in fn:
                    total += len(chunk)
    return total


CASES = [
    # id, label, input, target ratio (ckptviz / TF) or None (for information)
    ("list", "list 50k keys (load_checkpoint + shape map)", "keys50k", 0.5),
    ("read50k-map", "get_tensor x 50k, own map order", "keys50k", 0.2),
    ("read50k-sorted", "get_tensor x 50k, sorted keys", "keys50k", None),
    ("read50k-shuffled", "get_tensor x 50k, shuffled keys", "keys50k", None),
    ("read300m-map", "get_tensor all 293 MiB, own map order, CRC", "resnet50", 0.5),
    ("read300m-sorted", "get_tensor all 293 MiB, sorted keys, CRC", "resnet50", None),
]


def fmt(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="timed passes per case (median reported)")
    ap.add_argument("--json", action="store_true", help="also write benchmarks/out/results.json")
    ap.add_argument("--profile", action="store_true", help="cProfile the ckptviz side of each case instead")
    ap.add_argument(
        "--no-tf", action="store_true", help="measure ckptviz only, even if TensorFlow is installed"
    )
    ap.add_argument("--_worker", nargs=3, metavar=("LIB", "CASE", "RUNS"), help=argparse.SUPPRESS)
    ap.add_argument("--_generate", metavar="INPUT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._generate:
        generate(args._generate)
        return
    if args._worker:
        lib, case, runs = args._worker
        worker(lib, case, int(runs), args.profile)
        return

    use_tf = have_tensorflow() and not args.no_tf
    os.makedirs(OUT, exist_ok=True)
    for name, (_, _, what) in INPUTS.items():
        if have_input(name):
            continue
        if not have_tensorflow():
            print(f"skipping {name} ({what}): not cached and TensorFlow is not installed", file=sys.stderr)
            continue
        print(f"generating {name}: {what} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--_generate", name],
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        print(f"  done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    sizes = {name: warm_cache(name) for name in INPUTS if have_input(name)}

    if args.profile:
        print("== import ckptviz (python -X importtime, slowest modules) ==")
        print(import_profile("ckptviz"))
        for case, label, name, _ in CASES:
            if case.endswith(("-sorted", "-shuffled")):
                continue  # the same code path as the map order
            libs = ["ckptviz", "ckptviz-noverify"] if case == "read300m-map" else ["ckptviz"]
            for lib in libs:
                if name not in sizes:
                    continue
                r = run_worker(lib, case, "1", "--profile")
                print(f"\n== {lib}: {label} (one pass under cProfile: {fmt(r['elapsed'])}) ==")
                print(r["profile"])
        return

    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "runs": args.runs,
        "inputs": {},
        "cases": {},
    }
    try:
        import numpy

        results["machine"]["numpy"] = numpy.__version__
    except ImportError:
        pass
    for name in sizes:
        with open(os.path.join(OUT, INPUTS[name][0], INPUTS[name][1] + ".index"), "rb") as f:
            index_bytes = len(f.read())
        results["inputs"][name] = {
            "description": INPUTS[name][2],
            "data_bytes": sizes[name],
            "index_bytes": index_bytes,
        }
    from importlib import metadata

    for dist in ("ckptviz", "tensorflow", "keras", "crc32c"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            results["machine"][dist] = metadata.version(dist)

    rows = []  # (label, tf, ckptviz, target text, ok)
    print("measuring import times ...", file=sys.stderr, flush=True)
    imp = import_times("ckptviz", max(args.runs, 5))
    results["cases"]["import"] = {"ckptviz": imp, "target_s": 0.3}
    tf_imp = None
    if use_tf:
        tf_imp = import_times("tensorflow", min(args.runs, 3))
        results["cases"]["import"]["tf"] = tf_imp
    rows.append(
        (
            "import (in fresh process)",
            tf_imp and tf_imp["median"],
            imp["median"],
            "<= 0.3 s",
            imp["median"] <= 0.3,
        )
    )

    for case, label, name, target in CASES:
        if name not in sizes:
            print(f"skipping {case}: input {name} missing", file=sys.stderr)
            continue
        libs = (
            ["ckptviz"]
            + (["ckptviz-noverify"] if case == "read300m-map" else [])
            + (["tf"] if use_tf else [])
        )
        entry: dict = {"input": name, "target_ratio": target}
        for lib in libs:
            print(f"measuring {case} with {lib} ...", file=sys.stderr, flush=True)
            r = run_worker(lib, case, str(args.runs))
            r["median"] = statistics.median(r["times"])
            entry[lib] = r
        tf_t = entry["tf"]["median"] if "tf" in entry else None
        for lib in [lib for lib in libs if lib != "tf"]:
            ratio = entry[lib]["median"] / tf_t if tf_t else None
            entry[lib]["ratio"] = ratio
            shown = label if lib == "ckptviz" else label.replace("CRC", "verify=False")
            has_target = target is not None and lib == "ckptviz"
            target_text = f"<= {target}x TF" if has_target else "(info)"
            ok = (ratio <= target) if (ratio is not None and has_target) else None
            rows.append((shown, tf_t, entry[lib]["median"], target_text, ok))
        for lib in libs:
            entry[lib]["min"] = min(entry[lib]["times"])
        if name == "resnet50":
            entry["data_bytes"] = sizes[name]
            for lib in libs:
                entry[lib]["GBps"] = sizes[name] / entry[lib]["median"] / 1e9
        results["cases"][case] = entry

    print("measuring memcpy / CRC32C bandwidth ...", file=sys.stderr, flush=True)
    bw = bandwidth(args.runs)
    results["bandwidth"] = bw

    print()
    print(f"ckptviz vs TensorFlow, median of {args.runs} runs, warm cache, time after import")
    head = f"{'case':<54} {'TF':>10} {'ckptviz':>10} {'ratio':>7}  {'target':<13} ok"
    print(head)
    print("-" * len(head))
    for label, tf_t, ck_t, target_text, ok in rows:
        ratio = f"{ck_t / tf_t:.3f}" if tf_t else "-"
        mark = {True: "yes", False: "NO", None: ""}[ok]
        print(f"{label:<54} {fmt(tf_t):>10} {fmt(ck_t):>10} {ratio:>7}  {target_text:<13} {mark}")
    print()
    if "read300m-map" in results["cases"]:
        c = results["cases"]["read300m-map"]
        parts = [
            f"{lib} {c[lib]['GBps']:.2f} GB/s" for lib in ("tf", "ckptviz", "ckptviz-noverify") if lib in c
        ]
        print(f"ResNet50+Adam data: {c['data_bytes'] / MIB:.0f} MiB; throughput: " + ", ".join(parts))
    line = (
        f"physical limit: numpy memcpy (np.copyto, 300 MiB) {bw['memcpy_GBps']:.2f} GB/s "
        f"({bw['memcpy_fresh_GBps']:.2f} GB/s into a fresh np.empty)"
    )
    if "crc32c_GBps" in bw:
        line += f", CRC32C (crc32c package) {bw['crc32c_GBps']:.2f} GB/s"
    print(line)
    if "read300m-map" in results["cases"] and "crc32c_GBps" in bw:
        nbytes = results["cases"]["read300m-map"]["data_bytes"]
        floor = nbytes / (bw["memcpy_GBps"] * 1e9) + nbytes / (bw["crc32c_GBps"] * 1e9)
        fresh = nbytes / (bw["memcpy_fresh_GBps"] * 1e9) + nbytes / (bw["crc32c_GBps"] * 1e9)
        results["bandwidth"]["read300m_floor_s"] = floor
        results["bandwidth"]["read300m_floor_fresh_s"] = fresh
        print(
            f"floor for the 300 MB case, one copy + one CRC pass: {fmt(floor)} into reused memory, "
            f"{fmt(fresh)} into fresh arrays"
        )
    if tf_imp:
        print(
            f"whole-process time: python -c 'import ckptviz' {fmt(imp['process_median'])}, "
            f"'import tensorflow' {fmt(tf_imp['process_median'])}"
        )
    if not use_tf:
        print("TensorFlow not used: ckptviz numbers only")
    if args.json:
        path = os.path.join(OUT, "results.json")
        with open(path, "w") as f:
            json.dump(results, f, indent=2)
        print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
