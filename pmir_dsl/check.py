"""Check a parsed contract (names, types, units) and produce the typed IR of :mod:`pmir_dsl.ir`.

Every problem is collected as a located diagnostic and the checker carries on, so the author sees
all mistakes at once; :func:`check_file` raises one :class:`CompileError` with all of them.
Imports are resolved here, and only from the stdlib or the contract's own folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import numpy as np

from . import ast, ir
from .calendar import REGIONS, CalendarSpec
from .diagnostics import CompileError, Diagnostic, Span, did_you_mean
from .parse import parse
from .schema import ColumnSpec, ColumnType, TableSpec

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
DEFAULT_BASES = ("in_month",)
SINGLE_CLAUSES = (ast.Population, ast.PeriodOf, ast.MetWhen, ast.CountWhen, ast.Ratio,
                  ast.Target, ast.Bases, ast.GroupBy, ast.BandsUse)


def check_file(path: str | Path) -> ir.Contract:
    """Parse and check the contract at ``path``; raise :class:`CompileError` on any error."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        diag = Diagnostic("import-not-found", f"cannot read {path}: {e}", None)
        raise CompileError([diag], {}) from None
    return check_source(source, str(path), path.resolve().parent)


def check_source(source: str, file: str, folder: Path | None = None) -> ir.Contract:
    """Check contract ``source`` (named ``file``); imports by path resolve inside ``folder``."""
    checker = Checker(folder)
    contract = checker.run(source, file)
    if checker.errors or contract is None:
        raise CompileError(checker.errors, checker.sources)
    return contract


