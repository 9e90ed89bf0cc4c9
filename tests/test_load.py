"""Tests for pmir_dsl.load: finding, reading and type-checking a contract's data tables."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmir_dsl.errors import DataError, DataProblem
from pmir_dsl.load import load_table, load_tables
from pmir_dsl.schema import ColumnSpec, ColumnType, TableSpec

T = ColumnType


def col(name: str, kind: ColumnType, nullable: bool = False, categories=()) -> ColumnSpec:
    return ColumnSpec(name, kind, nullable, tuple(categories))


def table(name: str, *columns: ColumnSpec) -> TableSpec:
    return TableSpec(name, tuple(columns))


def write(folder: Path, filename: str, text: str | bytes) -> Path:
    path = folder / filename
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def problems_of(excinfo: pytest.ExceptionInfo[DataError]) -> list[DataProblem]:
    return excinfo.value.problems


def one_problem(folder: Path, spec: TableSpec) -> DataProblem:
    with pytest.raises(DataError) as excinfo:
        load_table(folder, spec)
    problems = problems_of(excinfo)
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


EVERY_TYPE = table(
    "things",
    col("thing_id", T.ID),
    col("note", T.TEXT, nullable=True),
    col("kind", T.CATEGORY, nullable=True, categories=["virtual", "face_to_face", "enhanced"]),
    col("when", T.DATE, nullable=True),
    col("ok", T.BOOL, nullable=True),
    col("n", T.INTEGER, nullable=True),
    col("amount", T.DECIMAL, nullable=True),
    col("month", T.MONTH, nullable=True),
    col("quarter", T.QUARTER, nullable=True),
)

EVERY_TYPE_CSV = (
    "thing_id,note,kind,when,ok,n,amount,month,quarter\n"
    "a1,zebra,enhanced,2024-02-29,TRUE,42,12.5,2024-03,2024-Q2\n"
    "a2,apple,virtual,1999-12-31,false,-7,-0.000001,1970-01,1970-Q1\n"
    "a3,,,,,,,,\n"
    "a4,zebra,face_to_face,2024-01-01,True,+0,100,1969-12,2023-Q4\n"
)


# ---------------------------------------------------------------------------------------------
# CSV happy paths


def test_every_type_from_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "things.csv", EVERY_TYPE_CSV)
    t = load_table(tmp_path, EVERY_TYPE)
    assert (t.name, t.path, t.rows) == ("things", str(path), 4)
    assert t.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    c = t.columns
    assert isinstance(c["thing_id"].values, pa.StringArray)
    assert c["thing_id"].values.to_pylist() == ["a1", "a2", "a3", "a4"]
    assert c["note"].values.dtype == np.int32 and c["note"].values.tolist() == [1, 0, -1, 1]
    assert c["note"].dictionary == ("apple", "zebra")
    assert c["kind"].values.dtype == np.int32 and c["kind"].values.tolist() == [2, 0, -1, 1]
    assert c["when"].values.dtype == np.dtype("datetime64[D]")
    expected = np.array(["2024-02-29", "1999-12-31", "NaT", "2024-01-01"], "datetime64[D]")
    np.testing.assert_array_equal(c["when"].values, expected)
    assert c["ok"].values.dtype == np.int8 and c["ok"].values.tolist() == [1, 0, -1, 1]
    assert c["n"].values.dtype == np.int64 and c["n"].values.tolist() == [42, -7, 0, 0]
    assert c["n"].valid.tolist() == [True, True, False, True]
    assert c["amount"].values.dtype == np.int64
    assert c["amount"].values.tolist() == [12_500_000, -1, 0, 100_000_000]
    assert c["amount"].valid.tolist() == [True, True, False, True]
    month_2024_03 = int(np.datetime64("2024-03", "M").astype(int))
    assert c["month"].values.dtype == np.int32
    assert c["month"].values.tolist() == [month_2024_03, 0, 0, -1]
    assert c["month"].valid.tolist() == [True, True, False, True]
    assert c["quarter"].values.dtype == np.int32
    assert c["quarter"].values.tolist() == [month_2024_03 + 1, 0, 0, (2023 - 1970) * 12 + 9]


def test_valid_mask_is_none_without_nulls(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "n,m\n1,2024-01\n2,2024-02\n")
    t = load_table(tmp_path, table("t", col("n", T.INTEGER), col("m", T.MONTH)))
    assert t.columns["n"].valid is None and t.columns["m"].valid is None


def test_bom_crlf_and_quoted_newline(tmp_path: Path) -> None:
    text = '\ufeffid,note,when\r\nx,"two\r\nlines",2024-01-05\r\ny,"say ""hi""",2024-01-06\r\n'
    write(tmp_path, "t.csv", text)
    t = load_table(tmp_path, table("t", col("id", T.ID), col("note", T.TEXT), col("when", T.DATE)))
    assert t.rows == 2
    assert t.columns["id"].values.to_pylist() == ["x", "y"]
    assert t.columns["note"].dictionary == ("say \"hi\"", "two\r\nlines")
    assert t.columns["when"].values.tolist() == [dt.date(2024, 1, 5), dt.date(2024, 1, 6)]


