"""The diff of two checkpoints and the timeline of a run, through the REST routes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import ckptviz

A, B = "guide_legacy_adam/ckpt-3", "guide_legacy_adam/ckpt-4"


def _run(directory: Path, steps: int = 2) -> Path:
    """A run of ``steps`` checkpoints whose one variable ``w`` holds the step number."""
    directory.mkdir()
    for step in range(1, steps + 1):
        ckptviz.write_checkpoint(directory / f"ckpt-{step}", {"w": np.full(3, step, np.float32)})
    return directory


async def test_diff_rows_and_rollup(api) -> None:
    code, body = await api("diff", a=A, b=B)
    assert code == 200, body
    want = ckptviz.diff(f"tests/data/{A}", f"tests/data/{B}").to_dict()
    assert body["a"] == A and body["b"] == B
    assert body["counts"] == want["counts"] and body["equal"] is False
    assert [r["key"] for r in body["rows"]] == [r["key"] for r in want["rows"]]
    kernel = next(r for r in body["rows"] if r["key"] == "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
    assert kernel["status"] == "changed" and kernel["max_abs_diff"] > 0
    assert body["rollups"][0]["path"] == ""


async def test_diff_pages_and_filters(api) -> None:
    _, changed = await api("diff", a=A, b=B, only="changed", limit="2")
    assert {r["status"] for r in changed["rows"]} == {"changed"} and len(changed["rows"]) == 2
    _, rest = await api("diff", a=A, b=B, only="changed", limit="2", offset="2")
    assert changed["rows"][-1]["key"] < rest["rows"][0]["key"]
    assert changed["total"] == rest["total"] == changed["counts"]["changed"]
    _, same = await api("diff", a=B, b=B)
    assert same["equal"] is True


async def test_diff_refuses_paths_outside_and_bad_options(api, root: Path, outside: Path) -> None:
    up = os.path.relpath(outside / "guide" / "ckpt-4", root)
    assert (await api("diff", a=up, b=B))[0] == 403
    assert (await api("diff", a=A, b=up))[0] == 403
    code, body = await api("diff", a=A, b=B, match="name")
    assert code == 400 and "match must be" in body["message"]
    code, body = await api("diff", a=A, b=B, atol="-1")
    assert code == 400 and "atol" in body["message"]
    code, body = await api("diff", a=A, b=B, only="moved")
    assert code == 400
    code, body = await api("diff", a=A, b="guide_legacy_adam/ckpt-9")
    assert code == 404


async def test_timeline_of_a_checkpoint_manager_directory(api) -> None:
    code, body = await api("timeline", path="guide_legacy_adam")
    assert code == 200, body
    assert [s["prefix"] for s in body["steps"]] == [f"guide_legacy_adam/ckpt-{i}" for i in (2, 3, 4)]
    series = body["variables"]["net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"]["series"]
    assert len(series) == 3 and series[1]["relative_change"] > 0
    _, some = await api("timeline", path="guide_legacy_adam", variables="bias")
    assert set(some["variables"]) and all("bias" in k for k in some["variables"])


async def test_timeline_never_follows_a_state_file_naming_outside(api, root: Path, outside: Path) -> None:
    (root / "run").mkdir()
    (root / "run" / "checkpoint").write_text(
        f'model_checkpoint_path: "{outside}/guide/ckpt-4"\nall_model_checkpoint_paths: "{outside}/guide/ckpt-4"\n'
    )
    code, body = await api("timeline", path="run")
    assert code == 404 and str(outside) not in body["message"], body  # never looked at: no 403/404 oracle
    code, body = await api("timeline", path="guide_legacy_adam", variables="(", regex="1")
    assert code == 400 and "RE2" in body["message"]
    code, body = await api("timeline", path="guide_legacy_adam", variables="no-such-variable")
    assert code == 400 and "matched no key" in body["message"]


async def test_a_timeline_is_kept_until_a_checkpoint_of_its_run_changes(api, root: Path, monkeypatch) -> None:
    import ckptviz.model.timeline as model_timeline

    from .test_cache import rewrite_in_place

    run = _run(root / "live")
    computed: list[int] = []
    original = model_timeline.timeline

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        computed.append(len(args[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(model_timeline, "timeline", counted)
    _, first = await api("timeline", path="live")
    _, again = await api("timeline", path="live")
    assert computed == [2] and again == first
    rewrite_in_place(run / "ckpt-2", {"w": np.full(3, 5, np.float32)})  # same size and mtime
    _, changed = await api("timeline", path="live")
    assert computed == [2, 2] and changed["variables"]["w"]["series"][1]["mean"] == 5.0


async def test_a_grown_run_computes_only_its_new_checkpoint(api, root: Path, monkeypatch) -> None:
    """The server's open checkpoints carry their change stamps, so the timeline it keeps is reused
    step by step: after a save, only the new checkpoint is worked out."""
    import ckptviz.model.timeline as model_timeline

    run = _run(root / "growing")
    worked: list[int] = []
    original = model_timeline.read_step

    def counted(ckpt, *args, **kwargs):  # type: ignore[no-untyped-def]
        worked.append(1)
        return original(ckpt, *args, **kwargs)

    monkeypatch.setattr(model_timeline, "read_step", counted)
    await api("timeline", path="growing")
    assert len(worked) == 2
    ckptviz.write_checkpoint(run / "ckpt-3", {"w": np.full(3, 3, np.float32)})
    _, grown = await api("timeline", path="growing")
    assert len(worked) == 3 and [s["mean"] for s in grown["variables"]["w"]["series"]] == [1.0, 2.0, 3.0]
