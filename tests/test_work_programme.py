"""Work Programme (seed 003): job outcomes against the MPL, formal quarterly reviews with
validated and extrapolated months, PINs, the PMR / EPR / PIN regime, ranks and exit-report
buckets, from hand-written data and on the bundled example's story."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import pick, run_source, write_csv

from pmir_dsl import reviews
from pmir_dsl.cli import main
from pmir_dsl.diagnostics import CompileError
from pmir_dsl.errors import DataError
from pmir_dsl.pipeline import run_check
from pmir_dsl.report import json as json_report

CONTRACT = """
contract "WP test" {
  service start 2023-01-01
  group by provider
  bases in_month, rolling_12
}
table participants {
  participant_id: id
  provider: text
  payment_group: category(PG1, PG2)
  attachment_date: date?
  job_outcome_date: date?
}
table mpl {
  payment_group: category(PG1, PG2)
  from_month: month
  to_month: month
  rate: decimal
}
table validation {
  period_start: date
  period_end: date
  rate: decimal
  completed_date: date
}
measure JO_VS_MPL_PG1 "PG1 job outcomes against the MPL" {
  population participants where payment_group is PG1
  ratio count of job_outcome_date over count of attachment_date
  target at least rate of mpl for payment_group in the month of attachment_date
  rank highest first
}
review FQR "Formal Quarterly Review" {
  group by provider
  measures JO_VS_MPL_PG1
  at each quarter end over rolling_12
  reviewed 1 month after the quarter end
  net of the rate of validation for period_start to period_end, completed on completed_date
  notice PIN "Performance Improvement Notice" when failed
  remedy period 6 months
  no further notice before the end date
  cancel when the validated figures meet
  action plan due within 5 working days
}
"""

PARTICIPANTS = ["participant_id", "provider", "payment_group", "attachment_date",
                "job_outcome_date"]
VALIDATION = ["period_start", "period_end", "rate", "completed_date"]


def months(first: str, n: int) -> list[str]:
    start = np.datetime64(first, "M")
    return [str(start + i) for i in range(n)]


def write(tmp: Path, outcomes: dict[str, int], attach: int = 10, rate: str = "0.5",
          rounds: list[list[Any]] | None = None, provider: str = "P") -> Path:
    """``attach`` PG1 attachments on the 1st of each month of 2023-01..2025-03 and job outcomes
    (on the 15th) per month as given; MPL ``rate`` throughout."""
    rows, n = [], 0
    for month in months("2023-01", 27):
        for _ in range(attach):
            n += 1
            rows.append([f"W{n:05d}", provider, "PG1", f"{month}-01", None])
        for _ in range(outcomes.get(month, 0)):
            n += 1
            rows.append([f"W{n:05d}", provider, "PG1", f"{month}-01", f"{month}-15"])
    # outcomes are people attached earlier: move their attachment to January 2023
    rows = [r if r[4] is None else [*r[:3], "2023-01-01", r[4]] for r in rows]
    write_csv(tmp, "participants", PARTICIPANTS, rows)
    write_csv(tmp, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [["PG1", "2023-01", "2025-12", rate], ["PG2", "2023-01", "2025-12", rate]])
    write_csv(tmp, "validation", VALIDATION, rounds if rounds is not None else [])
    return tmp


def review_rows(ev: Any) -> dict[str, dict[str, Any]]:
    return {r["period"]: r for r in ev.reviews if r["group"]}


def pins(ev: Any) -> list[dict[str, Any]]:
    return [n for n in ev.remedies if n["remedy"] == "PIN"]


# ---- the MPL target looked up per record ------------------------------------------------------


def test_required_outcomes_use_each_months_own_mpl(tmp_path: Path) -> None:
    write_csv(tmp_path, "participants", PARTICIPANTS, [
        ["W1", "P", "PG1", "2023-03-10", "2023-04-02"],
        ["W2", "P", "PG1", "2023-04-10", None],
        ["W3", "P", "PG1", "2023-04-11", None],
        ["W4", "P", "PG2", "2023-04-11", "2023-04-20"],  # another payment group
        ["W5", "P", "PG1", None, None],  # never attached: outside the population
    ])
    write_csv(tmp_path, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [["PG1", "2023-01", "2023-03", "0.1"], ["PG1", "2023-04", "2024-03", "0.25"],
               ["PG2", "2023-01", "2024-03", "0.9"]])
    write_csv(tmp_path, "validation", VALIDATION, [])
    ev = run_source(CONTRACT, tmp_path, as_of="2023-04-30")
    march, april = pick(ev, "JO_VS_MPL_PG1", "2023-03"), pick(ev, "JO_VS_MPL_PG1", "2023-04")
    assert (march["numerator"], march["denominator"], march["expected"]) == (0, 1, 0.1)
    assert (april["numerator"], april["denominator"], april["expected"]) == (1, 2, 0.5)
    assert april["target"] == 0.25 and april["met"] is True  # 1 >= 2 x 0.25, exactly
    both = pick(ev, "JO_VS_MPL_PG1", "2023-04", "rolling_12")
    assert both["expected"] == pytest.approx(0.6) and both["target"] == pytest.approx(0.2)
    assert both["variance"] == pytest.approx(0.4) and both["met"] is True
    summary = next(m for m in json.loads(json_report.render(ev))["measures"]
                   if m["measure"] == "JO_VS_MPL_PG1")
    assert (summary["population"], summary["outside_population"]) == (3, 2)


def test_missing_mpl_is_excluded_and_reported(tmp_path: Path) -> None:
    write_csv(tmp_path, "participants", PARTICIPANTS,
              [["W1", "P", "PG1", "2023-02-10", None], ["W2", "P", "PG1", "2022-12-30", None]])
    write_csv(tmp_path, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [["PG1", "2023-03", "2024-03", "0.1"]])
    write_csv(tmp_path, "validation", VALIDATION, [])
    ev = run_source(CONTRACT, tmp_path, as_of="2023-03-31")
    checks = {q.check: q.count for q in ev.quality}
    assert checks["no rate in mpl for its payment_group and month of attachment_date"] == 1
    assert pick(ev, "JO_VS_MPL_PG1", "2023-02")["excluded"] == 1


def test_overlapping_mpl_rows_are_a_data_error(tmp_path: Path) -> None:
    write(tmp_path, {})
    write_csv(tmp_path, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [["PG1", "2023-01", "2023-12", "0.1"], ["PG1", "2023-06", "2024-03", "0.2"]])
    with pytest.raises(DataError, match="rows 2 and 3 both give a rate for PG1 in 2023-06"):
        run_source(CONTRACT, tmp_path, as_of="2023-12-31")


def test_ranks_share_the_lower_number(tmp_path: Path) -> None:
    rows = []
    for p, jobs in (("A", 2), ("B", 4), ("C", 2), ("D", 1)):
        rows += [[f"{p}{i}", p, "PG1", "2023-01-05", "2023-01-20" if i < jobs else None]
                 for i in range(10)]
    write_csv(tmp_path, "participants", PARTICIPANTS, rows)
    write_csv(tmp_path, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [["PG1", "2023-01", "2023-12", "0.2"]])
    write_csv(tmp_path, "validation", VALIDATION, [])
    ev = run_source(CONTRACT, tmp_path, as_of="2023-01-31")
    ranks = {p: pick(ev, "JO_VS_MPL_PG1", "2023-01", group={"provider": p})["rank"]
             for p in "ABCD"}
    assert ranks == {"B": 1, "A": 2, "C": 2, "D": 4}
    assert "rank" not in pick(ev, "JO_VS_MPL_PG1", "2023-01")  # the national figure


# ---- validated and extrapolated months ----------------------------------------------------------

ROUNDS = [["2023-01-01", "2023-06-30", "0.1", "2023-09-15"],
          ["2023-07-01", "2023-12-31", "0.2", "2024-03-15"],
          ["2024-01-01", "2024-06-30", "0.05", "2024-09-15"]]


def test_figure_uses_own_rounds_then_the_last_completed() -> None:
    rs = [reviews.Round(i + 1, int(np.datetime64(a, "M").astype(np.int64)),
                        int(np.datetime64(b, "M").astype(np.int64)), Fraction(r),
                        np.datetime64(c), i + 2) for i, (a, b, r, c) in enumerate(ROUNDS)]
    window = range(int(np.datetime64("2023-04", "M").astype(np.int64)),
                   int(np.datetime64("2024-04", "M").astype(np.int64)))
    outcomes = np.full(12, 10)
    # at 2024-04-30: Apr-Jun 2023 (round 1) and Jul-Dec (round 2) validated: 9 + 3 at round 2
    f = reviews.figure(rs, window, outcomes, np.datetime64("2024-04-30"))
    assert (f.validated, f.extrapolated, f.rate) == (9, 3, Fraction("0.2"))
    assert f.net == 30 * Fraction("0.9") + 60 * Fraction("0.8") + 30 * Fraction("0.8")
    # at 2024-01-31: only round 1 done: 3 validated, 9 extrapolated at round 1's rate
    f = reviews.figure(rs, window, outcomes, np.datetime64("2024-01-31"))
    assert (f.validated, f.extrapolated, f.rate) == (3, 9, Fraction("0.1"))
    assert reviews.figure(rs, window, outcomes, np.datetime64("2024-04-30"), final=True) is None
    final = reviews.figure(rs, window, outcomes, np.datetime64("2024-09-15"), final=True)
    assert final is not None and final.net == 30 * Fraction("0.9") + 60 * Fraction("0.8") + \
        30 * Fraction("0.95")


def test_six_plus_six_and_nine_plus_three_splits(tmp_path: Path) -> None:
    """Half-yearly rounds (April-September, October-March) completed in the third month after
    (3.7): a March or September review (made at the end of April or October) has 6 validated
    months, a June or December review (end of July or January) 9."""
    rounds = [["2022-10-01", "2023-03-31", "0.1", "2023-06-20"],
              ["2023-04-01", "2023-09-30", "0.1", "2023-12-20"],
              ["2023-10-01", "2024-03-31", "0.1", "2024-06-20"],
              ["2024-04-01", "2024-09-30", "0.1", "2024-12-20"]]
    write(tmp_path, {m: 5 for m in months("2023-01", 27)}, rate="0.01", rounds=rounds)
    ev = run_source(CONTRACT, tmp_path, as_of="2025-03-31")
    found = review_rows(ev)
    split = {q: (found[q]["provisional"]["validated_months"],
                 found[q]["provisional"]["extrapolated_months"]) for q in found}
    assert split["2024-03"] == (6, 6) and split["2024-06"] == (9, 3)
    assert split["2024-09"] == (6, 6) and split["2024-12"] == (9, 3)
    assert split["2023-12"] == (9, 3)
    assert found["2024-03"]["review_date"] == "2024-04-30"
    assert found["2024-03"]["final"]["as_at"] == "2024-06-20"
    assert found["2024-12"]["final"] is None
    assert min(found) == "2023-12"  # the first quarter end with 12 months of data


# ---- PINs -----------------------------------------------------------------------------------------


def test_pin_issued_not_repeated_then_raised_again(tmp_path: Path) -> None:
    """Every review fails: a PIN at 2023-12 (end of remedy period 2024-06), none at 2024-03 or
    2024-06 (3.12), a second at 2024-09, none at 2024-12."""
    write(tmp_path, {m: 1 for m in months("2023-01", 27)}, rate="0.5")
    ev = run_source(CONTRACT, tmp_path, as_of="2025-03-31")
    raised = pins(ev)
    assert [(p["month"], p["issued"], p["remedy_period_end"]) for p in raised] == [
        ("2023-12", "2024-01-31", "2024-06-30"), ("2024-09", "2024-10-31", "2025-03-31")]
    assert raised[0]["action_plan_due"] == "2024-02-07"  # 5 working days after 31 January
    assert raised[0]["status"] == "target missed"
    assert raised[0]["target"] == pytest.approx(60.0)  # 12 x 10 attachments x 0.5
    found = review_rows(ev)
    assert found["2024-03"]["notice"].startswith("not raised: the PIN of 2023-12 runs to")
    assert found["2024-06"]["notice"].startswith("not raised")
    assert found["2024-09"]["notice"] == "PIN raised"


def test_pin_cancelled_when_validated_figures_meet(tmp_path: Path) -> None:
    """Provisional fails (recent months extrapolated at 40%), final meets (their own round
    is 0%): the PIN is cancelled on the day that round is completed (3.15). 60 job outcomes,
    180 attachments x 22% = 39.6 required; provisional 60 x 0.6 = 36, final 45 x 0.6 + 15 = 42."""
    rounds = [["2023-01-01", "2023-09-30", "0.4", "2023-11-10"],
              ["2023-10-01", "2023-12-31", "0", "2024-02-20"]]
    write(tmp_path, {m: 5 for m in months("2023-01", 12)}, rate="0.22", rounds=rounds)
    ev = run_source(CONTRACT, tmp_path, as_of="2024-03-31")
    (pin,) = pins(ev)
    assert (pin["month"], pin["status"], pin["cancelled"]) == ("2023-12", "cancelled",
                                                               "2024-02-20")
    review = review_rows(ev)["2023-12"]
    assert review["provisional"]["met"] is False and review["final"]["met"] is True
    assert (review["provisional"]["net"], review["final"]["net"]) == (36.0, 42.0)
    assert review["required"] == pytest.approx(39.6)
    # before the round is completed the PIN stands
    ev = run_source(CONTRACT, tmp_path, as_of="2024-02-19")
    assert pins(ev)[0]["status"] == "open" and pins(ev)[0]["cancelled"] is None


def test_pin_lifted_when_target_met_at_end_of_remedy(tmp_path: Path) -> None:
    outcomes = {m: (1 if m < "2024-01" else 20) for m in months("2023-01", 27)}
    write(tmp_path, outcomes, rate="0.5")
    ev = run_source(CONTRACT, tmp_path, as_of="2024-12-31")
    first = pins(ev)[0]
    assert first["month"] == "2023-12" and first["status"] == "target met"
    assert first["end_of_remedy"]["period"] == "2024-06" and first["end_of_remedy"]["met"]


def test_no_pin_when_nothing_attached(tmp_path: Path) -> None:
    write(tmp_path, {}, attach=0)
    ev = run_source(CONTRACT, tmp_path, as_of="2024-12-31")
    assert not pins(ev)
    assert all(r["provisional"]["met"] is None for r in ev.reviews)


@pytest.mark.parametrize(("rounds", "message"), [
    ([["2023-01-01", "2023-06-30", "0.1", "2023-09-01"],
      ["2023-06-01", "2023-12-31", "0.1", "2024-03-01"]], "overlap"),
    ([["2023-07-01", "2023-12-31", "0.1", "2024-03-01"],
      ["2023-01-01", "2023-06-30", "0.1", "2023-09-01"]], "out of order"),
    ([["2023-01-01", "2023-06-30", "0.1", "2024-09-01"],
      ["2023-07-01", "2023-12-31", "0.1", "2024-03-01"]], "completed before"),
    ([["2023-01-15", "2023-06-30", "0.1", "2023-09-01"]], "whole months"),
])
def test_bad_validation_rounds_are_data_errors(tmp_path: Path, rounds: list[list[Any]],
                                               message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"2023-05": 1}, rounds=rounds)
    with pytest.raises(DataError, match=message):
        run_source(CONTRACT, tmp_path, as_of="2024-06-30")
    contract = tmp_path / "c.pmir"
    contract.write_text(CONTRACT)
    assert main(["check", str(contract), str(tmp_path), "--as-of", "2024-06-30"]) == 2
    err = capsys.readouterr().err
    assert "validation.csv" in err and "Traceback" not in err


# ---- the regime: allocation every 6 months, EPR reviewed at 3 months, PIN level ----------------

REGIME = """
regime WP "Work Programme regime" {
  group by provider
  level 1 "PMR"
  level 2 "EPR"
  level 3 "PIN"
  allocate every 6 months from 2023-06
  review level 2 after 3 months
  escalate to level 3 when PIN open
  return to level 2 from level 3 when no PIN open
  escalate to level 2 at allocation when any of (JO_VS_MPL_PG1) failed on rolling_12
  return to level 1 from level 2 at allocation when all of (JO_VS_MPL_PG1) met on rolling_12
}
"""


def test_allocation_months_review_at_three_months_and_pin_level(tmp_path: Path) -> None:
    # rolling 12 fails from the start (few outcomes) until outcomes jump in 2024-02
    outcomes = {m: (1 if m < "2024-02" else 40) for m in months("2023-01", 27)}
    write(tmp_path, outcomes, rate="0.5")
    ev = run_source(CONTRACT + REGIME, tmp_path, as_of="2024-12-31")
    level = {e["month"]: e["level"] for e in ev.escalations}
    assert level["2023-05"] == 1  # failing, but not an allocation month
    assert level["2023-06"] == 2  # allocated to the EPR at the six-month point
    assert level["2023-12"] == 2  # reviewed at 3 months (September) and 6: still failing
    assert level["2024-01"] == 3  # the PIN of the 2023-12 review, issued 2024-01-31
    assert level["2024-06"] == 3 and level["2024-07"] == 2  # PIN runs to 2024-06-30
    assert level["2024-09"] == 2 or level["2024-10"] == 1  # EPR reviewed after 3 months
    assert level["2024-10"] == 1
    reasons = next(e for e in ev.escalations if e["month"] == "2023-06")["reasons"]
    assert reasons == ["JO_VS_MPL_PG1 on rolling_12 failed in 2023-06"]


def test_at_allocation_needs_an_allocate_clause(tmp_path: Path) -> None:
    write(tmp_path, {})
    bad = REGIME.replace("  allocate every 6 months from 2023-06\n", "")
    with pytest.raises(CompileError) as e:
        run_source(CONTRACT + bad, tmp_path)
    assert "'at allocation' needs the regime to say when allocation happens" in str(
        e.value.diagnostics[0].message)


def test_unknown_notice_in_a_rule_gets_did_you_mean(tmp_path: Path) -> None:
    write(tmp_path, {})
    with pytest.raises(CompileError) as e:
        run_source(CONTRACT + REGIME.replace("when PIN open", "when PNI open"), tmp_path)
    d = e.value.diagnostics[0]
    assert d.code == "unknown-measure" and "PIN" in (d.hint or "")


# ---- exit reports: lateness buckets -------------------------------------------------------------


def test_exit_report_buckets(tmp_path: Path) -> None:
    source = """
