"""The panel, the graph tab and the document viewer in a real JupyterLab, in chromium."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import shot

pytestmark = pytest.mark.slow
KERNEL = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"


def open_lab(page: Any, lab: dict[str, Any], directory: str = "guide_legacy_adam") -> None:
    where = f"/lab/tree/{directory}" if directory else "/lab"
    page.goto(f"{lab['url']}{where}?reset&token={lab['token']}")  # reset: the default layout
    page.wait_for_selector(".jp-DirListing-item", state="attached", timeout=60_000)


def show_panel(page: Any) -> None:
    page.click('.jp-SideBar [data-id="ckptviz-sidebar"]')
    page.wait_for_selector("#ckptviz-sidebar", state="visible")


def test_panel_lists_expands_and_previews(page: Any, lab: dict[str, Any]) -> None:
    open_lab(page, lab)
    show_panel(page)
    item = page.locator('.ckptviz-item[data-path="guide_legacy_adam/ckpt-4"]')
    item.wait_for()
    assert "latest" in item.locator(".ckptviz-item-head").inner_text()
    assert page.locator(".ckptviz-item").count() == 3
    page.fill(".ckptviz-filter", "ckpt-3")
    assert page.locator(".ckptviz-item").count() == 1
    page.fill(".ckptviz-filter", "")
    item.locator(".ckptviz-item-head").click()
    item.locator(".ckptviz-node-label", has_text="l1").first.click()
    kernel = item.locator(f'[data-key="{KERNEL}"]')
    kernel.click()
    stats = page.locator("#ckptviz-sidebar .ckptviz-detail .ckptviz-stats")
    stats.wait_for()
    assert "mean" in stats.inner_text()
    assert page.locator("#ckptviz-sidebar .ckptviz-histogram rect").count() == 30
    assert "[1, 5]" in page.locator("#ckptviz-sidebar .ckptviz-preview").inner_text()
    assert page.locator("#ckptviz-sidebar .ckptviz-unverified").count() == 0  # read whole and checked
    shot(page, "panel-preview")


def test_a_big_tensors_preview_says_its_values_are_unchecked(page: Any, lab: dict[str, Any]) -> None:
    import numpy as np

    import ckptviz

    if not (lab["root"] / "wide").exists():  # 12 MiB: past the size read whole for a preview
        ckptviz.write_checkpoint(lab["root"] / "wide" / "ckpt-1", {"w": np.arange(3 << 20, dtype=np.float32)})
    open_lab(page, lab, "wide")
    show_panel(page)
    item = page.locator('.ckptviz-item[data-path="wide/ckpt-1"]')
    item.locator(".ckptviz-item-head").click()
    item.locator('[data-key="w"]').click()
    note = page.locator("#ckptviz-sidebar .ckptviz-unverified")
    note.wait_for()
    assert "not checked against its checksum" in note.inner_text()
    assert page.locator("#ckptviz-sidebar .ckptviz-preview").inner_text().startswith("[3145728]: 0, 1, 2,")


def test_graph_tab_inspects_and_collapses(page: Any, lab: dict[str, Any]) -> None:
    open_lab(page, lab)
    show_panel(page)
    item = page.locator('.ckptviz-item[data-path="guide_legacy_adam/ckpt-4"]')
    item.locator(".ckptviz-item-head").click()
    item.get_by_role("button", name="Open graph").click()
    graph = page.locator(".ckptviz-graph")
    graph.locator("svg g.node").first.wait_for()
    drawn = graph.locator("svg g.node").count()
    graph.locator('g.node[aria-label="net/l1"]').click()
    inspector = graph.locator(".ckptviz-graph-inspector")
    assert "net/l1" in inspector.inner_text()
    shot(page, "graph-tab")
    inspector.get_by_role("button", name="Collapse").click()
    page.wait_for_function(f"document.querySelectorAll('.ckptviz-graph svg g.node').length < {drawn}")
    assert graph.locator('g.node[aria-label="net/l1/kernel"]').count() == 0


@pytest.mark.parametrize(
    ("directory", "name", "checkpoint"),
    [
        ("guide_legacy_adam", "ckpt-4.index", "guide_legacy_adam/ckpt-4"),
        ("guide_legacy_adam", "ckpt-4.data-00000-of-00001", "guide_legacy_adam/ckpt-4"),
        ("guide_legacy_adam", "checkpoint", "guide_legacy_adam"),
        ("v1_format", "model.ckpt", "v1_format/model.ckpt"),  # a TF1 V1 file
    ],
)
def test_double_clicking_a_checkpoint_file_opens_the_viewer_and_copies_nothing(
    page: Any, lab: dict[str, Any], directory: str, name: str, checkpoint: str
) -> None:
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(f"{r.method} {r.url}") if "/api/contents/" in r.url else None)
    open_lab(page, lab, directory)
    page.locator(f'.jp-DirListing-item[title^="Name: {name}"]').first.dblclick()
    viewer = page.locator(".ckptviz-viewer")
    viewer.wait_for()
    assert checkpoint in viewer.locator("h2").inner_text()
    viewer.locator(".ckptviz-summary").wait_for()
    assert "tensors" in viewer.locator(".ckptviz-summary").inner_text()
    page.wait_for_load_state("networkidle")
    mine = [f for f in fetched if name in f]
    assert mine and not any("content=1" in f for f in mine), mine  # bytes never fetched
    assert not any(f.startswith("POST") and "/checkpoints" in f for f in mine), mine  # never copied
    assert not list((lab["root"] / directory).glob(".ipynb_checkpoints/*"))  # no copy of any file
    shot(page, f"viewer-{name.replace('.', '-')}")


def test_no_requests_while_hidden_and_follows_the_browser(page: Any, lab: dict[str, Any]) -> None:
    listings: list[str] = []
    page.on("request", lambda r: listings.append(r.url) if "/ckptviz/api/checkpoints" in r.url else None)
    open_lab(page, lab, "")
    page.wait_for_timeout(1000)
    assert listings == []  # the panel was never shown
    show_panel(page)
    page.locator("#ckptviz-sidebar .ckptviz-empty").wait_for()  # the root holds only directories
    assert len(listings) == 1
    page.click('.jp-SideBar [data-id="filebrowser"]')  # the file browser replaces the panel
    page.wait_for_selector("#ckptviz-sidebar", state="hidden")
    page.locator('.jp-DirListing-item[title^="Name: keras3_files"]').dblclick()
    page.locator('.jp-DirListing-item[title^="Name: model.keras"]').wait_for()
    page.wait_for_timeout(1000)
    assert len(listings) == 1  # navigated while hidden: nothing asked
    show_panel(page)
    page.locator('.ckptviz-item[data-path="keras3_files/model.keras"]').wait_for()
    assert len(listings) == 2 and "keras3_files" in listings[-1]
    assert page.locator(".ckptviz-where").inner_text() == "/ › keras3_files"
    shot(page, "panel-keras")


def test_diff_of_two_ticked_checkpoints_and_the_timeline(page: Any, lab: dict[str, Any]) -> None:
    open_lab(page, lab)
    show_panel(page)
    for name in ("ckpt-4", "ckpt-3"):
        page.locator(f'.ckptviz-item[data-path="guide_legacy_adam/{name}"] .ckptviz-choose').check()
    page.locator(".ckptviz-diff-button").click()
    diff = page.locator(".ckptviz-run", has_text="changed")
    diff.locator(".ckptviz-table").first.wait_for()
    assert (
        "guide_legacy_adam/ckpt-3 → guide_legacy_adam/ckpt-4" in diff.locator(".ckptviz-summary").inner_text()
    )
    assert (
        diff.locator('code[title="net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"]').inner_text() == "net/l1/kernel"
    )
    shot(page, "diff-tab")
    page.locator("#ckptviz-sidebar").get_by_role("button", name="Timeline").click()
    timeline = page.locator(".ckptviz-run", has_text="3 checkpoints")
    timeline.locator(".ckptviz-sparkline polyline").first.wait_for()
    assert "steps 2, 3, 4" in timeline.locator(".ckptviz-summary").inner_text()
    points = timeline.locator(".ckptviz-sparkline circle title").all_text_contents()
    assert points[0].startswith("step 2: ") and points[2].startswith("step 4: ")  # values on hover
    assert timeline.locator(".ckptviz-sparkline .ckptviz-tick").count() >= 4  # axes: value range, steps
    shot(page, "timeline-tab")


def run_command(page: Any, label: str) -> None:
    palette = page.locator(".lm-CommandPalette-input")
    page.locator(".jp-LauncherCard").first.wait_for()  # the application has settled
    for _ in range(5):
        if not palette.is_visible():
            page.keyboard.press("Control+Shift+C")
        try:
            palette.wait_for(state="visible", timeout=3000)
            break
        except Exception:
            page.locator(".jp-Launcher").first.click()
    palette.fill(label)
    page.locator(".lm-CommandPalette-item.lm-mod-active", has_text=label).wait_for()
    palette.press("Enter")


def test_keyboard_only_in_the_dark_theme(page: Any, lab: dict[str, Any]) -> None:
    open_lab(page, lab)
    run_command(page, "Show Checkpoints Panel")  # the palette holds the panel's commands
    page.wait_for_selector("#ckptviz-sidebar", state="visible")
    run_command(page, "Use Theme: JupyterLab Dark")
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
    try:
        head = page.locator('.ckptviz-item[data-path="guide_legacy_adam/ckpt-4"] .ckptviz-item-head')
        head.focus()
        page.keyboard.press("Enter")
        net = page.locator(".ckptviz-node-label", has_text="net").first
        net.wait_for()
        l1 = page.locator(".ckptviz-node-label", has_text="l1").first
        l1.focus()
        page.keyboard.press("Enter")
        bias = page.locator('[data-key="net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"]')
        bias.focus()
        page.keyboard.press("Enter")
        page.locator("#ckptviz-sidebar .ckptviz-stats").wait_for()
        background = page.evaluate(
            "getComputedStyle(document.querySelector('#ckptviz-sidebar')).backgroundColor"
        )
        red, green, blue = (int(x) for x in background[background.index("(") + 1 : -1].split(",")[:3])
        assert red + green + blue < 3 * 80, background  # the theme's dark layout colour
        shot(page, "panel-dark-keyboard")
    finally:
        run_command(page, "Use Theme: JupyterLab Light")


def test_copy_restore_code_names_the_checkpoints_own_roots(page: Any, lab: dict[str, Any]) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab["url"])
    open_lab(page, lab)
    show_panel(page)
    item = page.locator('.ckptviz-item[data-path="guide_legacy_adam/ckpt-4"]')
    item.locator(".ckptviz-item-head").click()
    item.get_by_role("button", name="Copy restore code").click()
    page.wait_for_function(
        "async () => (await navigator.clipboard.readText()).includes('tf.train.Checkpoint(')"
    )
    code = page.evaluate("navigator.clipboard.readText()")
    assert "tf.train.Checkpoint(iterator=iterator, net=net, optimizer=optimizer, step=step)" in code
    assert 'status = checkpoint.restore("guide_legacy_adam/ckpt-4")' in code
    assert "status.assert_existing_objects_matched()" in code
