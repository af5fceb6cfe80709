"""File names of a checkpoint and the ``checkpoint`` state file (tensor_bundle/naming.h,
python/checkpoint/checkpoint_management.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import CorruptCheckpointError, NoCheckpointError
from . import storage

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
STATE_FILENAME = "checkpoint"
STATE_MAX_BYTES = 1 << 20  # ~10 000 recorded checkpoints; anything bigger is not a state file
SAVED_MODEL_VARIABLES = "variables/variables"
_DATA_RE = re.compile(r"^(?P<prefix>.*)\.data-(?P<shard>\d{5,})-of-(?P<count>\d{5,})$")


def index_file(prefix: str) -> str:
    return prefix + ".index"


def data_file(prefix: str, shard: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def split_data_file(path: str) -> tuple[str, int, int] | None:
    """``(prefix, shard, num_shards)`` if ``path`` names a data file, else None."""
    m = _DATA_RE.match(path)
    return (m["prefix"], int(m["shard"]), int(m["count"])) if m else None


@dataclass
class CheckpointState:
    """The text-format ``CheckpointState`` proto that CheckpointManager and Saver keep."""

    model_checkpoint_path: str
    all_model_checkpoint_paths: list[str] = field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = field(default_factory=list)
    last_preserved_timestamp: float = 0.0


def parse_state(text: str, path: str = STATE_FILENAME) -> CheckpointState:
    from google.protobuf import text_format

    from .protos.ckptviz_format_pb2 import CheckpointState as StateProto

    proto = StateProto()
    try:
        text_format.Parse(text, proto)
    except text_format.ParseError as e:
        # The position only: the parser's message quotes the offending text, maybe not text at all.
        line, column = e.GetLine() or 1, e.GetColumn() or 1
        lines = text.split("\n")[: line - 1]
        offset = len("\n".join(lines).encode("utf-8", "surrogateescape")) + bool(lines) + column - 1
        raise CorruptCheckpointError(
            f"not a CheckpointState text proto (line {line}, column {column}); delete the file or "
            "pass a checkpoint prefix instead of the directory",
            path,
            offset,
        ) from None
    return CheckpointState(
        proto.model_checkpoint_path,
        list(proto.all_model_checkpoint_paths),
        list(proto.all_model_checkpoint_timestamps),
        proto.last_preserved_timestamp,
    )


def format_state(state: CheckpointState) -> str:
    from google.protobuf import text_format

    from .protos.ckptviz_format_pb2 import CheckpointState as StateProto

    proto = StateProto(
        model_checkpoint_path=state.model_checkpoint_path,
        all_model_checkpoint_paths=state.all_model_checkpoint_paths,
        all_model_checkpoint_timestamps=state.all_model_checkpoint_timestamps,
        last_preserved_timestamp=state.last_preserved_timestamp,
    )
    return str(text_format.MessageToString(proto))


def get_checkpoint_state(directory: str, latest_filename: str | None = None) -> CheckpointState | None:
    """The state file of ``directory`` (None when there is none), relative paths joined with
    ``directory`` as ``tf.train.get_checkpoint_state`` does. A file that does not parse raises
    ``CorruptCheckpointError``; one naming no checkpoint ``NoCheckpointError`` (both ``ValueError``)."""
    path = storage.join(directory, latest_filename or STATE_FILENAME)
    if not storage.exists(path) and not storage.is_link(path):  # a dangling link or loop is refused
        return None
    state = parse_state(storage.read_bytes(path, STATE_MAX_BYTES).decode("utf-8", "surrogateescape"), path)
    if not state.model_checkpoint_path:
        raise NoCheckpointError(
            f"invalid checkpoint state loaded from {directory}: {path} names no checkpoint", path
        )
    state.model_checkpoint_path = storage.join(directory, state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [storage.join(directory, p) for p in state.all_model_checkpoint_paths]
    return state


def checkpoint_exists(prefix: str) -> bool:
    """A V2 prefix with its ``.index``, a V1 single file, or a sharded V1 save (``PREFIX-?????-of-N``)."""
    v1 = prefix.replace("-?????-of-", "-00000-of-")
    return storage.exists(index_file(prefix)) or (storage.exists(v1) and not storage.isdir(v1))


def latest_checkpoint(directory: str, latest_filename: str | None = None) -> str | None:
    """Like ``tf.train.latest_checkpoint``: the newest prefix recorded in ``directory``, or None."""
    state = get_checkpoint_state(directory, latest_filename)
    if state is None or not state.model_checkpoint_path:
        return None
    return state.model_checkpoint_path if checkpoint_exists(state.model_checkpoint_path) else None


def prefixes_in(directory: str) -> list[str]:
    """Every checkpoint prefix whose ``.index`` is in ``directory``."""
    return [
        storage.join(directory, n[: -len(".index")])
        for n in storage.listdir(directory)
        if n.endswith(".index")
    ]
