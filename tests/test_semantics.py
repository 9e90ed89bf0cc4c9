"""Figures exactly as semantics.md defines them, on small hand-made data sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import pick, run_source, write_csv

HEADER = """
contract "Test" {
  service start 2024-01-01
  group by provider
}
table referrals {
  referral_id: id
  provider: text
  referral_date: date
  acknowledged_date: date?
  kind: category(virtual, face_to_face)
  report_date: date?
}
"""

KPI1 = HEADER + """
measure KPI1 "Acknowledged" {
  population referrals
  month of referral_date
  met when acknowledged_date within 1 working day of referral_date
  target at least 96%
  bases in_month, rolling_3, cumulative, quarter, year_to_date
  bands cabinet_office_tiers(96%, 93.5%, 91%)
}
import cabinet_office
"""

COLS = ["referral_id", "provider", "referral_date", "acknowledged_date", "kind", "report_date"]


def referrals(tmp_path: Path, rows: list[list[object]]) -> Path:
    write_csv(tmp_path, "referrals", COLS, rows)
    return tmp_path


def row(i: int, referral: str, ack: str | None, provider: str = "North",
        kind: str = "virtual", report: str | None = None) -> list[object]:
    return [f"R{i:04d}", provider, referral, ack, kind, report]


def test_24_of_25_meets_96_percent_exactly(tmp_path: Path) -> None:
    rows = [row(i, "2024-01-08", "2024-01-09") for i in range(24)]
    rows.append(row(24, "2024-01-08", "2024-01-12"))  # late
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-01-31")
    r = pick(ev, "KPI1", "2024-01")
    assert (r["numerator"], r["denominator"], r["value"], r["met"]) == (24, 25, 0.96, True)
    assert r["band"] == "Good"


def test_23_of_24_fails_96_percent(tmp_path: Path) -> None:
    rows = [row(i, "2024-01-08", "2024-01-09") for i in range(23)]
    rows.append(row(23, "2024-01-08", None))
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-01-31")
    r = pick(ev, "KPI1", "2024-01")
    assert (r["numerator"], r["denominator"], r["met"], r["band"]) == (23, 24, False, "Near Target")


def test_bases_are_ratios_of_sums(tmp_path: Path) -> None:
    rows = [row(0, "2024-01-08", "2024-01-09"),                     # Jan 1/1
            *[row(i, "2024-02-05", None) for i in range(1, 4)],     # Feb 0/3
            *[row(i, "2024-03-04", "2024-03-05") for i in range(4, 8)],  # Mar 4/4
            *[row(i, "2024-04-08", "2024-04-09") for i in range(8, 10)]]  # Apr 2/2
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-04-30")
    got = {(b, p): (pick(ev, "KPI1", p, b)["numerator"], pick(ev, "KPI1", p, b)["denominator"])
           for b, p in [("rolling_3", "2024-02"), ("rolling_3", "2024-03"),
                        ("rolling_3", "2024-04"), ("cumulative", "2024-04"),
                        ("quarter", "2024-Q1"), ("quarter", "2024-Q2"),
                        ("year_to_date", "2024-04")]}
    assert got == {("rolling_3", "2024-02"): (1, 4),  # not the mean of 100% and 0%
                   ("rolling_3", "2024-03"): (5, 8), ("rolling_3", "2024-04"): (6, 9),
                   ("cumulative", "2024-04"): (7, 10), ("quarter", "2024-Q1"): (5, 8),
                   ("quarter", "2024-Q2"): (2, 2), ("year_to_date", "2024-04"): (7, 10)}
    assert pick(ev, "KPI1", "2024-02", "rolling_3")["value"] == 0.25


def test_year_to_date_restarts_each_contract_year(tmp_path: Path) -> None:
    rows = [row(0, "2024-12-02", None), row(1, "2025-01-06", "2025-01-07")]
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2025-01-31")
    assert pick(ev, "KPI1", "2024-12", "year_to_date")["denominator"] == 1
    jan = pick(ev, "KPI1", "2025-01", "year_to_date")
    assert (jan["numerator"], jan["denominator"]) == (1, 1)
    assert pick(ev, "KPI1", "2025-01", "cumulative")["denominator"] == 2


def test_pending_until_the_deadline_passes(tmp_path: Path) -> None:
    rows = [row(0, "2024-03-28", None),           # deadline 2024-04-02 (Easter): due at as-of
            row(1, "2024-03-29", None),           # Good Friday: deadline 2024-04-02 too
            row(2, "2024-04-02", None),           # deadline 2024-04-03 > as-of: pending
            row(3, "2024-04-02", "2024-04-05")]   # has its event (late): due and failed
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-04-02")
    march, april = pick(ev, "KPI1", "2024-03"), pick(ev, "KPI1", "2024-04")
    assert (march["denominator"], march["pending"], march["met"]) == (2, 0, False)
    assert (april["numerator"], april["denominator"], april["pending"]) == (0, 1, 1)


def test_event_after_as_of_still_counts(tmp_path: Path) -> None:
    ev = run_source(KPI1, referrals(tmp_path, [row(0, "2024-04-02", "2024-04-03")]),
                    as_of="2024-04-02")
    r = pick(ev, "KPI1", "2024-04")
    assert (r["numerator"], r["denominator"], r["pending"]) == (1, 1, 0)


def test_weekend_and_bank_holiday_referrals(tmp_path: Path) -> None:
    rows = [row(0, "2022-06-04", "2022-06-06"),   # Saturday -> Monday: 1 working day
            row(1, "2022-06-02", "2022-06-06"),   # Jubilee weekend: Thu/Fri bank holidays
            row(2, "2022-06-01", "2022-06-07")]   # Wed -> Tue: 2 working days, late
    src = KPI1.replace("2024-01-01", "2022-06-01")
    ev = run_source(src, referrals(tmp_path, rows), as_of="2022-06-30")
    r = pick(ev, "KPI1", "2022-06")
    assert (r["numerator"], r["denominator"]) == (2, 3)


def test_empty_month_is_not_assessed(tmp_path: Path) -> None:
    rows = [row(0, "2024-01-08", "2024-01-09"), row(1, "2024-03-04", "2024-03-05")]
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-03-31")
    feb = pick(ev, "KPI1", "2024-02")
    assert (feb["value"], feb["met"], feb["band"], feb["denominator"]) == (None, None, None, 0)


def test_event_before_anchor_is_excluded_and_reported(tmp_path: Path) -> None:
    rows = [row(0, "2024-01-08", "2024-01-09"), row(1, "2024-01-08", "2024-01-05"),
            row(2, "2024-01-09", "2024-01-02")]
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-01-31")
    r = pick(ev, "KPI1", "2024-01")
    assert (r["numerator"], r["denominator"], r["excluded"]) == (1, 1, 2)
    (q,) = ev.quality
    assert (q.table, q.check, q.count, q.examples) == (
        "referrals", "acknowledged_date before referral_date", 2, ("R0001", "R0002"))


def test_groups_and_whole_contract(tmp_path: Path) -> None:
    rows = [row(0, "2024-01-08", "2024-01-09", "North"), row(1, "2024-01-08", None, "South"),
            row(2, "2024-01-08", "2024-01-09", "South")]
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-01-31")
    assert pick(ev, "KPI1", "2024-01")["denominator"] == 3
    assert pick(ev, "KPI1", "2024-01", group={"provider": "North"})["met"] is True
    south = pick(ev, "KPI1", "2024-01", group={"provider": "South"})
    assert (south["numerator"], south["denominator"], south["met"]) == (1, 2, False)


def test_records_outside_the_reporting_window_are_reported(tmp_path: Path) -> None:
    rows = [row(0, "2023-12-29", "2024-01-02"), row(1, "2024-01-08", "2024-01-09"),
            row(2, "2024-02-05", "2024-02-06")]
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-01-31")
    checks = {q.check: q.count for q in ev.quality}
    assert checks == {"referral_date before the service start month 2024-01": 1,
                      "referral_date after the as-of date 2024-01-31": 1}
    assert [r["period"] for r in ev.results if r["basis"] == "in_month" and not r["group"]] == \
        ["2024-01"]


def test_category_dependent_days(tmp_path: Path) -> None:
    src = HEADER + """
