"""A store that fails says so as a ckptviz error naming the URL, never a raw aiohttp or botocore
exception, and never shows credentials (URL user info, ``storage_options``)."""

from __future__ import annotations

import logging
import socket

import pytest

import ckptviz
from ckptviz.cli import main
from tests.storage.conftest import HTTP, S3, SECRET


def test_http_500_names_the_url(http_ranged: HTTP) -> None:
    url = http_ranged.url("fail500/guide_legacy_adam/ckpt-4")
    with pytest.raises(ckptviz.RemoteStorageError) as e:
        ckptviz.open(url)
    assert str(e.value) == f"cannot look up {url}: HTTP 500 the store broke"
    assert isinstance(e.value, OSError) and isinstance(e.value, ckptviz.CheckpointError)


def test_http_500_on_a_data_file(http_ranged: HTTP) -> None:
    index = http_ranged.url("fail500/guide_legacy_adam/ckpt-4.index")
    with pytest.raises(ckptviz.RemoteStorageError, match=rf"^cannot read {index}: HTTP 500 the store broke$"):
        ckptviz.open(index)


def test_connection_cut_mid_body(http_ranged: HTTP) -> None:
    url = http_ranged.url("cut/guide_legacy_adam/ckpt-4")
    with pytest.raises(ckptviz.RemoteStorageError, match=rf"^cannot read {url}\.index: "):
        ckptviz.open(url)


def test_connection_refused() -> None:
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/run/ckpt-4"
    with pytest.raises(
        ckptviz.RemoteStorageError, match=rf"^cannot look up http://127\.0\.0\.1:{port}/run/ckpt-4"
    ):
        ckptviz.open(url)


def test_cli_says_one_line(http_ranged: HTTP, capsys: pytest.CaptureFixture[str]) -> None:
    url = http_ranged.url("fail500/guide_legacy_adam/ckpt-4")
    assert main(["ls", url]) == 2
    err = capsys.readouterr().err
    assert err == f"ckptviz: cannot look up {url}: HTTP 500 the store broke\n"


def test_url_credentials_are_not_shown(http_ranged: HTTP) -> None:
    url = http_ranged.url("fail500/guide_legacy_adam/ckpt-4").replace("http://", f"http://user:{SECRET}@")
    with pytest.raises(ckptviz.CheckpointError) as e:
        ckptviz.open(url + "?X-Amz-Signature=" + SECRET)
    assert SECRET not in str(e.value) and "user" not in str(e.value)


def test_storage_options_are_never_shown_or_logged(
    s3: S3, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG):
        ckpt = ckptviz.open(s3.url("guide_legacy_adam"), storage_options=s3.options)
        shown = [
            repr(ckpt),
            ckpt._repr_html_(),
            repr(ckptviz.timeline(s3.url("training_run"), storage_options=s3.options).to_dict()),
        ]
        with pytest.raises(ckptviz.CheckpointNotFoundError) as e:
            ckptviz.open(s3.url("guide_legacy_adam/ckpt-99"), storage_options=s3.options)
        shown.append(str(e.value))
        options = [f"--storage-option={k}={v}" for k, v in s3.options.items() if k != "client_kwargs"]
        assert (
            main(
                [
                    "ls",
                    s3.url("nothing/here"),
                    *options,
                    "--storage-option=client_kwargs.region_name=us-east-1",
                ]
            )
            == 2
        )
    out = capsys.readouterr()
    assert "no checkpoint index s3://ckpts/nothing/here.index" in out.err
    for text in [*shown, caplog.text, out.out, out.err]:
        assert SECRET not in text


def test_unknown_scheme() -> None:
    with pytest.raises(ckptviz.UnsupportedCheckpointError, match="no filesystem knows nosuchprotocol-xyz://"):
        ckptviz.open("nosuchprotocol-xyz://bucket/ckpt")
