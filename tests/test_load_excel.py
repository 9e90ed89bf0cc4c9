"""Data as DWP staff have it (issue 10): declared date formats and CSV files exported by Excel.

Each test is a hand-made file whose figures or problems would differ under a wrong reading: a
day-first date read month-first, a date that strptime rolls on (31/02 to 02/03), a shape the
format does not allow (3/4/2024 for DD/MM/YYYY), Excel's TRUE/FALSE and its trailing empty
columns, a byte order mark and Windows or old-Mac line ends.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pmir_dsl.check import check_source
from pmir_dsl.date_formats import FormatError, compile_format
from pmir_dsl.errors import DataError, DataProblem
from pmir_dsl.load import load_table
from pmir_dsl.schema import ColumnSpec, ColumnType, TableSpec
from pmir_dsl.testing import iso_dates

T = ColumnType


def dated(fmt: str | None, nullable: bool = True) -> TableSpec:
    return TableSpec("t", (ColumnSpec("id", T.ID), ColumnSpec("when", T.DATE, nullable,
                                                               date_format=fmt)))


def problems(folder: Path, spec: TableSpec) -> list[DataProblem]:
    with pytest.raises(DataError) as info:
        load_table(folder, spec)
    return info.value.problems


def days(folder: Path, spec: TableSpec) -> list[dt.date | None]:
    return load_table(folder, spec).columns["when"].values.tolist()


# ---- the formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("text,strptime,example", [
    ("DD/MM/YYYY", "%d/%m/%Y", "31/03/2024"),
    ("dd/mm/yyyy", "%d/%m/%Y", "31/03/2024"),
    ("D/M/YYYY", "%d/%m/%Y", "31/3/2024"),
    ("DD-MMM-YYYY", "%d-%b-%Y", "31-Mar-2024"),
    ("DD.MM.YYYY", "%d.%m.%Y", "31.03.2024"),
    ("YYYYMMDD", "%Y%m%d", "20240331"),
    ("MM/DD/YYYY", "%m/%d/%Y", "03/31/2024"),
])
def test_formats(text: str, strptime: str, example: str) -> None:
    f = compile_format(text)
    assert (f.strptime, f.example) == (strptime, example)


@pytest.mark.parametrize("text,why", [
    ("DD/MM/YY", "two-digit year"),
    ("", "is empty"),
    ("DD/MM", "needs one year"),
    ("DD/MM/DD/YYYY", "needs one day (DD or D); it has 2"),
    ("DMYYYY", "put a separator between them"),
    ("YYYY-MM-DD hh:mm", "has 'h'"),
])
def test_bad_formats(text: str, why: str) -> None:
    with pytest.raises(FormatError, match=re.escape(why)):
        compile_format(text)


# ---- reading dates in a declared format ---------------------------------------------------------


def test_day_first_dates(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when\na,01/04/2024\nb,12/01/2024\nc,29/02/2024\nd,\n")
    assert days(tmp_path, dated("DD/MM/YYYY")) == [
        dt.date(2024, 4, 1), dt.date(2024, 1, 12), dt.date(2024, 2, 29), None]


def test_month_first_dates_read_the_same_text_otherwise(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when\na,01/04/2024\nb,12/01/2024\n")
    assert days(tmp_path, dated("MM/DD/YYYY")) == [dt.date(2024, 1, 4), dt.date(2024, 12, 1)]


def test_bad_dates_in_a_declared_format(tmp_path: Path) -> None:
    """31/04 (no such day: strptime would roll it on to 01/05), 3/4 (not two digits), ISO text,
    29/02 of a year that is not a leap year, a trailing space: each named, rows and count."""
    rows = ["a,31/04/2024", "b,3/4/2024", "c,2024-04-03", "d,29/02/2023", "e,01/04/2024 ",
            "f,01/04/2024", "g,00/04/2024", "h,01/13/2024"]
    (tmp_path / "t.csv").write_text("id,when\n" + "\n".join(rows) + "\n")
    [p] = problems(tmp_path, dated("DD/MM/YYYY"))
    assert p.column == "when" and p.message == "not a valid date (expected DD/MM/YYYY)"
    assert p.rows == (2, 3, 4, 5, 6) and p.count == 7
    assert p.values == ("31/04/2024", "3/4/2024", "2024-04-03", "29/02/2023", "01/04/2024 ")
    assert p.hint == "write dates as DD/MM/YYYY, e.g. 31/03/2024, as the contract declares"


def test_one_or_two_digits(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when\na,3/4/2024\nb,03/04/2024\nc,31/12/2024\n")
    assert days(tmp_path, dated("D/M/YYYY")) == [dt.date(2024, 4, 3)] * 2 + [dt.date(2024, 12, 31)]


def test_month_names_any_case(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when\na,01-Apr-2024\nb,01-apr-2024\nc,31-Feb-2024\n")
    [p] = problems(tmp_path, dated("DD-MMM-YYYY"))
    assert (p.rows, p.values) == ((4,), ("31-Feb-2024",))
    (tmp_path / "t.csv").write_text("id,when\na,01-Apr-2024\nb,01-apr-2024\n")
    assert days(tmp_path, dated("DD-MMM-YYYY")) == [dt.date(2024, 4, 1)] * 2


def test_far_dates_in_a_declared_format_are_still_out_of_span(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when\na,31/12/9999\n")
    [p] = problems(tmp_path, dated("DD/MM/YYYY"))
    assert "outside the dates pmirc evaluates" in p.message and p.rows == (2,)


def test_parquet_text_dates_follow_the_format_and_native_dates_ignore_it(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a", "b"], "when": ["01/04/2024", "02/04/2024"]}),
                   tmp_path / "t.parquet")
    assert days(tmp_path, dated("DD/MM/YYYY")) == [dt.date(2024, 4, 1), dt.date(2024, 4, 2)]
    pq.write_table(pa.table({"id": ["a"], "when": pa.array([dt.date(2024, 4, 1)])}),
                   tmp_path / "t.parquet")
    assert days(tmp_path, dated("DD/MM/YYYY")) == [dt.date(2024, 4, 1)]


def test_undeclared_day_first_dates_get_the_hint_to_declare(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when\na,31/03/2024\n")
    [p] = problems(tmp_path, dated(None))
    assert p.message == "not a valid date (expected YYYY-MM-DD)"
    assert 'dates "DD/MM/YYYY"' in p.hint and 'when: date("DD/MM/YYYY")' in p.hint
    assert p.hint.startswith("write dates as YYYY-MM-DD")
    (tmp_path / "t.csv").write_text("id,when\na,March 2024\n")
    [p] = problems(tmp_path, dated(None))
    assert p.hint.startswith("write dates as YYYY-MM-DD") and "declare" not in p.hint


# ---- declaring a format in the contract -------------------------------------------------------

CONTRACT = '''contract "C" {
  service start 2024-04-01
}

table referrals "one row per referral" dates "DD/MM/YYYY" {
  referral_id: id
  referral_date: date
  end_date: date("D-MMM-YYYY")?    "its own format"
  iso_date: date("YYYY-MM-DD")?
  n: integer?
}

table other {
  other_id: id
  seen: date
}
'''


def test_a_tables_format_and_a_columns_own() -> None:
    c = check_source(CONTRACT, "c.pmir")
    formats = {col.name: col.date_format for t in c.tables for col in t.columns}
    assert formats == {"referral_id": None, "referral_date": "DD/MM/YYYY",
                       "end_date": "D-MMM-YYYY", "iso_date": None, "n": None,
                       "other_id": None, "seen": None}


def test_rule_tests_write_dates_as_iso() -> None:
    c = check_source(CONTRACT, "c.pmir")
    assert all(col.date_format is None for col in iso_dates(c.tables[0]).columns)


# ---- CSV files as Excel saves them -------------------------------------------------------------


def test_an_excel_csv_utf8_export_loads(tmp_path: Path) -> None:
    """'CSV UTF-8' from Excel: a byte order mark, CRLF line ends, TRUE/FALSE, day-first dates
    and empty columns after the last one used (a cleared column keeps its commas)."""
    text = ("\ufeffid,when,ok,,\r\n"
            "a,01/04/2024,TRUE,,\r\n"
            "b,02/04/2024,FALSE,,\r\n")
    (tmp_path / "t.csv").write_bytes(text.encode("utf-8"))
    spec = TableSpec("t", (ColumnSpec("id", T.ID), ColumnSpec("when", T.DATE,
                                                              date_format="DD/MM/YYYY"),
                           ColumnSpec("ok", T.BOOL)))
    t = load_table(tmp_path, spec)
    assert t.columns["id"].values.to_pylist() == ["a", "b"]
    assert t.columns["when"].values.tolist() == [dt.date(2024, 4, 1), dt.date(2024, 4, 2)]
    assert t.columns["ok"].values.tolist() == [1, 0]


def test_a_windows_1252_export_is_named_by_column_and_row(tmp_path: Path) -> None:
    """Excel's plain 'CSV' is Windows-1252: refused (decision 282), each column with its rows."""
    (tmp_path / "t.csv").write_bytes("id,name\r\na,Zo\u00eb\r\nb,Ann\r\nc,\u00a3 5\r\n"
                                     .encode("cp1252"))
    spec = TableSpec("t", (ColumnSpec("id", T.ID), ColumnSpec("name", T.TEXT)))
    [p] = problems(tmp_path, spec)
    assert (p.column, p.message, p.rows, p.count) == ("name", "text that is not UTF-8", (2, 4), 2)
    assert "CSV UTF-8" in p.hint


