"""Every face of ckptviz over every file of the wild corpus: the CLI (a diff of each with itself
included), the ``%ckpt`` magics, the widgets and the panel's server payloads list, draw and verify
each checkpoint without a traceback, and say in one line what is wrong with the ones that cannot be
read (Git LFS pointers)."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from typing import Any

import pytest

import ckptviz
from ckptviz.cli import main
from ckptviz.errors import CheckpointError, CheckpointWarning
from tests.wild.conftest import PRESENT, WILD, records

pytestmark = pytest.mark.skipif(not PRESENT, reason="the wild corpus (../shared/corpora/wild) is not here")

READABLE = [r["prefix"] for r in records("checkpoints") + records("incomplete_checkpoints")]
READABLE += [r["path"] for r in records("keras_files")]
UNREADABLE = [r["prefix"] for r in records("unreadable")]
INCOMPLETE = {r["prefix"]: r for r in records("incomplete_checkpoints")}


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("relative", READABLE)
def test_cli(relative: str) -> None:
    path = str(WILD / relative)
    for command in (["ls"], ["tree"], ["graph"], ["verify"]):
        code, out, err = cli(*command, path)
        assert "Traceback" not in out + err
        if relative in INCOMPLETE:  # listed and drawn from the index, saying what is missing
            assert code == (1 if command == ["verify"] else 0), (command, err)
            assert "missing" in err + out or command in (["tree"], ["graph"])
        else:
            assert code == 0 and not err.strip(), (command, err)
        assert out.strip()
    if relative in INCOMPLETE:  # a key whose data file is missing
        key = next(
            k["key"] for k in INCOMPLETE[relative]["keys"] if "No such file" in k.get("get_tensor_error", "")
        )
    else:
        key = next(iter(ckptviz.open(path).entries))
    code, out, err = cli("show", path, key)
    assert "Traceback" not in out + err
    if relative in INCOMPLETE:
        assert code == 2 and err.count("\n") == 1 and "is missing" in err
    else:
        assert code == 0


@pytest.mark.parametrize("relative", UNREADABLE)
def test_cli_on_git_lfs_pointers(relative: str) -> None:
    for command in ("ls", "tree", "graph", "verify"):  # nothing to verify until it is fetched
        code, out, err = cli(command, str(WILD / relative))
        assert code == 2 and out == "" and err.count("\n") == 1 and "git lfs pull" in err


@pytest.fixture(scope="module")
def shell() -> Any:
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "ckptviz")
    return ip


@pytest.mark.parametrize("relative", READABLE + UNREADABLE)
def test_magics(shell: Any, relative: str, capsys: pytest.CaptureFixture[str]) -> None:
    for sub in ("ls", "info", "tree", "graph", "verify"):
        shell.user_ns["p"] = str(WILD / relative)
        result = shell.run_cell(f"r = %ckpt {sub} $p")
        assert result.error_in_exec is None and result.error_before_exec is None
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        if relative in UNREADABLE:
            assert shell.user_ns["r"] is None and "git lfs pull" in err and err.count("\n") == 1
        elif relative not in INCOMPLETE:
            assert shell.user_ns["r"] is not None and not err, (sub, err)


@pytest.mark.parametrize("relative", READABLE)
def test_server_payloads(relative: str) -> None:
    from ckptviz.model.checkpoint import Checkpoint
    from ckptviz.render.plan import select_view
    from ckptviz.server import listing, payloads
    from ckptviz.server.paths import Root

    root = Root(str(WILD))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckpointWarning)
        listed = listing.scan(root.files, root.resolve(os.path.dirname(relative)))
        with Checkpoint.of_reader(*root.files.open_checkpoint(root.resolve(relative))) as ckpt:
            summary = payloads.summary(ckpt, relative)
            page = payloads.entries(ckpt, relative, 0, 50)
            graph = ckpt.graph
            plan = payloads.plan(graph, select_view(graph, payloads.graph_options({"max_nodes": 300})))
    assert len(page["entries"]) == min(50, summary["tensors"]) and plan
    name = os.path.basename(relative)
    assert any(name in str(item) for item in listed.get("checkpoints", listed.get("items", [listed])))


@pytest.mark.parametrize("relative", UNREADABLE)
def test_server_payloads_on_git_lfs_pointers(relative: str) -> None:
    from ckptviz.server.paths import Root

    root = Root(str(WILD))
    with pytest.raises(CheckpointError, match="git lfs pull"):
        root.files.open_checkpoint(root.resolve(relative))


@pytest.mark.parametrize("relative", READABLE)
def test_widgets(relative: str) -> None:
    pytest.importorskip("anywidget")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckpointWarning)  # incomplete ones say what is missing
        ex = ckptviz.explore(str(WILD / relative))
        ex.graph.join()
    assert ex.graph.drawing["nodes"] and ex.tensors.rows
    assert not ex.graph.error
    ex.close()


@pytest.mark.parametrize("relative", UNREADABLE)
def test_widgets_on_git_lfs_pointers(relative: str) -> None:
    pytest.importorskip("anywidget")
    with pytest.raises(CheckpointError, match="git lfs pull"):
        ckptviz.explore(str(WILD / relative))


@pytest.mark.parametrize("relative", [r for r in READABLE if r not in INCOMPLETE])
def test_cli_diff_of_a_checkpoint_with_itself_is_equal(relative: str) -> None:
    code, out, err = cli("diff", str(WILD / relative), str(WILD / relative))
    assert code == 0 and not err.strip() and "Traceback" not in out, err
    assert " 0 changed, 0 added, 0 removed" in out


RUNS = sorted(
    {
        os.path.dirname(r)
        for r in READABLE
        if r not in INCOMPLETE and (WILD / os.path.dirname(r) / "checkpoint").is_file()
    }
)


@pytest.mark.parametrize("run", RUNS)
def test_cli_timeline_of_each_run(run: str) -> None:
    code, out, err = cli("timeline", str(WILD / run))
    lines = err.splitlines()
    assert "Traceback" not in out + err
    if code == 0:  # two checkpoints or more: the table
        assert out.startswith("relative change from the previous checkpoint, by step")
    else:  # one: which, and what to pass instead
        assert code == 2 and "a timeline compares checkpoints and" in lines[-1] and "holds one" in lines[-1]
        lines = lines[:-1]
    assert all(line.startswith("ckptviz: warning: the 'checkpoint' file of") for line in lines), err
