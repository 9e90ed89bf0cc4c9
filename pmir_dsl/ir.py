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
    """``event`` within N working / calendar days of ``anchor`` (N = 0: on the day), or N
    calendar months (``months``: the same day N months on, or the month's last day)."""

    event: ColumnSpec
    anchor: ColumnSpec
    days: int | DaysByCategory
    working: bool
    months: bool = False


@attrs.frozen
class OnOrBeforeDeadline:
    """``event`` on or before the ``day``-th of the month after ``period`` [rolled forward]."""

    event: ColumnSpec
    period: ColumnSpec
    day: int
    roll_forward: bool


@attrs.frozen
class EveryNDays:
    """No gap longer than ``days`` between ``start``, the dates of a participant's records in
    table ``log`` (linked by its ``ref`` column) and ``until`` (or the as-of date while empty)."""

    log: str
    ref: ColumnSpec
    date: ColumnSpec
    start: ColumnSpec
    until: ColumnSpec
    days: int
    working: bool


Window = Union[WithinDays, OnOrBeforeDeadline, EveryNDays]

# ---- targets, bands, measures, contract ------------------------------------------------------------


TARGET_OPS = {
    "at_least": Fraction.__ge__, "at_most": Fraction.__le__,
    "below": Fraction.__lt__, "above": Fraction.__gt__,
}


@attrs.frozen
class Target:
    """A share (``share=True``: 24/25 against 96%) or a count compared exactly with ``value``.

    ``relative``: the share is of the measure's expected (profiled) figure, not of a denominator.
    """

    op: str  # 'at_least' | 'at_most' | 'below' | 'above' | 'none' (reported, not judged)
    value: Fraction
    share: bool
    text: str
    relative: bool = False
    lookup: RateLookup | None = None

    def met(self, actual: Fraction) -> bool | None:
        """Whether ``actual`` (the share or count compared) meets the target, exactly; None
        for a measure with no target."""
        if self.op == "none":
            return None
        return bool(TARGET_OPS[self.op](actual, self.value))


@attrs.frozen
class RateLookup:
    """``target at least RATE of TABLE for KEYS in the month of DATE``: each denominator record
    brings the rate of the table row with its key values whose months hold the month of its
    date (``months``: one month column, or a from / to pair, inclusive)."""

    table: str
    value: ColumnSpec
    keys: tuple[tuple[ColumnSpec, ColumnSpec], ...]  # (population column, table column)
    date: ColumnSpec
    months: tuple[ColumnSpec, ...]


@attrs.frozen
class CountOf:
    """``average count of TABLE by DATE``: each record's value is the number of rows of
    ``table`` whose ``ref`` names it and whose ``date`` is on or before the as-of date."""

    table: str
    ref: ColumnSpec  # the column of ``table`` that refers to the population table
    date: ColumnSpec  # a date column of ``table``


@attrs.frozen
class Buckets:
    """``lateness buckets up to 20 working days``: failed records counted by how late they
    were (up to each bound, beyond the last) and those still outstanding."""

    bounds: tuple[int, ...]
    working: bool
    months: bool = False  # bounds in calendar months

    def names(self, window_days: int) -> tuple[str, ...]:
        """Bucket keys: 'within_10', '11_20', '21_plus', 'outstanding' for 10 and (20,)."""
        lows = (window_days, *self.bounds)
        out = [f"within_{window_days}"]
        out += [f"{lo + 1}_{hi}" for lo, hi in zip(lows, self.bounds)]
        return (*out, f"{lows[-1] + 1}_plus", "outstanding")


@attrs.frozen
class ExpectedDirect:
    """Expected figures read from a profile table: ``value`` summed per ``period`` month.

    ``keys`` are the profile's columns that are also group columns of the measure; the value
    ``ALL`` in a key column stands for every value (a LEP area overall, say).
    """

    table: str
    value: ColumnSpec
    period: ColumnSpec
    keys: tuple[ColumnSpec, ...]
    where: Condition | None = None


