"""The parts of an evaluation worked out once over whole tables (issue 12, ESF's serial parts):
made beside the chunks on threads of their own, the same bytes as made in turn."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from pmir_dsl import pipeline
from pmir_dsl.errors import DataError, DataProblem
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import compile_file, evaluate
from pmir_dsl.report import json as json_report

CASES = [("esf", "esf"), ("atw_ha", "atw_ha")]


def _json(repo: Path, contract: str, data: str, chunk_rows: int | None) -> str:
    plan = compile_file(repo / "contracts" / f"{contract}.pmir")
    tables = load_tables(repo / "examples" / data, plan.contract.used_tables())
    return json_report.render(evaluate(plan, tables, chunk_rows=chunk_rows))


@pytest.mark.parametrize("jit", ["0", "1"])
@pytest.mark.parametrize(("contract", "data"), CASES)
def test_made_beside_the_chunks_as_in_turn(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                           contract: str, data: str, jit: str) -> None:
    """One thread (everything in turn) against three chunk threads with the profiles and the
    look-alikes made beside them: byte-identical JSON, run after run."""
    monkeypatch.setenv("PMIRC_JIT", jit)
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 1)
    in_turn = _json(repo, contract, data, 500)
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 3)
    beside = [_json(repo, contract, data, 500) for _ in range(3)]
    assert beside == [in_turn] * 3


def test_beside_raises_the_first_error_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both fail: the reduction's error, as when the profiles ran after it; the reduction
    succeeds: the profiles' error."""
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 2)

    def first() -> Any:
        raise DataError(DataProblem("referrals", "the reduction's"))

    def second() -> Any:
        raise DataError(DataProblem("outcome_profiles", "the profiles'"))
    with pytest.raises(DataError, match="the reduction's"):
        pipeline._beside(first, second)
    with pytest.raises(DataError, match="the profiles'"):
        pipeline._beside(lambda: 1, second)
    done, beside = pipeline._beside(lambda: threading.current_thread().name,
                                    lambda: threading.current_thread().name)
    assert done == threading.current_thread().name != beside
