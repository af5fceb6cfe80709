"""Export to every format with every installed engine; clear messages without one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import ckptviz
from ckptviz.model.graph import ObjectGraph
from ckptviz.render import export_graph, find_engine, mimebundle
from ckptviz.render import layout as layout_module

DATA = Path(__file__).parents[1] / "data"
GUIDE = DATA / "guide_legacy_adam"
ENGINES = ["dot", "graphviz-pure"]
MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}


def engine_or_skip(name: str) -> str:
    found = find_engine(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install graphviz / pip install graphviz-pure)")
    return found.command


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
@pytest.mark.parametrize("engine", ENGINES)
def test_export_each_format(tmp_path: Path, engine: str, fmt: str) -> None:
    found = find_engine(engine_or_skip(engine) and engine)
    assert found is not None
    if fmt not in found.formats:
        pytest.skip(f"{engine} cannot write {fmt} (it writes {sorted(found.formats & set(MAGIC))})")
    out = export_graph(str(GUIDE), tmp_path / f"g.{fmt}", engine=engine)
    assert out.read_bytes().startswith(MAGIC[fmt])


@pytest.mark.parametrize("engine", ENGINES)
def test_svg_keeps_kind_classes_ids_and_tooltips(tmp_path: Path, engine: str) -> None:
    engine_or_skip(engine)
    svg = export_graph(ckptviz.open(str(GUIDE)), tmp_path / "g.svg", engine=engine).read_text()
    for kind, count in {"optimizer": 1, "variable": 9, "slot": 4, "other": 4}.items():
        assert svg.count(f'class="node {kind}"') == count + 1  # + its legend entry
    assert 'id="ckpt_n12"' in svg and "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in svg


def test_dot_export_needs_no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout_module, "find_engine", lambda engine=None: None)
    graph = ckptviz.open(str(GUIDE)).graph
    out = export_graph(graph, tmp_path / "g.dot")
    assert out.read_text() == graph.to_dot()
    assert export_graph(graph, tmp_path / "g.txt", format="gv").read_text().startswith("digraph checkpoint {")


def test_missing_engine_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(layout_module.sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setattr(layout_module.sys, "executable", str(tmp_path / "python"))
    assert find_engine() is None
    with pytest.raises(ckptviz.UnsupportedCheckpointError) as info:
        export_graph(str(GUIDE), tmp_path / "g.svg")
    assert str(info.value) == (
        f"cannot write '{tmp_path / 'g.svg'}': a Graphviz layout engine (`dot` or graphviz-pure) was not found; "
        "ckptviz depends on graphviz-pure (`pip install graphviz-pure` restores it in this environment), "
        "or install Graphviz (`apt-get install graphviz`, `brew install graphviz`); a '.dot' file needs none"
    )
    assert not (tmp_path / "g.svg").exists()
    bundle = ckptviz.open(str(GUIDE)).graph._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and "pip install graphviz-pure" in bundle["text/plain"]


def test_format_the_engine_lacks_is_explained(tmp_path: Path) -> None:
    engine_or_skip("graphviz-pure")
    with pytest.raises(
        ckptviz.UnsupportedCheckpointError,
        match=r"graphviz-pure cannot write 'pdf' .*apt-get install graphviz",
    ):
        export_graph(str(GUIDE), tmp_path / "g.pdf", engine="graphviz-pure")


def test_bad_source_and_extension(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="not int"):
        export_graph(3, tmp_path / "g.svg")
    with pytest.raises(ValueError, match="give it an extension"):
        export_graph(str(GUIDE), tmp_path / "graph")


def test_notebook_display_is_svg() -> None:
    if find_engine() is None:
        pytest.skip("no Graphviz engine installed")
    graph = ckptviz.open(str(DATA / "guide_keras3")).graph
    bundle = graph._repr_mimebundle_()
    assert bundle["text/plain"] == repr(graph) and bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert mimebundle(graph, select=["net"])["image/svg+xml"].count('class="node ') == 2 + 4


@pytest.mark.parametrize("engine", ENGINES)
def test_resnet50_adam_exports(tmp_path: Path, engine: str) -> None:
    """Correctness only: how long it takes is benchmarks/bench_graph.py's business."""
    engine_or_skip(engine)
    meta = json.loads((DATA / "resnet50_adam/variables.json").read_text())
    graph = ObjectGraph.from_proto((DATA / "resnet50_adam/object_graph.pb").read_bytes(), meta)
    found = find_engine(engine)
    assert found is not None
    export_graph(graph, tmp_path / "r.svg", engine=engine)
    assert (tmp_path / "r.svg").read_bytes().startswith(MAGIC["svg"])
    if "png" in found.formats:
        assert export_graph(graph, tmp_path / "r.png", engine=engine).read_bytes().startswith(MAGIC["png"])


