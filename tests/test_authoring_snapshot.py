"""``pmirc test --snapshot``: a contract's figures stored in an amber file, and what moved."""

from __future__ import annotations

import re
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from syrupy.extensions.amber.serializer import AmberDataSerializer

from pmir_dsl.cli import main
from pmir_dsl.pipeline import run_check
from pmir_dsl.snapshot import figure_key, parse, render, snapshots


@pytest.fixture(autouse=True)
def _in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def baseline():  # type: ignore[no-untyped-def]
    return run_check(REPO / "contracts/atw_ha.pmir", REPO / "examples/atw_ha")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out + err


def copy_contract(tmp_path: Path) -> Path:
    path = tmp_path / "atw_ha.pmir"
    shutil.copy("contracts/atw_ha.pmir", path)
    return path


def moved_keys(out: str) -> dict[str, set[str]]:
    """Snapshot name -> keys of the figures the output says moved."""
    found: dict[str, set[str]] = {}
    current = None
    for line in out.splitlines():
        if m := re.match(r"^(\S[^:]*): \d+ figures? moved$", line):
            current = found.setdefault(m[1], set())
        elif line.startswith("  ") and current is not None:
            current.add(line[2:].split(": ", 1)[0])
    return found


def test_a_changed_target_names_exactly_the_figures_that_moved(
        tmp_path: Path, baseline, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    contract = copy_contract(tmp_path)
    status, out = run(["test", "--snapshot", "examples/atw_ha", str(contract)], capsys)
    assert status == 0 and "written" in out
    assert (tmp_path / "atw_ha.ambr").is_file()
    status, out = run(["test", "--snapshot", "examples/atw_ha", str(contract)], capsys)
    assert status == 0 and "no figure moved" in out

    text = contract.read_text()
    kpi1 = text.index('measure KPI1 "')
    end = text.index("}", kpi1)
    contract.write_text(text[:kpi1] + text[kpi1:end].replace("at least 99%", "at least 98%")
                        + text[end:])
    status, out = run(["test", "--snapshot", "examples/atw_ha", str(contract)], capsys)
    assert status == 1
    # Independently: the KPI1 figures from 98% up to but not including 99% flip to met.
    flips = {figure_key(r) for r in baseline.results if r["measure"] == "KPI1"
             and r["denominator"] and Fraction(98, 100) <= Fraction(r["numerator"],
                                                                   r["denominator"]) < Fraction(99, 100)}
    assert flips
    assert moved_keys(out) == {"KPI1": flips}
    assert ", failed, band -" in out and "-> " in out and "--update" in out

    status, out = run(["test", "--snapshot", "examples/atw_ha", str(contract), "--update"],
                      capsys)
    assert status == 0 and "updated" in out
    status, out = run(["test", "--snapshot", "examples/atw_ha", str(contract)], capsys)
    assert status == 0 and "no figure moved" in out


def test_snapshot_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run(["test", "--snapshot", "examples/atw_ha", "contracts/atw_ha.pmir",
                     "--snapshot-dir", str(tmp_path / "snaps")], capsys)
    assert status == 0
    assert (tmp_path / "snaps" / "atw_ha.ambr").is_file()
    assert not Path("contracts/atw_ha.ambr").exists()


def test_syrupy_reads_the_file(tmp_path: Path, baseline) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "atw_ha.ambr"
    path.write_text(render(snapshots(baseline)))
    collection = AmberDataSerializer.read_file(str(path))
    names = sorted(s.name for s in collection)
    assert names == sorted([mp.measure.id for mp in baseline.plan.measures] +
                           [f"level {r.name}" for r in baseline.plan.contract.regimes])
    kpi1 = next(s for s in collection if s.name == "KPI1")
    lines = str(kpi1.data).split("\n")
    assert lines[0] == "'''" and lines[-1] == "'''"
    assert len(lines) - 2 == sum(r["measure"] == "KPI1" for r in baseline.results)


def test_render_is_sorted_and_round_trips(baseline) -> None:  # type: ignore[no-untyped-def]
    snaps = snapshots(baseline)
    text = render(snaps)
    assert parse(text) == snaps
    names = [line[8:] for line in text.splitlines() if line.startswith("# name: ")]
    assert names == sorted(names)
    assert render(snapshots(baseline)) == text  # byte-identical run to run


def test_snapshot_needs_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(["test", "--snapshot", "examples/atw_ha"], capsys)
    assert status == 2 and "needs the contracts" in out
