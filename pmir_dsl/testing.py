"""Run rule tests (``*.pmirtest`` files): ``pmirc test``.

Each test's tables are written out as CSV files and read back by :func:`pmir_dsl.load.load_tables`,
the loader ``pmirc check`` uses, so a test's records obey exactly the rules a data file does (a
bad date in a test is the same error as in a CSV, reported at the test's line and cell). The
contract is evaluated by :func:`pmir_dsl.pipeline.evaluate` and records' verdicts are read with
:func:`pmir_dsl.audit.audit_rows`, so a test sees what ``pmirc check`` and ``pmirc audit`` show.

Decisions (docs/authoring.md):

* A table a test does not write is empty; a column its header leaves out is empty when the
  contract marks it optional ('?'), and an error when it is required.
* Numbers and percentages are compared at the precision written: ``value 95.8%`` holds for any
  value that rounds (half up) to 95.8%. ``met`` / ``failed`` are decided exactly by the engine,
  so an edge such as 24 of 25 against 96% is tested with ``24 of 25, met``.
* A text expected of a list field (a level's ``reasons``) holds when one element equals it;
  ``reasons contains "CSS1"`` holds when one element contains it.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from .diagnostics import CompileError, Span, did_you_mean, render
from .errors import DataError, DataProblem
from .testfile import Check, Expect, InlineTable, Literal, TestCase, TestDiagnostic, \
    TestFile, TestFileError, read_test_file

VERDICTS = ("met", "failed", "pending", "excluded")


@attrs.frozen
class Failure:
    """An expectation that did not hold: where, which test, what was expected and what came."""

    span: Span
    test: str
    subject: str
    field: str
    expected: str
    got: str

    def render(self) -> str:
        """``file:line:col: test "name": subject: field: expected X, got Y``."""
        return (f"{self.span}: FAILED test \"{self.test}\": {self.subject}: {self.field}: "
                f"expected {self.expected}, got {self.got}")


@attrs.frozen
class TestRun:
    """What running one test gave: its evaluation (None if it could not run), failures, and the
    number of checks made."""

    test: TestCase
    evaluation: Any
    failures: tuple[Failure, ...]
    checks: int
    observed: tuple[tuple[Expect, Any], ...] = ()  # each expectation and the row it was checked on


@attrs.frozen
class FileRun:
    """The runs of every test in one file."""

    file: TestFile
    runs: tuple[TestRun, ...]

    @property
    def failures(self) -> list[Failure]:
        """Every failure, in file order."""
        return [f for r in self.runs for f in r.failures]


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The ``*.pmirtest`` files named or found (recursively, sorted) under ``paths``."""
    found: list[Path] = []
    for p in map(Path, paths):
        found += sorted(p.rglob("*.pmirtest")) if p.is_dir() else [p]
    return found


def contract_path(tf: TestFile) -> Path:
    """The contract a test file tests: its ``contract "..."`` line (relative to the test file),
    else the ``.pmir`` file of the same name beside it."""
    return Path(tf.path).parent / tf.contract


def load_plan(tf: TestFile, cache: dict[Path, Any] | None = None) -> Any:
    """The compiled contract of ``tf`` (raises TestFileError if it is missing, CompileError if
    it does not compile)."""
    from .pipeline import compile_file

    path = contract_path(tf)
    if not path.is_file():
        raise TestFileError([TestDiagnostic(
            "test-contract", f"the contract {path} does not exist", tf.contract_span,
            "name it with a line: contract \"file.pmir\" (relative to the test file)")],
            {tf.path: tf.source})
    if cache is not None and path in cache:
        return cache[path]
    plan = compile_file(path)
    if cache is not None:
        cache[path] = plan
    return plan


def run_file(path: str | Path, cache: dict[Path, Any] | None = None) -> FileRun:
    """Parse, check and run every test of the file at ``path``.

    Raises TestFileError for a malformed test (exit 2), CompileError for a broken contract."""
    tf = read_test_file(path)
    plan = load_plan(tf, cache)
    problems = check_names(tf, plan)
    if problems:
        raise TestFileError(problems, {tf.path: tf.source})
    return FileRun(tf, tuple(run_test(tf, t, plan) for t in tf.tests))


