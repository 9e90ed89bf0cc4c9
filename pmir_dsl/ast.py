"""Syntax tree of a ``.pmir`` file: frozen attrs nodes, one per construct of the language.

The tree stays close to what the author wrote (clauses in their order, names as written), so the
checker can point at any of them. Spans are kept out of equality: two trees that differ only in
layout compare equal. Children are tuples; nothing here is ever mutated.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Union

import attrs

from .diagnostics import Span


def _span() -> Span | None:
    return attrs.field(default=None, eq=False, repr=False)  # type: ignore[no-any-return]


@attrs.frozen
class Name:
    """An identifier as written (a table, column, measure, band set, category value...)."""

    text: str
    span: Span | None = _span()


@attrs.frozen
class Text:
    """A quoted string, without its quotes."""

    text: str
    span: Span | None = _span()


@attrs.frozen
class DateLit:
    """A date literal ``YYYY-MM-DD`` as written (validated by the checker)."""

    text: str
    span: Span | None = _span()


@attrs.frozen
class Amount:
    """A number: ``kind`` is 'percent' (96%), 'count' (120) or 'decimal' (2.5); value exact."""

    kind: str
    value: Fraction
    text: str
    span: Span | None = _span()


# ---- conditions -------------------------------------------------------------------------------


@attrs.frozen
class Flag:
    """A bool column used as a condition: true when the column is true."""

    column: Name
    span: Span | None = _span()


@attrs.frozen
class Presence:
    """``COLUMN is present`` / ``COLUMN is missing``."""

    column: Name
    present: bool
    span: Span | None = _span()


@attrs.frozen
class IsValue:
    """``COLUMN is v``, ``is not v``, ``is one of (a, b)``, ``is not one of (a, b)``."""

    column: Name
    values: tuple[Name, ...]
    negate: bool
    span: Span | None = _span()


@attrs.frozen
class Operand:
    """One side of a comparison: a column, a whole number or a date."""

    kind: str  # 'column' | 'int' | 'date'
    text: str
    span: Span | None = _span()


@attrs.frozen
class Compare:
    """``a <= b`` and the other comparisons, between numbers or between dates."""

    op: str
    left: Operand
    right: Operand
    span: Span | None = _span()


@attrs.frozen
class DayCase:
    """One arm of category-dependent days: ``virtual 8``; value None for ``otherwise 8``."""

    value: Name | None
    days: int
    span: Span | None = _span()


@attrs.frozen
class DaysBy:
    """Days that depend on a category: ``(by assessment_type: virtual 8, face_to_face 10)``."""

    column: Name
    cases: tuple[DayCase, ...]
    span: Span | None = _span()


Days = Union[int, DaysBy]


@attrs.frozen
class Within:
    """``EVENT within N working|calendar days of ANCHOR`` (``on the day of`` is N = 0), or
    ``within N calendar months of ANCHOR``."""

    event: Name
    days: Days
    unit: str  # 'working' | 'calendar' | 'months'
    anchor: Name
    span: Span | None = _span()


@attrs.frozen
class Deadline:
    """``the 15th of the month after PERIOD[, or the next working day]``."""

    day: int
    period: Name
    roll_forward: bool
    span: Span | None = _span()


@attrs.frozen
class ByDeadline:
    """``EVENT on or before DEADLINE``."""

    event: Name
    deadline: Deadline
    span: Span | None = _span()


@attrs.frozen
class GapWindow:
    """``LOG at most N calendar days apart from START until END``: the largest gap between a
    participant's start, its events in table LOG, and its end (or the as-of date)."""

    log: Name
    days: int
    unit: str
    start: Name
    until: Name
    span: Span | None = _span()


@attrs.frozen
class Not:
    """``not C``."""

    item: Cond
    span: Span | None = _span()


@attrs.frozen
class All:
    """``A and B and ...``."""

    items: tuple[Cond, ...]
    span: Span | None = _span()


@attrs.frozen
class Any:
    """``A or B or ...``."""

    items: tuple[Cond, ...]
    span: Span | None = _span()


Cond = Union[Flag, Presence, IsValue, Compare, Within, ByDeadline, GapWindow, Not, All, Any]
WINDOWS = (Within, ByDeadline, GapWindow)

# ---- clauses ----------------------------------------------------------------------------------


@attrs.frozen
class Cite:
    """``cite "6.17"`` or ``guidance "..."``: where a rule comes from."""

    text: Text
    span: Span | None = _span()


