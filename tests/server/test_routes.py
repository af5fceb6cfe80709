"""Payload shapes of every route, on checkpoints TensorFlow wrote."""

from __future__ import annotations

from pathlib import Path

import ckptviz


async def test_checkpoints_lists_prefixes_with_step_and_time(api) -> None:
    code, body = await api("checkpoints", path="guide_legacy_adam")
    assert code == 200
    names = [c["name"] for c in body["checkpoints"]]
    assert names == ["ckpt-2", "ckpt-3", "ckpt-4"]
    latest = body["checkpoints"][-1]
    assert latest["path"] == "guide_legacy_adam/ckpt-4"
    assert latest["format"] == "bundle" and latest["step"] == 4 and latest["latest"] is True
    assert latest["time"] > 1.6e9 and latest["size"] > 0
    assert body["state"]["latest"] == "guide_legacy_adam/ckpt-4"


async def test_checkpoints_finds_savedmodels_keras_and_v1_files(api, root: Path) -> None:
    code, body = await api("checkpoints", path="")
    assert code == 200
    formats = {c["name"]: c["format"] for c in body["checkpoints"]}
    assert formats == {"savedmodel": "savedmodel"}
    _, keras = await api("checkpoints", path="keras3_files")
    assert {c["name"]: c["format"] for c in keras["checkpoints"]} == {
        "model.keras": "keras",
        "model.weights.h5": "keras",
    }
    _, v1 = await api("checkpoints", path="v1_format")
    assert [(c["name"], c["format"]) for c in v1["checkpoints"]] == [("model.ckpt", "v1")]


