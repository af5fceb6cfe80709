"""What a remote read costs: requests made and bytes received, counted by the servers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ckptviz
from ckptviz.errors import CheckpointWarning
from tests.conftest import DATA
from tests.storage.conftest import HTTP, S3


def test_listing_fetches_the_index_once(http_ranged: HTTP) -> None:
    ckptviz.list_variables(http_ranged.url("many_keys/many"))
    assert [s[1] for s in http_ranged.counter.gets(".index")] == ["/many_keys/many.index"]
    assert http_ranged.counter.gets(".data-00000-of-00001") == []
    assert len(http_ranged.counter.seen) <= 4  # HEAD and GET of the prefix (404), HEAD and GET of the index


def test_a_pass_over_every_key_is_a_few_requests(http_ranged: HTTP) -> None:
    reader = ckptviz.load_checkpoint(http_ranged.url("many_keys/many"))
    keys = list(reader.get_variable_to_shape_map())
    http_ranged.counter.clear()
    local = ckptviz.load_checkpoint(str(DATA / "many_keys/many"))
    for key in keys:  # in key order, which is not the data file's order here
        assert np.array_equal(reader.get_tensor(key), local.get_tensor(key))
    size = (DATA / "many_keys/many.data-00000-of-00001").stat().st_size
    assert len(http_ranged.counter.seen) <= 4 < len(keys)  # HEAD, two exact reads, then the whole file
    assert http_ranged.counter.sent <= 2 * size


def test_one_small_tensor_fetches_only_its_bytes(http_ranged: HTTP) -> None:
    reader = ckptviz.load_checkpoint(http_ranged.url("many_keys/many"))
    key = sorted(reader.get_variable_to_shape_map())[10]
    http_ranged.counter.clear()
    reader.get_tensor(key)
    assert [s[2] for s in http_ranged.counter.gets()] == [4]


def test_small_keras_file_is_fetched_once(http_ranged: HTTP) -> None:
    ckpt = ckptviz.open(http_ranged.url("keras3_files/model.weights.h5"))
    for key in ckpt.entries:
        ckpt.read(key)
    size = (DATA / "keras3_files/model.weights.h5").stat().st_size
    assert http_ranged.counter.sent <= size + 64


def test_read_many_merges_ranges_and_fetches_parts_concurrently(s3: S3) -> None:
    ckpt = ckptviz.open(s3.url("multi_shard/model.ckpt"), storage_options=s3.options)
    keys = list(ckpt.entries)
    s3.counter.clear()
    values = ckpt.read_many(keys)
    local = ckptviz.open(str(DATA / "multi_shard/model.ckpt"))
    assert all(np.array_equal(values[k], local.read(k)) for k in keys)
    data_gets = s3.counter.gets(".data-00000-of-00002") + s3.counter.gets(".data-00001-of-00002")
    assert len(data_gets) <= 2 * 2  # per data file: one probe of Range support, then one merged span
    assert all(values[k].flags.writeable for k in keys)


def test_server_ignoring_range_is_read_from_one_download(http_plain: HTTP) -> None:
    with pytest.warns(CheckpointWarning, match="the server ignores HTTP Range requests, so the whole file"):
        reader = ckptviz.load_checkpoint(http_plain.url("guide_legacy_adam/ckpt-4"))
        local = ckptviz.load_checkpoint(str(DATA / "guide_legacy_adam/ckpt-4"))
        for key in local.get_variable_to_shape_map():
            assert np.array_equal(reader.get_tensor(key), local.get_tensor(key))
    assert len(http_plain.counter.gets(".data-00000-of-00001")) == 1


def test_http_open_costs_few_requests(http_ranged: HTTP) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ckptviz.open(http_ranged.url("guide_legacy_adam/ckpt-4.index"))
    assert len(http_ranged.counter.seen) <= 2  # HEAD and GET of the index