def test_rows_after_a_quoted_newline_keep_spreadsheet_record_numbers(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", 'note,when\n"a\nb",2024-01-01\nc,bad\n')
    p = one_problem(tmp_path, table("t", col("note", T.TEXT), col("when", T.DATE)))
    assert (p.column, p.rows, p.count) == ("when", (3,), 1)


def test_columns_in_another_order_and_extra_columns_ignored(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "extra,when,junk,id\nq,2024-01-01,1,a\nr,2024-01-02,2,b\n")
    t = load_table(tmp_path, table("t", col("id", T.ID), col("when", T.DATE)))
    assert list(t.columns) == ["id", "when"]
    assert t.columns["id"].values.to_pylist() == ["a", "b"]


def test_only_declared_columns_are_read(tmp_path: Path) -> None:
    # the undeclared column holds bytes that are not UTF-8 and would fail any type
    write(tmp_path, "t.csv", b"id,junk\na,\xff\xfe\nb,\x80\n")
    t = load_table(tmp_path, table("t", col("id", T.ID)))
    assert t.columns["id"].values.to_pylist() == ["a", "b"]


def test_empty_line_is_an_empty_cell_in_a_one_column_file(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "d\n2024-01-01\n\n2024-01-03\n")
    t = load_table(tmp_path, table("t", col("d", T.DATE, nullable=True)))
    assert t.rows == 3 and np.isnat(t.columns["d"].values).tolist() == [False, True, False]


def test_empty_line_is_skipped_in_a_wider_file(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "id,d\na,2024-01-01\n\nb,2024-01-03\n\n")
    t = load_table(tmp_path, table("t", col("id", T.ID), col("d", T.DATE)))
    assert t.columns["id"].values.to_pylist() == ["a", "b"]


def test_only_an_empty_cell_is_null(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", 'id,note\nNA,NULL\nn/a,""\nnull,\n')
    t = load_table(tmp_path, table("t", col("id", T.ID), col("note", T.TEXT, nullable=True)))
    assert t.columns["id"].values.to_pylist() == ["NA", "n/a", "null"]
    assert t.columns["note"].values.tolist() == [0, -1, -1]
    assert t.columns["note"].dictionary == ("NULL",)


def test_empty_table_has_typed_empty_columns(tmp_path: Path) -> None:
    write(tmp_path, "things.csv", EVERY_TYPE_CSV.splitlines()[0] + "\n")
    t = load_table(tmp_path, EVERY_TYPE)
    assert t.rows == 0
    c = t.columns
    assert isinstance(c["thing_id"].values, pa.StringArray) and len(c["thing_id"].values) == 0
    dtypes = {name: c[name].values.dtype for name in c if name != "thing_id"}
    assert dtypes == {
        "note": np.int32, "kind": np.int32, "when": np.dtype("datetime64[D]"), "ok": np.int8,
        "n": np.int64, "amount": np.int64, "month": np.int32, "quarter": np.int32,
    }
    assert all(len(c[name].values) == 0 for name in c)
    assert c["note"].dictionary == ()


def test_bool_case_insensitive(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "b\nTRUE\nFalse\ntRuE\nfalse\n")
    t = load_table(tmp_path, table("t", col("b", T.BOOL)))
    assert t.columns["b"].values.tolist() == [1, 0, 1, 0]


def test_integers(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "n\n+5\n-3\n007\n999999999999999999\n")
    t = load_table(tmp_path, table("t", col("n", T.INTEGER)))
    assert t.columns["n"].values.tolist() == [5, -3, 7, 999_999_999_999_999_999]


def test_bad_integers(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "n\n1\n0x10\n1.5\n 2\n1e3\n")
    p = one_problem(tmp_path, table("t", col("n", T.INTEGER)))
    assert (p.column, p.rows, p.count) == ("n", (3, 4, 5, 6), 4)
    assert p.values == ("0x10", "1.5", " 2", "1e3")


def test_month_and_quarter(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "m,q\n2024-03,2024-Q2\n1970-01,1970-Q4\n2000-12,2001-Q1\n")
    t = load_table(tmp_path, table("t", col("m", T.MONTH), col("q", T.QUARTER)))
    months = [np.datetime64(m, "M").astype(int) for m in ("2024-03", "1970-01", "2000-12")]
    assert t.columns["m"].values.tolist() == months
    quarters = [np.datetime64(m, "M").astype(int) for m in ("2024-04", "1970-10", "2001-01")]
    assert t.columns["q"].values.tolist() == quarters


def test_bad_month_and_quarter(tmp_path: Path) -> None:
    text = "m,q\n2024-13,2024-Q5\n2024-3,2024Q1\n2024-00,2024-q1\n2024-01,2024-Q1\n"
    write(tmp_path, "t.csv", text)
    with pytest.raises(DataError) as excinfo:
        load_table(tmp_path, table("t", col("m", T.MONTH), col("q", T.QUARTER)))
    m, q = problems_of(excinfo)
    assert (m.column, m.rows, m.count) == ("m", (2, 3, 4), 3)
    assert m.values == ("2024-13", "2024-3", "2024-00")
    assert (q.column, q.rows, q.count) == ("q", (2, 3, 4), 3)


# ---------------------------------------------------------------------------------------------
# Decimals


def test_decimal_exactness(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "x\n0.1\n0.2\n")
    values = load_table(tmp_path, table("t", col("x", T.DECIMAL))).columns["x"].values
    assert values.tolist() == [100_000, 200_000]
    assert int(values.sum()) == 300_000


def test_decimal_forms(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "x\n1.5000000\n-0.5\n+2\n999999999999.999999\n007.25\n")
    values = load_table(tmp_path, table("t", col("x", T.DECIMAL))).columns["x"].values
    assert values.tolist() == [1_500_000, -500_000, 2_000_000, 999_999_999_999_999_999, 7_250_000]


def test_decimal_with_very_many_zeros(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "x\n" + "0" * 60 + "1.5\n-2.25" + "0" * 60 + "\n")
    values = load_table(tmp_path, table("t", col("x", T.DECIMAL))).columns["x"].values
    assert values.tolist() == [1_500_000, -2_250_000]


def test_decimal_with_more_than_six_places(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "x\n1.5\n0.1234567\n2\n3.00000001\n")
    p = one_problem(tmp_path, table("t", col("x", T.DECIMAL)))
    assert (p.column, p.rows, p.values, p.count) == ("x", (3, 5), ("0.1234567", "3.00000001"), 2)
    assert "6 decimal places" in p.message


def test_bad_decimals_are_sorted_by_kind(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", 'x\n"1,000"\n£5\n1e3\n.5\n5.\n1234567890123\n')
    with pytest.raises(DataError) as excinfo:
        load_table(tmp_path, table("t", col("x", T.DECIMAL)))
    too_big, not_number = problems_of(excinfo)
    assert (too_big.rows, too_big.count) == ((7,), 1)
    assert (not_number.rows, not_number.count) == ((2, 3, 4, 5, 6), 5)


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=-10**11, max_value=10**11, places=6, allow_nan=False))
def test_decimal_text_is_exact(tmp_path_factory: pytest.TempPathFactory, value: Decimal) -> None:
    folder = tmp_path_factory.mktemp("dec")
    write(folder, "t.csv", f"x\n{value:f}\n")
    values = load_table(folder, table("t", col("x", T.DECIMAL))).columns["x"].values
    assert values.tolist() == [int(value * 10**6)]


# ---------------------------------------------------------------------------------------------
# Problems in values


def test_bad_dates(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "d\n2024-01-31\n2024-13-01\n2024-02-30\n01/02/2024\n2023-02-29\n\n")
    p = one_problem(tmp_path, table("t", col("d", T.DATE, nullable=True)))
    assert p.column == "d"
    assert p.rows == (3, 4, 5, 6)
    assert p.values == ("2024-13-01", "2024-02-30", "01/02/2024", "2023-02-29")
    assert p.count == 4
    assert p.file == str(tmp_path / "t.csv")
    assert "YYYY-MM-DD" in p.message


def test_bad_dates_show_first_five_and_count_all(tmp_path: Path) -> None:
    rows = ["2024-01-01" if i % 3 else "2024-1-1" for i in range(30)]
    write(tmp_path, "t.csv", "d\n" + "\n".join(rows) + "\n")
    p = one_problem(tmp_path, table("t", col("d", T.DATE)))
    assert p.rows == (2, 5, 8, 11, 14) and p.count == 10
    assert "and 5 more" in p.render()


def test_unknown_category(tmp_path: Path) -> None:
    spec = table("t", col("kind", T.CATEGORY, categories=["virtual", "face_to_face", "enhanced"]))
    write(tmp_path, "t.csv", "kind\nvirtual\nface to face\nVirtual\nface to face\nenhanced\n")
    p = one_problem(tmp_path, spec)
    assert (p.column, p.rows, p.count) == ("kind", (3, 4, 5), 3)
    assert p.values == ("face to face", "Virtual", "face to face")
    assert "'face to face'" in p.message and "'Virtual'" in p.message
    assert "did you mean 'face_to_face' for 'face to face'" in p.hint
    assert "'virtual' for 'Virtual'" in p.hint
    assert "allowed values: virtual, face_to_face, enhanced" in p.hint


def test_bad_bool(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "b\ntrue\nyes\n1\nFALSE\n")
    p = one_problem(tmp_path, table("t", col("b", T.BOOL)))
    assert (p.column, p.rows, p.values, p.count) == ("b", (3, 4), ("yes", "1"), 2)


def test_required_column_with_empty_cells(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "id,d\na,2024-01-01\nb,\nc,\n")
    p = one_problem(tmp_path, table("t", col("id", T.ID), col("d", T.DATE)))
    assert (p.column, p.rows, p.count) == ("d", (3, 4), 2)
    assert p.message == "empty, but a value is required"
    assert "?" in p.hint


def test_bad_values_are_not_also_reported_as_empty(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "d\nnope\n2024-01-01\n")
    p = one_problem(tmp_path, table("t", col("d", T.DATE)))
    assert p.rows == (2,) and "YYYY-MM-DD" in p.message


def test_empty_id(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "id\na\n\n")
    p = one_problem(tmp_path, table("t", col("id", T.ID, nullable=True)))
    assert (p.column, p.rows, p.count) == ("id", (3,), 1)


def test_duplicate_ids(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "id\nz\nb\na\nz\nc\nb\nz\n")
    p = one_problem(tmp_path, table("t", col("id", T.ID)))
    assert p.column == "id"
    assert p.count == 5  # rows that share an id: b twice, z three times
    assert p.rows == (3, 7, 2, 5, 8)  # grouped by id in sorted order: b, then z
    assert p.values == ("b", "b", "z", "z", "z")
    assert "2 ids" in p.message and "'b', 'z'" in p.message


def test_problems_in_several_columns_come_in_declaration_order(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "a,b,c\nx,2024-13-01,maybe\nx,2024-01-01,true\n")
    with pytest.raises(DataError) as excinfo:
        load_table(tmp_path, table("t", col("a", T.ID), col("b", T.DATE), col("c", T.BOOL)))
    assert [p.column for p in problems_of(excinfo)] == ["a", "b", "c"]


# ---------------------------------------------------------------------------------------------
# Finding files and columns


def test_missing_file_with_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path, "referals.csv", "x\n")
    write(tmp_path, "outcomes.csv", "x\n")
    p = one_problem(tmp_path, table("referrals", col("x", T.TEXT)))
    assert p.file == str(tmp_path / "referrals.csv")
    assert p.message.startswith("missing table file: expected referrals.csv, referrals.parquet")
    assert p.hint == "did you mean 'referals.csv'?"


