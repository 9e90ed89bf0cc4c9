"""A reference interpreter: a second, deliberately simple evaluator over the same checked IR.

It walks the records one at a time in plain Python, with ``datetime.date`` for dates, exact
``Fraction`` arithmetic, and working days found by stepping day by day over the calendar. It is
written to be obviously right, not fast, from the project's texts (``semantics.md``,
``docs/language.md`` and the IR's docstrings), never from the numpy engine's code, so that it can
serve as a test oracle: ``tests/test_differential.py`` checks that both engines print the same
JSON, and ``pmirc check --engine reference`` runs it so that anyone can cross-check a figure on a
small extract.

Outline of one evaluation (:func:`evaluate_reference`):

1. The as-of date: ``--as-of``, else the contract's extract date, else the latest date in the
   date columns read.
2. For each measure and each record of its population table: the ``where`` filter, then the
   data-quality checks in their documented order (the first that applies excludes the record),
   then the record's period and its verdict (met, failed or pending).
3. Per measure, group level, group and period: the counts, summed over each basis's periods into
   one result row, with the target decided exactly; then each group's rank, for a measure that
   ranks (docs/language.md 10.4).
4. Each formal review and its notices (10.6, 10.7), by :mod:`reference_reviews` from the
   reference's own monthly counts.
5. Each assurance's triggers (9.5), by :mod:`reference_assurance`, review by review.

A count ratio (10.1) counts a record in the denominator in the month of B and, once A has
happened, in the numerator in the month of A; a looked-up target (10.2) adds up each denominator
record's rate, exactly, as the outcomes required; lateness buckets (10.5) are decided per record
from its window's dates.

Where the texts are silent, these readings are taken (and agree with the numpy engine):

- a record excluded as dated after the as-of date, but in the as-of month (or quarter), is
  counted as excluded in that reported period (decision 28); a quarter in a ``month of`` measure
  (``... is a quarter, not a month``) is counted as excluded in the quarter's first month;
- the heading's accounting of an ``each month from S until U`` measure counts record-months, as
  its figures do;
- a start without a profile at a group level is left out of that level's cohort triangle:
  its starts and its outcomes;
- the deadline period's ``COLUMN missing`` and a gap window's ``S missing`` /
  ``U before S`` are checked where a time window's checks are;
- a looked-up target's key that is empty matches a row of the table whose key is empty, as an
  empty profile key does (6.13); bands, even deciding ones, do not change whether a looked-up
  target is met (10.2 says when it is: the numerator reaches the outcomes required).

Escalation regimes and remedies (semantics.md 7) are state over the monthly results: they are
not re-implemented here, but run over the reference's own results and notices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

from . import ir, limits, lookalike
from .errors import DataError, DataProblem
from .evaluate import K_EXCLUDED, K_FAILED, K_MET, K_PENDING
from .reference_assurance import assurance_reference
from .schema import DECIMAL_SCALE, ColumnSpec, ColumnType, Table

ALL = "ALL"
N_EXAMPLES = 5
#: Shares of one cohort profile series must add up to 1 within this (published profiles round).
SHARE_TOLERANCE = Fraction(1, 1000)

MET, FAILED, PENDING, EXCLUDED = "met", "failed", "pending", "excluded"


# ---- months and quarters -------------------------------------------------------------------------
# A month is one whole number: year * 12 + (month - 1). A quarter is the number of its first month.


def month_of(day: dt.date) -> int:
    """The month a date falls in."""
    return day.year * 12 + day.month - 1


def edate(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months later, or that month's last day (Excel's EDATE)."""
    month = month_of(day) + months
    year, index = divmod(month, 12)
    after = first_day(month + 1)
    return min(dt.date(year, index + 1, 1) + dt.timedelta(days=day.day - 1),
               after - dt.timedelta(days=1))


