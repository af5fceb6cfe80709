"""Run mutated checkpoints through ckptviz's whole user path, each in a forked child with a
memory limit and a timeout, and classify what happened.

The long campaign (not run in CI) is one command from the repository root:

    python -m tests.fuzz.harness --inputs 6000 --seed 1 [--workers 2] [--json out.json]

Every input must end in correct values or in ckptviz errors that name the file (and, for
corruption, the byte offset). Anything else (another exception, a hang, running out of memory,
a value that disagrees with the listing or with the original of a valid re-encoding) is a
failure, printed with the mutation and seed that reproduce it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
# (kind, fixture directory, prefix or file name); small TF-written checkpoints of every shape.
FIXTURES = [
    ("bundle", "guide_keras3", "ckpt-1"),
    ("bundle", "guide_legacy_adam", "ckpt-4"),
    ("bundle", "variant", "ckpt"),
    ("bundle", "object_graph_edge_cases", "ckpt"),
    ("bundle", "sliced_policy", "ckpt"),
    ("bundle", "sliced_tf1", "model.ckpt"),
    ("bundle", "sharded_variable", "ckpt"),
    ("bundle", "multi_shard", "model.ckpt"),
    ("bundle", "dtypes", "all"),
    ("bundle", "tf1_saver", "model.ckpt-2"),
    ("v1", "v1_format", "model.ckpt"),
    ("keras", "keras3_files", "model.weights.h5"),
    ("keras", "keras3_files", "model.keras"),
]
MODEL_STAGES = ("graph", "export_graph")  # the object-graph layer, above format/
TIMEOUT = 20.0  # seconds per input (a real one takes well under one)
HEADROOM = 768 << 20  # address space a child may add to what the worker already maps


def fixture_files(kind: str, directory: str, name: str) -> dict[str, bytes]:
    d = DATA / directory
    if kind == "bundle":
        return {
            p.name: p.read_bytes()
            for p in d.iterdir()
            if p.name.startswith(name + ".") and not p.name.endswith(".meta")
        }
    return {name: (d / name).read_bytes()}


def generate(seed: int, number: int) -> tuple[tuple[str, str, str], dict[str, bytes], str, bool]:
    """Input ``number`` of the campaign ``seed``: its fixture, files, mutation and validity."""
    from tests.fuzz import mutate

    rng = random.Random(f"{seed}/{number}")
    fixture = FIXTURES[number % len(FIXTURES)]
    files = fixture_files(*fixture)
    if number < 0:  # the unmutated fixture, to measure what reading it costs
        return fixture, files, "none", True
    kind, _, name = fixture
    if kind == "bundle":
        out, what, equivalent = mutate.mutate_bundle(files, name, rng)
    elif kind == "v1":
        out, what, equivalent = mutate.mutate_v1(files, name, rng)
    else:
        out, what, equivalent = mutate.mutate_raw(files, rng)
    return fixture, out, what, equivalent


# -- the user path ----------------------------------------------------------------------------


def digest(value: Any) -> str:
    """Bytes, dtype, shape and Python type of a value, variants' contents included."""
    import numpy as np

    from ckptviz.format.tensor_proto import Variant

    h = hashlib.sha256(type(value).__name__.encode())
    if isinstance(value, bytes):
        h.update(value)
    elif isinstance(value, Variant):
        h.update(repr((value.type_name, value.metadata, [digest(t) for t in value.tensors])).encode())
    else:
        arr = np.asarray(value)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        if arr.dtype == object:
            for item in arr.reshape(-1):
                h.update(digest(item).encode())
        else:
            h.update(arr.tobytes())
    return h.hexdigest()[:16]


def user_path(path: str, out_dir: str) -> dict[str, Any]:
    """Everything a user does with a checkpoint, through the public API; what each step gave."""
    import numpy as np

    import ckptviz

    record: dict[str, Any] = {"errors": [], "values": {}, "problems": []}

    def step(stage: str, func: Any) -> Any:
        try:
            return func()
        except Exception as e:
            record["errors"].append(_describe(stage, e, path))
            return None

    ck = step("open", lambda: ckptviz.open(path))
    if ck is None:
        return record
    step("entries", lambda: len(ck.entries))
    step("to_pandas", lambda: ck.to_pandas())
    step("repr", lambda: (repr(ck), ck._repr_html_()))
    reader = step("load_checkpoint", lambda: ckptviz.load_checkpoint(path))
    if reader is not None:
        shapes = step("shape_map", reader.get_variable_to_shape_map) or {}
        dtypes = step("dtype_map", reader.get_variable_to_dtype_map) or {}
        record["listing"] = digest(
            repr(sorted((k, v, str(dtypes.get(k))) for k, v in shapes.items())).encode()
        )
        for key in shapes:
            value = step("get_tensor", lambda key=key: reader.get_tensor(key))
            if value is None:
                continue
            record["values"][key] = digest(value)
            if list(np.shape(value)) != list(shapes[key]):
                record["problems"].append(
                    f"{key!r}: read shape {list(np.shape(value))}, listed {shapes[key]}"
                )
            dtype = dtypes.get(key)
            if dtype is not None and dtype.is_fixed_width and np.asarray(value).dtype != dtype.numpy:
                record["problems"].append(f"{key!r}: read dtype {np.asarray(value).dtype}, listed {dtype}")
        step("close", reader.close)
    step("graph", lambda: ck.graph)
    step("export_graph", lambda: ckptviz.export_graph(path, os.path.join(out_dir, "graph.dot")))
    step("close", ck.close)
    return record