def test_missing_file_lists_the_files_present(tmp_path: Path) -> None:
    write(tmp_path, "outcomes.csv", "x\n")
    write(tmp_path, "meetings.parquet", b"")
    p = one_problem(tmp_path, table("referrals", col("x", T.TEXT)))
    assert p.hint == "the folder has: meetings.parquet, outcomes.csv"


def test_missing_data_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError) as excinfo:
        load_tables(tmp_path / "nowhere", [table("t", col("x", T.TEXT))])
    (p,) = problems_of(excinfo)
    assert p.message == "data folder not found"


def test_missing_column_with_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "referal_date,provider\n2024-01-01,p\n")
    p = one_problem(tmp_path, table("t", col("referral_date", T.DATE), col("provider", T.TEXT)))
    assert (p.column, p.message, p.hint) == (
        "referral_date", "missing column", "did you mean 'referal_date'?"
    )


def test_missing_column_lists_the_header(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "a,b,c\n1,2,3\n")
    p = one_problem(tmp_path, table("t", col("zzz", T.TEXT)))
    assert (p.column, p.hint) == ("zzz", "the file has columns: a, b, c")


def test_declared_column_named_twice_in_the_header(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "a,b,a\n1,2,3\n")
    p = one_problem(tmp_path, table("t", col("a", T.TEXT), col("b", T.TEXT)))
    assert p.column == "a" and "2 times" in p.message


