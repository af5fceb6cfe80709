#!/usr/bin/env python
"""What a preview of a big tensor costs: ``model.preview`` (the server's and the widgets' rule)
against reading the whole tensor, checked, and taking its first values (what the server did).

Writes a checkpoint holding one float32 tensor of ``--mib`` MiB (default 1024) under
``benchmarks/out/preview/`` once, then times, in this process, the median of ``--runs`` passes
with a warm page cache: the first 1 000 values, a strided column slice, the widget's 48 × 48
heatmap sample, and the whole checked read. Bytes asked of the data file are printed beside.

    python benchmarks/bench_preview.py [--mib 1024] [--runs 5]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

import ckptviz
from ckptviz.format import storage
from ckptviz.model.preview import preview

OUT = Path(__file__).parent / "out" / "preview"


def make(mib: int) -> str:
    prefix = OUT / f"f32_{mib}mib" / "ckpt"
    if not Path(f"{prefix}.index").exists():
        OUT.mkdir(parents=True, exist_ok=True)
        cols = 4096
        rows = (mib << 20) // 4 // cols
        value = np.lib.format.open_memmap(OUT / "tmp.npy", "w+", np.float32, (rows, cols))
        for start in range(0, rows, 4096):
            value[start : start + 4096] = np.arange(start * cols, min(start + 4096, rows) * cols).reshape(
                -1, cols
            )
        ckptviz.write_checkpoint(prefix, {"w": value})
        del value
        (OUT / "tmp.npy").unlink()
    return str(prefix)


def timed(run: Any, runs: int) -> tuple[float, int]:
    asked: list[int] = []
    read, mapped = storage.LocalBlob.read, storage.LocalBlob.map

    def counted_read(self: Any, offset: int, n: int) -> bytes:
        asked.append(n)
        return read(self, offset, n)

    def counted_map(self: Any, offset: int, n: int) -> Any:
        asked.append(n)  # a checked read touches every mapped page
        return mapped(self, offset, n)

    storage.LocalBlob.read, storage.LocalBlob.map = counted_read, counted_map  # type: ignore[method-assign]
    try:
        run()  # warm-up, and the bytes one pass asks for
        one = sum(asked)
    finally:
        storage.LocalBlob.read, storage.LocalBlob.map = read, mapped  # type: ignore[method-assign]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), one


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    prefix = make(args.mib)
    ckpt = ckptviz.open(prefix)
    rows, cols = ckpt.entries["w"].shape
    cases = {
        "preview: first 1 000 values": lambda: preview(ckpt, "w"),
        "preview: column 7, every 10th row": lambda: preview(ckpt, "w", (slice(None, None, 10), 7)),
        "preview: 48 × 48 heatmap sample": lambda: preview(
            ckpt, "w", (slice(None, None, -(-rows // 48)), slice(None, None, -(-cols // 48))), limit=48 * 48
        ),
        "whole tensor, checked, first 1 000 (before)": lambda: list(
            itertools.islice(np.asarray(ckpt.read("w")).flat, 1000)
        ),
    }
    print(f"one float32[{rows}, {cols}] tensor, {args.mib} MiB; median of {args.runs}, warm page cache")
    for name, run in cases.items():
        seconds, asked = timed(run, args.runs)
        print(f"{name:<45} {seconds * 1000:10.2f} ms   {asked / (1 << 20):10.3f} MiB asked of the file")


if __name__ == "__main__":
    main()
