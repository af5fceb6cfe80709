"""Server-side latency of the JupyterLab panel's routes on a BERT-base-sized checkpoint.

Starts a real ``jupyter server`` with the ckptviz extension on loopback (stopped at the end),
writes a name-based checkpoint shaped like Google's BERT-base release (the 199 variables of
``bert_model.ckpt``, optionally with Adam's ``adam_m``/``adam_v`` slots: 600 keys, 1.3 GB) under
``benchmarks/out/``, then times over HTTP: the entries listing (first request: open, index, graph;
then cached), a tensor preview with statistics (a 768×768 kernel and the 30522×768 embedding),
the event loop's answer time while 20 preview requests run at once, a cached 5-row page and a
listing while 8 statistics requests run, and the listing of a directory of 2 600 prefixes.

    python benchmarks/bench_server.py [--runs 5] [--adam]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "out" / "server"
TOKEN = "bench"


def bert_shapes() -> dict[str, tuple[int, ...]]:
    h, ff, vocab = 768, 3072, 30522
    shapes: dict[str, tuple[int, ...]] = {
        "bert/embeddings/word_embeddings": (vocab, h),
        "bert/embeddings/position_embeddings": (512, h),
        "bert/embeddings/token_type_embeddings": (2, h),
        "bert/embeddings/LayerNorm/beta": (h,),
        "bert/embeddings/LayerNorm/gamma": (h,),
        "bert/pooler/dense/kernel": (h, h),
        "bert/pooler/dense/bias": (h,),
        "cls/predictions/output_bias": (vocab,),
        "cls/predictions/transform/dense/kernel": (h, h),
        "cls/predictions/transform/dense/bias": (h,),
        "cls/predictions/transform/LayerNorm/beta": (h,),
        "cls/predictions/transform/LayerNorm/gamma": (h,),
        "cls/seq_relationship/output_weights": (2, h),
        "cls/seq_relationship/output_bias": (2,),
    }
    for i in range(12):
        layer = f"bert/encoder/layer_{i}"
        for part in ("query", "key", "value"):
            shapes[f"{layer}/attention/self/{part}/kernel"] = (h, h)
            shapes[f"{layer}/attention/self/{part}/bias"] = (h,)
        shapes[f"{layer}/attention/output/dense/kernel"] = (h, h)
        shapes[f"{layer}/attention/output/dense/bias"] = (h,)
        shapes[f"{layer}/intermediate/dense/kernel"] = (h, ff)
        shapes[f"{layer}/intermediate/dense/bias"] = (ff,)
        shapes[f"{layer}/output/dense/kernel"] = (ff, h)
        shapes[f"{layer}/output/dense/bias"] = (h,)
        for norm in ("attention/output/LayerNorm", "output/LayerNorm"):
            shapes[f"{layer}/{norm}/beta"] = (h,)
            shapes[f"{layer}/{norm}/gamma"] = (h,)
    return shapes


def make_checkpoint(adam: bool) -> Path:
    import ckptviz

    prefix = OUT / ("bert_adam" if adam else "bert") / "bert_model.ckpt"
    if Path(f"{prefix}.index").exists():
        return prefix
    rng = np.random.default_rng(0)
    tensors = {}
    for name, shape in bert_shapes().items():
        tensors[name] = rng.standard_normal(shape, dtype=np.float32) * 0.02
        if adam:
            tensors[f"{name}/adam_m"] = np.zeros(shape, np.float32)
            tensors[f"{name}/adam_v"] = np.zeros(shape, np.float32)
    tensors["global_step"] = np.array(1000000, np.int64)
    ckptviz.write_checkpoint(prefix, tensors, overwrite=True)
    return prefix


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(base: str, route: str, **params: object) -> tuple[float, dict]:
    url = f"{base}/ckptviz/api/{route}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            body = json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{route}: HTTP {e.code}: {e.read().decode()}") from None
    return time.perf_counter() - start, body


def median_ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:7.1f} ms (min {min(times) * 1000:.1f})"


def cheap_while_statistics(base: str, rel: str, runs: int) -> None:
    """A cached 5-row page and a listing, timed while 8 statistics requests on the 89 MiB
    embedding keep the statistics pool busy (cheap requests have a pool of their own)."""
    embed = "bert/embeddings/word_embeddings"
    get(base, "entries", path=rel, limit=5)
    with ThreadPoolExecutor(8) as pool:
        heavy = [pool.submit(get, base, "tensor", path=rel, key=embed, stats=1, bins=100) for _ in range(8)]
        time.sleep(0.3)  # let them start
        page, listing = [], []
        while not all(f.done() for f in heavy) or len(page) < runs:
            page.append(get(base, "entries", path=rel, limit=5)[0])
            listing.append(get(base, "checkpoints", path=Path(rel).parent.as_posix())[0])
            if len(page) >= 50:
                break
        busy = sum(not f.done() for f in heavy)
        slowest = max(f.result()[0] for f in heavy)
    print(
        f"entries limit=5 (cached) during 8 statistics requests {median_ms(page)}, max {max(page) * 1000:.1f} ms "
        f"({len(page)} requests; statistics took up to {slowest * 1000:.0f} ms, {busy} still running at the end)"
    )
    print(
        f"checkpoints listing during 8 statistics requests      {median_ms(listing)}, max {max(listing) * 1000:.1f} ms"
    )


def listing_of_many_prefixes(base: str, prefix: Path, count: int = 2600) -> None:
    """The ``checkpoints`` listing of a directory of ``count`` prefixes (hard links of one small
    checkpoint): one scandir pass, so it grows linearly."""
    import ckptviz

    many = OUT / "many"
    if not (many / f"ckpt-{count - 1}.index").exists():
        many.mkdir(parents=True, exist_ok=True)
        ckptviz.write_checkpoint(many / "seed", {"x": np.zeros(4, np.float32)}, overwrite=True)
        for i in range(count):
            for suffix in (".index", ".data-00000-of-00001"):
                target = many / f"ckpt-{i}{suffix}"
                if not target.exists():
                    os.link(many / f"seed{suffix}", target)
    times = [get(base, "checkpoints", path="many")[0] for _ in range(3)]
    print(f"checkpoints listing of {count} prefixes                {median_ms(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--adam", action="store_true", help="add Adam's two slots per variable (1.3 GB)")
    args = parser.parse_args()
    prefix = make_checkpoint(args.adam)
    rel = prefix.relative_to(OUT).as_posix()
    size = sum(p.stat().st_size for p in prefix.parent.iterdir())
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={OUT}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        first, body = get(base, "entries", path=rel, limit=1000)
        warm = [get(base, "entries", path=rel, limit=1000)[0] for _ in range(args.runs)]
        copies = []
        for i in range(args.runs):  # the same files under other names: opened anew, server warm
            copy = prefix.parent.parent / f"copy{i}"
            copy.mkdir(exist_ok=True)
            for f in prefix.parent.iterdir():
                if not (copy / f.name).exists():
                    os.link(f, copy / f.name)
            copies.append(get(base, "entries", path=f"copy{i}/{prefix.name}", limit=1000)[0])
        print(f"checkpoint: {rel}, {body['total']} keys, {size / 2**20:.0f} MiB")
        print(f"entries (the server's very first request)          {first * 1000:7.1f} ms")
        print(f"entries (a checkpoint opened for the request)      {median_ms(copies)}")
        print(f"entries (cached)                                   {median_ms(warm)}")
        kernel = "bert/encoder/layer_0/attention/self/query/kernel"
        print(
            f"tensor preview + stats 768x768                     "
            f"{median_ms([get(base, 'tensor', path=rel, key=kernel)[0] for _ in range(args.runs)])}"
        )
        embed = "bert/embeddings/word_embeddings"
        print(
            f"tensor preview + stats 30522x768 (89 MiB)          "
            f"{median_ms([get(base, 'tensor', path=rel, key=embed)[0] for _ in range(args.runs)])}"
        )
        keys = [k for k in bert_shapes() if "intermediate/dense/kernel" in k]
        with ThreadPoolExecutor(21) as pool:
            start = time.perf_counter()
            futures = [pool.submit(get, base, "tensor", path=rel, key=keys[i % len(keys)]) for i in range(20)]
            time.sleep(0.05)
            ping_start = time.perf_counter()
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=60).close()
            ping = time.perf_counter() - ping_start
            worst = max(f.result()[0] for f in futures)
            total = time.perf_counter() - start
        print(
            f"20 concurrent previews of 768x3072: all done in {total * 1000:.0f} ms (slowest {worst * 1000:.0f} ms); "
            f"/api/status answered meanwhile in {ping * 1000:.1f} ms"
        )
        cheap_while_statistics(base, rel, args.runs)
        listing_of_many_prefixes(base, prefix)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


if __name__ == "__main__":
    main()
