"""Write the hostile-data corpus: variants of the small AtW HA data set in ``base/``.

``base/`` is ``pmirc synth atw_ha base --rows 30 --seed 1`` (30 referrals, 20 workforce rows, 80
returns), committed as it is so that the corpus does not move when the generator does. Every
other folder is ``base/`` with one hostile change, made here from base's text so that the bytes
are exactly what a person would meet (a BOM, CRLF, a quoted newline, ...). README.md says what
each case is and what ``pmirc check`` must say about it; tests/test_hostile_data.py checks it,
and checks that this script still writes exactly the committed files.

    .venv/bin/python tests/hostile/make_corpus.py            # rewrite the corpus in place
    .venv/bin/python tests/hostile/make_corpus.py OUT_DIR    # write it somewhere else
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
BASE = HERE / "base"
TABLES = ("referrals", "workforce", "returns")

Rows = list[list[str]]


def read(name: str) -> Rows:
    """A base table as rows of strings, the header first."""
    with (BASE / f"{name}.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def text(rows: Rows, ends: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=ends).writerows(rows)
    return buf.getvalue()


def column(rows: Rows, name: str) -> int:
    return rows[0].index(name)


def set_cell(rows: Rows, record: int, name: str, value: str) -> Rows:
    """``rows`` with the cell of ``name`` in record ``record`` (1 = first after the header) set."""
    out = [list(r) for r in rows]
    out[record][column(rows, name)] = value
    return out


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    # no statistics and a fixed writer, so the bytes do not depend on more than the data
    pq.write_table(table, sink, write_statistics=False, compression="NONE")
    return sink.getvalue().to_pybytes()


def arrow(name: str) -> pa.Table:
    """A base table read by pyarrow with every column as text."""
    header = read(name)[0]
    return pacsv.read_csv(
        BASE / f"{name}.csv",
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                             strings_can_be_null=True, null_values=[""]),
    )


# ---------------------------------------------------------------------------------------------
# The cases: each returns {file name: bytes} for the files that differ from base/ (None removes
# a base file from the case).

Files = dict[str, bytes | None]


def bom() -> Files:
    return {f"{t}.csv": b"\xef\xbb\xbf" + (BASE / f"{t}.csv").read_bytes() for t in TABLES}


def crlf() -> Files:
    return {f"{t}.csv": text(read(t), "\r\n").encode() for t in TABLES}


def quoted_newlines() -> Files:
    rows = set_cell(read("referrals"), 1, "provider", "North\nEast")      # a newline in a cell
    rows = set_cell(rows, 2, "provider", 'South, "Coast"')                # a comma and quotes
    rows = set_cell(rows, 3, "provider", "North\r\nEast")                 # CRLF inside quotes
    return {"referrals.csv": text(rows).encode()}


def quoted_newline_bad_date() -> Files:
    rows = set_cell(read("referrals"), 1, "provider", "North\nEast\nand more")
    rows = set_cell(rows, 4, "referral_date", "2024-13-01")  # record 4: spreadsheet row 5
    return {"referrals.csv": text(rows).encode()}


def long_fields() -> Files:
    """Text and an id of 32,767 characters: the most an Excel cell holds."""
    rows = set_cell(read("referrals"), 1, "provider", "P" * 32_767)
    rows = set_cell(rows, 2, "referral_id", "R" + "9" * 32_766)
    return {"referrals.csv": text(rows).encode()}


def too_long_fields() -> Files:
    """Text and an id longer than an Excel cell holds."""
    rows = set_cell(read("referrals"), 1, "provider", "P" * 100_000)
    rows = set_cell(rows, 2, "referral_id", "R" + "9" * 32_767)
    return {"referrals.csv": text(rows).encode()}


def long_bad_value() -> Files:
    return {"referrals.csv": text(set_cell(read("referrals"), 3, "report_date",
                                           "2024-04-18" + " later" * 4_000)).encode()}


def duplicate_ids() -> Files:
    rows = read("referrals")
    rows = set_cell(rows, 7, "referral_id", rows[2][0])   # R0000002 again at record 7 (row 8)
    return {"referrals.csv": text(rows).encode()}


def dates_1900() -> Files:
    """One referral, all its events, in January 1900 (before the service and the holiday data)."""
    rows = read("referrals")
    for name, value in (("referral_date", "1900-01-02"), ("acknowledged_date", "1900-01-03"),
                        ("appointment_date", "1900-01-03"), ("report_date", "1900-01-10")):
        rows = set_cell(rows, 1, name, value)
    return {"referrals.csv": text(rows).encode()}


def dates_2999() -> Files:
    """Far-future dates: a report received in 2999 and a return submitted in 2999."""
    rows = set_cell(read("referrals"), 5, "report_date", "2999-12-31")
    returns = set_cell(read("returns"), 1, "submitted_date", "2999-01-15")
    return {"referrals.csv": text(rows).encode(), "returns.csv": text(returns).encode()}


def mixed_types() -> Files:
    rows = read("referrals")
    for record, value in ((2, "02/04/2024"), (3, "45383"), (4, "TRUE"), (5, "")):
        rows = set_cell(rows, record, "referral_date", value)
    rows = set_cell(rows, 6, "report_acceptable", "yes")
    workforce = read("workforce")
    for record, value in ((1, "eight"), (2, "1,234.5"), (3, "\u00a312")):
        workforce = set_cell(workforce, record, "disabled_fte", value)
    return {"referrals.csv": text(rows).encode(), "workforce.csv": text(workforce).encode()}


def empty_tables() -> Files:
    return {f"{t}.csv": text(read(t)[:1]).encode() for t in TABLES}


def empty_file() -> Files:
    return {"referrals.csv": b""}


def column_order() -> Files:
    out: Files = {}
    for t in TABLES:
        rows = read(t)
        order = list(reversed(range(len(rows[0]))))
        out[f"{t}.csv"] = text([[r[i] for i in order] for r in rows]).encode()
    return out


def extra_columns() -> Files:
    rows = read("referrals")
    extra = ["notes", "notes", "\u00e9tat", ""]  # a repeated name, non-ASCII, an empty name
    out = [rows[0] + extra] + [r + [f"n{i}", "=1+1", "\u00e9", "x"] for i, r in
                               enumerate(rows[1:])]
    return {"referrals.csv": text(out).encode()}


def unknown_categories() -> Files:
    rows = set_cell(read("referrals"), 1, "assessment_type", "Virtual")
    rows = set_cell(rows, 2, "assessment_type", "remote")
    returns = set_cell(read("returns"), 1, "return", "KPI6")
    return {"referrals.csv": text(rows).encode(), "returns.csv": text(returns).encode()}


def null_markers() -> Files:
    """pyarrow's default null words are ordinary text: a provider called NA is a provider."""
    rows = set_cell(read("referrals"), 1, "provider", "NA")
    rows = set_cell(rows, 2, "provider", "NULL")
    return {"referrals.csv": text(rows).encode()}


