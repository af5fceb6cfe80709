"""A ``checkpoint`` state file's entries resolve within the store that holds it: a local file
naming a URL, or a remote one naming a local path or another bucket, is never followed there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ckptviz
from tests.conftest import DATA
from tests.storage.conftest import HTTP, S3


def _state(path: str) -> str:
    return f'model_checkpoint_path: "{path}"\nall_model_checkpoint_paths: "{path}"\n'


def test_local_state_file_naming_a_url_is_not_followed(tmp_path: Path, http_ranged: HTTP) -> None:
    url = http_ranged.url("guide_legacy_adam/ckpt-4")
    (tmp_path / "checkpoint").write_text(_state(url))
    http_ranged.counter.clear()
    with pytest.raises(ckptviz.CheckpointNotFoundError, match="names 'ckpt-4', which is gone"):
        ckptviz.open(str(tmp_path))
    assert ckptviz.latest_checkpoint(str(tmp_path)) is None
    with pytest.raises(ckptviz.CheckpointNotFoundError):
        ckptviz.timeline(str(tmp_path))
    assert http_ranged.counter.seen == []  # nothing was fetched
    for f in (DATA / "guide_legacy_adam").glob("ckpt-4.*"):  # the same name here is what it means
        shutil.copy(f, tmp_path)
    assert ckptviz.open(str(tmp_path)).path == str(tmp_path / "ckpt-4")
    assert ckptviz.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == str(tmp_path / "ckpt-4")
    assert http_ranged.counter.seen == []


def test_remote_state_file_naming_a_local_path_is_not_followed(s3: S3, tmp_path: Path) -> None:
    local = str(DATA / "guide_legacy_adam" / "ckpt-4")  # exists here, and must not be opened
    run = s3.url("crossing/run")
    fs = s3.filesystem()
    fs.pipe_file("ckpts/crossing/run/checkpoint", _state(local).encode())
    with pytest.raises(ckptviz.CheckpointNotFoundError, match="names 'ckpt-4', which is gone"):
        ckptviz.open(run, storage_options=s3.options)
    assert ckptviz.latest_checkpoint(run, storage_options=s3.options) is None
    # another bucket: re-rooted into this one, the state file's store
    fs.pipe_file("ckpts/crossing/run/checkpoint", _state("s3://another-bucket/run/ckpt-4").encode())
    s3.put(DATA / "guide_legacy_adam" / "ckpt-4.index", "crossing/run/ckpt-4.index")
    s3.put(
        DATA / "guide_legacy_adam" / "ckpt-4.data-00000-of-00001", "crossing/run/ckpt-4.data-00000-of-00001"
    )
    assert ckptviz.open(run, storage_options=s3.options).path == f"{run}/ckpt-4"


def test_same_store_absolute_entries_are_followed(s3: S3) -> None:
    s3.filesystem().pipe_file(
        "ckpts/pointing/checkpoint", _state(s3.url("guide_legacy_adam/ckpt-3")).encode()
    )
    opened = ckptviz.open(s3.url("pointing"), storage_options=s3.options)
    assert opened.path == s3.url("guide_legacy_adam/ckpt-3")


def test_http_directory_url_finds_its_state_file(serve: object, tmp_path: Path) -> None:
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path / "run")
    server = serve(tmp_path)  # type: ignore[operator]
    assert ckptviz.open(server.url("run")).path == server.url("run/ckpt-4")