contract "Exit reports" { service start 2024-04-01  group by provider }
table exit_reports { report_id: id  provider: text  requested_date: date  returned_date: date? }
measure EXIT_REPORTS_10WD "Exit reports within 10 working days" {
  population exit_reports
  month of requested_date
  met when returned_date within 10 working days of requested_date
  lateness buckets up to 20 working days
  no target
}
"""
    # 2024-04-02 + 10 working days = 2024-04-16; + 20 = 2024-04-30
    write_csv(tmp_path, "exit_reports", ["report_id", "provider", "requested_date",
                                         "returned_date"],
              [["E1", "A", "2024-04-02", "2024-04-16"], ["E2", "A", "2024-04-02", "2024-04-17"],
               ["E3", "A", "2024-04-02", "2024-04-30"], ["E4", "A", "2024-04-02", "2024-05-01"],
               ["E5", "A", "2024-04-02", None], ["E6", "A", "2024-04-29", None],
               ["E7", "A", "2024-04-02", "2024-03-01"]])
    ev = run_source(source, tmp_path, as_of="2024-05-03")
    r = pick(ev, "EXIT_REPORTS_10WD", "2024-04")
    assert r["buckets"] == {"within_10": 1, "11_20": 2, "21_plus": 1, "outstanding": 2}
    assert (r["pending"], r["excluded"], r["target"], r["met"]) == (1, 1, None, None)


# ---- the bundled example's story (examples/work_programme/README.md) --------------------------


@pytest.fixture(scope="module")
def story() -> Any:
    root = Path(__file__).resolve().parent.parent
    return run_check(root / "contracts/work_programme.pmir", root / "examples/work_programme")


def test_story_pins(story: Any) -> None:
    found = {(p["group"]["provider"], p["measure"], p["month"]): p for p in pins(story)}
    assert set(found) == {("Provider B", "JO_VS_MPL_PG1", "2023-12"),
                          ("Provider C", "JO_VS_MPL_PG2", "2023-06"),
                          ("Provider C", "JO_VS_MPL_PG2", "2024-03"),
                          ("Provider D", "JO_VS_MPL_PG6A", "2024-03")}
    b = found[("Provider B", "JO_VS_MPL_PG1", "2023-12")]
    assert (b["issued"], b["remedy_period_end"], b["status"]) == ("2024-01-31", "2024-06-30",
                                                                  "target met")
    assert b["end_of_remedy"]["net"] == pytest.approx(48.70, abs=0.005)
    c1 = found[("Provider C", "JO_VS_MPL_PG2", "2023-06")]
    assert c1["status"] == "target missed" and c1["end_of_remedy"]["net"] == pytest.approx(
        37.99, abs=0.005)
    d = found[("Provider D", "JO_VS_MPL_PG6A", "2024-03")]
    assert (d["status"], d["cancelled"]) == ("cancelled", "2024-06-18")


#: The example's contracts (3.3): each provider holds one, in one CPA.
CPA = {"Provider A": "East Midlands", "Provider B": "East Midlands",
       "Provider C": "West Yorkshire", "Provider D": "West Yorkshire"}


def held(provider: str) -> dict[str, str]:
    """The group of the example's contract held by ``provider``."""
    return {"provider": provider, "cpa": CPA[provider]}


