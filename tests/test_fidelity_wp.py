"""Issue 9, Work Programme part: readings of seed 003 that change a figure, each on a hand-made
record set run through the bundled contract (contracts/work_programme.pmir), so that each test
fails under the old reading (docs/language.md, decisions 160 on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, pick, write_csv

from pmir_dsl.check import check_source
from pmir_dsl.compile import compile_contract
from pmir_dsl.diagnostics import CompileError
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import Evaluation, evaluate

CONTRACT = REPO / "contracts" / "work_programme.pmir"
PARTICIPANTS = ["participant_id", "provider", "cpa", "payment_group", "referral_date",
                "attachment_date", "job_entry_date", "job_outcome_date", "completion_date",
                "job_claim_date"]
EMPTY = {
    "sustainments": ["participant_id", "payment_date"],
    "exit_reports": ["participant_id", "requested_date", "returned_date"],
    "validation": ["round", "period_start", "period_end", "rate", "completed_date", "provider",
                   "cpa"],
    "off_benefit_checks": ["provider", "month", "outcomes_claimed", "failures"],
    "cmo_visits": ["provider", "visit_date", "compliant_msos", "max_score"],
    "flight_paths": ["provider", "cpa", "month", "referrals", "job_entries", "job_outcomes"],
    "retention": ["months_after_outcome", "rate"],
}


def people(provider: str, cpa: str, attached: int, outcomes: int, group: str = "PG1",
           attach: str = "2022-04-04", outcome: str = "2023-01-16") -> list[list[Any]]:
    """``attached`` participants of one contract attached on ``attach``, the first
    ``outcomes`` of them with a job entry 26 weeks before a job outcome on ``outcome``."""
    tag = f"{provider[-1]}{cpa[0]}{group}"
    return [[f"{tag}{i:03d}", provider, cpa, group, attach, attach,
             "2022-07-18" if i < outcomes else None, outcome if i < outcomes else None,
             None, None] for i in range(attached)]


def run(tmp: Path, participants: list[list[Any]], as_of: str = "2023-05-31",
        **tables: list[list[Any]]) -> Evaluation:
    """The bundled contract over the participants given, an MPL of 50% for every payment
    group from 2022-04 to 2025-03, and the other tables as given (else empty)."""
    write_csv(tmp, "participants", PARTICIPANTS, participants)
    groups = ["PG1", "PG2", "PG3", "PG4", "PG5", "PG6A", "PG6B", "PG7", "PG8", "PG9"]
    write_csv(tmp, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [[g, "2022-04", "2025-03", "0.5"] for g in groups])
    write_csv(tmp, "cohort_mpl", ["payment_group", "months_on_programme", "rate"],
              tables.pop("cohort_mpl", [[g, k, "0"] for g in groups for k in range(3)]))
    for name, header in EMPTY.items():
        write_csv(tmp, name, header, tables.pop(name, []))
    assert not tables, f"unknown tables {sorted(tables)}"
    plan = compile_contract(check_source(CONTRACT.read_text(), str(CONTRACT), tmp))
    return evaluate(plan, load_tables(tmp, plan.contract.used_tables()), as_of)


def contract(provider: str, cpa: str) -> dict[str, str]:
    return {"provider": provider, "cpa": cpa}


# ---- 3.3, 8.9: a contract is a provider in a CPA (decisions 160-162) ----------------------------


def test_a_provider_in_two_cpas_holds_two_contracts_and_gets_the_pin_of_the_failing_one(
        tmp_path: Path) -> None:
    # Provider X is weak in North (1 of 10 against 5 required) and strong in South (10 of 10):
    # together it meets (11 against 10), so reviewing the provider raised no PIN.
    ev = run(tmp_path, people("Provider X", "North", 10, 1) + people("Provider X", "South", 10, 10))
    reviewed = {(r["group"]["cpa"], r["period"]): r for r in ev.reviews
                if r["measure"] == "JO_VS_MPL_PG1"}
    assert reviewed[("North", "2023-03")]["provisional"]["met"] is False
    assert reviewed[("South", "2023-03")]["provisional"]["met"] is True
    assert all(set(r["group"]) == {"provider", "cpa"} for r in ev.reviews)
    raised = [(n["group"], n["measure"], n["month"]) for n in ev.remedies]
    assert raised == [(contract("Provider X", "North"), "JO_VS_MPL_PG1", "2023-03")]


def test_the_regime_allocates_each_contract(tmp_path: Path) -> None:
    ev = run(tmp_path, people("Provider X", "North", 10, 1) + people("Provider X", "South", 10, 10))
    march = {r["group"]["cpa"]: r["level"] for r in ev.escalations if r["month"] == "2023-03"}
    assert march == {"North": 2, "South": 1}  # 2.3 (decision 96): North fails its rolling 12
    april = {r["group"]["cpa"]: r["level"] for r in ev.escalations if r["month"] == "2023-04"}
    assert april == {"North": 3, "South": 1}  # the PIN of 2023-04-30


def test_primes_are_ranked_within_their_cpa_and_cpas_are_never_ranked(tmp_path: Path) -> None:
    ev = run(tmp_path, people("Provider X", "North", 10, 4) + people("Provider Y", "North", 10, 6)
             + people("Provider X", "South", 10, 5) + people("Provider Z", "South", 10, 2))
    ranks = {(r["group"]["provider"], r["group"]["cpa"]): (r["rank"], r["rank_within_cpa"])
             for r in ev.results if r["measure"] == "JO_VS_MPL_PG1" and r["group"]
             and r["period"] == "2023-01" and r["basis"] == "rolling_12"}
    # 8.18: every contract ranked on job outcomes against its MPL; 8.9: and within its CPA
    assert ranks == {("Provider Y", "North"): (1, 1), ("Provider X", "South"): (2, 1),
                     ("Provider X", "North"): (3, 2), ("Provider Z", "South"): (4, 2)}
    levels = {tuple(sorted(r["group"])) for r in ev.results if r["measure"] == "JO_VS_MPL_PG1"}
    assert levels == {(), ("cpa", "provider")}  # no CPA totals ranked against each other


def test_rank_within_needs_a_level_with_the_column_and_another(tmp_path: Path) -> None:
    source = CONTRACT.read_text().replace("rank highest first within cpa",
                                          "rank highest first within payment_group", 1)
    with pytest.raises(CompileError) as err:
        check_source(source, "wp.pmir", tmp_path)
    assert "'rank ... within payment_group' needs a group level of payment_group" in str(
        err.value.diagnostics[0].message)


def test_a_level_of_the_within_column_alone_is_reported_not_ranked(tmp_path: Path) -> None:
    source = CONTRACT.read_text().replace(
        "rank highest first within cpa", "rank highest first within cpa\n  group by provider "
        "and cpa, cpa", 1)
    write_csv(tmp_path, "participants", PARTICIPANTS,
              people("Provider X", "North", 10, 4) + people("Provider Y", "South", 10, 6))
    run(tmp_path, people("Provider X", "North", 10, 4) + people("Provider Y", "South", 10, 6))
    plan = compile_contract(check_source(source, "wp.pmir", tmp_path))
    ev = evaluate(plan, load_tables(tmp_path, plan.contract.used_tables()), "2023-05-31")
    north = pick(ev, "JO_VS_MPL_PG1", "2023-01", "rolling_12", {"cpa": "North"})
    assert "rank" not in north and "rank_within_cpa" not in north
    assert north["against_target"] == pytest.approx(0.8)


# ---- 8.8, 8.17: All PGs (decision 163) -------------------------------------------------------


def test_all_pgs_adds_every_group_pg8_included_each_at_its_own_mpl(tmp_path: Path) -> None:
    mpl = [[g, "2022-04", "2025-03", "0.5"] for g in ("PG1", "PG2", "PG3", "PG4", "PG5",
                                                      "PG6A", "PG6B", "PG7", "PG9")]
    run(tmp_path, people("Provider X", "North", 4, 1) + people("Provider X", "North", 2, 2,
                                                                    group="PG8"))
    write_csv(tmp_path, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [*mpl, ["PG8", "2022-04", "2025-03", "0.25"]])
    plan = compile_contract(check_source(CONTRACT.read_text(), str(CONTRACT), tmp_path))
    ev = evaluate(plan, load_tables(tmp_path, plan.contract.used_tables()), "2023-05-31")
    row = pick(ev, "JO_VS_MPL_ALL", "2023-01", "rolling_12", contract("Provider X", "North"))
    # 6 attachments: 4 PG1 at 50% and 2 PG8 at 25% need 2.5 job outcomes; 3 were achieved
    assert (row["numerator"], row["denominator"], row["expected"]) == (3, 6, 2.5)
    assert row["met"] is True and row["rank"] == 1 and row["rank_within_cpa"] == 1


# ---- 8.21-8.24: sustainments against the layered retention profile (decisions 164-166) ---------


def sustainments(tmp: Path) -> Evaluation:
    """Two contracts in one CPA. X: 10 job outcomes in January 2023 and 10 in February, 12
    payments in March. Y: 2 job outcomes in January, 3 payments in March. Retention: 0 in the
    job outcome's month, then 0.5 and 0.25 of a payment per job outcome."""
    x = people("Provider X", "North", 10, 10) + people("Provider X", "North", 10, 10,
                                                       group="PG2", outcome="2023-02-13")
    y = people("Provider Y", "North", 2, 2)
    paid = [[p[0], "2023-03-13"] for p in x[:12]] + [[p[0], "2023-03-13"] for p in y[:2]] + \
        [[y[0][0], "2023-03-27"]]
    return run(tmp, x + y, sustainments=paid,
               retention=[[0, "0"], [1, "0.5"], [2, "0.25"]])


