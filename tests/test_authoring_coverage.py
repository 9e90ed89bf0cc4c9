"""``pmirc test --coverage``: what no rule test exercised."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmir_dsl.cli import main

REPO = Path(__file__).resolve().parents[1]
HEAD = f'contract "{REPO / "contracts" / "atw_ha.pmir"}"\n'
KPI3 = """test "t" {{
  as of 2024-09-30
  table referrals {{
    | referral_id | provider | referral_date | assessment_type | report_date |
    | V1          | West     | 2024-08-19    | virtual         | 2024-08-30  |
    | V2          | West     | 2024-08-19    | virtual         | 2024-09-02  |
    | X1          | West     | 2024-08-19    | enhanced        | 2024-09-05  |
  }}
  {expect}
}}
"""


def missing(tmp_path: Path, expect: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    path = tmp_path / "t.pmirtest"
    path.write_text(HEAD + KPI3.format(expect=expect))
    assert main(["test", "--coverage", str(path)]) == 0
    out = capsys.readouterr().out
    assert "coverage of " in out
    return {line.split("not exercised: ", 1)[1] for line in out.splitlines()
            if "not exercised: " in line}


def test_what_a_test_exercises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gaps = missing(tmp_path, "expect record V1 in KPI3: met", capsys)
    assert "measure KPI3" not in gaps
    assert "measure KPI1" in gaps
    # met and failed records of the virtual and enhanced categories; none face to face
    assert "window of KPI3: assessment_type virtual" not in gaps
    assert "window of KPI3: assessment_type enhanced" not in gaps
    assert "window of KPI3: assessment_type face_to_face" in gaps
    assert {"target of KPI3 (at least 96%): met", "target of KPI3 (at least 96%): failed",
            "band of KPI3: Inadequate"} <= gaps


def test_a_checked_figure_covers_its_target_side_and_band(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gaps = missing(tmp_path, "expect KPI3 2024-08 in_month: 2 of 3, failed", capsys)
    assert "target of KPI3 (at least 96%): failed" not in gaps
    assert "band of KPI3: Inadequate" not in gaps
    assert "target of KPI3 (at least 96%): met" in gaps
    assert "band of KPI3: Good" in gaps


def test_regime_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", "--coverage", str(REPO / "contracts" / "ipes.pmirtest")]) == 0
    out = capsys.readouterr().out
    assert "not exercised: regime PMIR: escalate to level 2" not in out  # the suite moves to 2
    assert "not exercised: regime PMIR: escalate to level 4" in out
