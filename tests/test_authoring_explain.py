"""``pmirc explain``: the clauses, counts, deadlines and records behind one figure."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from pmir_dsl.cli import main
from pmir_dsl.pipeline import run_check

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.fixture(scope="module")
def atw():  # type: ignore[no-untyped-def]
    return run_check(REPO / "contracts/atw_ha.pmir", REPO / "examples/atw_ha")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def count(out: str, name: str) -> int:
    m = re.search(rf"^  {name}\s+(\d+)", out, re.MULTILINE)
    assert m, (name, out)
    return int(m[1])


@pytest.mark.parametrize(("measure", "group", "period", "basis"), [
    ("KPI1", [], "2024-06", "in_month"),
    ("KPI3", ["provider=North"], "2024-09", "rolling_3"),
    ("KPI2", ["provider=Central"], "2025-06", "cumulative"),
    ("KPI1", [], "2025-06", "in_month"),  # the last month: records still pending
])
def test_counts_add_up_to_the_figure(atw, measure: str, group: list[str], period: str,  # type: ignore[no-untyped-def]
                                     basis: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = tmp_path / "records.csv"
    args = ["explain", "contracts/atw_ha.pmir", "examples/atw_ha", "--measure", measure,
            "--period", period, "--basis", basis, "-o", str(out_csv)]
    for g in group:
        args += ["--group", g]
    status, out, _ = run(args, capsys)
    assert status == 0
    want = dict(g.split("=") for g in group)
    (row,) = [r for r in atw.results if r["measure"] == measure and r["group"] == want
              and r["period"] == period and r["basis"] == basis]
    assert count(out, "met") == row["numerator"]
    assert count(out, "met") + count(out, "failed") == row["denominator"]
    assert count(out, "pending") == row["pending"]
    assert count(out, "excluded") == row["excluded"]
    assert f"Figure: {row['numerator']} of {row['denominator']}" in out
    rows = list(csv.DictReader(out_csv.open(newline="")))
    assert len(rows) == count(out, "population")
    assert {r["verdict"] for r in rows} <= {"met", "failed", "pending", "excluded"}
    assert f"measure {measure} " in out  # the clauses, as written
    assert "Cite: 6.17" in out


@pytest.mark.parametrize(("contract", "measure", "period"), [
    ("ses", "REFERRAL_TO_ASSESSMENT", "2024-06"),  # average working days
    ("work_programme", "CMO_SCORE", "2024-06"),    # a ratio of two sums
])
def test_averages_and_ratios_count_records_that_add_up(contract: str, measure: str, period: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A ratio's or an average's records are neither met nor failed one by one: explain counts
    them and adds their parts up to the figure's numerator and denominator."""
    ev = run_check(REPO / f"contracts/{contract}.pmir", REPO / f"examples/{contract}")
    (row,) = [r for r in ev.results if r["measure"] == measure and r["group"] == {}
              and r["period"] == period and r["basis"] == "in_month"]
    assert row["denominator"]
    status, out, _ = run(["explain", f"contracts/{contract}.pmir", f"examples/{contract}",
                          "--measure", measure, "--period", period], capsys)
    assert status == 0
    assert count(out, "counted") == count(out, "population") - count(out, "excluded") - \
        count(out, "pending")
    num, den = (str(int(x)) if float(x).is_integer() else str(x)
                for x in (row["numerator"], row["denominator"]))
    assert f"(adding up to {num} over {den}:" in out
    assert not re.search(r"^  (met|failed) ", out, re.MULTILINE)


def test_excluded_by_reason(capsys: pytest.CaptureFixture[str], atw) -> None:  # type: ignore[no-untyped-def]
    row = next(r for r in atw.results if r["measure"] == "KPI1" and r["excluded"]
               and r["group"] == {} and r["basis"] == "in_month")
    status, out, _ = run(["explain", "contracts/atw_ha.pmir", "examples/atw_ha", "--measure",
                          "KPI1", "--period", row["period"]], capsys)
    assert status == 0
    assert re.search(r"^\s+\d+  acknowledged_date before referral_date", out, re.MULTILINE)


@pytest.mark.parametrize(("extra", "words"), [
    (["--measure", "KPI9", "--period", "2024-06"], "no measure 'KPI9'"),
    (["--measure", "KPI1", "--period", "2024-06", "--basis", "quarter"], "no basis 'quarter'"),
    (["--measure", "KPI1", "--period", "2024-06", "--group", "region=X"], "not grouped by region"),
    (["--measure", "KPI1", "--period", "2019-01"], "no figure of KPI1 for the whole contract in 2019-01"),
])
def test_mistakes_are_usage_errors(extra: list[str], words: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["explain", "contracts/atw_ha.pmir", "examples/atw_ha", *extra], capsys)
    assert status == 2 and words in err
