"""The compiled loops of verdicts and counts (pmir_dsl/kernels_eval.py) give exactly the numpy
path's integers: whole contracts both ways, and each loop on seeded random inputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pmir_dsl import kernels_eval, stream
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import compile_file, evaluate
from pmir_dsl.report import json as json_report

BUNDLED = [("contracts/atw_ha.pmir", "examples/atw_ha"), ("contracts/esf.pmir", "examples/esf"),
           ("contracts/ses.pmir", "examples/ses"), ("contracts/ipes.pmir", "examples/ipes"),
           ("contracts/work_programme.pmir", "examples/work_programme"),
           ("contracts/atw_ha_mmir.pmir", "examples/atw_ha")]


def _json(contract: str, data: str, chunk_rows: int | None) -> str:
    plan = compile_file(contract)
    return json_report.render(evaluate(plan, load_tables(data, plan.contract.used_tables()),
                                       None, chunk_rows))


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_bundled_contracts_give_the_same_json_with_and_without_the_loops(
        repo: Path, contract: str, data: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PMIRC_JIT", "0")
    plain = _json(contract, data, 173)
    monkeypatch.setenv("PMIRC_JIT", "1")
    assert _json(contract, data, 173) == plain  # several chunks, on threads
    assert _json(contract, data, None) == plain  # one chunk: the span tables over every date


def test_the_streamed_run_takes_the_loops_and_agrees(repo: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    contract, data = BUNDLED[0]
    plan = compile_file(contract)
    monkeypatch.setenv("PMIRC_JIT", "0")
    plain = _json(contract, data, None)
    monkeypatch.setenv("PMIRC_JIT", "1")
    opened = stream.open_tables(data, plan, stream.streamable(plan.contract), 211)
    assert opened.streams
    assert json_report.render(stream.evaluate(plan, opened)) == plain


# ---- each loop against its numpy twin ---------------------------------------------------------


def _numpy_cells(month: np.ndarray, status: np.ndarray, base: np.ndarray | int, size: int
                 ) -> np.ndarray:
    return np.bincount((month + 1) * 5 + base + status, minlength=size)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("compiled", [True, False])
def test_count_cells_counts_as_a_bincount(seed: int, compiled: bool) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 7, 5000]))
    months = int(rng.integers(1, 30))
    groups = int(rng.choice([1, 2, 300]))  # one group, a few, many
    month = rng.integers(-1, months, n).astype(np.int64)  # -1: off the month axis
    status = rng.integers(0, 5, n).astype(np.int8)  # outside the population among them
    size = groups * (months + 1) * 5
    one_group = groups == 1 and seed % 2 == 0
    base = 0 if one_group else rng.integers(0, groups, n) * (months + 1) * 5
    out = np.zeros(size, dtype=np.int64)
    fn = kernels_eval.count_cells if compiled else kernels_eval.count_cells.py_func
    fn(month, status, np.asarray(base, dtype=np.int64).reshape(-1), 5, out)
    assert np.array_equal(out, _numpy_cells(month, status, base, size))