def whitespace_values() -> Files:
    rows = set_cell(read("referrals"), 1, "referral_date", " 2024-04-02")
    rows = set_cell(rows, 2, "assessment_type", "face_to_face ")
    return {"referrals.csv": text(rows).encode()}


def missing_column() -> Files:
    rows = read("referrals")
    rows[0][column(rows, "report_date")] = "report_dt"
    return {"referrals.csv": text(rows).encode()}


def missing_table() -> Files:
    return {"workforce.csv": None, "work_force.csv": (BASE / "workforce.csv").read_bytes()}


def ambiguous_table() -> Files:
    return {"returns.parquet": parquet_bytes(arrow("returns"))}


def latin1() -> Files:
    rows = set_cell(read("referrals"), 1, "provider", "Ynys M\u00f4n")
    return {"referrals.csv": text(rows).encode("cp1252")}


def ragged_rows() -> Files:
    data = (BASE / "referrals.csv").read_text(encoding="utf-8").split("\n")
    data[3] += ",surplus"  # record 3, spreadsheet row 4
    return {"referrals.csv": "\n".join(data).encode()}


def unclosed_quote() -> Files:
    data = (BASE / "referrals.csv").read_text(encoding="utf-8").split("\n")
    data[5] = data[5].replace(",South,", ',"South,', 1) if ",South," in data[5] else \
        data[5].replace(",North,", ',"North,', 1)
    return {"referrals.csv": "\n".join(data).encode()}


def parquet_wrong_types() -> Files:
    """Parquet whose logical types do not fit the contract's columns."""
    ref = arrow("referrals")
    days = pa.array([(dt.date.fromisoformat(v) - dt.date(1970, 1, 1)).days
                     for v in ref.column("referral_date").to_pylist()], pa.int64())
    ref = ref.set_column(ref.schema.get_field_index("referral_date"), "referral_date", days)
    ok = pa.array([None if v is None else int(v == "true")
                   for v in ref.column("report_acceptable").to_pylist()], pa.int8())
    ref = ref.set_column(ref.schema.get_field_index("report_acceptable"), "report_acceptable", ok)
    work = arrow("workforce")
    starts = [dt.date(int(q[:4]), 3 * int(q[-1]) - 2, 1)
              for q in work.column("quarter").to_pylist()]
    work = work.set_column(work.schema.get_field_index("quarter"), "quarter",
                           pa.array(starts, pa.date32()))
    return {"referrals.csv": None, "referrals.parquet": parquet_bytes(ref),
            "workforce.csv": None, "workforce.parquet": parquet_bytes(work)}


