"""No request reads or writes outside the server's root: an escape is refused with 403 (or, for
what a state file names, never looked at), and the audit hook (conftest ``confined``) fails any
test in which a server thread touches a path outside the root.

Guards broken once by hand to watch these fail: the walk's ``lstat``/``O_NOFOLLOW`` (links
followed by the kernel: the link, shard, V1, Keras, timeline, flip and export cases); opening by
path again in the checkpoint cache (the audit hook fails the prefix-directory, V1, Keras and
flip cases); the export writing by path instead of through the directory it opened (the swap
case)."""

from __future__ import annotations

import json
import os
import shutil
import socket
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


async def test_export_replaces_a_symlinked_index_never_writes_through_it(
    api, root: Path, outside: Path
) -> None:
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


# -- the attack classes a campaign against the extension found, one test each ------------------

READ_ROUTES = [
    ("entries", {}),
    ("graph", {"svg": "0"}),
    ("tensor", {"key": "step/.ATTRIBUTES/VARIABLE_VALUE"}),
    ("timeline", {}),
]


async def test_a_directory_named_like_the_prefix_never_takes_over(api, root: Path, outside: Path) -> None:
    (root / "d" / "evil").mkdir(parents=True)
    (root / "d" / "evil.index").write_bytes(b"")
    (root / "d" / "evil" / "checkpoint").write_text(f'model_checkpoint_path: "{outside}/guide/ckpt-4"\n')
    (root / "d" / "sm").mkdir()
    (root / "d" / "sm.index").write_bytes(b"")
    (root / "d" / "sm" / "variables").symlink_to(outside / "guide")
    for path in ["d/evil", "d/evil.index", "d/evil/", "d/sm", "d/sm.index"]:
        for route, extra in READ_ROUTES:
            code, body = await api(route, path=path, **extra)
            assert code in (400, 403, 404, 422), (route, path, body)
        code, body = await api("diff", a=path, b="guide_legacy_adam/ckpt-4")
        assert code in (400, 403, 404, 422), (path, body)
        code, body = await api("export", method="POST", body={"path": path, "dest": "stolen"})
        assert code in (400, 403, 404, 422) and not (root / "stolen.index").exists(), (path, body)


async def test_a_v1_sibling_shard_linked_out_is_refused(api, root: Path, outside: Path) -> None:
    (root / "v1").mkdir()
    shutil.copy(root / "v1_format" / "model.ckpt", root / "v1" / "m-00000-of-00002")
    shutil.copy(root / "v1_format" / "model.ckpt", outside / "shard")
    (root / "v1" / "m-00001-of-00002").symlink_to(outside / "shard")
    for path in ["v1/m-00000-of-00002", "v1/m-?????-of-00002"]:
        code, body = await api("entries", path=path)
        assert code == 403, (path, body)


async def test_a_keras_shard_map_naming_a_link_out_is_refused(api, root: Path, outside: Path) -> None:
    (root / "k").mkdir()
    shutil.copy(root / "keras3_files" / "model.weights.h5", outside / "w.h5")
    (root / "k" / "m_00.weights.h5").symlink_to(outside / "w.h5")
    weight_map = {"layers/dense/vars/0": "m_00.weights.h5"}
    (root / "k" / "m.weights.json").write_text(json.dumps({"weight_map": weight_map}))
    code, body = await api("entries", path="k/m.weights.json")
    assert code == 403, body


async def test_timeline_on_a_prefix_with_its_files_linked_out_is_refused(
    api, root: Path, outside: Path
) -> None:
    for linked in ("index", "data-00000-of-00001"):
        run = root / f"run_{linked[:4]}"
        shutil.copytree(root / "guide_legacy_adam", run)
        (run / f"ckpt-4.{linked}").unlink()
        (run / f"ckpt-4.{linked}").symlink_to(outside / "guide" / f"ckpt-4.{linked}")
        code, body = await api("timeline", path=f"{run.name}/ckpt-4")
        assert code in (403, 404), body  # a prefix is not a run; never its outside files
        code, body = await api("timeline", path=run.name)
        assert code == 403, body


async def test_export_writes_into_the_directory_it_opened_even_if_swapped(
    api, root: Path, outside: Path, monkeypatch
) -> None:
    """The destination directory is swapped for a link out just after the export opened it:
    the files land in the directory it opened (now moved), never outside."""
    from ckptviz.format.confined import ConfinedRoot

    (root / "dd").mkdir()
    open_dir = ConfinedRoot.open_dir

    def open_then_swap(self: ConfinedRoot, path: str) -> int:
        fd = open_dir(self, path)
        if path == "dd":
            (root / "dd").rename(root / "dd_moved")
            (root / "dd").symlink_to(outside)
        return fd

    monkeypatch.setattr(ConfinedRoot, "open_dir", open_then_swap)
    before = sorted(p.name for p in outside.iterdir())
    code, body = await api("export", method="POST", body={"path": "guide_legacy_adam/ckpt-4", "dest": "dd/x"})
    assert code == 201, body
    assert sorted(p.name for p in outside.iterdir()) == before
    assert ckptviz.open(str(root / "dd_moved" / "x")).entries


