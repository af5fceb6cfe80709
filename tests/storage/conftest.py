"""Real stores on loopback: an S3 API server (moto's, in a thread) and two HTTP servers, one that
honours Range and one that ignores it (Python's own ``http.server``), each counting requests.

The S3 bucket holds copies of the fixtures in ``COPIED``; HTTP servers serve ``tests/data``
read-only (or a test's own directory, through ``serve``).
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA
from tests.ranged_http import send_range

COPIED = ("guide_legacy_adam", "training_run", "multi_shard", "v1_format", "keras3_files", "dtypes")
SECRET = "ckptviz-test-secret-never-shown"
BUCKET = "ckpts"


class Counter:
    """Requests a server answered: ``(method, path, body bytes)``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def add(self, method: str, path: str, sent: int) -> None:
        with self._lock:
            self.seen.append((method, path, sent))

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()

    def gets(self, ending: str = "") -> list[tuple[str, str, int]]:
        return [s for s in self.seen if s[0] == "GET" and s[1].split("?")[0].endswith(ending)]

    @property
    def sent(self) -> int:
        return sum(s[2] for s in self.seen)


class _Counting:
    """WSGI middleware counting what the S3 server sends."""

    def __init__(self, app: Any, counter: Counter) -> None:
        self.app, self.counter = app, counter

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = list(self.app(environ, start_response))
        self.counter.add(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), sum(map(len, body)))
        return body


class S3:
    def __init__(self, endpoint: str, counter: Counter) -> None:
        self.endpoint, self.counter = endpoint, counter
        self.options: dict[str, Any] = {
            "endpoint_url": endpoint,
            "key": "ckptviz-test-key",
            "secret": SECRET,
            "client_kwargs": {"region_name": "us-east-1"},
            "skip_instance_cache": True,
        }

    def url(self, path: str) -> str:
        return f"s3://{BUCKET}/{path}"

    def filesystem(self) -> Any:
        import fsspec

        return fsspec.filesystem("s3", **self.options)

    def put(self, local: Path, key: str) -> str:
        """Upload a file or a directory's files under ``key``; returns the URL."""
        fs = self.filesystem()
        files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
        for f in files:
            rel = key if local.is_file() else f"{key}/{f.relative_to(local).as_posix()}"
            fs.pipe_file(f"{BUCKET}/{rel}", f.read_bytes())
        return self.url(key)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3]:
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    counter = Counter()
    wsgi = server._server
    wsgi.app = _Counting(wsgi.app, counter)  # the handler looks the app up per request
    host, port = server.get_host_and_port()
    store = S3(f"http://{host}:{port}", counter)
    import boto3

    boto3.client(
        "s3",
        endpoint_url=store.endpoint,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        region_name="us-east-1",
    ).create_bucket(Bucket=BUCKET)
    for name in COPIED:
        store.put(DATA / name, name)
    yield store
    server.stop()


@pytest.fixture
def s3(s3_server: S3) -> S3:
    s3_server.counter.clear()
    return s3_server


class Handler(http.server.SimpleHTTPRequestHandler):
    """Files under ``directory``; with ``ranges`` a single ``Range`` is honoured (206). Paths under
    ``/fail500/`` answer 500, under ``/cut/`` send half the body and hang up."""

    ranges = True
    counter: Counter

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.counter.add("HEAD", self.path, 0)
        self.path = self.path.removeprefix("/fail500").removeprefix("/cut")  # HEAD works, GET fails
        super().do_HEAD()

    def do_GET(self) -> None:
        if self.path.startswith("/fail500/"):
            self.counter.add("GET", self.path, 0)
            self.send_error(500, "the store broke")
            return
        cut = self.path.startswith("/cut/")
        path = self.translate_path(self.path.removeprefix("/cut"))
        if not os.path.isfile(path) or not (self.ranges or cut):
            self.counter.add("GET", self.path, os.path.getsize(path) if os.path.isfile(path) else 0)
            super().do_GET()  # directory listings, 404s, and the server that ignores Range
            return
        body = send_range(self, path)
        if cut:
            body = body[: len(body) // 2]
        self.counter.add("GET", self.path, len(body))  # before the client can have it all
        self.wfile.write(body)
        if cut:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)


class HTTP:
    def __init__(self, root: str, counter: Counter) -> None:
        self.root, self.counter = root, counter

    def url(self, path: str) -> str:
        return f"{self.root}/{path}"


def _serve(directory: Path, ranges: bool) -> Iterator[HTTP]:
    counter = Counter()

    class Bound(Handler):
        pass

    Bound.ranges, Bound.counter = ranges, counter

    def handler(*args: Any, **kw: Any) -> Handler:
        return Bound(*args, directory=str(directory), **kw)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HTTP(f"http://127.0.0.1:{server.server_address[1]}", counter)
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def http_ranged() -> Iterator[HTTP]:
    yield from _serve(DATA, ranges=True)


@pytest.fixture
def http_plain() -> Iterator[HTTP]:
    """Python's own http.server: it ignores Range and always sends the whole file."""
    yield from _serve(DATA, ranges=False)


@pytest.fixture
def serve() -> Iterator[Callable[[Path], HTTP]]:
    """Serve a test's own directory (Range honoured)."""
    running: list[Iterator[HTTP]] = []

    def start(directory: Path) -> HTTP:
        gen = _serve(directory, ranges=True)
        running.append(gen)
        return next(gen)

    yield start
    for gen in running:
        next(gen, None)
