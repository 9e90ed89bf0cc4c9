"""Check a parsed contract (names, types, units) and produce the typed IR of :mod:`pmir_dsl.ir`.

Every problem is collected as a located diagnostic and the checker carries on, so the author sees
all mistakes at once; :func:`check_file` raises one :class:`CompileError` with all of them.
Imports are resolved here, and only from the stdlib or the contract's own folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import attrs

from . import assumptions, ast, ir, source_warnings
from .calendar import REGIONS, CalendarSpec
from .diagnostics import CompileError, Diagnostic, Span, did_you_mean, render
from .check_measures import (TYPE_NAMES, MeasureChecker, _clause_word, _first_at,
                             _why_bad)
from .check_assurance import AssuranceChecker
from .check_rules import RuleChecker
from .date_formats import FormatError, compile_format
from .parse import parse, too_deep
from .schema import ColumnSpec, ColumnType, TableSpec
from .sources import NO_SUCH_FILE, SourceError, read_source
from .span import SPAN_TEXT, calendar_date, in_span


#: The longest table name: NAME.parquet must fit in a file name (255 bytes on most systems).
MAX_TABLE_NAME = 200
#: The longest chain of imports (a contract importing a module importing a module ...).
MAX_IMPORT_DEPTH = 50


def check_file(path: str | Path) -> ir.Contract:
    """Parse and check the contract at ``path``; raise :class:`CompileError` on any error."""
    path = Path(path)
    try:
        source = read_source(path)
    except SourceError as e:
        diag = Diagnostic("import-not-found", f"cannot read {path}: {e}", None)
        raise CompileError([diag], {}) from None
    return check_source(source, str(path), path.resolve().parent)


def check_source(source: str, file: str, folder: Path | None = None) -> ir.Contract:
    """Check contract ``source`` (named ``file``); imports by path resolve inside ``folder``."""
    checker = Checker(folder)
    try:
        contract = checker.run(source, file)
    except RecursionError:
        raise CompileError([too_deep(checker.sources)], checker.sources) from None
    if checker.errors or contract is None:
        raise CompileError(checker.errors + checker.warnings, checker.sources)
    shown = tuple(render(w, checker.sources) for w in checker.warnings)
    return attrs.evolve(contract, warnings=shown) if shown else contract


class Checker:
    """Collects declarations across a contract and its imports, then checks each one."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.sources: dict[str, str] = {}
        self.diagnostics: list[Diagnostic] = []
        self.tables: dict[str, tuple[ast.TableDecl, TableSpec]] = {}
        self.bands: dict[str, ast.BandsDecl] = {}
        self.loaded: set[str] = set()
        self.shown: dict[str, str] = {}  # a loaded file's identity -> its name in diagnostics
        self.main_file = ""
        self.import_failed = False  # then unknown tables and band sets may be the import's
        self.untyped: set[tuple[str, str]] = set()  # (table, column) declared with a bad type

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of error severity, in file order (once each)."""
        order = {f: i for i, f in enumerate(self.sources)}

        def where(d: Diagnostic) -> tuple[int, int, int]:
            s = d.span
            return (order.get(s.file, len(order)), s.line, s.column) if s else (len(order), 0, 0)

        unique = dict.fromkeys(d for d in self.diagnostics if d.severity == "error")
        return sorted(unique, key=where)

    @property
    def warnings(self) -> list[Diagnostic]:
        """The diagnostics of warning severity, in the order found (once each)."""
        return list(dict.fromkeys(d for d in self.diagnostics if d.severity == "warning"))

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        """Record an error diagnostic."""
        self.diagnostics.append(Diagnostic(code, message, span, hint))

    # ---- driver -------------------------------------------------------------------------------

    def run(self, source: str, file: str) -> ir.Contract | None:
        """Check the main file; None when it has no usable contract header."""
        self.main_file = file
        module = self._parse(source, file)
        if module is None:
            return None
        main = str((self.folder / Path(file).name).resolve()) if self.folder else file
        self.shown[main] = file
        items = list(self._with_imports(module, (main,)))
        contracts = [i for i in items if isinstance(i, ast.ContractDecl)]
        for item in items:
            self._declare(item)
        self._check_refs(items)
        header = self._header(contracts, file)
        measures = self._measures([i for i in items if isinstance(i, ast.MeasureDecl)], header)
        declared = frozenset(i.id.text for i in items if isinstance(i, ast.MeasureDecl))
        rules = RuleChecker(lambda c, m, s, h: self.error(c, m, s, h), measures, self.tables,
                            self._date, declared)
        self._unique_names([i for i in items if isinstance(i, (ast.RegimeDecl, ast.RemedyDecl,
                                                                 ast.ReviewDecl,
                                                                 ast.AssuranceDecl))])
        reviews = tuple(r for r in (rules.review(i) for i in items
                                    if isinstance(i, ast.ReviewDecl)) if r is not None)
        regimes = tuple(rules.regime(i) for i in items if isinstance(i, ast.RegimeDecl))
        remedies = tuple(r for r in (rules.remedy(i) for i in items
                                     if isinstance(i, ast.RemedyDecl)) if r is not None)
        assure = AssuranceChecker(lambda c, m, s, h: self.error(c, m, s, h), self.tables,
                                  rules.keys, self.sources)
        assurances = tuple(a for a in (assure.check(i) for i in items
                                       if isinstance(i, ast.AssuranceDecl)) if a is not None)
        if header is None:
            return None
        name, guidance, start, extract, calendar, _, _ = header
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        tables = tuple(spec for _, spec in self.tables.values())
        contract = ir.Contract(name, file, digest, guidance, start, extract, calendar, tables,
                               measures, regimes, remedies, reviews, assurances=assurances)
        return assumptions.attach(contract, self._assumptions(items))

    def _assumptions(self, items: list[object]) -> list[ir.Assumption]:
        """The ``assume`` clauses (each must say what is assumed)."""
        found = assumptions.collect(items, self.sources)
        for a in assumptions.empty(found):
            self.error("missing-clause", "an assumption must say which number the guidance "
                       "does not state, and why this one", Span(a.file, a.line, 1, a.line, 2),
                       'write e.g.: assume "3 months: the guidance gives no number"')
        return found

    def _unique_names(self, decls: list) -> None:  # type: ignore[type-arg]
        """Regimes and remedies each need their own name."""
        seen: dict[str, object] = {}
        for d in decls:
            if d.name.text in seen:
                self.error("duplicate-name", f"'{d.name.text}' is declared twice", d.name.span,
                           "give each regime, remedy, review and assurance its own name")
            seen.setdefault(d.name.text, d)

    def _parse(self, source: str, file: str) -> ast.Module | None:
        self.sources[file] = source
        module, diags = parse(source, file)
        self.diagnostics += diags + source_warnings.scan(source, file)
        return module

    def _with_imports(self, module: ast.Module, chain: tuple[str, ...]) -> Iterable[object]:
        """The module's declarations with those of its imports (recursively) before them.

        ``chain`` holds the identities of the files being imported, the main contract first.
        """
        for item in module.items:
            if isinstance(item, ast.Import):
                yield from self._import(item, chain)
            else:
                yield item

    def _import(self, imp: ast.Import, chain: tuple[str, ...]) -> Iterable[object]:
        found = self._resolve_import(imp)
        if found is None:
            self.import_failed = True
            return
        key, file, source = found
        self.shown[key] = file
        if key in chain:
            circle = " -> ".join(self.shown[k] for k in (*chain[chain.index(key):], key))
            self.error("import-cycle", f"these files import each other in a circle: {circle}",
                       imp.span, "a module may not import, directly or through another module, "
                       "a file that imports it")
            return
        if key in self.loaded:
            return
        if len(chain) > MAX_IMPORT_DEPTH:  # each level costs stack: stop long before Python's
            self.error("import-depth", f"imports nested more than {MAX_IMPORT_DEPTH} deep: "
                       f"{self._chain_text((*chain, key))}", imp.span,
                       "import the modules from the contract itself, or merge them")
            return
        self.loaded.add(key)
        module = self._parse(source, file)
        if module is None:
            return
        if any(isinstance(i, ast.ContractDecl) for i in module.items):
            self.error("duplicate-contract", f"the imported module {file} declares a contract; "
                       "only the main file may", imp.span,
                       "move the contract header out of the module, or import a module without one")
        body = [i for i in module.items if not isinstance(i, ast.ContractDecl)]
        yield from self._with_imports(ast.Module(module.file, tuple(body)), (*chain, key))

    def _chain_text(self, chain: tuple[str, ...]) -> str:
        """A chain of imports as 'a.pmir -> b.pmir -> ... -> z.pmir' (its first and last three)."""
        names = [self.shown.get(k, k) for k in chain]
        shown = names if len(names) <= 6 else [*names[:3], f"... ({len(names) - 6} more)",
                                                *names[-3:]]
        return " -> ".join(shown)

    def _resolve_import(self, imp: ast.Import) -> tuple[str, str, str] | None:
        """(identity, name in diagnostics, source) of an import, or None with a diagnostic."""
        if imp.is_path:
            return self._resolve_local(imp)
        name = imp.module.replace(".", "/") + ".pmir"
        stdlib = resources.files("pmir_dsl.stdlib")
        entry = stdlib.joinpath(name)
        if len(name) <= 200 and entry.is_file():
            return f"<stdlib>/{name}", f"<stdlib>/{name}", entry.read_text(encoding="utf-8")
        known = [p.name[:-5] for p in stdlib.iterdir() if p.name.endswith(".pmir")]
        hint = did_you_mean(imp.module, known) or f"the stdlib has: {', '.join(sorted(known))}"
        self.error("import-not-found", f"no stdlib module '{imp.module}'", imp.span, hint)
        return None

    def _resolve_local(self, imp: ast.Import) -> tuple[str, str, str] | None:
        if "\0" in imp.module or len(imp.module) > 200:
            self.error("import-not-found", f"cannot import {imp.module[:40]!r}: not a file name",
                       imp.span, "name a .pmir file beside the contract")
            return None
        rel = Path(imp.module)
        if rel.is_absolute() or ".." in rel.parts or self.folder is None:
            self.error("import-outside", f"cannot import '{imp.module}': a contract may import "
                       "only the stdlib and files in its own folder", imp.span,
                       "copy the file next to the contract and import it by its name")
            return None
        folder = self.folder.resolve()
        try:
            target = (folder / rel).resolve()
        except (RuntimeError, OSError):  # a symbolic link that loops
            self.error("import-not-found", f"cannot import '{imp.module}': a symbolic link that "
                       "loops", imp.span, "point the link at a file, or copy the file here")
            return None
        if folder not in target.parents:
            self.error("import-outside", f"cannot import '{imp.module}': it leads outside the "
                       "contract's folder", imp.span,
                       "copy the file next to the contract and import it by its name")
            return None
        try:
            source = read_source(folder / rel)  # bounded; a pipe or device is never opened
        except SourceError as e:
            where = " beside the contract" if str(e) == NO_SUCH_FILE else ""
            self.error("import-not-found", f"cannot import '{imp.module}': {e}{where}", imp.span,
                       "a path is read from the contract's own folder; check its spelling")
            return None
        return str(target), self._shown(rel, target), source

    def _shown(self, rel: Path, target: Path) -> str:
        """How diagnostics name an imported file: beside the contract's name, never absolute."""
        beside = Path(self.main_file).parent / rel
        return str(beside) if beside.resolve() == target else rel.as_posix()

    # ---- declarations -------------------------------------------------------------------------

    def _declare(self, item: object) -> None:
        if isinstance(item, ast.TableDecl):
            if item.name.text in self.tables:
                self.error("duplicate-name", f"table '{item.name.text}' is declared twice",
                           item.name.span, _first_at(self.tables[item.name.text][0].name,
                                                         item.name))
                return
            if len(item.name.text) > MAX_TABLE_NAME:  # its file name must fit the file system
                self.error("long-name", f"the table name is {len(item.name.text)} characters long;"
                           f" a table's file is named after it, so at most {MAX_TABLE_NAME}",
                           item.name.span, "use a shorter name, e.g. 'referrals'")
            self.tables[item.name.text] = (item, self._table(item))
        elif isinstance(item, ast.BandsDecl):
            if item.name.text in self.bands:
                self.error("duplicate-name", f"band set '{item.name.text}' is declared twice",
                           item.name.span, _first_at(self.bands[item.name.text].name, item.name))
                return
            self._check_band_lines(item)
            self.bands[item.name.text] = item

    def _table(self, decl: ast.TableDecl) -> TableSpec:
        columns: dict[str, ColumnSpec] = {}
        first: dict[str, ast.Name] = {}
        for c in decl.clauses:
            if not isinstance(c, ast.ColumnDecl):
                continue
            if c.name.text in first:
                self.error("duplicate-name", f"column '{c.name.text}' is declared twice in "
                           f"table '{decl.name.text}'", c.name.span,
                           _first_at(first[c.name.text], c.name))
                continue
            first[c.name.text] = c.name
            spec = self._dated(self._column(c), c.type.date_format or decl.dates, c)
            if spec is not None:
                columns[c.name.text] = spec
            else:  # reported once here, not again wherever the column is used
                self.untyped.add((decl.name.text, c.name.text))
        return TableSpec(decl.name.text, tuple(columns.values()), self._orders(decl, columns))

    def _dated(self, spec: ColumnSpec | None, written: ast.Text | None, c: ast.ColumnDecl
               ) -> ColumnSpec | None:
        """A date column with the format it is declared with (its own, else its table's)."""
        if spec is None or written is None:
            return spec
        if spec.type is not ColumnType.DATE:
            if c.type.date_format is not None:  # a table's format is for its date columns only
                self.error("type-mismatch", f"a format is for date columns; '{c.name.text}' is "
                           f"{spec.type.value}", c.type.date_format.span,
                           f"write {c.name.text}: {c.type.name.text}")
            return spec
        try:
            shape = compile_format(written.text)
        except FormatError as e:
            self.error("bad-date-format", f"the date format '{written.text}' {e}", written.span,
                       'write e.g. "DD/MM/YYYY", "D/M/YYYY", "DD-MMM-YYYY" or "YYYY-MM-DD"')
            return spec
        iso = shape.strptime == "%Y-%m-%d" and "{1,2}" not in shape.shape
        return spec if iso else attrs.evolve(spec, date_format=written.text)

    def _orders(self, decl: ast.TableDecl, columns: dict[str, ColumnSpec]
                ) -> tuple[tuple[str, str], ...]:
        """The table's 'LATER not before EARLIER' pairs, both declared date columns."""
        out = []
        for c in decl.clauses:
            if not isinstance(c, ast.OrderDecl):
                continue
            ok = True
            for n in (c.later, c.earlier):
                col = columns.get(n.text)
                if col is None or col.type is not ColumnType.DATE:
                    found = f"a {col.type.value} column" if col else "not a column of it"
                    self.error("type-mismatch", f"'not before' compares two date columns of "
                               f"table '{decl.name.text}'; '{n.text}' is {found}", n.span,
                               did_you_mean(n.text, [k for k, v in columns.items()
                                                     if v.type is ColumnType.DATE]))
                    ok = False
            if ok:
                out.append((c.later.text, c.earlier.text))
        return tuple(out)

    def _column(self, c: ast.ColumnDecl) -> ColumnSpec | None:
        t = c.type
        if t.categories:
            values = [v.text for v in t.categories]
            for i, v in enumerate(t.categories):
                if v.text in values[:i]:
                    self.error("duplicate-name", f"category value '{v.text}' is listed twice",
                               v.span)
            return ColumnSpec(c.name.text, ColumnType.CATEGORY, c.nullable, tuple(dict.fromkeys(values)))
        if t.references is not None:
            return ColumnSpec(c.name.text, ColumnType.REF, c.nullable,
                              references=t.references.text)
        typ = TYPE_NAMES.get(t.name.text)
        if typ is None or typ is ColumnType.REF:
            names = [n for n in TYPE_NAMES if n != "ref"]
            hint = did_you_mean(t.name.text, [*names, "category"]) or \
                "types are: " + ", ".join([*names, "category(a, b, ...)", "ref(TABLE)"])
            self.error("unknown-type", f"unknown column type '{t.name.text}'", t.name.span, hint)
            return None
        return ColumnSpec(c.name.text, typ, c.nullable)

    def _check_refs(self, items: list[object]) -> None:
        """Every ``ref(TABLE)`` names a declared table that has an id column."""
        for item in items:
            if not isinstance(item, ast.TableDecl):
                continue
            for c in item.clauses:
                ref = c.type.references if isinstance(c, ast.ColumnDecl) else None
                if ref is None:
                    continue
                target = self.lookup_table(ref)
                if target and not any(col.type is ColumnType.ID for col in target.columns):
                    self.error("type-mismatch", f"table '{ref.text}' has no id column for "
                               f"'{c.name.text}' to refer to", ref.span,
                               f"declare an id column in '{ref.text}', e.g. {ref.text}_id: id")

    def _check_band_lines(self, decl: ast.BandsDecl) -> None:
        lines = decl.lines
        early = [line for line in lines[:-1] if line.bound is None]
        for line in early:
            self.error("bands-order", f"'{line.label.text}' is an 'otherwise' band but is not the "
                       f"last band of '{decl.name.text}'", line.span,
                       "move the 'otherwise' band to the end: it catches every value below the "
                       "bands above it")
        if not early and (not lines or lines[-1].bound is not None):
            span = lines[-1].span if lines else decl.name.span
            self.error("bands-order", f"band set '{decl.name.text}' must end with an "
                       "'otherwise' band that catches every lower value", span,
                       'add a last line such as: "Inadequate" otherwise')
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
            self.error("duplicate-contract", "a file may declare only one contract", extra.span,
                       _first_at(contracts[0].name, extra.name) + "; put shared tables and band "
                       "sets in a module and import it")
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
        if not calendar_date(lit.text):
            self.error("bad-date", f"'{lit.text}' is not a calendar date: {_why_bad(lit.text)}",
                       lit.span, "dates are written YYYY-MM-DD, e.g. 2024-04-01")
            return None
        if not in_span(lit.text):  # a far date would stretch the month axis over centuries
            self.error("bad-date", f"'{lit.text}' is outside the dates pmirc evaluates "
                       f"({SPAN_TEXT})", lit.span, "correct the year (docs/reliability.md)")
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
        seen: dict[str, ast.Name] = {}
        for decl in decls:
            if decl.id.text in seen:
                self.error("duplicate-name", f"measure '{decl.id.text}' is declared twice",
                           decl.id.span, _first_at(seen[decl.id.text], decl.id) +
                           "; give each measure its own id")
                continue
            seen[decl.id.text] = decl.id
            m = MeasureChecker(self, decl, header).check()
            if m is not None:
                out.append(m)
        return tuple(out)

    def lookup_table(self, name: ast.Name) -> TableSpec | None:
        """The declared table ``name``, or None with an unknown-table diagnostic."""
        found = self.tables.get(name.text)
        if found is None and self.import_failed:  # perhaps declared in the failed import
            return None
        if found is None:
            self.error("unknown-table", f"no table called '{name.text}'", name.span,
                       did_you_mean(name.text, self.tables) or
                       ("declared tables: " + ", ".join(self.tables) if self.tables
                        else "declare it with: table NAME { column: type ... }"))
            return None
        return found[1]
