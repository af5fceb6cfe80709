"""Which files a user's path means: a prefix, its ``.index``, a ``.data-*`` file, a directory
(latest checkpoint, or a SavedModel), a V1 single-file checkpoint, or a Keras 3 file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import CheckpointNotFoundError, LfsPointerError, NoCheckpointError
from . import lfs, naming, storage
from .bundle import _missing_index_message

Kind = Literal["bundle", "v1", "keras"]
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Location:
    kind: Kind
    path: str  # the prefix of a bundle, else the file


def _sniff(path: str, size: int = 24) -> bytes:
    blob = storage.open_blob(path)
    try:
        return blob.read(0, min(size, blob.size))
    finally:
        blob.close()


def _wrong_file(path: str) -> str | None:
    """What to pass instead, for files people often pass by mistake."""
    name = storage.basename(path)
    directory = storage.dirname(path) or "."
    if name == naming.STATE_FILENAME:
        latest = naming.latest_checkpoint(directory)
        hint = f" (its latest is {storage.basename(latest)!r})" if latest else ""
        return f"{path} is the 'checkpoint' state file; pass its directory {directory!r}{hint} or a prefix"
    if ".tempstate" in name:  # TF's BundleWriter writes FILE.tempstateN, then renames it to FILE
        prefix = path.split(".tempstate")[0].removesuffix(".index")
        prefix = (naming.split_data_file(prefix) or (prefix,))[0]
        return (
            f"{path} is a temporary file of a save that was interrupted or is still running; "
            f"pass the checkpoint prefix {prefix!r}"
        )
    if name.endswith(".meta"):
        return f"{path} is a TF1 MetaGraph (the graph, no values); pass the checkpoint prefix {path[:-5]!r}"
    if name in ("saved_model.pb", "saved_model.pbtxt"):
        return f"{path} is a SavedModel's graph; pass the SavedModel directory {directory!r}"
    return None


def _refuse_pointer(path: str) -> None:
    if lfs.is_pointer(path):
        raise LfsPointerError(lfs.message(path), path)


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
        _refuse_pointer(path)
        return Location("keras", path)
    if path.endswith(".index"):
        return Location("bundle", path[: -len(".index")])
    split = naming.split_data_file(path)
    if split:
        if not storage.exists(naming.index_file(split[0])):
            index = storage.basename(naming.index_file(split[0]))
            raise CheckpointNotFoundError(
                f"{path} is a data file whose index {index} is missing; copy the .index along with the data files",
                path,
            )
        return Location("bundle", split[0])
    # Before the wrong-file hints: a prefix may be named like the state file (KerasTuner's
    # trial_N/checkpoint.index), and TensorFlow reads it.
    if storage.exists(naming.index_file(path)):
        return Location("bundle", path)
    wrong = _wrong_file(path) if storage.exists(path) else None
    if wrong:
        raise CheckpointNotFoundError(wrong, path)
    if storage.exists(path):
        head = _sniff(path)
        if head.startswith((HDF5_MAGIC, ZIP_MAGIC)):
            return Location("keras", path)
        _refuse_pointer(path)
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
        # TensorFlow raises here too: opening another checkpoint instead would be silent
        names = ", ".join(repr(storage.basename(p)) for p in found[:8]) or "none"
        raise NoCheckpointError(
            f"the 'checkpoint' file in {path} names {storage.basename(state.model_checkpoint_path)!r}, which is gone; "
            f"prefixes here: {names}",
            path,
        )
    if len(found) == 1:
        return Location("bundle", found[0])
    if storage.exists(storage.join(path, "saved_model.pb")):
        raise NoCheckpointError(
            f"SavedModel {path} has no variables (no {naming.SAVED_MODEL_VARIABLES}.index)", path
        )
    if found:
        names = ", ".join(repr(storage.basename(p)) for p in found[:8])
        raise NoCheckpointError(
            f"{path} holds several checkpoints and no 'checkpoint' file says which is latest; pass a prefix: {names}",
            path,
        )
    nested = [
        storage.join(name, storage.basename(p))
        for name in storage.listdir(path)
        if storage.isdir(storage.join(path, name))
        for p in naming.prefixes_in(storage.join(path, name))[:3]
    ]
    if nested:
        shown = ", ".join(repr(n) for n in nested[:8])
        raise NoCheckpointError(f"no checkpoint directly in {path}; in its subdirectories: {shown}", path)
    raise NoCheckpointError(
        f"no checkpoint in directory {path} (no 'checkpoint' file and no .index files)", path
    )
