"""Cohorts, profiles and backlogs (semantics.md 3-6) on small hand-made data."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, pick, run_source, write_csv
from pmir_dsl.errors import DataError

ESF = (REPO / "contracts/esf.pmir").read_text()
SES = (REPO / "contracts/ses.pmir").read_text()

REF_COLS = ["referral_id", "provider", "lep_area", "category_of_region", "referral_date",
            "start_date", "dns_date", "recorded_date"]


def esf_data(tmp: Path, referrals: list[list[object]], outcomes: list[list[object]] | None = None,
             profiles: list[list[object]] | None = None,
             starts: list[list[object]] | None = None) -> Path:
    write_csv(tmp, "referrals", REF_COLS, referrals)
    write_csv(tmp, "outcomes", ["referral_id", "outcome", "achieved_date"], outcomes or [])
    write_csv(tmp, "outcome_profiles", ["lep_area", "category_of_region", "outcome", "rate",
                                        "month", "share"],
              profiles if profiles is not None else [
                  ["Leeds", "ALL", "short_job", "0.5", 0, "1"],
                  ["Leeds", "ALL", "sustained_job", "0.2", 0, "1"]])
    write_csv(tmp, "starts_profile", ["lep_area", "category_of_region", "month",
                                      "profiled_starts"], starts or [])
    return tmp


def ref(i: int, referral: str, start: str | None = None, recorded: str | None = None,
        lep: str = "Leeds", cor: str = "More Developed", provider: str = "P1") -> list[object]:
    return [f"E{i:03d}", provider, lep, cor, referral, start, None, recorded]


# ---- the layered Cohort Profile ----------------------------------------------------------------

SES_PROFILE = ["outcome", "rate", "month", "share"]


@settings(max_examples=25, deadline=None)
@given(starts=st.lists(st.integers(0, 4), min_size=1, max_size=7),
       rate=st.integers(1, 100),
       shares=st.lists(st.integers(0, 20), min_size=1, max_size=5).filter(lambda s: sum(s) > 0))
def test_layered_expectation_equals_a_per_cohort_loop(tmp_path_factory: pytest.TempPathFactory,
                                                      starts: list[int], rate: int,
                                                      shares: list[int]) -> None:
    tmp = tmp_path_factory.mktemp("layer")
    total = sum(shares)
    micro = [s * 10**6 // total for s in shares]  # a published profile: 6 decimal places
    micro[-1] += 10**6 - sum(micro)  # that sums to exactly 1
    weights = [Fraction(u, 10**6) for u in micro]
    share_text = [f"{u // 10**6}.{u % 10**6:06d}" for u in micro]
    referrals, n = [], 0
    for month, count in enumerate(starts):
        day = f"2024-{month + 1:02d}-10"
        for _ in range(count):
            referrals.append([f"S{n:03d}", "P1", day, None, day, day, None])
            n += 1
    write_csv(tmp, "referrals", ["referral_id", "provider", "referral_date",
                                 "initial_assessment_date", "start_date", "start_recorded_date",
                                 "leave_date"], referrals)
    write_csv(tmp, "outcomes", ["referral_id", "outcome", "achieved_date"], [])
    write_csv(tmp, "profiles", SES_PROFILE,
              [["job_outcome", f"0.{rate:02d}" if rate < 100 else "1", k, share_text[k]]
               for k in range(len(shares))] +
              [["sustained_job_outcome", "0.1", 0, "1"]])
    write_csv(tmp, "starts_profile", ["month", "profiled_starts"], [["2024-01", 1]])
    ev = run_source(SES, tmp, as_of="2024-12-31")
    r_rate = Fraction(rate, 100)
    for m in range(12):
        loop = sum((starts[c] * r_rate * weights[m - c] for c in range(len(starts))
                    if 0 <= m - c < len(weights)), Fraction(0))
        got = pick(ev, "JOB_OUTCOME_CONVERSION", f"2024-{m + 1:02d}")
        assert got["expected"] == float(loop)


def test_profile_rows_for_each_group_level(tmp_path: Path) -> None:
    data = esf_data(tmp_path, [
        ref(1, "2023-04-03", "2023-04-05", "2023-04-05", cor="More Developed"),
        ref(2, "2023-04-03", "2023-04-06", "2023-04-06", cor="Transition"),
        ref(3, "2023-04-04", "2023-04-06", "2023-04-06", lep="Cornwall", cor="Less Developed"),
    ], starts=[["Leeds", "ALL", "2023-04", 4], ["Leeds", "More Developed", "2023-04", 1],
               ["Leeds", "Transition", "2023-04", 3], ["Cornwall", "ALL", "2023-04", 1],
               ["Cornwall", "Less Developed", "2023-04", 1]])
    ev = run_source(ESF, data, as_of="2023-04-30")
    got = {tuple(r["group"].values()): (r["numerator"], r["expected"], r["met"])
           for r in ev.results if r["measure"] == "STARTS_VS_PROFILE"
           and r["basis"] == "cumulative"}
    assert got == {
        (): (3, 5.0, False),                             # Leeds ALL 4 + Cornwall ALL 1; 3 < 4.25
        ("Leeds",): (2, 4.0, False), ("Cornwall",): (1, 1.0, True),
        ("Leeds", "More Developed"): (1, 1.0, True), ("Leeds", "Transition"): (1, 3.0, False),
        ("Cornwall", "Less Developed"): (1, 1.0, True)}


def test_85_percent_of_profile_is_exact(tmp_path: Path) -> None:
    referrals = [ref(i, "2023-04-03", "2023-04-05", "2023-04-05") for i in range(17)]
    data = esf_data(tmp_path, referrals, starts=[["Leeds", "ALL", "2023-04", 20],
                                                 ["Leeds", "More Developed", "2023-04", 20]])
    ev = run_source(ESF, data, as_of="2023-04-30")
    r = pick(ev, "STARTS_VS_PROFILE", "2023-04", "cumulative")
    assert (r["numerator"], r["expected"], r["value"], r["met"]) == (17, 20.0, 0.85, True)


def test_outcomes_counted_against_their_cohorts(tmp_path: Path) -> None:
    data = esf_data(tmp_path, [ref(1, "2023-04-03", "2023-04-05", "2023-04-05"),
                               ref(2, "2023-04-03", "2023-05-02", "2023-05-02")],
                    outcomes=[["E001", "short_job", "2023-05-10"],
                              ["E999", "short_job", "2023-05-10"],   # unknown referral
                              ["E002", "short_job", "2023-04-20"]],  # before its start
                    profiles=[["Leeds", "ALL", "short_job", "0.5", 0, "0.5"],
                              ["Leeds", "ALL", "short_job", "0.5", 1, "0.5"],
                              ["Leeds", "ALL", "sustained_job", "0.2", 0, "1"]])
    ev = run_source(ESF, data, as_of="2023-05-31")
    may = pick(ev, "SHORT_JOB_OUTCOMES", "2023-05")
    # April cohort (1 start): 0.25 in April, 0.25 in May; May cohort (1 start): 0.25 in May
    assert (may["numerator"], may["expected"]) == (1, 0.5)
    checks = {q.check: (q.count, q.examples) for q in ev.quality}
    assert checks["referral_id not found in referrals"] == (1, ("row 3",))
    assert checks["achieved_date before start_date"] == (1, ("row 4",))
    cells = {(c["cohort"], c["months_since_start"]): (c["outcomes"], c["conversion"],
                                                      c["expected_conversion"])
             for c in ev.cohorts() if c["measure"] == "SHORT_JOB_OUTCOMES" and not c["group"]}
    assert cells == {("2023-04", 0): (0, 0.0, 0.25), ("2023-04", 1): (1, 1.0, 0.5),
                     ("2023-05", 0): (0, 0.0, 0.25)}


# ---- backlogs ---------------------------------------------------------------------------------


def test_backlog_at_month_ends(tmp_path: Path) -> None:
    data = esf_data(tmp_path, [
        ref(1, "2023-04-03", "2023-04-05", "2023-04-05"),
        ref(2, "2023-04-28", "2023-05-02", "2023-05-02"),   # in backlog at the end of April
        ref(3, "2023-05-31", None, None),                   # never recorded
        ref(4, "2023-05-02", None, "2023-05-31"),           # recorded on the month end itself
    ])
    ev = run_source(ESF, data, as_of="2023-06-15")
    got = [(pick(ev, "BACKLOG", p, "cumulative")["numerator"],
            pick(ev, "BACKLOG", p, "cumulative")["denominator"]) for p in
           ("2023-04", "2023-05", "2023-06")]
    assert got == [(1, 2), (1, 4), (1, 4)]
    ages = [pick(ev, "BACKLOG", p, "cumulative")["oldest_age_working_days"]
            for p in ("2023-04", "2023-05", "2023-06")]
    assert ages == [0, 0, 11]  # E002 on Fri 28 April at Sun 30 April; E003 from 31 May
    assert pick(ev, "BACKLOG", "2023-04", "cumulative")["met"] is False  # 50% is not below 2%


def test_over_40_working_days_around_bank_holidays(tmp_path: Path) -> None:
    # 2023-03-01 + 40 working days, counted by hand over Good Friday 7 April and Easter Monday
    # 10 April: March 2-31 (22), April 3-6 (26), 11-14 (30), 17-21 (35), 24-28 (40): 28 April.
    data = esf_data(tmp_path, [
        ref(1, "2023-03-01", None, None),                   # over 40 WD after 28 April
        ref(2, "2023-03-02", None, "2023-05-03"),           # limit 2 May: recorded after it
        ref(3, "2023-03-31", None, None),
    ])
    src = ESF.replace("service start 2023-04-01", "service start 2023-03-01")
    ev = run_source(src, data, as_of="2023-06-30")
    over = [pick(ev, "BACKLOG_OVER_40WD", p, "cumulative")["numerator"]
            for p in ("2023-03", "2023-04", "2023-05", "2023-06")]
    # Each breach once, in the month of the day after its limit (semantics 6a): E001 (limit 28
    # April) in April; E002 (limit 2 May, recorded 3 May) in May, although recorded before the
    # May month end; E003's limit is 2 June (1, 8 and 29 May are bank holidays): June.
    assert over == [0, 1, 2, 3]


def test_small_number_guard(tmp_path: Path) -> None:
    few = [ref(i, "2023-04-03") for i in range(3)]
    ev = run_source(ESF, esf_data(tmp_path, few), as_of="2023-05-31")  # past the 20 WD
    r = pick(ev, "START_RATE", "2023-04")
    assert (r["value"], r["met"], r["assessed"]) == (0.0, None, False)
    enough = [ref(i, "2023-04-03") for i in range(5)]
    ev = run_source(ESF, esf_data(tmp_path, enough), as_of="2023-05-31")
    r = pick(ev, "START_RATE", "2023-04")
    assert (r["value"], r["met"], r["assessed"]) == (0.0, False, True)


# ---- bad profiles -------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "words"), [
    ([["Leeds", "ALL", "short_job", "0.5", 0, "0.6"], ["Leeds", "ALL", "short_job", "0.5", 1, "0.5"]],
     "add up to 1.1000"),
    ([["Leeds", "ALL", "short_job", "0.5", -1, "0.5"], ["Leeds", "ALL", "short_job", "0.5", 0, "0.5"]],
     "every month since start"),
    ([["Leeds", "ALL", "short_job", "0.5", 0, "0.5"], ["Leeds", "ALL", "short_job", "0.5", 2, "0.5"]],
     "every month since start"),
])
def test_bad_profiles_are_errors(tmp_path: Path, profile: list[list[object]], words: str) -> None:
    data = esf_data(tmp_path, [ref(1, "2023-04-03", "2023-04-05", "2023-04-05")],
                    profiles=profile + [["Leeds", "ALL", "sustained_job", "0.2", 0, "1"]])
    with pytest.raises(DataError) as e:
        run_source(ESF, data, as_of="2023-04-30")
    assert words in str(e.value) and "outcome_profiles" in str(e.value)


def test_starts_without_a_profile_are_reported(tmp_path: Path) -> None:
    data = esf_data(tmp_path, [ref(1, "2023-04-03", "2023-04-05", "2023-04-05"),
                               ref(2, "2023-04-03", "2023-04-05", "2023-04-05", lep="Cornwall",
                                   cor="Less Developed")])
    ev = run_source(ESF, data, as_of="2023-04-30")
    missing = [q for q in ev.quality if q.check.startswith("starts with no profile")]
    assert missing and missing[0].count == 1 and missing[0].examples == ("E002",)
    assert pick(ev, "SHORT_JOB_OUTCOMES", "2023-04")["expected"] == 0.5  # Leeds only


def test_undecided_referrals_are_pending_until_20_working_days(tmp_path: Path) -> None:
    data = esf_data(tmp_path, [ref(1, "2023-04-03", "2023-04-05", "2023-04-05"),
                               ref(2, "2023-04-03"),     # 20 WD: 4 May (Easter, May Day)
                               ref(3, "2023-04-28")])
    ev = run_source(ESF, data, as_of="2023-05-04")
    r = pick(ev, "START_RATE", "2023-04")
    assert (r["numerator"], r["denominator"], r["pending"]) == (1, 2, 1)


# ---- regressions found by documenting the language -------------------------------------------


@pytest.mark.parametrize(("edit", "code"), [
    (("  share in backlog until recorded_date", "  share in backlog until recorded_date"),
     None),
    (("month of achieved_date\n  count records\n  expected cohorts",
      "month of achieved_date\n  count records\n  group by outcome\n  expected cohorts"),
     "unknown-column"),
    (("referral_id: ref(referrals)", "referral_id: text"), "type-mismatch"),
    (("target at least 100% of expected", "target at least 110% of expected"), None),
])
def test_contract_edits(edit: tuple[str, str], code: str | None) -> None:
    from pmir_dsl.check import check_source
    from pmir_dsl.diagnostics import CompileError

    source = ESF.replace(*edit, 1)
    if code is None:
        check_source(source, "esf.pmir")
        return
    with pytest.raises(CompileError) as e:
        check_source(source, "esf.pmir")
    assert code in {d.code for d in e.value.diagnostics}


def test_backlog_needs_a_date_to_count_from() -> None:
    from pmir_dsl.check import check_source
    from pmir_dsl.diagnostics import CompileError

    source = ESF.replace("  referral_date: date\n", "  referral_date: date\n  referred: month\n")
    source = source.replace("month of referral_date\n  share in backlog",
                            "month of referred\n  share in backlog")
    with pytest.raises(CompileError) as e:
        check_source(source, "esf.pmir")
    assert [d.code for d in e.value.diagnostics] == ["type-mismatch"]


def test_all_rows_where_given_finer_rows_elsewhere(tmp_path: Path) -> None:
    data = esf_data(tmp_path, [ref(1, "2023-04-03", "2023-04-05", "2023-04-05")],
                    starts=[["Leeds", "ALL", "2023-04", 4], ["Leeds", "More Developed", "2023-04", 1],
                            ["Leeds", "Transition", "2023-04", 3],
                            ["Cornwall", "Less Developed", "2023-04", 2]])  # no ALL row
    ev = run_source(ESF, data, as_of="2023-04-30")
    assert pick(ev, "STARTS_VS_PROFILE", "2023-04")["expected"] == 6.0  # Leeds ALL + Cornwall
    assert pick(ev, "STARTS_VS_PROFILE", "2023-04", group={"lep_area": "Cornwall"})[
        "expected"] == 2.0


def test_starts_after_the_as_of_date_are_not_expected_to_convert(tmp_path: Path) -> None:
    data = esf_data(tmp_path, [ref(1, "2023-04-03", "2023-04-05", "2023-04-05"),
                               ref(2, "2023-04-03", "2023-04-20", "2023-04-20")])
    ev = run_source(ESF, data, as_of="2023-04-10")
    assert pick(ev, "SHORT_JOB_OUTCOMES", "2023-04")["expected"] == 0.5  # E002 not started yet