# ---- static checks of names -------------------------------------------------------------------


def check_names(tf: TestFile, plan: Any) -> list[TestDiagnostic]:
    """Diagnostics for names the contract does not have: tables, columns, measures, bases,
    group keys, regimes and remedies."""
    c = plan.contract
    out = [d for t in (*tf.tables, *(t for case in tf.tests for t in case.tables))
           for d in _table_names(t, c)]
    for case in tf.tests:
        out += [d for e in case.expects for d in _expect_names(e, plan)]
        if case.as_of is not None and not as_date(case.as_of):
            out.append(TestDiagnostic("test-name", f"{case.as_of} is not a real calendar date",
                                      case.span, "write the as-of date YYYY-MM-DD"))
    return out


def _unknown(what: str, name: str, span: Span | None, names: Iterable[str]) -> TestDiagnostic:
    names = list(names)
    hint = did_you_mean(name, names) or f"the contract has: {', '.join(names) or 'none'}"
    return TestDiagnostic("test-name", f"no {what} '{name}' in the contract", span, hint)


def _table_names(t: InlineTable, contract: Any) -> list[TestDiagnostic]:
    tables = {s.name: s for s in contract.tables}
    if t.name not in tables:
        return [_unknown("table", t.name, t.span, tables)]
    cols = [c.name for c in tables[t.name].columns]
    out = [_unknown(f"column of table {t.name} called", str(h.text), h.span, cols)
           for h in t.header if h.text not in cols]
    seen: set[str] = set()
    for h in t.header:
        if h.text in seen:
            out.append(TestDiagnostic("test-table", f"column '{h.text}' is named twice", h.span))
        seen.add(str(h.text))
    return out


def _expect_names(e: Expect, plan: Any) -> list[TestDiagnostic]:
    c = plan.contract
    if e.kind in ("record", "figure"):
        ids = [mp.measure.id for mp in plan.measures]
        if e.name not in ids:
            return [_unknown("measure", e.name, e.name_span, ids)]
        m = plan.measure(e.name).measure
        if e.kind == "record":
            return []
        out = []
        bases = (*m.bases, *getattr(m, "information", ()))  # information bases have figures too
        if e.basis not in bases:
            out.append(_unknown(f"basis of {m.id} called", str(e.basis), e.basis_span, bases))
        levels = [tuple(s.name for s in level) for level in m.groups]
        keys = tuple(k for k, _ in e.group)
        if sorted(keys) not in [sorted(level) for level in levels]:
            shown = "; ".join(" and ".join(level) or "the whole contract (no 'for')"
                              for level in levels)
            out.append(TestDiagnostic("test-name", f"{m.id} has no figures grouped by "
                                      f"{' and '.join(keys) or 'nothing'}",
                                      e.group_spans[0] if e.group_spans else e.name_span,
                                      f"its groups are: {shown}"))
        return out
    kinds = {"level": c.regimes, "remedy": c.remedies, "assurance": c.assurances}[e.kind]
    named = {r.name: r for r in kinds}
    if e.name not in named and not (e.kind == "remedy" and e.name in _notices(c)):
        what = {"level": "regime", "remedy": "remedy", "assurance": "assurance"}[e.kind]
        return [_unknown(what, e.name, e.name_span,
                         [*named, *(_notices(c) if e.kind == "remedy" else [])])]
    return []


def _notices(contract: Any) -> list[str]:
    return [r.notice for r in contract.reviews if r.notice]


# ---- running one test -------------------------------------------------------------------------


