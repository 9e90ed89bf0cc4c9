"""``pmirc diff``: the figures, verdicts, bands and levels two evaluations disagree on."""

from __future__ import annotations

import csv
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from pmir_dsl.cli import main
from pmir_dsl.pipeline import run_check

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_no_change(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["diff", "contracts/atw_ha.pmir", "contracts/atw_ha.pmir",
                          "examples/atw_ha"], capsys)
    assert status == 0
    assert out == "nothing changed: no figure, verdict, band, level, remedy, review or action\n"


def test_a_lower_target_flips_exactly_the_figures_between(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new.pmir"
    new.write_text(Path("contracts/atw_ha.pmir").read_text().replace("target at least 96%",
                                                                     "target at least 95%"))
    status, out, _ = run(["diff", "contracts/atw_ha.pmir", str(new), "examples/atw_ha",
                          "--format", "json"], capsys)
    assert status == 1
    found = json.loads(out)["changes"]
    base = run_check("contracts/atw_ha.pmir", "examples/atw_ha")
    between = {(r["measure"], " ".join(f"{k}={v}" for k, v in r["group"].items()), r["period"],
                r["basis"]) for r in base.results
               if r["measure"] in ("KPI2", "KPI3", "KPI5") and r["denominator"]
               and Fraction(95, 100) <= Fraction(r["numerator"], r["denominator"]) < Fraction(96, 100)}
    assert between
    figures = [c for c in found if c["kind"] == "figure"]
    assert {(c["name"], c["group"], c["period"], c["basis"]) for c in figures} == between
    assert {(c["kind"], c["field"], c["old"], c["new"]) for c in figures} == \
        {("figure", "met", False, True)}
    # The regime of 6.15 reads the same verdicts: the levels they set move too.
    levels = [c for c in found if c["kind"] != "figure"]
    assert levels and {c["name"] for c in levels} == {"PMIR"}


def test_table_lists_each_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new.pmir"
    new.write_text(Path("contracts/atw_ha.pmir").read_text().replace(
        "bands cabinet_office_tiers(96%, 93.5%, 91%)", "bands cabinet_office_tiers(97%, 93.5%, 91%)"))
    status, out, _ = run(["diff", "contracts/atw_ha.pmir", str(new), "examples/atw_ha"], capsys)
    assert status == 1
    lines = out.splitlines()
    assert lines[0].split() == ["kind", "name", "group", "period", "basis", "field", "old", "new"]
    body = [line for line in lines[1:] if line.startswith("figure")]
    assert body and all(" band " in line and "Good" in line and "Near Target" in line
                        for line in body)
    assert "(0 verdicts flipped)" in out


def test_two_data_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    shutil.copytree("examples/atw_ha", data)
    rows = list(csv.reader((data / "workforce.csv").open(newline="")))
    rows[1][rows[0].index("disabled_fte")] = "0"  # Central, 2024-Q2
    with (data / "workforce.csv").open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    status, out, _ = run(["diff", "contracts/atw_ha.pmir", "--data", "examples/atw_ha",
                          str(data), "--format", "json"], capsys)
    assert status == 1
    found = json.loads(out)["changes"]
    assert {c["name"] for c in found} == {"KPI6"}
    assert {(c["group"], c["period"]) for c in found} >= {("provider=Central", "2024-Q2"),
                                                           ("", "2024-Q2")}
    assert {(c["group"], c["period"], c["field"], c["new"]) for c in found
            if c["group"] == "provider=Central"} >= {("provider=Central", "2024-Q2", "numerator", 0)}


def test_two_dates(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["diff", "contracts/atw_ha.pmir", "examples/atw_ha", "--as-of",
                          "2025-05-31", "2025-06-30", "--format", "json"], capsys)
    assert status == 1
    doc = json.loads(out)
    assert doc["compared"]["old"]["as_of"] == "2025-05-31"
    assert any(c["period"] == "2025-06" and c["field"] == "(row)" and c["old"] is None
               for c in doc["changes"])


def test_needs_data(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["diff", "contracts/atw_ha.pmir", "contracts/atw_ha.pmir"], capsys)
    assert status == 2 and "give a data folder" in err


def test_assurance_actions_are_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Asking for every reason in common instead of any (9.95, decision 220) drops the actions
    that shared only some reasons: each is a removed `assurance` row, nothing else moves."""
    new = tmp_path / "ipes.pmir"
    new.write_text(Path("contracts/ipes.pmir").read_text().replace(
        "for the same reasons (any in common)", "for the same reasons (all of them)"))
    old_actions = run_check("contracts/ipes.pmir", "examples/ipes").assurance
    new_actions = run_check(str(new), "examples/ipes").assurance
    gone = {(a["group"]["provider"], a["month"], a["action"]) for a in old_actions} - \
        {(a["group"]["provider"], a["month"], a["action"]) for a in new_actions}
    assert gone
    status, out, _ = run(["diff", "contracts/ipes.pmir", str(new), "examples/ipes",
                          "--format", "json"], capsys)
    assert status == 1
    found = json.loads(out)["changes"]
    assert {c["kind"] for c in found} == {"assurance"}
    assert {(c["group"], c["period"], c["basis"]) for c in found if c["field"] == "(row)"
            and c["new"] is None} == {(f"provider={p}", m, a) for p, m, a in gone}


def test_service_fee_pence_are_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A provider's fee changed in the data: that provider's fee rows show the new pence."""
    data = tmp_path / "data"
    shutil.copytree("examples/ipes", data)
    rows = list(csv.reader((data / "fees.csv").open(newline="")))
    col = rows[0].index("service_fee_pence")
    provider = rows[1][rows[0].index("provider")]
    old_fee = int(rows[1][col])
    rows[1][col] = str(old_fee + 100)
    with (data / "fees.csv").open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    status, out, _ = run(["diff", "contracts/ipes.pmir", "--data", "examples/ipes", str(data),
                          "--format", "json"], capsys)
    assert status == 1
    fees = [c for c in json.loads(out)["changes"] if c["kind"] == "fee"]
    assert fees and {c["group"] for c in fees} == {f"provider={provider}"}
    assert ("fee_pence", old_fee, old_fee + 100) in {(c["field"], c["old"], c["new"])
                                                     for c in fees}


def test_reviews_are_compared(capsys: pytest.CaptureFixture[str]) -> None:
    """The Work Programme's quarterly reviews at two as-of dates: the last quarter's figures
    move with the later date, and each moved net figure or verdict is listed, nothing else."""
    later = run_check("contracts/work_programme.pmir", "examples/work_programme")
    last = max(r["period"] for r in later.reviews)
    earlier = run_check("contracts/work_programme.pmir", "examples/work_programme", f"{last}-01")

    def nets(ev: object) -> dict[tuple[str, ...], tuple[object, ...]]:
        return {(f"{r['review']} {r['measure']}", " ".join(f"{k}={v}" for k, v in
                                                              r["group"].items()),
                 r["quarter"], r["basis"]): (r["numerator"], r["denominator"],
                                             (r["provisional"] or {}).get("net"))
                for r in ev.reviews}  # type: ignore[attr-defined]

    a, b = nets(earlier), nets(later)
    moved = {k for k in a.keys() & b.keys() if a[k] != b[k]}
    assert moved
    status, out, _ = run(["diff", "contracts/work_programme.pmir", "examples/work_programme",
                          "--as-of", f"{last}-01", later.as_of, "--format", "json"], capsys)
    assert status == 1
    reviews = [c for c in json.loads(out)["changes"] if c["kind"] == "review"]
    listed = {(c["name"], c["group"], c["period"], c["basis"]) for c in reviews
              if c["field"] in ("numerator", "denominator", "provisional.net")}
    assert listed == moved
