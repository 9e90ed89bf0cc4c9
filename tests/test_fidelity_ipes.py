"""IPES readings of issue 9, each on a hand-made record set that the old reading got wrong.

Every test cites the paragraph (seed 002, chapter 9) and semantics.md; both engines are run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import write_csv
from pmir_dsl.check import check_source
from pmir_dsl.compile import compile_contract
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import evaluate
from pmir_dsl.reference import evaluate_reference
from pmir_dsl.report.json import render


def both(source: str, data: Path, as_of: str) -> list[dict[str, Any]]:
    """The JSON objects of the numpy engine and of the reference, which must be equal."""
    plan = compile_contract(check_source(source, "c.pmir"))
    tables = load_tables(data, plan.contract.used_tables())
    out = [json.loads(render(ev)) for ev in (evaluate(plan, tables, as_of),
                                             evaluate_reference(plan, tables, as_of))]
    for o in out:
        o["tables"] = {}
    assert out[0] == out[1]
    return out


def row(out: dict[str, Any], measure: str, period: str, basis: str = "in_month",
        group: dict[str, str] | None = None) -> dict[str, Any]:
    return next(r for r in out["results"] if r["measure"] == measure and r["period"] == period
                and r["basis"] == basis and r["group"] == (group or {}))


# ---- Table 4 CSS 7: "at least once every 4 (four) weeks" ---------------------------------------

CSS7 = """
contract "IPES" { service start 2024-01-01 }
table referrals { referral_id: id  start_date: date?  end_date: date? }
table meetings { referral_id: ref(referrals)  meeting_date: date }
measure CSS7 "Met every 4 weeks" {
  population referrals where start_date is present
  each month from start_date until end_date
  met when meetings at most 28 calendar days apart from start_date until end_date
  target at least 100%
}
"""


def test_css7_an_ongoing_gap_fails_every_month_it_continues(tmp_path: Path) -> None:
    """semantics.md 7: R1 last met on 10 January; 28 days run out on 8 February and no meeting
    follows until 15 April. It fails February, March and April (the old reading failed
    February only); R2, met every 3 weeks, meets every month."""
    write_csv(tmp_path, "referrals", ["referral_id", "start_date", "end_date"], [
        ["R1", "2024-01-02", None], ["R2", "2024-01-02", None]])
    write_csv(tmp_path, "meetings", ["referral_id", "meeting_date"], [
        ["R1", "2024-01-10"], ["R1", "2024-04-15"], ["R1", "2024-05-01"],
        *[["R2", f"2024-{m:02d}-{d:02d}"] for m, d in ((1, 20), (2, 8), (2, 28), (3, 18),
                                                        (4, 5), (4, 25), (5, 15))]])
    for out in both(CSS7, tmp_path, "2024-05-25"):
        got = [(row(out, "CSS7", f"2024-0{m}")["numerator"],
                row(out, "CSS7", f"2024-0{m}")["denominator"]) for m in range(1, 6)]
        assert got == [(2, 2), (1, 2), (1, 2), (1, 2), (2, 2)]


def test_css7_a_gap_open_at_the_as_of_date_fails_each_month_to_it(tmp_path: Path) -> None:
    """No meeting since the start on 5 January, as of 20 March: overdue from 3 February, so
    February and March fail; January (within 4 weeks) is met."""
    write_csv(tmp_path, "referrals", ["referral_id", "start_date", "end_date"],
              [["R1", "2024-01-05", None]])
    write_csv(tmp_path, "meetings", ["referral_id", "meeting_date"], [])
    for out in both(CSS7, tmp_path, "2024-03-20"):
        assert [row(out, "CSS7", p)["met"] for p in ("2024-01", "2024-02", "2024-03")] == [
            True, False, False]


# ---- 9.60-9.62: deferral, forfeitable and forfeit -----------------------------------------------

FEE_CONTRACT = """
contract "IPES" { service start 2024-01-01 }
table referrals { referral_id: id  provider: text  referral_date: date  decision_date: date? }
table fees { provider: text  month: month  service_fee_pence: integer }
measure CSS1 "Referrals decided within 2 working days" {
  population referrals
  month of referral_date
  met when decision_date within 2 working days of referral_date
  target at least 100%
  group by provider
}
remedy SERVICE_FEE "Service Fee" {
  group by provider
  fee service_fee_pence of fees
  defer 50% while any of (CSS1) failed in 2 of the last 3 months
  release when all of (CSS1) met
  may forfeit deferrals after 6 months
  forfeit all at END
}
"""


def fee_data(folder: Path, failed: list[bool]) -> None:
    """One referral a month for provider P (decided late when ``failed``), a fee of £1,000.01."""
    refs = [[f"R{i}", "P", f"2024-{i + 1:02d}-10", f"2024-{i + 1:02d}-{20 if bad else 11}"]
            for i, bad in enumerate(failed)]
    write_csv(folder, "referrals", ["referral_id", "provider", "referral_date", "decision_date"],
              refs)
    write_csv(folder, "fees", ["provider", "month", "service_fee_pence"],
              [["P", f"2024-{i + 1:02d}", 100001] for i in range(len(failed))])


def test_deferral_of_six_months_makes_every_amount_of_the_run_forfeitable(tmp_path: Path
                                                                           ) -> None:
    """9.60 "DWP may forfeit any payments which had been deferred during that period": a run
    deferred from February is forfeitable from July (its sixth month), all of it; nothing is
    forfeit, it stays deferred, and when the CSSs are met in October it is all payable. The
    old reading forfeit each amount 6 months after it was deferred."""
    fee_data(tmp_path, [True] * 9 + [False])
    source = FEE_CONTRACT.replace("END", "2026-03-31")
    for out in both(source, tmp_path, "2024-10-31"):
        rows = out["remedies"]
        half = 50000  # half of 100001 pence, rounded down
        assert [r["deferred_pence"] for r in rows] == [0] + [half] * 8 + [0]
        assert [r["forfeitable_pence"] for r in rows] == [0] * 6 + [h * half for h in
                                                                    (6, 7, 8)] + [0]
        assert sum(r["forfeited_pence"] for r in rows) == 0
        assert rows[-1]["released_pence"] == 8 * half


def test_at_the_end_of_the_referral_period_every_deferred_amount_is_forfeit(tmp_path: Path
                                                                             ) -> None:
    """9.60 "automatically forfeit": the end of the referral period (April) forfeits the three
    months deferred so far, forfeitable or not."""
    fee_data(tmp_path, [True] * 5)
    for out in both(FEE_CONTRACT.replace("END", "2024-04-30"), tmp_path, "2024-05-31"):
        rows = out["remedies"]
        assert [r["forfeited_pence"] for r in rows] == [0, 0, 0, 150000, 50000]
        assert [r["forfeitable_pence"] for r in rows] == [0] * 5


# ---- 9.23 Earnings PI; 9.03, 9.05, 9.27, 9.36 bases, levels and tMPLs -----------------------------

REPO = Path(__file__).resolve().parents[1]


def ipes_measure(name: str) -> str:
    """The header and tables of contracts/ipes.pmir with one of its measures."""
    text = (REPO / "contracts" / "ipes.pmir").read_text()
    header = text[:text.index("# ---- 9.58 Table 4")]
    start = text.index(f"measure {name} ")
    return header + text[start:text.index("\n}\n", start) + 3]


def test_earnings_pi_counts_participants_whose_earnings_were_first_declared(tmp_path: Path
                                                                           ) -> None:
    """9.23 and data.md: R1 declared earnings in May and reached the Lower Threshold in July
    (then Higher in August), R2 declared in May and reached nothing: May has 2 against a
    prediction of 2 (met), July and August none against 1 (failed). The old reading counted
    outcome rows: 0 in May, 1 in July, 1 in August."""
    write_csv(tmp_path, "referrals", ["referral_id", "provider", "cpa", "referral_date",
                                      "exit_report_required", "handback_required"],
              [["R1", "P", "North", "2024-04-02", "false", "false"],
               ["R2", "P", "North", "2024-04-03", "false", "false"]])
    write_csv(tmp_path, "earnings", ["referral_id", "first_declared_date", "lower_reached_date",
                                     "higher_reached_date"],
              [["R1", "2024-05-06", "2024-07-01", "2024-08-01"], ["R2", "2024-05-20", None, None]])
    write_csv(tmp_path, "earnings_pi", ["provider", "month", "predicted"],
              [["P", f"2024-{m:02d}", 2 if m == 5 else 1] for m in range(4, 9)])
    for out in both(ipes_measure("EARNINGS_PI"), tmp_path, "2024-08-31"):
        p = {"provider": "P"}
        got = [(row(out, "EARNINGS_PI", m, group=p)["numerator"],
                row(out, "EARNINGS_PI", m, group=p)["met"]) for m in ("2024-05", "2024-07",
                                                                        "2024-08")]
        assert got == [(2, True), (0, False), (0, False)]
        r3 = row(out, "EARNINGS_PI", "2024-06", "rolling_3", p)  # April-June: 2 of 2 + 1 + 1
        assert (r3["numerator"], r3["expected"]) == (2, 4)


def test_ipes_measures_have_the_cpa_level_and_all_four_bases() -> None:
    """9.05: performance at the headline CPA level (a contract is a provider in a CPA); 9.03
    and 9.36: in-month, rolling 3, rolling 12 and cumulative for RNOs, tMPLs and the PI; 9.27:
    a tMPL for every outcome, the self-employed ones included."""
    c = check_source((REPO / "contracts" / "ipes.pmir").read_text(), "contracts/ipes.pmir",
                     REPO / "contracts")
    by_id = {m.id: m for m in c.measures}
    assert [[col.name for col in level] for level in by_id["CSS1"].groups] == [
        [], ["provider"], ["provider", "cpa"]]
    four = ("in_month", "rolling_3", "rolling_12", "cumulative")
    for mid in ("RNO_lower_threshold", "RNO_se_higher", "EARNINGS_PI", "TMPL_lower_threshold",
                "TMPL_higher_threshold", "TMPL_se_lower", "TMPL_se_higher"):
        assert by_id[mid].bases == four, mid
    assert by_id["EARNINGS_PI"].table == "earnings"


def test_the_example_story_of_the_readme() -> None:
    """examples/ipes/README.md: the figures the new readings change."""
    from pmir_dsl.pipeline import run_check

    ev = run_check(REPO / "contracts" / "ipes.pmir", REPO / "examples" / "ipes")
    d = {"provider": "Provider D"}
    css7 = {r["period"]: (r["numerator"], r["denominator"]) for r in ev.results
            if r["measure"] == "CSS7" and r["group"] == d and r["basis"] == "in_month"}
    assert css7["2025-07"] == (397, 454) and css7["2025-08"] == (436, 450)  # the gap goes on
    c = [r for r in ev.remedies if r["group"] == {"provider": "Provider C"}]
    months = {r["month"]: r for r in c}
    assert months["2025-03"]["forfeitable_pence"] == 0  # five months of deferral
    assert months["2025-04"]["forfeitable_pence"] == months["2025-04"]["outstanding_pence"] > 0
    assert months["2025-09"]["forfeitable_pence"] == 35_110_072
    assert sum(r["forfeited_pence"] for r in ev.remedies) == 0
    pi = {r["group"].get("provider"): (r["numerator"], r["expected"], r["met"])
          for r in ev.results if r["measure"] == "EARNINGS_PI" and r["basis"] == "cumulative"
          and r["period"] == "2025-09" and len(r["group"]) == 1}
    assert pi["Provider B"] == (130, 138, False)
    assert all(met for p, (_, _, met) in pi.items() if p != "Provider B")


def test_complaints_received_resolved_and_outstanding(tmp_path: Path) -> None:
    """9.47: "the number of complaints received (in-month); number of complaints resolved; and
    the number of complaints still outstanding": counted, with no target. The old contract
    had none of them."""
    write_csv(tmp_path, "complaints", ["complaint_id", "provider", "received_date",
                                       "resolved_date", "referred_to_dwp"],
              [["C1", "P", "2024-05-03", "2024-05-20", "false"],
               ["C2", "P", "2024-05-10", None, "true"],
               ["C3", "P", "2024-06-01", "2024-07-02", "false"]])
    for name, expected in (("COMPLAINTS_RECEIVED", [2, 1, 0]), ("COMPLAINTS_RESOLVED", [1, 0, 1]),
                           ("COMPLAINTS_OUTSTANDING", [1, 2, 1])):
        for out in both(ipes_measure(name), tmp_path, "2024-07-31"):
            basis = "cumulative" if name.endswith("OUTSTANDING") else "in_month"
            got = [row(out, name, m, basis, {"provider": "P"}) for m in ("2024-05", "2024-06",
                                                                        "2024-07")]
            assert [r["numerator"] for r in got] == expected, name
            assert all(r["met"] is None for r in got)