def run_test(tf: TestFile, case: TestCase, plan: Any) -> TestRun:
    """Load the test's tables, evaluate the contract as of the test's date, check each
    expectation."""
    from .pipeline import evaluate

    tables = load_inline(tf, case, plan)
    try:
        ev = evaluate(plan, tables, case.as_of)
    except DataError as e:
        hint = "give the test a date: as of YYYY-MM-DD" if case.as_of is None else None
        raise TestFileError([_located(attrs.evolve(p, hint=p.hint or hint), given_tables(tf, case),
                                      case) for p in e.problems], {tf.path: tf.source}) from None
    failures: list[Failure] = []
    observed: list[tuple[Expect, Any]] = []
    checks = 0
    for e in case.expects:
        got, subject = observe(ev, e, tf, case, plan)
        observed.append((e, got))
        if got is None and e.kind == "record" and [c.field for c in e.checks] == ["outside"]:
            checks += 1  # expected outside the measure's population, and it is
            continue
        if got is None:  # one failure for the missing row, not one per check
            checks += 1
            failures.append(judge(e.checks[0], None, subject, case, tf))  # type: ignore[arg-type]
            continue
        for check in e.checks:
            checks += 1
            failure = judge(check, got, subject, case, tf)
            if failure is not None:
                failures.append(failure)
    return TestRun(case, ev, tuple(failures), checks, tuple(observed))


def load_inline(tf: TestFile, case: TestCase, plan: Any) -> dict[str, Any]:
    """The test's tables (the file's shared ones where the test has none of that name), written
    as CSV and read by the data loader; a data problem is reported at the test's row and cell."""
    from .load import load_tables

    given = given_tables(tf, case)
    specs = [iso_dates(s) for s in plan.contract.used_tables()]
    with tempfile.TemporaryDirectory(prefix="pmirtest-") as tmp:
        problems = [d for s in specs for d in _write_csv(Path(tmp), s, given.get(s.name), case)]
        if problems:
            raise TestFileError(problems, {tf.path: tf.source})
        try:
            return load_tables(tmp, specs)
        except DataError as e:
            raise TestFileError([_located(p, given, case) for p in e.problems],
                                {tf.path: tf.source}) from None


def iso_dates(spec: Any) -> Any:
    """``spec`` with its date columns read as ``YYYY-MM-DD``: a rule test's dates are written so
    whatever format the contract declares for its data files (decision 281)."""
    columns = tuple(attrs.evolve(c, date_format=None) for c in spec.columns)
    return attrs.evolve(spec, columns=columns)


def given_tables(tf: TestFile, case: TestCase) -> dict[str, InlineTable]:
    """The tables a test runs on: its own, and the file's shared ones it does not replace."""
    return {t.name: t for t in tf.tables} | {t.name: t for t in case.tables}


