"""Every exception ckptviz raises.

Each class also subclasses the built-in a caller would naturally catch, so
``except FileNotFoundError`` or ``except KeyError`` keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class CheckpointError(Exception):
    """Base class of all ckptviz errors."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No checkpoint at the given path."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class CorruptCheckpointError(CheckpointError, ValueError):
    """The bytes of a checkpoint file do not follow the format."""

    def __init__(self, message: str, path: str = "", offset: int | None = None) -> None:
        where = path if offset is None else f"{path} at byte {offset}"
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.offset = offset


class MissingDataError(CorruptCheckpointError):
    """A value whose data file is not there (an index-only copy, a Git LFS pointer): the keys,
    dtypes and shapes are listed from the index; only reading values fails."""


class LfsPointerError(CheckpointNotFoundError):
    """A Git LFS pointer where a checkpoint file should be: the file was never fetched."""


class NoCheckpointError(CheckpointNotFoundError, ValueError):
    """A directory without a checkpoint, or an empty state file: TensorFlow raises ``ValueError``
    there, so code written ``except ValueError`` for it keeps working."""


class ChecksumMismatchError(CorruptCheckpointError):
    """A block or tensor CRC32C does not match the stored bytes."""


class UnsupportedCheckpointError(CheckpointError, NotImplementedError):
    """Valid input that ckptviz cannot (or TensorFlow does not) handle."""


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The ``n`` candidates most like ``word`` (difflib's ratio, scored natively by rapidfuzz: a
    typo hint over 50 000 keys costs milliseconds, not a second)."""
    from rapidfuzz import fuzz, process

    found = process.extract(
        word, list(dict.fromkeys(candidates)), scorer=fuzz.ratio, limit=n, score_cutoff=60
    )
    return [match for match, _, _ in found]


class KeyNotFoundError(CheckpointError, KeyError):
    """A key or object path that the checkpoint does not hold."""

    def __init__(self, key: str, candidates: Iterable[str] = (), what: str = "key") -> None:
        close = close_matches(key, candidates)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"{what} {key!r} not found in checkpoint{hint}")
        self.key = key

    def __str__(self) -> str:
        return str(self.args[0])


class CheckpointExistsError(CheckpointError, FileExistsError):
    """A write would replace an existing checkpoint without ``overwrite=True``."""

    def __str__(self) -> str:
        return str(self.args[0])


class RestoreMismatchError(CheckpointError, ValueError):
    """Shapes or dtypes differ between checkpoint and objects; nothing was assigned."""

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report  # the CheckReport that lists every disagreement


class NameConflictError(CheckpointError, ValueError):
    """Converted variables would share a name (or have none); ``.problems`` lists them."""

    def __init__(self, message: str, problems: Mapping[str, list[str]]) -> None:
        super().__init__(message)
        self.problems = dict(problems)


class ClosedCheckpointError(CheckpointError, ValueError):
    """A read from a reader (or a write to a writer) that was closed."""


class UnknownDTypeError(CheckpointError, TypeError):
    """A dtype with no TensorFlow (or no numpy) equivalent."""


class InvalidArgumentError(CheckpointError, ValueError):
    """An argument ckptviz cannot use (an empty key, a duplicate tensor, a bad shard size)."""


class OutsideRootError(CheckpointError, PermissionError):
    """A path that leads (by its text or a symbolic link) outside the directory reads are confined to."""


class LayoutError(CheckpointError, RuntimeError):
    """The Graphviz engine could not run or failed to lay a picture out."""


class NotARegularFileError(CheckpointNotFoundError):
    """A directory, FIFO, device or symlink loop where a checkpoint file should be."""


class NothingMatchedError(InvalidArgumentError, LookupError):
    """A selection, filter or rename that matches nothing: an error, never a silent no-op."""


class LayoutTimeoutError(CheckpointError, TimeoutError):
    """Graphviz did not lay a picture out in time; its process was stopped."""


class LayoutCancelledError(CheckpointError):
    """A layout was cancelled (a newer request replaced it); its Graphviz process was stopped."""


class CheckpointWarning(UserWarning):
    """Something the user should know that is not an error (a conversion that drops keys)."""


class MissingDataWarning(CheckpointWarning):
    """An index-only checkpoint: keys are listed and objects drawn from the index alone."""


class DroppedKeysWarning(CheckpointWarning):
    """A conversion leaves keys out because the target format has no place for them."""


class LargeGraphWarning(CheckpointWarning):
    """A picture so big that its layout may take minutes and nobody can read it."""


class RemoteStorageError(CheckpointError, OSError):
    """An object store or web server failed to answer (an HTTP error, a refused or cut connection,
    denied access); the message names the URL (without credentials)."""

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:
        return str(self.args[0])
