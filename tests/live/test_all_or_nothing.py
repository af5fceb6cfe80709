"""Restores assign nothing unless every value can be assigned; checks compare dtypes and slots."""

from __future__ import annotations

import numpy as np
import pytest

import ckptviz
from tests.conftest import DATA

GUIDE = str(DATA / "guide_legacy_adam")
BIAS, KERNEL = "net/l1/bias/.ATTRIBUTES/VARIABLE_VALUE", "net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE"


def _tree() -> dict[str, object]:
    return {"net": {"l1": {"kernel": np.zeros((1, 5), np.float32), "bias": np.zeros(5, np.float32)}}}


@pytest.mark.parametrize("spoil", ["read-only", "scalar", "array-like"])
def test_an_unassignable_target_restores_nothing(spoil: str) -> None:
    tree = _tree()
    kernel = tree["net"]["l1"]["kernel"]  # type: ignore[index]
    if spoil == "read-only":
        tree["net"]["l1"]["bias"] = np.zeros(5, np.float32)  # type: ignore[index]
        tree["net"]["l1"]["bias"].flags.writeable = False  # type: ignore[index]
    elif spoil == "scalar":
        tree["step"] = np.int64(0)
    else:  # looks like an array of the right shape, but cannot be filled in place

        class ArrayLike:
            def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
                return np.zeros(5, np.float32)

        tree["net"]["l1"]["bias"] = ArrayLike()  # type: ignore[index]
    with pytest.raises(ckptviz.RestoreMismatchError, match="nothing was restored"):
        ckptviz.restore(GUIDE, into=tree)
    assert not kernel.any()  # the kernel, which could be assigned, was not


def test_every_value_is_read_before_the_first_assignment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ckptviz.transform.derived import DerivedCheckpoint

    real = DerivedCheckpoint.read

    def read(self: DerivedCheckpoint, key: str) -> np.ndarray:
        if key == BIAS:
            raise ckptviz.ChecksumMismatchError("bad", "x", 0)
        return real(self, key)

    monkeypatch.setattr(DerivedCheckpoint, "read", read)
    tree = _tree()
    with pytest.raises(ckptviz.ChecksumMismatchError):
        ckptviz.restore(GUIDE, into=tree)
    assert not tree["net"]["l1"]["kernel"].any()  # type: ignore[index]


def test_check_compares_dtypes() -> None:
    tree = _tree()
    tree["net"]["l1"]["kernel"] = np.zeros((1, 5), np.float64)  # type: ignore[index]
    report = ckptviz.check(GUIDE, tree)
    assert [r.path for r in report.mismatched] == ["net/l1/kernel"]
    assert report.by_key[KERNEL] == "mismatched" and report.by_key[BIAS] == "matched"
    assert report.table().startswith("will not load: 1 value(s) disagree")
    assert report.to_dict()["by_node"][str(report.mismatched[0].node_id)] == "mismatched"