# ---- header rows and line ends ----------------------------------------------------------------


def two_columns() -> TableSpec:
    return TableSpec("t", (ColumnSpec("id", T.ID), ColumnSpec("when", T.DATE)))


def test_old_mac_line_ends(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"id,when\ra,2024-04-01\rb,2024-04-02\r")
    t = load_table(tmp_path, two_columns())
    assert t.columns["id"].values.to_pylist() == ["a", "b"]


@pytest.mark.parametrize("header,shown", [
    ("\ufeff\ufeffid,when", "'\\ufeffid': the name with a byte order mark (U+FEFF) in it (the "
                            "file starts with two byte order marks)"),
    ("id,when\u200b", "'when\\u200b': the name with a zero-width space (U+200B) in it;"),
    ("id, when ", "' when ': the name with a space in it;"),
    ("id,wh\u00a0en", "the name with a no-break space (U+00A0) in it"),
])
def test_invisible_characters_in_a_header_name_are_named(tmp_path: Path, header: str,
                                                         shown: str) -> None:
    (tmp_path / "t.csv").write_text(header + "\na,2024-04-01\n", encoding="utf-8")
    [p] = problems(tmp_path, two_columns())
    assert p.message == "missing column" and shown in p.hint


def test_a_huge_header_cell(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when," + "x" * 200_000 + "\na,2024-04-01,\n")
    [p] = problems(tmp_path, two_columns())
    assert p.message == "a header cell is longer than 131,072 characters"
    assert "quote left open" in p.hint


def test_a_header_row_longer_than_a_block_is_never_read_whole(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,when," + "x," * 3_000_000 + "\na,2024-04-01\n")
    [p] = problems(tmp_path, two_columns())
    assert p.message == "the header row is longer than 4,194,304 bytes"


def test_a_header_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes("id,when,café\na,2024-04-01,\n".encode("cp1252"))
    [p] = problems(tmp_path, two_columns())
    assert p.message == "the header row is not UTF-8 text" and "CSV UTF-8" in p.hint


# ---- empty strings in Parquet (decision 284) ---------------------------------------------------


def test_empty_strings_in_parquet_are_empty_cells(tmp_path: Path) -> None:
    """'' in a Parquet date column is an empty cell, as in CSV: one problem with the count for a
    required column; nothing for an optional one. Text and categories (read as dictionaries)
    alike."""
    n = 1000
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(n)], "when": [""] * (n - 1) + [
        "2024-04-01"], "kind": pa.array(["", "a"] * (n // 2)).dictionary_encode(),
        "note": ["", "x"] * (n // 2)}), tmp_path / "t.parquet")
    [p] = problems(tmp_path, two_columns())
    assert (p.message, p.count, p.rows[:2]) == (
        "empty, but a value is required (rows are record numbers, counting from 1)", n - 1, (1, 2))
    spec = TableSpec("t", (ColumnSpec("id", T.ID), ColumnSpec("when", T.DATE, True),
                           ColumnSpec("kind", T.CATEGORY, True, ("a",)),
                           ColumnSpec("note", T.TEXT, True)))
    t = load_table(tmp_path, spec)
    assert int((~t.columns["when"].present()).sum()) == n - 1
    assert t.columns["kind"].values.tolist()[:2] == [-1, 0]
    note = t.columns["note"]
    assert note.dictionary == ("x",) and note.values.tolist()[:2] == [-1, 0]


# ---- any text under a declared format: the date Python reads, or a problem for the row --------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(["01", "1", "31", "30", "29", "00", "02", "12", "13", "2024", "2023",
                           "0000", "1899", "/", "-", " ", "Feb", "feb", "\u0661", "\ufeff", "x"])
_FORMATS = {"DD/MM/YYYY": "%d/%m/%Y", "D/M/YYYY": "%d/%m/%Y", "DD-MMM-YYYY": "%d-%b-%Y"}
_SHAPES = {"DD/MM/YYYY": r"\d\d/\d\d/\d{4}", "D/M/YYYY": r"\d\d?/\d\d?/\d{4}",
           "DD-MMM-YYYY": r"\d\d-[A-Za-z]{3}-\d{4}"}


def _python_reading(value: str, fmt: str) -> dt.date | None:
    """What the format means, read by Python: the shape in ASCII digits, then a real date."""
    if not re.fullmatch(_SHAPES[fmt], value, re.ASCII):
        return None
    try:
        return dt.datetime.strptime(value, _FORMATS[fmt]).date()
    except ValueError:
        return None


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.lists(_PIECES, min_size=1, max_size=6).map("".join), min_size=1,
                       max_size=8), fmt=st.sampled_from(sorted(_FORMATS)))
