"""The command line as a user meets it: exit statuses and messages, never a traceback."""

from __future__ import annotations

import csv
import json
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmir_dsl.cli import escape_cell, main

ATW = "contracts/atw_ha.pmir"


@pytest.fixture(autouse=True)
def _in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)


def copy_example(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree("examples/atw_ha", data)
    return data


def edit_cell(path: Path, row: int, column: str, value: str) -> None:
    rows = list(csv.reader(path.open(newline="")))
    rows[row][rows[0].index(column)] = value
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("pmirc ")


@pytest.mark.parametrize(("column", "value", "words"), [
    ("referral_date", "2024-02-30", ["referrals.csv", "referral_date", "row 5", "1 row"]),
    ("assessment_type", "virtaul", ["assessment_type", "'virtaul'", "did you mean 'virtual'"]),
    ("report_acceptable", "yes", ["report_acceptable", "'yes'"]),
])
def test_bad_data_names_file_column_and_rows(tmp_path: Path, column: str, value: str,
                                             words: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = copy_example(tmp_path)
    edit_cell(data / "referrals.csv", 4, column, value)
    status, out, err = run(["check", ATW, str(data)], capsys)
    assert status == 2 and out == ""
    for w in words:
        assert w in err


def test_missing_table_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = copy_example(tmp_path)
    (data / "workforce.csv").rename(data / "work_force.csv")
    rows = list(csv.reader((data / "returns.csv").open()))
    i = rows[0].index("submitted_date")
    rows = [r[:i] + r[i + 1:] for r in rows]
    with (data / "returns.csv").open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    status, _, err = run(["check", ATW, str(data)], capsys)
    assert status == 2
    assert "workforce" in err and "missing" in err and "submitted_date" in err


def test_missing_data_folder(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["check", ATW, "no/such/folder"], capsys)
    assert status == 2 and "no/such/folder" in err


def test_bad_as_of_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["check", ATW, "examples/atw_ha", "--as-of", "2025-13-01"])
    assert e.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_as_of_before_service_start(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["check", ATW, "examples/atw_ha", "--as-of", "2023-01-01"], capsys)
    assert status == 2 and "before the contract's service start" in err


def test_lint_and_schema(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["lint", ATW], capsys)
    assert status == 0 and "KPI1" in out
    status, out, _ = run(["schema", ATW], capsys)
    assert status == 0
    assert "referrals.csv" in out and "assessment_type" in out and "virtual | face_to_face" in out


def test_audit_lists_the_records_behind_a_figure(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["audit", ATW, "examples/atw_ha", "--measure", "KPI1",
                          "--period", "2025-06", "--group", "provider=Central"], capsys)
    assert status == 0
    rows = list(csv.DictReader(out.splitlines()))
    assert {r["provider"] for r in rows} == {"Central"}
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("met", "failed", "pending")}
    doc_status, doc, _ = run(["check", ATW, "examples/atw_ha", "--format", "json"], capsys)
    r = next(r for r in json.loads(doc)["results"] if r["measure"] == "KPI1"
             and r["group"] == {"provider": "Central"} and r["period"] == "2025-06"
             and r["basis"] == "in_month")
    assert (counts["met"], counts["met"] + counts["failed"], counts["pending"]) == \
        (r["numerator"], r["denominator"], r["pending"])


def test_audit_excluded_records_carry_their_reason(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["audit", ATW, "examples/atw_ha", "--measure", "KPI1",
                          "--status", "excluded"], capsys)
    rows = list(csv.DictReader(out.splitlines()))
    assert [r["id"] for r in rows] == ["R0000070", "R0001647", "R0001803"]
    assert {r["reason"] for r in rows} == {"acknowledged_date before referral_date"}


def test_audit_unknown_measure(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["audit", ATW, "examples/atw_ha", "--measure", "KPI9"], capsys)
    assert status == 2 and "KPI1" in err


@pytest.mark.parametrize(("cell", "safe"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("R0001", "R0001"), ("", ""), (None, ""),
])
def test_csv_cells_are_safe_for_excel(cell: str | None, safe: str) -> None:
    assert escape_cell(cell) == safe


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**32))
def test_json_is_identical_whatever_the_row_order(tmp_path_factory: pytest.TempPathFactory,
                                                  seed: int) -> None:
    rnd = random.Random(seed)
    tmp = tmp_path_factory.mktemp("shuffled")
    base = json.loads(_json(Path("examples/atw_ha")))
    data = tmp / "data"
    shutil.copytree("examples/atw_ha", data)
    for name in ("referrals.csv", "returns.csv", "workforce.csv"):
        lines = (data / name).read_text().splitlines(keepends=True)
        body = lines[1:]
        rnd.shuffle(body)
        (data / name).write_text("".join([lines[0], *body]))
    shuffled = json.loads(_json(data))
    for doc in (base, shuffled):
        doc.pop("tables")  # file paths and hashes differ; every figure must not
    assert shuffled == base


def _json(data: Path) -> str:
    from pmir_dsl.pipeline import run_check
    from pmir_dsl.report.json import render

    return render(run_check(ATW, data))


def test_audit_group_by_a_bool_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bool group values read 'true' / 'false' in the audit, as in the results."""
    from conftest import write_csv

    contract = tmp_path / "c.pmir"
    contract.write_text("""
contract "Bool groups" { service start 2024-01-01  group by urgent }
table referrals { referral_id: id  urgent: bool  referral_date: date  done_date: date? }
measure M "Done within 1 working day" {
  population referrals
  month of referral_date
  met when done_date within 1 working day of referral_date
  target at least 90%
}""")
    write_csv(tmp_path / "d", "referrals", ["referral_id", "urgent", "referral_date", "done_date"],
              [["R1", "true", "2024-01-02", "2024-01-03"], ["R2", "false", "2024-01-02", None]])
    status = main(["audit", str(contract), str(tmp_path / "d"), "--measure", "M",
                   "--group", "urgent=true", "--as-of", "2024-01-31"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[1:] == ["M,R1,true,2024-01,met,2024-01-03,,1,1,"
                         "referral_date=2024-01-02; done_date=2024-01-03"]


def test_a_json_check_does_not_import_the_terminal_report(tmp_path: Path) -> None:
    """``--format json`` never shows progress, so it leaves rich (and the terminal report)
    unimported: a tenth of a second of every scripted run. The table report still has them."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    code = ("import sys; from pmir_dsl.cli import main; status = main(sys.argv[1:]); "
            "print(sorted(m for m in ('rich', 'pmir_dsl.report.terminal') if m in sys.modules))")
    args = [str(root / "contracts" / "atw_ha.pmir"), str(root / "examples" / "atw_ha")]
    found = {fmt: subprocess.run([sys.executable, "-c", code, "check", *args, "--format", fmt,
                                  "-o", str(tmp_path / f"out.{fmt}")], capture_output=True,
                                 text=True, check=False).stdout.strip().splitlines()[-1]
             for fmt in ("json", "table")}
    assert found == {"json": "[]", "table": "['pmir_dsl.report.terminal', 'rich']"}


def test_holidays_are_imported_beside_the_reading_and_joined() -> None:
    """pmirc check imports the bank-holiday package and its UK module on another thread while
    the tables are read; the thread is over when the reading is (nothing left importing)."""
    import sys
    import threading

    from pmir_dsl import cli

    with cli._importing_holidays():
        pass
    assert "holidays.countries.united_kingdom" in sys.modules
    assert not [t for t in threading.enumerate() if t.name == "pmirc-import-holidays"]
