"""The benchmark's DuckDB and pandas baselines compute AtW KPI 1-5 as pmirc does.

The benchmark (benchmarks/bench_vs.py) only times baselines whose figures equal pmirc's; this
test checks that on 20,000 synthetic referrals, so a change to pmirc or to a baseline that makes
them disagree fails here, not only in a benchmark run.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from pmir_dsl.pipeline import run_check
from pmir_dsl.report.json import render
from pmir_dsl.synth import GENERATORS, write_tables

ROOT = Path(__file__).resolve().parent.parent


def _baselines():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("atw_baselines",
                                                  ROOT / "benchmarks" / "atw_baselines.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["atw_baselines"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def atw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("atw20k")
    write_tables(GENERATORS["atw_ha"](20_000, 3), folder, "parquet")
    ev = run_check(ROOT / "contracts" / "atw_ha.pmir", folder)
    return folder, json.loads(render(ev))


def test_duckdb_baseline_equals_pmirc(atw: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    pytest.importorskip("duckdb")
    b = _baselines()
    folder, report = atw
    figures, as_of = b.duckdb_figures(folder, threads=1)
    expected = b.pmirc_figures(report)
    assert as_of == report["as_of"]
    assert len(expected) == 5 * 5 * 15 * 4  # KPIs x groups x months x bases
    assert b.differences(expected, figures) == []
    assert sum(v[2] for v in figures.values()) > 0  # pending records are exercised
    assert sum(v[3] for v in figures.values()) > 0  # and excluded ones


def test_pandas_baseline_equals_pmirc(atw: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    pytest.importorskip("pandas")
    b = _baselines()
    folder, report = atw
    figures, as_of = b.pandas_figures(folder)
    assert as_of == report["as_of"]
    assert b.differences(b.pmirc_figures(report), figures) == []


def test_differences_names_a_wrong_figure() -> None:
    b = _baselines()
    a = {("KPI1", None, "2024-04", "in_month"): (1, 2, 0, 0)}
    wrong = {("KPI1", None, "2024-04", "in_month"): (1, 3, 0, 0)}
    assert b.differences(a, wrong) == ["('KPI1', None, '2024-04', 'in_month'): (1, 2, 0, 0) "
                                       "!= (1, 3, 0, 0)"]
    assert b.differences(a, {}) != []


def test_the_escalation_benchmark_runs_on_the_bundled_contracts() -> None:
    """bench_escalation.py builds its inputs by hand from the IPES and Work Programme contracts;
    when a contract's groups change (the Work Programme's provider x cpa) it must follow, not
    crash (it did, unnoticed, until this test)."""
    import subprocess

    run = subprocess.run([sys.executable, "benchmarks/bench_escalation.py", "--providers", "4",
                          "--months", "24", "--repeat", "1"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "quarter-end reviews" in run.stdout and "level changes" in run.stdout
