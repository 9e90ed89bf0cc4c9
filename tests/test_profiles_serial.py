"""The profiles' passes over the whole cohort table (issue 12, ESF's serial parts): the starts
no profile covers answered per key combination and looked up per row, and the start cells'
codes in the narrowest integer type, give what the per-row paths give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from pmir_dsl import ir, profiles
from pmir_dsl.compile import Batch
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import compile_file, make_batch, resolve_as_of
from pmir_dsl.schema import Table


def _esf(repo: Path) -> tuple[Any, Batch]:
    plan = compile_file(repo / "contracts/esf.pmir")
    tables = load_tables(repo / "examples/esf", plan.contract.used_tables())
    return plan, make_batch(plan, tables, resolve_as_of(plan, tables, None)[0])


def _scrambled(table: Table, seed: int, names: tuple[str, ...]) -> Table:
    """``table`` with the text columns ``names`` given random codes, nulls among them: key
    combinations the profile has no row for, and rows with no key value."""
    rng = np.random.default_rng(seed)
    columns = dict(table.columns)
    for name in names:
        col = columns[name]
        codes = rng.integers(-1, len(col.dictionary), table.rows).astype(col.values.dtype)
        columns[name] = attrs.evolve(col, values=codes)
    return Table(table.name, table.path, table.rows, table.sha256, columns)


def _cohort_measures(plan: Any) -> list[ir.Measure]:
    return [mp.measure for mp in plan.measures
            if isinstance(mp.measure.expected, ir.ExpectedCohort)]


def _lost(m: ir.Measure, b: Batch, table: Table) -> np.ndarray:
    e = m.expected
    assert isinstance(e, ir.ExpectedCohort)
    return profiles._without_profile(m, e, profiles._series(e, b)[0], table)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rows_without_a_profile_looked_up_per_combination_as_counted(
        repo: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    plan, b = _esf(repo)
    measures = _cohort_measures(plan)
    assert measures
    for m in measures:
        table = _scrambled(b.tables["referrals"], seed, ("lep_area", "category_of_region"))
        looked = _lost(m, b, table)
        monkeypatch.setattr(profiles, "KEY_TABLE", 0)  # every row's code counted, as before
        counted = _lost(m, b, table)
        monkeypatch.undo()
        assert looked.dtype == counted.dtype == np.bool_
        assert looked.tolist() == counted.tolist()
        assert 0 < counted.sum() < table.rows  # some rows have a profile and some have none


def test_every_row_profiled_gives_an_all_false_mask(repo: Path) -> None:
    """The bundled data: every start's keys have a profile at every level."""
    plan, b = _esf(repo)
    for m in _cohort_measures(plan):
        lost = _lost(m, b, b.tables["referrals"])
        assert lost.shape == (b.tables["referrals"].rows,) and not lost.any()


def _expected(plan: Any, b: Batch) -> list[tuple[Any, ...]]:
    out = []
    for m in _cohort_measures(plan):
        exp = profiles.expected(m, attrs.evolve(b, memo={}))
        assert exp is not None
        out.append((exp.problems, *({k: v.tolist() for k, v in g.items()}
                                    for part in (exp.levels, exp.starts, exp.cumulative)
                                    for g in part)))
    return out


@pytest.mark.parametrize("seed", [0, 5])
def test_start_cells_in_a_narrow_type_as_in_int64(repo: Path, seed: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Expected figures, starts and the missing-profile entry alike whether the cells' codes
    are int16 / int32 or int64 (cohorts off the axis wrap round in a narrow type, unstarted)."""
    plan, b = _esf(repo)
    tables = dict(b.tables)
    tables["referrals"] = _scrambled(tables["referrals"], seed, ("lep_area", "provider"))
    b = attrs.evolve(b, tables=tables, memo={})
    narrow = _expected(plan, b)
    monkeypatch.setattr(profiles, "code_type", lambda space: np.int64)
    wide = _expected(plan, b)
    assert narrow == wide
    assert any(problems for problems, *_ in narrow)  # the scrambled keys lose some starts


def test_start_cells_codes_with_cohorts_off_the_axis() -> None:
    """Rows whose cohort is off the axis (NaT's month, before the start) are not starts: their
    codes, wrapped round in int8, never reach the counts."""
    size = 3
    rng = np.random.default_rng(7)
    n = 500
    col = _text_column(rng.integers(-1, 2, n).astype(np.int8), ("a", "b"))
    cohort = rng.integers(-5, size + 2, n).astype(np.int64)
    cohort[::7] = np.iinfo(np.int64).min // 2  # a NaT's month index
    started = (cohort >= 0) & (cohort < size)
    assert profiles.code_type(profiles._space([col]) * size) is np.int8
    present, counts = profiles._start_cells([col], cohort, started, size)
    code = (col.values.astype(np.int64) + 1) * size + cohort
    want, want_counts = np.unique(code[started], return_counts=True)
    assert present.tolist() == want.tolist() and counts.tolist() == want_counts.tolist()
    assert counts.sum() == started.sum() < n


def _text_column(codes: np.ndarray, dictionary: tuple[str, ...]) -> profiles.Column:
    from pmir_dsl.schema import ColumnSpec, ColumnType
    return profiles.Column(ColumnSpec("k", ColumnType.TEXT, True), codes, dictionary=dictionary)


def test_code_type_is_the_narrowest_that_holds_the_space() -> None:
    assert [profiles.code_type(s) for s in (1, 127, 128, 32767, 32768, 2**31 - 1, 2**31)] == [
        np.int8, np.int8, np.int16, np.int16, np.int32, np.int32, np.int64]