@attrs.frozen
class Assume:
    """``assume "why"``: the clause before it (or its block) uses a number the guidance does not
    state; the text says which number and why it was chosen."""

    text: Text
    span: Span | None = _span()


@attrs.frozen
class ServiceStart:
    """``service start 2024-04-01``."""

    date: DateLit
    span: Span | None = _span()


@attrs.frozen
class CalendarClause:
    """``calendar england_and_wales``."""

    name: Name
    span: Span | None = _span()


@attrs.frozen
class HolidayChange:
    """``add holiday DATE "why"`` / ``remove holiday DATE``."""

    date: DateLit
    add: bool
    label: Text | None
    span: Span | None = _span()


@attrs.frozen
class ExtractDate:
    """``extract date 2025-06-30``: the default as-of date."""

    date: DateLit
    span: Span | None = _span()


@attrs.frozen
class GroupBy:
    """``group by provider, lep_area and category_of_region``: each level a tuple of keys."""

    levels: tuple[tuple[Name, ...], ...]
    span: Span | None = _span()


@attrs.frozen
class Bases:
    """``bases in_month, rolling_3`` or ``basis quarter``."""

    names: tuple[Name, ...]
    span: Span | None = _span()


@attrs.frozen
class Average:
    """``average working days from A to B``: the mean time from A to B over the records."""

    working: bool
    start: Name
    end: Name
    span: Span | None = _span()


@attrs.frozen
class AverageCount:
    """``average count of TABLE by DATE``: the rows of TABLE that refer to a record, dated by
    the as-of date, per record (8.25: sustainments per individual)."""

    table: Name
    date: Name
    span: Span | None = _span()


@attrs.frozen
class Mature:
    """``cohorts of at least N months``: a record is pending until its month is N months before
    the as-of month (8.25: cohorts with a minimum of 24 months on the programme)."""

    months: int
    span: Span | None = _span()


@attrs.frozen
class InformationBases:
    """``information bases in_month``: figures reported beside the target, never assessed."""

    names: tuple[Name, ...]
    span: Span | None = _span()


@attrs.frozen
class Population:
    """``population TABLE [where CONDITION]``."""

    table: Name
    where: Cond | None
    span: Span | None = _span()


@attrs.frozen
class PeriodOf:
    """``month of COLUMN`` / ``quarter of COLUMN``: the period a record counts in; or
    ``each month from COLUMN until UNTIL``: every month from one date to the other (or to the
    as-of date while UNTIL is empty), a record counting once in each."""

    unit: str  # 'month' | 'quarter'
    column: Name
    until: Name | None = None  # ``each month from COLUMN until UNTIL``
    span: Span | None = _span()


@attrs.frozen
class MetWhen:
    """``met when CONDITION``: a rate measure (met / due records)."""

    cond: Cond
    span: Span | None = _span()


@attrs.frozen
class CountWhen:
    """``count when CONDITION``: a count measure (records meeting the condition)."""

    cond: Cond
    span: Span | None = _span()


@attrs.frozen
class CountRecords:
    """``count records``: a count of every record in the population."""

    span: Span | None = _span()


@attrs.frozen
class ExpectedDirect:
    """``expected COLUMN of TABLE [where C]``: a profile table giving the figure per month."""

    column: Name
    table: Name
    where: Cond | None = None
    span: Span | None = _span()


@attrs.frozen
class ExpectedCohort:
    """``expected cohorts of TABLE by DATE times PROFILE [where C]``: the layered Cohort Profile."""

    table: Name
    start: Name
    profile: Name
    where: Cond | None
    span: Span | None = _span()
    monthly: bool = False  # ``times monthly PROFILE``: each month's own rate, not cumulative


@attrs.frozen
class Backlog:
    """``share in backlog until DATE`` / ``count in backlog until DATE [for over N days]`` /
    ``count breaches of backlog until DATE for over N days`` (``breach``: each record that was
    ever in backlog past the limit counts once, in the month after the limit, semantics 6a)."""

    share: bool
    until: Name
    over_days: int | None
    working: bool
    span: Span | None = _span()
    breach: bool = False


@attrs.frozen
class DueWhen:
    """``due when EVENT is present or N working days after ANCHOR``: pending until then."""

    event: Name
    days: int
    unit: str
    anchor: Name
    span: Span | None = _span()


@attrs.frozen
class MinDenominator:
    """``minimum denominator N``: periods with fewer are reported but not assessed."""

    value: int
    span: Span | None = _span()


