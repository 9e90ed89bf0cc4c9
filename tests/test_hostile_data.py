"""Hostile data: ``pmirc check contracts/atw_ha.pmir tests/hostile/CASE`` says what is wrong.

The corpus (tests/hostile/, written by tests/hostile/make_corpus.py, described in its README.md)
is the small AtW HA data set in ``base/`` with one hostile change per folder. For each case the
test runs ``pmirc check ... --format json`` through :func:`pmir_dsl.cli.main` and checks either

* a fatal problem: exit 2 and, on standard error, one ``error[bad-data]`` paragraph per expected
  problem naming the file, the column and the spreadsheet rows (and nothing unexpected); or
* a usable data set: exit 0 or 1, the expected data-quality entries or figures, and for every
  measure the accounting identity met + failed + pending + excluded = population, population +
  rows outside it = the table's rows, both in the JSON and in the terminal report's heading.
"""

from __future__ import annotations

import contextlib
import filecmp
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pmir_dsl.cli import far_dates, main
from pmir_dsl.compile import compile_contract
from pmir_dsl.check import check_file
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import resolve_as_of

REPO = Path(__file__).resolve().parent.parent
HOSTILE = REPO / "tests" / "hostile"
CONTRACT = REPO / "contracts" / "atw_ha.pmir"
CASES = sorted(p.name for p in HOSTILE.iterdir()
               if p.is_dir() and not p.name.startswith(("_", ".")))


def pmirc(*args: str) -> tuple[int, str, str]:
    """Run ``pmirc`` in-process: (exit status, standard output, standard error)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def check_json(case: str, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    status, out, err = pmirc("check", CONTRACT, HOSTILE / case, "--format", "json", *extra)
    return status, (json.loads(out) if status in (0, 1) else None), err


# ---------------------------------------------------------------------------------------------
# The accounting identity


def assert_accounting(report: dict[str, Any]) -> None:
    """met + failed + pending + excluded = population, and population + outside = table rows."""
    assert report["measures"], "no measures"
    for m in report["measures"]:
        parts = m["met"] + m["failed"] + m["pending"] + m["excluded"]
        assert parts == m["population"], m
        rows = report["tables"][m["table"]]["rows"]
        assert m["population"] + m["outside_population"] == rows, (m, rows)
        assert min(m["met"], m["failed"], m["pending"], m["excluded"]) >= 0, m


def assert_report_shows_accounting(case: str, report: dict[str, Any], *extra: str) -> None:
    """The terminal report prints each measure's identity with the JSON's numbers."""
    status, out, err = pmirc("check", CONTRACT, HOSTILE / case, "--width", "1000", *extra)
    assert status in (0, 1), err
    for m in report["measures"]:
        if m["kind"] == "ratio":
            line = (f"{m['table']}: {m['population']:,} in population = {m['met']:,} counted"
                    f" + {m['excluded']:,} excluded")
        elif m["kind"] in ("backlog_share", "backlog_count"):  # a state at the as-of date
            line = (f"{m['table']}: {m['population']:,} in population = {m['met']:,} out of "
                    f"backlog + {m['failed']:,} in backlog at {report['as_of']}"
                    f" + {m['excluded']:,} excluded")
        else:
            line = (f"{m['table']}: {m['population']:,} in population = {m['met']:,} met"
                    f" + {m['failed']:,} failed + {m['pending']:,} pending"
                    f" + {m['excluded']:,} excluded")
        if m["outside_population"]:
            line += f"; {m['outside_population']:,} rows outside the population"
        assert line in out, f"{m['measure']}: {line!r} not in the report"


def usable(case: str, *extra: str) -> dict[str, Any]:
    """Check a case that must evaluate: exit 0/1, the identity in JSON and in the report."""
    status, report, err = check_json(case, *extra)
    assert status in (0, 1), err
    assert report is not None and not err.strip(), err
    assert_accounting(report)
    assert_report_shows_accounting(case, report, *extra)
    return report


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return usable("base")


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """What must not change when only the bytes of the files change: every figure."""
    return {k: report[k] for k in ("as_of", "measures", "results", "cohorts", "data_quality")} | {
        "rows": {t: v["rows"] for t, v in report["tables"].items()}}


def quality(report: dict[str, Any]) -> dict[str, tuple[int, list[str]]]:
    return {q["check"]: (q["count"], q["examples"]) for q in report["data_quality"]}


# ---------------------------------------------------------------------------------------------
# The corpus itself


def test_corpus_is_what_the_script_writes(tmp_path: Path) -> None:
    """tests/hostile/make_corpus.py writes exactly the committed files (Parquet: the same data)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", HOSTILE / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    assert sorted(module.CASES) == sorted(c for c in CASES if c != "base")
    for case in module.CASES:
        ours, theirs = HOSTILE / case, tmp_path / case
        files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(theirs) for p in theirs.rglob("*") if p.is_file())
        for path in (ours / f for f in files):
            twin = theirs / path.relative_to(ours)
            if path.suffix == ".parquet":  # the writer's version is in the bytes
                assert pq.read_table(path).equals(pq.read_table(twin)), path
            else:
                assert filecmp.cmp(path, twin, shallow=False), path


