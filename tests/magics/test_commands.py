"""``%ckpt`` in a real in-process IPython shell: every subcommand, expansion, cells, returned
objects, and every error path (one line, no traceback)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

import ckptviz
import ckptviz.examples
from tests.magics.conftest import DATA, GUIDE, KERNEL, TF1, available, fails, live_tree, run


def test_load_ext_registers_line_and_cell_magic_once(shell: InteractiveShell) -> None:
    magics = shell.magics_manager.magics
    assert "ckpt" in magics["line"] and "ckpt" in magics["cell"]
    shell.run_line_magic("reload_ext", "ckptviz")
    ours = [
        m for m in shell.Completer.custom_matchers if getattr(m, "matcher_identifier", "") == "ckptviz.magics"
    ]
    assert len(ours) == 1


@pytest.mark.parametrize("line", ["", "--help", "help"])
def test_overview_lists_every_subcommand(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    assert run(ip, f"r = %ckpt {line}") is None
    out = capsys.readouterr().out
    for sub in (
        "ls",
        "info",
        "tree",
        "show",
        "graph",
        "browse",
        "diff",
        "timeline",
        "check",
        "restore",
        "select",
        "rename",
        "convert",
        "verify",
    ):
        assert f"\n  {sub} " in out


def test_subcommand_help_is_printed_not_raised(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(ip, "r = %ckpt restore --help") is None
    out = capsys.readouterr().out
    assert out.startswith("usage: %ckpt restore") and "--into OBJ" in out and "--exclude" in out


def test_ls_is_a_table_filtered_and_sorted(ip: InteractiveShell) -> None:
    frame = run(ip, "r = %ckpt ls $guide")
    assert list(frame["key"]) == list(ckptviz.open(GUIDE).entries)
    slot = frame[frame["key"] == "net/l1/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"]
    assert list(slot["name"]) == ["m of net/l1/kernel"] and list(slot["kind"]) == ["slot"]
    small = run(ip, "r = %ckpt ls $guide --filter 'l1/kernel' --sort size")
    assert set(small["key"]) == {k for k in frame["key"] if "l1/kernel" in k}
    assert list(small["nbytes"]) == sorted(small["nbytes"], reverse=True)


def test_info_says_what_the_checkpoint_is(ip: InteractiveShell) -> None:
    info = run(ip, "r = %ckpt info $guide")
    assert (info.format, info.kind, info.tensors, info.shards) == ("bundle", "object-based", 15, 1)
    assert info.optimizers == ["optimizer"]
    assert [Path(s).name for s in info.steps] == ["ckpt-2", "ckpt-3", "ckpt-4"]
    assert Path(info.latest).name == "ckpt-4" and "ckpt-4 (latest)" in repr(info)
    assert "<table>" in info._repr_html_() and info.to_dict()["kind"] == "object-based"
    tf1 = run(ip, "r = %ckpt info $tf1")
    assert tf1.kind == "name-based" and [Path(s).name for s in tf1.steps] == ["model.ckpt-1", "model.ckpt-2"]


def test_tree_is_the_text_tree_shown_as_text(ip: InteractiveShell) -> None:
    tree = run(ip, "r = %ckpt tree $guide")
    assert isinstance(tree, str) and repr(tree) == str(tree)
    assert "\n      kernel  variable  float32[1,5]  20 B" in tree
    assert "\n    m of net/l1/kernel  slot" in tree
    folded = run(ip, "r = %ckpt tree $guide --depth 1")
    assert "      kernel" not in folded and "more: " in folded


@pytest.mark.parametrize("name", [KERNEL, "net/l1/kernel"], ids=["key", "object path"])
def test_show_returns_the_tensor(ip: InteractiveShell, capsys: pytest.CaptureFixture[str], name: str) -> None:
    value = run(ip, f"r = %ckpt show $guide {name}")
    np.testing.assert_array_equal(value, ckptviz.open(GUIDE).read(KERNEL))
    out = capsys.readouterr().out
    assert out.startswith(f"{KERNEL}: float32 [1,5] 20 B\nmin ")


def test_show_by_tf1_name(ip: InteractiveShell) -> None:
    np.testing.assert_array_equal(
        run(ip, "r = %ckpt show $tf1 dense/bias"), ckptviz.open(TF1).read("dense/bias")
    )


def test_graph_draws_with_options_and_exports(ip: InteractiveShell, tmp_path: Path) -> None:
    picture = run(ip, "r = %ckpt graph $guide --depth 1 --select net/l1/bias")
    assert picture.options == {"max_depth": 1, "select": ["net/l1/bias"]}
    bundle = picture._repr_mimebundle_()
    from ckptviz.render import find_engine

    if find_engine() is not None:
        assert "<svg" in bundle["image/svg+xml"] and "bias" in bundle["image/svg+xml"]
    ip.user_ns["out"] = tmp_path
    written = run(ip, "r = %ckpt graph $guide --focus net/l1 --export {out / 'g.dot'}")
    text = Path(written).read_text()
    assert text.startswith("digraph") and "kernel" in text
    folded = run(ip, "r = %ckpt graph $guide --collapse net --max-nodes 0")
    assert folded.options == {"collapse": ["net"], "max_nodes": None} and "kernel" not in folded.dot


def test_verify_reports_damage_without_raising(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = run(ip, "r = %ckpt verify $guide")
    assert ok.ok and ok.tensors == 15
    bad = run(ip, f"r = %ckpt verify {DATA / 'corrupt/tensor_flip/ckpt-1'}")
    assert not bad.ok and "checksum mismatch" in bad.problems[0].message
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("line", "name", "what"),
    [
        ("diff {guide}/ckpt-2 {guide}/ckpt-4", "diff", "the diff engine"),
        ("timeline {guide}", "timeline", "the training-run timeline"),
        ("browse {guide}", "explore", "the explorer widget"),
    ],
    ids=["diff", "timeline", "browse"],
)
def test_engines_return_their_object_or_name_what_is_missing(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, name: str, what: str
) -> None:
    if available(name):
        result = run(ip, f"r = %ckpt {line}")
        assert result is not None
        assert type(result).__module__.startswith("ckptviz")
    else:
        assert f"{what} (ckptviz.{name})" in fails(ip, capsys, line)


def test_check_names_a_notebook_object(ip: InteractiveShell) -> None:
    report = run(ip, "r = %ckpt check $guide live")
    assert isinstance(report, ckptviz.CheckReport)
    assert {r.path for r in report.matched} == {"net/l1/kernel", "net/l1/bias"}


def test_check_reaches_attributes(ip: InteractiveShell) -> None:
    class Holder:
        tree = live_tree()

    ip.user_ns["holder"] = Holder()
    assert len(run(ip, "r = %ckpt check $guide holder.tree").matched) == 2


def test_restore_only_the_bias(ip: InteractiveShell) -> None:
    status = run(ip, "r = %ckpt restore $guide --into live --select net/l1/bias")
    want = ckptviz.open(GUIDE)
    np.testing.assert_array_equal(
        ip.user_ns["live"]["net"]["l1"]["bias"], want.read("net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE")
    )
    assert not ip.user_ns["live"]["net"]["l1"]["kernel"].any()
    assert isinstance(status, ckptviz.RestoreStatus)


def test_restore_all_but_the_head_and_with_a_map(ip: InteractiveShell) -> None:
    run(ip, "r = %ckpt restore $guide --into live --exclude net/l1/kernel")
    assert (
        ip.user_ns["live"]["net"]["l1"]["bias"].any() and not ip.user_ns["live"]["net"]["l1"]["kernel"].any()
    )
    ip.user_ns["model"] = {"body": {"l1": {"bias": np.zeros(5, np.float32)}}}
    run(ip, "r = %ckpt restore $guide --into model --select net/l1/bias --map net/=body/")
    assert ip.user_ns["model"]["body"]["l1"]["bias"].any()


def test_select_rename_convert_write_new_checkpoints(ip: InteractiveShell, tmp_path: Path) -> None:
    ip.user_ns["out"] = str(tmp_path)
    part = run(ip, "r = %ckpt select $guide $out/part net/l1/bias")
    assert isinstance(part, ckptviz.Checkpoint) and part.graph.find("net/l1/bias").kind == "variable"
    assert not any(k.startswith("net/l1/kernel") for k in part.entries)
    moved = run(ip, "r = %ckpt rename $guide $out/moved net/=body/")
    assert "body/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in moved.entries
    tf2 = run(ip, "r = %ckpt convert $tf1 $out/tf2 --to tf2")
    assert tf2.is_object_based
    back = run(ip, "r = %ckpt convert $out/tf2 $out/back --to tf1")
    assert set(back.entries) - {"save_counter"} == set(
        ckptviz.open(TF1).entries
    )  # TF2 saves add a save_counter
    again = run(ip, "r = %ckpt select $guide $out/part net/l1/kernel --overwrite")
    assert any(k.startswith("net/l1/kernel") for k in again.entries)


def test_dollar_and_brace_expansion(ip: InteractiveShell) -> None:
    ip.user_ns.update(key="net/l1", ckptviz=ckptviz)
    by_dollar = run(ip, "r = %ckpt show $guide $key/kernel")
    by_expr = run(ip, "r = %ckpt show {ckptviz.examples.path('guide', step=4)} {key + '/kernel'}")
    np.testing.assert_array_equal(by_dollar, by_expr)


def test_cell_runs_one_subcommand_per_line(ip: InteractiveShell) -> None:
    results = run(
        ip, "r = get_ipython().run_cell_magic('ckpt', '', 'ls $guide\\n# a comment\\ninfo {tf1}\\n' + guide)"
    )
    assert [type(x).__name__ for x in results] == ["DataFrame", "Info", "Info"]
    assert results[2].kind == "object-based" and results[1].kind == "name-based"


def test_cell_of_paths_runs_the_subcommand_on_each(ip: InteractiveShell) -> None:
    steps = "\n".join(ckptviz.examples.steps("guide"))
    results = run(ip, f"r = get_ipython().run_cell_magic('ckpt', 'ls --filter step', {steps!r})")
    assert len(results) == 3 and all(list(f["key"]) == ["step/.ATTRIBUTES/VARIABLE_VALUE"] for f in results)


def test_a_failing_line_stops_the_cell(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(ip, "r = get_ipython().run_cell_magic('ckpt', '', 'info $guide\\nls /no/such\\ninfo $guide')")
        is None
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "/no/such" in err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ls /no/such/ckpt", "%ckpt ls: "),
        (f"ls {DATA / 'corrupt/bad_magic/ckpt-1'}", "bad table magic"),
        (f"show {DATA / 'corrupt/tensor_flip/ckpt-1'} x", "%ckpt show"),
        ("show $guide net/l1/kernal", "did you mean 'net/l1/kernel"),
        ("check $guide livee", "the notebook has no variable named 'livee'; did you mean live?"),
        ("restore $guide --into live.nope", "'live' has no attribute 'nope'"),
        ("restore $guide", "the following arguments are required: --into"),
        ("frobnicate $guide", "unknown subcommand 'frobnicate'"),
        ("lss $guide", "did you mean ls?"),
        ("ls $guide --sort speed", "invalid choice: 'speed'"),
        ("ls $guide --bogus", "unrecognized arguments: --bogus"),
        ("ls $guide --filter '('", "--filter '(' is not a regular expression"),
        ("rename $guide /tmp/x net", "an assignment map entry is OLD=NEW, got 'net'"),
        ("select $guide {guide}/ckpt-4 net/l1/bias", "%ckpt select: "),
        ("select $guide /tmp/ckptviz-nothing nothing/here", "%ckpt select: "),
        ("ls 'unclosed", "cannot split the line"),
        ("graph $guide --export {guide}/no-extension", "%ckpt graph: "),
    ],
)
def test_errors_print_one_line(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    assert expected in fails(ip, capsys, line)


def test_existing_destination_says_how_to_replace(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ip.user_ns["out"] = str(tmp_path)
    run(ip, "r = %ckpt select $guide $out/p net/l1/bias")
    assert "--overwrite" in fails(ip, capsys, "select $guide $out/p net/l1/bias")


def test_debug_shows_the_traceback(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    result = ip.run_cell("%ckpt ls /no/such/ckpt --debug")
    assert isinstance(result.error_in_exec, ckptviz.CheckpointNotFoundError)


def test_paths_keep_their_form(ip: InteractiveShell) -> None:
    prefix = ckptviz.examples.path("guide", step=3)
    for form in (prefix, prefix + ".index", prefix + ".data-00000-of-00001", os.path.dirname(prefix)):
        assert run(ip, f"r = %ckpt info {form}").tensors == 15
    keras = run(ip, f"r = %ckpt info {DATA / 'keras3_files/model.weights.h5'}")
    assert keras.format == "keras" and keras.tensors == len(
        ckptviz.open(str(DATA / "keras3_files/model.weights.h5"))
    )


def test_urls_are_paths_too(ip: InteractiveShell) -> None:
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    for name in ("ckpt-3.index", "ckpt-3.data-00000-of-00001"):
        memory.pipe(f"/magics/{name}", (Path(GUIDE) / name).read_bytes())
    frame = run(ip, "r = %ckpt ls memory://magics/ckpt-3 --filter kernel")
    assert "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE" in list(frame["key"])
    np.testing.assert_array_equal(
        run(ip, "r = %ckpt show memory://magics/ckpt-3 net/l1/kernel"),
        ckptviz.open(GUIDE + "/ckpt-3").read(KERNEL),
    )


def test_check_with_a_selection(ip: InteractiveShell) -> None:
    ip.user_ns["new_model"] = {
        "step": np.zeros((), np.int32),
        "net": {"l1": {"kernel": np.zeros((1, 3), np.float32)}},
    }
    assert not run(ip, "r = %ckpt check $guide new_model").ok
    report = run(ip, "r = %ckpt check $guide new_model --exclude net/l1")
    assert [r.path for r in report.mismatched] == [] and [r.path for r in report.matched] == ["step"]


def test_restore_into_an_object_below_the_root(ip: InteractiveShell) -> None:
    ip.user_ns["net"] = {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(5, np.float32)}}
    status = run(ip, "r = %ckpt restore $guide --into net --root net")
    assert status is not None and ip.user_ns["net"]["l1"]["kernel"].any()


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        (
            "anywidget",
            "the explorer widget (ckptviz.explore) needs the 'anywidget' package: pip install anywidget",
        ),
        (
            "ckptviz.widgets.graph",
            "the explorer widget (ckptviz.explore) is incomplete here: ckptviz.widgets.graph is missing",
        ),
    ],
)
def test_a_missing_dependency_is_named(
    ip: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    missing: str,
    expected: str,
) -> None:
    def explore_missing(name: str) -> Any:
        if name == "explore":
            raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)
        raise AttributeError(name)

    monkeypatch.setattr(ckptviz, "__getattr__", explore_missing)
    assert fails(ip, capsys, "browse $guide") == f"%ckpt browse: {expected}"


def test_diff_options_reach_the_engine(ip: InteractiveShell, tmp_path: Path) -> None:
    if not available("diff"):
        pytest.skip("no diff engine in this version")
    ip.user_ns["out"] = str(tmp_path)
    run(ip, "r = %ckpt convert $tf1 $out/tf2 --to tf2")
    by_name = run(ip, "r = %ckpt diff $tf1 $out/tf2 --match full_name")
    assert "0 changed, 1 added, 0 removed, 18 unchanged" in repr(by_name)
    steps = ckptviz.examples.steps("guide")
    strict = run(ip, f"r = %ckpt diff {steps[0]} {steps[-1]}")
    loose = run(
        ip, f"r = %ckpt diff {steps[0]} {steps[-1]} --atol 1e9"
    )  # only the (non-numeric) iterator state differs
    assert "10 changed" in repr(strict) and "1 changed" in repr(loose)
    renamed = run(ip, "r = %ckpt rename $guide $out/body net/=body/")
    mapped = run(ip, f"r = %ckpt diff $guide {renamed.path} --map net/=body/")
    assert " 0 changed, 0 added, 0 removed" in repr(mapped)


def test_what_a_command_drops_is_one_warning_line(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ip.user_ns["out"] = str(tmp_path)
    capsys.readouterr()
    tf1 = run(ip, "r = %ckpt convert $guide $out/tf1 --to tf1")
    assert "net/dense/kernel" in tf1.entries  # the full_name tf_keras recorded
    err = capsys.readouterr().err
    assert (
        err
        == "%ckpt convert: warning: converting to TF1 drops 1 key(s) that are not variables: iterator/.ATTRIBUTES/ITERATOR_STATE\n"
    )


def test_unwritable_output_is_one_line(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        fails(ip, capsys, "graph $guide --export /no/such/dir/g.svg")
        == "%ckpt graph: No such file or directory: /no/such/dir/g.svg"
    )


def test_a_path_alone_browses_or_says_what_it_is(ip: InteractiveShell) -> None:
    """The JupyterLab panel's "Insert %ckpt cell" writes ``%ckpt "PATH"``."""
    result = run(ip, f'r = %ckpt "{GUIDE}"')
    if available("explore"):
        assert type(result).__module__.startswith("ckptviz.widgets")
    else:
        assert result.kind == "object-based" and result.tensors == 15


def test_a_bare_checkpoint_name_beside_the_notebook_browses_it(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``%ckpt "ckpt-4"`` where the notebook sits beside the checkpoint (only ckpt-4.index exists)."""
    monkeypatch.chdir(DATA / "guide_legacy_adam")
    assert not os.path.exists("ckpt-4") and os.path.exists("ckpt-4.index")
    result = run(ip, 'r = %ckpt "ckpt-4"')
    assert result is not None and "unknown subcommand" not in repr(result)