@attrs.frozen
class ExpectedCohort:
    """The layered Cohort Profile: each cohort's starts times the profile, summed per month.

    Starts are the records of ``table`` with ``start`` present, in the month of ``start``; the
    profile table (filtered by ``where``) gives per (key values, ``month`` since start) either
    ``rate`` x ``share`` (a tendered rate and its distribution) or, with no ``share`` column,
    a cumulative ``rate`` (its month-on-month increase is the month's share). ``link`` is the
    population table's reference to ``table``, used to place outcomes in their cohort.
    """

    table: str
    start: ColumnSpec
    profile: str
    where: Condition | None
    keys: tuple[ColumnSpec, ...]
    month: ColumnSpec
    rate: ColumnSpec
    share: ColumnSpec | None
    link: ColumnSpec | None
    anchor: ColumnSpec | None = None  # 'start not before ANCHOR': an earlier start is none
    monthly: bool = False  # each month's rate as it is (WP retention, 8.22), not cumulative


@attrs.frozen
class BacklogSpec:
    """In backlog at a month end t: counted in a month on or before t, ``until`` empty or after t.

    ``over_days``: only records in backlog for more than that many (working) days at t.
    ``breach``: not a state at month ends but an event: a record still in backlog at the end of
    its limit's last day breaches once, in the month of the day after (semantics 6a).
    """

    until: ColumnSpec
    over_days: int | None
    working: bool
    breach: bool = False


