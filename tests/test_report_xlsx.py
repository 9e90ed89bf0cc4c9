"""The review pack as a workbook (report/xlsx.py) read back with openpyxl, and the results CSV
(report/csv.py)."""

from __future__ import annotations

import csv
import io
from functools import cache
from pathlib import Path

import openpyxl

from conftest import REPO, run_source, write_csv
from pmir_dsl.pipeline import Evaluation, run_check
from pmir_dsl.report import csv as csv_report
from pmir_dsl.report import xlsx


@cache
def evaluation(name: str) -> Evaluation:
    return run_check(REPO / "contracts" / f"{name}.pmir", REPO / "examples" / name)


def workbook(name: str, tmp_path: Path) -> openpyxl.Workbook:
    path = tmp_path / f"{name}.xlsx"
    xlsx.write(evaluation(name), str(path))
    return openpyxl.load_workbook(path)


def test_sheets_numbers_formats_and_filters(tmp_path: Path) -> None:
    wb = workbook("atw_ha", tmp_path)
    assert wb.sheetnames == ["Summary", "KPI1", "KPI2", "KPI3", "KPI4", "KPI5", "KPI6",
                             "KPI6_RETURN", "CUSTOMER_INSIGHT_RETURN", "OUTSTANDING",
                             "Escalations", "Data quality"]  # the PMIR levels of 6.15
    s = wb["Summary"]
    assert s["A1"].value == "Access to Work Holistic Assessment"
    assert [c.value for c in s[4]][:6] == ["Measure", "Title", "Target", "Group", "Period",
                                           "Basis"]
    assert s.freeze_panes == "A5" and s.auto_filter.ref.startswith("A4:L")
    k = wb["KPI1"]
    header = [c.value for c in k[4]]
    assert header[:4] == ["provider", "Period", "Basis", "Numerator"]
    rows = [[c.value for c in row] for row in k.iter_rows(min_row=5)]
    whole = next(r for r in rows if r[0] is None and r[1] == "2025-06" and r[2] == "in_month")
    value = header.index("Value")
    assert whole[value] == whole[3] / whole[4] and isinstance(whole[3], int)
    assert round(whole[value], 4) == 0.9932  # 99.32% as the HTML pack shows it
    cell = k.cell(row=5 + rows.index(whole), column=value + 1)
    assert cell.number_format == "0.00%"
    assert whole[header.index("Status")] == "Met"
    assert k.freeze_panes == "A5" and k.auto_filter.ref
    rules = {r.formula[0] for cf in k.conditional_formatting for r in cf.rules}
    assert {'"Met"', '"Failed"', '"Not assessed"'} <= rules
    bands = {r.formula[0] for cf in wb["KPI2"].conditional_formatting for r in cf.rules}
    assert '"Near Target"' in bands  # amber where the measure has bands


def test_fees_in_pounds_and_notices(tmp_path: Path) -> None:
    wb = workbook("ipes", tmp_path)
    assert {"Escalations", "Service fee", "Data quality"} <= set(wb.sheetnames)
    fee = wb["Service fee"]
    header = [c.value for c in fee[1]]
    row = next(r for r in fee.iter_rows(min_row=2) if r[1].value == "Provider B"
               and r[2].value == "2024-08")
    deferred = row[header.index("Deferred")]
    assert deferred.value == 35500 and deferred.number_format == "£#,##0.00"
    wp = workbook("work_programme", tmp_path)
    notices = wp["Notices"]
    assert [c.value for c in notices[1]][:2] == ["Notice", "Measure"]
    assert notices.max_row == 1 + 4


def test_reviews_sheet_has_every_quarterly_review(tmp_path: Path) -> None:
    ev = evaluation("work_programme")
    ws = workbook("work_programme", tmp_path)["Reviews"]
    header = [c.value for c in ws[1]]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert len(rows) == len(ev.reviews)
    first = ev.reviews[0]
    got = dict(zip(header, rows[0]))
    assert (got["Measure"], got["Quarter"], got["Numerator"], got["Provisional net"],
            got["Final"]) == (first["measure"], first["quarter"], first["numerator"],
                              first["provisional"]["net"],
                              "Met" if first["final"]["met"] else "Failed")
    raised = [r for r in rows if r[header.index("Notice")] == "PIN raised"]
    assert len(raised) == sum(r["notice"] == "PIN raised" for r in ev.reviews) > 0
    rules = {r.formula[0] for cf in ws.conditional_formatting for r in cf.rules}
    assert {'"Met"', '"Failed"'} <= rules


def test_assurance_sheet_lists_each_action(tmp_path: Path) -> None:
    ev = evaluation("ipes")
    ws = workbook("ipes", tmp_path)["Assurance"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    assert [(r["provider"], r["Month"]) for r in rows] == \
        [(a["group"]["provider"], a["month"]) for a in ev.assurance]
    late = next(r for r in rows if r["Action"] == "Action plan not submitted on time")
    assert "was due" in late["Why"] and late["Cite"] == "9.93-9.95"
    assert "Assurance" not in workbook("atw_ha", tmp_path).sheetnames  # no assurance declared


def test_workbook_is_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    xlsx.write(evaluation("atw_ha"), str(a))
    xlsx.write(evaluation("atw_ha"), str(b))
    assert a.read_bytes() == b.read_bytes()


def test_sheet_names_fit_excel() -> None:
    names = xlsx.SheetNames()
    long = "SUSTAINED_JOB_OUTCOME_CONVERSION_X"
    first, second = names.take(long), names.take(long)
    assert first == long[:31] and len(second) <= 31 and second != first
    assert names.take("a/b[c]") == "a_b_c_"


CONTRACT = """
contract "Test" {
  service start 2024-01-01
  group by provider
}
table referrals {
  referral_id: id
  provider: text
  referral_date: date
  acknowledged_date: date?
}
measure KPI1 "Acknowledged" {
  population referrals
  month of referral_date
  met when acknowledged_date within 1 working day of referral_date
  target at least 96%
  bases in_month
}
"""


def test_results_csv_escapes_formulas_and_keeps_exact_values(tmp_path: Path) -> None:
    write_csv(tmp_path, "referrals", ["referral_id", "provider", "referral_date",
                                      "acknowledged_date"],
              [["R1", "=HYPERLINK(1)", "2024-01-08", "2024-01-09"],
               ["R2", "North", "2024-01-08", None], ["R3", "North", "2024-01-08", "2024-01-09"]])
    text = csv_report.render(run_source(CONTRACT, tmp_path, as_of="2024-01-31").results)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["measure", "provider", "period", "basis", "numerator"]
    by = {r[1]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(by) == {"", "'=HYPERLINK(1)", "North"}  # the formula cannot run in Excel
    assert by["North"]["value"] == "0.5" and by["North"]["met"] == "false"
    assert by[""]["value"] == repr(2 / 3) and by[""]["target"] == "0.96"


def test_results_csv_of_a_bundled_contract_has_every_result() -> None:
    ev = evaluation("work_programme")
    rows = list(csv.reader(io.StringIO(csv_report.render(ev.results))))
    assert len(rows) == 1 + len(ev.results)
    assert {"provider", "cpa", "rank", "bucket_within_10"} <= set(rows[0])


def test_csv_cells() -> None:
    assert csv_report.cell(-3) == "-3" and csv_report.cell(-0.5) == "-0.5"
    assert csv_report.cell("-x") == "'-x" and csv_report.cell("@SUM") == "'@SUM"
    assert csv_report.cell(None) == "" and csv_report.cell(True) == "true"
