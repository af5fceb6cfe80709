"""Tab completion of ``%ckpt`` lines through IPython's completer: each kind of completion."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell

from ckptviz.magics.completion import complete
from ckptviz.magics.parsing import SUBCOMMANDS, parser
from tests.magics.conftest import DATA, GUIDE, KERNEL, TF1, completions, live_tree


def test_completes_subcommands_and_options(ip: InteractiveShell) -> None:
    assert completions(ip, "%ckpt ti") == [("%ckpt timeline", "subcommand")]
    assert ("%ckpt restore x --exclude", "option") in completions(ip, "%ckpt restore x --ex")
    assert completions(ip, "%ckpt ls x --sort s") == [("%ckpt ls x --sort size", "choice")]


def test_completes_paths_checkpoint_prefixes_first(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DATA)
    got = completions(ip, "%ckpt ls guide_legacy_adam/")
    assert got[:3] == [(f"%ckpt ls guide_legacy_adam/ckpt-{i}", "checkpoint") for i in (2, 3, 4)]
    assert ("%ckpt ls guide_legacy_adam/checkpoint", "file") in got[3:]
    assert not any(".data-" in t or t.endswith(".index") for t, _ in got)
    assert ("%ckpt diff tf1_saver/", "directory") in completions(ip, "%ckpt diff tf1_")


def test_completes_object_paths_then_keys_once_the_path_is_typed(ip: InteractiveShell) -> None:
    got = completions(ip, f"%ckpt show {GUIDE} net/l1/k")
    assert got[0] == (f"%ckpt show {GUIDE} net/l1/kernel", "object")
    assert (f"%ckpt show {GUIDE} {KERNEL}", "key") in got
    select = completions(ip, f"%ckpt restore {GUIDE} --into live --select net/l1/b")
    assert select[0] == (f"%ckpt restore {GUIDE} --into live --select net/l1/bias", "object")
    focus = completions(ip, f"%ckpt graph {GUIDE} --focus opt")
    assert focus[0] == (f"%ckpt graph {GUIDE} --focus optimizer", "object")
    tf1 = completions(ip, f"%ckpt select {TF1} /tmp/x dense_1/")
    assert (f"%ckpt select {TF1} /tmp/x dense_1/kernel", "object") in tf1


def test_completes_variable_names_for_objects(ip: InteractiveShell) -> None:
    assert completions(ip, f"%ckpt restore {GUIDE} --into li") == [
        (f"%ckpt restore {GUIDE} --into live", "variable")
    ]
    assert (f"%ckpt check {GUIDE} live", "variable") in completions(ip, f"%ckpt check {GUIDE} l")
    assert not [t for t, _ in completions(ip, f"%ckpt check {GUIDE} o") if t.endswith(" os")]  # no modules


def test_completes_attributes_of_notebook_objects(ip: InteractiveShell) -> None:
    class Trainer:
        model = live_tree()

    ip.user_ns["trainer"] = Trainer()
    assert completions(ip, f"%ckpt restore {GUIDE} --into trainer.mo") == [
        (f"%ckpt restore {GUIDE} --into trainer.model", "attribute")
    ]


def test_completes_inside_a_cell(ip: InteractiveShell) -> None:
    text = f"%%ckpt\nls {GUIDE}\nshow {GUIDE} net/l1/ke"
    with provisionalcompleter():
        found = list(ip.Completer.completions(text, len(text)))
    assert found and (text[: found[0].start] + found[0].text).endswith("net/l1/kernel")


def test_completion_never_raises(ip: InteractiveShell) -> None:
    from ckptviz.magics.completion import complete

    for path in ("/no/such/ckpt", DATA / "corrupt/bad_magic/ckpt-1"):
        assert complete(f"show {path} net", {}) == ("net", [])
        completions(ip, f"%ckpt show {path} net")  # IPython's own matchers still answer


def test_completes_names_of_a_path_given_as_a_variable(ip: InteractiveShell) -> None:
    assert completions(ip, "%ckpt show $guide net/l1/ke")[0] == ("%ckpt show $guide net/l1/kernel", "object")


@pytest.mark.parametrize("sub", sorted(SUBCOMMANDS))
def test_completion_offers_exactly_the_options_the_parser_takes(sub: str) -> None:
    taken = {o for a in parser(sub)._actions for o in a.option_strings if o.startswith("--")}
    word, got = complete(f"{sub} x --", {})
    assert word == "--" and {t for t, _ in got} == taken


def test_names_follow_a_checkpoint_renamed_into_place(tmp_path: Path) -> None:
    import numpy as np

    import ckptviz
    from ckptviz.magics.completion import Names
    from tests.server.test_cache import rewrite_in_place

    prefix = ckptviz.write_checkpoint(tmp_path / "ckpt", {"x": np.zeros(2, np.float32)})
    names = Names()
    assert names(prefix, "") == [("x", "object")]
    rewrite_in_place(tmp_path / "ckpt", {"y": np.zeros(2, np.float32)})  # same size, same mtime
    assert names(prefix, "") == [("y", "object")]
