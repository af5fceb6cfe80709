"""Is this checkpoint intact? Every block and tensor checksum, the data files' presence and sizes,
slice coverage and the object graph's references, collected into one report.

``shard_problems`` is the cheap part (a stat per data file, no read) that listings show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

from ..errors import CheckpointError, CheckpointNotFoundError
from ..format import naming, storage
from ..format.bundle import BundleReader
from ..format.entries import Entry
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


_COPY_ALL = "copy every data file with the .index"


def shard_problems(ckpt: Checkpoint) -> list[Problem]:
    """Data files that are missing or shorter than their entries need: one stat each, no read."""
    return [p for _, p in _shard_status(ckpt)]


def _parts(reader: BundleReader, e: Entry) -> list[Entry]:
    """Where ``e``'s bytes are stored; data files too short for them are this module's to report."""
    return [p for _, p in reader.slice_entries(e, in_range=False)] if e.slices else [e]


_SHARD, _OFFSET, _SIZE = attrgetter("shard"), attrgetter("offset"), attrgetter("size")


def _shard_status(ckpt: Checkpoint) -> list[tuple[int | None, Problem]]:
    """``(shard, problem)``: the shard number when its data file is missing (none of its tensors
    can be read), else None (a truncated file: the tensors before its end still can)."""
    reader = ckpt.reader
    if not isinstance(reader, BundleReader) or storage.is_remote(ckpt.path):
        return []
    entries = list(ckpt.entries.values())
    sliced = [e for e in entries if e.slices]  # a partitioned tensor's pieces are stored apart
    stored = (
        [p for e in sliced for p in _parts(reader, e)] + [e for e in entries if not e.slices]
        if sliced
        else entries
    )
    shards = np.fromiter(map(_SHARD, stored), np.int64, len(stored))
    ends = np.fromiter(map(_OFFSET, stored), np.int64, len(stored))
    ends += np.fromiter(map(_SIZE, stored), np.int64, len(stored))
    needed = np.zeros(max(reader.num_shards, int(shards.max(initial=-1)) + 1), np.int64)
    np.maximum.at(needed, shards, ends)  # the end of each shard's last entry
    out: list[tuple[int | None, Problem]] = []
    for shard in range(reader.num_shards):
        path = naming.data_file(ckpt.path, shard, reader.num_shards)
        try:
            size = os.stat(path).st_size
        except OSError:
            out.append((shard, Problem(storage.basename(path), f"missing ({_COPY_ALL})")))
            continue
        if size < needed[shard]:
            out.append(
                (
                    None,
                    Problem(
                        storage.basename(path),
                        f"truncated: {size} bytes, its entries need {int(needed[shard])}",
                    ),
                )
            )
    return out


def verify(
    path: str | Checkpoint, progress: bool | None = None, *, storage_options: dict[str, Any] | None = None
) -> VerifyReport:
    """Check everything that can be checked without TensorFlow; never raises for damage (a path
    with no checkpoint at all raises ``CheckpointNotFoundError``). A missing data file is one
    problem that counts the tensors it held, not one per tensor."""
    try:
        ckpt = (
            path
            if isinstance(path, Checkpoint)
            else Checkpoint(os.fspath(path), verify=True, storage_options=storage_options)
        )
        entries = ckpt.entries
    except CheckpointNotFoundError:
        raise  # nothing there to call damaged
    except CheckpointError as e:
        if not isinstance(path, str):
            raise
        report = VerifyReport(path)
        report.problems.append(Problem("index", str(e)))
        return report
    report = VerifyReport(ckpt.path)
    status = _shard_status(ckpt)
    missing = {shard for shard, _ in status if shard is not None}
    reader = ckpt.reader
    lost: dict[int, int] = dict.fromkeys(missing, 0)  # tensors per missing data file
    total = sum(e.nbytes for e in entries.values())
    report_progress = reporter(progress, total, desc="verify", auto=total >= 1 << 28)
    done = 0
    for key, entry in entries.items():
        done += entry.nbytes
        shards = {p.shard for p in _parts(reader, entry)} if isinstance(reader, BundleReader) else set()
        if shards & missing:
            for shard in shards & missing:
                lost[shard] += 1
        else:
            try:
                ckpt.read(key)
            except CheckpointError as e:
                report.problems.append(Problem(key, str(e)))
            report.tensors += 1
            report.checked_bytes += entry.nbytes
        report_progress(done, total)
    report_progress(-1, total)
    report.problems[:0] = [
        Problem(p.where, f"missing: its {_tensors(lost[shard])} cannot be read ({_COPY_ALL})")
        if shard is not None
        else p
        for shard, p in status
    ]
    graph_key = entries.get(naming.OBJECT_GRAPH_KEY)
    if (
        graph_key is not None
        and isinstance(reader, BundleReader)
        and {p.shard for p in _parts(reader, graph_key)} & missing
    ):
        return report  # the object graph is in a missing data file, already reported
    try:
        graph = ckpt.graph
    except CheckpointError as e:
        report.problems.append(Problem("object graph", str(e)))
        return report
    if graph.object_based:
        for node, key in graph.unmatched_attributes():
            where = graph.paths.path(node) or "root"
            report.problems.append(
                Problem("object graph", f"node {node} ({where}) names {key!r}, which the bundle lacks")
            )
    return report


def _tensors(n: int) -> str:
    return f"{n} tensor{'s' * (n != 1)}"
