"""The parts of an evaluation worked out once over whole tables (issue 12, ESF's serial parts):
made beside the chunks on threads of their own, the same bytes as made in turn."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pmir_dsl import pipeline, profiles
from pmir_dsl.compile import Shared
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
    """One thread (everything in turn) against three chunk threads with the profiles, the
    look-alikes and the shared joins made beside them: byte-identical JSON, run after run."""
    monkeypatch.setenv("PMIRC_JIT", jit)
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 1)
    in_turn = _json(repo, contract, data, 500)
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 3)
    beside = [_json(repo, contract, data, 500) for _ in range(3)]
    assert beside == [in_turn] * 3


def test_the_shared_results_are_made_ahead_of_the_chunks(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ESF's outcomes joined into the referrals and both outcome measures' starts without a
    profile are made once, on the thread started beside the chunks, not by a chunk."""
    made: dict[Any, list[str]] = {}
    real = Shared.get

    def get(self: Shared, key: Any, make: Any) -> Any:
        def traced() -> Any:
            made.setdefault(key, []).append(threading.current_thread().name)
            return make()
        return real(self, key, traced)
    monkeypatch.setattr(Shared, "get", get)
    ahead, partials, done = pipeline._shared_ahead, pipeline.partials, threading.Event()

    def named(plan: Any, b: Any) -> None:
        threading.current_thread().name = "ahead"
        ahead(plan, b)
        done.set()

    def after_ahead(*args: Any) -> Any:  # the chunks held back until it is done
        assert done.wait(30)
        return partials(*args)
    monkeypatch.setattr(pipeline, "_shared_ahead", named)
    monkeypatch.setattr(pipeline, "partials", after_ahead)
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 2)
    _json(repo, "esf", "esf", 500)
    assert sorted(made, key=str) == sorted([
        ("join", "outcomes", "referral_id"),
        ("without profile", "SHORT_JOB_OUTCOMES"),
        ("without profile", "SUSTAINED_JOB_OUTCOMES")], key=str)
    assert all(threads == ["ahead"] for threads in made.values())


def test_a_failure_ahead_is_left_to_the_chunk_that_needs_the_result(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A making ahead that raises (here a data error, as a profile that does not add up
    would) stops the making ahead and keeps nothing: the chunks make the results themselves,
    and the evaluation is the same as made in turn."""
    failures: list[str] = []
    real = profiles.without_profile

    def failing(m: Any, b: Any) -> Any:
        if threading.current_thread().name == "ahead":
            failures.append(m.id)
            raise DataError(DataProblem("outcome_profiles", "made ahead"))
        return real(m, b)
    monkeypatch.setattr(profiles, "without_profile", failing)
    ahead = pipeline._shared_ahead

    def named(plan: Any, b: Any) -> None:
        threading.current_thread().name = "ahead"
        ahead(plan, b)
    monkeypatch.setattr(pipeline, "_shared_ahead", named)
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 1)
    in_turn = _json(repo, "esf", "esf", 500)
    monkeypatch.setattr(pipeline, "EVALUATION_THREADS", 2)
    assert _json(repo, "esf", "esf", 500) == in_turn
    assert failures == ["SHORT_JOB_OUTCOMES"]  # the first raised: the rest left to the chunks


def test_shared_waits_only_for_its_own_key() -> None:
    """A make that asks for another key does not deadlock; a caller of another key is not
    held up by a slow make; each key is made once however many ask."""
    shared = Shared()
    calls: list[str] = []
    started = threading.Event()

    def slow() -> str:
        calls.append("slow")
        started.set()
        time.sleep(0.3)
        return "slow"
    worker = threading.Thread(target=lambda: shared.get("a", slow))
    worker.start()
    started.wait()
    t0 = time.perf_counter()
    nested = shared.get("b", lambda: calls.append("b") or shared.get("c", lambda: "c") + "!")
    quick = time.perf_counter() - t0
    assert shared.get("a", lambda: calls.append("again") or "again") == "slow"
    worker.join()
    assert nested == "c!" and quick < 0.25
    assert calls == ["slow", "b"]


def test_shared_makes_again_after_a_failure() -> None:
    shared = Shared()
    with pytest.raises(ZeroDivisionError):
        shared.get("k", lambda: 1 // 0)
    assert shared.get("k", lambda: 7) == 7 and shared.get("k", lambda: 8) == 7


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


def test_preload_loads_the_bank_holidays_beside_the_reading(repo: Path) -> None:
    """A fresh process: no bank-holiday tables before jit.preload; after its thread, the
    United Kingdom's, which the first calendar (make_batch, before any chunk) would load."""
    code = ("import sys; from pmir_dsl import jit\n"
            "before = 'holidays.countries.united_kingdom' in sys.modules\n"
            "jit.preload(); jit._PRELOADED[0].join()\n"
            "print(before, 'holidays.countries.united_kingdom' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, cwd=repo).stdout.split()
    assert out == ["False", "True"]