measure KPI3 "Report" {
  population referrals
  month of referral_date
  met when report_date within (by kind: virtual 8, face_to_face 10) working days of referral_date
  target at least 96%
}"""
    rows = [row(0, "2024-03-28", None, kind="virtual", report="2024-04-11"),       # WD 8: 11 Apr
            row(1, "2024-03-28", None, kind="virtual", report="2024-04-12"),       # late
            row(2, "2024-03-28", None, kind="face_to_face", report="2024-04-15")]  # WD 10: 15 Apr
    ev = run_source(src, referrals(tmp_path, rows), as_of="2024-04-30")
    r = pick(ev, "KPI3", "2024-03")
    assert (r["numerator"], r["denominator"]) == (2, 3)


RATIO = """
import cabinet_office
contract "Bands" { service start 2024-01-01 }
table workforce { provider: text  quarter: quarter  disabled_fte: decimal  total_fte: decimal }
measure KPI6 "Share" {
  population workforce
  quarter of quarter
  ratio sum disabled_fte over sum total_fte
  target at least 96%
  basis quarter
  bands cabinet_office_tiers(96%, 93.5%, 91%)
}
"""


@pytest.mark.parametrize(("disabled", "band", "met"), [
    ("96", "Good", True), ("95.99", "Near Target", False), ("95.95", "Near Target", False),
    ("93.5", "Near Target", False), ("93.49", "Needs Improvement", False),
    ("91", "Needs Improvement", False), ("90.999999", "Inadequate", False),
])
def test_band_edges_leave_no_gaps(tmp_path: Path, disabled: str, band: str, met: bool) -> None:
    write_csv(tmp_path, "workforce", ["provider", "quarter", "disabled_fte", "total_fte"],
              [["North", "2024-Q1", disabled, "100"]])
    ev = run_source(RATIO, tmp_path, as_of="2024-03-31")
    r = pick(ev, "KPI6", "2024-Q1", "quarter")
    assert (r["band"], r["met"]) == (band, met)


def test_decimal_sums_are_exact(tmp_path: Path) -> None:
    # 0.1 + 0.2 in binary floating point is 0.30000000000000004; here it is exactly 0.3
    write_csv(tmp_path, "workforce", ["provider", "quarter", "disabled_fte", "total_fte"],
              [["A", "2024-Q1", "0.1", "0.15625"], ["B", "2024-Q1", "0.2", "0.15625"],
               ["C", "2024-Q1", "0.66", "0.6875"]])
    src = RATIO.replace("96%, 93.5%, 91%", "97%, 93.5%, 91%")
    ev = run_source(src, tmp_path, as_of="2024-03-31")
    r = pick(ev, "KPI6", "2024-Q1", "quarter")
    assert (r["numerator"], r["denominator"], r["value"], r["met"]) == (0.96, 1.0, 0.96, True)


RETURNS = """
contract "Returns" { service start 2024-01-01 }
table returns { provider: text  return: category(kpi6, customer_insight)  period: period
                submitted_date: date? }