def test_story_borderline_review(story: Any) -> None:
    d = next(r for r in story.reviews if r["group"] == held("Provider D")
             and r["measure"] == "JO_VS_MPL_PG6A" and r["period"] == "2024-03")
    assert (d["numerator"], d["denominator"]) == (18, 119)
    assert d["required"] == pytest.approx(16.66)
    assert d["provisional"]["net"] == pytest.approx(16.578)  # 18 x 0.921
    assert d["final"]["net"] == pytest.approx(16.962)  # 10 x 0.921 + 8 x 0.969
    assert (d["provisional"]["met"], d["final"]["met"]) == (False, True)


def test_story_exit_report_buckets(story: Any) -> None:
    expected = {"Provider A": (178, 7, 1, 12), "Provider B": (147, 11, 6, 23),
                "Provider C": (136, 19, 17, 28), "Provider D": (155, 10, 3, 13)}
    for provider, counts in expected.items():
        r = pick(story, "EXIT_REPORTS_10WD", "2024-09", "cumulative", held(provider))
        assert tuple(r["buckets"].values()) == counts


def test_story_off_benefit_ranking(story: Any) -> None:
    ranks = {p: pick(story, "OFF_BENEFIT_FAILURE_RATE", "2024-09", "cumulative",
                     {"provider": p})["rank"] for p in ("Provider A", "Provider B",
                                                         "Provider C", "Provider D")}
    assert ranks == {"Provider B": 1, "Provider A": 2, "Provider D": 3, "Provider C": 4}


