"""Limits that keep every figure exact, checked on the loaded data before either engine runs.

Sums are held as int64 millionths (schema.DECIMAL_SCALE) by the numpy engine. A value or a sum
that int64 cannot hold would wrap round silently and give a wrong figure, so the data is refused
first, with a message naming the file, the column and the rows of the largest values. The check
bounds every sum either engine forms: a ratio measure adds up a subset of its column's values (a
group, a month, a window), and no subset's total can exceed the sum of the values' magnitudes;
a looked-up target adds up at most one rate per record of the measure's table. Both engines call
:func:`check_sums`, so they refuse the same data (docs/reliability.md).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from . import ir
from .errors import DataError, DataProblem
from .schema import DECIMAL_SCALE, Column, ColumnSpec, ColumnType, Table
from .span import FIRST_DAY, LAST_DAY, SPAN_TEXT

#: The largest magnitude a sum may reach, in millionths: what an int64 holds.
SUM_LIMIT = 2**63 - 1
#: Below this (as a float estimate) a sum is certainly representable: no exact pass needed.
_SAFE = float(2**62)
#: How many of the largest values a message shows.
_SHOWN = 5


def check_sums(contract: ir.Contract, tables: dict[str, Table]) -> None:
    """Raise DataError if any sum the contract's measures form could exceed :data:`SUM_LIMIT`."""
    problems = sum_problems(contract, tables)
    if problems:
        raise DataError(problems)


def sum_problems(contract: ir.Contract, tables: dict[str, Table],
                 skip: frozenset[str] = frozenset()) -> list[DataProblem]:
    """The problems :func:`check_sums` raises, leaving out the columns of tables in ``skip``
    summed as their own rows (streamed tables, whose sums are added up batch by batch)."""
    problems: dict[tuple[str, str], DataProblem] = {}
    for m in contract.measures:
        for source, column, copies in _summed(m, tables, contract, skip):
            key = (source.path, column.spec.name)
            if key not in problems:
                problem = _too_large(m, source, column, copies)
                if problem is not None:
                    problems[key] = problem
    return list(problems.values())


def summed_columns(m: ir.Measure) -> list[ColumnSpec]:
    """The columns of its own table that a measure adds up, each row once."""
    if m.kind == "ratio" and m.ratio is not None:
        return [spec for spec in m.ratio if spec.via is None]
    return []


def _summed(m: ir.Measure, tables: dict[str, Table], contract: ir.Contract,
            skip: frozenset[str] = frozenset()) -> list[tuple[Table, Column, int]]:
    """(table, column, how many records may each bring one value) of each column m sums."""
    out = []
    if m.kind == "ratio" and m.ratio is not None:
        for spec in m.ratio:
            if spec.via is None and m.table in skip:
                continue
            out.append(_source(m.table, spec, tables, contract))
    if m.target.lookup is not None:
        rates = tables[m.target.lookup.table]
        out.append((rates, rates.columns[m.target.lookup.value.name], tables[m.table].rows))
    return out


def _source(table: str, spec: ColumnSpec, tables: dict[str, Table], contract: ir.Contract
            ) -> tuple[Table, Column, int]:
    """Where a summed column's values come from: its own table (each row once), or, for a
    column read through a reference, the referenced table (a row once per record at most;
    the reference from the declarations: a streamed table's shell holds no columns)."""
    if spec.via is None:
        return tables[table], tables[table].columns[spec.name], 1
    column = contract.table(table).column(spec.via)
    ref = column.references if column is not None else None
    assert ref is not None
    return tables[ref], tables[ref].columns[spec.name], tables[table].rows


def _too_large(m: ir.Measure, source: Table, col: Column, copies: int) -> DataProblem | None:
    """The problem with a column whose sum may not fit, or None."""
    if col.spec.type not in (ColumnType.DECIMAL, ColumnType.INTEGER):
        return None
    rows = np.flatnonzero(col.present())
    magnitude = np.abs(col.values[rows])  # int64 millionths or whole numbers: no int64 minimum
    factor = DECIMAL_SCALE if col.spec.type is ColumnType.INTEGER else 1
    if copies == 1:
        estimate, exact = float(magnitude.astype(np.float64).sum()) * factor, _exact_sum
    else:
        estimate, exact = float(magnitude.max(initial=0)) * factor * copies, _exact_max
    if estimate < _SAFE or exact(magnitude) * factor * copies <= SUM_LIMIT:
        return None
    return _problem(m, source, col, rows, magnitude, copies)