def parquet_native_types() -> Files:
    """Parquet with native types that do fit: London timestamps at local midnight for dates
    (in summer, 23:00 UTC the day before), dictionary text, booleans and float FTEs."""
    ref = arrow("referrals")
    london = pa.timestamp("ms", tz="Europe/London")
    for name in ("referral_date", "acknowledged_date", "appointment_date", "report_date",
                 "rework_notified_date", "rework_completed_date"):
        stamps = [None if v is None else _london_midnight(v) for v in ref.column(name).to_pylist()]
        ref = ref.set_column(ref.schema.get_field_index(name), name,
                             pa.array(stamps, pa.timestamp("ms", tz="UTC")).cast(london))
    ok = pa.array([None if v is None else v == "true"
                   for v in ref.column("report_acceptable").to_pylist()], pa.bool_())
    ref = ref.set_column(ref.schema.get_field_index("report_acceptable"), "report_acceptable", ok)
    for name in ("provider", "assessment_type"):
        ref = ref.set_column(ref.schema.get_field_index(name), name,
                             ref.column(name).dictionary_encode())
    work = arrow("workforce")
    for name in ("disabled_fte", "total_fte"):
        work = work.set_column(work.schema.get_field_index(name), name,
                               work.column(name).cast(pa.float64()))
    return {"referrals.csv": None, "referrals.parquet": parquet_bytes(ref),
            "workforce.csv": None, "workforce.parquet": parquet_bytes(work)}


def _london_midnight(day: str) -> dt.datetime:
    """Midnight in London on ``day``, as a UTC datetime (BST is UTC+1 from late March)."""
    d = dt.date.fromisoformat(day)
    summer = _last_sunday(d.year, 3) <= d < _last_sunday(d.year, 10)
    return dt.datetime(d.year, d.month, d.day) - dt.timedelta(hours=1 if summer else 0)


def _last_sunday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 31)
    return d - dt.timedelta(days=(d.weekday() + 1) % 7)


def parquet_parts_disagree() -> Files:
    """A folder table of two Parquet files: dates as text in one, as date32 in the other."""
    ref = arrow("referrals")
    first, second = ref.slice(0, 15), ref.slice(15)
    i = second.schema.get_field_index("referral_date")
    second = second.set_column(i, "referral_date", second.column(i).cast(pa.date32()))
    return {"referrals.csv": None, "referrals/part-0.parquet": parquet_bytes(first),
            "referrals/part-1.parquet": parquet_bytes(second)}


def excel_injection() -> Files:
    """Cells that Excel would run as formulas, for the audit CSV test (tests/test_containment)."""
    rows = read("referrals")
    values = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+SUM(1,2)", "-2+3", "@SUM(A1:A2)",
              "\tTab", "=1+1"]
    for i, v in enumerate(values, start=1):
        rows = set_cell(rows, i, "provider", v)
    rows = set_cell(rows, 6, "referral_id", "=cmd|' /C calc'!A0")
    rows = set_cell(rows, 7, "referral_id", "-R0000007")
    rows = set_cell(rows, 8, "referral_id", "@R0000008")
    rows = set_cell(rows, 9, "referral_id", "+R0000009")
    return {"referrals.csv": text(rows).encode()}


CASES: dict[str, Callable[[], Files]] = {f.__name__: f for f in (
    bom, crlf, quoted_newlines, quoted_newline_bad_date, long_fields, too_long_fields,
    long_bad_value,
    duplicate_ids, dates_1900, dates_2999, mixed_types, empty_tables, empty_file, column_order,
    extra_columns, unknown_categories, null_markers, whitespace_values, missing_column,
    missing_table, ambiguous_table, latin1, ragged_rows, unclosed_quote, parquet_wrong_types,
    parquet_native_types, parquet_parts_disagree, excel_injection,
)}


def write_case(name: str, out_dir: Path) -> Path:
    """Write case ``name`` (base's files with the case's changes) to ``out_dir/name``."""
    folder = out_dir / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files: Files = {f"{t}.csv": (BASE / f"{t}.csv").read_bytes() for t in TABLES}
    files.update(CASES[name]())
    for file, data in sorted(files.items()):
        if data is not None:
            (folder / file).parent.mkdir(exist_ok=True)
            (folder / file).write_bytes(data)
    return folder


def main(out_dir: Path = HERE) -> None:
    for name in CASES:
        write_case(name, out_dir)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
