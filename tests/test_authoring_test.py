"""``pmirc test``: rule tests in *.pmirtest files beside the contracts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pmir_dsl.cli import main
from pmir_dsl.testfile import Literal, parse_test_file, split_row
from pmir_dsl.testing import _same

ATW_HEADER = 'contract "{contract}"\n'
REFERRALS = """
  table referrals {
    | referral_id | provider | referral_date | acknowledged_date | assessment_type |
    | R1          | North    | 2024-05-03    | 2024-05-07        | virtual         |
    | R2          | North    | 2024-05-03    | 2024-05-08        | virtual         |
  }
"""


@pytest.fixture(autouse=True)
def _in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def write_test(tmp_path: Path, body: str, tables: str = REFERRALS) -> Path:
    """A test file of the AtW HA contract with one test holding ``tables`` and ``body``."""
    contract = Path("contracts/atw_ha.pmir").resolve()
    path = tmp_path / "t.pmirtest"
    path.write_text(ATW_HEADER.format(contract=contract) +
                    f'test "t" {{\n  as of 2024-05-31\n{tables}{body}\n}}\n')
    return path


def test_bundled_suites_pass(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["test", "contracts"], capsys)
    assert status == 0, out + err
    for name in ("atw_ha", "esf", "ipes", "ses", "work_programme"):
        assert f"contracts/{name}.pmirtest: " in out
        assert f"contracts/{name}.pmirtest" in out and "all passed" in out
    assert "failed" not in out


def test_every_bundled_contract_has_a_suite() -> None:
    for contract in Path("contracts").glob("*.pmir"):
        assert contract.with_suffix(".pmirtest").is_file(), contract


def test_default_path_is_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["test"], capsys)
    assert status == 0
    assert out.count("pmirtest: ") == len(list(Path("contracts").glob("*.pmirtest")))


def test_passing_expectations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_test(tmp_path, "  expect record R1 in KPI1: met, deadline 2024-05-07\n"
                      "  expect record R2 in KPI1: failed\n"
                      "  expect KPI1 2024-05 in_month: 1 of 2, value 50%, failed\n")
    status, out, _ = run(["test", str(path)], capsys)
    assert status == 0, out
    assert "1 test, 6 checks, all passed" in out


def test_failure_names_place_expected_and_got(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write_test(tmp_path, "  expect KPI1 2024-05 in_month: 2 of 2, value 100%, met")
    status, out, _ = run(["test", str(path)], capsys)
    assert status == 1
    lines = [line for line in out.splitlines() if "FAILED" in line]
    assert len(lines) == 3
    line = f"{tmp_path}/t.pmirtest:10:"  # the expectation's line
    assert all(text.startswith(line) for text in lines)
    assert "numerator of denominator: expected 2 of 2, got 1 of 2" in lines[0]
    assert "value: expected 100%, got 50.00% (1 of 2)" in lines[1]
    assert "met: expected met, got failed" in lines[2]
    assert "1 test, 3 checks, 3 failed" in out


def test_record_verdict_and_deadline_failures(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write_test(tmp_path, "  expect record R1 in KPI1: pending, deadline 2024-05-06")
    status, out, _ = run(["test", str(path)], capsys)
    assert status == 1
    assert "record R1 in KPI1: verdict: expected pending, got met" in out
    assert "deadline: expected 2024-05-06, got 2024-05-07" in out


def test_missing_row_is_one_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_test(tmp_path, "  expect KPI1 2024-05 in_month for provider South: met, 1 of 1")
    status, out, _ = run(["test", str(path)], capsys)
    assert status == 1
    assert out.count("FAILED") == 1
    assert "no such row in the results" in out


def test_missing_tables_are_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_test(tmp_path, "  expect KPI1 2024-05 in_month: 0 of 0, not assessed\n"
                      "  expect KPI6 2024-Q2 quarter: not assessed", tables="")
    status, out, err = run(["test", str(path)], capsys)
    assert status == 0, out + err


def test_syntax_error_is_located_with_caret(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write_test(tmp_path, "  expect KPI1 2024-05 in_month met")
    status, out, err = run(["test", str(path)], capsys)
    assert status == 2
    assert "error[test-syntax]: unexpected 'met'; expected ':' or 'for'" in err
    assert f"--> {path}:10:32" in err
    assert "|                                ^^^" in err


def test_bad_cell_is_the_loaders_error_at_the_cell(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    tables = REFERRALS.replace("2024-05-08", "2024-05-32").replace("| virtual         |\n  }",
                                                                    "| virtul          |\n  }")
    path = write_test(tmp_path, "  expect record R1 in KPI1: met", tables)
    status, _, err = run(["test", str(path)], capsys)
    assert status == 2
    assert "error[test-data]: table referrals, column 'acknowledged_date': not a valid date" in err
    assert f"--> {path}:8:48" in err  # the cell, on the row's line
    assert "(1 row: line 8)" in err
    assert "did you mean 'virtual'" in err


@pytest.mark.parametrize(("body", "words"), [
    ("  expect KPI9 2024-05 in_month: met", ["no measure 'KPI9'", "did you mean"]),
    ("  expect KPI1 2024-05 monthly: met", ["no basis of KPI1 called 'monthly'",
                                            "did you mean 'in_month'"]),
    ("  expect KPI1 2024-05 in_month for region X: met", ["KPI1 has no figures grouped by region",
                                                          "provider"]),
    ("  expect level PMR 2024-05: level 1", ["no regime 'PMR'", "did you mean 'PMIR'"]),
    ("  expect KPI1 2024-05 in_month: valu 50%", ["no field 'valu'", "did you mean 'value'"]),
    ("  expect record R1 in KPI1: pass", ["'pass' is not something this row can be"]),
    ("  expect record row 9 in KPI1: met", ["has no row 9"]),
])
def test_unknown_names_are_diagnostics(tmp_path: Path, body: str, words: list[str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["test", str(write_test(tmp_path, body))], capsys)
    assert status == 2
    for w in words:
        assert w in err
    assert "-->" in err


def test_unknown_column_and_required_column(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    tables = REFERRALS.replace("| provider |", "| provder  |")
    status, _, err = run(["test", str(write_test(tmp_path, "", tables))], capsys)
    assert status == 2
    assert "called 'provder'" in err and "did you mean 'provider'" in err
    tables = REFERRALS.replace(" provider |", " acknowledged_date |", 1)
    tables = "\n  table referrals {\n    | referral_id | referral_date |\n    | R1 | 2024-05-03 |\n  }\n"
    status, _, err = run(["test", str(write_test(tmp_path, "", tables))], capsys)
    assert status == 2
    assert "leaves out required columns provider, assessment_type" in err


def test_missing_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nothing.pmirtest"
    path.write_text('test "t" {\n  as of 2024-05-31\n}\n')
    status, _, err = run(["test", str(path)], capsys)
    assert status == 2
    assert "nothing.pmir does not exist" in err


def test_no_test_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["test", str(tmp_path)], capsys)
    assert status == 2
    assert "no *.pmirtest files" in err


def test_rows_split_into_trimmed_cells() -> None:
    cells = split_row('| a |  | "  b | c " | d|', "f", 3, 5)
    assert [c.text for c in cells] == ["a", None, "  b | c ", "d"]
    assert cells[0].span.column == 7  # the row starts at column 5; 'a' is 2 characters in
    assert cells[3].span.line == 3


def test_separator_rows_are_skipped() -> None:
    tf = parse_test_file('test "t" {\n table referrals {\n | a | b |\n | --- | :---: |\n'
                         ' | 1 | 2 |\n }\n}\n', "x.pmirtest")
    (table,) = tf.tests[0].tables
    assert [c.text for c in table.header] == ["a", "b"]
    assert [[c.text for c in row] for row in table.rows] == [["1", "2"]]
    assert tf.contract == "x.pmir"


@pytest.mark.parametrize(("kind", "written", "got", "same"), [
    ("percent", "96", 0.96, True),
    ("percent", "95.83", 23 / 24, True),
    ("percent", "95.8", 23 / 24, True),
    ("percent", "96", 23 / 24, True),  # compared at the precision written
    ("percent", "95.84", 23 / 24, False),
    ("percent", "96.0", 0.9599, True),
    ("percent", "96.00", 0.9599, False),
    ("number", "5.75", 5.75, True),
    ("number", "5", 5.75, False),  # 5.75 rounds half up to 6
    ("number", "6", 5.5, True),
    ("number", "24", 24, True),
    ("number", "24", True, False),  # a bool is not a number
    ("number", "1", None, False),
])
def test_numbers_compare_at_the_precision_written(kind: str, written: str, got: object,
                                                  same: bool) -> None:
    assert _same(Literal(kind, Decimal(written), written), got) is same


def test_other_literals() -> None:
    assert _same(Literal("money", 50000, "£500.00"), 50000)
    assert not _same(Literal("money", 50000, "£500.00"), 50001)
    assert _same(Literal("bool", True, "true"), True)
    assert not _same(Literal("bool", True, "true"), 1)
    assert _same(Literal("none", None, "none"), None)
    assert _same(Literal("text", "Good", '"Good"'), "Good")
    assert _same(Literal("text", "a", '"a"'), ["b", "a"])
    assert not _same(Literal("text", "1", "1"), True)
