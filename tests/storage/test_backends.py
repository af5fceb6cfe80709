"""One suite, every store: local disk, fsspec's memory, an S3 API server and HTTP servers with
and without Range support answer the same reads, verifies, diffs, timelines, checks and exports."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest

import ckptviz
from ckptviz.errors import CheckpointWarning
from tests.conftest import DATA
from tests.storage.conftest import COPIED, HTTP, S3

Where = Callable[[str], tuple[str, dict[str, Any]]]


@pytest.fixture(params=["local", "memory", "s3", "http", "http-no-range"])
def where(request: pytest.FixtureRequest) -> Iterator[Where]:
    """``where("guide_legacy_adam/ckpt-4")``: that fixture's path on the store, and its options."""
    kind = request.param
    if kind == "local":
        yield lambda rel: (str(DATA / rel), {})
    elif kind == "memory":
        fs = fsspec.filesystem("memory")
        for name in COPIED:
            for f in (DATA / name).iterdir():
                fs.pipe(f"/stores/{name}/{f.name}", f.read_bytes())
        yield lambda rel: (f"memory://stores/{rel}", {})
        fs.rm("/stores", recursive=True)
    elif kind == "s3":
        s3: S3 = request.getfixturevalue("s3")
        yield lambda rel: (s3.url(rel), s3.options)
    else:
        server: HTTP = request.getfixturevalue("http_ranged" if kind == "http" else "http_plain")
        with warnings.catch_warnings():  # the server without Range says so once per file
            warnings.simplefilter("ignore", CheckpointWarning)
            yield lambda rel: (server.url(rel), {})


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == object or b.dtype == object:
        return a.shape == b.shape and all(str(x) == str(y) for x, y in zip(a.reshape(-1), b.reshape(-1)))
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize(
    "rel",
    [
        "guide_legacy_adam",  # a directory: its latest checkpoint
        "guide_legacy_adam/ckpt-3",
        "guide_legacy_adam/ckpt-3.index",
        "multi_shard/model.ckpt",
        "v1_format/model.ckpt",
        "keras3_files/model.weights.h5",
        "keras3_files/model.keras",
        "dtypes/all",
    ],
)
def test_every_tensor_reads_as_on_disk(where: Where, rel: str) -> None:
    path, options = where(rel)
    local = ckptviz.open(str(DATA / rel))
    with ckptviz.open(path, storage_options=options) as remote:
        assert remote.format == local.format and list(remote.entries) == list(local.entries)
        assert remote.path.endswith(local.path.removeprefix(str(DATA)).replace("\\", "/"))
        for key in local.entries:
            if local.entries[key].dtype.name in ("resource",):
                continue
            assert _same(remote.read(key), local.read(key)), key


def test_load_checkpoint_and_latest(where: Where) -> None:
    path, options = where("guide_legacy_adam")
    reader = ckptviz.load_checkpoint(path, storage_options=options)
    local = ckptviz.load_checkpoint(str(DATA / "guide_legacy_adam"))
    assert reader.get_variable_to_shape_map() == local.get_variable_to_shape_map()
    latest = ckptviz.latest_checkpoint(path, storage_options=options)
    assert latest is not None and latest.endswith("guide_legacy_adam/ckpt-4")
    assert ckptviz.list_variables(path, storage_options=options) == ckptviz.list_variables(
        str(DATA / "guide_legacy_adam")
    )


def test_verify(where: Where) -> None:
    from ckptviz.model.verify import verify

    path, options = where("multi_shard/model.ckpt")
    report = verify(path, storage_options=options)
    assert report.ok, str(report)
    assert report.tensors == len(ckptviz.open(str(DATA / "multi_shard/model.ckpt")))


def test_diff(where: Where) -> None:
    a, options = where("guide_legacy_adam/ckpt-3")
    b, _ = where("guide_legacy_adam/ckpt-4")
    remote = ckptviz.diff(a, b, storage_options=options)
    local = ckptviz.diff(DATA / "guide_legacy_adam/ckpt-3", DATA / "guide_legacy_adam/ckpt-4")
    assert remote.counts == local.counts
    assert [(r.key, r.status, r.delta) for r in remote.rows] == [
        (r.key, r.status, r.delta) for r in local.rows
    ]


def test_timeline(where: Where) -> None:
    run, options = where("training_run")
    remote = ckptviz.timeline(run, storage_options=options)
    local = ckptviz.timeline(str(DATA / "training_run"))
    assert [s.step for s in remote.steps] == [s.step for s in local.steps]
    assert remote.stats == local.stats and remote.edges == local.edges
    assert "storage_options" not in remote.to_dict()["options"]


def test_check_against_numpy_objects(where: Where) -> None:
    path, options = where("guide_legacy_adam/ckpt-4")
    tree = {"net": {"l1": {"bias": np.zeros(5, np.float32), "kernel": np.zeros((2, 5), np.float32)}}}
    remote = ckptviz.check(ckptviz.open(path, storage_options=options), tree)
    local = ckptviz.check(str(DATA / "guide_legacy_adam/ckpt-4"), tree)
    assert [r.path for r in remote.matched] == [r.path for r in local.matched] == ["net/l1/bias"]
    assert [r.path for r in remote.mismatched] == ["net/l1/kernel"]
    assert remote.by_node == local.by_node


def test_export_graph(where: Where, tmp_path: Path) -> None:
    path, options = where("guide_legacy_adam/ckpt-4")
    out = ckptviz.export_graph(ckptviz.open(path, storage_options=options), tmp_path / "graph.dot")
    local = ckptviz.export_graph(str(DATA / "guide_legacy_adam/ckpt-4"), tmp_path / "local.dot")
    assert Path(out).read_text() == Path(local).read_text()


def test_timeline_cache_of_a_remote_run(s3: S3, tmp_path: Path) -> None:
    run = s3.url("training_run")
    with pytest.warns(
        CheckpointWarning, match=r"no cache file is written beside the remote run s3://ckpts/training_run"
    ):
        first = ckptviz.timeline(run, cache=True, storage_options=s3.options)
    cache = tmp_path / "timeline.json"
    second = ckptviz.timeline(run, cache=str(cache), storage_options=s3.options)
    assert cache.exists() and second.stats == first.stats
    assert not s3.filesystem().exists(f"{run}/.ckptviz-timeline.json")


def _cli_options(options: dict[str, Any], parent: str = "") -> list[str]:
    out = []
    for key, value in options.items():
        if isinstance(value, dict):
            out += _cli_options(value, f"{parent}{key}.")
        else:
            out.append(
                f"--storage-option={parent}{key}={json.dumps(value) if not isinstance(value, str) else value}"
            )
    return out


def test_cli_reads_with_storage_options(where: Where, capsys: pytest.CaptureFixture[str]) -> None:
    from ckptviz.cli import main

    path, options = where("guide_legacy_adam/ckpt-4")
    assert main(["ls", path, "--json", *_cli_options(options)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(r["key"] for r in listed) == sorted(
        ckptviz.open(str(DATA / "guide_legacy_adam/ckpt-4")).entries
    )
