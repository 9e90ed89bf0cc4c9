"""The Python API (pmir_dsl.run_check): typed results equal to the JSON, DataFrames of them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import attrs
import pytest

import pmir_dsl
from pmir_dsl.api import TABLES, CheckResults, Result
from pmir_dsl.diagnostics import CompileError
from pmir_dsl.report import json as json_report
from tests.conftest import REPO


@cache
def _checked(name: str) -> CheckResults:
    return pmir_dsl.run_check(REPO / f"contracts/{name}.pmir", REPO / f"examples/{name}")


def _json(name: str) -> dict[str, object]:
    return json.loads(json_report.render(_checked(name).evaluation))


@pytest.mark.parametrize("name", ["atw_ha", "ipes", "work_programme"])
def test_typed_results_hold_the_figures_of_the_json(name: str) -> None:
    checked, d = _checked(name), _json(name)
    assert checked.as_of == d["as_of"] and checked.contract == d["contract"]["name"]  # type: ignore[index]
    assert len(checked.results) == len(d["results"])  # type: ignore[arg-type]
    for typed, row in zip(checked.results, d["results"]):  # type: ignore[call-overload]
        back = {k: v for k, v in attrs.asdict(typed, recurse=False).items() if k != "extra"}
        assert {**back, **typed.extra} == row
    assert len(checked.escalations) == len(d["escalations"])  # type: ignore[arg-type]
    assert len(checked.remedies) + len(checked.notices) == len(d["remedies"])  # type: ignore[arg-type]
    assert len(checked.reviews) == len(d["reviews"])  # type: ignore[arg-type]
    assert [q.count for q in checked.data_quality] == [q["count"] for q in d["data_quality"]]  # type: ignore[attr-defined]
    assert checked.failed == any(r["met"] is False for r in d["results"])  # type: ignore[attr-defined]


def test_results_are_frozen_attrs_classes() -> None:
    r = _checked("atw_ha").results[0]
    assert isinstance(r, Result)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.met = True  # type: ignore[misc]


def test_to_pandas_has_a_row_per_result_and_group_keys_as_columns() -> None:
    checked = _checked("atw_ha")
    df = checked.to_pandas()
    assert len(df) == len(checked.results)
    assert {"measure", "period", "basis", "value", "met", "provider", "group_level"} <= set(df)
    north = df[(df["provider"] == "North") & (df["measure"] == "KPI1")
               & (df["basis"] == "in_month")]
    expect = [r for r in checked.results if r.group == {"provider": "North"}
              and r.measure == "KPI1" and r.basis == "in_month"]
    assert list(north["numerator"]) == [r.numerator for r in expect]
    assert set(df["group_level"]) == {"contract", "provider"}


@pytest.mark.parametrize("table", TABLES)
def test_every_table_converts(table: str) -> None:
    checked = _checked("ipes")
    df = checked.to_pandas(table)
    assert len(df) == len(getattr(checked, table))


def test_work_programme_notices_and_reviews_as_frames() -> None:
    checked = _checked("work_programme")
    notices = checked.to_pandas("notices")
    assert set(notices["remedy"]) == {"PIN"} and len(notices) == len(checked.notices) > 0
    assert set(checked.to_pandas("reviews")["review"]) == {"FORMAL_QUARTERLY_REVIEW"}


def test_to_polars_when_polars_is_installed() -> None:
    pl = pytest.importorskip("polars")
    df = _checked("atw_ha").to_polars()
    assert isinstance(df, pl.DataFrame) and df.height == len(_checked("atw_ha").results)


def test_unknown_table_and_engine_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="no table 'result'"):
        _checked("atw_ha").to_pandas("result")
    with pytest.raises(ValueError, match="engine"):
        pmir_dsl.run_check(REPO / "contracts/atw_ha.pmir", REPO / "examples/atw_ha",
                           engine="fast")


def test_a_bad_contract_raises_compile_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pmir"
    bad.write_text("contract {", encoding="utf-8")
    with pytest.raises(CompileError):
        pmir_dsl.run_check(bad, tmp_path)


def test_as_of_moves_the_month_under_review() -> None:
    early = pmir_dsl.run_check(REPO / "contracts/atw_ha.pmir", REPO / "examples/atw_ha",
                               as_of="2025-01-31")
    assert early.as_of == "2025-01-31"
    assert max(r.period for r in early.results if r.basis == "in_month") == "2025-01"


def test_import_pmir_dsl_does_not_import_the_engine() -> None:
    import subprocess
    import sys

    code = "import sys, pmir_dsl; print('pmir_dsl.pipeline' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