def _exact_sum(values: np.ndarray) -> int:
    return sum(int(v) for v in values.tolist())


def _exact_max(values: np.ndarray) -> int:
    return int(values.max(initial=0))


def _problem(m: ir.Measure, source: Table, col: Column, rows: np.ndarray, magnitude: np.ndarray,
             copies: int) -> DataProblem:
    """Name the rows of the largest values: a misplaced decimal point is the likely cause."""
    largest = np.sort(rows[np.argsort(-magnitude, kind="stable")[:_SHOWN]])
    return sum_problem(m, source.path, col.spec, [int(r) for r in largest],
                       [int(col.values[r]) for r in largest], len(rows), copies)


def sum_problem(m: ir.Measure, path: str, spec: ColumnSpec, rows: list[int], values: list[int],
                count: int, copies: int = 1) -> DataProblem:
    """The problem of a column whose sum may not fit: ``rows`` (0-based, in order) and
    ``values`` (as held) of its largest values, ``count`` the rows with a value."""
    first = 2 if path.endswith(".csv") else 1  # spreadsheet rows, as in data problems
    limit = f"{SUM_LIMIT // DECIMAL_SCALE:,}"
    what = "its values added up" if copies == 1 else f"its values added up over {copies:,} records"
    return DataProblem(
        path, f"measure {m.id} sums this column, and {what} can reach more than {limit} "
        "in magnitude, more than pmirc can total exactly", spec.name,
        tuple(r + first for r in rows), tuple(_shown(spec, v) for v in values),
        count, hint="the rows shown hold the largest values: check them for a misplaced "
        "decimal point or a 'no value' filler such as 999999999999; totals must stay under "
        f"{limit}")


def _shown(spec: ColumnSpec, value: int) -> str:
    if spec.type is ColumnType.INTEGER:
        return str(value)
    whole, part = divmod(abs(value), DECIMAL_SCALE)
    text = f"{whole}.{part:06d}".rstrip("0").rstrip(".")
    return f"-{text}" if value < 0 else text


# ---- the span of dates ---------------------------------------------------------------------------

#: The dates pmirc evaluates: data, --as-of and the contract's dates must lie within them. Wide
#: enough for any programme's records (and January 1900, Excel's day 1); narrow enough that a
#: 'no date' filler such as 9999-12-31 or 0001-01-01 is refused with its rows named, instead of
#: stretching the month axis over thousands of years (docs/reliability.md).
FIRST_DATE, LAST_DATE = np.datetime64(FIRST_DAY, "D"), np.datetime64(LAST_DAY, "D")
_MONTH_SPAN = tuple(int(d.astype("datetime64[M]").astype(np.int64)) for d in (FIRST_DATE, LAST_DATE))


def out_of_span(table: Table) -> list[DataProblem]:
    """A problem for each date, month, quarter or period column with values outside the span."""
    problems = []
    first = 2 if table.path.endswith(".csv") else 1  # spreadsheet rows, as in data problems
    for col in table.columns.values():
        far = _far(col)
        if far is None or not far.any():
            continue
        rows = np.flatnonzero(far)
        shown = rows[:_SHOWN]
        problems.append(DataProblem(
            table.path, f"outside the dates pmirc evaluates ({SPAN_TEXT})", col.spec.name,
            tuple(int(r) + first for r in shown), _dates_shown(col, shown), len(rows),
            hint="a date such as 9999-12-31 or 0001-01-01 that stands for 'no date' should be "
            "left empty; otherwise correct the year"))
    return problems


def _far(col: Column) -> np.ndarray | None:
    """Mask of a column's values outside the span, or None for a column that holds no dates
    (or whose earliest and latest dates are within it)."""
    t = col.spec.type
    if t is ColumnType.DATE:
        lo, hi = date_span(col.values)
        if lo is None or (FIRST_DATE <= lo and hi <= LAST_DATE):
            return None
        present = ~np.isnat(col.values)
        return present & ((col.values < FIRST_DATE) | (col.values > LAST_DATE))
    if t in (ColumnType.MONTH, ColumnType.QUARTER, ColumnType.PERIOD):
        months = col.values.astype(np.int64)
        return col.present() & ((months < _MONTH_SPAN[0]) | (months > _MONTH_SPAN[1]))
    return None


