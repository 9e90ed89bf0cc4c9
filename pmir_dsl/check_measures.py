"""Check one measure declaration against its tables: names, types, kinds, targets and bases.

:class:`MeasureChecker` is used by :class:`pmir_dsl.check.Checker` for each ``measure``; it
reports through the checker (so every error is collected) and returns the measure's typed IR.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING

import attrs

from . import ast, ir
from .diagnostics import Span, did_you_mean
from .schema import ColumnSpec, ColumnType, TableSpec

if TYPE_CHECKING:
    from .check import Checker

TYPE_NAMES = {t.value: t for t in ColumnType if t is not ColumnType.CATEGORY}
DATE_LIKE = (ColumnType.DATE,)
PERIOD_SOURCES = {
    "month": (ColumnType.DATE, ColumnType.MONTH, ColumnType.PERIOD),
    "quarter": (ColumnType.DATE, ColumnType.MONTH, ColumnType.QUARTER, ColumnType.PERIOD),
}
GROUPABLE = (ColumnType.TEXT, ColumnType.CATEGORY, ColumnType.BOOL)
VALUED = (ColumnType.TEXT, ColumnType.CATEGORY, ColumnType.BOOL, ColumnType.ID)
NUMERIC = (ColumnType.INTEGER, ColumnType.DECIMAL)
QUARTERLY_BASES = ("quarter", "cumulative", "year_to_date", "rolling_12")
SHARE_KINDS = ("rate", "ratio", "profile", "backlog_share", "count_ratio")
STATE_KINDS = ("backlog_share", "backlog_count")
DEFAULT_BASES = ("in_month",)
MONTHS = (("January", 31), ("February", 28), ("March", 31), ("April", 30), ("May", 31),
          ("June", 30), ("July", 31), ("August", 31), ("September", 30), ("October", 31),
          ("November", 30), ("December", 31))
MEASURE_KINDS = ("'met when', 'count when', 'count records', 'ratio sum A over sum B', "
                 "'ratio count of A over count of B', 'share / count in backlog until', "
                 "'average working days from A to B' or 'average count of TABLE by DATE'")
SINGLE_CLAUSES = (ast.Population, ast.PeriodOf, ast.MetWhen, ast.CountWhen, ast.Ratio,
                  ast.Target, ast.Bases, ast.GroupBy, ast.BandsUse, ast.ExpectedDirect,
                  ast.ExpectedCohort, ast.Backlog, ast.MinDenominator, ast.CountRecords,
                  ast.DueWhen, ast.CountRatio, ast.TargetLookup, ast.Rank, ast.Buckets,
                  ast.InformationBases, ast.Average, ast.AverageCount, ast.Mature)


def _why_bad(text: str) -> str:
    """Why a YYYY-MM-DD text is not a real date: its month, or its day in that month."""
    year, month, day = (int(x) for x in text.split("-"))
    if not 1 <= month <= 12:
        return f"there is no month {month:02d}"
    name, days = MONTHS[month - 1]
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days += month == 2 and leap
    return f"{name} {year} has {days} days" if day else "days are numbered from 01"


def _first_at(first: ast.Name, again: ast.Name) -> str:
    """A hint pointing at the first declaration of a name declared twice."""
    if first.span is None:
        return "the first is above"
    same_file = again.span is not None and again.span.file == first.span.file
    return f"the first is at {f'line {first.span.line}' if same_file else first.span}"


def _fixed_by(name: str, where: object) -> bool:
    """Whether a profile filter pins column ``name`` to values (``outcome is x``)."""
    if isinstance(where, ast.IsValue):
        return where.column.text == name and not where.negate
    if isinstance(where, ast.All):
        return any(_fixed_by(name, c) for c in where.items)
    return False


def _months_column(profile: TableSpec) -> str:
    """A cohort profile's months-since-start column: ``month``, or else its one integer column
    (``months_after_outcome``, ``months_on_programme``)."""
    if profile.column("month") is not None:
        return "month"
    ints = [c.name for c in profile.columns if c.type is ColumnType.INTEGER]
    return ints[0] if len(ints) == 1 else "month"


def _clause_word(c: object) -> str:
    words = {ast.ServiceStart: "service start", ast.CalendarClause: "calendar",
             ast.ExtractDate: "extract date", ast.GroupBy: "group by", ast.Bases: "bases",
             ast.Population: "population", ast.PeriodOf: "month of / quarter of",
             ast.MetWhen: "met when", ast.CountWhen: "count when", ast.Ratio: "ratio",
             ast.Target: "target", ast.BandsUse: "bands", ast.CountRecords: "count records",
             ast.Backlog: "in backlog until", ast.ExpectedDirect: "expected",
             ast.ExpectedCohort: "expected cohorts", ast.MinDenominator: "minimum denominator",
             ast.DueWhen: "due when", ast.CountRatio: "ratio count",
             ast.TargetLookup: "target ... of TABLE for ...", ast.Rank: "rank",
             ast.Buckets: "lateness buckets", ast.InformationBases: "information bases",
             ast.Average: "average days from", ast.AverageCount: "average count of",
             ast.Mature: "cohorts of at least"}
    return words.get(type(c), type(c).__name__)


class MeasureChecker:
    """Checks one measure declaration against its population table."""

    def __init__(self, checker: Checker, decl: ast.MeasureDecl, header):  # type: ignore[no-untyped-def]
        self.c = checker
        self.decl = decl
        self.header = header
        self.table: TableSpec | None = None
        self.ok = True
        self.until: ColumnSpec | None = None
        self.count_of: ir.CountOf | None = None

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        """Record an error and mark this measure unusable."""
        self.ok = False
        self.c.error(code, message, span, hint)

    def clause(self, kind: type) -> object | None:
        """The measure's clause of ``kind``, if any."""
        return next((x for x in self.decl.clauses if isinstance(x, kind)), None)

    def check(self) -> ir.Measure | None:
        """The measure's IR, or None when it has errors."""
        d = self.decl
        self.c._once(d.clauses, SINGLE_CLAUSES)
        pop = self.clause(ast.Population)
        if pop is None:
            self.error("missing-clause", f"measure {d.id.text} has no 'population'", d.id.span,
                       "add: population TABLE [where CONDITION]")
            return None
        self.table = self.c.lookup_table(pop.table)
        if self.table is None:
            return None
        where = self.condition(pop.where) if pop.where is not None else None
        period = self.period()
        kind, condition, window, ratio = self.kind()
        target = self.target(kind)
        bases = self.bases(period[1] if period else "month", kind)
        information = self.information(period[1] if period else "month", kind, bases)
        groups = self.groups()
        self.levels = groups
        bands = self.bands_use(kind)
        expected = self.expected(kind, groups)
        backlog = self.backlog()
        minimum = self.clause(ast.MinDenominator)
        due = self.due(kind, window)
        until = self.until
        if until is not None and not isinstance(window, ir.EveryNDays):
            self.error("measure-kind", "'each month from ... until' goes with 'at most N days "
                       "apart' (a record is judged in each month it runs)", d.span)
        rank = self.clause(ast.Rank)
        within = self.rank_within(rank, groups)
        buckets = self.buckets(window)
        mature = self.mature(period)
        cite = self.clause(ast.Cite)
        if not self.ok or period is None or target is None:
            return None
        return self.with_orders(ir.Measure(
            d.id.text, d.title.text, cite.text.text if cite else "", self.table.name,
            where, period[0], period[1], kind, condition, window, ratio, target,
            bases + information, groups, bands, expected, backlog,
            minimum.value if minimum else 0, due, until, d.span,
            ("highest" if rank.highest else "lowest") if rank else None, buckets,
            information=information, rank_within=within,
            average_working=self.average_working(), count_of=self.count_of,
            mature_months=mature))

    def average_working(self) -> bool:
        """Whether an 'average ... days from' clause counts working days (True otherwise)."""
        a = self.clause(ast.Average)
        return a.working if isinstance(a, ast.Average) else True

    def with_orders(self, m: ir.Measure) -> ir.Measure:
        """``m`` with its table's 'LATER not before EARLIER' pairs whose later date it reads
        from its own table (semantics.md 1: such a record is excluded, never counted)."""
        assert self.table is not None
        read = {c.name for c in ir.own_columns(m) if c.via is None}
        pairs = tuple((self.table.column(a), self.table.column(b))
                      for a, b in self.table.orders if a in read)
        return attrs.evolve(m, orders=pairs) if pairs else m

    def mature(self, period: tuple[ColumnSpec, str] | None) -> int | None:
        """``cohorts of at least N months``: only with 'average count of' and 'month of'."""
        c = self.clause(ast.Mature)
        if c is None:
            return None
        if self.clause(ast.AverageCount) is None or (period and period[1] != "month"):
            self.error("measure-kind", "'cohorts of at least N months' goes with 'month of "
                       "DATE' and 'average count of TABLE by DATE' (a cohort is the records of "
                       "one month)", c.span)
            return None
        return c.months

    def average_count(self, clause: ast.AverageCount) -> ir.CountOf | None:
        """``average count of TABLE by DATE``: TABLE refers to the population table."""
        assert self.table is not None
        other = self.other_table(clause.table)
        if other is None:
            return None
        ref = next((c for c in other.columns if c.type is ColumnType.REF
                    and c.references == self.table.name), None)
        if ref is None:
            self.error("type-mismatch", f"table '{other.name}' needs a ref({self.table.name}) "
                       "column, to say which record each of its rows belongs to",
                       clause.table.span)
            return None
        date = self.table_column(other, clause.date.text, DATE_LIKE, clause.date.span,
                                 "'average count of ... by'")
        return ir.CountOf(other.name, ref, date) if date else None

    def rank_within(self, rank: ast.Rank | None,
                    groups: tuple) -> str | None:  # type: ignore[type-arg]
        """``rank ... within COLUMN``: a column of a group level that has other columns too
        (the providers within a CPA)."""
        if rank is None or rank.within is None:
            return None
        name = rank.within.text
        if not any(name in {c.name for c in level} and len(level) > 1 for level in groups):
            self.error("unknown-column", f"'rank ... within {name}' needs a group level of "
                       f"{name} and another column, to rank the groups that share a {name}",
                       rank.within.span, f"write e.g.: group by provider and {name}")
            return None
        return name

    def buckets(self, window: object) -> ir.Buckets | None:
        """``lateness buckets up to N days``: only after a fixed 'within N days' window."""
        b = self.clause(ast.Buckets)
        if b is None:
            return None
        if not isinstance(window, ir.WithinDays) or not isinstance(window.days, int):
            self.error("measure-kind", "lateness buckets go with 'met when E within N days of "
                       "A' (a fixed number of days)", b.span)
            return None
        unit = "calendar months" if window.months else \
            "working days" if window.working else "calendar days"
        if (b.working, b.months) != (window.working, window.months):
            self.error("measure-kind", f"lateness buckets count {unit}, as the window "
                       "does", b.span, f"write: lateness buckets up to ... {unit}")
            return None
        lows = (window.days, *b.bounds)
        if any(hi <= lo for lo, hi in zip(lows, b.bounds)):
            self.error("measure-kind", f"lateness buckets must rise above the window's "
                       f"{window.days} {unit.split()[1]}, each above the one before", b.span,
                       f"e.g.: lateness buckets up to {window.days * 2} {unit}")
            return None
        return ir.Buckets(b.bounds, b.working, b.months)

    # -- columns

    def column(self, name: ast.Name, types: tuple[ColumnType, ...] | None = None,
               what: str = "") -> ColumnSpec | None:
        """The population table's column ``name``, checked against ``types``."""
        assert self.table is not None
        col = self.table.column(name.text) or self.joined(self.table, name.text)
        if col is None and (self.table.name, name.text) in self.c.untyped:
            self.ok = False  # its unknown type is already reported
            return None
        if col is None:
            names = [c.name for c in self.table.columns]
            self.error("unknown-column", f"table '{self.table.name}' has no column '{name.text}'",
                       name.span, did_you_mean(name.text, names) or
                       "its columns are: " + ", ".join(names))
            return None
        if types is not None and col.type not in types:
            allowed = _join_or([t.value for t in types])
            fitting = [c.name for c in self.table.columns if c.type in types]
            article = "an" if allowed[0] in "aeiou" else "a"
            self.error("type-mismatch", f"'{name.text}' is a {col.type.value} column; {what} "
                       f"needs {article} {allowed} column", name.span,
                       f"columns of '{self.table.name}' that fit: {', '.join(fitting)}"
                       if fitting else None)
            return None
        return col

    def joined(self, table: TableSpec, name: str) -> ColumnSpec | None:
        """Column ``name`` of a table that ``table`` refers to through one ``ref`` column."""
        for ref in table.columns:
            if ref.type is ColumnType.REF and ref.references in self.c.tables:
                target = self.c.tables[ref.references][1].column(name)
                if target is not None and target.type is not ColumnType.ID:
                    return attrs.evolve(target, via=ref.name)
        return None

    def period(self) -> tuple[ColumnSpec, str] | None:
        p = self.clause(ast.PeriodOf)
        counts = self.clause(ast.CountRatio)
        if counts is not None:
            if p is not None:
                self.error("measure-kind", "'ratio count of A over count of B' counts each "
                           "record in the month of its own date, so it takes no "
                           f"'{p.unit} of'", p.span, "leave out this line")
                return None
            col = self.column(counts.denominator, DATE_LIKE, "'ratio count of'")
            return (col, "month") if col else None
        if p is None:
            self.error("missing-clause", f"measure {self.decl.id.text} does not say which period "
                       "a record counts in", self.decl.id.span,
                       "add: month of DATE_COLUMN (or quarter of COLUMN)")
            return None
        col = self.column(p.column, PERIOD_SOURCES[p.unit], f"'{p.unit} of'")
        if p.until is not None:
            self.column(p.column, DATE_LIKE, "'each month from'")
            self.until = self.column(p.until, DATE_LIKE, "'each month ... until'")
        return (col, p.unit) if col else None

    # -- what the measure counts

    def kind(self):  # type: ignore[no-untyped-def]
        """(kind, condition, window, ratio columns) from the clause saying what is counted."""
        kinds = (ast.MetWhen, ast.CountWhen, ast.CountRecords, ast.Ratio, ast.Backlog,
                 ast.CountRatio, ast.Average, ast.AverageCount)
        given = [x for x in self.decl.clauses if isinstance(x, kinds)]
        if not given:
            self.error("measure-kind", f"measure {self.decl.id.text} does not say what it "
                       f"measures; expected {MEASURE_KINDS}", self.decl.id.span,
                       "a rate: met when CONDITION; a count: count when CONDITION; a ratio: "
                       "ratio sum COLUMN over sum COLUMN")
            return "rate", None, None, None
        if len(given) > 1:
            words = " and ".join(f"'{_clause_word(x)}'" for x in given)
            self.error("measure-kind", f"measure {self.decl.id.text} has {words}; a measure says "
                       f"only one of {MEASURE_KINDS}", given[1].span,
                       "keep the one the guidance describes, and make another measure for the "
                       "other")
            return "rate", None, None, None
        (clause,) = given
        if isinstance(clause, ast.Ratio):
            num = self.column(clause.numerator, NUMERIC, "'ratio sum'")
            den = self.column(clause.denominator, NUMERIC, "'ratio sum'")
            return "ratio", None, None, (num, den) if num and den else None
        if isinstance(clause, ast.Average):
            start = self.column(clause.start, (ColumnType.DATE,), "'average days from'")
            end = self.column(clause.end, (ColumnType.DATE,), "'average days ... to'")
            return "average", None, None, (start, end) if start and end else None
        if isinstance(clause, ast.AverageCount):
            self.count_of = self.average_count(clause)
            return "average", None, None, None
        if isinstance(clause, ast.CountRatio):
            num = self.column(clause.numerator, DATE_LIKE, "'ratio count of'")
            den = self.column(clause.denominator, DATE_LIKE, "'ratio count of'")
            return "count_ratio", None, None, (num, den) if num and den else None
        if isinstance(clause, ast.Backlog):
            kind = "backlog_breach" if clause.breach else \
                "backlog_share" if clause.share else "backlog_count"
            return kind, None, None, None
        if isinstance(clause, ast.CountRecords):
            kind = "profile" if self.clause(ast.ExpectedDirect) or \
                self.clause(ast.ExpectedCohort) else "count"
            return kind, None, None, None
        kind = "rate" if isinstance(clause, ast.MetWhen) else "count"
        if isinstance(clause.cond, ast.WINDOWS):
            return kind, None, self.window(clause.cond), None
        return kind, self.condition(clause.cond), None, None

    def due(self, kind: str, window: object) -> ir.WithinDays | None:
        """``due when E is present or N days after A``: when a non-window record stops pending."""
        d = self.clause(ast.DueWhen)
        if d is None:
            return None
        if kind not in ("rate", "count") or window is not None:
            self.error("measure-kind", "'due when' goes with a 'met when' or 'count when' "
                       "condition that is not a time window (a window has its own deadline)",
                       d.span)
            return None
        event = self.column(d.event, DATE_LIKE, "'due when'")
        anchor = self.column(d.anchor, DATE_LIKE, "'due when ... after'")
        return ir.WithinDays(event, anchor, d.days, d.unit == "working") if event and anchor \
            else None

    def backlog(self) -> ir.BacklogSpec | None:
        """The backlog clause's IR, if the measure has one."""
        b = self.clause(ast.Backlog)
        if b is None:
            return None
        until = self.column(b.until, DATE_LIKE, "'in backlog until'")
        period = self.clause(ast.PeriodOf)
        if period is not None:
            self.column(period.column, DATE_LIKE, "a backlog's 'month of'")
        return ir.BacklogSpec(until, b.over_days, b.working, b.breach) if until else None

    def expected(self, kind: str, groups: tuple) -> ir.Expected | None:  # type: ignore[type-arg]
        """The expected (profiled) figures of a profile measure."""
        e = self.clause(ast.ExpectedDirect) or self.clause(ast.ExpectedCohort)
        if e is None:
            if kind == "profile":
                self.error("missing-clause", "'count records' against a profile needs an "
                           "'expected' clause", self.decl.id.span)
            return None
        if kind != "profile":
            self.error("measure-kind", "an 'expected' figure goes with 'count records'", e.span,
                       "count the population with: count records")
            return None
        return self.expected_direct(e, groups) if isinstance(e, ast.ExpectedDirect) else \
            self.expected_cohort(e)

    def other_table(self, name: ast.Name) -> TableSpec | None:
        """A table other than the population's, by name (with a diagnostic if unknown)."""
        return self.c.lookup_table(name)

    def table_column(self, table: TableSpec, name: str, types: tuple[ColumnType, ...],
                     span: Span | None, what: str) -> ColumnSpec | None:
        """Column ``name`` of ``table`` (a profile or cohort table), checked against ``types``."""
        col = table.column(name)
        if col is None or col.type not in types:
            found = f"its '{name}' is a {col.type.value} column" if col else f"it has no '{name}'"
            self.error("type-mismatch", f"{what} needs table '{table.name}' to have a column "
                       f"'{name}' of type {' or '.join(t.value for t in types)}; {found}", span)
            return None
        return col

    def profile_keys(self, profile: TableSpec, other: TableSpec) -> tuple[ColumnSpec, ...]:
        """Profile columns that name group columns of ``other`` (by name, joined ones too)."""
        def groupable(name: str) -> bool:
            col = other.column(name) or self.joined(other, name)
            return col is not None and col.type in GROUPABLE

        return tuple(c for c in profile.columns if c.type in GROUPABLE and groupable(c.name))

    def expected_direct(self, e: ast.ExpectedDirect,
                        groups: tuple) -> ir.ExpectedDirect | None:  # type: ignore[type-arg]
        profile = self.other_table(e.table)
        if profile is None or self.table is None:
            return None
        value = self.table_column(profile, e.column.text, NUMERIC, e.column.span, "'expected'")
        months = [c for c in profile.columns if c.type is ColumnType.MONTH]
        if len(months) != 1:
            self.error("type-mismatch", f"profile table '{profile.name}' needs exactly one month "
                       "column saying which month each expected figure is for", e.table.span)
            return None
        keys = self.profile_keys(profile, self.table)
        if e.where is not None:
            keys = tuple(k for k in keys if not _fixed_by(k.name, e.where))
        for level in groups:
            missing = [c.name for c in level if c.name not in {k.name for k in keys}]
            if missing:
                self.error("unknown-column", f"profile table '{profile.name}' has no column "
                           f"'{missing[0]}', so it gives no expected figure for each "
                           f"{missing[0]}", e.table.span, "group this measure only by the "
                           "profile's columns: " + (", ".join(k.name for k in keys) or "none"))
        where = None
        if e.where is not None:
            outer, self.table = self.table, profile
            where = self.condition(e.where)
            self.table = outer
            keys = tuple(k for k in keys if not _fixed_by(k.name, e.where))
        return ir.ExpectedDirect(profile.name, value, months[0], keys, where) if value else None

    def expected_cohort(self, e: ast.ExpectedCohort) -> ir.ExpectedCohort | None:
        cohort, profile = self.other_table(e.table), self.other_table(e.profile)
        if cohort is None or profile is None or self.table is None:
            return None
        start = cohort.column(e.start.text)
        if start is None or start.type is not ColumnType.DATE:
            self.error("type-mismatch", f"cohorts need a date column '{e.start.text}' in table "
                       f"'{cohort.name}'", e.start.span)
            return None
        month = self.table_column(profile, _months_column(profile), (ColumnType.INTEGER,),
                                  e.profile.span, "a cohort profile")
        rate = self.table_column(profile, "rate", NUMERIC, e.profile.span, "a cohort profile")
        share = profile.column("share")
        where = None
        if e.where is not None:
            outer, self.table = self.table, profile
            where = self.condition(e.where)
            self.table = outer
        link = next((c for c in self.table.columns if c.type is ColumnType.REF
                     and c.references == cohort.name), None)
        if link is None and self.table.name != cohort.name:
            self.error("type-mismatch", f"table '{self.table.name}' needs a ref({cohort.name}) "
                       "column to place its records in their cohorts", e.table.span,
                       f"declare e.g.: referral_id: ref({cohort.name})")
            return None
        if share is not None and e.monthly:
            self.error("type-mismatch", f"'times monthly {profile.name}' reads each month's "
                       "rate as it is: the profile has no 'share' column", e.profile.span)
            return None
        if share is not None and share.type not in NUMERIC:
            self.error("type-mismatch", f"the 'share' column of '{profile.name}' must be a "
                       "number", e.profile.span)
            return None
        for level in self.levels:
            for col in level:
                if cohort.column(col.name) is None:
                    self.error("unknown-column", f"cohort table '{cohort.name}' has no column "
                               f"'{col.name}', so starts cannot be grouped by it",
                               e.table.span, f"group this measure by columns of '{cohort.name}'")
        keys = self.profile_keys(profile, cohort)
        if month is None or rate is None:
            return None
        anchor = next((cohort.column(earlier) for later, earlier in cohort.orders
                       if later == start.name), None)
        return ir.ExpectedCohort(cohort.name, start, profile.name, where, keys, month, rate,
                                 share, link, anchor, e.monthly)

    def window(self, w):  # type: ignore[no-untyped-def]
        if isinstance(w, ast.GapWindow):
            return self.gap_window(w)
        if isinstance(w, ast.ByDeadline):
            event = self.column(w.event, DATE_LIKE, "'on or before'")
            period = self.column(w.deadline.period, (ColumnType.MONTH, ColumnType.QUARTER,
                                                     ColumnType.PERIOD), "a deadline")
            if not 1 <= w.deadline.day <= 28:
                self.error("bad-amount", f"a deadline on day {w.deadline.day} of the month "
                           "cannot be met in every month: not every month has that day",
                           w.deadline.span, "use a day from the 1st to the 28th")
            if event and period:
                return ir.OnOrBeforeDeadline(event, period, w.deadline.day, w.deadline.roll_forward)
            return None
        event = self.column(w.event, DATE_LIKE, "'within'")
        anchor = self.column(w.anchor, DATE_LIKE, "'within ... of'")
        days = self.days(w.days)
        if event and anchor and days is not None:
            return ir.WithinDays(event, anchor, days, w.unit == "working", w.unit == "months")
        return None

    def gap_window(self, w: ast.GapWindow) -> ir.EveryNDays | None:
        """``LOG at most N days apart from START until END``: LOG refers to the population."""
        assert self.table is not None
        log = self.c.lookup_table(w.log)
        start = self.column(w.start, DATE_LIKE, "'apart from'")
        until = self.column(w.until, DATE_LIKE, "'until'")
        if log is None or start is None or until is None:
            return None
        ref = next((c for c in log.columns if c.type is ColumnType.REF
                    and c.references == self.table.name), None)
        dates = [c for c in log.columns if c.type is ColumnType.DATE]
        if ref is None or len(dates) != 1:
            self.error("type-mismatch", f"table '{log.name}' needs a ref({self.table.name}) "
                       "column and exactly one date column to be read as each record's events",
                       w.log.span)
            return None
        return ir.EveryNDays(log.name, ref, dates[0], start, until, w.days, w.unit == "working")

    def days(self, days):  # type: ignore[no-untyped-def]
        if isinstance(days, int):
            return days
        col = self.column(days.column, (ColumnType.CATEGORY,), "days 'by'")
        if col is None:
            return None
        table: dict[str, int] = {}
        otherwise = None
        unknown = False
        for case in days.cases:
            if case.value is None:
                otherwise = case.days
                continue
            if case.value.text not in col.categories:
                unknown = True
                self.error("unknown-category", f"'{case.value.text}' is not a value of "
                           f"'{col.name}'", case.value.span, did_you_mean(case.value.text,
                                                                         col.categories))
            elif case.value.text in table:
                self.error("duplicate-case", f"'{case.value.text}' is given days twice",
                           case.value.span, "give each value one number of days")
            table[case.value.text] = case.days
        missing = [v for v in col.categories if v not in table]
        if missing and otherwise is None and not unknown:  # else the unknown one is the typo
            values = "a value" if len(missing) == 1 else "values"
            self.error("incomplete-cases", f"no number of days for {_join_and(missing)} "
                       f"({values} of '{col.name}')", days.span,
                       f"add e.g. '{missing[0]} 10' to the list, or 'otherwise 10' for every "
                       "value not listed")
        return ir.DaysByCategory(col, tuple(table.get(v, otherwise) for v in col.categories))

    def condition(self, cond) -> ir.Condition | None:  # type: ignore[no-untyped-def]
        """Check a filter or met condition (windows are not allowed inside)."""
        method: Callable = getattr(self, "cond_" + type(cond).__name__)  # type: ignore[type-arg]
        return method(cond)

    def cond_Within(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        self.error("window-placement", "a time window must be the whole 'met when' or 'count "
                   "when' condition, not part of a filter or of 'and' / 'or' / 'not'", cond.span,
                   "filter the population with 'where' and keep the window on its own")

    cond_ByDeadline = cond_Within  # noqa: N815
    cond_GapWindow = cond_Within  # noqa: N815

    def cond_Flag(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        col = self.column(cond.column)
        if col is not None and col.type is not ColumnType.BOOL:
            self.error("type-mismatch", f"'{col.name}' is a {col.type.value} column, so it cannot "
                       "be a condition on its own: only a bool column can", cond.column.span,
                       f"to test that it is filled in, write: {col.name} is present")
            return None
        return ir.IsTrue(col) if col else None

    def cond_Presence(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        col = self.column(cond.column)
        return ir.IsPresent(col, cond.present) if col else None

    def cond_IsValue(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        col = self.column(cond.column, VALUED, "'is'")
        if col is None:
            return None
        allowed = {ColumnType.CATEGORY: col.categories, ColumnType.BOOL: ("true", "false")}
        for v in cond.values:
            values = allowed.get(col.type)
            if values is not None and v.text not in values:
                self.error("unknown-category", f"'{v.text}' is not a value of '{col.name}'",
                           v.span, did_you_mean(v.text, values) or
                           "its values are: " + ", ".join(values))
        return ir.InValues(col, tuple(v.text for v in cond.values), cond.negate)

    def cond_Compare(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        left, right = self.operand(cond.left), self.operand(cond.right)
        if left is None or right is None:
            return None
        kinds = (_operand_kind(left), _operand_kind(right))
        if kinds[0] != kinds[1]:
            sides = [_describe_operand(o, k) for o, k in zip((cond.left, cond.right), kinds)]
            self.error("type-mismatch", f"cannot compare {sides[0]} with {sides[1]}; a comparison "
                       "needs two numbers or two dates", cond.span,
                       "write a date in full as YYYY-MM-DD, e.g. 2024-04-01")
            return None
        return ir.Comparison(cond.op, left, right)

    def operand(self, o: ast.Operand) -> ir.Operand | None:
        if o.kind == "int":
            return ir.Operand(value=int(o.text))
        if o.kind == "date":
            d = self.c._date(ast.DateLit(o.text, o.span))
            return ir.Operand(value=d) if d else None
        col = self.column(ast.Name(o.text, o.span), (*NUMERIC, ColumnType.DATE), "a comparison")
        return ir.Operand(column=col) if col else None

    def _nested(self, cond):  # type: ignore[no-untyped-def]
        items = [self.condition(i) for i in cond.items]
        return None if any(i is None for i in items) else tuple(items)

    def cond_All(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        items = self._nested(cond)
        return ir.AllOf(items) if items else None

    def cond_Any(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        items = self._nested(cond)
        return ir.AnyOf(items) if items else None

    def cond_Not(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        item = self.condition(cond.item)
        return ir.Not(item) if item else None

    # -- target, bases, groups, bands

    def target(self, kind: str) -> ir.Target | None:
        t = self.clause(ast.Target)
        lookup = self.clause(ast.TargetLookup)
        if lookup is not None:
            if t is not None:
                self.error("duplicate-clause", "a measure has one target", t.span,
                           "keep the one the guidance gives")
                return None
            return self.target_lookup(lookup, kind)
        if t is not None and t.op == "none":
            return ir.Target("none", Fraction(0), kind in SHARE_KINDS, "no target")
        if t is None:
            self.error("missing-clause", f"measure {self.decl.id.text} has no target",
                       self.decl.id.span, "add e.g.: target at least 96%")
            return None
        a = t.amount
        share = kind in SHARE_KINDS
        if kind == "profile" and not t.relative:
            self.error("target-kind", "a measure against a profile needs a target relative to "
                       "it", t.span, f"write: target at least {a.text} of expected")
            return None
        if t.relative and kind != "profile":
            self.error("target-kind", "'of expected' needs an 'expected' clause", t.span)
            return None
        if share and a.kind != "percent":
            self.error("target-kind", f"a {kind} measure's target is a percentage, not "
                       f"'{a.text}'", a.span, f"write it as {a.text}%")
            return None
        if not share and a.kind != "count":
            self.error("target-kind", f"a count measure's target is a whole number, not "
                       f"'{a.text}'", a.span)
            return None
        if a.kind == "percent" and not 0 <= a.value <= (10 if t.relative else 1):
            self.error("bad-percentage", f"{a.text} is not between 0% and 100%", a.span,
                       "a percentage target is a share of the records, so at most 100%")
            return None
        text = f"{t.op.replace('_', ' ')} {a.text}" + (" of expected" if t.relative else "")
        return ir.Target(t.op, a.value, share, text, t.relative)

    def target_lookup(self, t: ast.TargetLookup, kind: str) -> ir.Target | None:
        """``target at least RATE of TABLE for KEYS in the month of DATE`` (count ratios)."""
        if kind != "count_ratio":
            self.error("target-kind", "a target looked up per record goes with 'ratio count of "
                       "A over count of B' (each record of B brings its rate)", t.span)
            return None
        table = self.other_table(t.table)
        counts = self.clause(ast.CountRatio)
        if table is None or counts is None:
            return None
        value = self.table_column(table, t.value.text, NUMERIC, t.value.span, "the target")
        months = tuple(c for c in table.columns if c.type is ColumnType.MONTH)
        if len(months) not in (1, 2):
            self.error("type-mismatch", f"table '{table.name}' needs one month column (the "
                       "month each rate is for) or two (from and to, inclusive)", t.table.span)
            return None
        date = self.column(t.date, DATE_LIKE, "'in the month of'")
        if date is not None and date.name != counts.denominator.text:
            self.error("target-kind", f"the rate is looked up for the records counted in "
                       f"the denominator, so by the month of '{counts.denominator.text}'",
                       t.date.span, f"write: in the month of {counts.denominator.text}")
            return None
        keys = []
        for k in t.keys:
            own = self.column(k, GROUPABLE, "a lookup key")
            theirs = self.table_column(table, k.text, GROUPABLE, k.span, "a lookup key")
            if own and theirs:
                keys.append((own, theirs))
        if not self.ok or value is None or date is None:
            return None
        text = f"at least {t.value.text} of {table.name}"
        return ir.Target("at_least", Fraction(0), True, text, False,
                         ir.RateLookup(table.name, value, tuple(keys), date, months))

    def bases(self, unit: str, kind: str) -> tuple[str, ...]:
        own = self.clause(ast.Bases)
        if kind in STATE_KINDS:
            if own and [n.text for n in own.names] != ["cumulative"]:
                self.error("period-mismatch", "a backlog is a state at each month end, so its "
                           "only basis is 'cumulative'", own.span, "write: basis cumulative")
            return ("cumulative",)
        clause = own or (self.header[6] if self.header else None)
        if clause is None:
            return ("quarter",) if unit == "quarter" else DEFAULT_BASES
        return self.basis_names(clause.names, unit)

    def information(self, unit: str, kind: str, bases: tuple[str, ...]) -> tuple[str, ...]:
        """``information bases B``: reported beside the assessed bases, never assessed."""
        clause = self.clause(ast.InformationBases)
        if clause is None:
            return ()
        if kind in STATE_KINDS:
            self.error("period-mismatch", "a backlog is a state at each month end, so its "
                       "only basis is 'cumulative'", clause.span, "leave out this line")
            return ()
        names = self.basis_names(clause.names, unit)
        both = [n for n in names if n in bases]
        if both:
            self.error("period-mismatch", f"basis '{both[0]}' is both assessed and for "
                       "information only", clause.span,
                       f"keep '{both[0]}' in one of 'bases' and 'information bases'")
            return ()
        return names

    def basis_names(self, names: tuple[ast.Name, ...], unit: str) -> tuple[str, ...]:
        """The bases named, each once, checked against the measure's period."""
        out: list[str] = []
        for n in names:
            if n.text not in ir.BASES:
                self.error("unknown-basis", f"unknown basis '{n.text}'", n.span,
                           did_you_mean(n.text, ir.BASES) or "bases are: " + ", ".join(ir.BASES))
            elif unit == "quarter" and n.text not in QUARTERLY_BASES:
                self.error("period-mismatch", f"basis '{n.text}' needs monthly figures, but "
                           f"{self.decl.id.text} counts records by quarter", n.span,
                           "quarterly measures take: " + ", ".join(QUARTERLY_BASES))
            elif n.text not in out:
                out.append(n.text)
        return tuple(out)

    def groups(self) -> tuple[tuple[ColumnSpec, ...], ...]:
        clause = self.clause(ast.GroupBy) or (self.header[5] if self.header else None)
        levels: list[tuple[ColumnSpec, ...]] = [()]
        for level in clause.levels if clause else ():
            cols = [self.column(n, GROUPABLE, "'group by'") for n in level]
            if all(cols):
                levels.append(tuple(cols))  # type: ignore[arg-type]
        return tuple(dict.fromkeys(levels))

    def band_bound_fits(self, a: ast.Amount, kind: str) -> bool:
        """A band bound is a percentage (0-100%) for share measures, a count for counts."""
        want = "percent" if kind in SHARE_KINDS else "count"
        if a.kind != want:
            self.error("bands-arguments", f"band bound '{a.text}' must be a "
                       f"{_band_kind_word(kind)} for a {kind} measure", a.span,
                       f"write it as {a.text}%" if want == "percent" else None)
            return False
        if want == "percent" and not 0 <= a.value <= 1:
            self.error("bad-percentage", f"{a.text} is not between 0% and 100%", a.span)
            return False
        return True

    def bands_use(self, kind: str) -> ir.BandSet | None:
        use = self.clause(ast.BandsUse)
        if use is None:
            return None
        decl = self.c.bands.get(use.name.text)
        if decl is None and self.c.import_failed:  # perhaps declared in the failed import
            self.ok = False
            return None
        if decl is None:
            self.error("unknown-bands", f"no band set called '{use.name.text}'", use.name.span,
                       did_you_mean(use.name.text, self.c.bands) or
                       "import one (e.g. 'import cabinet_office') or declare it with 'bands'")
            return None
        if len(use.args) != len(decl.params):
            wanted = len(decl.params)
            self.error("bands-arguments", f"band set '{decl.name.text}' takes {wanted} lower "
                       f"bound{'s' if wanted != 1 else ''}, but {len(use.args)} "
                       f"{'is' if len(use.args) == 1 else 'are'} given", use.span,
                       f"write: bands {decl.name.text}({', '.join(p.text for p in decl.params)})"
                       if wanted else f"write: bands {decl.name.text}")
            return None
        args = {p.text: a for p, a in zip(decl.params, use.args)}
        fixed = [line.bound for line in decl.lines if isinstance(line.bound, ast.Amount)]
        if not all(self.band_bound_fits(a, kind) for a in (*use.args, *fixed)):
            return None
        bands = []
        for line in decl.lines:
            bound = args.get(line.bound.text) if isinstance(line.bound, ast.Name) else line.bound
            lower = bound.value if isinstance(bound, ast.Amount) else None
            bands.append(ir.Band(line.label.text, lower, line.passes))
        bounds = [b.lower for b in bands if b.lower is not None]
        if any(a <= b for a, b in zip(bounds, bounds[1:])):
            self.error("bands-order", "band lower bounds must strictly decrease from the first "
                       f"band to the last: {', '.join(a.text for a in use.args)}", use.span,
                       "give the bound of the best band first" + _highest_first(use.args))
            return None
        return ir.BandSet(decl.name.text, tuple(bands), decl.deciding)


def _band_kind_word(kind: str) -> str:
    return "percentage" if kind in SHARE_KINDS else "whole number"


def _highest_first(args: tuple[ast.Amount, ...]) -> str:
    """', e.g. (96%, 93.5%, 91%)' for bounds given in another order (nothing if equal ones)."""
    ordered = sorted(args, key=lambda a: a.value, reverse=True)
    if len({a.value for a in args}) < len(args) or not args:
        return ""
    return f": ({', '.join(a.text for a in ordered)})"


def _describe_operand(o: ast.Operand, kind: str) -> str:
    """An operand in words: "'referral_date' (a date column)", "the number 2024"."""
    return f"'{o.text}' (a {kind} column)" if o.kind == "column" else f"the {kind} {o.text}"


def _join_or(words: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _join_and(values: list[str]) -> str:
    """"'a'", "'a' and 'b'", "'a', 'b' and 'c'"."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _operand_kind(o: ir.Operand) -> str:
    if o.column is not None:
        return "date" if o.column.type is ColumnType.DATE else "number"
    return "number" if isinstance(o.value, int) else "date"