def test_sustainments_are_compared_with_retention_layered_over_each_months_job_outcomes(
        tmp_path: Path) -> None:
    ev = sustainments(tmp_path)
    x = pick(ev, "SUSTAINMENTS", "2023-03", "in_month", contract("Provider X", "North"))
    # March expects 10 x 0.25 (January's job outcomes) + 10 x 0.5 (February's) = 7.5
    assert (x["numerator"], x["expected"]) == (12, 7.5)
    assert x["value"] == pytest.approx(1.6)
    y = pick(ev, "SUSTAINMENTS", "2023-03", "in_month", contract("Provider Y", "North"))
    assert (y["numerator"], y["expected"], y["value"]) == (3, 0.5, 6.0)


def test_sustainments_are_ranked_against_the_profile_not_on_their_number(tmp_path: Path) -> None:
    ev = sustainments(tmp_path)
    ranks = {r["group"]["provider"]: r["rank"] for r in ev.results
             if r["measure"] == "SUSTAINMENTS" and r["group"] and r["period"] == "2023-03"
             and r["basis"] == "in_month"}
    assert ranks == {"Provider Y": 1, "Provider X": 2}  # 3 of 0.5 beats 12 of 7.5 (8.23)


def test_a_monthly_profile_whose_rates_go_down_is_not_a_cumulative_one(tmp_path: Path) -> None:
    """Retention falls month by month: read as a cumulative profile, it would be refused."""
    ev = sustainments(tmp_path)
    april = pick(ev, "SUSTAINMENTS", "2023-04", "in_month", contract("Provider X", "North"))
    assert april["expected"] == 2.5  # February's 10 job outcomes x 0.25; January's are done


