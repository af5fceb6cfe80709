"""The explorer in a real JupyterLab 4 and a real Notebook 7: click, filter, restore, in chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

import ckptviz

from .conftest import Server, shot

DATA = Path(__file__).parents[1] / "data"
KERAS3 = DATA / "guide_keras3"
KERNEL_KEY = "net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"
MODEL = """\
import keras
import tensorflow as tf


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.l1 = keras.layers.Dense(5)

    def call(self, x):
        return self.l1(x)


model = Net()
model(tf.ones([1, 1]));"""


def changed_copy(server: Server) -> str:
    """KERAS3 with a different bias, written by ckptviz with the same object graph."""
    source = ckptviz.open(KERAS3)
    tensors = {k: source.read(k) for k in source.entries if k != "_CHECKPOINTABLE_OBJECT_GRAPH"}
    tensors["net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"] = tensors["net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE"] + 1
    return ckptviz.write_checkpoint(
        server.root / "changed" / "ckpt-1", tensors, source.object_graph_proto, overwrite=True
    )


def js_number(x: float) -> str:
    """How the widget prints a statistic: ``String(+x.toPrecision(5))``."""
    return repr(float(f"{x:.5g}")).removesuffix(".0")


def write_notebook(server: Server) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(MODEL),
        nbformat.v4.new_code_cell(f"import ckptviz\n\nckptviz.explore({str(KERAS3)!r})"),
    ]
    nbformat.write(nb, server.root / "explore.ipynb")
    return "explore.ipynb"


def run_cells(page: Any, count: int) -> None:
    """Run each code cell once the kernel takes it: a cell queued or run shows ``[*]`` or its
    number in its prompt; before the kernel is connected it stays ``[ ]``. Tries Ctrl+Enter in the
    cell's editor, then the toolbar's run button."""
    run_button = page.locator(".jp-NotebookPanel-toolbar [data-command='notebook:run-cell-and-select-next']")
    for i in range(count):
        cell = page.locator(".jp-Notebook .jp-CodeCell").nth(i)
        prompt = cell.locator(".jp-InputPrompt")
        for attempt in range(60):
            accept = page.locator(
                ".jp-Dialog .jp-mod-accept"
            )  # "Select Kernel" when the kernel was slow to start
            if accept.count() and accept.first.is_visible():
                accept.first.click()
            cell.locator(".jp-InputArea-editor").click()
            if attempt % 2 and run_button.count():
                run_button.first.click()
            else:
                page.keyboard.press("Control+Enter")
            try:
                page.wait_for_function(
                    "el => /\\[(\\*|\\d+)\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=2000
                )
                break
            except Exception:  # the kernel is still starting: try again
                continue
        else:
            raise AssertionError(f"cell {i} never ran")


def test_explorer(server: Server, page: Any) -> None:
    try:
        explore_in_browser(server, page)
    except Exception:
        shot(page, f"{server.app}-failed")
        raise


def explore_in_browser(server: Server, page: Any) -> None:
    graph = ckptviz.open(KERAS3).graph
    checkpoint = ckptviz.open(KERAS3)
    kernel_value = checkpoint.read(KERNEL_KEY)
    page.goto(server.page_url(write_notebook(server)))
    page.wait_for_selector(".jp-Notebook .jp-Cell .jp-InputArea-editor", timeout=60_000)
    run_cells(page, 2)

    # Graph: click the kernel variable, see its statistics
    node = page.locator(f".ckv-node[data-id='{graph.find('net/l1/_kernel').id}']")
    node.wait_for(timeout=120_000)
    node.click()
    mean = page.locator(".ckv:has(.ckv-graph) .ckv-stat-mean")
    mean.wait_for()
    page.wait_for_function(
        "([el, want]) => el.textContent === want",
        arg=[mean.element_handle(), js_number(float(kernel_value.mean()))],
    )
    assert (
        page.locator(".ckv-details dd").first.inner_text() == "net/l1/kernel"
    )  # the display path; the key is one row below
    assert page.locator(".ckv-edge[stroke-dasharray='1.5 2.5']").count() > 0  # inferred slot links: dotted
    shot(page, f"{server.app}-1-graph-click")

    # pick the net subtree for the restore
    page.locator(f".ckv-node[data-id='{graph.find('net').id}']").click()
    page.wait_for_function("() => document.querySelector('.ckv-details dd')?.textContent === 'net'")
    page.locator(".ckv-details .ckv-pick").click()
    page.wait_for_selector(".ckv-details .ckv-pick:text('unpick')")

    # Tensors: filter the table
    page.get_by_role("tab", name="Tensors").click()
    page.locator(".ckv-filter").fill("_kernel")
    count = page.locator(".ckv-count")
    want = sum(
        any("_kernel" in (x or "") for x in (r.key, r.name, r.path)) for r in checkpoint.entry_records()
    )
    page.wait_for_function(
        "([el, want]) => el.textContent.startsWith(want + ' of ')", arg=[count.element_handle(), want]
    )
    rows = page.locator(".ckv-table tbody tr")
    assert rows.count() == want and all("_kernel" in t for t in rows.all_inner_texts())
    rows.first.click()
    page.wait_for_selector(".ckv-tensor .ckv-stat-mean:visible")
    shot(page, f"{server.app}-2-tensors-filter")

    # Restore: the picked subtree into the live Keras model
    page.get_by_role("tab", name="Restore").click()
    assert page.locator(".ckv-paths").input_value() == "net"
    page.locator(".ckv-target").fill("model")
    page.locator(".ckv-target").press("Tab")
    page.locator(".ckv-root").fill("net")
    page.locator(".ckv-root").press("Tab")
    page.locator(".ckv-check").click()
    page.wait_for_selector(".ckv-report table")
    page.locator(".ckv-restore").click()
    page.wait_for_selector(".ckv-result:text('restored 3 value(s) into model')")
    shot(page, f"{server.app}-3-restore")

    # Diff: against a copy with another bias, the changed key is listed
    other = changed_copy(server)
    page.get_by_role("tab", name="Diff").click()
    page.locator(".ckv-other").fill(str(other))
    page.locator(".ckv-compare").click()
    row = page.locator("tr[data-key='net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE'][data-status='changed']")
    row.wait_for(timeout=60_000)
    assert page.locator(".ckv-table tbody tr[data-status]").count() == 1  # only that key changed
    row.click()
    page.wait_for_selector(".ckv-detail .ckv-hist")
    shot(page, f"{server.app}-4-diff")

    # Timeline: the run of one checkpoint, read when the tab is shown
    page.get_by_role("tab", name="Timeline").click()
    page.wait_for_selector(".ckv-trow")
    page.wait_for_selector(".ckv-ridge polygon")
    shot(page, f"{server.app}-5-timeline")

    client = server.kernel_client()
    try:
        reply = []
        client.execute_interactive(
            "import json; print(json.dumps(model.l1.kernel.numpy().tolist()))",
            output_hook=lambda m: (
                reply.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None
            ),
            timeout=30,
        )
    finally:
        client.stop_channels()
    got = np.array(json.loads("".join(reply)), np.float32)
    np.testing.assert_array_equal(got, kernel_value)
    assert not re.search("Traceback", page.content())
