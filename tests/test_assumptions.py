"""Assumptions: numbers the guidance does not state, declared with ``assume "why"`` (semantics.md
7), listed by ``pmirc lint --assumptions`` and shown beside the figures they decide."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pmir_dsl.check import check_file, check_source
from pmir_dsl.diagnostics import CompileError
from pmir_dsl.evaluate import Axis
from pmir_dsl.pipeline import run_check
from pmir_dsl.regimes import escalations
from pmir_dsl.report.json import render

REPO = Path(__file__).resolve().parents[1]
JAN_2024 = int(np.datetime64("2024-01", "M").astype(np.int64))

SOURCE = """
contract "C" { service start 2024-01-01 }
table referrals { referral_id: id  provider: text  referral_date: date  decision_date: date? }
measure A "a" {
  population referrals
  month of referral_date
  met when decision_date within 2 working days of referral_date
  target at least 90%
  group by provider
  minimum denominator 2
  assume "minimum denominator 2: the guidance sets none"
}
regime R "r" {
  assume "the levels are the example's"
  group by provider
  level 1 "one"
  level 2 "two"
  escalate to level 2 when any of (A) failed in 2 of the last 3 months
  assume "2 of the last 3 months: not in the guidance"
  return to level 1 when all of (A) met
}
"""


def months(*met: bool | None) -> list[dict[str, Any]]:
    return [{"measure": "A", "group": {"provider": "P"}, "basis": "in_month",
             "period": str(np.datetime64(JAN_2024 + i, "M")), "met": m}
            for i, m in enumerate(met)]


def test_each_assumption_qualifies_the_clause_before_it() -> None:
    c = check_source(SOURCE, "c.pmir")
    found = [(a.line, a.owner, a.clause, a.rule) for a in c.assumptions]
    assert found == [
        (11, "measure A", "minimum denominator 2", None),
        (14, "regime R", "", None),  # first in its block: the whole regime
        (19, "regime R", "escalate to level 2 when any of (A) failed in 2 of the last 3 months",
         0),
    ]
    assert c.measures[0].assumptions == ("minimum denominator 2: the guidance sets none",)
    assert c.regimes[0].assumptions == ("the levels are the example's",)
    assert [r.assumptions for r in c.regimes[0].rules] == [
        ("2 of the last 3 months: not in the guidance",), ()]


def test_a_regime_row_carries_the_assumptions_of_the_rule_that_set_its_level() -> None:
    regime = check_source(SOURCE, "c.pmir").regimes[0]
    rows = escalations(regime, months(False, True, False, True), Axis(JAN_2024, JAN_2024 + 3))
    assert [r["level"] for r in rows] == [1, 1, 2, 1]
    whole = ["the levels are the example's"]
    assert [r["assumptions"] for r in rows] == [
        whole, whole, whole + ["2 of the last 3 months: not in the guidance"], whole]


def test_a_regime_without_assumptions_adds_no_key() -> None:
    plain = re.sub(r'\n\s*assume "[^"]*"', "", SOURCE)
    regime = check_source(plain, "c.pmir").regimes[0]
    rows = escalations(regime, months(False, False), Axis(JAN_2024, JAN_2024 + 1))
    assert all("assumptions" not in r for r in rows)


def test_an_assumption_must_say_what_it_assumes() -> None:
    with pytest.raises(CompileError) as e:
        check_source(SOURCE.replace('"minimum denominator 2: the guidance sets none"', '" "'),
                     "c.pmir")
    [d] = e.value.diagnostics
    assert (d.code, d.span.line) == ("missing-clause", 11)
    assert "which number" in d.message


def test_ipes_regime_numbers_are_assumptions_not_citations() -> None:
    """9.07-9.08, 9.14, 9.16 and 9.18 give no number of months: each rule's is assumed, and no
    comment or cite claims them for those paragraphs (the old contract did)."""
    c = check_file(REPO / "contracts" / "ipes.pmir")
    regime = c.regimes[0]
    assert all(rule.assumptions for rule in regime.rules)
    text = (REPO / "contracts" / "ipes.pmir").read_text()
    assert "six months running is taken straight" not in text
    assert "performance has not improved at Level 3" not in text  # not 9.18's words
    assert "9.07-9.08: an initial intervention" not in regime.cite
    tmpl = [m for m in c.measures if m.id.startswith("TMPL")]
    assert tmpl and all(m.assumptions for m in tmpl)


def test_lint_lists_every_assumption_with_file_and_line() -> None:
    run = subprocess.run([sys.executable, "-m", "pmir_dsl.cli", "lint", "--assumptions",
                          "contracts/ipes.pmir"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = [x for x in run.stdout.splitlines() if x.startswith("contracts/ipes.pmir:")
             and "assume" in x]
    source = (REPO / "contracts" / "ipes.pmir").read_text().splitlines()
    assert len(lines) == sum(x.strip().startswith("assume ") for x in source)
    for line in lines:
        number = int(line.split(":")[1])
        assert source[number - 1].strip().startswith("assume ")


def test_json_shows_assumptions_beside_what_they_decide() -> None:
    out = json.loads(render(run_check(REPO / "contracts" / "ipes.pmir", REPO / "examples" / "ipes")))
    top = out["assumptions"]
    assert {a["applies_to"] for a in top} >= {"regime PMIR", "remedy SERVICE_FEE",
                                              "measure TMPL_lower_threshold"}
    assert all(a["file"] == str(Path("contracts") / "ipes.pmir") or a["file"].endswith(
        "ipes.pmir") for a in top)
    tmpl = [r for r in out["results"] if r["measure"] == "TMPL_lower_threshold"]
    assert tmpl and all(r["assumptions"] for r in tmpl)
    assert all("assumptions" not in r for r in out["results"] if r["measure"] == "CSS1")
    changes = [e for e in out["escalations"] if e["changed"]]
    assert changes and all(e["assumptions"] for e in changes)
    assert all(r["assumptions"] for r in out["remedies"] if r.get("remedy") == "SERVICE_FEE")


def test_terminal_report_lists_assumptions_and_what_they_decided() -> None:
    run = subprocess.run([sys.executable, "-m", "pmir_dsl.cli", "check", "contracts/ipes.pmir",
                          "examples/ipes"], cwd=REPO, capture_output=True, text=True,
                         env={"COLUMNS": "250", "PATH": ""})
    assert "Assumptions: numbers the guidance does not state" in run.stdout
    assert "changes of level" in run.stdout


# ---- every bundled contract declares its assumptions (issue 9, decisions 200-) ----------------

#: Per bundled contract, the (block, clause) of every assumption it must declare: a number its
#: guidance does not state. A missing one fails; lint must list each on its own source line.
DECLARED = {
    "atw_ha": [("contract header", "service start 2024-04-01"),
               ("measure KPI6_RETURN", "target at least 100%"),
               ("measure CUSTOMER_INSIGHT_RETURN", "target at least 100%"),
               ("measure OUTSTANDING", "count in backlog until report_date"),
               ("regime PMIR", "escalate to level 4 from level 3 when any of (KPI1"),
               ("regime PMIR", "escalate to level 3 from level 2 when any of (KPI1"),
               ("regime PMIR", "escalate to level 2 when any of (KPI1"),
               ("regime PMIR", "return to level 1 when all of (KPI1")],
    "atw_ha_mmir": [("contract header", "service start 2024-04-01"),
                    ("measure CANCELLATIONS_REBOOKED", "average working days from cancelled_date")],
    "esf": [("contract header", "service start 2023-04-01"),
            ("measure START_RATE", "minimum denominator 5"),
            ("measure SHORT_JOB_OUTCOMES", "minimum denominator 1"),
            ("measure SUSTAINED_JOB_OUTCOMES", "minimum denominator 1"),
            *[("regime PMIR", f"escalate to level {n}{frm} when any of ({first}")
              for n, frm in ((4, " from level 3"), (3, " from level 2"), (2, ""))
              for first in ("START_RECORDED_20WD", "STARTS_VS_PROFILE")],
            ("regime PMIR", "return to level 1 when all of (START_RECORDED_20WD")],
    "ses": [("contract header", "service start 2023-04-01"),
            ("measure START_RECORDED_20WD", "target at least 100%"),
            ("measure STARTS_VS_PROFILE", "target at least 100% of expected"),
            ("measure JOB_OUTCOME_CONVERSION", "target at least 100% of expected"),
            ("measure JOB_OUTCOME_CONVERSION", "minimum denominator 1"),
            ("measure SUSTAINED_JOB_OUTCOME_CONVERSION", "target at least 100% of expected"),
            ("measure SUSTAINED_JOB_OUTCOME_CONVERSION", "minimum denominator 1"),
            ("measure REFERRAL_TO_ASSESSMENT", "average working days from referral_date"),
            ("measure ASSESSMENT_TO_START", "average working days from initial_assessment_date"),
            ("measure REFERRAL_TO_START", "average working days from referral_date")],
    "work_programme": [("contract header", "service start 2022-04-01"),
                       ("review FORMAL_QUARTERLY_REVIEW", "remedy period 6 months"),
                       ("regime WP_PMR", "allocate every 6 months from 2023-03"),
                       ("regime WP_PMR", "escalate to level 2 at allocation when any of")],
    "ipes": [("contract header", "service start 2024-04-01"),
             ("measure TMPL_lower_threshold", "minimum denominator 1"),
             ("remedy SERVICE_FEE", "forfeit all at 2026-03-31")],
}


def _lint_assumptions(name: str) -> list[str]:
    run = subprocess.run([sys.executable, "-m", "pmir_dsl.cli", "lint", "--assumptions",
                          f"contracts/{name}.pmir"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return [x for x in run.stdout.splitlines() if x.startswith(f"contracts/{name}.pmir:")
            and ": assume " in x]


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_lint_lists_each_assumption_of_each_bundled_contract(name: str) -> None:
    lines = _lint_assumptions(name)
    source = (REPO / "contracts" / f"{name}.pmir").read_text().splitlines()
    assert len(lines) == sum(x.strip().startswith("assume ") for x in source)
    for owner, clause in DECLARED[name]:
        assert any(f": {owner}, {clause}" in x for x in lines), (owner, clause)
    for line in lines:
        assert source[int(line.split(":")[1]) - 1].strip().startswith("assume ")


def test_no_assumption_is_left_in_a_comment() -> None:
    """The old contracts marked assumptions with '# ASSUMPTION:' comments, which no report
    showed; every one is an ``assume`` clause now."""
    for path in sorted((REPO / "contracts").glob("*.pmir*")):
        assert "ASSUMPTION" not in path.read_text(), path


#: SOURCE with an assumption on its header's service start (line 4).
HEADER_SOURCE = SOURCE.replace('contract "C" { service start 2024-01-01 }', """contract "C" {
  service start 2024-01-01
  assume "2024-01-01: the guidance gives no Service Start Date"
}""")


def test_a_header_assumption_qualifies_the_service_start(tmp_path: Path) -> None:
    c = check_source(HEADER_SOURCE, "c.pmir")
    assert [(a.line, a.owner, a.clause) for a in c.assumptions][0] == (
        4, "contract header", "service start 2024-01-01")
    # a header assumption is not a measure's or the regime's own
    assert c.measures[0].assumptions == ("minimum denominator 2: the guidance sets none",)
    assert c.regimes[0].assumptions == ("the levels are the example's",)
    (tmp_path / "c.pmir").write_text(HEADER_SOURCE)
    (tmp_path / "referrals.csv").write_text("referral_id,provider,referral_date,decision_date\n"
                                            "R1,P,2024-01-02,2024-01-03\n")
    out = json.loads(render(run_check(tmp_path / "c.pmir", tmp_path)))
    assert out["contract"]["assumptions"] == ["2024-01-01: the guidance gives no Service Start Date"]
    assert out["assumptions"][0]["applies_to"] == "contract header"
    assert all(r["assumptions"] == ["minimum denominator 2: the guidance sets none"]
               for r in out["results"])


def test_a_header_without_assumptions_adds_no_key(tmp_path: Path) -> None:
    (tmp_path / "c.pmir").write_text(SOURCE)
    (tmp_path / "referrals.csv").write_text("referral_id,provider,referral_date,decision_date\n"
                                            "R1,P,2024-01-02,2024-01-03\n")
    out = json.loads(render(run_check(tmp_path / "c.pmir", tmp_path)))
    assert "assumptions" not in out["contract"]
    assert out["assumptions"][0]["applies_to"] != "contract header"


def test_terminal_header_shows_the_service_start_assumption() -> None:
    run = subprocess.run([sys.executable, "-m", "pmir_dsl.cli", "check", "contracts/esf.pmir",
                          "examples/esf"], cwd=REPO, capture_output=True, text=True,
                         env={"COLUMNS": "250", "PATH": ""})
    head = run.stdout.split("As of", 1)[0]
    assert "Service start 2023-04-01" in head
    assert "assumed: 2023-04-01: 7.3 counts job outcomes" in head
    assert "reporting starts 2023-04" in run.stdout  # what it decided, in the assumptions table


def test_html_pack_shows_the_service_start_assumption(tmp_path: Path) -> None:
    from pmir_dsl.report import html

    page = html.render(run_check(REPO / "contracts" / "ses.pmir", REPO / "examples" / "ses"))
    assert ("service start 2023-04-01 (assumed: 2023-04-01: the guidance gives no contract "
            "start date; the example data starts then)") in page
