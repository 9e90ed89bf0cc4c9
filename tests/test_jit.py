"""The compiled loops' switch (pmir_dsl/jit.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pmir_dsl import jit

REPO = Path(__file__).resolve().parent.parent


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


def test_a_large_parquet_table_starts_the_numba_import_while_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader reads a Parquet table's rows from its footers first; from JIT_MIN_ROWS (or
    with PMIRC_JIT=1) numba is imported on another thread while the table is read."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from pmir_dsl import load
    from pmir_dsl.pipeline import compile_file

    plan = compile_file(REPO / "contracts" / "atw_ha.pmir")
    specs = [s for s in plan.contract.used_tables() if s.name == "referrals"]
    text = pacsv.ConvertOptions(strings_can_be_null=False, column_types={
        c.name: "string" for c in specs[0].columns})
    rows = pacsv.read_csv(REPO / "examples" / "atw_ha" / "referrals.csv", convert_options=text)
    pq.write_table(rows, tmp_path / "referrals.parquet")
    started: list[int] = []
    monkeypatch.setattr(jit, "preload", lambda: started.append(1))
    for value, limit, expected in [("", rows.num_rows + 1, []), ("", rows.num_rows, [1]),
                                   ("0", 1, []), ("1", 10**9, [1])]:
        monkeypatch.setenv("PMIRC_JIT", value)
        monkeypatch.setattr(jit, "JIT_MIN_ROWS", limit)
        started.clear()
        assert load.load_tables(tmp_path, specs)["referrals"].rows == rows.num_rows
        assert started == expected, (value, limit)


def test_preload_imports_numba_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jit, "_PRELOADED", [])
    jit.preload()
    jit.preload()
    assert len(jit._PRELOADED) == 1
    jit._PRELOADED[0].join()
    import sys

    assert "numba" in sys.modules


def test_preload_loads_the_first_loop_with_the_types_the_evaluation_passes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The preload thread loads day_span (numba's code generation set up off the evaluation's
    path), with the very argument types of the evaluation's calls: one signature, so the
    evaluation reuses what was loaded instead of compiling a second version."""
    from pmir_dsl import kernels_eval
    from pmir_dsl.calendar import DaySpan

    monkeypatch.setattr(jit, "_PRELOADED", [])
    jit.preload()
    jit._PRELOADED[0].join()
    assert kernels_eval.day_span.compiled  # type: ignore[attr-defined]
    span = DaySpan.of(np.array(["2024-01-03", "NaT", "2024-01-01"], dtype="datetime64[D]"),
                      compiled=True)
    assert (span.size, list(span.at), list(span.ok)) == (3, [2, 3, 0], [True, False, True])
    assert len(kernels_eval.day_span.compiled[0].signatures) == 1  # type: ignore[attr-defined]


def test_a_kernel_still_runs_where_numba_cannot_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only installation and home: numba finds no cache folder and refuses cache=True;
    the loop is compiled without a cache instead of failing the run."""
    import numba

    real = numba.njit
    asked: list[bool] = []

    def njit(*args: object, cache: bool = False, **kwargs: object) -> object:
        asked.append(cache)
        if cache:
            raise RuntimeError("cannot cache function '_double': no locator available for file")
        return real(*args, **kwargs)
    monkeypatch.setattr(numba, "njit", njit)

    @jit.kernel
    def _double(values: np.ndarray) -> np.ndarray:
        return values * 2
    assert np.array_equal(_double(np.arange(3)), [0, 2, 4])
    assert asked == [True, False]