Expected = Union[ExpectedDirect, ExpectedCohort]


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

    ``kind``: 'rate' (met records / due records), 'count' (records meeting the condition),
    'ratio' (sum of one column over the sum of another), 'profile' (records against an expected
    figure), 'backlog_share' (records in backlog at each month end over records so far) or
    'backlog_count' (records in backlog at each month end), 'backlog_breach' (records that
    breached a backlog limit, counted in the month of the breach) or 'average' (the mean days
    from ``ratio[0]`` to ``ratio[1]``: total days over records; with ``count_of``, the mean
    number of another table's rows per record). For rate and count measures at most
    one of ``condition`` and ``window`` is set (neither: every record counts).
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
    expected: Expected | None = None
    backlog: BacklogSpec | None = None
    min_denominator: int = 0
    due: WithinDays | None = None
    each_month_until: ColumnSpec | None = None
    span: Span | None = _span()
    rank: str | None = None  # 'highest' | 'lowest': groups ranked, best first
    buckets: Buckets | None = None
    information: tuple[str, ...] = ()  # bases reported for information: never met or failed
    average_working: bool = True  # 'average working days from A to B' (A, B in ``ratio``)
    # (later, earlier) of the table's 'LATER not before EARLIER' whose later date it reads
    orders: tuple[tuple[ColumnSpec, ColumnSpec], ...] = ()
    rank_within: str | None = None  # also ranked among the groups sharing this column's value
    assumptions: tuple[str, ...] = ()  # numbers the guidance does not state (7, 130-)
    count_of: CountOf | None = None  # 'average count of TABLE by DATE' (kind 'average')
    mature_months: int | None = None  # 'cohorts of at least N months': pending until then


@attrs.frozen
class Atom:
    """One test of measures' monthly results (see :class:`pmir_dsl.ast.RuleAtom`)."""

    kind: str  # 'failed_k_of_n' | 'failed_run' | 'met_run'
    quantifier: str  # 'any' | 'all'
    measures: tuple[str, ...]
    k: int
    n: int
    basis: str = "in_month"


@attrs.frozen
class NoticeAtom:
    """``PIN open`` (``open``) or ``no PIN open``: the group's notices of a review that run at
    the end of the month (issued by then, not cancelled, remedy period not over)."""

    notice: str
    open: bool


@attrs.frozen
class Rule:
    """Move to ``level`` (up if ``escalate``, else down) when every atom holds."""

    escalate: bool
    level: int
    from_level: int | None
    atoms: tuple[Atom | NoticeAtom, ...]
    at_allocation: bool = False
    assumptions: tuple[str, ...] = attrs.field(default=(), eq=False)  # the rule's own


@attrs.frozen
class Regime:
    """Levels and the rules that move a group between them, month by month."""

    name: str
    title: str
    cite: str
    keys: tuple[str, ...]
    levels: tuple[tuple[int, str], ...]
    rules: tuple[Rule, ...]
    allocate: tuple[int, str] | None = None  # (every N months, first month YYYY-MM)
    level_reviews: tuple[tuple[int, int], ...] = ()  # (level, after N months)
    assumptions: tuple[str, ...] = ()  # the regime's own, apart from its rules'


@attrs.frozen
class Validation:
    """Post-payment validation rounds: a failure ``rate`` for the days ``start`` to ``end``,
    known from the ``completed`` date."""

    table: str
    rate: ColumnSpec
    start: ColumnSpec
    end: ColumnSpec
    completed: ColumnSpec
    keys: tuple[ColumnSpec, ...] = ()  # a row with these set is that contract's own (8.32)


@attrs.frozen
class Review:
    """A formal quarterly review of measures against looked-up targets, and the notices it
    raises (Work Programme PINs, seed 003 chapter 3)."""

    name: str
    title: str
    cite: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    basis: str
    lag: int  # the review is made at the end of the month this many months after the quarter
    validation: Validation | None
    notice: str | None
    notice_title: str
    remedy_months: int
    no_repeat: bool
    cancel: bool
    action_plan: tuple[int, bool] | None  # (days, working)
    assumptions: tuple[str, ...] = ()


@attrs.frozen
class AssuranceRule:
    """One action of 9.95 an assurance review can trigger.

    ``same_or_worse``: a review rated one of ``ratings`` is followed (the group's next review)
    by the same or a worse rating for the same reasons, read as ``reading``: 'any' (a reason
    in common) or 'all' (every reason of the earlier review again). ``consecutive``: ``count``
    reviews in a row rated one of ``ratings``, whatever the reasons. ``action_plan_late``: the
    action plan ``submitted`` after its ``due`` date, or not submitted and the due date passed
    by the as-of date. ``text`` is the clause as written."""

    kind: str
    text: str
    ratings: tuple[str, ...] = ()
    reading: str = ""
    count: int = 0
    submitted: ColumnSpec | None = None
    due: ColumnSpec | None = None
    assumptions: tuple[str, ...] = ()


@attrs.frozen
class Assurance:
    """Assurance reviews of each group (IPES PAT reviews, 9.93-9.95): the table of reviews,
    their rating on a scale ordered worst first, their reasons, and the actions they trigger."""

    name: str
    title: str
    cite: str
    keys: tuple[str, ...]
    table: str
    review_id: ColumnSpec
    completed: ColumnSpec
    rating: ColumnSpec
    scale: tuple[str, ...]  # worst first
    reasons: ColumnSpec | None
    separator: str
    rules: tuple[AssuranceRule, ...]
    assumptions: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """The columns of its table the assurance reads."""
        cols = [*self.keys, self.review_id.name, self.completed.name, self.rating.name]
        cols += [self.reasons.name] if self.reasons else []
        return cols + [c.name for r in self.rules for c in (r.submitted, r.due) if c]


@attrs.frozen
class Remedy:
    """Service Fee deferral, release and forfeiture, month by month, in integer pence."""

    name: str
    title: str
    cite: str
    keys: tuple[str, ...]
    fee_table: str
    fee: ColumnSpec
    month: ColumnSpec
    share: Fraction
    defer: tuple[Atom, ...]
    release: tuple[Atom, ...]
    forfeit_after: int | None
    forfeit_at: str | None
    assumptions: tuple[str, ...] = ()  # the remedy's and its clauses'
    forfeitable_after: int | None = None  # a run of deferral this long makes it forfeitable


@attrs.frozen
class Assumption:
    """A number the guidance does not state, declared with ``assume "why"`` (semantics.md 7).

    ``owner`` is the block it is in ("measure CSS7", "regime PMIR"); ``clause`` the source text
    of the clause it qualifies ("" for the whole block); ``rule`` the index of the regime rule
    it qualifies, if any."""

    text: str
    file: str
    line: int
    owner: str
    clause: str = ""
    rule: int | None = None


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
    regimes: tuple[Regime, ...] = ()
    remedies: tuple[Remedy, ...] = ()
    reviews: tuple[Review, ...] = ()
    assumptions: tuple[Assumption, ...] = ()  # every one, in file order
    warnings: tuple[str, ...] = ()  # rendered warnings of its source (source_warnings.py)
    assurances: tuple[Assurance, ...] = ()

    def table(self, name: str) -> TableSpec:
        """The declared table called ``name``."""
        return next(t for t in self.tables if t.name == name)

    def used_tables(self) -> tuple[TableSpec, ...]:
        """The tables the measures read, each with only the columns the measures use.

        A table's id column is always read: data-quality entries and audits name records by it.
        """
        used: dict[str, set[str]] = {}
        for m in self.measures:
            for table, col in measure_columns(m, self):
                used.setdefault(table, set()).add(col)
        for r in self.remedies:
            used.setdefault(r.fee_table, set()).update([r.fee.name, r.month.name, *r.keys])
        for a in self.assurances:
            used.setdefault(a.table, set()).update(a.columns())
        for v in (r.validation for r in self.reviews if r.validation is not None):
            used.setdefault(v.table, set()).update(
                c.name for c in (v.rate, v.start, v.end, v.completed, *v.keys))
        return tuple(
            TableSpec(t.name, tuple(c for c in t.columns
                                    if c.name in used[t.name] or c.type is ColumnType.ID))
            for t in self.tables if t.name in used
        )


def own_columns(m: Measure) -> list[ColumnSpec]:
    """The columns a measure reads from its own table (joined ones included, with their ``via``),
    in a fixed order: period, filters, groups, amounts, window, backlog, due, each month, the
    looked-up target's date and keys."""
    cols = [m.period_column, *_cond_columns(m.where), *_cond_columns(m.condition)]
    cols += [c for level in m.groups for c in level]
    cols += list(m.ratio or ())
    w = m.window
    if isinstance(w, WithinDays):
        cols += [w.event, w.anchor]
        if isinstance(w.days, DaysByCategory):
            cols.append(w.days.column)
    elif isinstance(w, OnOrBeforeDeadline):
        cols += [w.event, w.period]
    elif isinstance(w, EveryNDays):
        cols += [w.start, w.until]
    if m.backlog:
        cols.append(m.backlog.until)
    if m.due:
        cols += [m.due.event, m.due.anchor]
    if m.each_month_until:
        cols.append(m.each_month_until)
    if m.target.lookup is not None:
        cols += [m.target.lookup.date, *(own for own, _ in m.target.lookup.keys)]
    return cols + [earlier for _, earlier in m.orders]


def measure_columns(m: Measure, contract: Contract) -> list[tuple[str, str]]:
    """(table, column) of every column a measure reads, joined columns at their source."""
    cols = own_columns(m)
    w, lookup = m.window, m.target.lookup
    extra: list[tuple[str, str]] = []
    if isinstance(w, EveryNDays):
        extra = [(w.log, w.ref.name), (w.log, w.date.name)]
    if m.count_of is not None:
        extra += [(m.count_of.table, m.count_of.ref.name), (m.count_of.table, m.count_of.date.name)]
    if lookup is not None:
        extra += [(lookup.table, c.name) for c in (lookup.value, *lookup.months)]
        extra += [(lookup.table, theirs.name) for _, theirs in lookup.keys]
    out = [(m.table, c.name) for c in cols if c.via is None] + extra
    for c in cols:
        if c.via is not None:
            ref = contract.table(m.table).column(c.via)
            assert ref is not None and ref.references is not None
            out += [(m.table, c.via), (ref.references, c.name)]
    e = m.expected
    if isinstance(e, ExpectedDirect):
        out += [(e.table, c.name) for c in (e.value, e.period, *e.keys, *_cond_columns(e.where))]
    elif isinstance(e, ExpectedCohort):
        out += [(e.table, e.start.name), *((e.table, k.name) for k in e.keys)]
        if e.anchor is not None:
            out.append((e.table, e.anchor.name))
        prof = [e.month, e.rate, *e.keys, *([e.share] if e.share else []), *_cond_columns(e.where)]
        out += [(e.profile, c.name) for c in prof]
        if e.link is not None:
            out.append((m.table, e.link.name))
    return out
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
