"""Issue 9, ESF / SES / AtW readings: each test is a hand-made record set whose figure changes
under the corrected reading (the old reading is named in each test's docstring)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, pick, run_source, write_csv
from test_differential import assert_same

ESF = (REPO / "contracts/esf.pmir").read_text()
SES = (REPO / "contracts/ses.pmir").read_text()

REF_COLS = ["referral_id", "provider", "lep_area", "category_of_region", "referral_date",
            "start_date", "dns_date", "recorded_date"]


def esf_data(tmp: Path, referrals: list[list[object]],
             starts: list[list[object]] | None = None) -> Path:
    write_csv(tmp, "referrals", REF_COLS, referrals)
    write_csv(tmp, "outcomes", ["referral_id", "outcome", "achieved_date"], [])
    write_csv(tmp, "outcome_profiles", ["lep_area", "category_of_region", "outcome", "rate",
                                        "month", "share"],
              [["Leeds", "ALL", "short_job", "0.5", 0, "1"],
               ["Leeds", "ALL", "sustained_job", "0.2", 0, "1"]])
    write_csv(tmp, "starts_profile", ["lep_area", "category_of_region", "month",
                                      "profiled_starts"], starts or [])
    return tmp


def ref(i: int, referral: str, start: str | None = None, recorded: str | None = None,
        dns: str | None = None) -> list[object]:
    return [f"E{i:03d}", "P1", "Leeds", "More Developed", referral, start, dns, recorded]


# ---- ESF 7.3 fifth bullet: backlog breaches (semantics 6a) -------------------------------------


def breach_data(tmp: Path) -> Path:
    # 2023-04-03 + 40 working days (Good Friday 7 Apr, Easter Monday 10 Apr, 1, 8 and 29 May
    # are bank holidays): April 4-6 (3), 11-14 (7), 17-28 (17), May 2-5 (21), 9-26 (35), 30-31
    # (37), June 1-2 (39), 5 (40): the limit is Monday 5 June 2023.
    return esf_data(tmp, [
        ref(1, "2023-04-03", "2023-06-07", "2023-06-07"),  # recorded on day 42, mid-June
        ref(2, "2023-04-03", "2023-06-05", "2023-06-05"),  # recorded on day 40: in time
        ref(3, "2023-04-03"),                              # never recorded
        ref(4, "2023-05-15"),                              # limit in July: not yet due
    ])


def test_a_referral_recorded_mid_month_after_40_working_days_has_breached(tmp_path: Path
                                                                          ) -> None:
    """Old reading: month-end snapshots only, so E001 (recorded 7 June, before the June month
    end) never counted and June showed 1 (E003 only)."""
    ev = run_source(ESF, breach_data(tmp_path), as_of="2023-06-30")
    june = pick(ev, "BACKLOG_OVER_40WD", "2023-06")
    assert june["numerator"] == 2  # E001 and E003 breach on Tuesday 6 June
    assert june["met"] is False
    assert june["pending"] == 1  # E004: its 40 working days end in July
    assert pick(ev, "BACKLOG_OVER_40WD", "2023-05")["numerator"] == 0
    assert pick(ev, "BACKLOG_OVER_40WD", "2023-06", "cumulative")["numerator"] == 2


def test_a_breach_counts_once_in_the_month_after_the_limit(tmp_path: Path) -> None:
    """Old reading: a referral unrecorded for months counted at every month end (E003 in June,
    July and August: cumulative 3 by August)."""
    ev = run_source(ESF, breach_data(tmp_path), as_of="2023-08-31")
    months = [pick(ev, "BACKLOG_OVER_40WD", p)["numerator"]
              for p in ("2023-06", "2023-07", "2023-08")]
    assert months == [2, 1, 0]  # E004: limit 11 July, breach 12 July
    assert pick(ev, "BACKLOG_OVER_40WD", "2023-08", "cumulative")["numerator"] == 3


def test_the_limit_day_itself_is_not_a_breach_until_it_has_ended(tmp_path: Path) -> None:
    """At the as-of date 5 June (the limit day) E003 is still in time: pending, not a breach."""
    ev = run_source(ESF, breach_data(tmp_path), as_of="2023-06-05")
    june = pick(ev, "BACKLOG_OVER_40WD", "2023-06")
    assert june["numerator"] == 0 and june["pending"] == 3  # E001, E003 and E004
    assert pick(ev, "BACKLOG_OVER_40WD", "2023-06")["denominator"] == 1  # E002, met


def test_breaches_engines_agree(tmp_path: Path) -> None:
    for as_of in ("2023-06-05", "2023-06-06", "2023-06-30", "2023-08-31"):
        assert_same(ESF, breach_data(tmp_path), as_of)


# ---- ESF 7.3 third bullet: starts decided on the cumulative profile only -----------------------


def profile_data(tmp: Path) -> Path:
    # April: 1 start of 10 profiled (in month 10%); cumulative 1 of 10. May: 20 starts of 10:
    # in month 200%, cumulative 21 of 20 = 105%.
    rows = [ref(1, "2023-04-03", "2023-04-05", "2023-04-05")]
    rows += [ref(10 + i, "2023-05-02", "2023-05-04", "2023-05-04") for i in range(20)]
    starts = [["Leeds", "ALL", "2023-04", 10], ["Leeds", "ALL", "2023-05", 10],
              ["Leeds", "More Developed", "2023-04", 10],
              ["Leeds", "More Developed", "2023-05", 10]]
    return esf_data(tmp, rows, starts)


def test_starts_in_month_figure_is_information_only(tmp_path: Path) -> None:
    """Old reading: the in-month figure had the 85% target too, so April failed in month and
    May passed in month; now only the cumulative figure is met or failed."""
    ev = run_source(ESF, profile_data(tmp_path), as_of="2023-05-31")
    group = {"lep_area": "Leeds"}
    april = pick(ev, "STARTS_VS_PROFILE", "2023-04", "in_month", group)
    assert april["value"] == 0.1 and april["met"] is None and april["information"] is True
    assert pick(ev, "STARTS_VS_PROFILE", "2023-04", "cumulative", group)["met"] is False
    may = pick(ev, "STARTS_VS_PROFILE", "2023-05", "cumulative", group)
    assert may["met"] is True and may["value"] == 1.05
    assert "information" not in may


def test_information_rows_never_fail_the_exit_status(tmp_path: Path) -> None:
    """A contract whose only failure is an in-month information figure exits 0."""
    from pmir_dsl.cli import main
    data = profile_data(tmp_path / "d")
    only = ESF.split("# ---- 7.3 Minimum Performance Levels")[0] + \
        "measure STARTS_VS_PROFILE" + ESF.split("measure STARTS_VS_PROFILE")[1].split(
            "measure BACKLOG ")[0]
    contract = tmp_path / "only.pmir"
    contract.write_text(only)
    data_rows = [ref(1, "2023-04-03", "2023-04-05", "2023-04-05")]
    data_rows += [ref(10 + i, "2023-04-04", "2023-04-06", "2023-04-06") for i in range(20)]
    esf_data(data, data_rows, [["Leeds", "ALL", "2023-04", 10], ["Leeds", "ALL", "2023-05", 10],
                               ["Leeds", "More Developed", "2023-04", 10],
                               ["Leeds", "More Developed", "2023-05", 10]])
    # cumulative May 21 of 20 is met; May in month 0 of 10 is information only
    code = main(["check", str(contract), str(data), "--as-of", "2023-05-31", "--format", "json"])
    assert code == 0


def test_rules_may_not_test_information_figures() -> None:
    from pmir_dsl.check import check_source
    from pmir_dsl.diagnostics import CompileError
    src = ESF + """