def test_every_case_is_described() -> None:
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    for case in CASES:
        assert f"`{case}`" in readme, f"tests/hostile/README.md does not describe {case}"


def test_every_case_is_tested() -> None:
    tested = set(FATAL) | set(SAME_AS_BASE) | set(USABLE_CHECKS) | {"base"}
    assert set(CASES) == tested


# ---------------------------------------------------------------------------------------------
# Fatal problems: exit 2, each problem with its file, column and rows


#: case -> [(file, column or None, text in the message, spreadsheet rows)]
FATAL: dict[str, list[tuple[str, str | None, str, list[int]]]] = {
    "duplicate_ids": [("referrals.csv", "referral_id",
                       "duplicate ids: 1 id appears more than once ('R0000002')", [3, 8])],
    "empty_file": [("referrals.csv", None, "the file is empty (no header row)", [])],
    "latin1": [("referrals.csv", "provider", "text that is not UTF-8", [2])],
    "long_bad_value": [("referrals.csv", "report_date", "not a valid date", [4])],
    "too_long_fields": [
        ("referrals.csv", "referral_id", "longer than 32,767 characters", [3]),
        ("referrals.csv", "provider", "longer than 32,767 characters", [2]),
    ],
    "missing_column": [("referrals.csv", "report_date", "missing column", [])],
    "missing_table": [("workforce.csv", None, "missing table file", [])],
    "ambiguous_table": [("returns.csv", None, "ambiguous table 'returns'", [])],
    "mixed_types": [
        ("referrals.csv", "referral_date", "not a valid date", [3, 4, 5]),
        ("referrals.csv", "referral_date", "empty, but a value is required", [6]),
        ("referrals.csv", "report_acceptable", "not true or false", [7]),
        ("workforce.csv", "disabled_fte", "not a decimal number", [2, 3, 4]),
    ],
    "parquet_wrong_types": [
        ("referrals.parquet", "referral_date", "expected a date, the file has int64", []),
        ("referrals.parquet", "report_acceptable", "expected true/false values, the file has "
         "int8", []),
        ("workforce.parquet", "quarter", "expected quarters as text YYYY-Qn, the file has "
         "date32[day]", []),
    ],
    "parquet_parts_disagree": [("referrals", "referral_date", "the files of the folder disagree "
                                "on the column's type: string in part-0.parquet; date32[day] in "
                                "part-1.parquet", [])],
    "quoted_newline_bad_date": [("referrals.csv", "referral_date", "not a valid date", [5])],
    "ragged_rows": [("referrals.csv", None, "Expected 10 columns, got 11", [4])],
    "unclosed_quote": [("referrals.csv", None, "Expected 10 columns, got", [6])],
    "unknown_categories": [
        ("referrals.csv", "assessment_type", "unknown values 'Virtual', 'remote'", [2, 3]),
        ("returns.csv", "return", "unknown value 'KPI6'", [2]),
    ],
    "dates_2999": [  # outside the dates pmirc evaluates (docs/reliability.md)
        ("referrals.csv", "report_date", "outside the dates pmirc evaluates (1900-01-01 to "
         "2199-12-31)", [6]),
        ("returns.csv", "submitted_date", "outside the dates pmirc evaluates", [2]),
    ],
    "whitespace_values": [
        ("referrals.csv", "referral_date", "not a valid date", [2]),
        ("referrals.csv", "assessment_type", "unknown value 'face_to_face '", [3]),
    ],
}

