"""No request reads or writes outside the server's root: every trick is refused with 403.

Each check in ckptviz/server/paths.py was removed once by hand to watch these fail: without
``Root.check``'s realpath test the symlink, state-file and export cases fail; without
``Root.locate``'s loop over a checkpoint's files the symlinked index/shard and state-file cases;
without ``Root.resolve``'s syntax checks (or with a single URL-decoding) the escape cases."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest

import ckptviz

ROUTES = [
    ("checkpoints", {}),
    ("entries", {}),
    ("graph", {"svg": "0"}),
    ("tensor", {"key": "step/.ATTRIBUTES/VARIABLE_VALUE"}),
]


def escapes(outside: Path, root: Path) -> list[str]:
    up = os.path.relpath(outside, root)
    return [
        f"{up}/guide/ckpt-4",
        "../" * 12 + f"{str(outside).lstrip('/')}/guide/ckpt-4",
        str(outside / "guide" / "ckpt-4"),  # absolute
        f"guide_legacy_adam/../{up}/guide/ckpt-4",
        quote(f"{up}/guide/ckpt-4", safe=""),  # arrives still encoded: %2E%2E%2F…
        quote(quote(f"{up}/guide/ckpt-4", safe=""), safe=""),  # double-encoded
        "%2e%2e/%2e%2e/etc/passwd",
        "..\\..\\etc\\passwd",
        "~/guide/ckpt-4",
    ]


@pytest.mark.parametrize("route,extra", ROUTES, ids=[r for r, _ in ROUTES])
async def test_escapes_are_refused(api, root: Path, outside: Path, route: str, extra: dict) -> None:
    for path in escapes(outside, root):
        code, body = await api(route, path=path, **extra)
        assert code == 403, (route, path, body)
        assert "Traceback" not in body["message"] and str(root) not in body["message"]


async def test_symlinked_directory_out_of_root_is_refused(api, root: Path, outside: Path) -> None:
    (root / "link").symlink_to(outside / "guide")
    for route, extra in ROUTES:
        path = "link" if route == "checkpoints" else "link/ckpt-4"
        code, body = await api(route, path=path, **extra)
        assert code == 403, (route, body)


async def test_symlinked_index_out_of_root_is_refused(api, root: Path, outside: Path) -> None:
    (root / "evil").mkdir()
    (root / "evil" / "ckpt-4.index").symlink_to(outside / "guide" / "ckpt-4.index")
    code, _ = await api("entries", path="evil/ckpt-4")
    assert code == 403
    _, listing = await api("checkpoints", path="evil")
    assert listing["checkpoints"] == []  # not listed either


async def test_symlinked_shard_out_of_root_is_refused(api, root: Path, outside: Path) -> None:
    (root / "evil").mkdir()
    os.link(root / "guide_legacy_adam" / "ckpt-4.index", root / "evil" / "ckpt-4.index")
    (root / "evil" / "ckpt-4.data-00000-of-00001").symlink_to(
        outside / "guide" / "ckpt-4.data-00000-of-00001"
    )
    code, body = await api("tensor", path="evil/ckpt-4", key="step/.ATTRIBUTES/VARIABLE_VALUE")
    assert code == 403, body
    _, listing = await api("checkpoints", path="evil")
    assert "outside" in listing["checkpoints"][0]["error"]


async def test_state_file_naming_an_outside_prefix_is_never_followed(api, root: Path, outside: Path) -> None:
    """An absolute entry is taken by its last name in the state file's directory: the outside
    path is never looked at, so whether it exists cannot show in the answer."""
    answers = []
    for run, target in [("run_a", outside / "guide" / "ckpt-4"), ("run_b", outside / "nowhere" / "ckpt-4")]:
        (root / run).mkdir()
        (root / run / "checkpoint").write_text(f'model_checkpoint_path: "{target}"\n')
        answers.append(await api("entries", path=run))
        answers.append(await api("timeline", path=run))
        _, listing = await api("checkpoints", path=run)
        assert listing["state"]["latest"] is None and listing["state"]["all"] == []
    assert answers[0][0] == 404 and answers[0] == (answers[2][0], _renamed(answers[2][1], "run_b", "run_a"))
    assert answers[1][0] == 404 and answers[1] == (answers[3][0], _renamed(answers[3][1], "run_b", "run_a"))
    (root / "run_a" / "ckpt-4.index").write_bytes((root / "guide_legacy_adam" / "ckpt-4.index").read_bytes())
    (root / "run_a" / "ckpt-4.data-00000-of-00001").write_bytes(
        (root / "guide_legacy_adam" / "ckpt-4.data-00000-of-00001").read_bytes()
    )
    code, body = await api("entries", path="run_a")  # the copy beside it, as for a moved directory
    assert code == 200 and body["total"] > 0


def _renamed(body: dict, old: str, new: str) -> dict:
    return {k: v.replace(old, new) if isinstance(v, str) else v for k, v in body.items()}


async def test_symlinked_state_file_out_of_root_is_not_read(api, root: Path, outside: Path) -> None:
    (root / "run").mkdir()
    (root / "run" / "checkpoint").symlink_to(outside / "guide" / "checkpoint")
    _, listing = await api("checkpoints", path="run")
    assert listing["state"] is None and "outside" in listing["state_error"]


async def test_export_never_writes_outside(api, root: Path, outside: Path) -> None:
    src = "guide_legacy_adam/ckpt-4"
    for dest in [*escapes(outside, root), "link/new"]:
        if dest == "link/new":
            (root / "link").symlink_to(outside)
        code, body = await api("export", method="POST", body={"path": src, "dest": dest, "overwrite": True})
        assert code == 403, (dest, body)
    code, _ = await api(
        "export",
        method="POST",
        body={"path": f"{os.path.relpath(outside, root)}/guide/ckpt-4", "dest": "copy"},
    )
    assert code == 403
    assert sorted(p.name for p in (outside / "guide").iterdir()) == sorted(
        p.name for p in (Path(__file__).parent.parent / "data" / "guide_legacy_adam").iterdir()
    )


async def test_export_replaces_a_symlinked_index_never_writes_through_it(api, root: Path, outside: Path) -> None:
    (root / "dest.index").symlink_to(outside / "secret.txt")
    code, body = await api(
        "export", method="POST", body={"path": "guide_legacy_adam/ckpt-4", "dest": "dest", "overwrite": True}
    )
    assert code == 201, body
    assert (outside / "secret.txt").read_text() == "secret"
    assert not (root / "dest.index").is_symlink() and ckptviz.open(str(root / "dest")).entries


async def test_paths_inside_the_root_still_work(api, root: Path) -> None:
    (root / "inner").symlink_to(root / "guide_legacy_adam")  # a symlink that stays inside is fine
    for path in ["inner/ckpt-4", "./guide_legacy_adam/ckpt-4", "guide_legacy_adam//ckpt-4"]:
        code, body = await api("entries", path=path)
        assert code == 200, (path, body)
