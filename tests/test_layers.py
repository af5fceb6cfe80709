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
        "import ckptviz; ckptviz.open(ckptviz.examples.path('guide')).graph; ckptviz.load_ipython_extension",
    ],
    ids=["import", "read everything", "examples"],
)
def test_reading_imports_no_faces_and_no_tensorflow(code: str) -> None:
    check = f"{code}; import sys; print(sorted(m for m in {sorted(FACES)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_stays_cheap() -> None:
    code = "import ckptviz, sys; print(sorted(m for m in ('pandas', 'h5py', 'fsspec', 'google.protobuf', 'crc32c', 'ml_dtypes', 'rapidfuzz', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


LAYERS = ["format", "model", "transform", "live", "render", "widgets", "server", "magics", "cli"]  # bottom up
FACE_LAYERS = {"widgets", "server", "magics", "cli"}  # faces on top, and they never import each other


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported ckptviz module, line, at module level)`` for every import in ``path``."""
    module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{node.module}" if node.module else anchor
            # `from .. import render` imports a module named like the alias
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        found.extend((t, node.lineno, node.col_offset == 0) for t in targets)
    return found


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[0] == "ckptviz":
        name = parts[1].removesuffix(".py")
        return LAYERS.index(name) if name in LAYERS else None
    return None


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_layers_import_only_downward(path: Path) -> None:
    own = layer_of(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
    if own is None:
        return
    where = str(path.relative_to(ROOT))
    for target, line, _ in imports_of(path):  # at any level: a lazy import upward is still upward
        other = layer_of(target)
        assert other is None or other <= own, f"{where}:{line} imports {target}"


def test_the_layer_check_sees_every_import_form(tmp_path: Path) -> None:
    forms = [
        "from ..render import dot",
        "from .. import render",
        "import ckptviz.render.dot",
        "from ckptviz.render.dot import to_dot",
    ]
    for code in forms:
        fake = ROOT / "model" / "_probe.py"
        assert any(layer_of(t) == LAYERS.index("render") for t, _, _ in _imports_of_text(code, fake)), code


def _imports_of_text(code: str, as_path: Path) -> list[tuple[str, int, bool]]:
    probe = as_path.parent / "_layer_probe.py"
    probe.write_text(code)
    try:
        return imports_of(probe)
    finally:
        probe.unlink()


def test_the_magics_load_ipython_only_when_loaded() -> None:
    code = (
        "import sys, ckptviz; assert 'IPython' not in sys.modules; "
        "from IPython.core.interactiveshell import InteractiveShell; ip = InteractiveShell.instance(); "
        "ckptviz.load_ipython_extension(ip); print('ckpt' in ip.magics_manager.magics['line'], "
        "sorted(m for m in ('ipywidgets', 'anywidget', 'tensorflow', 'jupyter_server') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True []"


@pytest.mark.parametrize(
    "path", sorted((ROOT / "server").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_server_face_imports_only_lower_layers(path: Path) -> None:
    for target, line, _ in imports_of(path):
        parts = target.split(".")
        if parts[0] == "ckptviz" and len(parts) > 1 and parts[1] not in ("errors", "server"):
            assert parts[1] in ("format", "model", "transform", "render"), (
                f"{path.name}:{line} imports {target}"
            )
        assert parts[0] not in ("IPython", "ipywidgets", "anywidget"), f"{path.name}:{line} imports {target}"


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_faces_never_import_each_other(path: Path) -> None:
    own = layer_of(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
    if own is None or LAYERS[own] not in FACE_LAYERS:
        return
    for target, line, _ in imports_of(path):
        other = layer_of(target)
        assert other is None or other == own or LAYERS[other] not in FACE_LAYERS, (
            f"{path.name}:{line} imports {target}"
        )
