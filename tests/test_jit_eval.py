"""The compiled loops of verdicts and counts (pmir_dsl/kernels_eval.py) give exactly the numpy
path's integers: whole contracts both ways, and each loop on seeded random inputs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import test_differential as differential
from conftest import first_verdicts_both_ways, random_cases_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmir_dsl import jit, kernels_eval, stream
from pmir_dsl.check import check_source
from pmir_dsl.compile import compile_contract
from pmir_dsl.errors import DataError
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import compile_file, evaluate, make_batch
from pmir_dsl.report import json as json_report
from pmir_dsl.report.json import render

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


def test_a_streamed_table_chooses_the_loops_by_its_total_rows(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of a streamed table are small, but the run's choice is made once from the
    table's total rows (as for a table loaded whole)."""
    monkeypatch.chdir(repo)
    monkeypatch.delenv("PMIRC_JIT", raising=False)
    contract, data = BUNDLED[0]
    plan = compile_file(contract)
    opened = stream.open_tables(data, plan, stream.streamable(plan.contract), 211)
    rows = opened.tables["referrals"].rows
    assert "referrals" in opened.streams and rows > 211
    day = np.datetime64("2025-03-31")
    monkeypatch.setattr(jit, "JIT_MIN_ROWS", rows)
    assert make_batch(plan, opened.tables, day, opened.spans).jit
    monkeypatch.setattr(jit, "JIT_MIN_ROWS", rows + 1)
    assert not make_batch(plan, opened.tables, day, opened.spans).jit


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


# ---- random contracts and data (the differential generator's), both ways ----------------------


