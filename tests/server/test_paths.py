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


async def test_state_file_naming_an_outside_prefix_is_refused(api, root: Path, outside: Path) -> None:
    (root / "run").mkdir()
    (root / "run" / "checkpoint").write_text(f'model_checkpoint_path: "{outside}/guide/ckpt-4"\n')
    code, body = await api("entries", path="run")
    assert code == 403, body
    _, listing = await api("checkpoints", path="run")
    assert listing["state"]["latest"] is None and listing["state"]["all"] == []


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


async def test_export_refuses_a_symlinked_index_at_the_destination(api, root: Path, outside: Path) -> None:
    (root / "dest.index").symlink_to(outside / "secret.txt")
    code, _ = await api(
        "export", method="POST", body={"path": "guide_legacy_adam/ckpt-4", "dest": "dest", "overwrite": True}
    )
    assert code == 403
    assert (outside / "secret.txt").read_text() == "secret"


async def test_paths_inside_the_root_still_work(api, root: Path) -> None:
    (root / "inner").symlink_to(root / "guide_legacy_adam")  # a symlink that stays inside is fine
    for path in ["inner/ckpt-4", "./guide_legacy_adam/ckpt-4", "guide_legacy_adam//ckpt-4"]:
        code, body = await api("entries", path=path)
        assert code == 200, (path, body)


def test_a_sibling_whose_name_extends_the_roots_is_outside(tmp_path: Path) -> None:
    """``/srv/root2`` starts with ``/srv/root`` but is not inside it, nor reachable by a link."""
    import shutil

    from ckptviz.errors import CheckpointError
    from ckptviz.server.paths import Root
    from tests.conftest import DATA

    (tmp_path / "root").mkdir()
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path / "root2")
    (tmp_path / "root" / "link").symlink_to(tmp_path / "root2")
    root = Root(str(tmp_path / "root"))
    assert root.contains(str(tmp_path / "root" / "anything"))
    assert not root.contains(str(tmp_path / "root2" / "ckpt-4.index"))
    with pytest.raises(CheckpointError, match="outside"):
        root.resolve("link/ckpt-4.index")
    with pytest.raises(CheckpointError, match="outside"):
        root.check(str(tmp_path / "root2"))