#: case -> hints the user must be given
FATAL_HINTS: dict[str, list[str]] = {
    "latin1": ["CSV UTF-8", "'Ynys M\ufffdn'"],
    "missing_column": ["did you mean 'report_dt'?"],
    "missing_table": ["did you mean 'work_force.csv'?"],
    "ambiguous_table": ["keep only one of them"],
    "unknown_categories": ["did you mean 'virtual' for 'Virtual'?",
                           "did you mean 'kpi6' for 'KPI6'?"],
    "whitespace_values": ["did you mean 'face_to_face' for 'face_to_face '?"],
    "too_long_fields": ["PPPPPPPPPP... (100,000 characters)", "a quote left open"],
    "ragged_rows": ["as many fields as the header"],
    "mixed_types": ["write dates as YYYY-MM-DD", "no thousands separators"],
    "duplicate_ids": ["each row needs its own id"],
    "dates_2999": ["should be left empty; otherwise correct the year"],
}


def _paragraphs(stderr: str) -> list[str]:
    return [p for p in re.split(r"(?m)^(?=error\[)", stderr) if p.strip()]


@pytest.mark.parametrize("case", sorted(FATAL))
def test_fatal_problem_is_named(case: str) -> None:
    status, report, err = check_json(case)
    assert status == 2, err
    assert "Traceback" not in err and "internal error" not in err
    paragraphs = _paragraphs(err)
    assert len(paragraphs) == len(FATAL[case]), err
    for (file, column, message, rows), text in zip(FATAL[case], paragraphs):
        where = f"{case}/{file}" + ("" if column is None else f", column '{column}'")
        assert text.startswith("error[bad-data]: ") and where in text.splitlines()[0], text
        assert message in text, text
        if rows:
            shown = re.findall(r"\brow (\d+)\b", text.split("\n", 1)[1])
            assert [int(r) for r in shown] == rows, text
            assert re.search(rf"\b{len(rows)} rows?:", text), text
    for hint in FATAL_HINTS.get(case, []):
        assert hint in err, err


def test_long_bad_value_is_shown_short() -> None:
    """A 24 KB junk cell is named by its start and length, not printed whole."""
    status, _, err = check_json("long_bad_value")
    assert status == 2
    assert len(err) < 1000, err
    assert "2024-04-18 later later" in err and "(24,010 characters)" in err


def test_empty_tables_need_an_as_of_date_then_count_nothing() -> None:
    status, _, err = check_json("empty_tables")
    assert status == 2
    assert "no dates in the data to take the as-of date from" in err and "--as-of" in err
    report = usable("empty_tables", "--as-of", "2025-06-30")
    assert all(m["population"] == 0 for m in report["measures"])
    assert report["data_quality"] == []


# ---------------------------------------------------------------------------------------------
# Usable data: the same figures as base, or the expected data-quality entries


SAME_AS_BASE = ("bom", "crlf", "column_order", "extra_columns", "parquet_native_types")


@pytest.mark.parametrize("case", SAME_AS_BASE)
def test_same_figures_as_base(case: str, base: dict[str, Any]) -> None:
    """A BOM, CRLF, another column order, extra columns or native Parquet types (London
    timestamps at local midnight included) change nothing."""
    assert figures(usable(case)) == figures(base)


def test_base_data_quality(base: dict[str, Any]) -> None:
    """The base data's deliberate record errors are each a data-quality entry."""
    assert quality(base) == {
        "acknowledged_date before referral_date": (3, ["R0000017", "R0000018", "R0000023"]),
        "report_date before referral_date": (3, ["R0000005", "R0000006", "R0000019"]),
        "rework_completed_date before rework_notified_date": (1, ["R0000015"]),
    }


def _groups(report: dict[str, Any]) -> set[str]:
    return {r["group"]["provider"] for r in report["results"] if r["group"]}


def _totals(report: dict[str, Any]) -> list[Any]:
    return report["measures"]


def quoted_newlines(base: dict[str, Any]) -> dict[str, Any]:
    """Newlines, commas and quotes inside quoted cells are part of the value."""
    report = usable("quoted_newlines")
    assert {"North\nEast", 'South, "Coast"', "North\r\nEast"} <= _groups(report)
    assert _totals(report) == _totals(base)
    assert report["data_quality"] == base["data_quality"]
    return report


def long_fields(base: dict[str, Any]) -> dict[str, Any]:
    """A 32,767-character provider is a provider; a 32,767-character id is an id."""
    report = usable("long_fields")
    assert "P" * 32_767 in _groups(report)
    assert _totals(report) == _totals(base)
    return report


def null_markers(base: dict[str, Any]) -> dict[str, Any]:
    """NA and NULL are providers' names, not empty cells."""
    report = usable("null_markers")
    assert {"NA", "NULL"} <= _groups(report)
    assert _totals(report) == _totals(base)
    return report