def test_times_monthly_refuses_a_profile_with_shares(tmp_path: Path) -> None:
    source = CONTRACT.read_text().replace(
        '  rate: decimal                       "sustainment payments expected per job outcome '
        'in that month"', '  rate: decimal\n  share: decimal')
    with pytest.raises(CompileError) as err:
        check_source(source, "wp.pmir", tmp_path)
    assert "'times monthly retention' reads each month's rate as it is" in \
        err.value.diagnostics[0].message


# ---- 4.14-4.16: Flight Paths (decision 167) -----------------------------------------------------


def test_referrals_job_entries_and_job_outcomes_against_the_flight_path(tmp_path: Path) -> None:
    ev = run(tmp_path, people("Provider X", "North", 10, 4) + people("Provider Y", "North", 5, 1),
             flight_paths=[["Provider X", "North", "2022-04", 12, 0, 0],
                           ["Provider X", "North", "2022-07", 0, 5, 0],
                           ["Provider X", "North", "2023-01", 0, 0, 8],
                           ["Provider Y", "North", "2023-01", 0, 0, 1]])
    x = contract("Provider X", "North")
    refs = pick(ev, "REFERRALS_VS_FLIGHT_PATH", "2022-04", "in_month", x)
    assert (refs["numerator"], refs["expected"], refs["value"], refs["met"]) == (10, 12, 10 / 12,
                                                                                 None)
    entries = pick(ev, "JOB_ENTRIES_VS_FLIGHT_PATH", "2022-07", "in_month", x)
    assert (entries["numerator"], entries["expected"]) == (4, 5)
    outcomes = pick(ev, "JOB_OUTCOMES_VS_FLIGHT_PATH", "2023-01", "rolling_12", x)
    assert (outcomes["numerator"], outcomes["expected"], outcomes["value"]) == (4, 8, 0.5)
    whole = pick(ev, "JOB_OUTCOMES_VS_FLIGHT_PATH", "2023-01", "in_month")
    assert (whole["numerator"], whole["expected"]) == (5, 9)  # every contract's projections


