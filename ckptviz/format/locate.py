"""Which files a user's path means: a prefix, its ``.index``, a ``.data-*`` file, a directory
(latest checkpoint, or a SavedModel), a V1 single-file checkpoint, or a Keras 3 file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import CheckpointNotFoundError
from . import naming, storage
from .bundle import _missing_index_message

Kind = Literal["bundle", "v1", "keras"]
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Location:
    kind: Kind
    path: str  # the prefix of a bundle, else the file


def _sniff(path: str) -> bytes:
    blob = storage.open_blob(path)
    try:
        return blob.read(0, min(8, blob.size))
    finally:
        blob.close()


def locate(path: str) -> Location:
    """Resolve ``path`` as ``tf.train.load_checkpoint`` would, plus the forms TF does not take."""
    path = str(path)
    if path.endswith("/") and len(path) > 1:
        path = path.rstrip("/")
    if storage.isdir(path) and not path.endswith((".h5", ".keras", ".weights.json", ".index")):
        return _locate_directory(path)
    return _locate_file(path)


def _locate_file(path: str) -> Location:
    """A path that is not a directory; never follows a ``checkpoint`` file, so never recurses."""
    if path.endswith("/") and len(path) > 1:
        path = path.rstrip("/")
    if path.endswith((".h5", ".keras", ".weights.json")) and storage.exists(path):
        return Location("keras", path)
    if path.endswith(".index"):
        return Location("bundle", path[: -len(".index")])
    split = naming.split_data_file(path)
    if split:
        if not storage.exists(naming.index_file(split[0])):
            raise CheckpointNotFoundError(_missing_index_message(path), path)
        return Location("bundle", split[0])
    if storage.exists(naming.index_file(path)):
        return Location("bundle", path)
    if storage.exists(path):
        head = _sniff(path)
        if head.startswith((HDF5_MAGIC, ZIP_MAGIC)):
            return Location("keras", path)
        return Location("v1", path)
    if "-?????-of-" in path and storage.exists(path.replace("-?????-of-", "-00000-of-")):
        return Location("v1", path)  # a sharded V1 save, named as TF's Saver returns it
    raise CheckpointNotFoundError(_missing_index_message(path), path)


def _locate_directory(path: str) -> Location:
    saved_model = storage.join(path, naming.SAVED_MODEL_VARIABLES)
    if storage.exists(naming.index_file(saved_model)):
        return Location("bundle", saved_model)
    latest = naming.latest_checkpoint(path)
    if latest is not None:
        # A state file may name anything, even this directory again: it is followed once.
        return _locate_file(latest)
    state = naming.get_checkpoint_state(path)
    found = naming.prefixes_in(path)
    if state is not None and state.model_checkpoint_path:
        moved = storage.join(path, storage.basename(state.model_checkpoint_path))
        if naming.checkpoint_exists(moved):  # a directory copied from elsewhere keeps old absolute paths
            return _locate_file(moved)
    if len(found) == 1:
        return Location("bundle", found[0])
    if storage.exists(storage.join(path, "saved_model.pb")):
        raise CheckpointNotFoundError(
            f"SavedModel {path} has no variables (no {naming.SAVED_MODEL_VARIABLES}.index)", path
        )
    if found:
        names = ", ".join(repr(storage.basename(p)) for p in found[:8])
        raise CheckpointNotFoundError(
            f"{path} holds several checkpoints and no 'checkpoint' file says which is latest; pass a prefix: {names}",
            path,
        )
    raise CheckpointNotFoundError(
        f"no checkpoint in directory {path} (no 'checkpoint' file and no .index files)", path
    )
