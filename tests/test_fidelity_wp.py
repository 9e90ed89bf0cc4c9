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
    "validation": ["round", "period_start", "period_end", "rate", "completed_date"],
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
