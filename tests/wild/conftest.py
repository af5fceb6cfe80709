"""The corpus of checkpoints other people committed to public repositories, with TensorFlow's
reading of each (``manifest.json``). It lives outside the project: these tests skip without it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

WILD = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "wild").resolve()
PRESENT = (WILD / "manifest.json").is_file()


def manifest() -> dict[str, Any]:
    return json.loads((WILD / "manifest.json").read_text())["cases"] if PRESENT else {}  # type: ignore[no-any-return]


def records(section: str) -> list[dict[str, Any]]:
    return [record for case in manifest().values() for record in case[section]]


def value_hash(value: Any, dtype: str) -> str:
    """The manifest's hash of a value (its ``conventions``): raw bytes, or the hex list of strings."""
    if dtype == "string":
        items = [value] if isinstance(value, bytes) else np.asarray(value, dtype=object).reshape(-1).tolist()
        return hashlib.sha256(
            json.dumps([e.hex() for e in items], separators=(",", ":")).encode()
        ).hexdigest()
    return hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