# ---- the bundled example's story (examples/work_programme/README.md) ----------------------------


@pytest.fixture(scope="module")
def example() -> Evaluation:
    folder = REPO / "examples" / "work_programme"
    plan = compile_contract(check_source(CONTRACT.read_text(), str(CONTRACT), folder))
    return evaluate(plan, load_tables(folder, plan.contract.used_tables()), None)


def test_example_sustainments_rank_differs_from_their_number(example: Evaluation) -> None:
    rows = [r for r in example.results if r["measure"] == "SUSTAINMENTS" and r["group"]
            and r["period"] == "2024-09" and r["basis"] == "cumulative"]
    by_rank = [r["group"]["provider"] for r in sorted(rows, key=lambda r: r["rank"])]
    by_number = [r["group"]["provider"] for r in sorted(rows, key=lambda r: -r["numerator"])]
    assert by_rank == ["Provider C", "Provider A", "Provider B", "Provider D"]
    assert by_number == ["Provider A", "Provider B", "Provider D", "Provider C"]


def test_example_provider_c_is_behind_its_flight_path(example: Evaluation) -> None:
    c = pick(example, "JOB_OUTCOMES_VS_FLIGHT_PATH", "2024-09", "rolling_12",
             contract("Provider C", "West Yorkshire"))
    assert (c["numerator"], c["expected"]) == (160, 226)
    others = [r["value"] for r in example.results
              if r["measure"] == "JOB_OUTCOMES_VS_FLIGHT_PATH" and r["period"] == "2024-09"
              and r["basis"] == "rolling_12" and r["group"]
              and r["group"]["provider"] != "Provider C"]
    assert min(others) > 0.9


# ---- 8.37-8.38: cohort conversion against the cohort MPL (decisions 169-170) --------------------


def test_each_cohort_converts_against_its_cohort_mpl(tmp_path: Path) -> None:
    """10 PG1 participants attached in April 2022, 4 with a job outcome in January 2023 (month
    9 on the programme); a cohort MPL of 10% a month from month 3."""
    mpl = [["PG1", k, str(max(0, k - 2) / 10)] for k in range(11)]
    ev = run(tmp_path, people("Provider X", "North", 10, 4), cohort_mpl=mpl)
    rows = {r["months_since_start"]: r for r in ev.cohorts() if r["measure"] == "JO_VS_COHORT_MPL"
            and r["group"] == contract("Provider X", "North")}
    assert (rows[8]["outcomes"], rows[9]["outcomes"]) == (0, 4)  # own records, own cohort
    assert rows[9]["conversion"] == 0.4
    assert rows[9]["expected_conversion"] == pytest.approx(0.7)  # behind the cohort MPL
    assert rows[3]["expected_conversion"] == pytest.approx(0.1)
    assert rows[9]["starts"] == 10