def _describe(stage: str, e: BaseException, path: str) -> dict[str, Any]:
    from ckptviz.errors import CheckpointError, CorruptCheckpointError, KeyNotFoundError

    where = os.path.dirname(path)
    message = str(e)
    verdict = "ok"
    if isinstance(e, MemoryError):
        verdict = "oom"
    elif not isinstance(e, CheckpointError):
        verdict = "foreign"
    elif isinstance(e, KeyNotFoundError) and stage == "get_tensor":
        verdict = "listed key not found"
    elif isinstance(e, CorruptCheckpointError) and (not e.path or e.offset is None):
        verdict = "no offset" if e.path else "no file"
    elif where not in message:
        verdict = "no file"
    return {
        "stage": stage,
        "type": type(e).__name__,
        "message": message.replace(where, "<dir>")[:300],
        "verdict": verdict,
        "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
        if verdict != "ok"
        else "",
    }


# -- one input in a forked child --------------------------------------------------------------


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def run_one(seed: int, number: int, work: str, reference: dict[str, Any]) -> dict[str, Any]:
    fixture, files, what, equivalent = generate(seed, number)
    directory = os.path.join(work, f"in{number}".replace("-", "m"))
    os.makedirs(directory)
    for name, data in files.items():
        Path(directory, name).write_bytes(data)
    path = os.path.join(directory, fixture[2])
    size = sum(len(d) for d in files.values())
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: limits, the user path, a JSON line back
        os.close(read_fd)
        code = 0
        try:
            limit = _vm("VmSize") + HEADROOM
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            signal.alarm(int(TIMEOUT) + 5)
            rss = _vm("VmRSS")
            record = user_path(path, directory)
            record["memory"] = max(_vm("VmHWM") - rss, 0)
            os.write(write_fd, json.dumps(record).encode())
        except BaseException as e:
            code = 3 if isinstance(e, MemoryError) else 2
            with open(os.path.join(directory, "crash.txt"), "w") as f:
                f.write(traceback.format_exc())
        finally:
            os.close(write_fd)
            os._exit(code)
    os.close(write_fd)
    chunks, status, hung = [], 0, False
    os.set_blocking(read_fd, False)
    while True:
        try:
            chunk = os.read(read_fd, 1 << 16)
            if chunk:
                chunks.append(chunk)
        except BlockingIOError:
            chunk = None
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            hung = True
            break
        if chunk is None:
            time.sleep(0.002)
    try:
        while chunk := os.read(read_fd, 1 << 16):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    os.close(read_fd)
    result: dict[str, Any] = {
        "number": number, "seed": seed, "fixture": "/".join(fixture[1:]), "mutation": what,
        "equivalent": equivalent, "bytes": size, "seconds": round(time.monotonic() - start, 3),
    }  # fmt: skip
    crash = os.path.join(directory, "crash.txt")
    if hung:
        result["outcome"] = "hang"
    elif not chunks:
        result["outcome"] = "oom" if os.WEXITSTATUS(status) == 3 or os.WIFSIGNALED(status) else "crash"
        result["detail"] = Path(crash).read_text()[-1500:] if os.path.exists(crash) else f"status {status}"
    else:
        record = json.loads(b"".join(chunks))
        result.update(_judge(record, equivalent, reference.get("/".join(fixture[1:]))))
        result["memory"] = record["memory"]
        # What the damage costs beyond reading the intact fixture, per byte of input.
        extra = record["memory"] - reference.get("memory", {}).get("/".join(fixture[1:]), record["memory"])
        result["memory_ratio"] = round(max(extra, 0) / max(size, 1), 2)
    shutil.rmtree(directory, ignore_errors=True)
    return result


