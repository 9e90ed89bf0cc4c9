"""IPES Provider Assurance Team reviews (seed 002, 9.93-9.95) with the ``assurance`` construct,
each reading on a hand-made record set that a wrong reading gets wrong (docs/language.md 9.5,
decisions 220-229). Both engines are run and must print the same JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import write_csv
from pmir_dsl.check import check_source
from pmir_dsl.diagnostics import CompileError
from test_fidelity_ipes import both

PAT = """
contract "IPES" { service start 2024-01-01 }
table pat_reviews {
  provider: text
  review_id: id
  completed_date: date?
  rating: category(weak, limited, reasonable, strong)?
  reasons: text?
  action_plan_due_date: date?
  action_plan_submitted_date: date?
}
assurance PAT "Provider Assurance Team reviews" {
  cite "9.93-9.95"
  group by provider
  reviews pat_reviews completed on completed_date
  ratings from rating, worst first: weak, limited, reasonable, strong
  reasons from reasons separated by ";"
  action when weak or limited is followed by the same or worse for the same reasons (READING)
  action when 3 consecutive ratings are weak or limited
  action when action_plan_submitted_date is not on or before action_plan_due_date
}
"""
COLUMNS = ["provider", "review_id", "completed_date", "rating", "reasons",
           "action_plan_due_date", "action_plan_submitted_date"]


def run(tmp_path: Path, rows: list[list[Any]], as_of: str, reading: str = "any in common"
        ) -> dict[str, Any]:
    write_csv(tmp_path, "pat_reviews", COLUMNS, rows)
    return both(PAT.replace("READING", reading), tmp_path, as_of)[0]


def actions(out: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    """(provider, month, action, review ids) of each trigger, in report order."""
    return [(r["group"]["provider"], r["month"], r["action"],
             [v["review_id"] for v in r["reviews"]]) for r in out["assurance"]]


def test_a_reason_in_common_is_the_same_reasons(tmp_path: Path) -> None:
    """9.95 "the same or worse for the same reasons", read as a reason in common (decision
    220): A's second review shares 'claims' with its first and triggers; read as every reason
    again it would not (governance is not repeated). B shares none."""
    rows = [["A", "A1", "2024-02-05", "limited", "governance;claims", None, None],
            ["A", "A2", "2024-08-05", "weak", " claims ;supply", None, None],
            ["B", "B1", "2024-02-05", "limited", "governance", None, None],
            ["B", "B2", "2024-08-05", "limited", "supply", None, None]]
    out = run(tmp_path / "any", rows, "2024-12-31")
    assert actions(out) == [("A", "2024-08", "same_or_worse", ["A1", "A2"])]
    assert out["assurance"][0]["reasons"] == ["claims"]  # codes trimmed (decision 221)
    assert run(tmp_path / "all", rows, "2024-12-31", "all of them")["assurance"] == []


def test_every_reason_again_when_the_contract_says_so(tmp_path: Path) -> None:
    """``(all of them)``: every reason of the earlier review again, others may be added."""
    rows = [["A", "A1", "2024-02-05", "weak", "claims", None, None],
            ["A", "A2", "2024-08-05", "weak", "claims;governance", None, None]]
    out = run(tmp_path, rows, "2024-12-31", "all of them")
    assert actions(out) == [("A", "2024-08", "same_or_worse", ["A1", "A2"])]


def test_same_or_worse_compares_with_the_previous_review_only(tmp_path: Path) -> None:
    """The next review, not any later one: A's weak (A1) is followed by a reasonable (A2), so
    A3's limited for the same reason does not follow A1. A better rating never triggers
    (weak, then limited); a strong earlier rating starts nothing."""
    rows = [["A", "A1", "2024-01-10", "weak", "claims", None, None],
            ["A", "A2", "2024-04-10", "reasonable", "claims", None, None],
            ["A", "A3", "2024-07-10", "limited", "claims", None, None],
            ["B", "B1", "2024-01-10", "weak", "claims", None, None],
            ["B", "B2", "2024-04-10", "limited", "claims", None, None],
            ["C", "C1", "2024-01-10", "strong", "claims", None, None],
            ["C", "C2", "2024-04-10", "weak", "claims", None, None]]
    assert actions(run(tmp_path, rows, "2024-12-31")) == []


def test_a_third_consecutive_weak_or_limited_whatever_the_reasons(tmp_path: Path) -> None:
    """Decision 222: each review that ends a run of 3 weak or limited ratings triggers, so a
    fourth in a row triggers again; reviews are ordered by completed date, not by row."""
    rows = [["A", "A4", "2025-01-10", "weak", "d", None, None],
            ["A", "A1", "2024-01-10", "weak", "a", None, None],
            ["A", "A3", "2024-09-10", "limited", "c", None, None],
            ["A", "A2", "2024-05-10", "limited", "b", None, None]]
    out = run(tmp_path, rows, "2025-03-31")
    assert actions(out) == [("A", "2024-09", "consecutive", ["A1", "A2", "A3"]),
                            ("A", "2025-01", "consecutive", ["A2", "A3", "A4"])]


def test_an_action_plan_late_or_missing(tmp_path: Path) -> None:
    """Decision 223: late when submitted after the agreed date, or not submitted with the date
    on or before the as-of date (decision 11); the month is the agreed date's. Submitted on the
    date is on time; a date after the as-of date is not yet due; a submission dated after the
    as-of date still decides (decision 10)."""
    rows = [["A", "A1", "2024-01-10", "limited", "x", "2024-03-15", "2024-03-18"],
            ["B", "B1", "2024-01-10", "limited", "x", "2024-03-15", "2024-03-15"],
            ["C", "C1", "2024-01-10", "limited", "x", "2024-06-30", None],
            ["D", "D1", "2024-01-10", "limited", "x", "2024-07-01", None],
            ["E", "E1", "2024-01-10", "limited", "x", "2024-06-28", "2024-07-05"],
            ["F", "F1", "2024-01-10", "reasonable", None, None, None]]
    out = run(tmp_path, rows, "2024-06-30")
    assert actions(out) == [("A", "2024-03", "action_plan_late", ["A1"]),
                            ("C", "2024-06", "action_plan_late", ["C1"]),
                            ("E", "2024-06", "action_plan_late", ["E1"])]
    assert "not submitted by 2024-06-30" in out["assurance"][1]["reason"]


def test_reviews_left_out_are_counted_in_data_quality(tmp_path: Path) -> None:
    """A review completed after the as-of date has not happened (decision 9): it is left out of
    every action and counted; an agreed date before the review is a data error (semantics.md
    1), left out of the action-plan rule only."""
    rows = [["A", "A1", "2024-01-10", "weak", "x", "2024-01-05", None],
            ["A", "A2", "2024-03-10", "weak", "x", None, None],
            ["A", "A3", "2024-12-10", "weak", "x", None, None],
            ["A", "A4", None, "weak", "x", None, None],
            ["A", "A5", "2024-04-10", None, "x", None, None]]
    out = run(tmp_path, rows, "2024-06-30")
    assert actions(out) == [("A", "2024-03", "same_or_worse", ["A1", "A2"])]
    quality = {q["check"]: (q["count"], q["examples"]) for q in out["data_quality"]}
    assert quality == {"completed_date after the as-of date 2024-06-30": (1, ["A3"]),
                       "completed_date missing": (1, ["A4"]),
                       "rating missing": (1, ["A5"]),
                       "action_plan_due_date before completed_date": (1, ["A1"])}


def test_the_example_story(tmp_path: Path) -> None:
    """examples/ipes: one provider per action of 9.95 (README)."""
    import json

    from pmir_dsl.pipeline import run_check
    from pmir_dsl.report.json import render

    root = Path(__file__).resolve().parent.parent
    ev = run_check(root / "contracts" / "ipes.pmir", root / "examples" / "ipes")
    out = json.loads(render(ev))
    assert actions(out) == [
        ("Provider A", "2025-01", "same_or_worse", ["PAT-A-1", "PAT-A-2"]),
        ("Provider B", "2025-06", "consecutive", ["PAT-B-1", "PAT-B-2", "PAT-B-3"]),
        ("Provider C", "2025-04", "action_plan_late", ["PAT-C-2"]),
        ("Provider C", "2025-09", "action_plan_late", ["PAT-C-3"]),
        ("Provider D", "2025-07", "action_plan_late", ["PAT-D-2"])]




@pytest.mark.parametrize("old, new, code", [
    ("pat_reviews completed", "pat_review completed", "unknown-table"),
    ("completed on completed_date", "completed on reasons", "type-mismatch"),
    ("first: weak, limited, reasonable, strong", "first: weak, limited, reasonable",
     "incomplete-cases"),
    ("first: weak, limited", "first: weak, limted", "unknown-category"),
    ("3 consecutive ratings are weak", "3 consecutive ratings are weakk", "unknown-category"),
    ("3 consecutive", "1 consecutive", "bad-amount"),
    ("group by provider", "group by provder", "unknown-column"),
    ("not on or before action_plan_due_date", "not on or before reasons", "type-mismatch"),
    ('  reasons from reasons separated by ";"\n', "", "missing-clause"),
    ("  group by provider\n", "  group by provider\n  ratings from rating, worst first: weak, "
     "limited, reasonable, strong\n", "duplicate-clause"),
])
def test_mistakes_are_located_diagnostics(old: str, new: str, code: str) -> None:
    source = PAT.replace("READING", "any in common").replace(old, new, 1)
    with pytest.raises(CompileError) as e:
        check_source(source, "c.pmir")
    diags = e.value.diagnostics
    assert [d.code for d in diags] == [code]
    assert diags[0].span is not None and diags[0].span.line > 1


def test_the_reports_show_the_actions(tmp_path: Path) -> None:
    """The terminal report's section (whole contract, and per provider) and the HTML pack's
    page and group pages name each action with its reviews and why."""
    import io

    from rich.console import Console

    from pmir_dsl.pipeline import run_check
    from pmir_dsl.report import html, terminal

    root = Path(__file__).resolve().parent.parent
    ev = run_check(root / "contracts" / "ipes.pmir", root / "examples" / "ipes")
    out = io.StringIO()
    terminal.render(ev, Console(file=out, width=160, color_system=None))
    text = out.getvalue()
    assert "Provider Assurance Team reviews: when DWP may take action (9.93-9.95): 5 actions" \
        in text and "PAT-C-2" in text and text.count("action plan late") == 3
    out = io.StringIO()
    terminal.render(ev, Console(file=out, width=160, color_system=None),
                    groups={"provider": "Provider B"})
    text = out.getvalue()
    assert "1 action triggered" in text and "PAT-B-3" in text and "PAT-C-2" not in text
    page = html.render(ev)
    assert 'id="assurance"' in page and page.count("PAT-D-2 limited (2025-05-19)") == 2


def test_the_python_api_lists_the_actions() -> None:
    """pmir_dsl.run_check(...).assurance, and the 'assurance' table of records / to_pandas."""
    from pmir_dsl.api import run_check

    root = Path(__file__).resolve().parent.parent
    checked = run_check(root / "contracts" / "ipes.pmir", root / "examples" / "ipes")
    assert [(a.group["provider"], a.action, a.review_ids) for a in checked.assurance][:2] == [
        ("Provider A", "same_or_worse", ("PAT-A-1", "PAT-A-2")),
        ("Provider B", "consecutive", ("PAT-B-1", "PAT-B-2", "PAT-B-3"))]
    rows = checked.records("assurance")
    assert len(rows) == 5 and rows[0]["provider"] == "Provider A" and rows[0]["month"] == "2025-01"