# ---- 8.32: a contract's own validation rate (decision 171) ---------------------------------------


def test_a_contract_is_netted_at_its_own_validation_rate(tmp_path: Path) -> None:
    """Two contracts in North, each 6 job outcomes in September 2022 against 5 required. X's
    own round for April-September 2022 found 25% not valid; every other contract's, 5%."""
    rounds = [[1, "2022-04-01", "2022-09-30", "0.05", "2022-12-16", None, None],
              [1, "2022-04-01", "2022-09-30", "0.25", "2022-12-16", "Provider X", "North"]]
    ev = run(tmp_path, people("Provider X", "North", 10, 6, outcome="2022-09-19")
             + people("Provider Y", "North", 10, 6, outcome="2022-09-19"),
             validation=rounds)
    net = {r["group"]["provider"]: r["provisional"]["net"] for r in ev.reviews
           if r["measure"] == "JO_VS_MPL_PG1" and r["period"] == "2023-03"}
    assert net == {"Provider X": pytest.approx(4.5), "Provider Y": pytest.approx(5.7)}
    assert [n["group"] for n in ev.remedies] == [contract("Provider X", "North")]


def test_a_contract_without_rounds_of_its_own_takes_those_for_every_contract(
        tmp_path: Path) -> None:
    rounds = [[1, "2022-04-01", "2022-09-30", "0.05", "2022-12-16", None, None],
              [1, "2022-04-01", "2022-09-30", "0.25", "2022-12-16", "Provider X", "South"]]
    ev = run(tmp_path, people("Provider X", "North", 10, 6, outcome="2022-09-19"),
             validation=rounds)
    (row,) = [r for r in ev.reviews if r["measure"] == "JO_VS_MPL_PG1" and r["period"] == "2023-03"]
    assert row["provisional"]["net"] == pytest.approx(5.7)  # South's own rate is not North's


# ---- 8.28-8.29: days from job qualification to claim (decisions 240-241) ------------------------


def claimed(pid: str, provider: str, group: str, outcome: str,
            claim: str | None) -> list[Any]:
    """One participant attached on 2022-04-04 with a job outcome on ``outcome``, claimed on
    ``claim``."""
    return [pid, provider, "North", group, "2022-04-04", "2022-04-04", "2022-07-18", outcome,
            None, claim]


def test_days_to_claim_are_calendar_days_counted_in_the_month_of_the_claim(
        tmp_path: Path) -> None:
    ev = run(tmp_path, [
        claimed("X1", "Provider X", "PG1", "2023-01-13", "2023-01-16"),  # Fri to Mon: 3 days
        claimed("X2", "Provider X", "PG1", "2023-01-30", "2023-02-02"),  # claimed in February
        claimed("X3", "Provider X", "PG2", "2023-01-09", "2023-01-30"),  # 21 days, PG2
        claimed("X4", "Provider X", "PG1", "2023-01-10", None),          # not claimed yet
        claimed("X5", "Provider X", "PG1", "2023-01-10", "2023-06-05"),  # after the as-of date
        claimed("Y1", "Provider Y", "PG6B", "2023-01-05", "2023-01-05"),  # the same day: 0
    ], as_of="2023-05-31")
    x = contract("Provider X", "North")
    pg1 = pick(ev, "DAYS_TO_CLAIM_PG1", "2023-01", "in_month", x)
    # Calendar days (3, not the 1 working day of Friday to Monday); X2 is February's; X4 and
    # X5 have no claim by the as-of date.
    assert (pg1["numerator"], pg1["denominator"], pg1["value"]) == (3, 1, 3.0)
    assert pick(ev, "DAYS_TO_CLAIM_PG1", "2023-02", "in_month", x)["numerator"] == 3
    every = pick(ev, "DAYS_TO_CLAIM_ALL", "2023-01", "in_month", x)
    assert (every["numerator"], every["denominator"]) == (24, 2)  # X1 and X3, every group
    assert pick(ev, "DAYS_TO_CLAIM_PG2", "2023-01", "in_month", x)["value"] == 21.0
    national = pick(ev, "DAYS_TO_CLAIM_ALL", "2023-01", "in_month")  # 8.29: national average
    assert (national["numerator"], national["denominator"]) == (24, 3)
    y = pick(ev, "DAYS_TO_CLAIM_PG6B", "2023-01", "in_month", contract("Provider Y", "North"))
    assert (y["value"], y["met"], y["target"]) == (0.0, None, None)  # no target (8.28-8.29)
    assert not [r for r in ev.results if r["measure"].startswith("DAYS_TO_CLAIM")
                and r["basis"] != "in_month"]


