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
