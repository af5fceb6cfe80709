"""The notebooks run top to bottom in a real kernel, importing this checkout's ckptviz, and show
what they promise; the magics work in that kernel too (output, errors, completion)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
ROOT = Path(__file__).parent.parent
NOTEBOOKS = ROOT / "notebooks"
HAS_TF = __import__("importlib").util.find_spec("tensorflow") is not None


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kernel imports this checkout's ckptviz, and cannot import TensorFlow (the notebooks
    must run without it): a ``tensorflow`` package that refuses to import shadows the real one."""
    hide = tmp_path / "no_tensorflow"
    (hide / "tensorflow").mkdir(parents=True)
    (hide / "tensorflow" / "__init__.py").write_text(
        "raise ImportError('TensorFlow is hidden for this test')\n"
    )
    path = os.pathsep.join([str(hide), str(ROOT), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    return hide


def execute(nb: Any, cwd: Path = NOTEBOOKS) -> list[Any]:
    """Run ``nb`` after a first cell that records which ckptviz the kernel imports."""
    nb.cells.insert(0, nbformat.v4.new_code_cell("import ckptviz as _c; print(_c.__file__)"))
    nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    first = nb.cells.pop(0)
    assert first.outputs[0]["text"].strip() == str(ROOT / "ckptviz" / "__init__.py")
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def stderr_lines(outputs: list[Any]) -> list[str]:
    return [o["text"] for o in outputs if o.output_type == "stream" and o.name == "stderr"]


def check_clean(outputs: list[Any], allowed_errors: tuple[str, ...], tf_logs: bool = False) -> None:
    assert not [o for o in outputs if o.output_type == "error"]
    for text in stderr_lines(outputs):  # a magic's error: one line, never a traceback
        if tf_logs and "%ckpt" not in text:
            continue  # TensorFlow's own start-up logging
        assert text.count("\n") == 1 and text.startswith("%ckpt") and "Traceback" not in text, text
        assert any(a in text for a in allowed_errors), text


def test_notebooks_are_committed_without_outputs() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = json.loads(path.read_text())
        assert all(
            not c.get("outputs") and not c.get("execution_count")
            for c in nb["cells"]
            if c["cell_type"] == "code"
        ), path


def _missing_engines() -> tuple[str, ...]:
    import ckptviz

    out = []
    for name in ("diff", "timeline", "explore"):
        try:
            getattr(ckptviz, name)
        except (AttributeError, ImportError):
            out.append(f"(ckptviz.{name})")
    return tuple(out)


def test_tour_runs_without_tensorflow(kernel_env: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "tour.ipynb", as_version=4)
    outputs = execute(nb)
    check_clean(outputs, ("%ckpt restore: 2 value(s) disagree, nothing was restored", *_missing_engines()))
    assert any(
        "%ckpt restore: 2 value(s) disagree" in t for t in stderr_lines(outputs)
    )  # the refused restore
    texts = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "TensorFlow is not installed: skipping this cell" in texts
    assert "ls        list the tensors" in texts  # %ckpt alone
    svgs = [o["data"]["image/svg+xml"] for o in outputs if "image/svg+xml" in o.get("data", {})]
    # the graph, the partial restore, the will-it-load picture, the converted TF1 (+ the diff's graph, the run's heatmap)
    assert len(svgs) >= 4 + ("(ckptviz.diff)" not in _missing_engines()) + (
        "(ckptviz.timeline)" not in _missing_engines()
    )
    assert any("variable mismatched" in s for s in svgs)
    html = [o["data"].get("text/html", "") for o in outputs if "data" in o]
    assert any("<table" in h and "net/l1/kernel" in h for h in html)  # the %ckpt ls table
    assert any("ckpt-4 (latest)" in h for h in html)  # %ckpt info
    plain = " ".join(o["data"].get("text/plain", "") for o in outputs if "data" in o)
    assert "array([0.7615621" in plain  # only net/l1/bias restored
    assert "array(5, dtype=int32) array(7, dtype=int32) array(9, dtype=int32)" in plain  # %%ckpt show step
    assert "(9,\n <ckptviz.RestoreStatus: 1 restored" in plain  # everything but the head
    if "(ckptviz.diff)" not in _missing_engines():
        assert "<ckptviz.DiffResult 14 keys: 10 changed, 0 added, 0 removed, 4 unchanged>" in plain
    if "(ckptviz.timeline)" not in _missing_engines():
        assert "6 checkpoints" in plain and "18 variables" in plain  # %ckpt timeline: its heatmap
        assert any(o.get("data", {}).get("image/png", "").startswith("iVBORw0KGgo") for o in outputs)
    if "(ckptviz.explore)" not in _missing_engines():  # %ckpt browse: the explorer widget
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
        assert "<ckptviz.widgets.Explorer" in plain


def test_migration_runs_without_tensorflow(kernel_env: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / "migration.ipynb", as_version=4)
    outputs = execute(nb)
    check_clean(outputs, _missing_engines())
    texts = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "every one identical after TF1 -> TF2 -> TF1" in texts
    assert "TensorFlow is not installed: skipping this cell" in texts
    plain = " ".join(o["data"].get("text/plain", "") for o in outputs if "data" in o)
    assert "'encoder/kernel'" in plain and "object-based" in plain
    if "(ckptviz.diff)" not in _missing_engines():  # both conversions change nothing
        assert plain.count("<ckptviz.DiffResult 19 keys: 0 changed, 1 added, 0 removed, 18 unchanged>") == 2


@pytest.mark.tensorflow
@pytest.mark.slow
@pytest.mark.skipif(not HAS_TF, reason="needs TensorFlow")
@pytest.mark.parametrize("name", ["tour", "migration"])
def test_notebooks_with_tensorflow(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    outputs = execute(nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4))
    check_clean(outputs, ("%ckpt restore: 2 value(s) disagree", *_missing_engines()), tf_logs=True)
    texts = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "skipping" not in texts
    assert (
        "step restored by ckptviz into a tf.Variable: 9"
        if name == "tour"
        else "restored 18 variables; scoped/c = [3. 3. 3.]"
    ) in texts


def _complete(kc: Any, text: str) -> dict[str, Any]:
    from jupyter_core.utils import run_sync

    msg_id = kc.complete(text, len(text))
    while True:
        msg = run_sync(kc.get_shell_msg)(timeout=30)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]  # type: ignore[no-any-return]


def test_magics_in_a_kernel(kernel_env: Path) -> None:
    """Output, the returned object, a one-line error and completion, through a real kernel."""
    import ckptviz.examples

    guide = ckptviz.examples.path("guide")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(f"%load_ext ckptviz\nguide = {guide!r}"),
            nbformat.v4.new_code_cell("r = %ckpt info $guide\nprint(r.tensors, r.kind)"),
            nbformat.v4.new_code_cell("%ckpt show $guide net/l1/kernal"),
            nbformat.v4.new_code_cell("%%ckpt\nls $guide --filter step"),
            nbformat.v4.new_code_cell(
                "import tempfile; out = tempfile.mkdtemp()\n%ckpt select $guide $out/bias net/l1/bias"
            ),
            nbformat.v4.new_code_cell("%ckpt verify $out/bias"),
        ]
    )
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3")
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
        text = "%ckpt show $guide net/l1/ke"
        reply = _complete(client.kc, text)
    assert nb.cells[1].outputs[0]["text"] == "15 object-based\n"
    err = nb.cells[2].outputs
    assert len(err) == 1 and err[0]["name"] == "stderr" and "did you mean 'net/l1/kernel" in err[0]["text"]
    assert "step/.ATTRIBUTES/VARIABLE_VALUE" in nb.cells[3].outputs[0]["data"]["text/plain"]
    assert (
        nb.cells[4].outputs[0]["text"].startswith("wrote ")
        and "(2 tensors)" in nb.cells[4].outputs[0]["text"]
    )
    verified = nb.cells[5].outputs
    assert len(verified) == 1 and "intact: " in verified[0]["data"]["text/plain"]
    assert text[: reply["cursor_start"]] + reply["matches"][0] == "%ckpt show $guide net/l1/kernel"


