"""ckptviz: see, compare and repair TensorFlow checkpoints, without TensorFlow.

>>> import ckptviz
>>> ckpt = ckptviz.open("training_checkpoints/")      # latest checkpoint in a directory
>>> ckptviz.list_variables(ckpt.path)[:2]
"""

from __future__ import annotations

from .errors import (
    CheckpointError,
    CheckpointExistsError,
    CheckpointNotFoundError,
    CheckpointWarning,
    ChecksumMismatchError,
    CorruptCheckpointError,
    DroppedKeysWarning,
    InvalidArgumentError,
    KeyNotFoundError,
    LfsPointerError,
    MissingDataError,
    MissingDataWarning,
    NameConflictError,
    NoCheckpointError,
    NothingMatchedError,
    RemoteStorageError,
    RestoreMismatchError,
    UnsupportedCheckpointError,
)
from .format.dtypes import DType, as_dtype
from .format.naming import CheckpointState
from .format.tensor_proto import Variant
from .model.checkpoint import Checkpoint, open
from .model.reader import (
    CheckpointReader,
    get_checkpoint_state,
    latest_checkpoint,
    list_variables,
    load_checkpoint,
)
from .render import accessors as _pictures  # noqa: F401 - ObjectGraph.draw, to_dot, notebook display
from .transform import accessors as _derivations  # noqa: F401 - Checkpoint.select, rename, save…

# Writing, restoring and drawing load on first use, so `import ckptviz` stays cheap.
_LAZY = {
    "BundleWriter": "ckptviz.format.writer",
    "write_checkpoint": "ckptviz.format.writer",
    "CheckReport": "ckptviz.live.report",
    "check": "ckptviz.live.match",
    "convert": "ckptviz.transform.convert",
    "RestoreStatus": "ckptviz.live.restore",
    "restore": "ckptviz.live.restore",
    "DerivedCheckpoint": "ckptviz.transform.derived",
    "ObjectGraph": "ckptviz.model.graph",
    "export_graph": "ckptviz.render",
    "DrawOptions": "ckptviz.render",
    "diff": "ckptviz.model.diff",
    "DiffResult": "ckptviz.model.diff",
    "timeline": "ckptviz.model.timeline",
    "list_checkpoints": "ckptviz.model.runs",
    "RunCheckpoint": "ckptviz.model.runs",
    "Timeline": "ckptviz.model.timeline",
    "explore": "ckptviz.widgets",
}


def __getattr__(name: str) -> object:
    import importlib

    if name == "examples":  # the bundled example checkpoints, a subpackage
        return importlib.import_module("ckptviz.examples")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ckptviz' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "ckptviz"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "ckptviz"}]


def _load_jupyter_server_extension(serverapp: object) -> None:
    """The REST routes of the JupyterLab panel; jupyter_server and tornado load only here."""
    from .server import load

    load(serverapp)


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext ckptviz``: the ``%ckpt`` magics (IPython loads only now)."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "BundleWriter",
    "CheckReport",
    "Checkpoint",
    "CheckpointError",
    "CheckpointExistsError",
    "CheckpointNotFoundError",
    "CheckpointReader",
    "CheckpointState",
    "CheckpointWarning",
    "ChecksumMismatchError",
    "CorruptCheckpointError",
    "DType",
    "DerivedCheckpoint",
    "DiffResult",
    "DrawOptions",
    "DroppedKeysWarning",
    "InvalidArgumentError",
    "KeyNotFoundError",
    "LfsPointerError",
    "MissingDataError",
    "MissingDataWarning",
    "NameConflictError",
    "NoCheckpointError",
    "NothingMatchedError",
    "ObjectGraph",
    "RemoteStorageError",
    "RestoreMismatchError",
    "RestoreStatus",
    "RunCheckpoint",
    "Timeline",
    "UnsupportedCheckpointError",
    "Variant",
    "as_dtype",
    "check",
    "convert",
    "diff",
    "examples",
    "explore",
    "export_graph",
    "get_checkpoint_state",
    "latest_checkpoint",
    "list_checkpoints",
    "list_variables",
    "load_checkpoint",
    "open",
    "restore",
    "timeline",
    "write_checkpoint",
]