regime R "ESF" {
  level 1 "PMR"
  level 2 "Informal"
  escalate to level 2 when any of (STARTS_VS_PROFILE) failed in 2 of the last 3 months
}
"""
    with pytest.raises(CompileError) as info:
        check_source(src, "esf.pmir")
    assert any("for information only" in d.message for d in info.value.diagnostics)


# ---- ESF and SES: a start before its referral (semantics.md 1) ----------------------------------


def test_esf_start_before_referral_is_excluded_not_a_start(tmp_path: Path) -> None:
    """Old reading: E002 counted as a start (START_RATE 2 of 2, starts 2) with no data-quality
    entry."""
    data = esf_data(tmp_path, [ref(1, "2023-04-03", "2023-04-05", "2023-04-05"),
                               ref(2, "2023-04-10", "2023-04-06", "2023-04-12")],
                    [["Leeds", "ALL", "2023-04", 1],
                     ["Leeds", "More Developed", "2023-04", 1]])
    ev = run_source(ESF.replace("minimum denominator 5", "minimum denominator 1"), data,
                    as_of="2023-05-31")
    rate = pick(ev, "START_RATE", "2023-04")
    assert (rate["numerator"], rate["denominator"], rate["excluded"]) == (1, 1, 1)
    starts = pick(ev, "STARTS_VS_PROFILE", "2023-04", "cumulative", {"lep_area": "Leeds"})
    assert starts["numerator"] == 1
    entries = {(q.table, q.check): q for q in ev.quality}
    entry = entries[("referrals", "start_date before referral_date")]
    assert entry.count == 1 and entry.examples == ("E002",)
    assert_same(ESF, data, "2023-05-31")


SES_COLS = ["referral_id", "provider", "referral_date", "initial_assessment_date", "start_date",
            "start_recorded_date", "leave_date"]


def ses_data(tmp: Path, referrals: list[list[object]],
             outcomes: list[list[object]] | None = None) -> Path:
    write_csv(tmp, "referrals", SES_COLS, referrals)
    write_csv(tmp, "outcomes", ["referral_id", "outcome", "achieved_date"], outcomes or [])
    write_csv(tmp, "profiles", ["outcome", "rate", "month", "share"],
              [["job_outcome", "0.5", 0, "1"], ["sustained_job_outcome", "0.2", 0, "1"]])
    write_csv(tmp, "starts_profile", ["month", "profiled_starts"], [["2023-04", 2]])
    return tmp


def test_ses_start_before_referral_is_no_start_in_any_cohort(tmp_path: Path) -> None:
    """Old reading: S2 was a start (2 of 2 profiled starts; 2 x 0.5 = 1.0 expected job
    outcomes, and S2's outcome counted)."""
    data = ses_data(tmp_path, [
        ["S1", "P1", "2023-04-03", "2023-04-04", "2023-04-05", "2023-04-05", None],
        ["S2", "P1", "2023-04-10", "2023-04-04", "2023-04-06", "2023-04-12", None],
    ], [["S1", "job_outcome", "2023-04-20"], ["S2", "job_outcome", "2023-04-21"]])
    ev = run_source(SES, data, as_of="2023-05-31")
    assert pick(ev, "STARTS_VS_PROFILE", "2023-04")["numerator"] == 1
    job = pick(ev, "JOB_OUTCOME_CONVERSION", "2023-04")
    assert (job["numerator"], job["expected"], job["excluded"]) == (1, 0.5, 1)
    checks = {(q.table, q.check): q.count for q in ev.quality}
    assert checks[("referrals", "start_date before referral_date")] == 1
    assert checks[("outcomes", "no start_date in referrals")] == 1
    assert_same(SES, data, "2023-05-31")


def test_not_before_names_two_date_columns() -> None:
    from pmir_dsl.check import check_source
    from pmir_dsl.diagnostics import CompileError
    src = SES.replace("start_date not before referral_date", "start_date not before provider")
    with pytest.raises(CompileError) as info:
        check_source(src, "ses.pmir")
    assert "'provider' is a text column" in info.value.diagnostics[0].message


# ---- pmirc audit: a ratio's rows are its shares, failed rows say why ----------------------------


def _audit(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, str]]:
    import csv

    from pmir_dsl.cli import main
    assert main(["audit", *args]) == 0
    return list(csv.DictReader(capsys.readouterr().out.splitlines()))