# -- `ckptviz lab`: JupyterLab on the tour, or its URL -------------------------------------------------

FAKE_LAB = """
import os, socket, sys, json, pathlib
port = int(next(a for a in sys.argv if a.startswith("--port=")).split("=")[1])
pathlib.Path(os.environ["FAKE_LAB_LOG"]).write_text(json.dumps({"argv": sys.argv[1:], "pid": os.getpid()}))
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port)); server.listen()
while True:
    server.accept()[0].close()
"""


def test_lab_prints_the_url_and_stops_its_server(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    fake = tmp_path / "fake" / "jupyterlab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(FAKE_LAB)
    log = tmp_path / "lab.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(fake.parent), str(ROOT)]),
        "FAKE_LAB_LOG": str(log),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ckptviz.cli", "lab", "--no-browser"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        head = proc.stdout.readline()
        url = proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    started = json.loads(log.read_text())
    port = next(a for a in started["argv"] if a.startswith("--port=")).split("=")[1]
    token = next(a for a in started["argv"] if a.startswith("--IdentityProvider.token=")).split("=")[1]
    assert head == "JupyterLab is serving tour.ipynb (no browser found: open this URL):\n"
    assert url == f"http://127.0.0.1:{port}/lab/tree/tour.ipynb?token={token}" and len(token) == 48
    assert str(NOTEBOOKS / "tour.ipynb") in started["argv"] and "--no-browser" in started["argv"]
    with pytest.raises(ProcessLookupError):  # the server went with it
        for _ in range(100):
            os.kill(started["pid"], 0)
            __import__("time").sleep(0.1)


def test_lab_without_jupyterlab_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from ckptviz import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jupyterlab" else real(name, *a)
    )
    assert cli.main(["lab"]) == 2
    assert (
        capsys.readouterr().err
        == "ckptviz: `ckptviz lab` needs JupyterLab: pip install 'ckptviz[notebook]'\n"
    )