def _write_csv(folder: Path, spec: Any, table: InlineTable | None,
               case: TestCase) -> list[TestDiagnostic]:
    """Write ``spec``'s columns from ``table`` (empty if None) to ``folder/NAME.csv``."""
    header = [c.text for c in table.header] if table else []
    missing = [c.name for c in spec.columns if c.name not in header and not c.nullable]
    if table is not None and missing and table.rows:
        return [TestDiagnostic("test-table", f"table {spec.name} leaves out required column"
                               f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                               table.span, "add the column to the header row (only columns "
                               "marked '?' in the contract may be left out)")]
    index = {name: i for i, name in enumerate(header)}
    with open(folder / f"{spec.name}.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([c.name for c in spec.columns])
        for row in (table.rows if table else ()):
            w.writerow([_cell(row, index.get(c.name)) for c in spec.columns])
    return []


def _cell(row: tuple[Any, ...], i: int | None) -> str:
    return "" if i is None or row[i].text is None else row[i].text


def _located(p: DataProblem, given: dict[str, InlineTable], case: TestCase) -> TestDiagnostic:
    """A loader's problem with a temporary CSV file, as a diagnostic at the test's cell."""
    name = Path(p.file).stem
    table = given.get(name)
    span = table.span if table else case.span
    where = f"table {name}" + (f", column '{p.column}'" if p.column else "")
    message = f"{where}: {p.message}" if table is not None or p.column else p.message
    if table is not None and p.rows:
        cols = [c.text for c in table.header]
        rows = [table.rows[r - 2] for r in p.rows if 0 <= r - 2 < len(table.rows)]
        i = cols.index(p.column) if p.column in cols else None
        lines = [str(row[i].span.line if i is not None else row[0].span.line) for row in rows]
        if rows:
            span = rows[0][i].span if i is not None else rows[0][0].span
        message += f" ({p.count} row{'s' if p.count != 1 else ''}: line{'s' * (len(lines) > 1)}" \
                   f" {', '.join(lines)}{' and more' if p.count > len(lines) else ''})"
    return TestDiagnostic("test-data", message, span, p.hint)


# ---- what the engine said ---------------------------------------------------------------------


def observe(ev: Any, e: Expect, tf: TestFile, case: TestCase,
            plan: Any) -> tuple[dict[str, Any] | None, str]:
    """(the row the engine gave for the expectation's subject, or None; the subject in words)."""
    where = "".join(f" for {k} {v}" for k, v in e.group)
    if e.kind == "record":
        return _record(ev, e, tf, case, plan)
    if e.kind == "figure":
        rows = [r for r in ev.results if r["measure"] == e.name and r["period"] == e.period
                and r["basis"] == e.basis and r["group"] == dict(e.group)]
        return (rows[0] if rows else None), f"{e.name} {e.period} {e.basis}{where}"
    if e.kind == "level":
        rows = [r for r in ev.escalations if r["regime"] == e.name and r["month"] == e.period
                and r["group"] == dict(e.group)]
        return (rows[0] if rows else None), f"level {e.name} {e.period}{where}"
    if e.kind == "assurance":
        return _assurance(ev, e, tf, where)
    rows = [r for r in ev.remedies if r["remedy"] == e.name and r["month"] == e.period
            and r["group"] == dict(e.group)]
    rows = _narrow(rows, e)
    if len(rows) > 1:
        raise TestFileError([TestDiagnostic(
            "test-name", f"{len(rows)} {e.name} rows for {e.period}{where}", e.name_span,
            "say which with a check such as: measure " + str(rows[0].get("measure")))],
            {tf.path: tf.source})
    return (rows[0] if rows else None), f"remedy {e.name} {e.period}{where}"


def _narrow(rows: list[dict[str, Any]], e: Expect, field: str = "measure"
            ) -> list[dict[str, Any]]:
    """Remedy rows narrowed by the expectation's ``measure`` check (an assurance's by its
    ``action``), when several match."""
    for check in e.checks:
        if len(rows) > 1 and check.kind == "field" and check.field == field and check.value:
            rows = [r for r in rows if r.get(field) == check.value.value]
    return rows


def _assurance(ev: Any, e: Expect, tf: TestFile, where: str
               ) -> tuple[dict[str, Any] | None, str]:
    """An assurance's trigger in a month (narrowed by ``action``), with ``triggered`` true; or,
    when none, a row ``triggered false`` (so a test can say that nothing is triggered)."""
    subject = f"assurance {e.name} {e.period}{where}"
    rows = _narrow([r for r in getattr(ev, "assurance", []) if r["assurance"] == e.name
                    and r["month"] == e.period and r["group"] == dict(e.group)], e, "action")
    if len(rows) > 1:
        raise TestFileError([TestDiagnostic(
            "test-name", f"{len(rows)} {e.name} actions in {e.period}{where}", e.name_span,
            "say which with a check such as: action " + str(rows[0]["action"]))],
            {tf.path: tf.source})
    if rows:
        return {**rows[0], "triggered": True}, subject
    only_triggered = all(c.field == "triggered" for c in e.checks)
    return ({"triggered": False} if only_triggered else None), subject


def _record(ev: Any, e: Expect, tf: TestFile, case: TestCase,
            plan: Any) -> tuple[dict[str, Any] | None, str]:
    from .audit import audit_rows

    ident = _record_id(e, tf, case, plan)
    header, rows = audit_rows(ev, e.name, e.period, None, {})
    mine = [dict(zip(header, r)) for r in rows if r[1] == ident]
    subject = f"record {ident} in {e.name}" + (f" {e.period}" if e.period else "")
    if len({r["period"] for r in mine}) > 1:
        periods = ", ".join(sorted({r["period"] for r in mine}))
        raise TestFileError([TestDiagnostic(
            "test-name", f"record {ident} counts in {e.name} in several periods ({periods})",
            e.name_span, f"say which: expect record {ident} in {e.name} {mine[0]['period']}")],
            {tf.path: tf.source})
    return (mine[0] if mine else None), subject


def _record_id(e: Expect, tf: TestFile, case: TestCase, plan: Any) -> str:
    """The id ``audit_rows`` gives the record: its id column's value, else 'row N'."""
    kind, value = e.record or ("id", "")
    m = plan.measure(e.name).measure
    spec = plan.contract.table(m.table)
    id_col = next((c.name for c in spec.columns if c.type.value == "id"), None)
    if kind == "id" and id_col is None:
        raise TestFileError([TestDiagnostic(
            "test-name", f"table {m.table} has no id column to find record {value} by",
            e.name_span, f"name it by its row in the test's table: expect record row 1 in "
            f"{e.name}")], {tf.path: tf.source})
    if kind == "id":
        return str(value)
    table = given_tables(tf, case).get(m.table)
    n = int(str(value))
    if table is None or not 1 <= n <= len(table.rows):
        raise TestFileError([TestDiagnostic(
            "test-name", f"table {m.table} of this test has no row {n}", e.name_span,
            f"it has {len(table.rows) if table else 0} rows")], {tf.path: tf.source})
    cols = [c.text for c in table.header]
    if id_col is None or id_col not in cols:
        return f"row {n + 1}"  # audit numbers records as spreadsheet rows (header is row 1)
    return str(table.rows[n - 1][cols.index(id_col)].text)


# ---- judging one check ------------------------------------------------------------------------


def judge(check: Check, got: dict[str, Any] | None, subject: str, case: TestCase,
          tf: TestFile) -> Failure | None:
    """None when ``check`` holds of ``got``, else the failure."""
    def fail(field: str, expected: str, seen: str) -> Failure:
        return Failure(check.span, case.name, subject, field, expected, seen)

    if got is None:
        return fail("exists", "a row", "nothing: no such row in the results"
                    if "record" not in subject else "not in the measure's population")
    if check.kind == "word":
        return _judge_word(check, got, fail, tf)
    if check.kind == "not_assessed":
        return None if got.get("met") is None else fail("met", "not assessed", _show(got["met"]))
    if check.kind == "fraction":
        assert check.second is not None and check.value is not None
        n, d = got.get("numerator"), got.get("denominator")
        ok = _same(check.value, n) and _same(check.second, d)
        return None if ok else fail("numerator of denominator", _expected_text(check),
                                    f"{_show(n)} of {_show(d)}")
    field = _field(check, got, tf)
    assert check.value is not None
    value = got[field]
    if check.kind == "contains":
        items = value if isinstance(value, list) else [value]
        ok = any(str(check.value.value) in str(v) for v in items)
        return None if ok else fail(field, f"one containing {check.value.raw}", _show(value))
    if _same(check.value, value):
        return None
    return fail(field, check.value.raw, _show(value, check.value, got))


def _judge_word(check: Check, got: dict[str, Any], fail: Any, tf: TestFile) -> Failure | None:
    if "verdict" in got:  # a record
        if check.field == "outside":
            return fail("verdict", "outside the measure's population", got["verdict"])
        if check.field not in VERDICTS:
            raise _bad_word(check, tf, "a record's verdict is met, failed, pending, excluded or "
                            "outside (not in the measure's population)")
        return None if got["verdict"] == check.field else fail("verdict", check.field,
                                                               got["verdict"])
    if check.field in ("met", "failed") and "met" in got:
        want = check.field == "met"
        return None if got["met"] is want else fail("met", check.field, _met_word(got["met"]))
    if isinstance(got.get(check.field), bool):  # a flag such as in_deferral or changed
        return None if got[check.field] else fail(check.field, "true", "false")
    raise _bad_word(check, tf, "a figure is met, failed or not assessed; give other fields a "
                    f"value, e.g. {check.field} 3")


def _bad_word(check: Check, tf: TestFile, hint: str) -> TestFileError:
    return TestFileError([TestDiagnostic("test-name", f"'{check.field}' is not something this "
                                         "row can be", check.span, hint)], {tf.path: tf.source})


def _field(check: Check, got: dict[str, Any], tf: TestFile) -> str:
    """The row's key a check names: as written, or with ``_pence`` for an amount of money."""
    for key in (check.field, f"{check.field}_pence"):
        if key in got:
            return key
    hint = did_you_mean(check.field, got) or f"it has: {', '.join(got)}"
    raise TestFileError([TestDiagnostic("test-name", f"no field '{check.field}' here",
                                        check.span, hint)], {tf.path: tf.source})


def _met_word(met: bool | None) -> str:
    return "not assessed" if met is None else "met" if met else "failed"


def _same(lit: Literal, got: Any) -> bool:
    """Whether the engine's ``got`` is the value written (numbers at the precision written)."""
    if lit.kind == "none":
        return got is None
    if lit.kind == "bool":
        return got is lit.value
    if lit.kind in ("text", "date"):
        if isinstance(got, list):
            return lit.value in got
        return got is not None and not isinstance(got, bool) and str(got) == lit.value
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if lit.kind == "money":
        return got == lit.value
    assert isinstance(lit.value, Decimal)
    exact = _decimal(got) * (100 if lit.kind == "percent" else 1)
    return _rounded(exact, lit.value) == lit.value


def _decimal(x: int | float) -> Decimal:
    """A number from the engine as the decimal it prints as (floats by their shortest repr)."""
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)


