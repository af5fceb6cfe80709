"""Git LFS pointer files: the ~130 bytes a clone holds instead of a file tracked with
``git lfs track`` (``*.index``, ``*.data-*``, ``*.h5``) until ``git lfs pull`` fetches it."""

from __future__ import annotations

from . import storage

POINTER_MAGIC = b"version https://git-lfs.github.com/spec/"
MAX_POINTER_BYTES = 1024  # the spec's limit: anything bigger is a real file


def is_pointer(path: str) -> bool:
    """Whether ``path`` is a Git LFS pointer rather than the file it stands for."""
    try:
        blob = storage.open_blob(path)
    except OSError:
        return False
    try:
        return is_pointer_blob(blob)
    finally:
        blob.close()


def is_pointer_blob(blob: storage.Blob) -> bool:
    """The same test on a file already open (a reader's own, never opened again by path)."""
    return (
        blob.size <= MAX_POINTER_BYTES and blob.read(0, min(len(POINTER_MAGIC), blob.size)) == POINTER_MAGIC
    )


def message(path: str) -> str:
    return (
        f"{path} is a Git LFS pointer, not the file it stands for; fetch it with `git lfs pull` "
        "(or `git lfs pull --include <path>`) in its repository"
    )
