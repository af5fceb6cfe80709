"""The graph tab, the panel and the diff tab on checkpoints the size users meet: Keras 3 ResNet50 +
Adam (943 objects) and 50 000 variables side by side, in a real JupyterLab, in chromium."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import shot
from .test_panel import open_lab, show_panel

pytestmark = pytest.mark.slow


def open_graph(page: Any, lab: dict[str, Any], directory: str, name: str) -> Any:
    open_lab(page, lab, directory)
    show_panel(page)
    item = page.locator(f'.ckptviz-item[data-path="{directory}/{name}"]')
    item.locator(".ckptviz-item-head").click()
    item.get_by_role("button", name="Open graph").click()
    graph = page.locator(".ckptviz-graph")
    graph.locator("svg g.node").first.wait_for()
    page.wait_for_function("!document.querySelector('.ckptviz-graph').dataset.loading")
    return graph


def inside(box: dict[str, float], frame: dict[str, float], slack: float = 2) -> bool:
    return (
        box["x"] >= frame["x"] - slack
        and box["y"] >= frame["y"] - slack
        and box["x"] + box["width"] <= frame["x"] + frame["width"] + slack
        and box["y"] + box["height"] <= frame["y"] + frame["height"] + slack
    )


def laid_out(page: Any) -> None:
    page.wait_for_function("!document.querySelector('.ckptviz-graph').dataset.loading")


def test_resnet_opens_fitted_grouped_by_stage_and_zooms_about_the_cursor(
    page: Any, lab: dict[str, Any], big: dict[str, str]
) -> None:
    graph = open_graph(page, lab, "resnet", "ckpt-1")
    viewport = graph.locator(".ckptviz-graph-viewport").bounding_box()
    picture = graph.locator(".ckptviz-graph-canvas svg").bounding_box()
    assert inside(picture, viewport)  # fitted: the whole picture in view, none below it
    assert picture["width"] > viewport["width"] * 0.5 or picture["height"] > viewport["height"] * 0.5
    labels = graph.locator("svg g.node text").all_text_contents()
    assert {"conv2_*", "conv4_*", "conv4_block6_*"} <= set(labels)  # stages and blocks, not list items
    assert not any(t.isdigit() for t in labels)
    status = graph.locator(".ckptviz-graph-status").inner_text()
    svg_title = page.evaluate(
        "document.querySelector('.ckptviz-graph svg g.graph > text')?.textContent || ''"
    )
    assert status.endswith("of 943 nodes drawn") and status in svg_title, (status, svg_title)  # they agree
    assert graph.locator(".ckptviz-graph-inspector").is_hidden()  # nothing covers the picture
    shot(page, "big-resnet-graph-fitted")

    node = graph.locator('g.node[aria-label="model/conv4_*"]')
    before = node.bounding_box()
    cx, cy = before["x"] + before["width"] / 2, before["y"] + before["height"] / 2
    page.mouse.move(cx, cy)
    scale = page.evaluate("() => document.querySelector('.ckptviz-graph-canvas').style.transform")
    page.mouse.wheel(0, -400)  # zoom in about the cursor
    page.wait_for_function(f"document.querySelector('.ckptviz-graph-canvas').style.transform !== {scale!r}")
    after = node.bounding_box()
    assert after["width"] > before["width"] * 1.5
    assert abs(after["x"] + after["width"] / 2 - cx) < 3 and abs(after["y"] + after["height"] / 2 - cy) < 3

    graph.get_by_role("button", name="reset folds, filter and zoom").click()
    laid_out(page)
    page.wait_for_function(
        f"document.querySelector('.ckptviz-graph-canvas').style.transform === {scale!r}"
    )  # Reset is the fitted view again

    graph.locator('g.node[aria-label="model/conv4_*"]').click()
    inspector = graph.locator(".ckptviz-graph-inspector")
    inspector.wait_for()
    assert "conv4_*" in inspector.inner_text()
    assert viewport_right(graph) <= inspector.bounding_box()["x"] + 1  # beside the picture, not over it
    shot(page, "big-resnet-inspector")


def viewport_right(graph: Any) -> float:
    box = graph.locator(".ckptviz-graph-viewport").bounding_box()
    return float(box["x"] + box["width"])


def test_expanding_a_stand_in_and_a_folded_block(page: Any, lab: dict[str, Any], big: dict[str, str]) -> None:
    graph = open_graph(page, lab, "resnet", "ckpt-1")
    errors: list[str] = []
    page.on(
        "response",
        lambda r: errors.append(r.url) if "/ckptviz/api/graph" in r.url and r.status != 200 else None,
    )
    before = graph.locator("svg g.node").count()
    stand_in = graph.locator('g.node[id^="ckpt_more"]').first  # the optimizer's other slots
    hidden = stand_in.locator("text").all_text_contents()
    stand_in.click()
    page.wait_for_function(f"document.querySelectorAll('.ckptviz-graph svg g.node').length > {before}")
    laid_out(page)
    assert errors == [] and graph.locator(".ckptviz-error").count() == 0, (errors, hidden)
    drawn = graph.locator("svg g.node").count()
    graph.locator('g.node[aria-label="model/conv4_block2_*"]').dblclick()
    page.wait_for_function(f"document.querySelectorAll('.ckptviz-graph svg g.node').length > {drawn}")
    laid_out(page)
    assert "conv4_block2_1_conv" in graph.locator("svg g.node text").all_text_contents()
    status = graph.locator(".ckptviz-graph-status").inner_text()
    assert f"{graph.locator('svg g.node[data-node-id]').count()} of 943 nodes drawn" in status
    viewport = graph.locator(".ckptviz-graph-viewport").bounding_box()
    assert inside(graph.locator(".ckptviz-graph-canvas svg").bounding_box(), viewport)  # the new picture fits
    shot(page, "big-resnet-expanded")


def test_finding_one_of_50000_variables_opens_only_its_way(
    page: Any, lab: dict[str, Any], big: dict[str, str]
) -> None:
    graph = open_graph(page, lab, "many", "ckpt-1")
    assert graph.locator("svg g.node").count() <= 320
    find = graph.get_by_role("searchbox", name="find")
    find.fill("v31337")
    find.press("Enter")
    hit = graph.locator('g.node[aria-label="v31337"]')
    hit.wait_for()
    laid_out(page)
    assert graph.locator("svg g.node").count() <= 320  # the way to it; its siblings stay folded
    assert "v31337" in graph.locator(".ckptviz-graph-inspector").inner_text()
    box, viewport = hit.bounding_box(), graph.locator(".ckptviz-graph-viewport").bounding_box()
    assert inside(box, viewport)  # centred on the hit
    shot(page, "big-many-find")


def test_the_panel_navigates_pages_50000_keys_and_finds_one(
    page: Any, lab: dict[str, Any], big: dict[str, str]
) -> None:
    open_lab(page, lab, "")
    show_panel(page)
    page.locator('.ckptviz-directory[data-path="many"]').click()  # navigate from the panel itself
    item = page.locator('.ckptviz-item[data-path="many/ckpt-1"]')
    item.wait_for()
    assert page.locator(".ckptviz-where").inner_text() == "/ › many"
    item.locator(".ckptviz-item-head").click()
    note = item.locator(".ckptviz-page-note")
    note.wait_for()
    assert note.inner_text() == "1000 of 50001 entries listed"
    item.locator(".ckptviz-more").click()
    page.wait_for_function(
        "document.querySelector('.ckptviz-page-note').textContent === '2000 of 50001 entries listed'"
    )
    search = item.get_by_role("searchbox", name="find keys")
    search.fill("v31337/")
    search.press("Enter")
    page.wait_for_function(
        "document.querySelector('.ckptviz-page-note').textContent.startsWith('1 keys matching')"
    )
    item.locator('[data-key="v31337/.ATTRIBUTES/VARIABLE_VALUE"]').click()
    page.locator("#ckptviz-sidebar .ckptviz-detail .ckptviz-stats").wait_for()
    ticks = page.locator("#ckptviz-sidebar .ckptviz-histogram .ckptviz-tick").all_text_contents()
    assert len(ticks) >= 5 and "value" in ticks  # axes: counts, value range
    shot(page, "big-panel-paged")
    page.locator('.ckptviz-crumb[data-path=""]').click()
    page.locator('.ckptviz-directory[data-path="resnet"]').wait_for()


def test_diff_of_50000_keys_shows_progress_cancels_and_says_equal(
    page: Any, lab: dict[str, Any], big: dict[str, str]
) -> None:
    held: list[Any] = []
    page.route("**/ckptviz/api/diff**", lambda route: held.append(route))  # answered only when let go
    open_lab(page, lab, "many")
    show_panel(page)
    for name in ("ckpt-1", "ckpt-2"):
        page.locator(f'.ckptviz-item[data-path="many/{name}"] .ckptviz-choose').check()
    page.locator(".ckptviz-diff-button").click()
    progress = page.locator(".ckptviz-run .ckptviz-progress")
    progress.wait_for()
    shot(page, "big-diff-progress")
    progress.get_by_role("button", name="Cancel").click()
    page.locator(".ckptviz-run", has_text="Cancelled.").wait_for()
    page.unroute("**/ckptviz/api/diff**")
    page.get_by_role("button", name="Compare again").click()
    summary = page.locator(".ckptviz-run .ckptviz-summary")
    summary.wait_for(timeout=120_000)
    assert "are equal: all 50001 keys have the same values" in summary.inner_text()
    assert page.locator(".ckptviz-run td").count() == 0  # no 50 000 "unchanged" rows
    shot(page, "big-diff-equal")


def test_a_diff_row_shows_both_tensors_and_the_difference(page: Any, lab: dict[str, Any]) -> None:
    open_lab(page, lab)
    show_panel(page)
    for name in ("ckpt-4", "ckpt-3"):
        page.locator(f'.ckptviz-item[data-path="guide_legacy_adam/{name}"] .ckptviz-choose').check()
    page.locator(".ckptviz-diff-button").click()
    row = page.locator(".ckptviz-run tr.ckptviz-clickable", has_text="net/l1/kernel").first
    row.click()
    delta = page.locator(".ckptviz-run .ckptviz-delta")
    delta.locator(".ckptviz-histogram rect").first.wait_for()
    assert delta.locator(".ckptviz-histogram rect").count() == 30
    assert page.locator(".ckptviz-run .ckptviz-diff-side .ckptviz-histogram").count() == 3  # a, b, Δ
    assert "min" in delta.inner_text()
    shot(page, "diff-row-detail")
