"""The package's layers import only downward, and reading never needs TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent / "ckptviz"
FACES = {"IPython", "ipywidgets", "jupyter_server", "tensorflow", "graphviz", "anywidget", "tornado"}


@pytest.mark.parametrize(
    "code",
    [
        "import ckptviz",
        "import ckptviz; r = ckptviz.load_checkpoint('tests/data/guide_legacy_adam'); "
        "[r.get_tensor(k) for k in r.get_variable_to_shape_map()]; ckptviz.open('tests/data/guide_legacy_adam').graph",
    ],
    ids=["import", "read everything"],
)
def test_reading_imports_no_faces_and_no_tensorflow(code: str) -> None:
    check = f"{code}; import sys; print(sorted(m for m in {sorted(FACES)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_stays_cheap() -> None:
    code = "import ckptviz, sys; print(sorted(m for m in ('pandas', 'h5py', 'fsspec', 'google.protobuf') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


LAYERS = ["format", "model", "render", "widgets", "cli"]  # bottom to top; faces (widgets, cli…) on top
FACE_LAYERS = {"widgets", "cli"}  # faces never import each other


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported ckptviz module, line, at module level)`` for every import in ``path``."""
    module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
        elif isinstance(node, ast.ImportFrom) and node.module:
            target = node.module
        else:
            continue
        found.append((target, node.lineno, node.col_offset == 0))
    return found


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[0] == "ckptviz" and parts[1] in LAYERS else None


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_layers_import_only_downward(path: Path) -> None:
    own = layer_of(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
    if own is None:
        return
    for target, line, top_level in imports_of(path):
        other = layer_of(target)
        # The one exception: an ObjectGraph draws itself in a notebook through render, lazily.
        allowed = (path.name, LAYERS[other] if other is not None else "") == (
            "graph.py",
            "render",
        ) and not top_level
        assert other is None or other <= own or allowed, f"{path.name}:{line} imports {target}"


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_faces_never_import_each_other(path: Path) -> None:
    own = layer_of(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
    if own is None or LAYERS[own] not in FACE_LAYERS:
        return
    for target, line, _ in imports_of(path):
        other = layer_of(target)
        assert other is None or other == own or LAYERS[other] not in FACE_LAYERS, f"{path.name}:{line} imports {target}"
