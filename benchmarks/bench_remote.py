#!/usr/bin/env python
"""Reading a whole checkpoint from an S3 API server on loopback, against one plain GET per file.

    python benchmarks/bench_remote.py [--runs N] [--json]

The input is a ResNet50 + Adam checkpoint with the 751 keys of tests/data/resnet50_adam (~270 MiB,
written once with ckptviz under ``benchmarks/out/remote/``). The S3 server is moto's, run in a
separate process (this file, ``--_server``) so that it does not share the client's interpreter; a
WSGI wrapper counts the requests it answers and the bytes it sends (``/__counts__``).

Cases (median of ``--runs``, each from a fresh open):
- ``plain GET``: one full-object GET of the .index and of the data file, with boto3 (urllib3) and
  with s3fs (aiohttp, the client ckptviz reads through): the most this server can stream;
- ``read_many``: ``ckptviz.open(url).read_many(every key)``: ranges merged, parts concurrent;
- ``get_tensor loop``: ``{k: r.get_tensor(k) for k in keys}`` (read-ahead on a pass);
- ``list keys``: ``ckptviz.list_variables(url)``.
Every case reports requests, bytes the server sent, and bytes needed (the index plus the tensors).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out", "remote")
PREFIX = os.path.join(OUT, "resnet50_adam", "ckpt")
SHAPES = os.path.join(ROOT, "tests", "data", "resnet50_adam", "variables.json")
DONE = os.path.join(OUT, ".complete")
BUCKET = "bench"
MIB = 1 << 20
OPTIONS = {"key": "bench", "secret": "bench", "client_kwargs": {"region_name": "us-east-1"}}


def generate() -> None:
    """The ResNet50 + Adam shapes, float32 values (int64 counters); name-based, as bench_diff's."""
    import numpy as np

    import ckptviz

    if os.path.exists(DONE):
        return
    os.makedirs(os.path.dirname(PREFIX), exist_ok=True)
    rng = np.random.default_rng(0)
    with open(SHAPES) as f:
        shapes = json.load(f)
    values = {}
    for key, spec in shapes.items():
        if spec["dtype"] == "string":
            continue
        shape = tuple(spec["shape"])
        dtype = np.int64 if spec["dtype"] == "int64" else np.float32
        values[key] = (rng.standard_normal(shape) * 0.05).astype(dtype)
    ckptviz.write_checkpoint(PREFIX, values, overwrite=True)
    open(DONE, "w").close()


# -- the server process ----------------------------------------------------------------------------


def serve(port_file: str) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    wsgi = server._server
    app = wsgi.app
    counts = {"requests": 0, "sent": 0}

    def counting(environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") == "/__counts__":
            body = json.dumps(counts).encode()
            if environ["REQUEST_METHOD"] == "DELETE":
                counts.update(requests=0, sent=0)
            start_response("200 OK", [("Content-Length", str(len(body)))])
            return [body]
        body = list(app(environ, start_response))
        counts["requests"] += 1
        counts["sent"] += sum(map(len, body))
        return body

    wsgi.app = counting
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.get_host_and_port()[1]))
    os.replace(port_file + ".tmp", port_file)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port_file = os.path.join(OUT, "port")
    if os.path.exists(port_file):
        os.remove(port_file)
    proc = subprocess.Popen([sys.executable, __file__, "--_server", port_file], stdin=subprocess.PIPE)
    for _ in range(600):
        if os.path.exists(port_file):
            break
        if proc.poll() is not None:
            raise SystemExit("the S3 server did not start")
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, f"http://127.0.0.1:{f.read()}"


def counts(endpoint: str, reset: bool = False) -> dict[str, int]:
    request = urllib.request.Request(f"{endpoint}/__counts__", method="DELETE" if reset else "GET")
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


# -- the cases -------------------------------------------------------------------------------------


def upload(endpoint: str) -> list[str]:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    names = sorted(n for n in os.listdir(os.path.dirname(PREFIX)) if n.startswith("ckpt."))
    for name in names:
        client.upload_file(os.path.join(os.path.dirname(PREFIX), name), BUCKET, f"resnet/{name}")
    return names


def plain_get(endpoint: str, names: list[str]) -> int:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        region_name="us-east-1",
    )
    return sum(len(client.get_object(Bucket=BUCKET, Key=f"resnet/{n}")["Body"].read()) for n in names)


def plain_get_fsspec(url: str, options: dict, names: list[str]) -> int:  # type: ignore[type-arg]
    """The same whole-file GETs through fsspec/s3fs (aiohttp): the client stack ckptviz uses."""
    import fsspec

    fs = fsspec.filesystem("s3", **options)
    return sum(len(fs.cat_file(f"{BUCKET}/resnet/{n}")) for n in names)


def read_many(url: str, options: dict) -> int:  # type: ignore[type-arg]
    import ckptviz

    with ckptviz.open(url, storage_options=options) as ckpt:
        return sum(v.nbytes for v in ckpt.read_many(list(ckpt.entries)).values())


def get_tensor_loop(url: str, options: dict) -> int:  # type: ignore[type-arg]
    import ckptviz

    reader = ckptviz.load_checkpoint(url, storage_options=options)
    return sum(reader.get_tensor(k).nbytes for k in reader.get_variable_to_shape_map())


def list_keys(url: str, options: dict) -> int:  # type: ignore[type-arg]
    import ckptviz

    return len(ckptviz.list_variables(url, storage_options=options))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--_server", metavar="PORT_FILE")
    args = parser.parse_args()
    if args._server:
        serve(args._server)
        return
    sys.path.insert(0, ROOT)
    generate()
    import ckptviz

    local = ckptviz.open(PREFIX)
    index_size = os.path.getsize(PREFIX + ".index")
    needed = index_size + sum(e.size for e in local.entries.values())
    proc, endpoint = start_server()
    try:
        names = upload(endpoint)
        total = sum(os.path.getsize(os.path.join(os.path.dirname(PREFIX), n)) for n in names)
        options = {**OPTIONS, "endpoint_url": endpoint, "skip_instance_cache": True}
        url = f"s3://{BUCKET}/resnet/ckpt"
        cases = {
            "plain GET (boto3, whole files)": lambda: plain_get(endpoint, names),
            "plain GET (s3fs, whole files)": lambda: plain_get_fsspec(url, options, names),
            "read_many (every key)": lambda: read_many(url, options),
            "get_tensor loop": lambda: get_tensor_loop(url, options),
            "list keys": lambda: list_keys(url, options),
        }
        results = {}
        for name, case in cases.items():
            times, seen = [], {}
            for _ in range(args.runs):
                counts(endpoint, reset=True)
                t0 = time.perf_counter()
                case()
                times.append(time.perf_counter() - t0)
                seen = counts(endpoint)
            results[name] = {"seconds": statistics.median(times), **seen}
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(30)
    base = results["plain GET (boto3, whole files)"]["seconds"]
    if args.json:
        print(json.dumps({"needed": needed, "files": total, "results": results}, indent=1))
        return
    print(
        f"ResNet50 + Adam, {len(local.entries)} keys: files {total / MIB:.1f} MiB, needed {needed / MIB:.1f} MiB"
    )
    print(f"{'case':34} {'seconds':>8} {'vs GET':>7} {'requests':>9} {'sent MiB':>9} {'sent/needed':>11}")
    for name, r in results.items():
        print(
            f"{name:34} {r['seconds']:8.2f} {r['seconds'] / base:7.2f} {r['requests']:9d} "
            f"{r['sent'] / MIB:9.1f} {r['sent'] / needed:11.2f}"
        )


if __name__ == "__main__":
    main()