def _rounded(exact: Decimal, like: Decimal) -> Decimal:
    """``exact`` rounded half up to the decimal places of ``like``."""
    places = max(0, -int(like.as_tuple().exponent))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _show(value: Any, like: Literal | None = None, row: dict[str, Any] | None = None) -> str:
    """A value from the engine as a failure shows it (in the form of what was expected)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if like is not None and like.kind == "percent" and isinstance(value, (int, float)):
        places = max(2, -int(like.value.as_tuple().exponent))  # type: ignore[union-attr]
        shown = f"{_rounded(_decimal(value) * 100, Decimal(1).scaleb(-places))}%"
        if row is not None and "numerator" in row:
            shown += f" ({_show(row['numerator'])} of {_show(row['denominator'])})"
        return shown
    if like is not None and like.kind == "money" and isinstance(value, int):
        return f"£{value / 100:,.2f}"
    if like is not None and like.raw.startswith('"') and isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + "; ".join(map(str, value)) + "]"
    return str(value)


def _expected_text(check: Check) -> str:
    if check.kind == "fraction":
        assert check.value is not None and check.second is not None
        return f"{check.value.raw} of {check.second.raw}"
    if check.kind in ("word", "not_assessed"):
        return check.field if check.kind == "word" else "not assessed"
    assert check.value is not None
    return f"{check.field} {check.value.raw}"


# ---- the command ------------------------------------------------------------------------------


def render_error(e: TestFileError) -> str:
    """A test file's diagnostics, rendered like a contract's."""
    body = "\n\n".join(render(d, e.sources) for d in e.diagnostics)  # type: ignore[arg-type]
    n = len(e.diagnostics)
    return f"{body}\n\n{n} error{'s' if n != 1 else ''} found"


def run_paths(paths: Iterable[str | Path], out: Any, err: Any,
              cache: dict[Path, Any] | None = None) -> tuple[int, list[FileRun]]:
    """Run every test file under ``paths``, printing failures to ``out`` and diagnostics to
    ``err``: (exit status 0 all passed / 1 a failure / 2 a malformed file, the runs)."""
    files = discover(paths)
    if not files:
        print("pmirc test: no *.pmirtest files found in " + ", ".join(map(str, paths)), file=err)
        return 2, []
    status, runs = 0, []
    cache = {} if cache is None else cache
    for path in files:
        try:
            fr = run_file(path, cache)
        except TestFileError as e:
            print(render_error(e), file=err)
            status = 2
            continue
        except CompileError as e:
            from .diagnostics import render_all

            print(render_all(e.diagnostics, e.sources), file=err)
            status = 2
            continue
        runs.append(fr)
        for f in fr.failures:
            print(f.render(), file=out)
        n_checks = sum(r.checks for r in fr.runs)
        bad = len(fr.failures)
        print(f"{fr.file.path}: {_plural(len(fr.runs), 'test')}, {_plural(n_checks, 'check')}, "
              f"{'all passed' if not bad else f'{bad} failed'}", file=out)
        status = max(status, 1 if bad else 0)
    return status, runs


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def as_date(text: str) -> bool:
    """Whether ``text`` is a real calendar date written YYYY-MM-DD."""
    try:
        return str(np.datetime64(text, "D")) == text
    except ValueError:
        return False