measure CI "Customer insight on time" {
  population returns where return is customer_insight
  month of period
  met when submitted_date on or before the 15th of the month after period, or the next working day
  target at least 100%
}
measure Q "KPI 6 template on time" {
  population returns where return is kpi6
  quarter of period
  met when submitted_date on or before the 15th of the month after period, or the next working day
  target at least 100%
  basis quarter
}
"""


def test_deadline_on_the_15th_rolls_to_the_next_working_day(tmp_path: Path) -> None:
    write_csv(tmp_path, "returns", ["provider", "return", "period", "submitted_date"], [
        ["A", "customer_insight", "2024-08", "2024-09-16"],  # 15 Sept 2024 is a Sunday
        ["B", "customer_insight", "2024-08", "2024-09-17"],  # late
        ["A", "kpi6", "2024-Q2", "2024-07-15"],              # due 15 July (a Monday)
        ["B", "kpi6", "2024-Q2", "2024-07-16"],              # late
        ["A", "customer_insight", "2024-09", None],          # due 15 Oct: pending at as-of
    ])
    ev = run_source(RETURNS, tmp_path, as_of="2024-10-01")
    ci = pick(ev, "CI", "2024-08")
    assert (ci["numerator"], ci["denominator"]) == (1, 2)
    q = pick(ev, "Q", "2024-Q2", "quarter")
    assert (q["numerator"], q["denominator"]) == (1, 2)
    assert pick(ev, "CI", "2024-09")["pending"] == 1


COUNT = HEADER + """
measure LATE "Referrals not acknowledged in time" {
  population referrals
  month of referral_date
  count when acknowledged_date within 1 working day of referral_date
  target at least 2
}
measure NONE_MISSING "No referral without a type" {
  population referrals where acknowledged_date is missing
  month of referral_date
  count when kind is virtual
  target at most 0
}
"""


def test_count_targets(tmp_path: Path) -> None:
    rows = [row(0, "2024-01-08", "2024-01-09"), row(1, "2024-01-08", "2024-01-09"),
            row(2, "2024-02-05", "2024-02-06"), row(3, "2024-02-05", None, kind="virtual")]
    ev = run_source(COUNT, referrals(tmp_path, rows), as_of="2024-02-29")
    jan, feb = pick(ev, "LATE", "2024-01"), pick(ev, "LATE", "2024-02")
    assert (jan["numerator"], jan["met"], feb["numerator"], feb["met"]) == (2, True, 1, False)
    assert jan["target"] == 2
    assert pick(ev, "NONE_MISSING", "2024-01")["met"] is True  # zero records: at most 0 holds
    assert pick(ev, "NONE_MISSING", "2024-02")["met"] is False


def test_accounting_adds_up(tmp_path: Path) -> None:
    rows = [row(0, "2024-01-08", "2024-01-09"), row(1, "2024-01-08", "2024-01-05"),
            row(2, "2024-01-31", None), row(3, "2024-01-08", None)]
    ev = run_source(KPI1, referrals(tmp_path, rows), as_of="2024-01-31")
    totals = ev.partial.counts["KPI1"].totals
    assert list(totals[:4]) == [1, 1, 1, 1]  # met, failed, pending, excluded
    assert sum(totals[:4]) == 4


# ---- regressions found by reviewing the docs against the code -------------------------------


def test_comparison_on_dates(tmp_path: Path) -> None:
    src = KPI1.replace("population referrals\n", "population referrals where referral_date >= 2024-01-10\n")
    rows = [row(0, "2024-01-08", "2024-01-09"), row(1, "2024-01-10", None)]
    ev = run_source(src, referrals(tmp_path, rows), as_of="2024-01-31")
    r = pick(ev, "KPI1", "2024-01")
    assert (r["numerator"], r["denominator"]) == (0, 1)


def test_ratio_of_integer_columns(tmp_path: Path) -> None:
    src = RATIO.replace("disabled_fte: decimal", "disabled_fte: integer")
    write_csv(tmp_path, "workforce", ["provider", "quarter", "disabled_fte", "total_fte"],
              [["North", "2024-Q1", "48", "50.5"], ["South", "2024-Q1", "2", "49.5"]])
    ev = run_source(src, tmp_path, as_of="2024-03-31")
    r = pick(ev, "KPI6", "2024-Q1", "quarter")
    assert (r["numerator"], r["denominator"], r["value"]) == (50.0, 100.0, 0.5)


def test_year_to_date_of_a_quarter_straddling_contract_years(tmp_path: Path) -> None:
    src = RATIO.replace("2024-01-01", "2024-05-01").replace("basis quarter",
                                                           "bases quarter, year_to_date")
    write_csv(tmp_path, "workforce", ["provider", "quarter", "disabled_fte", "total_fte"],
              [["A", "2024-Q3", "1", "10"], ["A", "2025-Q2", "9", "10"], ["A", "2025-Q3", "5", "10"]])
    ev = run_source(src, tmp_path, as_of="2025-09-30")
    # contract years run May-April; a quarter counts in the year of its last month
    assert pick(ev, "KPI6", "2025-Q2", "year_to_date")["numerator"] == 9.0
    assert pick(ev, "KPI6", "2025-Q3", "year_to_date")["numerator"] == 14.0
    assert pick(ev, "KPI6", "2025-Q1", "year_to_date")["numerator"] == 1.0


def test_missing_deadline_period_is_excluded_not_failed(tmp_path: Path) -> None:
    src = RETURNS.replace("period: period\n", "period: period?\n  sent_for: month\n").replace(
        "month of period", "month of sent_for")
    write_csv(tmp_path, "returns", ["provider", "return", "period", "sent_for", "submitted_date"],
              [["A", "customer_insight", "", "2024-08", None],
               ["B", "customer_insight", "2024-08", "2024-08", "2024-09-02"]])
    ev = run_source(src, tmp_path, as_of="2024-10-31")
    r = pick(ev, "CI", "2024-08")
    assert (r["numerator"], r["denominator"], r["excluded"]) == (1, 1, 1)
    assert [q.check for q in ev.quality] == ["period missing"]


def test_records_after_the_as_of_date_in_its_month_are_excluded(tmp_path: Path) -> None:
    rows = [row(0, "2024-05-20", "2024-05-21"), row(1, "2024-05-27", "2024-05-28")]
    ev = run_source(KPI1.replace("2024-01-01", "2024-05-01"), referrals(tmp_path, rows),
                    as_of="2024-05-21")
    r = pick(ev, "KPI1", "2024-05")
    assert (r["numerator"], r["denominator"]) == (1, 1)
    assert [(q.check, q.count) for q in ev.quality] == [
        ("referral_date after the as-of date 2024-05-21", 1)]


def test_text_values_with_spaces_can_be_matched(tmp_path: Path) -> None:
    src = KPI1.replace("population referrals\n",
                       'population referrals where provider is "Wales and West"\n')
    rows = [row(0, "2024-01-08", "2024-01-09", "Wales and West"), row(1, "2024-01-08", None)]
    ev = run_source(src, referrals(tmp_path, rows), as_of="2024-01-31")
    assert pick(ev, "KPI1", "2024-01")["denominator"] == 1