def first_day(month: int) -> dt.date:
    """The first day of a month."""
    return dt.date(month // 12, month % 12 + 1, 1)


def last_day(month: int) -> dt.date:
    """The last day of a month."""
    return first_day(month + 1) - dt.timedelta(days=1)


def quarter_of(month: int) -> int:
    """The first month of the calendar quarter that contains ``month``."""
    return month - month % 3


def month_label(month: int) -> str:
    """``YYYY-MM``."""
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def quarter_label(quarter: int) -> str:
    """``YYYY-Qn``."""
    return f"{quarter // 12:04d}-Q{quarter % 12 // 3 + 1}"


# ---- the calendar: working days stepped one day at a time ----------------------------------------


class WorkingDays:
    """Monday to Friday, less the bank holidays of the contract's calendar."""

    def __init__(self, calendar: Any):
        self.calendar = calendar
        self.holidays: set[dt.date] = set()
        self.years: set[int] = set()

    def _load_year(self, year: int) -> None:
        if year not in self.years:
            self.years.add(year)
            days = self.calendar.bank_holidays(year, year)
            self.holidays |= {dt.date.fromisoformat(str(d)) for d in days}

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day."""
        self._load_year(day.year)
        return day.weekday() < 5 and day not in self.holidays

    def workday(self, day: dt.date, n: int) -> dt.date:
        """Excel ``WORKDAY(day, n)``: the n-th working day after ``day`` (``day`` itself not
        counted, and it may be a non-working day); ``day`` itself when n is 0."""
        counted = 0
        while counted < n:
            day = day + dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day = day + dt.timedelta(days=1)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days there are after ``start`` up to and including ``end``."""
        count = 0
        day = start
        while day < end:
            day = day + dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


# ---- reading values from the loaded tables, one record at a time ---------------------------------


def python_values(table: Table, name: str) -> list[Any]:
    """The column's values as Python values, one per row (None where empty).

    id, ref and text: str; category: the value's name; bool: True / False; date:
    ``datetime.date``; integer: int; decimal: Fraction; month and quarter: the month number (see
    :func:`month_of`); period: (first month, number of months: 1 or 3).
    """
    col = table.columns[name]
    t = col.spec.type
    out: list[Any] = []
    if t in (ColumnType.ID, ColumnType.REF):
        return [None if v is None else str(v) for v in col.values.to_pylist()]
    for row in range(table.rows):
        if t is ColumnType.TEXT:
            code = int(col.values[row])
            out.append(None if code < 0 else col.dictionary[code])
        elif t is ColumnType.CATEGORY:
            code = int(col.values[row])
            out.append(None if code < 0 else col.spec.categories[code])
        elif t is ColumnType.BOOL:
            code = int(col.values[row])
            out.append(None if code < 0 else code == 1)
        elif t is ColumnType.DATE:
            text = str(col.values[row])
            out.append(None if text == "NaT" else dt.date.fromisoformat(text))
        elif col.valid is not None and not bool(col.valid[row]):
            out.append(None)
        elif t is ColumnType.INTEGER:
            out.append(int(col.values[row]))
        elif t is ColumnType.DECIMAL:
            out.append(Fraction(int(col.values[row]), DECIMAL_SCALE))
        elif t in (ColumnType.MONTH, ColumnType.QUARTER):
            out.append(1970 * 12 + int(col.values[row]))  # stored as months since 1970-01
        elif t is ColumnType.PERIOD:
            assert col.months is not None
            out.append((1970 * 12 + int(col.values[row]), int(col.months[row])))
        else:
            raise AssertionError(f"unknown column type {t}")
    return out


class Data:
    """The loaded tables, read as Python values on demand (each column once)."""

    def __init__(self, tables: dict[str, Table], contract: ir.Contract):
        self.tables = tables
        self.contract = contract
        self._columns: dict[tuple[str, str], list[Any]] = {}
        self._id_rows: dict[str, dict[str, int]] = {}
        self._referring: dict[tuple[str, str], dict[str, list[int]]] = {}

    def rows(self, table: str) -> range:
        """The row numbers of a table (0 is the first record)."""
        return range(self.tables[table].rows)

    def column(self, table: str, name: str) -> list[Any]:
        """All values of one column, as Python values."""
        key = (table, name)
        if key not in self._columns:
            self._columns[key] = python_values(self.tables[table], name)
        return self._columns[key]

    def id_column(self, table: str) -> str | None:
        """The name of the table's id column, if it has one."""
        for col in self.tables[table].columns.values():
            if col.spec.type is ColumnType.ID:
                return col.spec.name
        return None

    def row_of_id(self, table: str, record_id: str) -> int | None:
        """The row of ``table`` whose id is ``record_id``, or None."""
        if table not in self._id_rows:
            name = self.id_column(table)
            ids = self.column(table, name) if name else []
            self._id_rows[table] = {v: row for row, v in enumerate(ids)}
        return self._id_rows[table].get(record_id)

    def rows_referring(self, table: str, ref_column: str, record_id: str | None) -> list[int]:
        """The rows of ``table`` whose ``ref_column`` holds ``record_id``."""
        key = (table, ref_column)
        if key not in self._referring:
            index: dict[str, list[int]] = {}
            for row, ref_id in enumerate(self.column(table, ref_column)):
                if ref_id is not None:
                    index.setdefault(ref_id, []).append(row)
            self._referring[key] = index
        return [] if record_id is None else self._referring[key].get(record_id, [])

    def value(self, table: str, row: int, spec: ColumnSpec) -> Any:
        """The value of column ``spec`` for one record of ``table``, following a reference for
        a joined column (None when the reference is empty or names no record)."""
        if spec.via is None:
            return self.column(table, spec.name)[row]
        ref_id = self.column(table, spec.via)[row]
        if ref_id is None:
            return None
        target = self.referenced_table(table, spec.via)
        ref_row = self.row_of_id(target, ref_id)
        if ref_row is None:
            return None
        return self.column(target, spec.name)[ref_row]

    def referenced_table(self, table: str, ref_column: str) -> str:
        """The table that ``ref_column`` of ``table`` refers to."""
        spec = self.contract.table(table).column(ref_column)
        assert spec is not None and spec.references is not None
        return spec.references

    def example(self, table: str, row: int) -> str:
        """How a record is named in data-quality lists: its id, else 'row N' as in a CSV file."""
        name = self.id_column(table)
        if name is not None:
            return self.column(table, name)[row]
        return f"row {row + 2}"


# ---- a looked-up target's table (10.2) ----------------------------------------------------------


class RateTable:
    """The rows of a ``target at least RATE of TABLE for KEYS in the month of B`` table: per key
    values (as text, an empty value being a value like any other), the rows' months (from, to,
    inclusive) and rates. Rows with an empty rate or month are not used. A row whose first month
    is after its last, or two rows for the same key values whose months overlap, are data
    errors (decision 83)."""

    def __init__(self, data: Data, lookup: ir.RateLookup):
        table = lookup.table
        first = data.column(table, lookup.months[0].name)
        last = data.column(table, lookup.months[-1].name)
        rates = data.column(table, lookup.value.name)
        keys = [[key_text(v) for v in data.column(table, theirs.name)]
                for _, theirs in lookup.keys]
        self.lookup = lookup
        self.rows: dict[tuple[str | None, ...], list[tuple[int, int, Fraction, int]]] = {}
        backwards = []
        for row in data.rows(table):
            if rates[row] is None or first[row] is None or last[row] is None:
                continue
            if first[row] > last[row]:
                backwards.append(row)
            key = tuple(k[row] for k in keys)
            self.rows.setdefault(key, []).append((first[row], last[row], Fraction(rates[row]),
                                                  row))
        path = data.tables[table].path
        if backwards:
            raise DataError(DataProblem(
                path, f"{lookup.months[0].name} after {lookup.months[-1].name}",
                lookup.months[0].name, tuple(r + 2 for r in backwards[:5]), (), len(backwards),
                hint=f"the first month column declared ({lookup.months[0].name}) is where each "
                "row's months begin"))
        for key, found in self.rows.items():
            for a in found:
                for b in found:
                    if a[3] < b[3] and a[0] <= b[1] and b[0] <= a[1]:
                        lo, hi = sorted((a, b))
                        words = ", ".join("" if v is None else v for v in key) or "every record"
                        raise DataError(DataProblem(
                            path, f"rows {lo[3] + 2} and {hi[3] + 2} both give a "
                            f"{lookup.value.name} for {words} in {month_label(hi[0])}",
                            lookup.months[0].name, (lo[3] + 2, hi[3] + 2), (), 2,
                            hint="each key's months may appear in one row only"))

    def rate(self, get: Callable[[ColumnSpec], Any], month: int) -> Fraction | None:
        """The rate of the row with the record's key values whose months hold ``month``."""
        key = tuple(key_text(get(own)) for own, _ in self.lookup.keys)
        for first, last, rate, _ in self.rows.get(key, []):
            if first <= month <= last:
                return rate
        return None


# ---- conditions ----------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    """A value as it is written after ``is``: bools as true / false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def holds(cond: ir.Condition, get: Callable[[ColumnSpec], Any]) -> bool:
    """Whether a condition is true for one record (``get`` reads the record's columns).

    An empty value makes every condition on it false except ``is missing``; ``not`` turns any
    false into true (docs/language.md 6.5 and decision 18).
    """
    if isinstance(cond, ir.IsTrue):
        return get(cond.column) is True
    if isinstance(cond, ir.IsPresent):
        return (get(cond.column) is not None) == cond.present
    if isinstance(cond, ir.InValues):
        value = get(cond.column)
        if value is None:
            return False
        found = as_text(value) in cond.values
        return not found if cond.negate else found
    if isinstance(cond, ir.Comparison):
        left, right = operand(cond.left, get), operand(cond.right, get)
        if left is None or right is None:
            return False
        return {"<": left < right, "<=": left <= right, "=": left == right,
                "!=": left != right, ">=": left >= right, ">": left > right}[cond.op]
    if isinstance(cond, ir.Not):
        return not holds(cond.item, get)
    if isinstance(cond, ir.AllOf):
        return all(holds(item, get) for item in cond.items)
    if isinstance(cond, ir.AnyOf):
        return any(holds(item, get) for item in cond.items)
    raise AssertionError(f"unknown condition {cond!r}")


def operand(o: ir.Operand, get: Callable[[ColumnSpec], Any]) -> Any:
    """A comparison side's value: a column's, a whole number, or a date."""
    if o.column is not None:
        return get(o.column)
    if isinstance(o.value, str):
        return dt.date.fromisoformat(o.value)
    return o.value


# ---- one record of one measure -------------------------------------------------------------------


class Record:
    """What the reference decides about one population record of one measure."""

    def __init__(self, row: int):
        self.row = row
        self.status = ""            # met | failed | pending | excluded (at the as-of date)
        self.check: str | None = None  # the data-quality check that excluded it
        self.period: int | None = None  # its month (or quarter), None when it has none
        # (period, status) for each period it counts in: one, except 'each month from S until U'
        self.counts: list[tuple[int, str]] = []
        self.groups: list[tuple[Any, ...]] = []  # its group values, one tuple per level
        self.numerator = Fraction(0)  # ratio measures: the values summed
        self.denominator = Fraction(0)
        self.anchor: dt.date | None = None  # backlog measures
        self.until: dt.date | None = None
        self.over_limit: dt.date | None = None
        self.cohort: int | None = None  # cohort measures: the start month of its cohort
        self.start_row: int | None = None  # ... and the row of the start it belongs to
        self.outcome_month: int | None = None  # count ratios: the month of A, once it happened
        self.rate: Fraction = Fraction(0)  # a looked-up target: the record's rate
        self.bucket: str | None = None  # lateness buckets: the record's bucket


class Context:
    """What every measure's evaluation shares: the data, calendar, service start and as-of."""

    def __init__(self, contract: ir.Contract, data: Data, as_of: dt.date):
        self.contract = contract
        self.data = data
        self.as_of = as_of
        self.start = dt.date.fromisoformat(contract.service_start)
        self.first_month = month_of(self.start)
        self.last_month = month_of(as_of)
        self.days = WorkingDays(contract.calendar)
        self.quality: dict[tuple[str, str], set[int]] = {}
        self.rate_tables: dict[ir.RateLookup, RateTable] = {}

    def rate_table(self, lookup: ir.RateLookup) -> RateTable:
        """The looked-up target's table, read and checked once."""
        if lookup not in self.rate_tables:
            self.rate_tables[lookup] = RateTable(self.data, lookup)
        return self.rate_tables[lookup]

    def exclude(self, table: str, check: str, row: int) -> None:
        """Note a record excluded under a data-quality check (each record once per check)."""
        self.quality.setdefault((table, check), set()).add(row)


def judge(ctx: Context, m: ir.Measure, row: int) -> Record | None:
    """The record's verdict for measure ``m``; None when the ``where`` filter leaves it out."""
    data = ctx.data

    def get(spec: ColumnSpec) -> Any:
        return data.value(m.table, row, spec)

    if m.where is not None and not holds(m.where, get):
        return None
    if m.kind == "count_ratio":  # a record with neither date is outside the population (10.1)
        assert m.ratio is not None
        if get(m.ratio[0]) is None and get(m.ratio[1]) is None:
            return None
    rec = Record(row)
    rec.groups = [tuple(key_text(get(c)) for c in level) for level in m.groups]
    check = first_failing_check(ctx, m, get, rec)
    if check is not None:
        rec.status, rec.check = EXCLUDED, check
        ctx.exclude(m.table, check, row)
        if rec.period is not None:
            rec.counts = [(rec.period, EXCLUDED)]
        return rec
    rec.status = verdict(ctx, m, get, rec)
    if not rec.counts:
        assert rec.period is not None
        rec.counts = [(rec.period, rec.status)]
    return rec


def first_failing_check(ctx: Context, m: ir.Measure, get: Callable[[ColumnSpec], Any],
                        rec: Record) -> str | None:
    """The first data-quality check that the record fails, in the order of the table of
    docs/language.md 6.8, or None. Sets ``rec.period`` once the record has a reported period."""
    # 1. references to another table that the measure reads through (decision 37: such a
    # record has no period and no group)
    for ref in referenced_columns(ctx.contract, m):
        ref_id = get(ref)
        if ref_id is None:
            return f"{ref.name} missing"
        assert ref.references is not None
        if ctx.data.row_of_id(ref.references, ref_id) is None:
            return f"{ref.name} not found in {ref.references}"

    # 2. the period column
    col = m.period_column
    value = get(col)
    if value is None:
        return f"{col.name} missing"
    length = 1
    if col.type is ColumnType.DATE:
        month = month_of(value)
    elif col.type is ColumnType.PERIOD:
        month, length = value
    else:
        month = value
    quarterly = m.period_unit == "quarter"
    if quarterly and quarter_of(month) < quarter_of(ctx.first_month):
        return f"{col.name} before the service start month {month_label(ctx.first_month)}"
    if not quarterly and month < ctx.first_month:
        return f"{col.name} before the service start month {month_label(ctx.first_month)}"
    period = quarter_of(month) if quarterly else month
    last = quarter_of(ctx.last_month) if quarterly else ctx.last_month
    after = value > ctx.as_of if col.type is ColumnType.DATE else month > ctx.last_month
    if after:
        # dated after the as-of date but in the as-of month (or quarter): excluded in that
        # reported period (decision 28: a record in a reported period, even excluded)
        if period <= last:
            rec.period = period
        return f"{col.name} after the as-of date {ctx.as_of.isoformat()}"
    rec.period = period
    if not quarterly and length == 3:
        # the docs do not say which month an excluded quarter shows in: its first month
        return f"{col.name} is a quarter, not a month"

    # 2b. the table's 'LATER not before EARLIER' for a later date the measure reads
    for later, earlier in m.orders:
        a, b = get(later), get(earlier)
        if a is not None and b is not None and a < b:
            return f"{later.name} before {earlier.name}"

    # 3. the cohort an outcome belongs to
    e = m.expected
    if isinstance(e, ir.ExpectedCohort) and (e.link is not None or e.table == m.table):
        start = (linked_start(ctx, e, get) if e.link is not None
                 else cohort_start(ctx, e, rec.row))  # its own start, as a linked one is read
        if start is None:
            return f"no {e.start.name} in {e.table}"
        if value < start:
            return f"{col.name} before {e.start.name}"

    # 4. the time window, or 'due when' (checked as a window is)
    w = m.window
    if isinstance(w, ir.WithinDays):
        anchor = get(w.anchor)
        if anchor is None:
            return f"{w.anchor.name} missing"
        if isinstance(w.days, ir.DaysByCategory):
            category = get(w.days.column)
            if category is None:
                return f"{w.days.column.name} missing"
            if w.days.days[w.days.column.categories.index(category)] is None:
                return f"{w.days.column.name} has no days given"
        event = get(w.event)
        if event is not None and event < anchor:
            return f"{w.event.name} before {w.anchor.name}"
    elif isinstance(w, ir.OnOrBeforeDeadline):
        if get(w.period) is None:
            return f"{w.period.name} missing"
    elif isinstance(w, ir.EveryNDays):
        start, until = get(w.start), get(w.until)
        if start is None:
            return f"{w.start.name} missing"
        if until is not None and until < start:
            return f"{w.until.name} before {w.start.name}"
    if m.due is not None:
        anchor = get(m.due.anchor)
        if anchor is None:
            return f"{m.due.anchor.name} missing"
        event = get(m.due.event)
        if event is not None and event < anchor:
            return f"{m.due.event.name} before {m.due.anchor.name}"

    # 5. the columns of a ratio
    if m.ratio is not None and m.kind == "ratio":
        for spec in m.ratio:
            if get(spec) is None:
                return f"{spec.name} missing"

    # 5b. an average's dates (6.17)
    if m.kind == "average" and m.ratio is not None:
        a, e = get(m.ratio[0]), get(m.ratio[1])
        if a is None:
            return f"{m.ratio[0].name} missing"
        if e is not None and e < a:
            return f"{m.ratio[1].name} before {m.ratio[0].name}"

    # 6. a backlog's closing date
    if m.backlog is not None:
        until = get(m.backlog.until)
        if until is not None and until < value:
            return f"{m.backlog.until.name} before {col.name}"

    # 7. a count ratio: A before B, then a looked-up target's rate (10.1, 10.2)
    if m.kind == "count_ratio":
        assert m.ratio is not None
        outcome = get(m.ratio[0])
        if outcome is not None and outcome < value:
            return f"{m.ratio[0].name} before {m.ratio[1].name}"
        lookup = m.target.lookup
        if lookup is not None:
            rate = ctx.rate_table(lookup).rate(get, month_of(get(lookup.date)))
            if rate is None:
                keys = ", ".join(own.name for own, _ in lookup.keys)
                return (f"no {lookup.value.name} in {lookup.table} for its {keys} and month of "
                        f"{lookup.date.name}")
            rec.rate = rate
    return None


def referenced_columns(contract: ir.Contract, m: ir.Measure) -> list[ColumnSpec]:
    """The ``ref`` columns the measure reads another table through (joined columns, and the
    link that places records in cohorts), each once, in the order the table declares them."""
    cols = [m.period_column, *condition_columns(m.where), *condition_columns(m.condition),
            *(c for level in m.groups for c in level)]
    if m.ratio:
        cols += list(m.ratio)
    w = m.window
    if isinstance(w, ir.WithinDays):
        cols += [w.event, w.anchor]
        if isinstance(w.days, ir.DaysByCategory):
            cols.append(w.days.column)
    elif isinstance(w, ir.OnOrBeforeDeadline):
        cols += [w.event, w.period]
    elif isinstance(w, ir.EveryNDays):
        cols += [w.start, w.until]
    if m.backlog:
        cols.append(m.backlog.until)
    if m.due:
        cols += [m.due.event, m.due.anchor]
    if m.each_month_until is not None:
        cols.append(m.each_month_until)
    if m.target.lookup is not None:
        cols += [own for own, _ in m.target.lookup.keys]
    names = {c.via for c in cols if c.via is not None}
    if isinstance(m.expected, ir.ExpectedCohort) and m.expected.link is not None:
        names.add(m.expected.link.name)
    table = contract.table(m.table)
    return [c for c in table.columns if c.name in names]


def condition_columns(c: ir.Condition | None) -> list[ColumnSpec]:
    """Every column a condition reads."""
    if c is None:
        return []
    if isinstance(c, (ir.IsTrue, ir.IsPresent, ir.InValues)):
        return [c.column]
    if isinstance(c, ir.Comparison):
        return [o.column for o in (c.left, c.right) if o.column is not None]
    if isinstance(c, ir.Not):
        return condition_columns(c.item)
    return [col for item in c.items for col in condition_columns(item)]


def linked_start(ctx: Context, e: ir.ExpectedCohort,
                 get: Callable[[ColumnSpec], Any]) -> dt.date | None:
    """The start date of the cohort record an outcome refers to (None if none)."""
    assert e.link is not None
    ref_row = ctx.data.row_of_id(e.table, get(e.link))
    return None if ref_row is None else cohort_start(ctx, e, ref_row)


def cohort_start(ctx: Context, e: ir.ExpectedCohort, row: int) -> dt.date | None:
    """The start date of a cohort-table row; None when it has none, or when it is before the
    date the table says it may not precede (semantics.md 1: no start)."""
    start = ctx.data.column(e.table, e.start.name)[row]
    if start is not None and e.anchor is not None:
        anchor = ctx.data.column(e.table, e.anchor.name)[row]
        if anchor is not None and start < anchor:
            return None
    return start


def verdict(ctx: Context, m: ir.Measure, get: Callable[[ColumnSpec], Any], rec: Record) -> str:
    """Met, failed or pending, for a record that passed every check."""
    if m.kind == "ratio":
        assert m.ratio is not None
        rec.numerator, rec.denominator = Fraction(get(m.ratio[0])), Fraction(get(m.ratio[1]))
        return MET
    if m.kind == "count_ratio":
        # met once A has happened by the as-of date, counted in A's month (decision 82)
        assert m.ratio is not None
        outcome = get(m.ratio[0])
        if outcome is not None and outcome <= ctx.as_of:
            rec.outcome_month = month_of(outcome)
            return MET
        return FAILED
    if m.kind in ("backlog_share", "backlog_count"):
        return backlog_verdict(ctx, m, get, rec)
    if m.kind == "backlog_breach":
        return breach_verdict(ctx, m, get, rec)
    if m.kind == "average" and m.count_of is not None:
        return count_of_verdict(ctx, m, get, rec)
    if m.kind == "average":
        assert m.ratio is not None
        a, e = get(m.ratio[0]), get(m.ratio[1])
        if e is None or e > ctx.as_of:
            return PENDING
        # working days after A up to and including B, or calendar days (6.17)
        days = ctx.days.working_days_between(a, e) if m.average_working else (e - a).days
        rec.numerator, rec.denominator = Fraction(days), Fraction(1)
        return MET
    if m.kind == "profile":
        e = m.expected
        if isinstance(e, ir.ExpectedCohort) and e.link is not None:
            start = linked_start(ctx, e, get)
            assert start is not None
            rec.cohort = month_of(start)
            rec.start_row = ctx.data.row_of_id(e.table, get(e.link))
        elif isinstance(e, ir.ExpectedCohort) and e.table == m.table:  # its own start
            start = cohort_start(ctx, e, rec.row)
            assert start is not None
            rec.cohort, rec.start_row = month_of(start), rec.row
        return MET
    w = m.window
    if isinstance(w, ir.EveryNDays):
        return gap_verdict(ctx, m, w, get, rec)
    if w is None:
        # with 'due when E is present or N days after A', a record without E is pending while
        # its N days run past the as-of date (decision 53)
        if m.due is not None and get(m.due.event) is None:
            if window_deadline(ctx, m.due, get) > ctx.as_of:
                return PENDING
        if m.condition is None:
            return MET
        return MET if holds(m.condition, get) else FAILED
    event = get(w.event)
    deadline = window_deadline(ctx, w, get)
    if m.buckets is not None:
        assert isinstance(w, ir.WithinDays)
        rec.bucket = lateness_bucket(ctx, m.buckets, w, get(w.anchor), event, deadline)
    if event is not None:  # the dates in the data decide (decision 10)
        return MET if event <= deadline else FAILED
    # no event yet: failed once the deadline is on or before the as-of date (decision 11)
    return FAILED if deadline <= ctx.as_of else PENDING


def lateness_bucket(ctx: Context, buckets: ir.Buckets, w: ir.WithinDays, anchor: dt.date,
                    event: dt.date | None, deadline: dt.date) -> str:
    """The record's lateness bucket (10.5): within the window; late by no more than each bound
    (counted from the anchor as the window is); later than the last; or outstanding (no event)."""
    assert isinstance(w.days, int)
    names = buckets.names(w.days)
    if event is None:
        return names[-1]
    if event <= deadline:
        return names[0]
    for name, bound in zip(names[1:], buckets.bounds):
        limit = ctx.days.workday(anchor, bound) if buckets.working else \
            edate(anchor, bound) if buckets.months else anchor + dt.timedelta(days=bound)
        if event <= limit:
            return name
    return names[-2]


def window_deadline(ctx: Context, w: ir.Window, get: Callable[[ColumnSpec], Any]) -> dt.date:
    """The last day on which the window's event counts as on time."""
    if isinstance(w, ir.WithinDays):
        anchor = get(w.anchor)
        if isinstance(w.days, ir.DaysByCategory):
            n = w.days.days[w.days.column.categories.index(get(w.days.column))]
            assert n is not None
        else:
            n = w.days
        if w.working:
            return ctx.days.workday(anchor, n)
        if w.months:
            return edate(anchor, n)
        return anchor + dt.timedelta(days=n)
    assert isinstance(w, ir.OnOrBeforeDeadline)
    value = get(w.period)
    if isinstance(value, tuple):
        first, length = value
    else:
        first, length = value, 3 if w.period.type is ColumnType.QUARTER else 1
    month_after = first + length
    deadline = dt.date(month_after // 12, month_after % 12 + 1, w.day)
    if w.roll_forward:
        deadline = ctx.days.next_working_day(deadline)
    return deadline


def count_of_verdict(ctx: Context, m: ir.Measure, get: Callable[[ColumnSpec], Any],
                     rec: Record) -> str:
    """'average count of TABLE by DATE' (10.11): the record's rows of TABLE dated by the as-of
    date, over one record; pending, with 'cohorts of at least N months', while the record's
    month is fewer than N months before the as-of month."""
    c = m.count_of
    assert c is not None
    if m.mature_months is not None and \
            ctx.last_month - month_of(get(m.period_column)) < m.mature_months:
        return PENDING
    data = ctx.data
    record_id = data.column(m.table, data.id_column(m.table) or "")[rec.row]
    dates = data.column(c.table, c.date.name)
    paid = [r for r in data.rows_referring(c.table, c.ref.name, record_id)
            if dates[r] is not None and dates[r] <= ctx.as_of]
    rec.numerator, rec.denominator = Fraction(len(paid)), Fraction(1)
    return MET


def gap_verdict(ctx: Context, m: ir.Measure, w: ir.EveryNDays,
                get: Callable[[ColumnSpec], Any], rec: Record) -> str:
    """'LOG at most N days apart from S until U' (6.6, decisions 61 to 63).

    The dates are S, the record's events in LOG from S to the end, and the end: U, or the as-of
    date while U is empty or after it. A gap, from one date to the next, is too long when it is
    over N calendar days (or over N working days, counted from a date up to, not including, the
    next). With ``month of``: failed if a gap is too long, else met once the record has ended,
    else pending. With ``each month from S until U``: counted in each month it runs, failed in
    each month in which a gap was overdue at some time, met in the others.
    """
    data = ctx.data
    start, until = get(w.start), get(w.until)
    ended = until is not None and until <= ctx.as_of
    end = until if ended else ctx.as_of
    record_id = data.column(m.table, data.id_column(m.table) or "")[rec.row] \
        if data.id_column(m.table) else None
    events = []
    dates = data.column(w.log, w.date.name)
    for log_row in data.rows_referring(w.log, w.ref.name, record_id):
        day = dates[log_row]
        if day is not None and start <= day <= end:
            events.append(day)
    points = [start, *sorted(events), end]
    overdue: list[tuple[dt.date, dt.date]] = []  # each too-long gap: first day overdue, end
    for a, b in zip(points, points[1:]):
        if gap_length(ctx, w, a, b) > w.days:
            day = a
            while gap_length(ctx, w, a, day) <= w.days:
                day += dt.timedelta(days=1)
            overdue.append((day, b))
    if m.each_month_until is None:
        if overdue:
            return FAILED
        return MET if ended else PENDING
    # every month some day of which was overdue fails: an ongoing gap fails each month
    failed_months = {mo for first, last in overdue
                     for mo in range(month_of(first), month_of(last) + 1)}
    rec.counts = [(mo, FAILED if mo in failed_months else MET)
                  for mo in range(month_of(start), month_of(end) + 1)]
    return FAILED if failed_months else MET


def gap_length(ctx: Context, w: ir.EveryNDays, a: dt.date, b: dt.date) -> int:
    """The days from date a to date b: calendar days, or the working days from a up to, but not
    including, b."""
    if not w.working:
        return (b - a).days
    count, day = 0, a
    while day < b:
        if ctx.days.is_working_day(day):
            count += 1
        day += dt.timedelta(days=1)
    return count


def backlog_verdict(ctx: Context, m: ir.Measure, get: Callable[[ColumnSpec], Any],
                    rec: Record) -> str:
    """A backlog record's state at the as-of date: failed while in backlog (for over the limit,
    for a count with 'for over N days'), met otherwise. Keeps what the month ends need."""
    spec = m.backlog
    assert spec is not None
    rec.anchor, rec.until = get(m.period_column), get(spec.until)
    if spec.over_days is not None:
        if spec.working:
            rec.over_limit = ctx.days.workday(rec.anchor, spec.over_days)
        else:
            rec.over_limit = rec.anchor + dt.timedelta(days=spec.over_days)
    return FAILED if counted_in_backlog(rec, ctx.as_of) else MET


def breach_verdict(ctx: Context, m: ir.Measure, get: Callable[[ColumnSpec], Any],
                   rec: Record) -> str:
    """'count breaches of backlog until U for over N days' (semantics 6a): failed (a breach)
    when the record is still in backlog at the end of the limit's last day and that day is
    before the as-of date; met when closed by the limit; pending otherwise. It counts in the
    month of the day after the limit, or the as-of month where that is later."""
    spec = m.backlog
    assert spec is not None and spec.over_days is not None
    anchor, until = get(m.period_column), get(spec.until)
    limit = ctx.days.workday(anchor, spec.over_days) if spec.working else \
        anchor + dt.timedelta(days=spec.over_days)
    if until is not None and until <= limit and until <= ctx.as_of:
        status = MET
    else:
        status = FAILED if limit < ctx.as_of else PENDING
    rec.counts = [(min(month_of(limit + dt.timedelta(days=1)), ctx.last_month), status)]
    return status


def in_backlog(rec: Record, t: dt.date) -> bool:
    """In backlog at the end of day ``t``: dated on or before t, and not closed by t."""
    assert rec.anchor is not None
    return rec.anchor <= t and (rec.until is None or rec.until > t)


def counted_in_backlog(rec: Record, t: dt.date) -> bool:
    """In the measure's numerator at ``t``: in backlog (and, with 'for over N days', past the
    N-th day after its date: strictly, decision 51)."""
    if not in_backlog(rec, t):
        return False
    return rec.over_limit is None or rec.over_limit < t


# ---- periods and bases ---------------------------------------------------------------------------


def basis_periods(ctx: Context, m: ir.Measure, basis: str) -> list[tuple[str, list[int]]]:
    """(label, the record periods summed) for each period the basis reports (6.10)."""
    first, last = ctx.first_month, ctx.last_month
    out: list[tuple[str, list[int]]] = []
    if m.period_unit == "month":
        if basis == "quarter":
            for q in range(quarter_of(first), quarter_of(last) + 1, 3):
                months = [x for x in range(q, q + 3) if first <= x <= last]
                out.append((quarter_label(q), months))
            return out
        for month in range(first, last + 1):
            if basis == "in_month":
                months = [month]
            elif basis == "rolling_3":
                months = list(range(max(first, month - 2), month + 1))
            elif basis == "rolling_12":
                months = list(range(max(first, month - 11), month + 1))
            elif basis == "cumulative":
                months = list(range(first, month + 1))
            elif basis == "year_to_date":
                year_start = first + 12 * ((month - first) // 12)
                months = list(range(year_start, month + 1))
            else:
                raise AssertionError(basis)
            out.append((month_label(month), months))
        return out
    # A quarterly measure: each quarter counts in its last month, or in the as-of month for the
    # quarter in progress (decision 55); the bases take the quarters whose month they span.
    quarters = list(range(quarter_of(first), quarter_of(last) + 1, 3))

    def counts_in(q: int) -> int:
        return min(q + 2, last)

    for q in quarters:
        e = counts_in(q)
        if basis == "quarter":
            summed = [q]
        elif basis == "rolling_12":
            summed = [x for x in quarters if max(first, e - 11) <= counts_in(x) <= e]
        elif basis == "cumulative":
            summed = [x for x in quarters if counts_in(x) <= e]
        elif basis == "year_to_date":
            year_start = first + 12 * ((e - first) // 12)
            summed = [x for x in quarters if year_start <= counts_in(x) <= e]
        else:
            raise AssertionError(basis)
        out.append((quarter_label(q), summed))
    return out


# ---- results -------------------------------------------------------------------------------------


def group_dict(level: tuple[ColumnSpec, ...], values: tuple[str | None, ...]) -> dict[str, Any]:
    """A group as output.md shows it: column name -> value (None for an empty value)."""
    return dict(zip((c.name for c in level), values))


def group_sort_key(group: dict[str, Any]) -> tuple[Any, ...]:
    """Results are sorted by group: the whole contract first, then by the number of columns,
    then by (column, value) in column-name order, an empty value before any other."""
    return (len(group), tuple((k, v is not None, v or "") for k, v in sorted(group.items())))


class Tally:
    """Counts of one group in one record period."""

    def __init__(self) -> None:
        self.met = 0
        self.failed = 0
        self.pending = 0
        self.excluded = 0
        self.numerator = Fraction(0)
        self.denominator = Fraction(0)
        self.outcomes = 0  # count ratios: records whose A falls in the period
        self.required = Fraction(0)  # a looked-up target: the rates of the denominator records
        self.buckets: dict[str, int] = {}  # lateness buckets: records per bucket


def level_tallies(m: ir.Measure, records: list[Record], i: int
                  ) -> dict[tuple[Any, ...], dict[int, Tally]]:
    """Per group of level ``i`` that has a record in some period, its tallies per period."""
    groups: dict[tuple[Any, ...], dict[int, Tally]] = {}
    for rec in records:
        for period, status in rec.counts:  # no period: in no figure, and makes no group
            tally = groups.setdefault(rec.groups[i], {}).setdefault(period, Tally())
            if status == MET:
                tally.met += 1
                tally.numerator += rec.numerator
                tally.denominator += rec.denominator
            elif status == FAILED:
                tally.failed += 1
            elif status == PENDING:
                tally.pending += 1
            else:
                tally.excluded += 1
            if status != EXCLUDED:
                tally.required += rec.rate
                if rec.bucket is not None:
                    tally.buckets[rec.bucket] = tally.buckets.get(rec.bucket, 0) + 1
        if rec.outcome_month is not None:  # a count ratio's numerator: in the month of A
            groups.setdefault(rec.groups[i], {}).setdefault(rec.outcome_month,
                                                            Tally()).outcomes += 1
    return groups


def measure_results(ctx: Context, m: ir.Measure, records: list[Record],
                    expected: ExpectedFigures | None) -> list[dict[str, Any]]:
    """Every result row of one measure, for every level, group, basis and period."""
    rows: list[dict[str, Any]] = []
    for i, level in enumerate(m.groups):
        groups = level_tallies(m, records, i)
        if not level:
            groups.setdefault((), {})  # the whole contract is always reported (decision 29)
        if expected is not None:  # a group with a profile but no records (decision 42)
            for group in expected.groups(i):
                groups.setdefault(group, {})
        for values, tallies in groups.items():
            group = group_dict(level, values)
            members = [r for r in records if r.counts and r.groups[i] == values]
            for basis in m.bases:
                for label, periods in basis_periods(ctx, m, basis):
                    if m.kind in ("backlog_share", "backlog_count"):
                        row = backlog_row(ctx, members, periods[-1])
                    else:
                        row = period_row(m, [tallies[p] for p in periods if p in tallies])
                        if expected is not None:
                            figure = sum((expected.value(i, values, p) for p in periods),
                                         Fraction(0))
                            row["denominator"] = row["expected"] = figure
                    rows.append(finish_row(m, group, label, basis, row))
    if m.rank is not None:
        rank_rows(m, rows)
    for row in rows:
        row.pop("_score")
    return rows


def rank_rows(m: ir.Measure, rows: list[dict[str, Any]]) -> None:
    """Each group's place among the groups of its level with the same period and basis (10.4):
    1 + the number of them with a strictly better score, so that ties share the lower number
    (1, 1, 3). A row without a score has rank null; the whole contract's row has no rank. With
    ``rank ... within COLUMN``, also its place among those with its value of COLUMN, and a
    level of that column alone is not ranked."""
    better = (lambda a, b: a > b) if m.rank == "highest" else (lambda a, b: a < b)
    col = m.rank_within

    def places(row: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
        """(rank key, peers key) of each place the row has."""
        if not row["group"] or sorted(row["group"]) == [col]:
            return []  # the whole contract, or a level of the 'within' column alone
        key = (tuple(sorted(row["group"])), row["period"], row["basis"])
        out = [("rank", key)]
        if col in row["group"]:
            out.append((f"rank_within_{col}", (*key, row["group"][col])))
        return out

    scores: dict[tuple[Any, ...], list[Fraction]] = {}
    for row in rows:
        for _, key in places(row):
            if row["_score"] is not None:
                scores.setdefault(key, []).append(row["_score"])
    for row in rows:
        for name, key in places(row):
            row[name] = None if row["_score"] is None else \
                1 + sum(1 for score in scores[key] if better(score, row["_score"]))


def period_row(m: ir.Measure, tallies: list[Tally]) -> dict[str, Any]:
    """Numerator, denominator, pending and excluded of one basis period (ratios of sums)."""
    met = sum(t.met for t in tallies)
    failed = sum(t.failed for t in tallies)
    row: dict[str, Any] = {
        "pending": sum(t.pending for t in tallies),
        "excluded": sum(t.excluded for t in tallies),
    }
    if m.kind == "ratio":
        row["numerator"] = sum((t.numerator for t in tallies), Fraction(0))
        row["denominator"] = sum((t.denominator for t in tallies), Fraction(0))
    elif m.kind == "average":  # whole days over whole records
        row["numerator"] = int(sum((t.numerator for t in tallies), Fraction(0)))
        row["denominator"] = int(sum((t.denominator for t in tallies), Fraction(0)))
    elif m.kind == "count_ratio":
        row["numerator"] = sum(t.outcomes for t in tallies)
        row["denominator"] = met + failed
    elif m.kind == "backlog_breach":  # the breaches are the records counted
        row["numerator"] = failed
        row["denominator"] = met + failed
    else:
        row["numerator"] = met
        row["denominator"] = met + failed
    if m.target.lookup is not None:
        row["required"] = sum((t.required for t in tallies), Fraction(0))
    if m.buckets is not None:
        assert isinstance(m.window, ir.WithinDays) and isinstance(m.window.days, int)
        row["buckets"] = {name: sum(t.buckets.get(name, 0) for t in tallies)
                          for name in m.buckets.names(m.window.days)}
    return row


def backlog_row(ctx: Context, members: list[Record], month: int) -> dict[str, Any]:
    """A backlog at the end of ``month`` (the as-of date for the as-of month, decision 49): the
    records in it over the records so far, and the oldest one's age in working days."""
    t = ctx.as_of if month == ctx.last_month else last_day(month)
    so_far = [r for r in members if r.period is not None and r.period <= month]
    counted = [r for r in so_far if r.status != EXCLUDED and counted_in_backlog(r, t)]
    oldest = min((r.anchor for r in counted if r.anchor is not None), default=None)
    return {
        "numerator": len(counted),
        "denominator": sum(1 for r in so_far if r.status != EXCLUDED),
        "pending": 0,
        "excluded": sum(1 for r in so_far if r.status == EXCLUDED),
        "oldest_age_working_days": None if oldest is None else
        ctx.days.working_days_between(oldest, t),
    }


def finish_row(m: ir.Measure, group: dict[str, Any], period: str, basis: str,
               row: dict[str, Any]) -> dict[str, Any]:
    """The figure, the target and whether it is met, decided exactly; the band. The row keeps
    its exact ranking score under ``_score`` (see :func:`rank_rows`)."""
    numerator, denominator = row["numerator"], row["denominator"]
    share = m.kind in ("rate", "ratio", "profile", "backlog_share", "count_ratio", "average")
    if share:  # a denominator of 0 is not assessed (6.9)
        value = None if denominator == 0 else Fraction(numerator) / Fraction(denominator)
    else:  # counts always have a value (a period without records counts 0)
        value = Fraction(numerator)
    # below the minimum denominator: reported with its value and band, but not assessed (6.16)
    assessed = value is not None and (not m.min_denominator or denominator >= m.min_denominator)
    met: bool | None = None
    band: str | None = None
    if value is not None:
        if m.bands is not None:
            band = m.bands.band_for(value).label
        if assessed:
            met = m.target.met(value)  # None with 'no target': never judged (10.3)
            if m.bands is not None and m.bands.deciding and met is not None:
                met = m.bands.band_for(value).passes
    target: float | int | None
    if m.target.op == "none":
        target = None
    else:
        target = float(m.target.value) if m.target.share else int(m.target.value)
    score = value if assessed else None  # what a rank compares (10.4)
    extra: dict[str, Any] = {}
    if m.target.lookup is not None:
        # a looked-up target (10.2): met when the numerator reaches the outcomes required
        required: Fraction = row["required"]
        met = (numerator >= required) if assessed else None
        target = float(required / denominator) if denominator > 0 else None
        score = Fraction(numerator) / required if (assessed and required > 0) else None
        extra = {"expected": float(required), "variance": float(numerator - required),
                 "against_target": None if score is None else float(score)}
    out: dict[str, Any] = {
        "measure": m.id, "group": group, "period": period, "basis": basis,
        "numerator": float(numerator) if isinstance(numerator, Fraction) else numerator,
        "denominator": float(denominator) if isinstance(denominator, Fraction) else denominator,
        "pending": row["pending"], "excluded": row["excluded"],
        "value": None if value is None else float(value),
        "target": target, "met": met, "band": band,
    }
    if "expected" in row:
        out["expected"] = float(row["expected"])
    if m.min_denominator:
        out["assessed"] = assessed
    out.update(extra)
    if basis in m.information:  # for information only: never met or failed
        out["met"], out["information"] = None, True
    if "buckets" in row:
        out["buckets"] = row["buckets"]
    if "oldest_age_working_days" in row:
        out["oldest_age_working_days"] = row["oldest_age_working_days"]
    out["_score"] = score
    return out


# ---- expected figures: direct profiles and the layered Cohort Profile ----------------------------


class ExpectedFigures:
    """A profile measure's expected figure per level, group and month."""

    def __init__(self) -> None:
        self.figures: dict[tuple[int, tuple[Any, ...], int], Fraction] = {}
        # cohort profiles: starts and expected cumulative outcomes per (level, group, cohort)
        self.starts: dict[tuple[int, tuple[Any, ...], int], int] = {}
        self.cumulative: dict[tuple[int, tuple[Any, ...], int, int], Fraction] = {}
        self.covered: set[tuple[int, int]] = set()  # (level, cohort table row) with a profile
        self.problems: list[tuple[str, str, list[int]]] = []
        self.with_profile: set[tuple[int, tuple[Any, ...]]] = set()

    def add(self, level: int, group: tuple[Any, ...], month: int, amount: Fraction) -> None:
        key = (level, group, month)
        self.figures[key] = self.figures.get(key, Fraction(0)) + amount
        self.with_profile.add((level, group))

    def value(self, level: int, group: tuple[Any, ...], month: int) -> Fraction:
        return self.figures.get((level, group, month), Fraction(0))

    def groups(self, level: int) -> list[tuple[Any, ...]]:
        """The groups of a level that have an expected figure."""
        return [g for (lv, g) in self.with_profile if lv == level]


def key_text(value: Any) -> str | None:
    """A group or profile key value as text (None for an empty value)."""
    return None if value is None else as_text(value)


def direct_expected(ctx: Context, m: ir.Measure, e: ir.ExpectedDirect) -> ExpectedFigures:
    """Expected figures read from a profile table (6.13): its value column summed per group and
    month, over its rows for months from the service start month to the as-of month.

    The profile's rows are those its ``where`` keeps; rows it leaves out play no part. At each
    group level, a row is used when, for each key column: the level splits by the column and the
    row's value is not ALL; or the level does not split by it and the row's value is ALL, or no
    row of the profile has ALL there with the same values in the other key columns (decision
    39: the ALL rows where they exist, else the finer rows added up). An empty key value is a
    value like any other.
    """
    data = ctx.data
    out = ExpectedFigures()
    key_names = [k.name for k in e.keys]
    keys = {n: [key_text(v) for v in data.column(e.table, n)] for n in key_names}
    rows = [row for row in data.rows(e.table) if e.where is None or
            holds(e.where, lambda c, r=row: data.value(e.table, r, c))]  # the profile's rows

    def others(row: int, n: str) -> tuple[Any, ...]:
        return tuple(keys[o][row] for o in key_names if o != n)

    # for each key column: the values of the other key columns that have an ALL row
    with_all = {n: {others(row, n) for row in rows if keys[n][row] == ALL} for n in key_names}
    values = data.column(e.table, e.value.name)
    months = data.column(e.table, e.period.name)
    for i, level in enumerate(m.groups):
        split = [c.name for c in level]
        for row in rows:
            value, month = values[row], months[row]
            if value is None or month is None or not ctx.first_month <= month <= ctx.last_month:
                continue
            used = True
            for n in key_names:
                v = keys[n][row]
                if n in split:
                    used = used and v != ALL
                else:
                    used = used and (v == ALL or others(row, n) not in with_all[n])
            if used:
                out.add(i, tuple(keys[n][row] for n in split), month, Fraction(value))
    return out


def cohort_expected(ctx: Context, m: ir.Measure, e: ir.ExpectedCohort) -> ExpectedFigures:
    """The layered Cohort Profile (6.14): expected outcomes in month m are the sum, over each
    start s of a cohort c <= m, of its profile's weight for month m - c.

    Every record of the cohort table with a start date is a start, in the month of that date,
    from the service start month to the as-of date. Its profile at a group level is the first
    that the profile (after ``where``) has of: its own values in the key columns the level
    splits by and ALL in the others that have ALL anywhere; its own values in every key column;
    ALL in every key column that has ALL anywhere (decision 39). A start with none of them at
    some level is left out of every level's expected figures, starts and triangle, and reported
    once, under 'starts with no profile in PROFILE where FILTER' (decision 48).
    """
    data = ctx.data
    out = ExpectedFigures()
    series = profile_series(ctx, e)
    key_names = [k.name for k in e.keys]
    has_all = {n: any(key[j] == ALL for key in series) for j, n in enumerate(key_names)}
    missing: set[int] = set()
    for row in data.rows(e.table):
        start = cohort_start(ctx, e, row)
        if start is None or start > ctx.as_of:
            continue
        cohort = month_of(start)
        if not ctx.first_month <= cohort <= ctx.last_month:
            continue
        own = tuple(key_text(data.column(e.table, n)[row]) for n in key_names)
        widest = tuple(ALL if has_all[n] else v for n, v in zip(key_names, own))
        chosen = []  # its profile at each level
        for level in m.groups:
            split = [c.name for c in level]
            wide = tuple(ALL if (n not in split and has_all[n]) else v
                         for n, v in zip(key_names, own))
            chosen.append(next((series[c] for c in (wide, own, widest) if c in series), None))
        if any(weights is None for weights in chosen):  # none at some level: left out of all
            missing.add(row)
            continue
        for i, (level, weights) in enumerate(zip(m.groups, chosen)):
            out.covered.add((i, row))
            group = tuple(key_text(data.column(e.table, c.name)[row]) for c in level)
            skey = (i, group, cohort)
            out.starts[skey] = out.starts.get(skey, 0) + 1
            running = Fraction(0)
            for k in range(ctx.last_month - cohort + 1):
                w = weights[k] if k < len(weights) else Fraction(0)
                out.add(i, group, cohort + k, w)
                running += w
                ckey = (i, group, cohort, k)
                out.cumulative[ckey] = out.cumulative.get(ckey, Fraction(0)) + running
    if missing:
        where = "" if e.where is None else f" where {filter_words(e.where)}"
        out.problems.append((e.table, f"starts with no profile in {e.profile}{where}",
                             sorted(missing)))
    return out


def filter_words(where: ir.Condition) -> str:
    """A profile filter as written ('outcome is short_job'), or 'its filter' when it is not one
    column's 'is', 'is not', 'is one of' or 'is not one of'."""
    if not isinstance(where, ir.InValues):
        return "its filter"
    if len(where.values) == 1:
        return f"{where.column.name} is {'not ' if where.negate else ''}{where.values[0]}"
    return (f"{where.column.name} is {'not ' if where.negate else ''}one of "
            f"({', '.join(where.values)})")


def profile_series(ctx: Context, e: ir.ExpectedCohort) -> dict[tuple[Any, ...], list[Fraction]]:
    """Each profile (distinct key values, after ``where``) -> its weight for each month since
    start: rate x share, or the increase of a cumulative rate. Rows with the same month are
    added up; a gap in the months, shares not adding up to 1 (within 0.001) and a cumulative
    rate that goes down are data errors (decision 48)."""
    data = ctx.data
    months = data.column(e.profile, e.month.name)
    rates = data.column(e.profile, e.rate.name)
    shares = data.column(e.profile, e.share.name) if e.share is not None else None
    by_series: dict[tuple[Any, ...], dict[int, list[int]]] = {}
    for row in data.rows(e.profile):
        if e.where is not None and not holds(e.where, lambda c, r=row: data.value(e.profile, r, c)):
            continue
        key = tuple(key_text(data.column(e.profile, k.name)[row]) for k in e.keys)
        by_series.setdefault(key, {}).setdefault(months[row], []).append(row)
    out: dict[tuple[Any, ...], list[Fraction]] = {}
    for key, by_month in by_series.items():
        label = ", ".join(f"{k.name}={v}" for k, v in zip(e.keys, key)) or "the profile"
        ks = sorted(by_month)
        if ks != list(range(len(ks))):
            raise DataError(DataProblem(e.profile, f"profile for {label} must give every month "
                                        f"since start from 0, once each; it gives {ks}"))
        if shares is not None:
            total = sum((Fraction(shares[r]) for k in ks for r in by_month[k]), Fraction(0))
            if abs(total - 1) > SHARE_TOLERANCE:
                raise DataError(DataProblem(e.profile, f"the shares of the profile for {label} "
                                            f"add up to {float(total):.4f}, not 1"))
            out[key] = [sum((Fraction(rates[r]) * Fraction(shares[r]) for r in by_month[k]),
                            Fraction(0)) for k in ks]
        elif e.monthly:  # each month's own rate, as it is (8.22)
            out[key] = [sum((Fraction(rates[r]) for r in by_month[k]), Fraction(0)) for k in ks]
        else:
            cumulative = [sum((Fraction(rates[r]) for r in by_month[k]), Fraction(0))
                          for k in ks]
            if any(b < a for a, b in zip(cumulative, cumulative[1:])):
                raise DataError(DataProblem(e.profile, f"the cumulative rates of the profile "
                                            f"for {label} go down"))
            out[key] = [b - a for a, b in zip([Fraction(0), *cumulative], cumulative)]
    return out


def cohort_rows(ctx: Context, m: ir.Measure, records: list[Record],
                expected: ExpectedFigures) -> list[dict[str, Any]]:
    """The cohort triangle (6.14): per level, group, cohort and months since start k, the
    cohort's starts, its outcomes from its start month to k months after it, their conversion
    and the profile's expected conversion."""
    out: list[dict[str, Any]] = []
    for i, level in enumerate(m.groups):
        groups = sorted({g for (lv, g, _) in expected.starts if lv == i},
                        key=lambda g: tuple((v is not None, v or "") for v in g))
        for group in groups:
            for cohort in range(ctx.first_month, ctx.last_month + 1):
                starts = expected.starts.get((i, group, cohort), 0)
                if not starts:
                    continue
                achieved = 0
                for k in range(ctx.last_month - cohort + 1):
                    achieved += sum(1 for r in records if r.status == MET
                                    and r.cohort == cohort and r.period == cohort + k
                                    and r.groups[i] == group
                                    and (i, r.start_row) in expected.covered)
                    figure = expected.cumulative.get((i, group, cohort, k), Fraction(0))
                    out.append({
                        "measure": m.id, "group": group_dict(level, group),
                        "cohort": month_label(cohort), "months_since_start": k,
                        "starts": starts, "outcomes": achieved,
                        "conversion": float(Fraction(achieved, starts)),
                        "expected_conversion": float(figure / starts),
                    })
    return out


# ---- the as-of date ------------------------------------------------------------------------------


def resolve_as_of(contract: ir.Contract, data: Data, given: str | None) -> tuple[dt.date, str]:
    """--as-of, else the contract's extract date, else the latest date in the data read."""
    if given is not None:
        return dt.date.fromisoformat(given), "--as-of"
    if contract.extract_date:
        return dt.date.fromisoformat(contract.extract_date), "the contract's extract date"
    latest: dt.date | None = None
    for name, table in data.tables.items():
        for col in table.columns.values():
            if col.spec.type is ColumnType.DATE:
                for value in data.column(name, col.spec.name):
                    if value is not None and (latest is None or value > latest):
                        latest = value
    if latest is None:
        raise DataError(DataProblem(", ".join(sorted(data.tables)) or "data", "no dates in the "
                                    "data to take the as-of date from",
                                    hint="pass --as-of YYYY-MM-DD"))
    return latest, "the latest date in the data"


# ---- the whole evaluation, in a shape the reports accept -----------------------------------------


class RefQuality:
    """One data-quality check: table, check, how many records, the first examples."""

    def __init__(self, table: str, check: str, count: int, examples: tuple[str, ...]):
        self.table, self.check, self.count, self.examples = table, check, count, examples


class RefCounts:
    """A measure's population accounting: totals by verdict and the rows outside it."""

    def __init__(self, totals: list[int], outside: int):
        self.totals = totals
        self.outside = outside


class RefPartial:
    def __init__(self, counts: dict[str, RefCounts]):
        self.counts = counts


class RefMeasurePlan:
    def __init__(self, measure: ir.Measure):
        self.measure = measure


class RefPlan:
    """The contract and its measures, as ``report.json`` reads a plan."""

    def __init__(self, contract: ir.Contract):
        self.contract = contract
        self.measures = tuple(RefMeasurePlan(m) for m in contract.measures)

    def measure(self, measure_id: str) -> RefMeasurePlan:
        return next(p for p in self.measures if p.measure.id == measure_id)


class ReferenceEvaluation:
    """What ``pmir_dsl.report.json.render`` reads from an evaluation, computed by the reference."""

    def __init__(self, plan: RefPlan, as_of: str, as_of_source: str, tables: dict[str, Table],
                 partial: RefPartial, results: list[dict[str, Any]],
                 cohort_rows: list[dict[str, Any]], quality: list[RefQuality]):
        self.plan = plan
        self.as_of = as_of
        self.as_of_source = as_of_source
        self.tables = tables
        self.partial = partial
        self.results = results
        self._cohorts = cohort_rows
        self.quality = quality
        self.escalations: list[dict[str, Any]] = []
        self.remedies: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.notices: list[dict[str, Any]] = []
        self.assurance: list[dict[str, Any]] = []

    def cohorts(self) -> list[dict[str, Any]]:
        return self._cohorts


def evaluate_reference(plan_or_contract: Any, tables: dict[str, Table],
                       as_of: str | None = None) -> ReferenceEvaluation:
    """Evaluate a checked contract (or a compiled plan's contract) over loaded ``tables``."""
    contract: ir.Contract = getattr(plan_or_contract, "contract", plan_or_contract)
    limits.check_sums(contract, tables)  # the data both engines refuse (docs/reliability.md)
    data = Data(tables, contract)
    day, source = resolve_as_of(contract, data, as_of)
    limits.check_axis(contract.service_start, day, source, tables)
    start = dt.date.fromisoformat(contract.service_start)
    if day < start:
        raise DataError(DataProblem("--as-of", f"the as-of date {day} is before the contract's "
                                    f"service start {start}"))
    ctx = Context(contract, data, day)
    results: list[dict[str, Any]] = []
    cohorts: list[dict[str, Any]] = []
    counts: dict[str, RefCounts] = {}
    problems: list[tuple[str, str, list[int]]] = []
    profile_checks: set[tuple[str, str]] = set()
    by_measure: dict[str, list[Record]] = {}
    for m in contract.measures:
        if m.target.lookup is not None:  # its table is checked whatever records use it (10.2)
            ctx.rate_table(m.target.lookup)
        expected: ExpectedFigures | None = None
        if isinstance(m.expected, ir.ExpectedDirect):
            expected = direct_expected(ctx, m, m.expected)
        elif isinstance(m.expected, ir.ExpectedCohort):
            expected = cohort_expected(ctx, m, m.expected)
        records: list[Record] = []
        outside = 0
        for row in data.rows(m.table):
            rec = judge(ctx, m, row)
            if rec is None:
                outside += 1
            else:
                records.append(rec)
        totals = [0, 0, 0, 0]
        index = {MET: K_MET, FAILED: K_FAILED, PENDING: K_PENDING, EXCLUDED: K_EXCLUDED}
        for rec in records:
            if m.each_month_until is not None and rec.status != EXCLUDED:
                for _, status in rec.counts:  # participant-months (6.6, 'each month from')
                    totals[index[status]] += 1
            else:
                totals[index[rec.status]] += 1
        counts[m.id] = RefCounts(totals, outside)
        by_measure[m.id] = records
        results += measure_results(ctx, m, records, expected)
        if isinstance(m.expected, ir.ExpectedCohort) and expected is not None:
            cohorts += cohort_rows(ctx, m, records, expected)
            problems += expected.problems
    results.sort(key=lambda r: (r["measure"], group_sort_key(r["group"]), r["period"],
                                r["basis"]))
    for table, check, rows in problems:  # starts with no profile: not exclusions (6.8)
        if (table, check) not in ctx.quality or (table, check) in profile_checks:
            ctx.quality.setdefault((table, check), set()).update(rows)
            profile_checks.add((table, check))
    for name, loaded in tables.items():  # values that print alike (decision 285)
        for check, mask in lookalike.checks(loaded):
            ctx.quality[(name, check)] = set(mask.nonzero()[0].tolist())
    triggers = []
    for a in contract.assurances:  # 9.5: each group's reviews in date order
        found, left_out = assurance_reference(a, data, tables[a.table].rows, day)
        triggers += found
        for check, rows in left_out.items():
            ctx.quality.setdefault((a.table, check), set()).update(rows)
    quality = {key: quality_entry(data, key[0], key[1], rows)
               for key, rows in ctx.quality.items()}
    ev = ReferenceEvaluation(RefPlan(contract), day.isoformat(), source, tables,
                             RefPartial(counts), results, cohorts,
                             sorted(quality.values(), key=lambda q: (q.table, q.check)))
    ev.assurance = triggers
    running, notices = add_reviews(ev, contract, ctx, by_measure)
    add_escalations(ev, contract, ctx, tables, running, notices)
    return ev


# ---- formal reviews and notices (10.6, 10.7) -------------------------------------------------


def add_reviews(ev: ReferenceEvaluation, contract: ir.Contract, ctx: Context,
                by_measure: dict[str, list[Record]]
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every review's rows (``ev.reviews``) and notices (``ev.notices``, appended to
    ``ev.remedies`` after the fee remedies, see :func:`add_escalations`), worked out by
    :mod:`reference_reviews` from the reference's own monthly counts. Returns, per notice
    clause, the months each group has one running, and the notices with their remedy period's
    last month counted from 1970-01, for the regimes."""
    if not contract.reviews:
        return {}, []
    import numpy as np

    from . import reviews as numpy_reviews  # only for open_months: regimes are shared too
    from .evaluate import Axis
    from .reference_reviews import reviews_reference

    rows: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    shifted: list[dict[str, Any]] = []
    running: dict[str, Any] = {}
    axis = Axis(ctx.first_month - 1970 * 12, ctx.last_month - 1970 * 12)
    for review in contract.reviews:
        v = review.validation
        shared = validation_rounds(ctx, v) if v is not None and not v.keys else []

        def rounds(g: tuple[Any, ...], v: ir.Validation | None = v, shared: Any = shared,
                   keys: tuple[str, ...] = review.keys) -> list[Any]:
            """The rounds of the group's contract: its own rows and the shared ones (8.32)."""
            if v is None or not v.keys:
                return shared  # type: ignore[no-any-return]
            return validation_rounds(ctx, v, {c.name: g[keys.index(c.name)] for c in v.keys})

        monthly = review_months(contract, review, by_measure)
        found, raised = reviews_reference(review, monthly, rounds, ctx.first_month,
                                          ctx.last_month, ctx.as_of, ctx.days.workday)
        rows += found
        notices += raised
        # the regimes' helpers count months from 1970-01, as the numpy engine's axis does
        shifted += [{**n, "_end": n["_end"] - 1970 * 12} for n in raised]
        if review.notice is not None:
            running[review.notice] = numpy_reviews.open_months(
                shifted, review.notice, review.keys, axis, np.datetime64(ctx.as_of, "D"))
    ev.reviews = sorted(rows, key=lambda x: (x["review"], x["measure"], len(x["group"]),
                                             group_sort_key(x["group"]), x["period"]))
    public = [{k: v for k, v in n.items() if not k.startswith("_")} for n in notices]
    ev.notices = sorted(public, key=lambda n: (n["remedy"], group_sort_key(n["group"]),
                                               n["measure"], n["month"]))
    return running, shifted


def review_months(contract: ir.Contract, review: ir.Review,
                  by_measure: dict[str, list[Record]]) -> Any:
    """The reviewed measures' monthly figures at the review's group level, as
    :mod:`reference_reviews` takes them: per (measure, group) that has a record in some month,
    each month's outcomes (the numerator: records whose A falls in it), base (the denominator:
    records whose B does) and outcomes required (their rates, exactly)."""
    monthly: dict[tuple[str, tuple[Any, ...]], dict[int, tuple[int, int, Fraction]]] = {}
    for mid in review.measures:
        m = next(x for x in contract.measures if x.id == mid)
        i = [tuple(c.name for c in level) for level in m.groups].index(review.keys)
        for group, tallies in level_tallies(m, by_measure[mid], i).items():
            monthly[(mid, group)] = {month: (t.outcomes, t.met + t.failed, t.required)
                                     for month, t in tallies.items()}
    return monthly


def validation_rounds(ctx: Context, v: ir.Validation,
                      contract: dict[str, Any] | None = None) -> list[Any]:
    """The validation rounds of a review, one per row, checked (10.6): no empty cell; whole
    months, from the 1st of a month to a month's last day; in the order of their periods, not
    overlapping; each completed on or after the one before. With ``contract`` (key column ->
    value), only the rows whose key columns are empty or that value (WP 8.32)."""
    from .reference_reviews import ValidationRound

    data = ctx.data
    path = data.tables[v.table].path
    starts, ends = data.column(v.table, v.start.name), data.column(v.table, v.end.name)
    rates, done = data.column(v.table, v.rate.name), data.column(v.table, v.completed.name)
    out: list[ValidationRound] = []
    rows = list(data.rows(v.table))
    if contract:  # its own rows if it has any, else those for every contract
        keyed = {row: [key_text(data.column(v.table, k)[row]) for k in contract] for row in rows}
        mine = [row for row in rows if any(x is not None for x in keyed[row]) and
                all(x in (None, want) for x, want in zip(keyed[row], contract.values()))]
        rows = mine or [row for row in rows if all(x is None for x in keyed[row])]
    for row in rows:
        start, end, rate, completed = starts[row], ends[row], rates[row], done[row]
        if start is None or end is None or rate is None or completed is None:
            raise DataError(DataProblem(path, "a validation round with an empty cell",
                                        v.start.name, (row + 2,), (), 1,
                                        hint="give every round its period, rate and completion "
                                        "date; leave a round out until it is completed"))
        whole = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
        if not whole or end < start:
            raise DataError(DataProblem(path, f"validation round on row {row + 2} does not "
                                        "cover whole months (from the 1st of a month to the last "
                                        "day of a month)", v.start.name, (row + 2,),
                                        (f"{start} to {end}",), 1))
        out.append(ValidationRound(row + 1, start, end, Fraction(rate), completed))
    for a, b in zip(out, out[1:]):
        ra, rb = a.order + 1, b.order + 1
        if b.end < a.start:
            raise DataError(DataProblem(path, f"validation rounds on rows {ra} and {rb} are out "
                                        f"of order: row {rb} covers earlier months",
                                        v.start.name, (ra, rb), (), 2,
                                        hint="list the rounds in the order of their periods"))
        if b.start <= a.end:
            raise DataError(DataProblem(path, f"validation rounds on rows {ra} and {rb} overlap "
                                        f"({month_label(month_of(b.start))})", v.start.name,
                                        (ra, rb), (), 2, hint="each month is validated by one "
                                        "round"))
        if b.completed < a.completed:
            raise DataError(DataProblem(path, f"validation round on row {rb} covers later "
                                        f"months than row {ra} but was completed before it",
                                        v.completed.name, (ra, rb),
                                        (str(a.completed), str(b.completed)), 2,
                                        hint="a round is completed after the one before it"))
    return out


def add_escalations(ev: ReferenceEvaluation, contract: ir.Contract, ctx: Context,
                    tables: dict[str, Table], running: dict[str, Any],
                    notices: list[dict[str, Any]]) -> None:
    """Escalation regimes and remedies are state over months computed from the results
    (semantics.md 7), not from records: they are not re-implemented here, but run over the
    reference's own results (and the months its notices run), so that a contract that declares
    them still reports them. With notices declared, each regime row names the notices running
    at the end of its month (10.8). The notices follow the fee remedies' rows."""
    regimes_ = getattr(contract, "regimes", ())
    remedies_ = getattr(contract, "remedies", ())
    if regimes_ or remedies_:
        from . import regimes  # type: ignore[attr-defined]
        from .evaluate import Axis

        axis = Axis(ctx.first_month - 1970 * 12, ctx.last_month - 1970 * 12)
        ev.escalations = [row for r in regimes_
                          for row in regimes.escalations(r, ev.results, axis, running)]
        if running:
            import numpy as np

            from . import reviews as numpy_reviews

            numpy_reviews.annotate(ev.escalations, notices, np.datetime64(ctx.as_of, "D"))
        ev.remedies = [row for r in remedies_
                       for row in regimes.remedies(r, ev.results, axis, tables[r.fee_table],
                                                   running)]
    ev.remedies += ev.notices


def quality_entry(data: Data, table: str, check: str, rows: Iterable[int]) -> RefQuality:
    """The count of records under a check and the examples: the 5 smallest ids in text order,
    or the first 5 rows (numbered as in a CSV file) when the table has no id column."""
    rows = sorted(set(rows))
    if data.id_column(table) is not None:
        examples = sorted(data.example(table, r) for r in rows)[:N_EXAMPLES]
    else:
        examples = [data.example(table, r) for r in rows[:N_EXAMPLES]]
    return RefQuality(table, check, len(rows), tuple(examples))