class Checker:
    """Collects declarations across a contract and its imports, then checks each one."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.sources: dict[str, str] = {}
        self.diagnostics: list[Diagnostic] = []
        self.tables: dict[str, tuple[ast.TableDecl, TableSpec]] = {}
        self.bands: dict[str, ast.BandsDecl] = {}
        self.loaded: set[str] = set()

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of error severity."""
        return [d for d in self.diagnostics if d.severity == "error"]

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        """Record an error diagnostic."""
        self.diagnostics.append(Diagnostic(code, message, span, hint))

    # ---- driver -------------------------------------------------------------------------------

    def run(self, source: str, file: str) -> ir.Contract | None:
        """Check the main file; None when it has no usable contract header."""
        module = self._parse(source, file)
        if module is None:
            return None
        items = list(self._with_imports(module))
        contracts = [i for i in items if isinstance(i, ast.ContractDecl)]
        for item in items:
            self._declare(item)
        header = self._header(contracts, file)
        measures = self._measures([i for i in items if isinstance(i, ast.MeasureDecl)], header)
        if header is None:
            return None
        name, guidance, start, extract, calendar, _, _ = header
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        tables = tuple(spec for _, spec in self.tables.values())
        return ir.Contract(name, file, digest, guidance, start, extract, calendar, tables, measures)

    def _parse(self, source: str, file: str) -> ast.Module | None:
        self.sources[file] = source
        module, diags = parse(source, file)
        self.diagnostics += diags
        return module

    def _with_imports(self, module: ast.Module, chain: tuple[str, ...] = ()) -> Iterable[object]:
        """The module's declarations with those of its imports (recursively) before them."""
        for item in module.items:
            if isinstance(item, ast.Import):
                yield from self._import(item, chain + (module.file,))
            else:
                yield item

    def _import(self, imp: ast.Import, chain: tuple[str, ...]) -> Iterable[object]:
        found = self._resolve_import(imp)
        if found is None:
            return
        file, source = found
        if file in chain:
            self.error("import-cycle", f"'{imp.module}' imports itself through {chain[-1]}", imp.span)
            return
        if file in self.loaded:
            return
        self.loaded.add(file)
        module = self._parse(source, file)
        if module is not None:
            if any(isinstance(i, ast.ContractDecl) for i in module.items):
                self.error("duplicate-contract", f"an imported module ({file}) may not declare a "
                           "contract", imp.span)
            yield from self._with_imports(module, chain)

    def _resolve_import(self, imp: ast.Import) -> tuple[str, str] | None:
        """(file name, source) of an import, or None with a diagnostic."""
        if imp.is_path:
            return self._resolve_local(imp)
        name = imp.module.replace(".", "/") + ".pmir"
        stdlib = resources.files("pmir_dsl.stdlib")
        entry = stdlib.joinpath(name)
        if entry.is_file():
            return f"<stdlib>/{name}", entry.read_text(encoding="utf-8")
        known = [p.name[:-5] for p in stdlib.iterdir() if p.name.endswith(".pmir")]
        hint = did_you_mean(imp.module, known) or f"the stdlib has: {', '.join(sorted(known))}"
        self.error("import-not-found", f"no stdlib module '{imp.module}'", imp.span, hint)
        return None

    def _resolve_local(self, imp: ast.Import) -> tuple[str, str] | None:
        rel = Path(imp.module)
        if rel.is_absolute() or ".." in rel.parts or self.folder is None:
            self.error("import-outside", f"cannot import '{imp.module}': a contract may import "
                       "only the stdlib and files in its own folder", imp.span,
                       "copy the file next to the contract and import it by its name")
            return None
        target = (self.folder / rel).resolve()
        if self.folder.resolve() not in target.parents or not target.is_file():
            code = "import-outside" if self.folder.resolve() not in target.parents else \
                "import-not-found"
            self.error(code, f"cannot import '{imp.module}': no such file beside the contract",
                       imp.span)
            return None
        return str(target), target.read_text(encoding="utf-8-sig")

    # ---- declarations -------------------------------------------------------------------------

    def _declare(self, item: object) -> None:
        if isinstance(item, ast.TableDecl):
            if item.name.text in self.tables:
                self.error("duplicate-name", f"table '{item.name.text}' is declared twice",
                           item.name.span)
                return
            self.tables[item.name.text] = (item, self._table(item))
        elif isinstance(item, ast.BandsDecl):
            if item.name.text in self.bands:
                self.error("duplicate-name", f"band set '{item.name.text}' is declared twice",
                           item.name.span)
                return
            self._check_band_lines(item)
            self.bands[item.name.text] = item

    def _table(self, decl: ast.TableDecl) -> TableSpec:
        columns: dict[str, ColumnSpec] = {}
        for c in decl.clauses:
            if not isinstance(c, ast.ColumnDecl):
                continue
            if c.name.text in columns:
                self.error("duplicate-name", f"column '{c.name.text}' is declared twice in "
                           f"table '{decl.name.text}'", c.name.span)
                continue
            spec = self._column(c)
            if spec is not None:
                columns[c.name.text] = spec
        return TableSpec(decl.name.text, tuple(columns.values()))

    def _column(self, c: ast.ColumnDecl) -> ColumnSpec | None:
        t = c.type
        if t.categories:
            values = [v.text for v in t.categories]
            for i, v in enumerate(t.categories):
                if v.text in values[:i]:
                    self.error("duplicate-name", f"category value '{v.text}' is listed twice",
                               v.span)
            return ColumnSpec(c.name.text, ColumnType.CATEGORY, c.nullable, tuple(dict.fromkeys(values)))
        typ = TYPE_NAMES.get(t.name.text)
        if typ is None:
            hint = did_you_mean(t.name.text, [*TYPE_NAMES, "category"]) or \
                "types are: " + ", ".join([*TYPE_NAMES, "category(a, b, ...)"])
            self.error("unknown-type", f"unknown column type '{t.name.text}'", t.name.span, hint)
            return None
        return ColumnSpec(c.name.text, typ, c.nullable)

    def _check_band_lines(self, decl: ast.BandsDecl) -> None:
        lines = decl.lines
        if not lines or lines[-1].bound is not None:
            span = lines[-1].span if lines else decl.name.span
            self.error("bands-order", f"band set '{decl.name.text}' must end with an "
                       "'otherwise' band that catches every lower value", span,
                       'add a last line such as: "Inadequate" otherwise')
        for line in lines[:-1]:
            if line.bound is None:
                self.error("bands-order", "only the last band may be 'otherwise'", line.span)
        params = {p.text for p in decl.params}
        for line in lines:
            if isinstance(line.bound, ast.Name) and line.bound.text not in params:
                self.error("unknown-bands", f"'{line.bound.text}' is not a parameter of band set "
                           f"'{decl.name.text}'", line.bound.span,
                           did_you_mean(line.bound.text, params))

    # ---- contract header ----------------------------------------------------------------------

    def _header(self, contracts: list[ast.ContractDecl], file: str):  # type: ignore[no-untyped-def]
        """(name, guidance, start, extract, calendar, default groups, default bases) or None."""
        if not contracts:
            self.error("no-contract", "this file has no contract header", Span(file, 1, 1, 1, 2),
                       'begin with: contract "Name" { service start YYYY-MM-DD }')
            return None
        for extra in contracts[1:]:
            self.error("duplicate-contract", "a file may declare only one contract", extra.span)
        decl = contracts[0]
        self._once(decl.clauses, (ast.ServiceStart, ast.CalendarClause, ast.ExtractDate,
                                  ast.GroupBy, ast.Bases))
        clauses = {type(c): c for c in reversed(decl.clauses)}
        start = clauses.get(ast.ServiceStart)
        if start is None:
            self.error("missing-clause", "the contract has no 'service start' date", decl.span,
                       "add: service start YYYY-MM-DD (cumulative figures count from it)")
        start_text = self._date(start.date) if start else None
        extract = clauses.get(ast.ExtractDate)
        extract_text = self._date(extract.date) if extract else None
        calendar = self._calendar(decl.clauses)
        cite = clauses.get(ast.Cite)
        guidance = cite.text.text if cite else ""
        if start_text is None:
            return None
        return (decl.name.text, guidance, start_text, extract_text, calendar,
                clauses.get(ast.GroupBy), clauses.get(ast.Bases))

    def _calendar(self, clauses: tuple[object, ...]) -> CalendarSpec:
        region = "england_and_wales"
        added, removed = [], []
        for c in clauses:
            if isinstance(c, ast.CalendarClause):
                if c.name.text in REGIONS:
                    region = c.name.text
                else:
                    self.error("unknown-calendar", f"unknown calendar '{c.name.text}'", c.name.span,
                               did_you_mean(c.name.text, REGIONS) or
                               "calendars are: " + ", ".join(REGIONS))
            elif isinstance(c, ast.HolidayChange):
                d = self._date(c.date)
                if d:
                    (added if c.add else removed).append(d)
        return CalendarSpec(region, tuple(sorted(added)), tuple(sorted(removed)))

    def _date(self, lit: ast.DateLit) -> str | None:
        try:
            value = np.datetime64(lit.text, "D")
        except ValueError:
            value = None
        if value is None or str(value) != lit.text:
            self.error("bad-date", f"'{lit.text}' is not a calendar date", lit.span,
                       "dates are written YYYY-MM-DD")
            return None
        return lit.text

    def _once(self, clauses: Iterable[object], kinds: tuple[type, ...]) -> None:
        seen: set[type] = set()
        for c in clauses:
            if type(c) in kinds:
                if type(c) in seen:
                    self.error("duplicate-clause", f"'{_clause_word(c)}' is given twice",
                               getattr(c, "span", None), "keep one")
                seen.add(type(c))

    # ---- measures -----------------------------------------------------------------------------

    def _measures(self, decls: list[ast.MeasureDecl], header) -> tuple[ir.Measure, ...]:  # type: ignore[no-untyped-def]
        out: list[ir.Measure] = []
        seen: set[str] = set()
        for decl in decls:
            if decl.id.text in seen:
                self.error("duplicate-name", f"measure '{decl.id.text}' is declared twice",
                           decl.id.span)
                continue
            seen.add(decl.id.text)
            m = MeasureChecker(self, decl, header).check()
            if m is not None:
                out.append(m)
        return tuple(out)

    def lookup_table(self, name: ast.Name) -> TableSpec | None:
        """The declared table ``name``, or None with an unknown-table diagnostic."""
        found = self.tables.get(name.text)
        if found is None:
            self.error("unknown-table", f"no table called '{name.text}'", name.span,
                       did_you_mean(name.text, self.tables) or
                       ("declared tables: " + ", ".join(self.tables) if self.tables
                        else "declare it with: table NAME { column: type ... }"))
            return None
        return found[1]


