"""What ``%ckpt`` subcommands return when the layers below have no object for it yet: small
records that show themselves in a notebook (text and HTML) and hold no tensor data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..model.checkpoint import human_size
from ..render.table import html_table, text_table


@dataclass
class Info:
    """``%ckpt info``: what a checkpoint is, without reading a tensor."""

    path: str
    format: str  # bundle | v1 | keras
    kind: str  # object-based | name-based
    tensors: int
    nbytes: int
    shards: int
    optimizers: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # the prefixes CheckpointManager/Saver recorded
    latest: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[tuple[str, str]]:
        kinds = ", ".join(f"{n} {k}" for k, n in self.counts.items() if n)
        steps = ", ".join(Path(s).name + (" (latest)" if s == self.latest else "") for s in self.steps)
        return [
            ("path", self.path),
            (
                "format",
                {"bundle": "TensorBundle V2", "v1": "V1 (SavedTensorSlices)", "keras": "Keras weights"}.get(
                    self.format, self.format
                ),
            ),
            ("kind", self.kind),
            (
                "tensors",
                f"{self.tensors}, {human_size(self.nbytes)} in {self.shards} shard{'s' * (self.shards != 1)}",
            ),
            ("objects", kinds or "-"),
            ("optimizers", ", ".join(self.optimizers) or "none"),
            ("steps", steps or "no checkpoint file in its directory"),
        ]

    def __repr__(self) -> str:
        return "\n".join(text_table(self.lines()))

    def _repr_html_(self) -> str:
        return html_table(self.lines(), row_headers=True)


class Text(str):
    """Text that a notebook shows as it is (a tree), and code uses as the string it is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)