async def test_a_shard_flipped_to_a_link_out_never_serves_outside_values(
    api, root: Path, outside: Path
) -> None:
    """Flipped after the open: the held file answers. Flipped before: refused. Never outside's."""
    shutil.copytree(root / "guide_legacy_adam", root / "flip")
    key = "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    inside = ckptviz.open(str(root / "flip" / "ckpt-4")).read(key).tolist()
    data = root / "flip" / "ckpt-4.data-00000-of-00001"
    for flip in range(1, 7):
        if flip % 2:
            data.rename(root / "flip" / "real")
            data.symlink_to(outside / "guide" / "ckpt-3.data-00000-of-00001")
        else:
            data.unlink()
            (root / "flip" / "real").rename(data)
            os.utime(root / "flip" / "ckpt-4.index", ns=(flip, flip))  # a new version: opened anew
        code, body = await api("tensor", path="flip/ckpt-4", key=key)
        assert (code == 200 and body["preview"]["values"] == inside[0]) or code == 403, body
        if flip % 2:
            os.utime(root / "flip" / "ckpt-4.index", ns=(100 + flip, 100 + flip))
            code, body = await api("tensor", path="flip/ckpt-4", key=key)
            assert code == 403, body


async def test_state_files_naming_urls_issue_no_request(api, root: Path, outside: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    (root / "forged").mkdir()
    for entry in [f"http://127.0.0.1:{port}/guide/ckpt-4", f"file://{outside}/guide/ckpt-4"]:
        (root / "forged" / "checkpoint").write_text(
            f'model_checkpoint_path: "{entry}"\nall_model_checkpoint_paths: "{entry}"\n'
        )
        for route in ("entries", "timeline", "checkpoints"):
            code, body = await api(route, path="forged")
            assert code in (200, 404), (route, body)
            assert "outside" not in json.dumps(body) or route == "checkpoints"
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected
    listener.close()


async def test_no_reply_carries_the_roots_absolute_path(api, root: Path) -> None:
    (root / "bad").mkdir()
    (root / "bad" / "checkpoint").write_text("not a state file {")
    (root / "bad" / "ckpt-1.index").write_bytes(b"garbage")
    real = os.path.realpath(root)
    replies = [
        await api("checkpoints", path="bad"),
        await api("entries", path="bad/ckpt-1"),
        await api("entries", path="bad"),
        await api("graph", path="bad/ckpt-1", svg="0"),
        await api("entries", path="guide_legacy_adam/ckpt-9"),
        await api(
            "export",
            method="POST",
            body={"path": "guide_legacy_adam/ckpt-4", "dest": "guide_legacy_adam/ckpt-4"},
        ),
    ]
    assert replies[0][1]["state_error"] and replies[-1][0] == 400
    for _, body in replies:
        text = json.dumps(body)
        assert str(root) not in text and real not in text, body


async def test_long_and_deep_paths_answer_4xx(api, root: Path) -> None:
    for path in ["x" * 300, "/".join(["d"] * 4000), "a/" * 300 + "b"]:
        for route, extra in [("checkpoints", {}), *READ_ROUTES]:
            code, body = await api(route, path=path, **extra)
            assert 400 <= code < 500, (route, len(path), body)


def test_a_sibling_whose_name_extends_the_roots_is_outside(tmp_path: Path) -> None:
    """``/srv/root2`` starts with ``/srv/root`` but is not inside it, nor reachable by a link."""
    from ckptviz.errors import CheckpointError
    from ckptviz.server.paths import Root
    from tests.conftest import DATA

    (tmp_path / "root").mkdir()
    shutil.copytree(DATA / "guide_legacy_adam", tmp_path / "root2")
    (tmp_path / "root" / "link").symlink_to(tmp_path / "root2")
    (tmp_path / "root" / "rel").symlink_to("../root2")
    root = Root(str(tmp_path / "root"))
    for path in ["link/ckpt-4.index", "rel/ckpt-4.index", "link", "rel"]:
        with pytest.raises(CheckpointError, match="outside"):
            root.files.open_file(path)
    with pytest.raises(CheckpointError, match="outside"):
        root.files.open_checkpoint("link/ckpt-4")