def test_a_claim_before_its_job_outcome_is_excluded_and_reported(tmp_path: Path) -> None:
    ev = run(tmp_path, [claimed("X1", "Provider X", "PG1", "2023-01-13", "2023-01-16"),
                        claimed("X2", "Provider X", "PG1", "2023-01-20", "2023-01-18")])
    row = pick(ev, "DAYS_TO_CLAIM_ALL", "2023-01", "in_month", contract("Provider X", "North"))
    assert (row["numerator"], row["denominator"], row["excluded"]) == (3, 1, 1)
    (bad,) = [q for q in ev.quality if q.check == "job_claim_date before job_outcome_date"]
    assert bad.count == 1


def test_example_days_to_claim_in_september_2024(example: Evaluation) -> None:
    """The README's figures: Provider C claims slowest; the national average adds every claim."""
    got = {r["group"].get("provider", "national"): (r["numerator"], r["denominator"])
           for r in example.results if r["measure"] == "DAYS_TO_CLAIM_ALL"
           and r["period"] == "2024-09" and set(r["group"]) != {"cpa"}}
    assert got == {"Provider A": (272, 23), "Provider B": (364, 13), "Provider C": (198, 5),
                   "Provider D": (160, 14), "national": (994, 55)}


# ---- 8.25: cohort sustainment rate (decisions 242-244) ----------------------------------------


def cohort(tag: str, group: str, attach: str, n: int) -> list[list[Any]]:
    """``n`` participants of Provider X in North attached on ``attach`` (no job outcome)."""
    return [[f"{tag}{i}", "Provider X", "North", group, attach, attach, None, None, None, None]
            for i in range(n)]


