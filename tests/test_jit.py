"""The compiled loops' switch (pmir_dsl/jit.py)."""
from __future__ import annotations

import numpy as np
import pytest

from pmir_dsl import jit


@pytest.mark.parametrize(("value", "rows", "expected"), [
    ("", jit.JIT_MIN_ROWS - 1, False), ("", jit.JIT_MIN_ROWS, True),
    ("1", 10, True), ("0", 10**9, False), ("yes", jit.JIT_MIN_ROWS, True), ("yes", 10, False)])
def test_pmirc_jit_chooses_or_the_size_does(monkeypatch: pytest.MonkeyPatch, value: str,
                                            rows: int, expected: bool) -> None:
    monkeypatch.setenv("PMIRC_JIT", value)
    assert jit.wanted(rows) is expected


@jit.kernel
def _running_total(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape[0], dtype=np.int64)
    total = 0
    for i in range(values.shape[0]):
        total += values[i]
        out[i] = total
    return out


def test_a_kernel_compiles_once_and_matches_its_python() -> None:
    values = np.arange(-5, 100, dtype=np.int32)
    assert np.array_equal(_running_total(values), np.cumsum(values, dtype=np.int64))
    assert np.array_equal(_running_total.py_func(values), _running_total(values))