def test_audit_of_a_ratio_shows_each_rows_share(capsys: pytest.CaptureFixture[str]) -> None:
    """Old output: every KPI6 row said 'met', even in a quarter whose figure failed."""
    from fractions import Fraction
    rows = _audit(capsys, str(REPO / "contracts/atw_ha.pmir"), str(REPO / "examples/atw_ha"),
                  "--measure", "KPI6", "--period", "2024-Q2")
    assert rows and {r["verdict"] for r in rows} == {"counted"}
    ev = run_source((REPO / "contracts/atw_ha.pmir").read_text(), REPO / "examples/atw_ha")
    figure = next(r for r in ev.results if r["measure"] == "KPI6" and not r["group"]
                  and r["period"] == "2024-Q2" and r["basis"] == "quarter")
    assert sum(Fraction(r["numerator"]) for r in rows) == Fraction(str(figure["numerator"]))
    assert sum(Fraction(r["denominator"]) for r in rows) == Fraction(str(figure["denominator"]))


def test_audit_failed_rows_carry_a_reason_and_their_dates(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    contract = tmp_path / "esf.pmir"
    contract.write_text(ESF)
    rows = _audit(capsys, str(contract), str(breach_data(tmp_path / "d")), "--measure",
                  "BACKLOG_OVER_40WD", "--as-of", "2023-06-30", "--status", "failed")
    got = {r["id"]: (r["reason"], r["dates"], r["numerator"]) for r in rows}
    assert got == {
        "E001": ("recorded_date 2023-06-07 after its limit 2023-06-05",
                 "referral_date=2023-04-03; recorded_date=2023-06-07", "1"),
        "E003": ("no recorded_date by its limit 2023-06-05", "referral_date=2023-04-03", "1"),
    }


# ---- pmirc sample (AtW 6.46-6.48, IPES 9.75-9.77) -------------------------------------------------

ATW = REPO / "contracts/atw_ha.pmir"


def _sample(tmp: Path, data: Path, *args: str) -> str:
    from pmir_dsl.cli import main
    out = tmp / f"sample{len(list(tmp.glob('sample*')))}.csv"
    assert main(["sample", str(ATW), str(data), "--measure", "KPI1", *args, "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def _ids(text: str) -> list[str]:
    import csv
    body = [line for line in text.splitlines() if not line.lstrip('"').startswith("#")]
    return [r["id"] for r in csv.DictReader(body)]


def test_sample_is_reproducible_and_ignores_row_order(tmp_path: Path) -> None:
    import csv
    first = _sample(tmp_path, REPO / "examples/atw_ha", "--n", "25", "--seed", "11")
    assert first == _sample(tmp_path, REPO / "examples/atw_ha", "--n", "25", "--seed", "11")
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for name in ("referrals", "workforce", "returns"):
        lines = (REPO / "examples/atw_ha" / f"{name}.csv").read_text().splitlines()
        (shuffled / f"{name}.csv").write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    assert _ids(first) == _ids(_sample(tmp_path, shuffled, "--n", "25", "--seed", "11"))
    assert len(set(_ids(first))) == 25
    assert _ids(first) != _ids(_sample(tmp_path, REPO / "examples/atw_ha", "--n", "25",
                                       "--seed", "12"))
    head = [row[0] for row in csv.reader(first.splitlines()[:4])]
    assert all(line.startswith("# ") for line in head) and "seed 11" in head[2]
    assert next(csv.reader([first.splitlines()[4]]))[:2] == ["measure", "id"]


def test_stratified_sample_draws_n_from_each_provider(tmp_path: Path) -> None:
    import csv
    text = _sample(tmp_path, REPO / "examples/atw_ha", "--n", "3", "--seed", "5",
                   "--stratify", "provider", "--period", "2024-06")
    rows = list(csv.DictReader([x for x in text.splitlines()
                                if not x.lstrip('"').startswith("#")]))
    per = {}
    for r in rows:
        per[r["provider"]] = per.get(r["provider"], 0) + 1
        assert r["period"] == "2024-06"
    assert per == {"Central": 3, "North": 3, "South": 3, "Wales and West": 3}
    assert "sampled: Central: 3 of" in text


def test_sample_asks_for_a_group_column(capsys: pytest.CaptureFixture[str]) -> None:
    from pmir_dsl.cli import main
    status = main(["sample", str(ATW), str(REPO / "examples/atw_ha"), "--measure", "KPI1",
                   "--n", "3", "--seed", "1", "--stratify", "region"])
    err = capsys.readouterr().err
    assert status == 2 and "no group column 'region'" in err and "provider" in err


def test_sample_csv_is_excel_safe(tmp_path: Path) -> None:
    import csv
    text = _sample(tmp_path, REPO / "tests/hostile/excel_injection", "--n", "50", "--seed", "1",
                   "--stratify", "provider")
    rows = list(csv.reader(text.splitlines()))
    assert [len(r) for r in rows[:4]] == [1, 1, 1, 1]  # the method lines: one cell each
    assert "=1+1: 1 of 1" in rows[3][0]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row


# ---- SES 7.13 / 7.16: time from referral to assessment and to start -----------------------------


def test_ses_mean_working_days_from_referral_to_assessment_and_start(tmp_path: Path) -> None:
    """Old contract: no such figure. Working days after the first date up to and including the
    second; the mean is total days over records, over every basis (decision 110)."""
    data = ses_data(tmp_path, [
        # Fri 7 Apr 2023 (Good Friday) and Mon 10 Apr (Easter Monday) are bank holidays
        ["S1", "P1", "2023-04-03", "2023-04-05", "2023-04-12", "2023-04-12", None],  # 2, 3
        ["S2", "P1", "2023-04-06", "2023-04-11", "2023-04-11", "2023-04-11", None],  # 1, 0
        ["S3", "P2", "2023-04-20", "2023-05-02", None, None, None],                  # 7 (1 May)
        ["S4", "P2", "2023-04-21", None, None, None, None],                          # none yet
        ["S5", "P2", "2023-04-24", "2023-04-21", None, None, None],                  # before
    ])
    ev = run_source(SES, data, as_of="2023-05-31")
    april = pick(ev, "REFERRAL_TO_ASSESSMENT", "2023-04")
    assert (april["numerator"], april["denominator"], april["value"]) == (3, 2, 1.5)
    assert april["met"] is None and april["excluded"] == 1  # S5
    may = pick(ev, "REFERRAL_TO_ASSESSMENT", "2023-05", "cumulative")
    assert (may["numerator"], may["denominator"]) == (10, 3)
    start = pick(ev, "ASSESSMENT_TO_START", "2023-04")
    assert (start["numerator"], start["denominator"]) == (3, 2)
    assert pick(ev, "REFERRAL_TO_START", "2023-04")["value"] == 3.0  # (S1 5 + S2 1) / 2
    checks = {(q.table, q.check): q.count for q in ev.quality}
    assert checks[("referrals", "initial_assessment_date before referral_date")] == 1
    assert_same(SES, data, "2023-05-31")


def test_ses_provider_ranks_and_counts(tmp_path: Path) -> None:
    data = ses_data(tmp_path, [
        ["S1", "P1", "2023-04-03", "2023-04-05", "2023-04-12", "2023-04-12", "2023-05-10"],
        ["S2", "P2", "2023-04-06", "2023-04-11", "2023-04-11", "2023-04-11", None],
        ["S3", "P2", "2023-04-06", "2023-04-11", "2023-04-12", "2023-04-12", None],
        ["S4", "P1", "2023-04-06", "2023-04-11", "2023-04-12", "2023-04-12", None],
    ], [["S1", "job_outcome", "2023-04-20"]])  # P1: 1 of 1.0 expected; P2: 0 of 1.0
    ev = run_source(SES, data, as_of="2023-05-31")
    assert pick(ev, "REFERRALS", "2023-04", group={"provider": "P2"})["numerator"] == 2
    assert pick(ev, "REFERRALS", "2023-04")["numerator"] == 4
    assert pick(ev, "LEAVERS", "2023-05")["numerator"] == 1
    ranks = {p: pick(ev, "JOB_OUTCOME_CONVERSION", "2023-04", "cumulative",
                     {"provider": p})["rank"] for p in ("P1", "P2")}
    assert ranks == {"P1": 1, "P2": 2}
    assert_same(SES, data, "2023-05-31")


# ---- AtW 6.27 MMIR and 6.29-6.33 Customer Insight ----------------------------------------------

ATW_REF_COLS = ["referral_id", "provider", "referral_date", "acknowledged_date",
                "appointment_date", "assessment_type", "report_date", "report_acceptable",
                "rework_notified_date", "rework_completed_date", "original_assessment_type",
                "recommended_solution"]


def atw_data(tmp: Path) -> Path:
    def r(i: int, provider: str, day: str, report: str | None, solution: str | None,
          original: str | None = None) -> list[object]:
        return [f"R{i:03d}", provider, day, day, day, "virtual", report, None, None, None,
                original, solution]
    write_csv(tmp, "referrals", ATW_REF_COLS, [
        r(1, "North", "2024-04-02", "2024-04-10", "ergonomic_chair"),
        r(2, "North", "2024-04-03", "2024-04-11", "ergonomic_chair", "face_to_face"),
        r(3, "South", "2024-04-04", "2024-05-02", "job_coach"),
        r(4, "South", "2024-05-28", None, None),           # outstanding at the end of May
    ])
    write_csv(tmp, "workforce", ["provider", "quarter", "disabled_fte", "total_fte"], [])
    write_csv(tmp, "returns", ["provider", "return", "period", "submitted_date"], [])
    write_csv(tmp, "cancellations", ["referral_id", "cancelled_by", "reason", "cancelled_date",
                                     "rebooked_date", "contact_attempts", "appointments_offered"], [
        ["R001", "customer", "customer_unwell", "2024-04-05", "2024-04-09", 2, 1],
        ["R003", "provider", "system_issue", "2024-05-03", None, 1, 2],
        ["R002", "customer", "work_commitment", "2024-05-06", "2024-05-03", 1, 1],  # before
    ])
    write_csv(tmp, "complaints", ["complaint_id", "provider", "received_date", "resolved_date",
                                  "referred_to_dwp"], [
        ["C1", "North", "2024-04-08", "2024-04-15", "false"],   # 5 working days
        ["C2", "South", "2024-04-29", "2024-05-08", "true"],    # 6 (6 May is a bank holiday)
        ["C3", "South", "2024-05-20", None, "false"],
    ])
    write_csv(tmp, "satisfaction", ["provider", "customer_group", "response_date", "answer"], [
        ["North", "new_customer", "2024-04-12", "very_satisfied"],
        ["North", None, "2024-04-15", "very_satisfied"],
        ["South", "new_customer", "2024-05-03", "fairly_dissatisfied"],
    ])
    return tmp


def test_atw_mmir_figures(tmp_path: Path) -> None:
    """Old contract: none of these figures; the tables were not read."""
    atw = (REPO / "contracts/atw_ha_mmir.pmir").read_text()
    data = atw_data(tmp_path)
    ev = run_source(atw, data, as_of="2024-05-31")
    by = {"cancelled_by": "customer"}
    assert pick(ev, "CANCELLATIONS", "2024-05", "year_to_date", by)["numerator"] == 2
    assert pick(ev, "CANCELLATIONS", "2024-05", "in_month", by)["numerator"] == 1
    # R002 was re-booked before it was cancelled: out of the re-booking figure only (it does
    # not read rebooked_date, so it is still a cancellation)
    assert pick(ev, "CANCELLATIONS_REBOOKED", "2024-05")["excluded"] == 1
    assert pick(ev, "CANCELLATIONS_REBOOKED", "2024-04")["value"] == 2.0  # Fri 5 -> Tue 9
    resolution = pick(ev, "COMPLAINT_RESOLUTION", "2024-05", "year_to_date")
    assert (resolution["numerator"], resolution["denominator"]) == (11, 2)
    assert pick(ev, "COMPLAINTS", "2024-05", "year_to_date")["numerator"] == 3
    assert pick(ev, "COMPLAINTS_REFERRED", "2024-04")["numerator"] == 1
    assert pick(ev, "ASSESSMENT_TYPE_CHANGES", "2024-04")["numerator"] == 1
    top = {s: pick(ev, "RECOMMENDED_SOLUTIONS", "2024-05", "year_to_date",
                   {"recommended_solution": s})["rank"] for s in ("ergonomic_chair", "job_coach")}
    assert top == {"ergonomic_chair": 1, "job_coach": 2}
    happy = pick(ev, "SATISFACTION", "2024-04", "in_month",
                 {"provider": "North", "answer": "very_satisfied"})
    assert happy["numerator"] == 2
    assert_same(atw, data, "2024-05-31")


def test_atw_volumes_outstanding_and_the_oldest_case(tmp_path: Path) -> None:
    """Old contract: no such figure (6.27)."""
    data = atw_data(tmp_path)
    ev = run_source(ATW.read_text(), data, as_of="2024-05-31")
    april = pick(ev, "OUTSTANDING", "2024-04", "cumulative")
    assert april["numerator"] == 1 and april["oldest_age_working_days"] == 18  # R003 from 4 April
    may = pick(ev, "OUTSTANDING", "2024-05", "cumulative")
    assert may["numerator"] == 1 and may["oldest_age_working_days"] == 3  # R004: 29, 30, 31 May
    assert may["met"] is None
    assert_same(ATW.read_text(), data, "2024-05-31")


def test_atw_mmir_synthetic_tables_are_consistent() -> None:
    import numpy as np

    from pmir_dsl.synth import generate_atw_ha
    t = generate_atw_ha(3000, seed=4)
    c, k = t["cancellations"], t["complaints"]
    day = np.datetime64

    def col(table, name):  # type: ignore[no-untyped-def]
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False), "datetime64[D]")
    cancelled, rebooked = col(c, "cancelled_date"), col(c, "rebooked_date")
    ok = ~np.isnat(rebooked)
    assert (rebooked[ok] > cancelled[ok]).all() and 0 < ok.sum() < len(ok)
    received, resolved = col(k, "received_date"), col(k, "resolved_date")
    ok = ~np.isnat(resolved)
    assert (resolved[ok] >= received[ok]).all()
    assert (received <= day("2025-06-30")).all()
    s = t["satisfaction"]
    assert set(s.column("answer").to_pylist()) <= {"very_satisfied", "fairly_satisfied",
                                                    "fairly_dissatisfied", "very_dissatisfied"}
    r = t["referrals"]
    changed = [(o, a) for o, a in zip(r.column("original_assessment_type").to_pylist(),
                                      r.column("assessment_type").to_pylist()) if o]
    assert changed and all({o, a} == {"virtual", "face_to_face"} for o, a in changed)


# ---- The four-level regimes of AtW (6.15-6.16) and ESF (7.4-7.15): month sequences -----------

#: One referral a month, April 2024 to February 2025 (every one a Tuesday): KPI 1 failed in
#: April and June to November (acknowledged on the Friday), met otherwise.
MONTHS = ["2024-04-09", "2024-05-14", "2024-06-11", "2024-07-09", "2024-08-13", "2024-09-10",
          "2024-10-08", "2024-11-12", "2024-12-10", "2025-01-14", "2025-02-11"]
KPI1_FAILED = {"2024-04", "2024-06", "2024-07", "2024-08", "2024-09", "2024-10", "2024-11"}


def levels(ev: object, key: str, value: str) -> str:
    """A group's level in each month of the regime PMIR, as one string ('1122...')."""
    return "".join(str(e["level"]) for e in ev.escalations  # type: ignore[attr-defined]
                   if e["regime"] == "PMIR" and e["group"] == {key: value})


def atw_regime_data(tmp: Path) -> Path:
    def r(i: int, provider: str, day: str, late: bool) -> list[object]:
        ack = str(np.datetime64(day) + 3) if late else day  # Tuesday -> Friday: 3 working days
        return [f"R{i:03d}", provider, day, ack, day, "virtual", day, None, None, None, None,
                None]
    rows = [r(i, "P", d, d[:7] in KPI1_FAILED) for i, d in enumerate(MONTHS)]
    rows += [r(100 + i, "Q", d, False) for i, d in enumerate(MONTHS)]
    write_csv(tmp, "referrals", ATW_REF_COLS, rows)
    write_csv(tmp, "workforce", ["provider", "quarter", "disabled_fte", "total_fte"], [])
    write_csv(tmp, "returns", ["provider", "return", "period", "submitted_date"], [])
    return tmp


def test_atw_regime_month_by_month(tmp_path: Path) -> None:
    """6.15-6.16: a provider failing a KPI in 2 of 3 months goes to Enhanced action (June), 3
    months running to Informal action (August), 6 running to Formal action (November), and
    back to Standard action after 3 months with every KPI met (February). Under a reading that
    ignored the regime (the old contract), there were no levels at all; under one that counted
    any failed month as Level 2, April would be Level 2."""
    data = atw_regime_data(tmp_path)
    ev = run_source(ATW.read_text(), data, as_of="2025-02-28")
    assert levels(ev, "provider", "P") == "11223334441"
    assert levels(ev, "provider", "Q") == "11111111111"
    changes = [(e["month"], e["level"], e["reasons"]) for e in ev.escalations
               if e["changed"] and e["group"] == {"provider": "P"}]
    assert changes == [
        ("2024-06", 2, ["KPI1 failed in 2024-04 and 2024-06"]),
        ("2024-08", 3, ["KPI1 failed 2024-06 to 2024-08 (3 consecutive months)"]),
        ("2024-11", 4, ["KPI1 failed 2024-06 to 2024-11 (6 consecutive months)"]),
        ("2025-02", 1, ["KPI1, KPI2, KPI3, KPI4, KPI5 met 2024-12 to 2025-02 "
                        "(3 consecutive months)"])]
    formal = next(e for e in ev.escalations if e["month"] == "2024-11"
                  and e["group"] == {"provider": "P"})
    assert formal["level_title"] == "Formal action"
    assert formal["assumptions"][0].startswith("6 consecutive months: 6.15")
    assert_same(ATW.read_text(), data, "2025-02-28")


def esf_regime_data(tmp: Path) -> Path:
    """One referral a month in Leeds, recorded the day after (met) or 25 weekdays after the
    referral (START_RECORDED_20WD failed, and in backlog at that month end) in the same months
    as the AtW test; Hull always on time."""
    def late(day: str) -> str:
        return str(np.busday_offset(np.datetime64(day), 25, roll="forward"))

    rows = []
    for i, day in enumerate(d.replace("2024", "2023").replace("2025", "2024") for d in MONTHS):
        failed = day[:7].replace("2023", "2024") in KPI1_FAILED
        rec = late(day) if failed else str(np.datetime64(day) + 1)
        rows.append([f"E{i:03d}", "P1", "Leeds", "More Developed", day, str(np.datetime64(day) + 1),
                     None, rec])
        rows.append([f"H{i:03d}", "P2", "Hull", "Transition", day, str(np.datetime64(day) + 1),
                     None, str(np.datetime64(day) + 1)])
    return esf_data(tmp, rows)


def test_esf_regime_month_by_month(tmp_path: Path) -> None:
    """7.4-7.15: a LEP area whose starts are recorded late in 2 of 3 months goes to Level 2
    (June), 3 months running to Level 3 (August), 6 to Level 4 (November), and back to Level 1
    after 3 months in which every MPL is met (February). The cumulative backlog rules fire in
    the same months (the late referral is still in backlog at the month end)."""
    data = esf_regime_data(tmp_path)
    ev = run_source(ESF, data, as_of="2024-02-29")
    assert levels(ev, "lep_area", "Leeds") == "11223334441"
    assert levels(ev, "lep_area", "Hull") == "11111111111"
    changes = [(e["month"], e["level"], e["level_title"]) for e in ev.escalations
               if e["changed"] and e["group"] == {"lep_area": "Leeds"}]
    assert changes == [("2023-06", 2, "Informal action - performance manager led"),
                       ("2023-08", 3, "Informal action - nationally led"),
                       ("2023-11", 4, "Formal action - nationally led"),
                       ("2024-02", 1, "Performance management regime (PMR)")]
    august = next(e for e in ev.escalations if e["month"] == "2023-08"
                  and e["group"] == {"lep_area": "Leeds"})
    assert "START_RECORDED_20WD failed 2023-06 to 2023-08 (3 consecutive months)" in \
        august["reasons"]
    assert_same(ESF, data, "2024-02-29")


def test_esf_regime_reads_the_cumulative_backlog(tmp_path: Path) -> None:
    """7.3 (fourth bullet) is decided on the cumulative backlog at each month end: a LEP area
    whose month-end referral is always recorded a few days later (within its 20 working days,
    so START_RECORDED_20WD is met) still fails the backlog every month, and climbs by the
    cumulative rules: Level 2 in its second month, 3 in its third, 4 in its sixth. A regime
    that tested only the in-month MPLs would leave it on Level 1."""
    ends = [str(np.busday_offset(np.datetime64(f"2023-{m:02d}", "M") + np.timedelta64(1, "M"),
                                 -1, roll="backward")) for m in range(4, 11)]
    rows = [[f"Y{i:03d}", "P3", "York", "Transition", day, str(np.datetime64(day) + 1), None,
             str(np.busday_offset(np.datetime64(day), 3, roll="forward"))]
            for i, day in enumerate(ends)]
    data = esf_data(tmp_path, rows)
    ev = run_source(ESF, data, as_of="2023-10-31")
    assert all(pick(ev, "START_RECORDED_20WD", d[:7], group={"lep_area": "York"})["met"]
               for d in ends)
    assert levels(ev, "lep_area", "York") == "1233344"
    reasons = [e["reasons"] for e in ev.escalations if e["changed"]]
    assert reasons[0] == ["BACKLOG on cumulative failed in 2023-04 and 2023-05"]
    assert reasons[-1] == ["BACKLOG on cumulative failed 2023-04 to 2023-09 (6 consecutive months)"]
    assert_same(ESF, data, "2023-10-31")