def fake_engine(tmp_path: Path, body: str) -> str:
    """An executable that answers ``-T?`` like Graphviz and does ``body`` for a layout."""
    script = tmp_path / "fake-dot"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-T?" ]; then echo "Format: \\"?\\" not recognized. Use one of: svg png json0" >&2; exit 1; fi\n'
        f"{body}\n"
    )
    script.chmod(0o755)
    return str(script)


def test_a_failing_engine_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    engine = fake_engine(tmp_path, 'echo "Error: syntax error in line 3" >&2\necho "  near x" >&2; exit 1')
    with pytest.raises(ckptviz.CheckpointError) as info:
        export_graph(str(GUIDE), tmp_path / "g.svg", engine=engine)
    assert isinstance(info.value, RuntimeError)  # what callers caught before
    assert str(info.value) == (
        "fake-dot could not lay the graph out as svg (exit 1): Error: syntax error in line 3 near x; "
        "save it as .dot, or try the other engine (--engine)"
    )
    bundle = ckptviz.open(str(GUIDE)).graph.draw(engine=engine)._repr_mimebundle_()
    assert set(bundle) == {"text/plain"} and bundle["text/plain"].endswith("try the other engine (--engine))")


def test_system_dot_is_preferred_to_graphviz_pure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("dot", "graphviz-pure"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    found = find_engine()
    assert found is not None and found.name == "dot" and found.command == str(tmp_path / "dot")
    os.remove(tmp_path / "dot")
    found = find_engine()
    assert found is not None and found.name == "graphviz-pure"


def slow_engine(tmp_path: Path) -> tuple[layout_module.Engine, Path]:
    """A Graphviz stand-in that lists its formats, writes its pid and then never finishes."""
    script = tmp_path / "slow-dot"
    pid = tmp_path / "pid"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-T?" ]; then echo "Format: \\"?\\" not recognized. Use one of: svg json0" >&2; exit 1; fi\n'
        f'echo $$ > "{pid}"\nexec sleep 600\n'
    )
    script.chmod(0o755)
    return layout_module.Engine("dot", str(script)), pid


def gone(pid_file: Path) -> bool:
    import os

    try:
        os.kill(int(pid_file.read_text()), 0)
    except ProcessLookupError:
        return True
    return False


def test_a_layout_past_its_timeout_is_killed_with_a_clear_error(tmp_path: Path) -> None:
    engine, pid = slow_engine(tmp_path)
    with pytest.raises(ckptviz.CheckpointError, match=r"did not finish the layout in 0\.5 s"):
        engine.run("digraph {}", "svg", timeout=0.5)
    assert gone(pid)


def test_a_cancelled_layout_kills_its_process(tmp_path: Path) -> None:
    import threading

    from ckptviz.errors import LayoutCancelledError

    engine, pid = slow_engine(tmp_path)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(LayoutCancelledError):
        engine.run("digraph {}", "svg", cancel=cancel)
    assert gone(pid)


def test_the_cli_turns_a_layout_timeout_into_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ckptviz.cli import main

    engine, _ = slow_engine(tmp_path)
    monkeypatch.setattr(layout_module, "LAYOUT_TIMEOUT", 0.5)
    assert main(["graph", str(GUIDE), "-o", str(tmp_path / "g.svg"), "--engine", engine.command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not finish the layout" in err and "--depth N" in err, err