def test_declared_formats_read_as_python_reads_them(tmp_path: Path, values: list[str],
                                                    fmt: str) -> None:
    rows = [f"r{i},{v}" for i, v in enumerate(values)]
    (tmp_path / "t.csv").write_text("id,when\n" + "\n".join(rows) + "\n", encoding="utf-8")
    expected = [_python_reading(v, fmt) for v in values]
    bad = [i + 2 for i, (v, e) in enumerate(zip(values, expected)) if e is None and v]
    try:
        got = days(tmp_path, dated(fmt))
    except DataError as e:
        rows_reported = [r for p in e.problems if p.column == "when" for r in p.rows]
        spanned = [i + 2 for i, d in enumerate(expected) if d and not 1900 <= d.year <= 2199]
        assert rows_reported == (bad or spanned)[:5]  # the span is checked once all parse
        return
    assert not bad and got == [e if v else None for v, e in zip(values, expected)]


def test_schema_shows_a_declared_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    from pmir_dsl.cli import main

    measure = ('measure M "m" {\n  population referrals\n  month of referral_date\n'
               '  met when end_date is present\n  target at least 50%\n}\n')
    (tmp_path / "c.pmir").write_text(CONTRACT + measure, encoding="utf-8")
    assert main(["schema", str(tmp_path / "c.pmir")]) == 0
    out = capsys.readouterr().out
    assert "referral_date                date written DD/MM/YYYY\n" in out
    assert "end_date                     date written D-MMM-YYYY, may be empty" in out


def test_a_rule_test_of_a_contract_with_declared_formats_writes_iso_dates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Decision 281, end to end: ``pmirc test`` reads a test's ISO dates though the contract
    declares DD/MM/YYYY for its data files (read with it, 2024-04-03 would be a bad date)."""
    from pmir_dsl.cli import main

    measure = ('measure M "m" {\n  population referrals\n  month of referral_date\n'
               '  met when end_date is present\n  target at least 50%\n}\n')
    (tmp_path / "c.pmir").write_text(CONTRACT + measure, encoding="utf-8")
    (tmp_path / "c.pmirtest").write_text('''test "ISO dates in a test" {
  as of 2024-04-30
  table referrals {
    | referral_id | referral_date | end_date   |
    | R1          | 2024-04-03    | 2024-04-20 |
    | R2          | 2024-04-05    |            |
  }
  expect M 2024-04 in_month: 1 of 2, met
}
''', encoding="utf-8")
    assert main(["test", str(tmp_path / "c.pmirtest")]) == 0, capsys.readouterr()
