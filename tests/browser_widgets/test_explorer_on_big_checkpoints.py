"""The explorer on 50 000 variables in a real JupyterLab 4 and Notebook 7: a search lays out only
the way to the hit, colours by norm with a legend and folded statistics, and the Tensors table
names every key and keeps its header in view."""

from __future__ import annotations

from typing import Any

import nbformat

import ckptviz
from tests.bigdata import flat_bundle

from .conftest import Server, shot
from .test_explorer_in_browser import run_cells


def test_explorer_on_50000_variables(server: Server, page: Any) -> None:
    prefix = server.root / "many" / "ckpt-1"
    if not prefix.with_suffix(".index").exists():
        flat_bundle(prefix)
    hit = ckptviz.open(prefix).graph.find("v31337").id
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(f"import ckptviz\nckptviz.explore({str(prefix)!r})")]
    nbformat.write(nb, server.root / "many.ipynb")
    page.goto(
        server.page_url("many.ipynb") + ("&reset" if server.app == "lab" else "")
    )  # only this notebook open
    page.wait_for_selector(".jp-Notebook .jp-Cell .jp-InputArea-editor", timeout=60_000)
    run_cells(page, 1)
    try:
        page.locator(".ckv-node").first.wait_for(timeout=120_000)
        search = page.locator(".ckv-search")
        search.fill("v31337")
        search.press("Enter")
        page.locator(f".ckv-node[data-id='{hit}'].ckv-sel").wait_for(timeout=60_000)
        assert page.locator(".ckv-node").count() <= 60  # the way to it; 49 9xx siblings folded
        folded = page.locator(".ckv-node[data-id^='-']").all_text_contents()
        assert any("+49" in t for t in folded), folded
        shot(page, f"{server.app}-big-1-search")

        page.locator(".ckv-colour").select_option("norm")
        page.locator(".ckv-legend span", has_text="norm").first.wait_for(timeout=60_000)
        page.wait_for_function(
            "[...document.querySelectorAll('.ckv-node')].some(n => n.textContent.includes('mean'))"
        )  # a fold shows min/max/mean of the norms it holds
        shot(page, f"{server.app}-big-2-norm")

        page.get_by_role("tab", name="Tensors").click()
        page.wait_for_function(  # names arrive once the object graph is built, with no filter typed
            "[...document.querySelectorAll('.ckv-table tbody tr td:nth-child(2)')].some(td => td.textContent === 'v0')",
            timeout=60_000,
        )
        scroll = page.locator(".ckv-scroll:visible")
        scroll.evaluate("el => { el.scrollTop = 20 * 30000; }")
        page.wait_for_function(
            "[...document.querySelectorAll('.ckv-table tbody tr')].some(r => (r.dataset.key || '').startsWith('v3'))"
        )
        head, box = scroll.locator(".ckv-table thead").bounding_box(), scroll.bounding_box()
        assert abs(head["y"] - box["y"]) <= 2, (head, box)  # the header stays at the top
        shot(page, f"{server.app}-big-3-tensors-scrolled")
    except Exception:
        shot(page, f"{server.app}-big-failed")
        raise