def _dates_shown(col: Column, rows: np.ndarray) -> tuple[str, ...]:
    if col.spec.type is ColumnType.DATE:
        return tuple(str(v) for v in col.values[rows])
    return tuple(str(np.datetime64(int(v), "M")) for v in col.values[rows])


#: Spans of date columns already worked out: id -> (weak reference to the array, span). The
#: far-date check, the as-of date, the calendar's years and the far-date warning all ask for
#: the same columns.
_SPANS: dict[int, tuple[Any, tuple[np.datetime64 | None, np.datetime64 | None]]] = {}
_SPANS_LOCK = threading.Lock()


def date_span(dates: np.ndarray) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    """Earliest and latest date of a column (None when empty), in one pass over int64 views:
    NaT is the smallest int64, so it never wins a max, and is skipped for the min."""
    hit = _SPANS.get(id(dates))
    if hit is not None and hit[0]() is dates:
        return hit[1]
    days = dates.view(np.int64)
    span: tuple[np.datetime64 | None, np.datetime64 | None] = (None, None)
    hi = days.max() if len(days) else np.iinfo(np.int64).min
    if hi != np.iinfo(np.int64).min:
        lo = np.where(days == np.iinfo(np.int64).min, hi, days).min()
        span = np.datetime64(int(lo), "D"), np.datetime64(int(hi), "D")
    remember_span(dates, span)
    return span


def remember_span(dates: np.ndarray, span: tuple[np.datetime64 | None, np.datetime64 | None]
                  ) -> None:
    """Record the span of a date column found another way (the loader has Arrow's, which skips
    nulls without a pass of its own), so that :func:`date_span` returns it."""
    with _SPANS_LOCK:  # chunks on threads remember spans at once
        if len(_SPANS) > 256:  # forget the columns no longer alive
            for key in [k for k, (ref, _) in _SPANS.items() if ref() is None]:
                del _SPANS[key]
        _SPANS[id(dates)] = (weakref.ref(dates), span)


# ---- the length of an evaluation -----------------------------------------------------------------

#: The most months from the service start month to the as-of month. Figures are kept for every
#: month, so memory grows with their number; 20 years is longer than any PMIR contract runs.
MAX_MONTHS = 240


def check_axis(start: str, as_of: Any, source: str, tables: dict[str, Table]) -> None:
    """Raise DataError when the as-of date is more than :data:`MAX_MONTHS` months after the
    service start: naming the dates that made it so when it is the latest date in the data."""
    first = np.datetime64(start, "M")
    day = np.datetime64(as_of, "D")
    months = int((day.astype("datetime64[M]") - first).astype(np.int64)) + 1
    if months <= MAX_MONTHS:
        return
    end = (first + np.timedelta64(MAX_MONTHS, "M")).astype("datetime64[D]")  # first day after
    what = (f"the as-of date {day} ({source}) is {months:,} months after the service start "
            f"month {first}; pmirc evaluates at most {MAX_MONTHS} months ({MAX_MONTHS // 12} years)")
    if source != "the latest date in the data":
        hint = "pass --as-of with the extract's date" if source == "--as-of" else \
            "correct the contract's extract date"
        raise DataError(DataProblem(source, what, hint=hint))
    problems = []
    for table in tables.values():
        for col in table.columns.values():
            if col.spec.type is ColumnType.DATE:
                rows = np.flatnonzero(~np.isnat(col.values) & (col.values >= end))
                if rows.size:
                    first_row = 2 if table.path.endswith(".csv") else 1
                    problems.append(DataProblem(
                        table.path, what, col.spec.name,
                        tuple(int(r) + first_row for r in rows[:_SHOWN]),
                        tuple(str(col.values[r]) for r in rows[:_SHOWN]), len(rows),
                        hint="correct these dates, or pass --as-of YYYY-MM-DD"))
    raise DataError(problems)
