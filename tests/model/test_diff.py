"""ckptviz.diff against numpy on TensorFlow-written fixtures (values.json is TF's own reading)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import ckptviz
from ckptviz.model.diff import diff
from tests.conftest import DATA, expected_value

RUN = DATA / "training_run"
KERNEL = "model/hidden/_kernel/.ATTRIBUTES/VARIABLE_VALUE"
FROZEN = "model/frozen/_kernel/.ATTRIBUTES/VARIABLE_VALUE"


def tf_values(prefix: str) -> dict[str, np.ndarray]:
    """What TensorFlow's reader returned for every float key of training_run/<prefix>."""
    recorded = json.loads((RUN / "values.json").read_text())[prefix]
    return {k: expected_value(v) for k, v in recorded.items()}


def numpy_metrics(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    d = y - x
    na, nb, nd = np.linalg.norm(x), np.linalg.norm(y), np.linalg.norm(d)
    return {
        "max_abs_diff": float(np.abs(d).max()),
        "mean_abs_diff": float(np.abs(d).mean()),
        "rms_diff": float(np.sqrt(np.mean(d * d))),
        # from zero: 0 if still zero, else infinite (ckptviz's convention)
        "relative_change": float(nd / na) if na else (0.0 if nd == 0 else math.inf),
        "cosine": float(x @ y / (na * nb)) if na and nb else math.nan,
        "changed": int(np.count_nonzero(a.ravel() != b.ravel())),
    }


def test_two_steps_of_a_run_match_numpy_on_tensorflows_values() -> None:
    a, b = tf_values("ckpt-2"), tf_values("ckpt-4")
    result = diff(RUN / "ckpt-2", RUN / "ckpt-4")
    assert result.counts["added"] == result.counts["removed"] == 0
    for key in a:
        row = result[key]
        want = numpy_metrics(a[key], b[key])
        assert row.status == ("changed" if want["changed"] else "unchanged"), key
        assert row.delta is not None
        assert row.delta.changed == want["changed"], key
        for metric in ("max_abs_diff", "mean_abs_diff", "rms_diff", "relative_change", "cosine"):
            got = getattr(row.delta, metric)
            if math.isnan(want[metric]):
                assert got is None or math.isnan(got)
            else:
                assert got == pytest.approx(want[metric], rel=1e-6, abs=1e-12), (key, metric)
    assert result[FROZEN].status == "unchanged"
    assert result[KERNEL].status == "changed"


def test_rollups_flag_the_frozen_layer_and_sum_like_numpy() -> None:
    a, b = tf_values("ckpt-2"), tf_values("ckpt-12")
    result = diff(RUN / "ckpt-2", RUN / "ckpt-12")
    by_path = {r.path: r for r in result.rollups}
    assert by_path["model/frozen"].frozen and by_path["model/frozen"].status == "unchanged"
    hidden = by_path["model/hidden"]
    assert not hidden.frozen and hidden.status == "changed"
    keys = [k for k in a if k.startswith("model/hidden/")]
    d2 = sum(float(np.sum((b[k].astype(np.float64) - a[k]) ** 2)) for k in keys)
    n2 = sum(float(np.sum(a[k].astype(np.float64) ** 2)) for k in keys)
    assert hidden.relative_change == pytest.approx(math.sqrt(d2 / n2), rel=1e-6)
    assert hidden.params == sum(a[k].size for k in keys)
    assert hidden.changed_params == sum(int(np.count_nonzero(a[k] != b[k])) for k in keys)
    # Adam's slots count under the optimizer, not under the layer whose variable they follow
    # ... and the 4 trainable weights it tracks count there too, said to be shared with the model
    assert by_path["optimizer"].keys == 2 + 8 + 4  # iterations, learning rate, 2 slots × 4 variables
    trainable = sum(
        by_path[f"model/{layer}/{v}"].params for layer in ("hidden", "head") for v in ("kernel", "bias")
    )
    assert by_path["optimizer"].shared_params == trainable
    root, model = by_path[""], by_path["model"]
    rest = by_path["global_step"].params + by_path["save_counter"].params
    assert root.params == model.params + by_path["optimizer"].params - trainable + rest  # each key once
    assert model.params == sum(a[k].size for k in a if k.startswith("model/"))
    assert "model/frozen" in result.summary()
    assert [r.path for r in result.exploded()] == [p for p, r in by_path.items() if r.exploded]


def test_guide_steps_pair_every_key_and_show_changed_leaves() -> None:
    result = diff(DATA / "guide_legacy_adam/ckpt-3", DATA / "guide_legacy_adam/ckpt-4")
    assert result.counts["added"] == result.counts["removed"] == 0
    assert result["optimizer/beta_1/.ATTRIBUTES/VARIABLE_VALUE"].status == "unchanged"
    assert result["step/.ATTRIBUTES/VARIABLE_VALUE"].delta.max_abs_diff == 2  # type: ignore[union-attr]
    tree = result.tree()
    assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE:\n  - a: float32[1,5] norm " in tree
    assert "\n  + b: float32[1,5] norm " in tree and "optimizer/beta_1" not in tree
    assert not result.equal


def test_keras3_against_tf_keras_lists_what_has_no_partner_and_why() -> None:
    result = diff(DATA / "guide_legacy_adam/ckpt-4", DATA / "guide_keras3/ckpt-1")
    removed = result["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert removed.status == "removed" and removed.key_b is None
    assert "b has no key 'net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE'" in removed.reason
    assert "'net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE'" in removed.reason
    added = result["net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert added.status == "added" and added.reason
    assert result["net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"].status == "changed"
    assert all(r.reason for r in result.rows if r.status in ("added", "removed"))


def test_tf1_checkpoint_against_its_tf2_conversion_pairs_every_key(tmp_path: Path) -> None:
    tf1 = str(DATA / "tf1_saver/model.ckpt-2")
    tf2 = ckptviz.convert(tf1, str(tmp_path / "tf2"), to="tf2")
    result = diff(tf1, tf2, match="full_name")
    keys = [k for k in ckptviz.open(tf1).entries]
    assert {r.key_a for r in result.rows if r.key_a and r.key_b} == set(keys)
    assert all(r.status == "unchanged" for r in result.rows if r.key_a is not None)
    # the conversion adds what tf.train.Checkpoint.save() adds: a save counter
    assert [r.key_b for r in result.rows if r.status == "added"] == [
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE"
    ]
    by_key = diff(tf1, tf2)
    assert by_key.counts["removed"] == len(keys)


def test_renamed_checkpoint_diffs_clean_through_its_map(tmp_path: Path) -> None:
    src = DATA / "guide_legacy_adam/ckpt-4"
    renamed = ckptviz.open(str(src)).rename({"net/": "model/"}).save(str(tmp_path / "renamed"))
    result = diff(src, renamed, assignment_map={"net/": "model/"})
    assert result.equal and result.counts["unchanged"] == len(result.rows) == 14
    assert (
        result["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"].key_b
        == "model/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    )
    without = diff(src, renamed)
    assert (
        "b has no key 'net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE'"
        in without["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"].reason
    )


def test_a_map_entry_that_matches_nothing_raises() -> None:
    src = DATA / "guide_legacy_adam/ckpt-4"
    with pytest.raises(ValueError, match="assignment map entries that match nothing: 'nett/' in a"):
        diff(src, src, assignment_map={"nett/": "model/", "net/": "net/"})


def test_object_paths_pair_a_path_keyed_tf1_conversion(tmp_path: Path) -> None:
    src = str(DATA / "guide_legacy_adam/ckpt-4")
    with pytest.warns(ckptviz.DroppedKeysWarning):  # the iterator has no TF1 form
        tf1 = ckptviz.convert(src, str(tmp_path / "tf1"), to="tf1", naming="path")
    result = diff(src, tf1, match="path")
    assert result["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"].key_b == "net/l1/kernel"
    assert all(r.status == "unchanged" for r in result.rows if r.key_b is not None)


@pytest.mark.parametrize("name", ["sliced_tf1/model.ckpt", "sliced_policy/ckpt", "multi_shard/model.ckpt"])
def test_sliced_and_multi_shard_checkpoints_equal_themselves(name: str) -> None:
    result = diff(DATA / name, DATA / name)
    assert result.equal and all(r.delta is not None and r.delta.changed == 0 for r in result.rows)


def test_sliced_tensor_is_compared_slice_by_slice(tmp_path: Path) -> None:
    src = DATA / "sliced_policy/ckpt"
    ckpt = ckptviz.open(str(src))
    sliced = [k for k, e in ckpt.entries.items() if e.slices]
    assert sliced
    values = {k: ckpt.read(k) for k in ckpt.entries if k != "_CHECKPOINTABLE_OBJECT_GRAPH"}
    changed = dict(values)
    changed[sliced[0]] = values[sliced[0]] + 1
    other = ckptviz.write_checkpoint(tmp_path / "flat", changed)  # stored whole: no slices
    result = diff(src, other)
    row = result[sliced[0]]
    assert row.status == "changed" and row.delta.changed == values[sliced[0]].size  # type: ignore[union-attr]
    assert row.delta.max_abs_diff == 1  # type: ignore[union-attr]
    assert all(result[k].status == "unchanged" for k in values if k != sliced[0])


def test_strings_and_non_float_dtypes_compare_element_wise(tmp_path: Path) -> None:
    src = DATA / "dtypes/all"
    ckpt = ckptviz.open(str(src))
    values = {k: ckpt.read(k) for k in ckpt.entries}
    dtypes = {k: e.dtype.name for k, e in ckpt.entries.items()}
    strings = next(
        k for k, e in ckpt.entries.items() if e.dtype.name == "string" and e.shape and e.shape[0] > 1
    )
    ints = next(k for k, e in ckpt.entries.items() if e.dtype.name == "int32" and e.num_elements > 1)
    bf16 = next(k for k, e in ckpt.entries.items() if e.dtype.name == "bfloat16" and e.num_elements > 1)
    changed = dict(values)
    s = values[strings].copy()
    s.reshape(-1)[0] = s.reshape(-1)[0] + b"!"
    changed[strings] = s
    changed[ints] = values[ints].copy()
    changed[ints].reshape(-1)[-1] += 7
    changed[bf16] = (values[bf16].astype(np.float32) * 2).astype(values[bf16].dtype)
    other = ckptviz.write_checkpoint(tmp_path / "other", changed, dtypes=dtypes)
    result = diff(src, other)
    assert result[strings].status == "changed" and result[strings].delta.changed == 1  # type: ignore[union-attr]
    assert result[ints].delta.changed == 1 and result[ints].delta.max_abs_diff == 7  # type: ignore[union-attr]
    a64 = values[bf16].astype(np.float64)
    want = numpy_metrics(values[bf16], changed[bf16])
    assert result[bf16].delta.relative_change == pytest.approx(  # type: ignore[union-attr]
        np.linalg.norm(changed[bf16].astype(np.float64) - a64) / np.linalg.norm(a64), rel=1e-6
    )
    assert result[bf16].delta.changed == want["changed"]  # type: ignore[union-attr]
    assert {r.key for r in result.rows if r.status == "changed"} == {strings, ints, bf16}


def test_dtype_and_shape_changes_are_flagged(tmp_path: Path) -> None:
    a = ckptviz.write_checkpoint(tmp_path / "a", {"w": np.zeros(3, np.float32), "v": np.zeros(3, np.float32)})
    b = ckptviz.write_checkpoint(tmp_path / "b", {"w": np.zeros(3, np.float64), "v": np.zeros(4, np.float32)})
    result = diff(a, b)
    assert result["w"].status == "changed" and result["w"].dtype_changed and not result["w"].shape_changed
    assert result["v"].shape_changed and result["v"].delta is None
    assert result.to_dict()["rows"][0]["shape_b"] == [4]


def test_nan_and_inf_appearing(tmp_path: Path) -> None:
    a = ckptviz.write_checkpoint(tmp_path / "a", {"w": np.array([1, 2, 3, 4], np.float32)})
    b = ckptviz.write_checkpoint(tmp_path / "b", {"w": np.array([1, np.nan, np.inf, 5], np.float32)})
    row = diff(a, b)["w"]
    d = row.delta
    assert d is not None and (d.nan_a, d.nan_b, d.inf_a, d.inf_b) == (0, 1, 0, 1)
    assert row.nonfinite == "appeared" and d.changed == 3
    assert d.max_abs_diff == 1 and d.mean_abs_diff == 0.5  # over positions finite on both sides
    back = diff(b, a)["w"]
    assert back.nonfinite == "disappeared"
    assert diff(b, b)["w"].status == "unchanged"  # the same NaN bits are not a change
    rollup = diff(a, b).rollups[0]
    assert rollup.exploded
    assert json.dumps(diff(a, b).to_dict(), allow_nan=False)


def test_tolerances_count_like_numpy_isclose(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000).astype(np.float32)
    y = x + rng.standard_normal(1000).astype(np.float32) * 1e-3
    a = ckptviz.write_checkpoint(tmp_path / "a", {"w": x})
    b = ckptviz.write_checkpoint(tmp_path / "b", {"w": y})
    row = diff(a, b, atol=1e-3, rtol=1e-3)["w"]
    want = int(
        np.count_nonzero(np.abs(y.astype(np.float64) - x) > 1e-3 + 1e-3 * np.abs(x.astype(np.float64)))
    )
    assert row.delta.changed == want and 0 < want < 1000  # type: ignore[union-attr]
    assert diff(a, b, atol=1.0)["w"].status == "unchanged"
    with pytest.raises(ValueError, match="atol and rtol must be >= 0"):
        diff(a, b, atol=-1)


def test_big_tensors_in_chunks_with_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    rng = np.random.default_rng(1)
    n = 4_000_000  # 16 MB per side: dozens of chunks, memory-mapped
    x = rng.standard_normal(n, dtype=np.float32)
    y = x.copy()
    y[::3] += 0.5
    a = ckptviz.write_checkpoint(tmp_path / "a", {"big": x, "same": x[:300_000]})
    b = ckptviz.write_checkpoint(tmp_path / "b", {"big": y, "same": x[:300_000]})
    del y
    diff(a, b, workers=2)  # numba and the compiled loops load once per process: not the diff's memory
    tracemalloc.start()
    result = diff(a, b, workers=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB for 2 × 16 MB tensors"
    got = result["big"].delta
    yy = ckptviz.open(b).read("big")
    want = numpy_metrics(x, yy)
    assert got is not None and got.changed == want["changed"] == len(range(0, n, 3))
    for metric in ("max_abs_diff", "mean_abs_diff", "rms_diff", "relative_change", "cosine"):
        assert getattr(got, metric) == pytest.approx(want[metric], rel=1e-6), metric
    assert result["same"].status == "unchanged"


def test_effective_rank_of_low_rank_deltas(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    small = rng.standard_normal((40, 30)).astype(np.float32)
    u, v = rng.standard_normal((3000, 1)), rng.standard_normal((1, 1500))
    big = rng.standard_normal((3000, 1500)).astype(np.float32)  # 4.5M elements: sketched
    delta_small = rng.standard_normal((40, 2)) @ rng.standard_normal((2, 30))
    a = ckptviz.write_checkpoint(tmp_path / "a", {"small": small, "big": big})
    b = ckptviz.write_checkpoint(
        tmp_path / "b",
        {"small": (small + delta_small).astype(np.float32), "big": (big + u @ v).astype(np.float32)},
    )
    result = diff(a, b, rank=True)
    d = ckptviz.open(b).read("small").astype(np.float64) - small
    s = np.linalg.svd(d, compute_uv=False)
    p = s / s.sum()
    assert result["small"].delta.rank == pytest.approx(math.exp(-np.sum(p * np.log(p))), rel=1e-6)  # type: ignore[union-attr]
    assert result["big"].delta.rank == pytest.approx(1.0, abs=0.05)  # type: ignore[union-attr]
    assert diff(a, b)["big"].delta.rank is None  # type: ignore[union-attr]


def test_fast_trusts_equal_checksums_and_progress_reports(tmp_path: Path) -> None:
    src = DATA / "guide_legacy_adam/ckpt-4"
    calls: list[tuple[int, int]] = []
    result = diff(src, src, fast=True, progress=lambda done, total: calls.append((done, total)))
    assert result.equal and all(r.fast for r in result.rows if r.delta is not None)
    assert calls and calls[-1][0] == calls[-1][1] > 0
    assert not any(r.fast for r in diff(src, src).rows)


def test_faces_get_json_ready_records_and_a_frame() -> None:
    result = diff(DATA / "guide_legacy_adam/ckpt-2", DATA / "guide_legacy_adam/ckpt-4")
    record = result.to_dict()
    text = json.dumps(record, allow_nan=False)
    assert record["counts"] == result.counts and "rollups" in record
    row = next(r for r in record["rows"] if r["key"] == "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    assert row["shape_a"] == [1, 5] and isinstance(row["relative_change"], float)
    assert "NaN" not in text
    frame = result.to_pandas()
    assert frame.index.name == "key" and len(frame) == len(result.rows)
    assert frame.loc["optimizer/beta_1/.ATTRIBUTES/VARIABLE_VALUE", "status"] == "unchanged"
    assert result.rollup_frame().loc["net/l1", "status"] == "changed"


def test_graph_is_painted_by_status_and_intensity() -> None:
    result = diff(DATA / "guide_legacy_adam/ckpt-3", DATA / "guide_legacy_adam/ckpt-4")
    dot = result.graph.to_dot(max_nodes=50)
    assert 'class="variable diff-unchanged"' in dot and 'class="variable diff-changed"' in dot
    assert 'id="ckpt_legend_diff_changed"' in dot and "diff ckpt-3 → ckpt-4" in dot
    focused = result.graph.to_dot(focus="net")
    assert "beta_1" not in focused and "kernel" in focused


def test_small_tensors_read_in_spans_still_verify_checksums(data_copy) -> None:  # type: ignore[no-untyped-def]
    copy = data_copy("guide_legacy_adam")
    key = "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"
    entry = ckptviz.open(str(copy / "ckpt-4")).entries[key]
    data = copy / "ckpt-4.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[entry.offset] ^= 0x40
    data.write_bytes(bytes(raw))
    with pytest.raises(ckptviz.ChecksumMismatchError, match=f"checksum mismatch for '{key}'"):
        diff(DATA / "guide_legacy_adam/ckpt-4", copy / "ckpt-4")
    # verify=False means no checksum anywhere, the span reader's included: the flipped bit is a change
    result = diff(DATA / "guide_legacy_adam/ckpt-4", copy / "ckpt-4", verify=False)
    assert (
        result[key].status == "changed" and result[key].delta is not None and result[key].delta.changed == 1
    )


def test_equal_slicings_are_compared_slice_by_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    src = str(DATA / "sliced_policy/ckpt")
    a, b = ckptviz.open(src), ckptviz.open(src)
    sliced = {k for k, e in a.entries.items() if e.slices}
    real = ckptviz.Checkpoint.read

    def never_whole(self: ckptviz.Checkpoint, key: str) -> np.ndarray:
        assert key not in sliced, f"{key} was assembled whole"
        return real(self, key)

    monkeypatch.setattr(ckptviz.Checkpoint, "read", never_whole)
    result = diff(a, b)
    assert result.equal and all(result[k].delta is not None for k in sliced)


def test_nan_and_inf_count_as_changed_under_any_tolerance(tmp_path: Path) -> None:
    a = np.array([1.0, np.nan, np.inf, 2.0, np.nan, -np.inf], np.float32)
    b = np.array([1.5, 1.0, 5.0, 2.0, np.nan, -np.inf], np.float32)
    ckptviz.write_checkpoint(tmp_path / "a", {"w": a})
    ckptviz.write_checkpoint(tmp_path / "b", {"w": b})
    for atol, rtol in ((0.0, 0.0), (100.0, 0.0), (0.0, 10.0)):
        delta = diff(tmp_path / "a", tmp_path / "b", atol=atol, rtol=rtol)["w"].delta
        assert delta is not None
        # NaN -> 1 and Inf -> 5 always; 1 -> 1.5 only without a tolerance; equal NaN/Inf never
        assert delta.changed == (3 if atol == rtol == 0 else 2), (atol, rtol)


def test_fraction_changed_rolls_up_per_parameter_not_per_key(tmp_path: Path) -> None:
    kernel = np.zeros((10, 10), np.float32)
    bias = np.zeros(1, np.float32)
    ckptviz.write_checkpoint(tmp_path / "a", {"net/kernel": kernel, "net/bias": bias})
    kernel[0, 0] = bias[0] = 1.0
    ckptviz.write_checkpoint(tmp_path / "b", {"net/kernel": kernel, "net/bias": bias})
    result = diff(tmp_path / "a", tmp_path / "b")
    net = next(r for r in result.rollups if r.path == "net")
    assert (net.params, net.changed_params) == (101, 2) and net.fraction_changed == pytest.approx(2 / 101)