def dates_1900(base: dict[str, Any]) -> dict[str, Any]:
    """A referral (and its events) in January 1900, before the service start and the years
    with bank holiday data: it is excluded from KPI 1-4 with a data-quality entry naming it,
    and the rest of the figures do not move."""
    report = usable("dates_1900")
    entries = quality(report)
    named = [check for check, (_, ids) in entries.items() if "R0000001" in ids]
    assert any(c.startswith("referral_date") for c in named), entries
    assert any(c.startswith("report_date") for c in named), entries
    for ours, theirs in zip(report["measures"], base["measures"]):
        if ours["measure"] in ("KPI1", "KPI2", "KPI3"):
            assert ours["population"] == theirs["population"]
            assert ours["excluded"] == theirs["excluded"] + 1, ours
    assert report["as_of"] == base["as_of"]
    return report


def excel_injection(base: dict[str, Any]) -> dict[str, Any]:
    """Formula-like providers and ids are ordinary text (tests/test_containment.py checks that
    the audit CSV escapes them)."""
    report = usable("excel_injection")
    assert {"=1+1", "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", "\tTab"} <= _groups(report)
    return report


USABLE_CHECKS = {f.__name__: f for f in (quoted_newlines, long_fields, null_markers, dates_1900,
                                          excel_injection)} | {
    "empty_tables": lambda base: None}  # tested above


@pytest.mark.parametrize("case", sorted(set(USABLE_CHECKS) - {"empty_tables"}))
def test_usable_case(case: str, base: dict[str, Any]) -> None:
    report = USABLE_CHECKS[case](base)  # each check asserts its own figures
    assert [m["measure"] for m in report["measures"]] == [m["measure"] for m in base["measures"]]


# ---------------------------------------------------------------------------------------------
# Generated at test time: too big to commit


def test_five_megabyte_fields(tmp_path: Path) -> None:
    """A 5 MB cell is named, short, in a text column and in a date column, in bounded time."""
    lines = (HOSTILE / "base" / "referrals.csv").read_text(encoding="utf-8").split("\n")
    for name in ("workforce.csv", "returns.csv"):
        (tmp_path / name).write_bytes((HOSTILE / "base" / name).read_bytes())
    cells = lines[1].split(",")
    cells[1], cells[2] = "W" * (5 << 20), "9" * (5 << 20)
    (tmp_path / "referrals.csv").write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]),
                                            encoding="utf-8")
    start = time.perf_counter()
    status, _, err = pmirc("check", CONTRACT, tmp_path, "--format", "json")
    assert time.perf_counter() - start < 20
    assert status == 2, err
    assert len(err) < 1500, err
    assert err.count("row 2 (") == 2 and err.count("(5,242,880 characters)") == 2, err
    assert "column 'provider': longer than 32,767 characters" in err
    assert "column 'referral_date': not a valid date" in err


def test_parquet_dates_beyond_the_year_9999_are_refused(tmp_path: Path) -> None:
    """A Parquet date in the year 5,881,580 (a wrong unit or an overflow) is named, not used:
    as the latest date in the data it would make the as-of date, and the report, absurd."""
    import pyarrow as pa

    table = pq.read_table(HOSTILE / "parquet_native_types" / "referrals.parquet")
    i = table.schema.get_field_index("report_date")
    dates = pa.array([2**31 - 1] + [None] * (table.num_rows - 1), pa.date32())
    pq.write_table(table.set_column(i, "report_date", dates), tmp_path / "referrals.parquet")
    for name in ("workforce.csv", "returns.csv"):
        (tmp_path / name).write_bytes((HOSTILE / "base" / name).read_bytes())
    status, _, err = pmirc("check", CONTRACT, tmp_path, "--format", "json")
    assert status == 2, err
    assert "column 'report_date': date out of range (years 0000 to 9999)" in err
    assert "row 1 ('5881580-07-11')" in err


# ---------------------------------------------------------------------------------------------
# Dates far from the others: 1900, and a far-future date that becomes the as-of date


def test_1900_dates_are_before_the_service_start() -> None:
    status, report, err = check_json("dates_1900")
    assert report is not None
    assert "referral_date missing" not in quality(report)
    assert "referral_date before the service start month 2024-04" in quality(report)