def _both_ways(source: str, data: Path, as_of: str | None, chunk_rows: int | None,
               monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The JSON (or the data error) of ``source`` over ``data`` with numpy only, then with the
    compiled loops."""
    contract = check_source(source, "differential.pmir", data)
    plan = compile_contract(contract)
    tables = load_tables(data, plan.contract.used_tables())
    out = []
    for setting in ("0", "1"):
        monkeypatch.setenv("PMIRC_JIT", setting)
        try:
            out.append(render(evaluate(plan, tables, as_of, chunk_rows)))
        except DataError as e:
            out.append(f"DataError {e}")
    return out[0], out[1]


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=differential.scenarios(), chunk_rows=st.sampled_from([3, 17, 1000]))
def test_random_contracts_give_the_same_json_with_the_loops(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        case: tuple[str, dict[str, Any], str | None], chunk_rows: int) -> None:
    source, data, as_of = case
    folder = tmp_path_factory.mktemp("case")
    differential.write_case(folder, source, data, as_of)
    numpy_only, compiled = _both_ways(source, folder / "data", as_of, chunk_rows, monkeypatch)
    assert compiled == numpy_only


@pytest.mark.parametrize("folder", sorted(differential.REGRESSIONS.glob("*/")),
                         ids=lambda p: p.name)
def test_regression_cases_give_the_same_json_with_the_loops(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meta = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    source = (folder / "contract.pmir").read_text(encoding="utf-8")
    numpy_only, compiled = _both_ways(source, folder / "data", meta.get("as_of"), 5, monkeypatch)
    assert compiled == numpy_only


# ---- 'within N days' measures on seeded random records, both ways -----------------------------

_WINDOWS = [
    "done within {n} working days of start",
    "done within {n} calendar days of start",
    "done within {m} calendar months of start",
    "done within (by kind: a {n}, otherwise {k}) working days of start",
    "done within (by kind: a {n}, b {k}, c 0) calendar days of start",
]


def _window_contract(rng: np.random.Generator) -> str:
    measures = []
    for i, text in enumerate(_WINDOWS):
        window = text.format(n=int(rng.integers(0, 12)), k=int(rng.integers(0, 40)),
                             m=int(rng.integers(0, 3)))
        scope = rng.choice(["", " where flag is true", " where other is present"])
        verb = "count when" if i == 2 else "met when"
        target = "target at least 1" if i == 2 else "target at least 90%"
        measures.append(f'measure M{i} "window {i}" {{\n  population cases{scope}\n'
                        f"  month of {rng.choice(['start', 'start', 'other'])}\n"
                        f"  {verb} {window}\n  {target}\n}}\n")
    scope = rng.choice(["", " where flag is true"])
    measures.append(f'measure B "backlog" {{\n  population cases{scope}\n  month of start\n'
                    "  count in backlog until done\n  no target\n}\n")
    return ('contract "jit" {\n  service start 2024-03-01\n  calendar england_and_wales\n'
            '  bases in_month, cumulative\n  group by provider\n}\n\n'
            'table cases "random records" {\n  case_id: id\n  provider: text?\n'
            '  kind: category(a, b, c)?\n  flag: bool?\n  start: date?\n  done: date?\n'
            '  other: date?\n' + ("  done not before other\n" if rng.integers(0, 2) else "")
            + "}\n\n" + "\n".join(measures))


def test_a_chunk_of_one_record_with_its_category_missing_is_excluded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk of one record whose days' category is missing (the last chunk of a table one
    record longer than its chunks): excluded as numpy excludes it. The compiled pass once read
    its one category code as "every record's", and decided it by the last entry's days."""
    from conftest import write_csv

    write_csv(tmp_path, "cases", ["case_id", "provider", "kind", "flag", "start", "done",
                                  "other"],
              [["c1", "p1", "a", "true", "2024-04-02", "2024-04-03", None],
               ["c2", "p1", None, "true", "2024-04-02", "2024-04-03", None]])
    source = ('contract "jit" {\n  service start 2024-03-01\n  calendar england_and_wales\n'
              '  bases in_month, cumulative\n  group by provider\n}\n\n'
              'table cases "two records" {\n  case_id: id\n  provider: text?\n'
              '  kind: category(a, b, c)?\n  flag: bool?\n  start: date?\n  done: date?\n'
              '  other: date?\n}\n\nmeasure M "by kind" {\n  population cases\n'
              '  month of start\n'
              '  met when done within (by kind: a 3, otherwise 5) working days of start\n'
              '  target at least 90%\n}\n')
    numpy_only, compiled = _both_ways(source, tmp_path, "2024-05-31", 1, monkeypatch)
    assert compiled == numpy_only
    assert '"kind missing"' in numpy_only


def _dates(rng: np.random.Generator, n: int, first: str, days: int, missing: float
           ) -> list[str | None]:
    day = np.datetime64(first) + rng.integers(0, days, n)
    return [None if rng.random() < missing else str(d) for d in day]


@pytest.mark.parametrize("seed", range(8))
def test_within_days_and_backlog_measures_on_random_records_agree(
        seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NaT anchors and events, events before their anchors (and after the as-of date), records
    before the service start or with no month, out of scope, a missing category or one with no
    days given, one provider or many, open and closed backlogs: the compiled passes' JSON is
    the numpy path's."""
    from conftest import write_csv

    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 40, 900]))
    providers = ["p1"] if seed % 3 == 0 else [f"p{i}" for i in range(int(rng.integers(2, 60)))]
    start = _dates(rng, n, "2024-01-20", 300, 0.05)  # some before the 2024-03 service start
    done = [None if s is None or rng.random() < 0.3 else
            str(np.datetime64(s) + int(rng.integers(-3, 25))) for s in start]
    rows = [[f"c{i:05d}", rng.choice([*providers, None]) if rng.random() < 0.05 else
             rng.choice(providers), rng.choice(["a", "b", "c", None]),
             rng.choice(["true", "false", None]), start[i], done[i], other]
            for i, other in enumerate(_dates(rng, n, "2024-02-01", 320, 0.2))]
    write_csv(tmp_path, "cases", ["case_id", "provider", "kind", "flag", "start", "done",
                                  "other"], rows)
    as_of = str(np.datetime64("2024-06-01") + int(rng.integers(0, 120)))
    source = _window_contract(rng)
    for chunk_rows in (None, 7):
        numpy_only, compiled = _both_ways(source, tmp_path, as_of, chunk_rows, monkeypatch)
        assert compiled == numpy_only, chunk_rows


@pytest.mark.parametrize("seed", range(8))
def test_day_span_is_daySpan_of(seed: int) -> None:
    from pmir_dsl.calendar import DaySpan

    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 50, 3000]))
    days = (np.datetime64("2023-12-30") + rng.integers(-400, 900, n)).astype("datetime64[D]")
    days[rng.random(n) < [0.0, 0.1, 0.5, 1.0][seed % 4]] = np.datetime64("NaT")  # none to all
    want, got = DaySpan.of(days), DaySpan.of(days, compiled=True)
    assert (got.first, got.size) == (want.first, want.size)
    assert np.array_equal(got.at, want.at) and got.at.dtype == want.at.dtype
    assert np.array_equal(got.ok, want.ok)


# ---- 'within N days' verdicts counted in their own pass (records not wanted) ----------------

_NAT = kernels_eval.NAT_DAY


