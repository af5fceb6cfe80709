"""What the lab's graph tab, panel and diff tab ask beyond the basic routes: a stand-in expanded
by its id, a search hit revealed, subdirectories to navigate, restore code, and a row's Δ."""

from __future__ import annotations

import pytest


async def test_a_stand_in_expands_by_its_id_and_a_hit_is_revealed(api) -> None:
    path = "many_keys/many"
    _, first = await api("graph", path=path, svg="0", max_nodes="40")
    stand_in = next(n for n in first["nodes"] if n["id"] < 0)
    assert stand_in["virtual"] and stand_in["svg_id"] == f"ckpt_more{-1 - stand_in['id']}"
    code, more = await api("graph", path=path, svg="0", max_nodes="40", expand=str(stand_in["id"]))
    assert code == 200 and len(more["nodes"]) > len(first["nodes"])  # no "node id not found"
    drawn = {n["id"] for n in first["nodes"]}
    target = next(n for n in more["nodes"] if n["id"] >= 0 and n["id"] not in drawn)
    code, body = await api("graph", path=path, svg="0", max_nodes="40", reveal=target["key_path"])
    assert code == 200 and body["revealed"] == [target["id"]]
    assert target["id"] in {n["id"] for n in body["nodes"]} and len(body["nodes"]) <= 40 + 2
    code, body = await api("graph", path=path, svg="0", reveal="no/such/object")
    assert code == 404 and "no/such/object" in body["message"]


async def test_listing_names_subdirectories_and_entries_carry_restore_code(api) -> None:
    _, top = await api("checkpoints", path="")
    assert {"guide_legacy_adam", "many_keys"} <= set(top["directories"])
    assert "savedmodel" not in top["directories"]  # a checkpoint, listed as one
    _, entries = await api("entries", path="guide_legacy_adam/ckpt-4", limit="1", code_path="../ckpt-4")
    code = entries["restore_code"]
    assert "tf.train.Checkpoint(iterator=iterator, net=net, optimizer=optimizer, step=step)" in code
    assert 'checkpoint.restore("../ckpt-4")' in code
    _, tf1 = await api("entries", path="tf1_saver", limit="1")
    assert "tf.compat.v1.train.Saver()" in tf1["restore_code"]


@pytest.mark.parametrize("key", ["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"])
async def test_a_diff_row_gets_the_histogram_of_its_difference(api, key: str) -> None:
    import ckptviz

    from .conftest import DATA

    a = ckptviz.open(DATA / "guide_legacy_adam" / "ckpt-3").read(key)
    b = ckptviz.open(DATA / "guide_legacy_adam" / "ckpt-4").read(key)
    code, body = await api(
        "tensor", path="guide_legacy_adam/ckpt-4", key=key, minus="guide_legacy_adam/ckpt-3"
    )
    assert code == 200
    delta = body["delta"]["stats"]
    assert delta["max"] == pytest.approx(float((b - a).max()), rel=1e-5)
    assert sum(delta["histogram"]["counts"]) == a.size
