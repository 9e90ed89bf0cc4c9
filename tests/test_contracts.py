"""The bundled contracts on their bundled example data: snapshots of JSON and the report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from pmir_dsl.cli import main
from pmir_dsl.pipeline import run_check
from pmir_dsl.report import json as json_report
from pmir_dsl.report import terminal

BUNDLED = [("contracts/atw_ha.pmir", "examples/atw_ha"), ("contracts/esf.pmir", "examples/esf"),
           ("contracts/ses.pmir", "examples/ses"), ("contracts/ipes.pmir", "examples/ipes"),
           ("contracts/work_programme.pmir", "examples/work_programme"),
           ("contracts/atw_ha_mmir.pmir", "examples/atw_ha")]


class _TextFile(SingleFileSnapshotExtension):
    """One text file per snapshot (tests/__snapshots__/test_contracts/), so a change to one
    contract's figures touches that contract's files only."""

    _write_mode = WriteMode.TEXT


class _JsonFile(_TextFile):
    file_extension = "json"


@pytest.fixture(autouse=True)
def _in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)  # relative paths in the output, as a user would type them


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_json_snapshot(contract: str, data: str, snapshot) -> None:  # type: ignore[no-untyped-def]
    assert json_report.render(run_check(contract, data)) == snapshot.use_extension(_JsonFile)


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_terminal_report_snapshot(contract: str, data: str, snapshot) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    console = Console(file=out, width=140, color_system=None, force_terminal=False)
    terminal.render(run_check(contract, data), console)
    assert out.getvalue() == snapshot.use_extension(_TextFile)


def test_atw_json_has_the_output_md_shape() -> None:
    doc = json.loads(json_report.render(run_check(*BUNDLED[0])))
    assert {"contract", "as_of", "tables", "results", "escalations", "remedies",
            "data_quality"} <= set(doc)
    assert {r["measure"] for r in doc["results"]} >= {f"KPI{i}" for i in range(1, 7)}
    keys = {"measure", "group", "period", "basis", "numerator", "denominator", "pending",
            "value", "target", "met", "band"}
    assert all(keys <= set(r) for r in doc["results"])
    assert doc["as_of"] == "2025-06-30"
    assert doc["tables"]["referrals"]["rows"] == 2000


def test_atw_results_are_sorted_and_unique() -> None:
    from pmir_dsl.evaluate import result_sort_key

    results = run_check(*BUNDLED[0]).results
    keys = [result_sort_key(r) for r in results]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_every_measure_accounts_for_its_population() -> None:
    doc = json.loads(json_report.render(run_check(*BUNDLED[0])))
    for m in doc["measures"]:
        assert m["met"] + m["failed"] + m["pending"] + m["excluded"] == m["population"]
    kpi1 = next(m for m in doc["measures"] if m["measure"] == "KPI1")
    assert kpi1["population"] + kpi1["outside_population"] == 2000


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_chunked_evaluation_gives_identical_json(contract: str, data: str) -> None:
    whole = json_report.render(run_check(contract, data))
    for chunk in (7, 333, 1999):
        assert json_report.render(run_check(contract, data, chunk_rows=chunk)) == whole


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_every_bundled_measure_accounts_for_its_population(contract: str, data: str) -> None:
    doc = json.loads(json_report.render(run_check(contract, data)))
    for m in doc["measures"]:
        assert m["met"] + m["failed"] + m["pending"] + m["excluded"] == m["population"]


def test_esf_measure_ids_and_two_group_levels() -> None:
    doc = json.loads(json_report.render(run_check(*BUNDLED[1])))
    ids = {r["measure"] for r in doc["results"]}
    assert ids == {"START_RECORDED_20WD", "START_RATE", "STARTS_VS_PROFILE", "BACKLOG",
                   "BACKLOG_OVER_40WD", "SHORT_JOB_OUTCOMES", "SUSTAINED_JOB_OUTCOMES"}
    levels = {tuple(r["group"]) for r in doc["results"] if r["measure"] == "SHORT_JOB_OUTCOMES"}
    assert levels == {(), ("provider",), ("lep_area",), ("lep_area", "category_of_region")}
    assert all("expected" in r for r in doc["results"] if r["measure"] == "STARTS_VS_PROFILE")
    assert doc["cohorts"]
    checks = {q["check"] for q in doc["data_quality"]}
    assert "referral_id not found in referrals" in checks


def test_check_exit_status_and_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", *BUNDLED[0], "--format", "json"])
    out = capsys.readouterr().out
    assert status == 1  # the example has failed targets
    assert json.loads(out)["contract"]["file"] == "contracts/atw_ha.pmir"


def test_check_exit_0_when_every_target_met(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import write_csv

    contract = tmp_path / "c.pmir"
    contract.write_text("""
contract "All met" { service start 2024-01-01 }
table referrals { referral_id: id  referral_date: date  acknowledged_date: date? }
measure KPI1 "Acknowledged" {
  population referrals
  month of referral_date
  met when acknowledged_date within 1 working day of referral_date
  target at least 99%
}""")
    write_csv(tmp_path / "data", "referrals", ["referral_id", "referral_date", "acknowledged_date"],
              [["R1", "2024-01-05", "2024-01-08"], ["R2", "2024-02-29", None]])
    args = ["check", str(contract), str(tmp_path / "data"), "--as-of"]
    assert main([*args, "2024-02-29"]) == 0  # R2's deadline (1 March) is after the as-of date
    assert "Pending at 2024-02-29" in capsys.readouterr().out
    assert main([*args, "2024-03-01"]) == 1  # due on the deadline itself, and not acknowledged


def test_as_of_moves_records_into_pending(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", *BUNDLED[0], "--as-of", "2025-05-31", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert max(r["period"] for r in doc["results"] if r["basis"] == "in_month") == "2025-05"
    after = [q for q in doc["data_quality"] if "after the as-of date" in q["check"]]
    assert after and after[0]["count"] > 0


def test_ipes_levels_and_service_fee_story() -> None:
    """The example's story (examples/ipes/README.md) comes out of the regime and the remedy."""
    ev = run_check(*BUNDLED[3])
    changes = [(e["group"]["provider"], e["month"], e["level"]) for e in ev.escalations
               if e["changed"]]
    # 9.14: the tMPLs lead to level 2 too (Provider A's higher threshold, three months below)
    assert changes == [("Provider A", "2025-01", 2), ("Provider A", "2025-02", 1),
                       ("Provider B", "2024-08", 2), ("Provider B", "2025-03", 1),
                       ("Provider B", "2025-06", 2),
                       ("Provider C", "2024-11", 2), ("Provider C", "2025-01", 3),
                       ("Provider C", "2025-02", 4), ("Provider D", "2025-04", 2),
                       ("Provider D", "2025-05", 3)]
    money = {}
    for r in ev.remedies:
        totals = money.setdefault(r["group"]["provider"], [0, 0, 0])
        for i, key in enumerate(("deferred_pence", "released_pence", "forfeited_pence")):
            totals[i] += r[key]
    assert money["Provider A"] == [0, 0, 0]
    assert money["Provider B"] == [3_550_000, 3_550_000, 0]  # deferred in August, paid in September
    deferred, released, forfeit = money["Provider C"]
    assert released == 0 and forfeit == 0 and deferred > 0  # forfeitable, not forfeit (9.60)
    last = [r for r in ev.remedies if r["month"] == "2025-09"
            and r["group"]["provider"] == "Provider C"][0]
    assert last["forfeitable_pence"] == last["outstanding_pence"] == deferred
    assert all(isinstance(r["deferred_pence"], int) for r in ev.remedies)