@attrs.frozen
class Ratio:
    """``ratio sum A over sum B``: a ratio of sums over the population."""

    numerator: Name
    denominator: Name
    span: Span | None = _span()


@attrs.frozen
class CountRatio:
    """``ratio count of A over count of B``: records with date A in a period over records with
    date B in it (job outcomes over attachments), each counted in the month of its own date."""

    numerator: Name
    denominator: Name
    span: Span | None = _span()


@attrs.frozen
class Target:
    """``target at least 96%``, ``at most 0``, ``below 2%``, ``at least 85% of expected``;
    op 'none' for ``no target``."""

    op: str  # 'at_least' | 'at_most' | 'below' | 'above' | 'none'
    amount: Amount | None
    relative: bool = False
    span: Span | None = _span()


@attrs.frozen
class TargetLookup:
    """``target at least RATE of TABLE for KEY, ... in the month of DATE``: each record of the
    denominator brings the rate of its key and month; the target is their sum."""

    value: Name
    table: Name
    keys: tuple[Name, ...]
    date: Name
    span: Span | None = _span()


@attrs.frozen
class Rank:
    """``rank highest first`` / ``rank lowest first`` [``within COLUMN``]: groups ranked in
    each period (``within``: also among the groups that share the column's value)."""

    highest: bool
    span: Span | None = _span()
    within: Name | None = None


@attrs.frozen
class Buckets:
    """``lateness buckets up to 20 working days``: late and outstanding records counted apart."""

    bounds: tuple[int, ...]
    working: bool
    span: Span | None = _span()
    months: bool = False  # 'calendar months'


@attrs.frozen
class BandsUse:
    """``bands cabinet_office_tiers(96%, 93.5%, 91%)``."""

    name: Name
    args: tuple[Amount, ...]
    span: Span | None = _span()


# ---- declarations -----------------------------------------------------------------------------


@attrs.frozen
class Import:
    """``import cabinet_office`` (stdlib) or ``import "local.pmir"`` (the contract's folder)."""

    module: str
    is_path: bool
    span: Span | None = _span()


@attrs.frozen
class ContractDecl:
    """``contract "NAME" { ... }``: the header clauses."""

    name: Text
    clauses: tuple[object, ...]
    span: Span | None = _span()


@attrs.frozen
class TypeRef:
    """A column type as written: a type name, or ``category(a, b, c)``."""

    name: Name
    categories: tuple[Name, ...] = ()
    references: Name | None = None
    span: Span | None = _span()
    date_format: Text | None = None  # date("DD/MM/YYYY")


@attrs.frozen
class ColumnDecl:
    """``name: type[?] ["description"]``."""

    name: Name
    type: TypeRef
    nullable: bool
    description: Text | None
    span: Span | None = _span()


@attrs.frozen
class OrderDecl:
    """``start_date not before referral_date`` in a table: a later date before its anchor is a
    data error (semantics.md 1), excluded from every measure that reads the later date."""

    later: Name
    earlier: Name
    span: Span | None = _span()


@attrs.frozen
class TableDecl:
    """``table NAME ["description"] [dates "FORMAT"] { columns }``."""

    name: Name
    description: Text | None
    clauses: tuple[object, ...]
    span: Span | None = _span()
    dates: Text | None = None  # the format of the table's date columns


@attrs.frozen
class BandLine:
    """One band: its label, lower bound (None for ``otherwise``) and whether it passes."""

    label: Text
    bound: Amount | Name | None
    passes: bool
    span: Span | None = _span()


@attrs.frozen
class BandsDecl:
    """``bands NAME(params) for reporting only | deciding { lines }``."""

    name: Name
    params: tuple[Name, ...]
    deciding: bool
    lines: tuple[BandLine, ...]
    span: Span | None = _span()


@attrs.frozen
class MeasureDecl:
    """``measure ID "title" { clauses }``."""

    id: Name
    title: Text
    clauses: tuple[object, ...]
    span: Span | None = _span()


@attrs.frozen
class Module:
    """A parsed file: its declarations in order."""

    file: str
    items: tuple[object, ...]


# ---- regimes and remedies ---------------------------------------------------------------------


