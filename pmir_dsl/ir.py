"""Typed intermediate representation: what the checker proves about a contract.

After :mod:`pmir_dsl.check` every name is resolved to a declared table or column, every column
reference knows its type, category values are codes, amounts are exact fractions, and each measure
is one of three kinds (rate, count, ratio). :mod:`pmir_dsl.compile` works from this alone and
never has to guess; no node here refers back to the syntax tree except through spans.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Union

import attrs

from .calendar import CalendarSpec
from .diagnostics import Span
from .schema import ColumnSpec, ColumnType, TableSpec

BASES = ("in_month", "rolling_3", "rolling_12", "cumulative", "quarter", "year_to_date")


def _span() -> Span | None:
    return attrs.field(default=None, eq=False, repr=False)  # type: ignore[no-any-return]


# ---- conditions over one table's records -------------------------------------------------------


@attrs.frozen
class IsTrue:
    """A bool column is true (null is not true)."""

    column: ColumnSpec


@attrs.frozen
class IsPresent:
    """A column has a value (``present=True``) or is empty (``present=False``)."""

    column: ColumnSpec
    present: bool


@attrs.frozen
class InValues:
    """A category, text or bool column holds one of ``values`` (negated: none of them).

    Values are the strings as written; for bool columns 'true' / 'false'. A null never matches,
    negated or not.
    """

    column: ColumnSpec
    values: tuple[str, ...]
    negate: bool


@attrs.frozen
class Operand:
    """A comparison side: a column (``column``), or a constant whole number or date (``value``)."""

    column: ColumnSpec | None = None
    value: int | str | None = None


@attrs.frozen
class Comparison:
    """``left OP right`` between numbers or between dates; false where either side is null."""

    op: str
    left: Operand
    right: Operand


@attrs.frozen
class Not:
    """Negation (a null-driven false becomes true: ``not`` is two-valued)."""

    item: Condition


@attrs.frozen
class AllOf:
    """Conjunction."""

    items: tuple[Condition, ...]


@attrs.frozen
class AnyOf:
    """Disjunction."""

    items: tuple[Condition, ...]


Condition = Union[IsTrue, IsPresent, InValues, Comparison, Not, AllOf, AnyOf]

# ---- time windows --------------------------------------------------------------------------------


@attrs.frozen
class DaysByCategory:
    """Days that depend on a category column: ``days[i]`` for category code i (None: no case)."""

    column: ColumnSpec
    days: tuple[int | None, ...]


@attrs.frozen
class WithinDays:
    """``event`` within N working / calendar days of ``anchor`` (N = 0: on the day)."""

    event: ColumnSpec
    anchor: ColumnSpec
    days: int | DaysByCategory
    working: bool


@attrs.frozen
class OnOrBeforeDeadline:
    """``event`` on or before the ``day``-th of the month after ``period`` [rolled forward]."""

    event: ColumnSpec
    period: ColumnSpec
    day: int
    roll_forward: bool


Window = Union[WithinDays, OnOrBeforeDeadline]

# ---- targets, bands, measures, contract ------------------------------------------------------------


@attrs.frozen
class Target:
    """``at least`` / ``at most`` a share (``share=True``, e.g. 24/25) or a count / sum."""

    op: str  # 'at_least' | 'at_most'
    value: Fraction
    share: bool
    text: str

    def met(self, numerator: int, denominator: int) -> bool:
        """Whether numerator (over denominator, for shares) meets the target, exactly."""
        actual = Fraction(numerator, denominator) if self.share else Fraction(numerator)
        return actual >= self.value if self.op == "at_least" else actual <= self.value


@attrs.frozen
class Band:
    """One band: its label, exact lower bound (None: the ``otherwise`` band), whether it passes."""

    label: str
    lower: Fraction | None
    passes: bool


@attrs.frozen
class BandSet:
    """Ordered bands, highest first; reporting-only sets never change whether a target is met."""

    name: str
    bands: tuple[Band, ...]
    deciding: bool

    def band_for(self, value: Fraction) -> Band:
        """The first band whose lower bound the value reaches (the last band catches the rest)."""
        return next(b for b in self.bands if b.lower is None or value >= b.lower)


@attrs.frozen
class Measure:
    """One measure, resolved and typed.

    ``kind``: 'rate' (met records / due records), 'count' (records meeting the condition) or
    'ratio' (sum of one column over the sum of another). For rate and count measures exactly one
    of ``condition`` and ``window`` is set.
    """

    id: str
    title: str
    cite: str
    table: str
    where: Condition | None
    period_column: ColumnSpec
    period_unit: str  # 'month' | 'quarter'
    kind: str
    condition: Condition | None
    window: Window | None
    ratio: tuple[ColumnSpec, ColumnSpec] | None
    target: Target
    bases: tuple[str, ...]
    groups: tuple[tuple[ColumnSpec, ...], ...]
    bands: BandSet | None
    span: Span | None = _span()


@attrs.frozen
class Contract:
    """A checked contract: header, declared tables and measures, and the source it came from."""

    name: str
    file: str
    sha256: str
    guidance: str
    service_start: str
    extract_date: str | None
    calendar: CalendarSpec
    tables: tuple[TableSpec, ...]
    measures: tuple[Measure, ...]

    def table(self, name: str) -> TableSpec:
        """The declared table called ``name``."""
        return next(t for t in self.tables if t.name == name)

    def used_tables(self) -> tuple[TableSpec, ...]:
        """The tables the measures read, each with only the columns the measures use.

        A table's id column is always read: data-quality entries and audits name records by it.
        """
        used: dict[str, set[str]] = {}
        for m in self.measures:
            used.setdefault(m.table, set()).update(c.name for c in measure_columns(m))
        return tuple(
            TableSpec(t.name, tuple(c for c in t.columns
                                    if c.name in used[t.name] or c.type is ColumnType.ID))
            for t in self.tables if t.name in used
        )


def measure_columns(m: Measure) -> list[ColumnSpec]:
    """Every column a measure reads (filter, period, condition or window, ratio, groups)."""
    cols = [m.period_column, *_cond_columns(m.where), *_cond_columns(m.condition)]
    cols += [c for level in m.groups for c in level]
    if m.ratio:
        cols += list(m.ratio)
    w = m.window
    if isinstance(w, WithinDays):
        cols += [w.event, w.anchor]
        if isinstance(w.days, DaysByCategory):
            cols.append(w.days.column)
    elif isinstance(w, OnOrBeforeDeadline):
        cols += [w.event, w.period]
    return cols


def _cond_columns(c: Condition | None) -> list[ColumnSpec]:
    if c is None:
        return []
    if isinstance(c, (IsTrue, IsPresent, InValues)):
        return [c.column]
    if isinstance(c, Comparison):
        return [o.column for o in (c.left, c.right) if o.column is not None]
    if isinstance(c, Not):
        return _cond_columns(c.item)
    return [col for item in c.items for col in _cond_columns(item)]