def test_cohort_sustainment_rate_is_payments_per_individual_of_cohorts_24_months_on(
        tmp_path: Path) -> None:
    """As of 2024-09-30: the 2022-09 PG1 cohort has had 24 months on the WP, the 2022-10 one
    23. Payments per individual of the cohort, not per job outcome."""
    people_ = cohort("S", "PG1", "2022-09-12", 4) + cohort("T", "PG1", "2022-10-03", 2) + \
        cohort("U", "PG2", "2022-09-12", 1) + cohort("B", "PG6B", "2023-09-04", 2) + \
        cohort("C", "PG6B", "2023-10-02", 1)
    paid = [["S0", "2023-06-01"], ["S0", "2023-06-29"], ["S1", "2024-09-30"],
            ["S1", "2024-10-28"],  # after the as-of date: not yet paid
            ["T0", "2023-07-03"], ["U0", "2023-07-03"], ["B0", "2024-05-01"],
            ["C0", "2024-06-03"]]
    ev = run(tmp_path, people_, as_of="2024-09-30", sustainments=paid)
    x = contract("Provider X", "North")
    sep = pick(ev, "COHORT_SUSTAINMENT_RATE_PG1", "2022-09", "in_month", x)
    # 3 payments by the as-of date over the cohort's 4 individuals (2 with none); U0 is PG2
    assert (sep["numerator"], sep["denominator"], sep["value"]) == (3, 4, 0.75)
    assert (sep["target"], sep["met"]) == (None, None)
    octo = pick(ev, "COHORT_SUSTAINMENT_RATE_PG1", "2022-10", "in_month", x)
    assert (octo["denominator"], octo["pending"], octo["value"]) == (0, 2, None)  # 23 months
    whole = pick(ev, "COHORT_SUSTAINMENT_RATE_PG1", "2024-09", "cumulative")
    assert (whole["numerator"], whole["denominator"], whole["pending"]) == (3, 4, 2)
    # PG6B shows the cohorts with 12 months on the WP: 2023-09, not 2023-10
    b = pick(ev, "COHORT_SUSTAINMENT_RATE_PG6B", "2023-09", "in_month", x)
    assert (b["numerator"], b["denominator"]) == (1, 2)
    assert pick(ev, "COHORT_SUSTAINMENT_RATE_PG6B", "2023-10", "in_month", x)["pending"] == 1
    assert pick(ev, "COHORT_SUSTAINMENT_RATE_PG2", "2022-09", "in_month", x)["value"] == 1.0


def pg6b_rate_with(clause: str, tmp: Path) -> list[Any]:
    """The diagnostics of the bundled contract with PG6B's 'average count of' clause replaced."""
    source = CONTRACT.read_text().replace(
        "  average count of sustainments by payment_date\n  cohorts of at least 12 months",
        f"  {clause}\n  cohorts of at least 12 months")
    with pytest.raises(CompileError) as err:
        check_source(source, "wp.pmir", tmp)
    return list(err.value.diagnostics)


def test_cohorts_of_at_least_goes_with_average_count_of(tmp_path: Path) -> None:
    assert [d.code for d in pg6b_rate_with("count records", tmp_path)] == ["measure-kind"]


def test_average_count_of_needs_a_table_that_refers_to_the_population(tmp_path: Path) -> None:
    (d,) = pg6b_rate_with("average count of cmo_visits by visit_date", tmp_path)
    assert d.code == "type-mismatch" and "needs a ref(participants)" in d.message


def test_example_cohort_sustainment_rates(example: Evaluation) -> None:
    """The README's PG1 and PG6B columns: every cohort shown, to 2024-09."""
    def got(measure: str) -> dict[str, tuple[int, int]]:
        return {r["group"].get("provider", "national"): (r["numerator"], r["denominator"])
                for r in example.results if r["measure"] == measure and r["period"] == "2024-09"
                and r["basis"] == "cumulative" and set(r["group"]) != {"cpa"}}
    assert got("COHORT_SUSTAINMENT_RATE_PG1") == {
        "Provider A": (143, 37), "Provider B": (134, 40), "Provider C": (105, 40),
        "Provider D": (99, 31), "national": (481, 148)}
    assert got("COHORT_SUSTAINMENT_RATE_PG6B")["national"] == (304, 179)
    shown = [r["period"] for r in example.results if r["measure"] == "COHORT_SUSTAINMENT_RATE_PG1"
             and not r["group"] and r["basis"] == "in_month" and r["value"] is not None]
    assert shown == ["2022-04", "2022-05", "2022-06", "2022-07", "2022-08", "2022-09"]


# ---- 8.30: months from job qualification to claim (decisions 245-246) ---------------------------