@attrs.frozen
class RuleAtom:
    """``any of (A, B) failed in 2 of the last 3 months`` and its kin.

    ``kind``: 'failed_k_of_n' (k of the last n months), 'failed_run' (the last k months),
    'met_run' (the last k months); ``quantifier``: 'any' or 'all'.
    """

    kind: str
    quantifier: str
    measures: tuple[Name, ...]
    k: int
    n: int
    basis: Name | None = None
    span: Span | None = _span()


@attrs.frozen
class NoticeAtom:
    """``PIN open`` / ``no PIN open``: whether the group has a notice of a review running."""

    notice: Name
    open: bool
    span: Span | None = _span()


@attrs.frozen
class Allocate:
    """``allocate every 6 months from 2023-03``: when 'at allocation' rules are applied."""

    every: int
    first: str
    span: Span | None = _span()


@attrs.frozen
class LevelReview:
    """``review level 2 after 3 months``: a group at the level is reviewed again after N months."""

    level: int
    months: int
    span: Span | None = _span()


@attrs.frozen
class LevelDecl:
    """``level 2 "Enhanced Action"``."""

    number: int
    title: Text
    span: Span | None = _span()


@attrs.frozen
class Rule:
    """``escalate to level N [from level M] when ...`` or ``return to level N ... when ...``."""

    escalate: bool
    level: int
    from_level: int | None
    atoms: tuple[RuleAtom | NoticeAtom, ...]
    at_allocation: bool = False
    span: Span | None = _span()


@attrs.frozen
class RegimeDecl:
    """``regime NAME "title" { levels and rules }``."""

    name: Name
    title: Text
    clauses: tuple[object, ...]
    span: Span | None = _span()


@attrs.frozen
class FeeSource:
    """``fee COLUMN of TABLE``: the monthly fee in pence per group and month."""

    column: Name
    table: Name
    span: Span | None = _span()


@attrs.frozen
class DeferRule:
    """``defer 50% while CONDITION``."""

    share: Amount
    atoms: tuple[RuleAtom, ...]
    span: Span | None = _span()


@attrs.frozen
class ReleaseRule:
    """``release when CONDITION``."""

    atoms: tuple[RuleAtom, ...]
    span: Span | None = _span()


@attrs.frozen
class ForfeitAfter:
    """``forfeit deferrals after N months``."""

    months: int
    span: Span | None = _span()


@attrs.frozen
class ForfeitableAfter:
    """``may forfeit deferrals after N months``: once a run of deferral has lasted N months,
    every amount deferred in it is forfeitable (DWP may forfeit it; IPES 9.60-9.62)."""

    months: int
    span: Span | None = _span()


@attrs.frozen
class ForfeitAt:
    """``forfeit all at DATE``: the end of the referral period."""

    date: DateLit
    span: Span | None = _span()


@attrs.frozen
class RemedyDecl:
    """``remedy NAME "title" { fee, defer, release, forfeit }``."""

    name: Name
    title: Text
    clauses: tuple[object, ...]
    span: Span | None = _span()


# ---- formal reviews ---------------------------------------------------------------------------


@attrs.frozen
class ReviewClause:
    """One clause of a ``review`` declaration: ``kind`` and its values as written.

    kinds: 'measures' (names), 'basis' (name), 'lag' (months), 'validation' (rate column,
    table, period start and end columns, completed column), 'notice' (name, title),
    'remedy_period' (months), 'no_repeat', 'cancel', 'action_plan' (days, working).
    """

    kind: str
    values: tuple[object, ...]
    span: Span | None = _span()


@attrs.frozen
class ReviewDecl:
    """``review NAME "title" { ... }``: a formal quarterly review and the notices it raises."""

    name: Name
    title: Text
    clauses: tuple[object, ...]
    span: Span | None = _span()


# ---- assurance reviews ------------------------------------------------------------------------


@attrs.frozen
class AssuranceClause:
    """One clause of an ``assurance`` declaration: ``kind`` and its values as written.

    kinds: 'reviews' (table, completed column), 'ratings' (column, names worst first),
    'reasons' (column, separator), 'repeat' (reading 'any' or 'all', then the ratings it
    follows), 'run' (count, then the ratings), 'late' (submitted column, due column).
    """

    kind: str
    values: tuple[object, ...]
    span: Span | None = _span()


@attrs.frozen
class AssuranceDecl:
    """``assurance NAME "title" { ... }``: assurance reviews of each provider and the actions
    their ratings, reasons and action plans trigger (IPES PAT, 9.93-9.95)."""

    name: Name
    title: Text
    clauses: tuple[object, ...]
    span: Span | None = _span()