async def test_entries_have_key_dtype_shape_bytes_and_node(api) -> None:
    code, body = await api("entries", path="guide_legacy_adam/ckpt-4")
    assert code == 200
    with ckptviz.open("tests/data/guide_legacy_adam/ckpt-4") as ck:
        want = sorted(k for k in ck.entries if k != "_CHECKPOINTABLE_OBJECT_GRAPH")
    assert [e["key"] for e in body["entries"]] == want
    assert body["total"] == len(want) and body["object_based"] is True
    kernel = next(e for e in body["entries"] if e["key"] == "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    with ckptviz.open("tests/data/guide_legacy_adam/ckpt-4") as ck:
        node_id = ck.graph.find("net/l1/kernel").id
    assert kernel == {
        "key": "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
        "name": "net/l1/kernel",
        "dtype": "float32",
        "shape": [1, 5],
        "nbytes": 20,
        "shard": 0,
        "node_id": node_id,
        "path": "net/l1/kernel",
        "kind": "variable",
    }


async def test_keras3_entries_and_graph_name_weights_where_they_belong(api) -> None:
    """The panel's tree is built from entry paths: a Keras 3 weight keyed under the optimizer sits
    in its layer there, named as Keras names it; the graph's nodes carry the same names."""
    _, body = await api("entries", path="keras3_models/functional/ckpt")
    kernel = next(
        e
        for e in body["entries"]
        if e["key"] == "optimizer/_trainable_variables/0/.ATTRIBUTES/VARIABLE_VALUE"
    )
    assert (kernel["path"], kernel["name"]) == ("model/hidden/kernel", "hidden/kernel")
    slot = next(e for e in body["entries"] if e["key"] == "optimizer/_variables/2/.ATTRIBUTES/VARIABLE_VALUE")
    assert slot["name"] == "momentum of hidden/kernel"
    code, plan = await api("graph", path="keras3_models/functional/ckpt", max_nodes="500", svg="0")
    assert code == 200, plan
    node = next(n for n in plan["nodes"] if n.get("key_path") == "optimizer/_trainable_variables/0")
    assert (node["path"], node["name"]) == ("model/hidden/kernel", "hidden/kernel")
    code, _ = await api("graph", path="keras3_models/functional/ckpt", focus="hidden")  # a layer's drawn name
    assert code == 200


async def test_entries_are_paged_and_filtered(api) -> None:
    _, first = await api("entries", path="many_keys/many", limit="10")
    _, second = await api("entries", path="many_keys/many", limit="10", offset="10")
    assert len(first["entries"]) == 10 and first["total"] > 20
    assert first["entries"][-1]["key"] < second["entries"][0]["key"]
    _, found = await api("entries", path="guide_legacy_adam/ckpt-4", match="L1/KERNEL")
    assert {e["kind"] for e in found["entries"]} == {"variable", "slot"}


async def test_entries_of_every_path_form(api) -> None:
    for path in [
        "guide_legacy_adam",
        "guide_legacy_adam/ckpt-4.index",
        "guide_legacy_adam/ckpt-4.data-00000-of-00001",
    ]:
        code, body = await api("entries", path=path)
        assert code == 200 and body["path"] == path and body["tensors"] == body["total"]
    for path in ["savedmodel", "keras3_files/model.weights.h5", "v1_format/model.ckpt", "tf1_saver"]:
        code, body = await api("entries", path=path)
        assert code == 200 and body["total"] > 0, (path, body)


async def test_graph_plan_and_svg(api) -> None:
    code, body = await api("graph", path="guide_legacy_adam/ckpt-4")
    assert code == 200
    paths = {n["path"]: n for n in body["nodes"]}
    assert paths["net/l1/kernel"]["kind"] == "variable"
    assert paths["net/l1/kernel"]["keys"] == ["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"]
    assert {"parent", "label", "child"} == set(body["edges"][0])
    assert body["slot_edges"] and body["svg"].lstrip().startswith(("<?xml", "<svg"))
    for n in body["nodes"]:
        assert f'id="{n["svg_id"]}"' in body["svg"]


async def test_graph_collapse_focus_filter_depth(api) -> None:
    _, whole = await api("graph", path="guide_legacy_adam/ckpt-4", svg="0")
    assert whole["svg"] is None
    net = next(n["id"] for n in whole["nodes"] if n["path"] == "net")
    _, folded = await api("graph", path="guide_legacy_adam/ckpt-4", svg="0", collapse=str(net))
    shown = {n["path"]: n for n in folded["nodes"]}
    assert shown["net"]["collapsed"] and shown["net"]["hidden_variables"] > 0
    assert "net/l1/kernel" not in shown
    _, focus = await api("graph", path="guide_legacy_adam/ckpt-4", svg="0", focus="net/l1")
    assert {n["path"] for n in focus["nodes"]} >= {"", "net", "net/l1", "net/l1/kernel"}
    assert not {"step", "iterator", "save_counter"} & {n["path"] for n in focus["nodes"]}
    _, filtered = await api("graph", path="guide_legacy_adam/ckpt-4", svg="0", filter="bias")
    kept = {n["path"] for n in filtered["nodes"]}
    assert "net/l1/bias" in kept and "net/l1/kernel" not in kept
    _, shallow = await api("graph", path="guide_legacy_adam/ckpt-4", svg="0", max_depth="1")
    assert max(n["path"].count("/") for n in shallow["nodes"]) == 0


async def test_tensor_preview_stats_histogram(api) -> None:
    key = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    code, body = await api("tensor", path="guide_legacy_adam/ckpt-4", key=key, bins="5")
    assert code == 200
    with ckptviz.open("tests/data/guide_legacy_adam/ckpt-4") as ck:
        value = ck.read(key)
    assert body["preview"]["values"] == [float(x) for x in value.reshape(-1)]
    assert body["preview"]["shape"] == [1, 5] and body["preview"]["truncated"] is False
    assert body["stats"]["min"] == float(value.min()) and len(body["stats"]["histogram"]["counts"]) == 5
    _, part = await api("tensor", path="guide_legacy_adam/ckpt-4", key=key, slice="0, 1:3")
    assert part["preview"]["shape"] == [2] and part["preview"]["values"] == [
        float(value[0, 1]),
        float(value[0, 2]),
    ]


async def test_tensor_preview_is_bounded_and_json_safe(api) -> None:
    _, body = await api("entries", path="guide_legacy_adam/ckpt-4", match="ITERATOR")
    key = body["entries"][0]["key"]
    code, it = await api("tensor", path="guide_legacy_adam/ckpt-4", key=key)
    assert code == 200 and it["stats"] is None and isinstance(it["preview"]["values"][0], str)


async def test_export_selects_into_a_new_checkpoint(api, root: Path) -> None:
    body = {"path": "guide_legacy_adam/ckpt-4", "dest": "exported/bias", "select": ["net/l1/bias"]}
    (root / "exported").mkdir()
    code, out = await api("export", method="POST", body=body)
    assert code == 201 and out["path"] == "exported/bias", out
    with ckptviz.open(str(root / "exported/bias")) as ck:
        assert "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE" in ck.entries
        assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" not in ck.entries
    code, again = await api("export", method="POST", body=body)
    assert code == 409 and "overwrite" in again["message"]
    code, _ = await api("export", method="POST", body={**body, "overwrite": True})
    assert code == 201, _


async def test_export_renames_and_converts(api, root: Path) -> None:
    code, _ = await api("export", method="POST", body={"path": "tf1_saver", "dest": "tf2", "convert": "tf2"})
    assert code == 201, _
    with ckptviz.open(str(root / "tf2")) as ck:
        assert ck.is_object_based


async def test_big_tensors_get_statistics_only_when_asked(api, monkeypatch) -> None:
    from ckptviz.server import payloads

    monkeypatch.setattr(payloads, "STATS_AUTO_MAX", 4)
    key = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"  # 5 elements
    _, auto = await api("tensor", path="guide_legacy_adam/ckpt-4", key=key)
    assert auto["stats"] is None and auto["stats_skipped"] is True and len(auto["preview"]["values"]) == 5
    _, asked = await api("tensor", path="guide_legacy_adam/ckpt-4", key=key, stats="1")
    assert asked["stats"]["size"] == 5 and asked["stats_skipped"] is False
    _, never = await api(
        "tensor", path="guide_legacy_adam/ckpt-4", key="step/.ATTRIBUTES/VARIABLE_VALUE", stats="0"
    )
    assert never["stats"] is None and never["stats_skipped"] is True


async def test_listing_is_bounded(api, root, monkeypatch) -> None:
    from ckptviz.server import listing

    monkeypatch.setattr(listing, "MAX_LISTED", 2)
    _, body = await api("checkpoints", path="guide_legacy_adam")
    assert [c["name"] for c in body["checkpoints"]] == ["ckpt-2", "ckpt-3"] and body["truncated"] is True


async def test_export_renames_object_paths(api, root) -> None:
    body = {"path": "guide_legacy_adam/ckpt-4", "dest": "renamed", "rename": {"net/l1": "net/first"}}
    code, out = await api("export", method="POST", body=body)
    assert code == 201, out
    with ckptviz.open(str(root / "renamed")) as ck:
        assert "net/first/kernel/.ATTRIBUTES/VARIABLE_VALUE" in ck.entries
        assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" not in ck.entries


async def test_pages_are_bounded_in_bytes_and_regexes_cannot_freeze_the_server(api, root) -> None:
    """64 keys of 128 KiB: a page stops before 8 MiB and says so; a catastrophic pattern runs in
    RE2's linear time; a huge page of huge names never answers 500."""
    import numpy as np

    names = {f"k{i:02d}" + "a" * (128 << 10): np.zeros(1, np.float32) for i in range(64)}
    ckptviz.write_checkpoint(root / "long" / "ckpt-1", names)
    code, body = await api("entries", path="long/ckpt-1", limit="1000")
    assert code == 200 and body["truncated"] is True and 0 < len(body["entries"]) < 64
    assert sum(len(e["key"]) + len(e["name"]) for e in body["entries"]) <= 8 << 20
    _, rest = await api("entries", path="long/ckpt-1", limit="1000", offset=str(len(body["entries"])))
    assert rest["entries"][0]["key"] > body["entries"][-1]["key"]
    code, body = await api("graph", path="long/ckpt-1", svg="0", filter="(a+)+b", regex="1", max_nodes="5")
    assert code in (200, 400), body  # answered: matched or matched nothing, never frozen


async def test_listing_skips_fifos_without_opening_them(api, root) -> None:
    import os

    (root / "pipes").mkdir()
    for name in ("a.ckpt", "b.index", "c.weights.h5", "checkpoint"):
        os.mkfifo(root / "pipes" / name)
    code, body = await api("checkpoints", path="pipes")
    assert code in (200, 422) and body.get("checkpoints", []) == [], body
