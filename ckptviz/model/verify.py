"""Is this checkpoint intact? Every block and tensor checksum, the data files' presence and sizes,
slice coverage and the object graph's references, collected into one report.

``shard_problems`` is the cheap part (a stat per data file, no read) that listings show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import CheckpointError
from ..format import naming, storage
from ..format.bundle import BundleReader
from .checkpoint import Checkpoint, human_size
from .progress import reporter


@dataclass
class Problem:
    where: str  # a key, a data file, or "object graph"
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "message": self.message}


@dataclass
class VerifyReport:
    path: str
    tensors: int = 0
    checked_bytes: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """The verdict first, then what was checked."""
        checked = f"{self.tensors} tensors, {human_size(self.checked_bytes)} checked"
        if self.ok:
            return f"intact: {self.path} ({checked}; every checksum, data file and reference is good)"
        return f"damaged: {self.path}: {len(self.problems)} problem(s) ({checked})"

    def __str__(self) -> str:
        return "\n".join([self.summary(), *(f"  {p.where}: {p.message}" for p in self.problems)])

    def __repr__(self) -> str:
        return f"<ckptviz.VerifyReport {self.summary()}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "tensors": self.tensors,
            "checked_bytes": self.checked_bytes,
            "problems": [p.to_dict() for p in self.problems],
        }


def shard_problems(ckpt: Checkpoint) -> list[Problem]:
    """Data files that are missing or shorter than their entries need: one stat each, no read."""
    reader = ckpt.reader
    if not isinstance(reader, BundleReader) or storage.is_remote(ckpt.path):
        return []
    needed: dict[int, int] = {}
    for e in ckpt.entries.values():
        parts = [p for _, p in reader.slice_entries(e)] if e.slices else [e]
        for p in parts:
            needed[p.shard] = max(needed.get(p.shard, 0), p.offset + p.size)
    out = []
    for shard in range(reader.num_shards):
        path = naming.data_file(ckpt.path, shard, reader.num_shards)
        try:
            size = os.stat(path).st_size
        except OSError:
            out.append(Problem(storage.basename(path), "missing (copy every data file with the .index)"))
            continue
        if size < needed.get(shard, 0):
            out.append(
                Problem(storage.basename(path), f"truncated: {size} bytes, its entries need {needed[shard]}")
            )
    return out


def verify(
    path: str | Checkpoint, progress: bool | None = None, *, storage_options: dict[str, Any] | None = None
) -> VerifyReport:
    """Check everything that can be checked without TensorFlow; never raises for damage."""
    try:
        ckpt = (
            path
            if isinstance(path, Checkpoint)
            else Checkpoint(os.fspath(path), verify=True, storage_options=storage_options)
        )
        entries = ckpt.entries
    except CheckpointError as e:
        if not isinstance(path, str):
            raise
        report = VerifyReport(path)
        report.problems.append(Problem("index", str(e)))
        return report
    report = VerifyReport(ckpt.path)
    report.problems += shard_problems(ckpt)
    total = sum(e.nbytes for e in entries.values())
    report_progress = reporter(progress, total, desc="verify", auto=total >= 1 << 28)
    for key, entry in entries.items():
        try:
            ckpt.read(key)
        except CheckpointError as e:
            report.problems.append(Problem(key, str(e)))
        report.tensors += 1
        report.checked_bytes += entry.nbytes
        report_progress(report.checked_bytes, total)
    report_progress(-1, total)
    try:
        graph = ckpt.graph
    except CheckpointError as e:
        report.problems.append(Problem("object graph", str(e)))
        return report
    for node in graph.nodes:
        for a in node.attributes:
            if graph.object_based and not a.keys:
                report.problems.append(
                    Problem("object graph", f"node {node.id} ({node.path or 'root'}) names {a.checkpoint_key!r}, which the bundle lacks")
                )
    return report
