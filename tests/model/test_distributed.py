"""diff, timeline and per-tensor statistics as Dask tasks on a LocalCluster of two worker
processes, reading from the loopback S3 server: the same numbers as the single-process path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import ckptviz
from ckptviz.format import remote
from ckptviz.model.distributed import checkpoint_stats
from tests.conftest import DATA
from tests.storage.conftest import S3, s3, s3_server  # noqa: F401 - fixtures

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture
def client_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Data-file ranges read in this (the client's) process; workers are other processes."""
    seen: list[tuple[str, int, int]] = []
    real = remote.RemoteBlob.read_ranges

    def spy(self: remote.RemoteBlob, wanted: list[tuple[int, int]]) -> list[bytearray]:
        seen.extend((self.path, offset, n) for offset, n in wanted if ".data-" in self.path)
        return real(self, wanted)

    monkeypatch.setattr(remote.RemoteBlob, "read_ranges", spy)
    return seen


def _metadata_only(reads: list[tuple[str, int, int]], *prefixes: str) -> bool:
    """Every read is of an object graph or a step counter (the client builds roll-ups and steps)."""
    allowed = set()
    for prefix in prefixes:
        entries = ckptviz.open(str(DATA / prefix)).entries
        allowed |= {
            (e.offset, e.size)
            for k, e in entries.items()
            if k == "_CHECKPOINTABLE_OBJECT_GRAPH" or e.shape == ()
        }
    return all((offset, n) in allowed for _, offset, n in reads)


def test_diff_on_workers_equals_single_process(client: Any, s3: S3, client_reads: list[Any]) -> None:  # noqa: F811
    a, b = s3.url("guide_legacy_adam/ckpt-3"), s3.url("guide_legacy_adam/ckpt-4")
    on_workers = ckptviz.diff(a, b, storage_options=s3.options, client=client, rank=True)
    here = ckptviz.diff(DATA / "guide_legacy_adam/ckpt-3", DATA / "guide_legacy_adam/ckpt-4", rank=True)
    assert [(r.key, r.status, r.delta) for r in on_workers.rows] == [
        (r.key, r.status, r.delta) for r in here.rows
    ]
    assert on_workers.counts == here.counts
    assert _metadata_only(client_reads, "guide_legacy_adam/ckpt-3", "guide_legacy_adam/ckpt-4")


def test_diff_of_every_dtype_and_the_current_client(client: Any) -> None:
    path = str(DATA / "dtypes/all")
    with client.as_current():
        on_workers = ckptviz.diff(path, path, client=True)
    here = ckptviz.diff(path, path)
    assert [(r.key, r.status, r.delta) for r in on_workers.rows] == [
        (r.key, r.status, r.delta) for r in here.rows
    ]


def test_timeline_on_workers_equals_single_process(client: Any, s3: S3, client_reads: list[Any]) -> None:  # noqa: F811
    on_workers = ckptviz.timeline(
        s3.url("training_run"), variables="^model/", storage_options=s3.options, client=client
    )
    here = ckptviz.timeline(str(DATA / "training_run"), variables="^model/")
    assert sum(s.unchanged for s in here.steps) > 0  # the frozen layer: carried over on both paths
    assert [(s.step, s.unchanged, s.timestamp) for s in on_workers.steps] == [
        (s.step, s.unchanged, s.timestamp) for s in here.steps
    ]
    assert here.stats and on_workers.stats == here.stats and on_workers.edges == here.edges
    for key in here.stats:
        assert np.array_equal(on_workers.histogram(key)[2], here.histogram(key)[2])
    steps = [p.name.removesuffix(".index") for p in (DATA / "training_run").glob("*.index")]
    assert client_reads and _metadata_only(client_reads, *(f"training_run/{p}" for p in steps))
    assert "client" not in on_workers.to_dict()["options"]


def test_tensor_statistics_on_workers(client: Any, s3: S3) -> None:  # noqa: F811
    url = s3.url("multi_shard/model.ckpt")
    assert checkpoint_stats(url, client=client, storage_options=s3.options) == checkpoint_stats(
        str(DATA / "multi_shard/model.ckpt")
    )


def test_a_corrupt_range_fails_on_the_worker_with_the_reader_s_error(client: Any, tmp_path: Any) -> None:
    import shutil

    for f in (DATA / "guide_legacy_adam").glob("ckpt-4.*"):
        shutil.copy(f, tmp_path)
    key = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    entry = ckptviz.open(str(tmp_path / "ckpt-4")).entries[key]
    data = tmp_path / "ckpt-4.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[entry.offset] ^= 0x01
    data.write_bytes(bytes(raw))
    with pytest.raises(ckptviz.ChecksumMismatchError, match=f"checksum mismatch for '{key}'"):
        checkpoint_stats(str(tmp_path / "ckpt-4"), [key], client=client)
