"""Remote checkpoints through fsspec: the memory filesystem and a local HTTP server."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from typing import ClassVar

import fsspec
import numpy as np
import pytest

import ckptviz
from tests.conftest import DATA
from tests.ranged_http import send_range

KERNEL = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.fixture
def memory_copy() -> Iterator[str]:
    fs = fsspec.filesystem("memory")
    for f in (DATA / "guide_legacy_adam").iterdir():
        fs.pipe(f"/guide/{f.name}", f.read_bytes())
    yield "memory://guide"
    fs.rm("/guide", recursive=True)


def test_memory_filesystem_reads_like_local(memory_copy: str) -> None:
    local = ckptviz.load_checkpoint(str(DATA / "guide_legacy_adam"))
    remote = ckptviz.load_checkpoint(memory_copy)  # a directory: the latest checkpoint
    assert remote.checkpoint.path == "memory://guide/ckpt-4"
    assert remote.get_variable_to_shape_map() == local.get_variable_to_shape_map()
    assert np.array_equal(remote.get_tensor(KERNEL), local.get_tensor(KERNEL))
    assert ckptviz.latest_checkpoint(memory_copy) == "memory://guide/ckpt-4"


def test_missing_remote_checkpoint(memory_copy: str) -> None:
    with pytest.raises(ckptviz.CheckpointNotFoundError, match="prefixes in memory://guide: 'ckpt-2'"):
        ckptviz.open(memory_copy + "/ckpt-1")


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with HTTP Range support, counting the bytes sent."""

    sent: ClassVar[list[int]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        body = send_range(self, path)
        self.wfile.write(body)
        RangeHandler.sent.append(len(body))


@pytest.fixture
def http_root() -> Iterator[str]:
    def handler(*args: object, **kw: object) -> RangeHandler:
        return RangeHandler(*args, directory=str(DATA), **kw)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    RangeHandler.sent.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_reads_only_the_ranges_it_needs(http_root: str) -> None:
    prefix = DATA / "many_keys" / "many"
    reader = ckptviz.load_checkpoint(f"{http_root}/many_keys/many")
    key = sorted(reader.get_variable_to_shape_map())[10]
    local = ckptviz.load_checkpoint(str(prefix))
    RangeHandler.sent.clear()
    assert np.array_equal(reader.get_tensor(key), local.get_tensor(key))
    data_size = sum(f.stat().st_size for f in prefix.parent.glob("many.data-*"))
    assert sum(RangeHandler.sent) <= 64 < data_size  # one small tensor, not the data file


def test_http_missing_file(http_root: str) -> None:
    with pytest.raises(ckptviz.CheckpointNotFoundError):
        ckptviz.open(f"{http_root}/nothing/here")
