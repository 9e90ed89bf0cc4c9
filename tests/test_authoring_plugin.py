"""The pytest plugin: *.pmirtest files collected under pytest (opt-in) and the figures fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
CONTRACT = REPO / "contracts" / "atw_ha.pmir"

TEST_FILE = f'''contract "{CONTRACT}"
test "good" {{
  as of 2024-05-31
  table referrals {{
    | referral_id | provider | referral_date | acknowledged_date | assessment_type |
    | R1          | North    | 2024-05-03    | 2024-05-07        | virtual         |
  }}
  expect record R1 in KPI1: met
}}
test "bad" {{
  as of 2024-05-31
  table referrals {{
    | referral_id | provider | referral_date | acknowledged_date | assessment_type |
    | R1          | North    | 2024-05-03    | 2024-05-08        | virtual         |
  }}
  expect record R1 in KPI1: met
}}
'''


def test_collection_is_opt_in(pytester: pytest.Pytester) -> None:
    pytester.makefile(".pmirtest", rules=TEST_FILE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes()  # nothing collected without --pmir-tests


def test_items_pass_and_fail_with_locations(pytester: pytest.Pytester) -> None:
    pytester.makefile(".pmirtest", rules=TEST_FILE)
    result = pytester.runpytest("--pmir-tests", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*rules.pmirtest:16:*FAILED test \"bad\": record R1 in KPI1: "
                                 "verdict: expected met, got failed*"])
    assert "Traceback" not in result.stdout.str()


def test_ini_option_enables_collection(pytester: pytest.Pytester) -> None:
    pytester.makefile(".pmirtest", rules=TEST_FILE)
    pytester.makeini("[pytest]\npmir_tests = true\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)


def test_malformed_file_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".pmirtest", rules='test "x" {\n  expect KPI1 2024-05 in_month met\n}\n')
    result = pytester.runpytest("--pmir-tests", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*error[[]test-syntax[]]: unexpected 'met'*"])


def test_figures_fixture_with_syrupy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_snap=f'''
def test_kpi1(pmir_figures, snapshot):
    figures = pmir_figures(r"{CONTRACT}", r"{REPO / "examples" / "atw_ha"}")
    assert figures["KPI1"] == snapshot
''')
    first = pytester.runpytest("--snapshot-update", "-p", "no:cacheprovider")
    first.assert_outcomes(passed=1)
    again = pytester.runpytest("-p", "no:cacheprovider")
    again.assert_outcomes(passed=1)
    amber = next(pytester.path.glob("__snapshots__/*.ambr")).read_text()
    assert "(contract) 2024-04 in_month: " in amber