def _rate_inputs(rng: np.random.Generator, n: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Random inputs of ``rate_verdicts`` (its deadline table and the records' columns): NaT
    anchors (offset ``size``) and events, events before their anchors and after the as-of
    date, missing categories and one with no days given, out of scope, excluded before, and
    (some draws) a 'due when' measure's condition."""
    size, first, rows = int(rng.integers(1, 40)), 19800, int(rng.integers(1, 4))
    table = (first + np.arange(size)[None, :] + rng.integers(0, 9, (rows, 1))).astype(np.int64)
    table = np.concatenate([table, np.full((rows, 1), _NAT)], axis=1).reshape(-1)
    at = rng.integers(0, size + 1, n).astype(np.int32)  # size: the anchor is NaT
    by_cat = rng.integers(0, 2) == 1
    cat = rng.integers(-1, rows, n).astype(np.int32) if by_cat else None
    row = np.append(np.arange(rows), 0).astype(np.int64)  # -1 reads the last entry
    given = np.append(rng.random(rows) < 0.8, True)
    event = (first + rng.integers(-5, size + 15, n)).astype(np.int64)
    event[rng.random(n) < 0.3] = _NAT
    in_pop = rng.random(n) < 0.9 if rng.integers(0, 2) else None  # None: every record
    prior = rng.random(n) < 0.1 if rng.integers(0, 2) else None  # None: none excluded
    cond = rng.random(n) < 0.7 if rng.integers(0, 2) else None  # a 'due when' measure's
    return (at, table, size, cat, row, given, first), \
        (event, cond, in_pop, prior, first + int(rng.integers(0, size + 10)))


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("compiled", [True, False])
def test_rate_verdicts_counted_in_their_pass_are_count_cells_of_their_codes(
        seed: int, compiled: bool) -> None:
    """Without records (None) the pass writes no status, met or deadline, and its grid is what
    ``count_cells`` makes of the codes and placed months of the pass with records; the pass of
    the codes alone gives the same codes."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 9, 4000]))
    tables, records = _rate_inputs(rng, n)
    months, groups = int(rng.integers(1, 20)), int(rng.choice([1, 3, 200]))
    month = rng.integers(-1, months, n).astype(np.int64)  # -1: off the month axis
    base = (rng.integers(0, groups, n) * (months + 1) * 5).astype(np.int64) \
        if seed % 3 else np.zeros(1, np.int64)  # one group: one base for all
    fn = kernels_eval.rate_verdicts if compiled else kernels_eval.rate_verdicts.py_func
    full = [np.empty(n, np.int8), np.empty(n, np.bool_), np.empty(n, np.int64),
            np.empty(n, np.int8), np.zeros(5, np.int64)]
    fn(*tables, *records, *full, None, None, None)
    grid = np.zeros(groups * (months + 1) * 5, np.int64)
    kept = [None, None, None, np.empty(n, np.int8), np.zeros(5, np.int64)]
    fn(*tables, *records, *kept, month, base, grid)
    codes = [np.empty(n, np.int8), None, None, np.empty(n, np.int8), np.zeros(5, np.int64)]
    fn(*tables, *records, *codes, None, None, None)  # codes only: the evaluation's other pass
    in_pop = np.ones(n, np.bool_) if records[2] is None else records[2]
    placed = np.where(in_pop, month, -1)
    want = np.zeros_like(grid)
    kernels_eval.count_cells.py_func(placed, full[0], base, 5, want)
    assert np.array_equal(grid, want)
    assert np.array_equal(grid, _numpy_cells(placed, full[0], base if len(base) == n else 0,
                                             len(grid)))
    assert np.array_equal(kept[3], full[3]) and np.array_equal(kept[4], full[4])
    assert all(np.array_equal(codes[i], full[i]) for i in (0, 3, 4))


def test_the_evaluation_counts_the_within_days_measures_in_their_pass(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AtW's four 'within N working days' measures and KPI4 ('met when report_acceptable')
    are counted in their verdicts' pass (no per-record verdict codes), the others as before;
    the audit still gets every record."""
    from pmir_dsl import compile as compiled

    monkeypatch.chdir(repo)
    monkeypatch.setenv("PMIRC_JIT", "1")
    seen: dict[str, tuple[bool, int]] = {}
    verdicts = compiled.MeasurePlan.verdicts

    def spy(self: Any, b: Any, records: bool = True, cells: Any = None) -> Any:
        v = verdicts(self, b, records, cells)
        seen[self.measure.id] = (v.counted is not None, len(v.status))
        return v
    monkeypatch.setattr(compiled.MeasurePlan, "verdicts", spy)
    _json(*BUNDLED[0], None)
    assert {k for k, (counted, _) in seen.items() if counted} == {"KPI1", "KPI2", "KPI3", "KPI4",
                                                                   "KPI5"}
    assert seen["KPI1"][1] == seen["KPI4"][1] == 0  # no codes made where counted
    assert seen["OUTSTANDING"][1] > 0


@pytest.mark.parametrize("measure", ["KPI1", "KPI3", "KPI5", "KPI4", "OUTSTANDING"])
def test_the_audit_gives_the_same_records_with_and_without_the_loops(
        repo: Path, measure: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit asks for every record's fields (deadlines among them): the compiled pass
    writes them where the audit asks, as numpy does."""
    from pmir_dsl.audit import audit_rows

    monkeypatch.chdir(repo)
    plan = compile_file(BUNDLED[0][0])
    tables = load_tables(BUNDLED[0][1], plan.contract.used_tables())
    got = []
    for setting in ("0", "1"):
        monkeypatch.setenv("PMIRC_JIT", setting)
        got.append(audit_rows(evaluate(plan, tables, None, 173), measure, None, None, {}))
    assert got[1] == got[0]
    assert any(row[5] for row in got[0][1]) == measure.startswith(("KPI1", "KPI3", "KPI5"))


# ---- 'met when COND, due when EVENT is present or N days after ANCHOR' in the same pass ------


def _due_contract(rng: np.random.Generator, rule: str = "due") -> str:
    days = int(rng.integers(0, 30))
    kind = rng.choice(["working ", "calendar "])
    scope = rng.choice(["", " where flag is true"])
    decided = {"due": "  met when started is present\n"
                      f"  due when recorded is present or {days} {kind}days after referred\n",
               "condition": "  met when started is present\n", "count": "  count records\n"}
    return ('contract "due" {\n  service start 2024-03-01\n  calendar england_and_wales\n'
            '  bases in_month, cumulative\n  group by provider, provider and kind\n}\n\n'
            'table cases "random records" {\n  case_id: id\n  provider: text?\n'
            '  kind: category(a, b, c)?\n  flag: bool?\n  referred: date?\n  started: date?\n'
            '  recorded: date?\n}\n\n'
            f'measure R "started" {{\n  population cases{scope}\n  month of referred\n'
            + decided[rule] + ("  target at least 80%\n}\n" if rule != "count" else
                               "  target at least 3\n}\n"))


@pytest.mark.parametrize("seed", range(8))
def test_due_when_verdicts_in_the_rate_pass_as_numpy(seed: int, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A condition 'due when' (ESF's START_RATE) decided by ``rate_verdicts`` with its
    condition: NaT referrals and recordings, recordings before their referral, deadlines before
    and after the as-of date, records before the service start, out of scope, one provider or
    many: every verdict field (codes, months, deadlines, exclusions), the JSON and the counts
    counted in the pass as the numpy path's."""
    n, plan, tables, as_of = random_cases_plan(np.random.default_rng(seed), tmp_path,
                                               ["referred", "started", "recorded"],
                                               _due_contract)
    calls = []
    real = kernels_eval.rate_verdicts
    monkeypatch.setattr(kernels_eval, "rate_verdicts",
                        lambda *a: calls.append(a[8] is not None) or real(*a))
    found = first_verdicts_both_ways(plan, tables, as_of, monkeypatch)
    # taken with the condition for the batch, then the evaluation's chunks (900 records: two)
    assert calls == [True] * (3 if n == 900 else 2)
    assert found[1] == found[0]


@pytest.mark.parametrize("rule", ["condition", "count"])
@pytest.mark.parametrize("seed", range(6))
def test_condition_verdicts_counted_in_their_pass_as_numpy(
        rule: str, seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A measure met where its condition holds ('met when', 'count records'; ESF's
    STARTS_VS_PROFILE) counted by ``condition_cells`` in the evaluation (no verdict codes
    made): the JSON as the numpy path's, over records out of scope, with no referral date,
    before the service start, one provider or many, whole and in chunks."""
    n, plan, tables, as_of = random_cases_plan(np.random.default_rng(seed), tmp_path,
                                               ["referred", "started", "recorded"],
                                               lambda rng: _due_contract(rng, rule))
    calls = []
    real = kernels_eval.condition_cells
    monkeypatch.setattr(kernels_eval, "condition_cells",
                        lambda *a: calls.append(a[0] is not None) or real(*a))
    found = []
    for setting in ("0", "1"):
        monkeypatch.setenv("PMIRC_JIT", setting)
        found.append([json_report.render(evaluate(plan, tables, as_of, rows))
                      for rows in (None, 450)])
    assert calls == [rule == "condition"] * (3 if n == 900 else 2)
    assert found[1] == found[0]