def _clause_word(c: object) -> str:
    words = {ast.ServiceStart: "service start", ast.CalendarClause: "calendar",
             ast.ExtractDate: "extract date", ast.GroupBy: "group by", ast.Bases: "bases",
             ast.Population: "population", ast.PeriodOf: "month of / quarter of",
             ast.MetWhen: "met when", ast.CountWhen: "count when", ast.Ratio: "ratio",
             ast.Target: "target", ast.BandsUse: "bands"}
    return words.get(type(c), type(c).__name__)


class MeasureChecker:
    """Checks one measure declaration against its population table."""

    def __init__(self, checker: Checker, decl: ast.MeasureDecl, header):  # type: ignore[no-untyped-def]
        self.c = checker
        self.decl = decl
        self.header = header
        self.table: TableSpec | None = None
        self.ok = True

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
        bases = self.bases(period[1] if period else "month")
        groups = self.groups()
        bands = self.bands_use(kind)
        cite = self.clause(ast.Cite)
        if not self.ok or period is None or target is None:
            return None
        return ir.Measure(d.id.text, d.title.text, cite.text.text if cite else "", self.table.name,
                          where, period[0], period[1], kind, condition, window, ratio, target,
                          bases, groups, bands, d.span)

    # -- columns

    def column(self, name: ast.Name, types: tuple[ColumnType, ...] | None = None,
               what: str = "") -> ColumnSpec | None:
        """The population table's column ``name``, checked against ``types``."""
        assert self.table is not None
        col = self.table.column(name.text)
        if col is None:
            names = [c.name for c in self.table.columns]
            self.error("unknown-column", f"table '{self.table.name}' has no column '{name.text}'",
                       name.span, did_you_mean(name.text, names) or
                       "its columns are: " + ", ".join(names))
            return None
        if types is not None and col.type not in types:
            allowed = " or ".join(t.value for t in types)
            self.error("type-mismatch", f"'{name.text}' is a {col.type.value} column; {what} "
                       f"needs a {allowed} column", name.span)
            return None
        return col

    def period(self) -> tuple[ColumnSpec, str] | None:
        p = self.clause(ast.PeriodOf)
        if p is None:
            self.error("missing-clause", f"measure {self.decl.id.text} does not say which period "
                       "a record counts in", self.decl.id.span,
                       "add: month of DATE_COLUMN (or quarter of COLUMN)")
            return None
        col = self.column(p.column, PERIOD_SOURCES[p.unit], f"'{p.unit} of'")
        return (col, p.unit) if col else None

    # -- what the measure counts

    def kind(self):  # type: ignore[no-untyped-def]
        met, count, ratio = (self.clause(k) for k in (ast.MetWhen, ast.CountWhen, ast.Ratio))
        given = [x for x in (met, count, ratio) if x is not None]
        if len(given) != 1:
            span = given[1].span if len(given) > 1 else self.decl.id.span
            self.error("measure-kind", f"measure {self.decl.id.text} must say exactly one of "
                       "'met when', 'count when' or 'ratio sum A over sum B'", span)
            return "rate", None, None, None
        if ratio is not None:
            num = self.column(ratio.numerator, NUMERIC, "'ratio sum'")
            den = self.column(ratio.denominator, NUMERIC, "'ratio sum'")
            return "ratio", None, None, (num, den) if num and den else None
        clause = met or count
        kind = "rate" if met is not None else "count"
        if isinstance(clause.cond, ast.WINDOWS):
            return kind, None, self.window(clause.cond), None
        return kind, self.condition(clause.cond), None, None

    def window(self, w):  # type: ignore[no-untyped-def]
        if isinstance(w, ast.ByDeadline):
            event = self.column(w.event, DATE_LIKE, "'on or before'")
            period = self.column(w.deadline.period, (ColumnType.MONTH, ColumnType.QUARTER,
                                                     ColumnType.PERIOD), "a deadline")
            if not 1 <= w.deadline.day <= 28:
                self.error("bad-amount", f"day {w.deadline.day} of a month is not in every month",
                           w.deadline.span, "use a day from 1st to 28th")
            if event and period:
                return ir.OnOrBeforeDeadline(event, period, w.deadline.day, w.deadline.roll_forward)
            return None
        event = self.column(w.event, DATE_LIKE, "'within'")
        anchor = self.column(w.anchor, DATE_LIKE, "'within ... of'")
        days = self.days(w.days)
        if event and anchor and days is not None:
            return ir.WithinDays(event, anchor, days, w.unit == "working")
        return None

    def days(self, days):  # type: ignore[no-untyped-def]
        if isinstance(days, int):
            return days
        col = self.column(days.column, (ColumnType.CATEGORY,), "days 'by'")
        if col is None:
            return None
        table: dict[str, int] = {}
        otherwise = None
        for case in days.cases:
            if case.value is None:
                otherwise = case.days
                continue
            if case.value.text not in col.categories:
                self.error("unknown-category", f"'{case.value.text}' is not a value of "
                           f"'{col.name}'", case.value.span, did_you_mean(case.value.text,
                                                                         col.categories))
            elif case.value.text in table:
                self.error("duplicate-case", f"'{case.value.text}' is given days twice",
                           case.value.span)
            table[case.value.text] = case.days
        missing = [v for v in col.categories if v not in table]
        if missing and otherwise is None:
            self.error("incomplete-cases", f"no days for {', '.join(map(repr, missing))} of "
                       f"'{col.name}'", days.span, "add a case for each, or 'otherwise N'")
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

    def cond_Flag(self, cond):  # type: ignore[no-untyped-def]  # noqa: N802
        col = self.column(cond.column, (ColumnType.BOOL,), "a condition on its own")
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
        kinds = {_operand_kind(left), _operand_kind(right)}
        if len(kinds) != 1:
            self.error("type-mismatch", "a comparison needs two numbers or two dates",
                       cond.span)
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
        if t is None:
            self.error("missing-clause", f"measure {self.decl.id.text} has no target",
                       self.decl.id.span, "add e.g.: target at least 96%")
            return None
        a = t.amount
        share = kind in ("rate", "ratio")
        if share and a.kind != "percent":
            self.error("target-kind", f"a {kind} measure's target is a percentage, not "
                       f"'{a.text}'", a.span, f"write it as {a.text}%")
            return None
        if not share and a.kind != "count":
            self.error("target-kind", f"a count measure's target is a whole number, not "
                       f"'{a.text}'", a.span)
            return None
        if a.kind == "percent" and not 0 <= a.value <= 1:
            self.error("bad-percentage", f"{a.text} is not between 0% and 100%", a.span)
            return None
        return ir.Target(t.op, a.value, share, f"{t.op.replace('_', ' ')} {a.text}")

    def bases(self, unit: str) -> tuple[str, ...]:
        clause = self.clause(ast.Bases) or (self.header[6] if self.header else None)
        if clause is None:
            return ("quarter",) if unit == "quarter" else DEFAULT_BASES
        out = []
        for n in clause.names:
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

    def bands_use(self, kind: str) -> ir.BandSet | None:
        use = self.clause(ast.BandsUse)
        if use is None:
            return None
        decl = self.c.bands.get(use.name.text)
        if decl is None:
            self.error("unknown-bands", f"no band set called '{use.name.text}'", use.name.span,
                       did_you_mean(use.name.text, self.c.bands) or
                       "import one (e.g. 'import cabinet_office') or declare it with 'bands'")
            return None
        if len(use.args) != len(decl.params):
            self.error("bands-arguments", f"band set '{decl.name.text}' takes "
                       f"{len(decl.params)} bound(s), given {len(use.args)}", use.span,
                       f"{decl.name.text}({', '.join(p.text for p in decl.params)})")
            return None
        args = {p.text: a for p, a in zip(decl.params, use.args)}
        bands = []
        for line in decl.lines:
            bound = args.get(line.bound.text) if isinstance(line.bound, ast.Name) else line.bound
            lower = bound.value if isinstance(bound, ast.Amount) else None
            bands.append(ir.Band(line.label.text, lower, line.passes))
        bounds = [b.lower for b in bands if b.lower is not None]
        if any(a <= b for a, b in zip(bounds, bounds[1:])):
            self.error("bands-order", "band lower bounds must strictly decrease from the first "
                       f"band to the last: {', '.join(a.text for a in use.args)}", use.span)
            return None
        return ir.BandSet(decl.name.text, tuple(bands), decl.deciding)


def _operand_kind(o: ir.Operand) -> str:
    if o.column is not None:
        return "date" if o.column.type is ColumnType.DATE else "number"
    return "number" if isinstance(o.value, int) else "date"