def far_future(tmp_path: Path) -> Path:
    """base, with a report received 2199-12-31 and a return submitted 2199-01-15: far, but
    within the dates pmirc evaluates (dates_2999 is refused: docs/reliability.md)."""
    lines = (HOSTILE / "base" / "referrals.csv").read_text(encoding="utf-8").split("\n")
    cells = lines[5].split(",")
    cells[6] = "2199-12-31"  # report_date
    lines[5] = ",".join(cells)
    (tmp_path / "referrals.csv").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "workforce.csv").write_bytes((HOSTILE / "base" / "workforce.csv").read_bytes())
    lines = (HOSTILE / "base" / "returns.csv").read_text(encoding="utf-8").split("\n")
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("submitted_date")] = "2199-01-15"
    lines[1] = ",".join(cells)
    (tmp_path / "returns.csv").write_text("\n".join(lines), encoding="utf-8")
    return tmp_path


def test_a_far_future_date_is_named_when_it_sets_the_as_of_date(tmp_path: Path) -> None:
    """Without --as-of (and with no 'extract date' in the contract) the as-of date is the latest
    date in the data (semantics.md 2), so one report_date typed as 2199-12-31 makes it
    2199-12-31: 2,100 months and pending records turned into failures. The rule stays, but
    pmirc names such dates on standard error before it evaluates."""
    plan = compile_contract(check_file(CONTRACT))
    tables = load_tables(far_future(tmp_path), plan.contract.used_tables())
    day, source = resolve_as_of(plan, tables, None)
    assert (str(day), source) == ("2199-12-31", "the latest date in the data")
    warnings = far_dates(tables)
    assert len(warnings) == 2
    assert warnings[0].startswith("warning[far-date]: ") and "referrals.csv, column " \
        "'report_date': a year or more after every other date in the data (the latest of them " \
        "is 2025-06-30), so the as-of date is 2199-12-31\n  1 row: row 6 ('2199-12-31')\n" \
        "  hint: if it is mistyped, correct it, or pass --as-of YYYY-MM-DD" in warnings[0]
    assert "returns.csv, column 'submitted_date'" in warnings[1]
    assert "row 2 ('2199-01-15')" in warnings[1]
    assert far_dates(load_tables(HOSTILE / "base", plan.contract.used_tables())) == []


def test_a_far_future_date_counts_as_after_a_given_as_of(tmp_path: Path, base: dict[str, Any]
                                                        ) -> None:
    """With the extract's date given, a report received in 2199 is after the as-of date: it is
    not yet received (KPI 3 fails it, KPI 4 leaves it out with a data-quality entry), and a
    return submitted in 2199 was not submitted by the as-of date (overdue)."""
    status, out, err = pmirc("check", CONTRACT, far_future(tmp_path), "--format", "json",
                             "--as-of", "2025-06-30")
    assert status in (0, 1), err
    report = json.loads(out)
    assert quality(report)["report_date after the as-of date 2025-06-30"] == (1, ["R0000005"])
    by_id = {m["measure"]: m for m in report["measures"]}
    base_by_id = {m["measure"]: m for m in base["measures"]}
    assert by_id["KPI4"]["excluded"] == base_by_id["KPI4"]["excluded"] + 1
    assert by_id["CUSTOMER_INSIGHT_RETURN"]["failed"] == \
        base_by_id["CUSTOMER_INSIGHT_RETURN"]["failed"] + 1
    assert {r["period"][:4] for r in report["results"]} <= {"2024", "2025"}


def test_pmirc_check_warns_of_a_far_future_date(tmp_path: Path) -> None:
    """The warning goes to standard error, the report is made as the rule says, and a given
    as-of date silences it."""
    for name in ("workforce.csv", "returns.csv"):
        (tmp_path / name).write_bytes((HOSTILE / "base" / name).read_bytes())
    lines = (HOSTILE / "base" / "referrals.csv").read_text(encoding="utf-8").split("\n")
    cells = lines[3].split(",")
    cells[6] = "2027-01-04"  # report_date, typed a year too late
    lines[3] = ",".join(cells)
    (tmp_path / "referrals.csv").write_text("\n".join(lines), encoding="utf-8")
    status, out, err = pmirc("check", CONTRACT, tmp_path, "--format", "json")
    assert status in (0, 1), err
    assert json.loads(out)["as_of"] == "2027-01-04"
    assert err.count("warning[far-date]") == 1 and "row 4 ('2027-01-04')" in err, err
    status, _, err = pmirc("check", CONTRACT, tmp_path, "--format", "json", "--as-of",
                           "2025-06-30")
    assert status in (0, 1) and "warning" not in err, err
