"""One base handler maps errors: missing 404, corrupt 422, bad request 400, exists 409; each a JSON
body with the ckptviz message, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import ckptviz

DATA = Path(__file__).parent.parent / "data"
CORRUPT = json.loads((DATA / "corrupt" / "manifest.json").read_text())


async def test_missing_checkpoint_is_404(api) -> None:
    code, body = await api("entries", path="guide_legacy_adam/ckpt-9")
    assert code == 404 and body["error"] == "CheckpointNotFoundError"
    assert "ckpt-9" in body["message"] and "Traceback" not in json.dumps(body)


async def test_missing_directory_is_404(api) -> None:
    code, body = await api("checkpoints", path="nowhere")
    assert code == 404 and body["message"] == "no such directory: 'nowhere'"


async def test_missing_key_is_404_with_close_matches(api) -> None:
    code, body = await api(
        "tensor", path="guide_legacy_adam/ckpt-4", key="net/l1/kernel/.ATTRIBUTES/VARIABLE_VALU"
    )
    assert code == 404 and body["error"] == "KeyNotFoundError" and "did you mean" in body["message"]


@pytest.mark.parametrize("case", CORRUPT, ids=lambda c: c["name"])
async def test_corrupt_and_unsupported_checkpoints_are_422(api, case: dict) -> None:
    """Each damage shows as 422 on the route that reads the damaged part, never as a 500."""
    code, body = await api("entries", path=case["path"])
    replies = [(code, body)]
    if code == 200:
        replies.append(await api("graph", path=case["path"], svg="0"))
        for entry in body["entries"]:
            replies.append(await api("tensor", path=case["path"], key=entry["key"]))
    assert {c for c, _ in replies} <= {200, 422}
    failed = [b for c, b in replies if c == 422]
    assert failed, f"no route reported {case['error']}"
    want = getattr(ckptviz, case["error"])
    assert any(
        issubclass(getattr(ckptviz, b["error"]), want) and re.search(case["match"], b["message"])
        for b in failed
    ), failed
    assert all("Traceback" not in b["message"] for b in failed)


@pytest.mark.parametrize(
    "route,params,needle",
    [
        ("entries", {}, "missing query parameter 'path'"),
        ("tensor", {"path": "guide_legacy_adam/ckpt-4"}, "missing query parameter 'key'"),
        ("entries", {"path": "guide_legacy_adam/ckpt-4", "limit": "x"}, "limit must be an integer"),
        ("entries", {"path": "guide_legacy_adam/ckpt-4", "limit": "100000"}, "limit must be between"),
        (
            "graph",
            {"path": "guide_legacy_adam/ckpt-4", "filter": "(", "regex": "1"},
            "not a regular expression",
        ),
        ("graph", {"path": "guide_legacy_adam/ckpt-4", "filter": "(a)\\1", "regex": "1"}, "RE2"),
        ("graph", {"path": "guide_legacy_adam/ckpt-4", "filter": "zzz-nothing"}, "matched nothing"),
        ("graph", {"path": "guide_legacy_adam/ckpt-4", "slots": "maybe"}, "slots must be true or false"),
        (
            "tensor",
            {
                "path": "guide_legacy_adam/ckpt-4",
                "key": "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                "slice": "0,0,0",
            },
            "has 3 dimensions",
        ),
        (
            "tensor",
            {
                "path": "guide_legacy_adam/ckpt-4",
                "key": "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                "slice": "a:b",
            },
            "basic slicing",
        ),
        (
            "tensor",
            {
                "path": "guide_legacy_adam/ckpt-4",
                "key": "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                "slice": "7",
            },
            "out of range for a dimension of size 1",
        ),
    ],
)
async def test_bad_requests_are_400(api, route: str, params: dict, needle: str) -> None:
    code, body = await api(route, **params)
    assert code == 400 and needle in body["message"], body


@pytest.mark.parametrize(
    "body,needle",
    [
        ({"dest": "x"}, "export needs 'path'"),
        ({"path": "guide_legacy_adam/ckpt-4"}, "export needs 'dest'"),
        ({"path": "guide_legacy_adam/ckpt-4", "dest": "x", "convert": "tf3"}, "convert must be"),
        ({"path": "guide_legacy_adam/ckpt-4", "dest": "x", "select": "net"}, "select must be a list"),
        ({"path": "guide_legacy_adam/ckpt-4", "dest": "no/such/dir/x"}, "does not exist"),
        (
            {"path": "guide_legacy_adam/ckpt-4", "dest": "guide_legacy_adam/ckpt-4", "overwrite": True},
            "being read",
        ),
    ],
)
async def test_bad_exports_are_400(api, body: dict, needle: str) -> None:
    code, reply = await api("export", method="POST", body=body)
    assert code == 400 and needle in reply["message"], reply


async def test_messages_do_not_reveal_the_root(api, root: Path) -> None:
    _code, body = await api("tensor", path="guide_legacy_adam/ckpt-4", key="nope")
    _, missing = await api("entries", path="guide_legacy_adam/ckpt-9")
    assert str(root) not in body["message"] + missing["message"]


async def test_unexpected_errors_are_500_without_a_traceback(api, monkeypatch) -> None:
    from ckptviz.server import payloads

    def boom(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(payloads, "entries", boom)
    code, body = await api("entries", path="guide_legacy_adam/ckpt-4")
    assert code == 500 and "secret" not in json.dumps(body) and "traceback" not in json.dumps(body).lower()
