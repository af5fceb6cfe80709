"""The package's layers import only downward, and reading never needs TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