def _judge(record: dict[str, Any], equivalent: bool, reference: dict[str, Any] | None) -> dict[str, Any]:
    bad = [e for e in record["errors"] if e["verdict"] != "ok"]
    if record["problems"]:
        return {"outcome": "wrong value", "detail": "; ".join(record["problems"])[:1500]}
    if (
        equivalent
        and reference is not None
        and (
            record["errors"]
            or record.get("listing") != reference["listing"]
            or record["values"] != reference["values"]
        )
    ):
        first = record["errors"][0]["message"] if record["errors"] else "listing or values differ"
        return {"outcome": "wrong value", "detail": f"a valid re-encoding reads differently: {first}"}
    if bad:
        layer = "model" if all(e["stage"] in MODEL_STAGES for e in bad) else "format"
        first = bad[0]
        return {
            "outcome": f"{layer}: {first['verdict']}",
            "detail": f"[{first['stage']}] {first['type']}: {first['message']}\n{first['traceback']}"[:2500],
        }
    return {"outcome": "errors" if record["errors"] else "values"}


# -- many inputs ------------------------------------------------------------------------------


def references() -> dict[str, Any]:
    """What the unmutated fixtures read as."""
    out = {}
    for _kind, directory, name in FIXTURES:
        with tempfile.TemporaryDirectory() as tmp:
            record = user_path(str(DATA / directory / name), tmp)
        out[f"{directory}/{name}"] = {"listing": record.get("listing"), "values": record["values"]}
    return out


def worker(seed: int, numbers: list[int]) -> None:
    # Everything the user path loads is imported once, before the children fork, so their
    # memory growth is what reading the input costs.
    import cramjam  # noqa: F401
    import h5py  # noqa: F401
    import pandas  # noqa: F401

    import ckptviz
    import ckptviz.render  # noqa: F401

    reference = references()
    with tempfile.TemporaryDirectory(prefix="ckptviz-fuzz-") as work:
        reference["memory"] = {
            r["fixture"]: r.get("memory", 0)
            for r in (run_one(seed, i - len(FIXTURES), work, reference) for i in range(len(FIXTURES)))
        }
        for number in numbers:
            print(json.dumps(run_one(seed, number, work, reference)), flush=True)


def campaign(count: int, seed: int, workers: int = 2, first: int = 0) -> list[dict[str, Any]]:
    """Inputs ``first .. first+count`` of campaign ``seed``, split over ``workers`` processes."""
    numbers = list(range(first, first + count))
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory(prefix="ckptviz-fuzz-out-") as out:
        # Each worker writes its own file: reading pipes one after the other would stall the rest.
        files = [open(os.path.join(out, f"w{i}.jsonl"), "w+") for i in range(workers)]  # noqa: SIM115
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.fuzz.harness",
                    "--_worker",
                    str(seed),
                    json.dumps(numbers[i::workers]),
                ],
                stdout=files[i],
                cwd=ROOT,
                env=env,
            )
            for i in range(workers)
        ]
        results = []
        for proc, f in zip(procs, files):
            proc.wait()
            f.seek(0)
            results.extend(json.loads(line) for line in f)
            f.close()
    if len(results) != count:
        raise RuntimeError(f"fuzz workers returned {len(results)} of {count} results")
    return sorted(results, key=lambda r: r["number"])


FINE = ("values", "errors")


def summary(results: list[dict[str, Any]], seconds: float) -> str:
    outcomes = Counter(r["outcome"] for r in results)
    worst = max(results, key=lambda r: r.get("memory_ratio", 0))
    most = max(results, key=lambda r: r.get("memory", 0))
    lines = [
        f"{len(results)} inputs in {seconds:.0f} s: "
        + ", ".join(f"{n} {o}" for o, n in outcomes.most_common()),
        f"worst memory ratio {worst.get('memory_ratio', 0)} (peak RSS growth beyond reading the intact "
        f"fixture / input bytes; input "
        f"{worst['number']} {worst['fixture']} {worst['mutation']}, {worst['bytes']} bytes)",
        f"largest peak RSS growth {most.get('memory', 0) / 2**20:.1f} MiB (input {most['number']} "
        f"{most['fixture']} {most['mutation']}, {most['bytes']} bytes)",
        f"slowest input {max(r['seconds'] for r in results):.2f} s",
        "mutations: "
        + ", ".join(f"{m} {n}" for m, n in sorted(Counter(r["mutation"] for r in results).items())),
    ]
    for r in results:
        if r["outcome"] not in FINE:
            lines.append(
                f"--- input {r['number']} (seed {r['seed']}) {r['fixture']} {r['mutation']}: {r['outcome']}"
            )
            lines.append(r.get("detail", ""))
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_worker":
        worker(int(sys.argv[2]), json.loads(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="number of the first input (to rerun one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="write every result to this file")
    args = parser.parse_args()
    start = time.monotonic()
    results = campaign(args.inputs, args.seed, args.workers, args.first)
    print(summary(results, time.monotonic() - start))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    sys.exit(0 if all(r["outcome"] in FINE for r in results) else 1)


if __name__ == "__main__":
    main()
