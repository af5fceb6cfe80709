"""Random layouts in the root — symlinks in and out, directories named like prefixes, FIFOs
named like checkpoint files, state files naming URLs and outside paths — and every route fired
at them with random parameters: never a 500, never a hang, and (the audit hook of the ``api``
fixture) never a file touched outside the root."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

SEEDS = range(12)
GUIDE = ("ckpt-4.index", "ckpt-4.data-00000-of-00001")


def build(rng: random.Random, case: Path, root: Path, outside: Path) -> list[str]:
    """A random layout under ``case``; returns the paths (relative to the root) worth asking for."""
    case.mkdir()
    names: list[str] = []

    def rel(p: Path) -> str:
        return str(p.relative_to(root))

    for i in range(rng.randint(3, 8)):
        name = rng.choice(["ckpt", "model.ckpt", "evil", "m.weights", "run", "x"]) + f"-{i}"
        kind = rng.choice(
            ["checkpoint", "prefix_dir", "link_out", "link_in", "fifo", "state", "dangling", "loop"]
        )
        target = case / name
        if kind == "checkpoint":
            for f in GUIDE:
                shutil.copy(root / "guide_legacy_adam" / f, case / f.replace("ckpt-4", name))
        elif kind == "prefix_dir":  # an empty index beside a directory of the same name
            (case / f"{name}.index").write_bytes(b"")
            target.mkdir()
            (target / "checkpoint").write_text(f'model_checkpoint_path: "{outside}/guide/ckpt-4"\n')
            if rng.random() < 0.5:
                (target / "variables").symlink_to(outside / "guide")
        elif kind == "link_out":
            suffix = rng.choice([".index", ".data-00000-of-00001", "", "-00001-of-00002", ".weights.h5"])
            what = rng.choice(
                [
                    outside / "guide" / GUIDE[0],
                    outside / "guide",
                    outside / "missing",
                    Path("../" * 6 + "etc"),
                ]
            )
            (case / f"{name}{suffix}").symlink_to(what)
        elif kind == "link_in":
            target.symlink_to(rng.choice(["../guide_legacy_adam", str(root / "guide_legacy_adam"), "."]))
        elif kind == "fifo":
            os.mkfifo(
                case / (name + rng.choice([".ckpt", ".index", ".data-00000-of-00001", ".weights.h5", ""]))
            )
        elif kind == "state":
            entry = rng.choice(
                [
                    f"http://127.0.0.1:{rng.randint(1024, 65000)}/ckpt-4",
                    f"file://{outside}/guide/ckpt-4",
                    f"{outside}/guide/ckpt-4",
                    "../../../outside/guide/ckpt-4",
                    "s3://bucket/ckpt-4",
                    name,
                ]
            )
            if not (case / "checkpoint").exists():
                (case / "checkpoint").write_text(
                    f'model_checkpoint_path: "{entry}"\nall_model_checkpoint_paths: "{entry}"\n'
                )
        elif kind == "dangling":
            target.symlink_to(case / "nowhere")
        else:
            target.symlink_to(target.name)
        names.append(rel(target))
    return [rel(case), *names, *(rel(p) for p in case.iterdir())]


JUNK = ["(", "*", "[a-", "a" * 2000, "(a+)+$", "-1", "1e400", "nan", "0:2:0", "\\", "%00"]


def params(rng: random.Random, paths: list[str]) -> tuple[str, str, Any, dict[str, str]]:
    """One request: mostly sensible values, some junk, so both the reads and the refusals run."""

    def maybe(*good: str) -> str:
        return rng.choice(JUNK) if rng.random() < 0.25 else rng.choice(good)

    path = (
        rng.choice(paths)
        if rng.random() < 0.85
        else rng.choice(["", "x" * 300, "%2e%2e/x", "/".join(["d"] * 300)])
    )
    route = rng.choice(["checkpoints", "entries", "graph", "tensor", "diff", "timeline", "export"])
    if route == "export":
        body = {
            "path": path,
            "dest": rng.choice([*paths, "new", "guide_legacy_adam/ckpt-4"]),
            "overwrite": rng.random() < 0.5,
        }
        return route, "POST", body, {}
    query = {"path": path}
    if route == "entries":
        query.update(offset=maybe("0", "5"), limit=maybe("1", "1000"), match=maybe("", "ITER", "kernel"))
    elif route == "graph":
        query.update(
            svg="0", filter=maybe("", "l1", "net*"), regex=maybe("0", "1"), max_nodes=maybe("5", "300")
        )
    elif route == "tensor":
        key = maybe("step/.ATTRIBUTES/VARIABLE_VALUE", "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE")
        query.update(key=key, slice=maybe("", "0:1"), stats=maybe("auto", "1", "0"), bins=maybe("3", "30"))
    elif route == "diff":
        query = {"a": path, "b": rng.choice(paths), "only": maybe("", "changed"), "atol": maybe("0", "0.1")}
    elif route == "timeline":
        query.update(variables=maybe("", "kernel", "*bias*"), regex=maybe("0", "1"), bins=maybe("3", "10"))
    return route, "GET", None, {k: v for k, v in query.items() if v != ""} or {"path": ""}


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_layouts_and_requests(api, root: Path, outside: Path, seed: int) -> None:
    rng = random.Random(seed)
    paths = [
        *build(rng, root / f"case{seed}", root, outside),
        "guide_legacy_adam",
        "guide_legacy_adam/ckpt-4",
    ]
    secret = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    for _ in range(25):
        route, method, body, query = params(rng, paths)
        code, reply = await asyncio.wait_for(api(route, method=method, body=body, **query), timeout=120)
        assert code < 500, (route, body, query, reply)
        assert str(root) not in str(reply), (route, reply)
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == secret