def test_claims_are_bucketed_by_calendar_month_from_the_job_outcome(tmp_path: Path) -> None:
    """31 January + 1 calendar month is 28 February (Excel's EDATE), not 2 March (30 days)."""
    ev = run(tmp_path, [
        claimed("X1", "Provider X", "PG1", "2023-01-31", "2023-02-28"),  # within 1 month
        claimed("X2", "Provider X", "PG1", "2023-01-31", "2023-03-01"),  # the 2nd month
        claimed("X3", "Provider X", "PG2", "2022-09-03", "2023-03-03"),  # 6 months to the day
        claimed("X4", "Provider X", "PG2", "2022-09-02", "2023-03-03"),  # over 6 months
        claimed("X5", "Provider X", "PG6B", "2023-03-10", "2023-03-10"),  # the same day
    ], as_of="2023-05-31")
    x = contract("Provider X", "North")
    feb = pick(ev, "CLAIM_MONTHS_ALL", "2023-02", "in_month", x)
    assert (feb["numerator"], feb["denominator"]) == (1, 1)
    march = pick(ev, "CLAIM_MONTHS_ALL", "2023-03", "in_month", x)
    assert (march["numerator"], march["denominator"], march["met"]) == (1, 4, None)
    assert march["buckets"] == {"within_1": 1, "2_2": 1, "3_3": 0, "4_4": 0, "5_5": 0,
                                "6_6": 1, "7_plus": 1, "outstanding": 0}
    pg2 = pick(ev, "CLAIM_MONTHS_PG2", "2023-03", "in_month", x)
    assert pg2["buckets"]["6_6"] == 1 and pg2["buckets"]["7_plus"] == 1
    assert pick(ev, "CLAIM_MONTHS_PG6B", "2023-03", "in_month", x)["value"] == 1.0


def test_example_provider_c_claims_over_six_months(example: Evaluation) -> None:
    """The README's months table: only Provider C has claims over 6 months (2 of them)."""
    late: dict[str, int] = {}
    for r in example.results:
        if r["measure"] == "CLAIM_MONTHS_ALL" and r["group"].get("provider"):
            p = r["group"]["provider"]
            late[p] = late.get(p, 0) + r["buckets"]["7_plus"]
    assert late == {"Provider A": 0, "Provider B": 0, "Provider C": 2, "Provider D": 0}


# ---- 8.12: the flows of the Performance Assumption Summary (decision 247) -----------------------


def test_example_flows_add_up_to_the_readme_per_provider(example: Evaluation) -> None:
    """Every month's referrals and completers, per contract: the README's first table."""
    def total(measure: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in example.results:
            if r["measure"] == measure and r["basis"] == "in_month" and \
                    set(r["group"]) == {"provider", "cpa"}:
                out[r["group"]["provider"]] = out.get(r["group"]["provider"], 0) + r["numerator"]
        return out
    assert total("FLOWS_REFERRALS") == {"Provider A": 1549, "Provider B": 1457,
                                        "Provider C": 1521, "Provider D": 1473}
    assert total("FLOWS_COMPLETERS") == {"Provider A": 202, "Provider B": 191,
                                         "Provider C": 206, "Provider D": 186}


def test_flows_are_counted_per_payment_group_in_the_month_of_their_own_date(
        tmp_path: Path) -> None:
    ev = run(tmp_path, people("Provider X", "North", 3, 1) +
             people("Provider X", "North", 2, 0, group="PG6A", attach="2022-05-09"),
             as_of="2023-05-31")
    x = contract("Provider X", "North")
    pg1 = {**x, "payment_group": "PG1"}
    assert pick(ev, "FLOWS_REFERRALS", "2022-04", "in_month", pg1)["numerator"] == 3
    assert pick(ev, "FLOWS_REFERRALS", "2022-05", "in_month", x)["numerator"] == 2  # PG6A
    assert pick(ev, "FLOWS_JOB_ENTRIES", "2022-07", "in_month", pg1)["numerator"] == 1
    # the contract year runs April to March: year to date in May 2023 is April and May 2023
    assert pick(ev, "FLOWS_REFERRALS", "2023-03", "year_to_date", x)["numerator"] == 5
    assert pick(ev, "FLOWS_REFERRALS", "2023-05", "year_to_date", x)["numerator"] == 0
    flows = {r["measure"] for r in ev.results if r["measure"].startswith("FLOWS_")}
    assert flows == {"FLOWS_REFERRALS", "FLOWS_COMPLETERS", "FLOWS_JOB_ENTRIES"}