def test_lab_without_a_graphical_session_prints_the_url(tmp_path: Path) -> None:
    import subprocess
    import sys

    fake = tmp_path / "fake" / "jupyterlab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(FAKE_LAB)
    log = tmp_path / "lab.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(fake.parent), str(ROOT)]), FAKE_LAB_LOG=str(log), BROWSER="true"
    )
    notebook = NOTEBOOKS / "migration.ipynb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ckptviz.cli", "lab", str(notebook)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert (
            proc.stdout.readline()
            == "JupyterLab is serving migration.ipynb (no browser found: open this URL):\n"
        )
        assert "/lab/tree/migration.ipynb?token=" in proc.stdout.readline()
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    assert "--no-browser" in json.loads(log.read_text())["argv"]


def test_widgets_notebook_runs_every_view(kernel_env: Path) -> None:
    pytest.importorskip("anywidget")
    nb = nbformat.read(NOTEBOOKS / "widgets.ipynb", as_version=4)
    outputs = execute(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "net/l1/kernel variable float32 [1, 5]" in text
    assert "3 of 15 keys" in text  # the bias and its two slots
    assert "1 value(s) disagree, nothing was restored" in text
    assert "restored 2 value(s) into live" in text and "'load'" in text
    assert "'changed': 10" in text and "graph colours: diff" in text
    assert "steps [2, 3, 4]" in text
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 5  # the explorer (three times), and the graph and the table alone
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert {s["model_name"] for s in state.values()} >= {"AnyModel", "TabModel"}