def test_csv_and_parquet_both_present_is_ambiguous(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "x\n1\n")
    pq.write_table(pa.table({"x": ["1"]}), tmp_path / "t.parquet")
    p = one_problem(tmp_path, table("t", col("x", T.TEXT)))
    assert "ambiguous" in p.message and "t.csv" in p.message and "t.parquet" in p.message


# ---------------------------------------------------------------------------------------------
# Unreadable files


def test_ragged_row_names_the_row(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "a,b\n1,2\n3,4\n5\n6,7\n")
    p = one_problem(tmp_path, table("t", col("a", T.TEXT)))
    assert p.rows == (4,) and p.count == 1
    assert p.message.startswith("cannot read the file: Expected 2 columns, got 1")
    assert "Traceback" not in p.render() and p.hint


def test_not_utf8(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "a,b\n1,caf\xe9\n".encode("latin-1"))
    p = one_problem(tmp_path, table("t", col("a", T.TEXT), col("b", T.TEXT)))
    assert p.column == "b" and "UTF" in p.message and "UTF-8" in p.hint


def test_empty_file(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", b"")
    p = one_problem(tmp_path, table("t", col("a", T.TEXT)))
    assert "empty" in p.message


def test_not_a_parquet_file(tmp_path: Path) -> None:
    write(tmp_path, "t.parquet", b"this is not parquet")
    p = one_problem(tmp_path, table("t", col("a", T.TEXT)))
    assert p.message.startswith("cannot read the file") and p.file == str(tmp_path / "t.parquet")


# ---------------------------------------------------------------------------------------------
# Parquet


def test_parquet_file_with_native_types(tmp_path: Path) -> None:
    data = pa.table({
        "extra": pa.array([1, 2, 3]),
        "id": pa.array(["b", "a", "c"]).dictionary_encode(),
        "when": pa.array([dt.date(2024, 1, 2), None, dt.date(2023, 5, 6)], pa.date32()),
        "stamp": pa.array([dt.datetime(2024, 1, 2, 13, 0), None, None], pa.timestamp("us")),
        "flag": pa.array([True, None, False]),
        "n": pa.array([1, None, 3], pa.int32()),
        "whole": pa.array([1.0, float("nan"), 3.0]),
        "amount": pa.array([Decimal("0.1"), Decimal("0.2"), None], pa.decimal128(10, 3)),
        "fl": pa.array([0.1, 0.2, 2 / 3]),
        "month": pa.array(["2024-01", None, "2024-02"]),
        "kind": pa.array([1, 2, 1], pa.int64()),
    })
    path = tmp_path / "t.parquet"
    pq.write_table(data, path)
    spec = table(
        "t", col("id", T.ID), col("when", T.DATE, True), col("stamp", T.DATE, True),
        col("flag", T.BOOL, True), col("n", T.INTEGER, True), col("whole", T.INTEGER, True),
        col("amount", T.DECIMAL, True), col("fl", T.DECIMAL), col("month", T.MONTH, True),
        col("kind", T.CATEGORY, categories=["2", "1"]),
    )
    t = load_table(tmp_path, spec)
    c = t.columns
    assert (t.path, t.rows) == (str(path), 3)
    assert t.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert c["id"].values.to_pylist() == ["b", "a", "c"]
    assert c["when"].values.tolist() == [dt.date(2024, 1, 2), None, dt.date(2023, 5, 6)]
    assert c["stamp"].values.tolist() == [dt.date(2024, 1, 2), None, None]
    assert c["flag"].values.dtype == np.int8 and c["flag"].values.tolist() == [1, -1, 0]
    assert c["n"].values.dtype == np.int64 and c["n"].valid.tolist() == [True, False, True]
    assert c["whole"].values.tolist() == [1, 0, 3]
    assert c["whole"].valid.tolist() == [True, False, True]
    assert c["amount"].values.tolist() == [100_000, 200_000, 0]
    assert c["fl"].values.tolist() == [100_000, 200_000, 666_667]
    assert c["month"].values.tolist() == [648, 0, 649]
    assert c["kind"].values.tolist() == [1, 0, 1]


def test_parquet_all_null_column(tmp_path: Path) -> None:
    data = pa.table({"id": ["a", "b"], "d": pa.array([None, None], pa.null())})
    pq.write_table(data, tmp_path / "t.parquet")
    t = load_table(tmp_path, table("t", col("id", T.ID), col("d", T.DATE, nullable=True)))
    assert np.isnat(t.columns["d"].values).tolist() == [True, True]
    p = one_problem(tmp_path, table("t", col("id", T.ID), col("d", T.DATE)))
    assert (p.column, p.rows, p.count) == ("d", (1, 2), 2)


def test_parquet_wrong_type_for_a_date(tmp_path: Path) -> None:
    pq.write_table(pa.table({"d": pa.array([20240101, 20240102])}), tmp_path / "t.parquet")
    p = one_problem(tmp_path, table("t", col("d", T.DATE)))
    assert (p.column, p.message) == ("d", "expected a date, the file has int64")


def test_parquet_strings_are_parsed_like_csv(tmp_path: Path) -> None:
    pq.write_table(pa.table({"d": ["2024-01-01", "2024-02-30"]}), tmp_path / "t.parquet")
    p = one_problem(tmp_path, table("t", col("d", T.DATE)))
    assert (p.rows, p.values, p.count) == ((2,), ("2024-02-30",), 1)  # record numbers from 1
    assert "record numbers" in p.message


def test_parquet_numeric_problems(tmp_path: Path) -> None:
    data = {"n": pa.array([1.0, 2.5]), "x": pa.array([Decimal("1.1234567"), Decimal("1")])}
    pq.write_table(pa.table(data), tmp_path / "t.parquet")
    with pytest.raises(DataError) as excinfo:
        load_table(tmp_path, table("t", col("n", T.INTEGER), col("x", T.DECIMAL)))
    n, x = problems_of(excinfo)
    assert (n.column, n.rows, n.count) == ("n", (2,), 1)
    assert n.message.startswith("not a whole number")
    assert (x.column, x.rows, x.count) == ("x", (1,), 1)


def test_partitioned_parquet_folder(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    second = pa.table({"id": ["c", "d"], "x": pa.array([3, 4], pa.int64())})
    first = pa.table({"id": ["a", "b"], "x": pa.array([1, 2], pa.int32())})  # promoted to int64
    pq.write_table(second, folder / "part-1.parquet")
    pq.write_table(first, folder / "part-0.parquet")
    (folder / "notes.txt").write_text("not a part")
    t = load_table(tmp_path, table("t", col("id", T.ID), col("x", T.INTEGER)))
    assert (t.path, t.rows) == (str(folder), 4)
    assert t.columns["id"].values.to_pylist() == ["a", "b", "c", "d"]
    assert t.columns["x"].values.tolist() == [1, 2, 3, 4]
    digest = hashlib.sha256()
    for name in ("part-0.parquet", "part-1.parquet"):
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    assert t.sha256 == digest.hexdigest()


def test_partitioned_parquet_missing_column_names_the_part(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    pq.write_table(pa.table({"id": ["a"]}), folder / "a.parquet")
    pq.write_table(pa.table({"idd": ["b"]}), folder / "b.parquet")
    p = one_problem(tmp_path, table("t", col("id", T.ID)))
    assert (p.file, p.column, p.hint) == (str(folder / "b.parquet"), "id", "did you mean 'idd'?")


def test_empty_parquet_folder(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    p = one_problem(tmp_path, table("t", col("id", T.ID)))
    assert "no .parquet files" in p.message


# ---------------------------------------------------------------------------------------------
# Several tables


def test_problems_across_tables_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "id,d\nx,2024-13-01\n")
    write(tmp_path, "b.csv", "id\ny\ny\n")
    write(tmp_path, "ok.csv", "id\nz\n")
    specs = [
        table("a", col("id", T.ID), col("d", T.DATE)),
        table("b", col("id", T.ID)),
        table("missing", col("id", T.ID)),
        table("ok", col("id", T.ID)),
    ]
    with pytest.raises(DataError) as excinfo:
        load_tables(tmp_path, specs)
    problems = problems_of(excinfo)
    assert [(Path(p.file).name, p.column) for p in problems] == [
        ("a.csv", "d"), ("b.csv", "id"), ("missing.csv", None)
    ]
    assert "2024-13-01" in str(excinfo.value)


def test_load_tables_happy(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", "id\nx\n")
    write(tmp_path, "b.csv", "n\n1\n")
    specs = [table("a", col("id", T.ID)), table("b", col("n", T.INTEGER))]
    tables = load_tables(str(tmp_path), specs)
    assert list(tables) == ["a", "b"] and tables["b"].columns["n"].values.tolist() == [1]


def test_text_dictionary_does_not_depend_on_row_order(tmp_path: Path) -> None:
    names = ["pear", "apple", "fig", "apple", "", "banana"]
    write(tmp_path, "a.csv", "t\n" + "\n".join(names) + "\n")
    write(tmp_path, "b.csv", "t\n" + "\n".join(reversed(names)) + "\n")
    spec_a, spec_b = table("a", col("t", T.TEXT, True)), table("b", col("t", T.TEXT, True))
    a, b = load_table(tmp_path, spec_a).columns["t"], load_table(tmp_path, spec_b).columns["t"]
    assert a.dictionary == b.dictionary == ("apple", "banana", "fig", "pear")
    assert a.values.tolist() == b.values.tolist()[::-1] == [3, 0, 2, 0, -1, 1]
    assert a.take_strings(np.arange(6)) == ["pear", "apple", "fig", "apple", "", "banana"]


def test_large_table_is_vectorised(tmp_path: Path) -> None:
    n = 200_000
    days = np.datetime64("2020-01-01") + np.arange(n) % 1000
    lines = [f"id{i},{d},{'true' if i % 2 else 'FALSE'}" for i, d in enumerate(days.astype(str))]
    lines[150_000] = "id150000,2020-02-30,true"
    lines[199_999] = "id0,2020-01-01,true"
    write(tmp_path, "t.csv", "id,d,b\n" + "\n".join(lines) + "\n")
    with pytest.raises(DataError) as excinfo:
        load_table(tmp_path, table("t", col("id", T.ID), col("d", T.DATE), col("b", T.BOOL)))
    dup, bad_date = problems_of(excinfo)
    assert (dup.rows, dup.count) == ((2, 200_001), 2)
    assert (bad_date.rows, bad_date.values) == ((150_002,), ("2020-02-30",))


def test_date_spans_the_loader_records_are_numpys(tmp_path: Path) -> None:
    """The loader gives each date column its earliest and latest date from Arrow (nulls
    skipped); they must be numpy's over the loaded values, NaT left out: a column with gaps,
    one of nulls only, a Parquet timestamp column and CSV text."""
    from pmir_dsl import limits

    days = [dt.date(2024, 5, 2), None, dt.date(2023, 1, 31), dt.date(2025, 12, 1), None]
    pq.write_table(pa.table({
        "gaps": pa.array(days, pa.date32()), "none": pa.array([None] * 5, pa.date32()),
        "stamps": pa.array([dt.datetime(2024, 3, 1, 23), None, None, None,
                            dt.datetime(2020, 2, 29)], pa.timestamp("s", "Europe/London"))}),
        tmp_path / "p.parquet")
    write(tmp_path, "c.csv", "d\n2024-02-29\n\n1999-12-31\n")
    loaded = load_tables(tmp_path, [
        table("p", col("gaps", ColumnType.DATE, True), col("none", ColumnType.DATE, True),
              col("stamps", ColumnType.DATE, True)),
        table("c", col("d", ColumnType.DATE, True))])
    spans = {name: limits.date_span(c.values) for t in loaded.values()
             for name, c in t.columns.items()}
    assert spans == {"gaps": (np.datetime64("2023-01-31"), np.datetime64("2025-12-01")),
                     "none": (None, None),
                     "stamps": (np.datetime64("2020-02-29"), np.datetime64("2024-03-01")),
                     "d": (np.datetime64("1999-12-31"), np.datetime64("2024-02-29"))}
    limits._SPANS.clear()  # worked out again by numpy from the values
    assert spans == {name: limits.date_span(c.values) for t in loaded.values()
                     for name, c in t.columns.items()}


@pytest.mark.parametrize("seed", range(6))
def test_date_days_read_chunk_by_chunk_as_arrow_converts_them(seed: int) -> None:
    """Parquet dates widened chunk by chunk from their buffers: chunks with nulls, all null,
    empty, and slices of larger arrays (an offset into the buffers), as Arrow's own conversion
    gives them (null: NaT); the result writable."""
    from pmir_dsl.load import _date_days

    rng = np.random.default_rng(seed)
    chunks = []
    for _ in range(int(rng.integers(0, 6))):
        n = int(rng.integers(0, 300))
        days = rng.integers(-800_000, 3_000_000, n)
        nulls = rng.random(n) < rng.choice([0.0, 0.3, 1.0])
        whole = pa.array(np.where(nulls, 0, days).astype(np.int32), pa.int32(),
                         mask=nulls).cast(pa.date32())
        lo = int(rng.integers(0, n + 1))
        chunks.append(whole.slice(lo, int(rng.integers(0, n - lo + 1))))
    chunks.append(pa.nulls(int(rng.integers(0, 4)), pa.date32()))
    arr = pa.chunked_array(chunks, pa.date32())
    got = _date_days(arr)
    want = np.asarray(arr.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    assert got.dtype == np.dtype("datetime64[D]") and got.flags.writeable
    assert got.view(np.int64).tolist() == want.view(np.int64).tolist()
    for chunk in chunks:  # a single array, not chunked
        assert _date_days(chunk).view(np.int64).tolist() == np.asarray(
            chunk.to_numpy(zero_copy_only=False), "datetime64[D]").view(np.int64).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_dictionary_indices_read_chunk_by_chunk_as_arrow_fills_them(seed: int) -> None:
    """A dictionary column's indices (chunks with their own dictionaries, nulls, slices; int32,
    int8 and uint8 indices): each row's index into the unified values, -1 for null, as Arrow's
    fill_null gives them."""
    import pyarrow.compute as pc

    from pmir_dsl.load import _dictionary_parts

    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range([300, 100, 250][seed % 3])]  # each index type's range
    chunks = []
    for _ in range(int(rng.integers(1, 5))):
        n = int(rng.integers(0, 200))
        texts = [None if rng.random() < 0.2 else words[int(rng.integers(0, len(words)))]
                 for _ in range(n)]
        whole = pa.array(texts, pa.string()).dictionary_encode()
        if seed % 3:  # int8 or uint8 indices
            whole = whole.cast(pa.dictionary([pa.int8(), pa.uint8()][seed % 3 - 1], pa.string()))
        lo = int(rng.integers(0, n + 1))
        chunks.append(whole.slice(lo, int(rng.integers(0, n - lo + 1))))
    raw = pa.chunked_array(chunks)
    indices, values = _dictionary_parts(raw)
    want = [values.to_pylist().index(v) if v is not None else -1
            for v in raw.cast(pa.string()).to_pylist()]
    assert indices.dtype == np.int32 and indices.tolist() == want
    unified = raw.unify_dictionaries()
    filled = pc.fill_null(pa.chunked_array([c.indices.cast(pa.int32()) for c in unified.chunks],
                                           pa.int32()), -1)
    assert indices.tolist() == filled.to_pylist()