def test_reference_engine_agrees_on_the_example(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    args = ["check", str(root / "contracts/work_programme.pmir"),
            str(root / "examples/work_programme"), "--format", "json"]
    import contextlib
    import io

    outs = []
    for engine in ("numpy", "reference"):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            main([*args, "--engine", engine])
        outs.append(json.loads(buf.getvalue()))
    for key in ("results", "reviews", "remedies", "escalations", "data_quality"):
        assert outs[0][key] == outs[1][key], key


def test_audit_lists_records_grouped_by_a_joined_column(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Exit reports are grouped by the provider of their participant (a ref column)."""
    root = Path(__file__).resolve().parent.parent
    status = main(["audit", str(root / "contracts/work_programme.pmir"),
                   str(root / "examples/work_programme"), "--measure", "EXIT_REPORTS_10WD",
                   "--status", "excluded", "--group", "provider=Provider C"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0] == ("measure,id,provider,cpa,period,verdict,deadline,reason,numerator,"
                        "denominator,dates")
    assert [line.split(",")[1] for line in lines[1:]] == ["row 42", "row 376"]


@pytest.mark.parametrize(("change", "code", "words"), [
    (("remedy period 6 months", "remedy period 4 months"), "bad-amount",
     "whole number of quarters"),
    (('  notice PIN "Performance Improvement Notice" when failed\n', ""), "missing-clause",
     "the review raises none"),
    (("failed on rolling_12", "failed on quarter"), "unknown-basis", "'quarter' figures"),
])
def test_review_and_regime_mistakes(tmp_path: Path, change: tuple[str, str], code: str,
                                    words: str) -> None:
    write(tmp_path, {})
    source = (CONTRACT + REGIME).replace(*change)
    with pytest.raises(CompileError) as e:
        run_source(source, tmp_path)
    assert any(d.code == code and words in d.message for d in e.value.diagnostics), \
        [d.message for d in e.value.diagnostics]


def test_rules_cannot_name_a_measure_without_target(tmp_path: Path) -> None:
    write(tmp_path, {})
    source = (CONTRACT + REGIME).replace(
        "target at least rate of mpl for payment_group in the month of attachment_date",
        "no target").replace("  measures JO_VS_MPL_PG1\n", "  measures JO_VS_MPL_PG1\n")
    with pytest.raises(CompileError) as e:
        run_source(source, tmp_path)
    assert any("has no target, so it is never met or failed" in d.message
               for d in e.value.diagnostics)


def test_lookup_rows_from_after_to_are_a_data_error(tmp_path: Path) -> None:
    write(tmp_path, {})
    write_csv(tmp_path, "mpl", ["payment_group", "from_month", "to_month", "rate"],
              [["PG1", "2024-03", "2023-04", "0.1"]])
    with pytest.raises(DataError, match="from_month after to_month"):
        run_source(CONTRACT, tmp_path, as_of="2023-12-31")


BUCKETS = """
contract "x" { service start 2024-04-01 }
table t { i: id  a: date  b: date? }
measure M "m" {
  population t
  month of a
  met when b within 10 working days of a
  lateness buckets up to BOUNDS
  no target
}
"""


@pytest.mark.parametrize(("bounds", "words"), [
    ("5 working days", "must rise above the window's 10 days"),
    ("20 calendar days", "lateness buckets count working days, as the window does"),
])
def test_lateness_bucket_mistakes(tmp_path: Path, bounds: str, words: str) -> None:
    with pytest.raises(CompileError) as e:
        run_source(BUCKETS.replace("BOUNDS", bounds), tmp_path)
    assert words in e.value.diagnostics[0].message


def test_a_notice_reviewed_after_the_as_of_date_is_not_yet_running(tmp_path: Path) -> None:
    """The 2023-12 review is made on 2024-01-31: at an as-of date of 2024-01-20 its PIN is
    provisional and the regime does not move to the PIN level."""
    write(tmp_path, {m: 1 for m in months("2023-01", 13)}, rate="0.5")
    ev = run_source(CONTRACT + REGIME, tmp_path, as_of="2024-01-20")
    (pin,) = pins(ev)
    assert pin["status"] == "provisional: the review is on 2024-01-31"
    assert {e["month"]: e["level"] for e in ev.escalations}["2024-01"] == 2


def test_story_regime_rows_name_the_running_pins(story: Any) -> None:
    rows = {(tuple(e["group"].values()), e["month"]): e for e in story.escalations}
    c = rows[(("Provider C", "West Yorkshire"), "2024-09")]
    assert c["level"] == 3 and c["notices"] == [
        {"notice": "PIN", "measure": "JO_VS_MPL_PG2", "raised_for": "2024-03",
         "remedy_period_end": "2024-09-30"}]
    d = rows[(("Provider D", "West Yorkshire"), "2024-06")]  # cancelled on 2024-06-18
    assert d["level"] == 2 and d["notices"] == []
