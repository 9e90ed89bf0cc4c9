"""The compiled loops of the measures that are not plain (pmir_dsl/kernels_esf.py, issue 12):
the same figures as the numpy path, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pmir_dsl import compile as compile_mod
from pmir_dsl import evaluate as evaluate_mod
from pmir_dsl import kernels_esf, stream
from pmir_dsl.cells import Cells
from pmir_dsl.compile import EXCLUDED, FAILED, MET, OUTSIDE, PENDING, Verdicts
from pmir_dsl.kernels_eval import NAT_DAY
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import compile_file, evaluate
from pmir_dsl.report import json as json_report
from pmir_dsl.schema import Column, ColumnSpec, ColumnType

BUNDLED = [("atw_ha", "atw_ha"), ("atw_ha_mmir", "atw_ha"), ("esf", "esf"), ("ipes", "ipes"),
           ("ses", "ses"), ("work_programme", "work_programme")]
KERNELS = ("group_slots", "level_cells", "triangle_counts", "dense_positions", "code_cells",
           "breach_verdicts", "start_cells", "cohort_starts", "cohort_verdicts")


def _counting(monkeypatch: pytest.MonkeyPatch, kernels: tuple[str, ...] = KERNELS
              ) -> dict[str, int]:
    """Count the calls of each kernel (the compiled path taken, not only allowed)."""
    calls = dict.fromkeys(kernels, 0)
    for name in kernels:
        real = getattr(kernels_esf, name)

        def counted(*args: Any, _real: Any = real, _name: str = name) -> Any:
            calls[_name] += 1
            return _real(*args)
        monkeypatch.setattr(kernels_esf, name, counted)
    return calls


def _finest_taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The measures (ids) whose counts were summed from their table's finest code."""
    taken: list[str] = []
    real = evaluate_mod._levels_of

    def spy(mp: Any, cols: Any, grids: Any) -> Any:
        taken.append(mp.measure.id)
        return real(mp, cols, grids)
    monkeypatch.setattr(evaluate_mod, "_levels_of", spy)
    return taken


def _json(repo: Path, contract: str, data: str, chunk_rows: int | None) -> str:
    plan = compile_file(repo / "contracts" / f"{contract}.pmir")
    tables = load_tables(repo / "examples" / data, plan.contract.used_tables())
    return json_report.render(evaluate(plan, tables, chunk_rows=chunk_rows))


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_bundled_contracts_give_the_same_json_with_and_without_the_loops(
        repo: Path, monkeypatch: pytest.MonkeyPatch, contract: str, data: str) -> None:
    """Whole and in chunks of 700 rows (several, on threads): byte-identical JSON."""
    monkeypatch.setenv("PMIRC_JIT", "0")
    plain = _json(repo, contract, data, None)
    assert _json(repo, contract, data, 700) == plain
    monkeypatch.setenv("PMIRC_JIT", "1")
    calls = _counting(monkeypatch)
    finest = _finest_taken(monkeypatch)
    assert _json(repo, contract, data, None) == plain
    assert _json(repo, contract, data, 700) == plain
    if contract == "esf":  # every ESF measure's levels summed from its table's finest code
        assert set(finest) == {mp.measure.id for mp in compile_file(
            repo / "contracts" / "esf.pmir").measures}
    # records counted against cohorts of another table: the starts packed once per evaluation
    through_join = contract in ("esf", "ipes", "ses", "work_programme")
    assert bool(calls["cohort_verdicts"]) == through_join
    assert calls["cohort_starts"] == (2 if through_join else 0)
    if contract == "work_programme":  # count ratios
        assert calls["code_cells"]
    if contract in ("esf", "ipes"):  # counts against cohorts, a breach count: in their pass
        assert not calls["code_cells"] and calls["cohort_verdicts"]
    if contract in ("esf", "ipes", "ses", "work_programme"):  # profiles' starts by one pass
        assert calls["start_cells"]
    if contract == "esf":  # every level counted by its codes, cohort triangles with them
        assert not calls["group_slots"] and not calls["triangle_counts"]
    if contract in ("ipes", "work_programme"):  # oldest dates, extra sums, three-column levels
        assert calls["group_slots"] and calls["level_cells"]


def test_streamed_esf_gives_the_same_json_with_the_loops(repo: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PMIRC_JIT", "0")
    plan = compile_file("contracts/esf.pmir")
    plain = json_report.render(evaluate(plan, load_tables("examples/esf",
                                                          plan.contract.used_tables())))
    monkeypatch.setenv("PMIRC_JIT", "1")
    calls = _counting(monkeypatch)
    opened = stream.open_tables("examples/esf", plan, stream.streamable(plan.contract), 97)
    assert opened.streams
    assert json_report.render(stream.evaluate(plan, opened)) == plain
    assert calls["cohort_verdicts"] and calls["breach_verdicts"]  # the loops counted them


# ---- each kernel against the numpy path, on seeded random records -------------------------------


def _fields(c: Cells) -> tuple[Any, ...]:
    """Everything a Cells holds, comparable with ==: labels, shape, tail, fill, and each
    array's dtype and values."""
    return (c.labels, c.shape, c.tail, c.fill, c.cell.dtype, c.cell.tolist(), c.values.dtype,
            c.values.tolist())


def _verdicts(rng: np.random.Generator, n: int, groups: int, months: int, kind: str
              ) -> tuple[Verdicts, np.ndarray]:
    """Random verdicts of ``n`` records: NaT-like -1 months, records off the axis and outside
    the population (no month), out-of-scope records (slot -1), cohorts after the month."""
    status = rng.choice(np.array([MET, FAILED, PENDING, EXCLUDED, OUTSIDE], np.int8), n)
    month = rng.integers(-1, months, n)
    month[status == OUTSIDE] = -1
    slot = rng.integers(-1, groups, n) if groups else np.full(n, -1, np.int64)
    amounts = rng.integers(0, 10**6, n), rng.integers(1, 10**6, n)
    extra: dict[str, Any] = {}
    if kind == "backlog":
        first = np.where(month >= 0, month + rng.integers(0, 2, n), -1)
        first = np.where(first < months, first, -1)
        end = np.where(first >= 0, first + rng.integers(1, 4, n), -1)
        extra["backlog"] = (first, np.where(end < months, end, -1))
    if kind == "count_ratio":
        extra["second"] = np.where(rng.random(n) < 0.3, -1, rng.integers(0, months, n))
    if kind == "profile":
        extra["cohort"] = rng.integers(-1, months, n)
    v = Verdicts(status, month, np.full(n, np.datetime64("NaT"), "datetime64[D]"),
                 amounts[0], amounts[1], (), **extra)
    return v, slot


SHAPES = [(0, 0, 5), (1, 1, 1), (200, 1, 12), (5000, 3, 30), (5000, 400, 7), (20000, 50, 84)]


@pytest.mark.parametrize("kind", ["rate", "ratio", "average", "backlog_breach", "backlog",
                                  "count_ratio", "profile"])
@pytest.mark.parametrize(("n", "groups", "months"), SHAPES)
def test_level_counts_compiled_as_numpy(kind: str, n: int, groups: int, months: int) -> None:
    rng = np.random.default_rng(n + groups + months)
    v, slot = _verdicts(rng, n, groups, months, kind)
    labels = [(f"g{i}",) for i in range(groups)]
    measure_kind = "backlog_breach" if kind == "backlog" else kind
    compiled = evaluate_mod._level_counts(measure_kind, v, slot, labels, months, True)
    assert compiled.cell.dtype == np.int64
    assert _fields(compiled) == _fields(evaluate_mod._level_counts(measure_kind, v, slot,
                                                                   labels, months))


@pytest.mark.parametrize(("n", "groups", "months"), SHAPES)
def test_triangle_compiled_as_numpy(n: int, groups: int, months: int) -> None:
    rng = np.random.default_rng(7 * n + groups)
    v, slot = _verdicts(rng, n, groups, months, "profile")
    labels = [(i,) for i in range(groups)]
    compiled = evaluate_mod._triangle(v, slot, labels, months, True)
    assert compiled.cell.dtype == np.int64
    assert _fields(compiled) == _fields(evaluate_mod._triangle(v, slot, labels, months))


def _text(rng: np.random.Generator, n: int, values: int, name: str) -> Column:
    """A text column of ``values`` names, about one record in ten missing (-1)."""
    codes = rng.integers(-1, values, n).astype(np.int32) if values else np.full(n, -1, np.int32)
    return Column(ColumnSpec(name, ColumnType.TEXT, True), codes,
                  dictionary=tuple(f"{name}{i}" for i in range(values)))


def _numpy_slots(cols: list[Column], placed: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Each placed record's group slot by numpy (its code's rank among the placed records'
    codes; -1 elsewhere) and the groups' values, as the path without the loops finds them."""
    code = np.zeros(len(placed), np.int64)
    for col in cols:
        code = code * (len(col.dictionary) + 1) + col.values.astype(np.int64) + 1
    present = np.unique(code[placed])
    slot = np.where(placed, np.searchsorted(present, code), -1)
    return slot, evaluate_mod._decode(present, cols)


@pytest.mark.parametrize("kind", ["rate", "ratio", "backlog_breach", "backlog", "count_ratio",
                                  "profile"])
@pytest.mark.parametrize(("n", "groups", "months"), SHAPES)
def test_code_cells_count_each_level_as_numpy(kind: str, n: int, groups: int,
                                              months: int) -> None:
    """A level of one or two key columns counted by group code in one pass, the whole
    contract's summed from it and the first column's from the two columns': the counts and
    triangles of the numpy path over the groups' slots. Missing keys, records not placed, off the axis or outside the population,
    a level with one group (0 or 1 names: missing or one value) and many."""
    rng = np.random.default_rng(3 * n + groups + months)
    v, _ = _verdicts(rng, n, 1, months, kind)
    placed = v.month >= 0
    if v.second is not None:
        placed = placed | (v.second >= 0)
    measure_kind = "backlog_breach" if kind == "backlog" else kind
    outer = _text(rng, n, groups, "lep")
    for cols in ([outer], [outer, _text(rng, n, 3, "cor")]):
        space = int(np.prod([len(c.dictionary) + 1 for c in cols]))
        found = evaluate_mod._code_cells(measure_kind, v, cols, space, months, placed)
        derived = [(cols, found), ([], evaluate_mod._summed(found, months))]
        if len(cols) == 2:  # the first column's level from the two columns'
            derived.append(([outer], evaluate_mod._coarser(found, len(outer.dictionary) + 1)))
        for level, got in derived:
            counts, triangle = evaluate_mod._coded_counts(measure_kind, v, got, level, months)
            slot, labels = _numpy_slots(level, placed)
            assert _fields(counts) == _fields(evaluate_mod._level_counts(
                measure_kind, v, slot, labels, months))
            if kind == "profile":
                assert triangle is not None
                assert _fields(triangle) == _fields(evaluate_mod._triangle(v, slot, labels,
                                                                           months))
            else:
                assert triangle is None


@pytest.mark.parametrize(("n", "space"), [(0, 1), (1, 1), (1000, 1), (1000, 7), (50000, 5000),
                                          (3000, 100000)])
def test_group_slots_rank_the_placed_codes(n: int, space: int) -> None:
    """A placed record's slot is its code's rank among the placed records' codes; -1 others."""
    rng = np.random.default_rng(n + space)
    code = rng.integers(0, space, n)
    placed = rng.random(n) < 0.8
    lookup, slot = np.full(space, -1, np.int64), np.empty(n, np.int64)
    groups = kernels_esf.group_slots(code, placed, lookup, slot)
    present = np.unique(code[placed])
    assert groups == len(present)
    assert np.array_equal(np.flatnonzero(lookup >= 0), present)
    expected = np.where(placed, np.searchsorted(present, code), -1)
    assert np.array_equal(slot, expected)
    py_lookup, py_slot = np.full(space, -1, np.int64), np.empty(n, np.int64)
    if n <= 1000:  # the plain Python loop gives the same
        kernels_esf.group_slots.py_func(code, placed, py_lookup, py_slot)
        assert np.array_equal(py_slot, slot) and np.array_equal(py_lookup, lookup)


# ---- the join of references into ids numbered in sequence ---------------------------------------


def _hashed(refs: pa.Array, ids: pa.Array) -> list[int]:
    return pc.fill_null(pc.index_in(refs, value_set=ids), -1).to_pylist()


def _ids(step: int, letters: bool) -> list[str]:
    if letters:  # not digits: ranged by their bytes, too wide
        return [f"K{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(0, 600 * step, step)]
    return [f"R{i:09d}" for i in range(50, 50 + 3000 * step, step)]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize(("step", "letters", "dense"), [
    (1, False, True), (3, False, True), (5, False, False), (1000, False, False),
    (1, True, False)])
def test_join_by_a_table_over_the_ids_range_as_by_search(
        step: int, letters: bool, dense: bool, compiled: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids numbered every ``step``: a lookup table over their numbers' range where it is at
    most 4 times their number, binary search otherwise; both as Arrow's hash, for references
    below, inside and beyond the range, unknown, null, of another length, not digits."""
    rng = np.random.default_rng(step)
    known = _ids(step, letters)
    ids = pa.array(known, pa.string())
    drawn = rng.integers(-10, 3 * len(known), 5000)
    odd = ["R7", "R00000a050", "R0000000:0", "R/00000050", "S000000050", "KAB", "K@A",
           "R000000049", "R000000000", "R099999999", "KAA"]  # below the first, beyond
    refs = pa.array([None if d < 0 else odd[d % len(odd)] if d < 20 else
                     known[d] if d < len(known) else known[d % len(known)][:-1] + "9"
                     for d in drawn], pa.string())
    real, used = compile_mod._dense_positions, []
    monkeypatch.setattr(compile_mod, "_dense_positions",
                        lambda *args: used.append(real(*args) is not None) or real(*args))
    found = compile_mod._sorted_join(refs, ids, compiled)
    assert used == [dense]
    assert found is not None and found.tolist() == _hashed(refs, ids)
    assert (found >= 0).sum() > 1000
    monkeypatch.setattr(compile_mod, "_dense_positions", lambda *args: None)
    assert compile_mod._sorted_join(refs, ids, compiled).tolist() == found.tolist()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("compiled", [False, True])
def test_ids_in_sequence_joined_block_by_block_as_arrow(
        seed: int, compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids numbered one after another (digits after a prefix, a suffix of a few bytes, or no
    prefix) joined in blocks of 1, 3, 7 and the default rows: the rows Arrow's hash finds,
    for references unknown, null, empty, of another width or prefix, not digits, just below
    and beyond the range; ids that only look in sequence from their first and last (a gap,
    one out of order, one not digits, another width) left to the other joins, which find
    the same rows."""
    rng = np.random.default_rng(seed)
    base = int(rng.integers(0, 10**6))
    n = int(rng.integers(2, 400))
    sets = {"digits": [f"E{base + i:08d}" for i in range(n)],
            "bytes": [f"K{chr(40 + i)}" for i in range(min(n, 80))],  # '(' onwards
            "bare": [f"{base + i:07d}" for i in range(n)]}
    broken = list(sets["digits"])
    j = int(rng.integers(1, n))
    broken[j - 1], broken[j] = broken[j], broken[j - 1]  # out of order: still the same ends
    sets["swapped"] = broken
    sets["not digits"] = [*sets["digits"][:-2], f"E{base:07d}X", sets["digits"][-1]]
    sets["wider"] = [*sets["digits"][:-2], f"E{base + n - 2:09d}", sets["digits"][-1]]
    sets["gap"] = [*sets["digits"][:-2], f"E{base + n + 5:08d}", f"E{base + n + 6:08d}"]
    called = []
    real = compile_mod._consecutive_join
    monkeypatch.setattr(compile_mod, "_consecutive_join",
                        lambda *a: called.append(real(*a) is not None) or real(*a))
    for name, known in sets.items():
        if len(set(known)) != len(known):
            continue
        odd = [None, "", f"E{base - 1:08d}", f"E{base + n:08d}", f"F{base:08d}", "E0000001",
               f"E{base:07d}X", known[-1][:-1] + "/", known[0][:-1] + ":", "ZZZZZZZZZ",
               "K'", "K\x7f", "KA", "A"]  # '/' and ':': the bytes either side of the digits
        refs = pa.array([odd[d % len(odd)] if d < 0 else known[d]
                         for d in rng.integers(-len(odd), len(known), 300)], pa.string())
        ids = pa.array(known, pa.string())
        for block in (1, 3, 7, 1 << 20):
            monkeypatch.setattr(compile_mod, "JOIN_BLOCK", block)
            called.clear()
            assert compile_mod.join_ids(refs, ids, compiled).tolist() == _hashed(refs, ids)
            assert called == [name in ("digits", "bytes", "bare")], name


@pytest.mark.parametrize("compiled", [False, True])
def test_no_reference_of_the_ids_width_finds_nothing(compiled: bool) -> None:
    """No references, or none of the ids' width (null, empty, shorter): every row -1, for ids
    in sequence and ids with gaps (the suffix keys of no rows were an error)."""
    for known in ([f"E{i:08d}" for i in range(5)], [f"E{2 * i:08d}" for i in range(5)]):
        ids = pa.array(known, pa.string())
        for refs in ([], [None, "", "E1"]):
            found = compile_mod.join_ids(pa.array(refs, pa.string()), ids, compiled)
            assert found.tolist() == [-1] * len(refs)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("width", [1, 3, 8])
def test_decimal_keys_read_the_digits_and_refuse_other_bytes(width: int, compiled: bool) -> None:
    rng = np.random.default_rng(width)
    texts = ["".join(rng.choice(list("0123456789"), width)) for _ in range(500)]
    texts += ["".join(rng.choice(list("0123456789/:a \xff"), width)) for _ in range(500)]
    keys = np.array([int.from_bytes(t.encode("latin-1"), "big") for t in texts], np.uint64)
    values, every = compile_mod._decimal(keys, width, compiled)
    digits = [t.isdigit() and t.isascii() for t in texts]
    assert not every and compile_mod._decimal(keys[:500], width, compiled)[1]
    assert values.tolist() == [int(t) if d else 2**64 - 1 for t, d in zip(texts, digits)]


def test_a_run_without_the_loops_never_imports_numba(repo: Path) -> None:
    """kernels_esf is imported with evaluate and compile; numba only by a loop's first call."""
    code = ("import sys; from pmir_dsl.pipeline import run_check; "
            "run_check('contracts/esf.pmir', 'examples/esf'); print('numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "PMIRC_JIT": "0",
                               "PYTHONPATH": str(repo)}, check=True)
    assert done.stdout.strip() == "False"


# ---- a backlog breach count's verdicts in one pass ------------------------------------------------


def _breach_contract(rng: np.random.Generator) -> str:
    days = int(rng.integers(1, 30))
    kind = rng.choice(["working ", "calendar "])
    scope = rng.choice(["", " where flag is true"])
    return ('contract "jit" {\n  service start 2024-03-01\n  calendar england_and_wales\n'
            '  bases in_month, cumulative\n  group by provider, provider and kind\n}\n\n'
            'table cases "random records" {\n  case_id: id\n  provider: text?\n'
            '  kind: category(a, b, c)?\n  flag: bool?\n  start: date?\n  done: date?\n'
            + ("  done not before start\n" if rng.integers(0, 2) else "") + "}\n\n"
            f'measure B "breaches" {{\n  population cases{scope}\n  month of start\n'
            f"  count breaches of backlog until done for over {days} {kind}days\n"
            "  target at most 0\n}\n")


@pytest.mark.parametrize("seed", range(8))
def test_breach_verdicts_as_numpy(seed: int, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """NaT anchors and untils, untils before their anchors (and after the as-of date),
    records before the service start or after the as-of date, out of scope, limits ending
    before and after the as-of date, working or calendar days, one provider or many: every
    verdict field (codes, months, deadlines, exclusions) and the JSON as the numpy path's."""
    from conftest import first_verdicts_both_ways, random_cases_plan

    n, plan, tables, as_of = random_cases_plan(np.random.default_rng(seed), tmp_path,
                                               ["start", "done"], _breach_contract)
    calls = _counting(monkeypatch, ("breach_verdicts",))
    found = first_verdicts_both_ways(plan, tables, as_of, monkeypatch)
    # the loop reads tables over the span of the dates: taken where that is no longer than
    # the batch (330 days of dates: the 900 records whole and in two chunks)
    assert calls["breach_verdicts"] == (3 if n == 900 else 0)
    assert found[1] == found[0]


@pytest.mark.parametrize("seed", range(6))
def test_start_cells_count_the_starts_as_numpy(seed: int) -> None:
    """The cohort table's starts per (key values, cohort month) as profiles' numpy passes count
    them (``_started`` then ``_start_cells``): NaT starts and anchors, starts before their
    anchor, after the as-of date, before the service start month and far off the axis, keys
    with no value, one key column or three, an empty table."""
    from pmir_dsl import profiles

    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 500, 5000]))
    start = np.datetime64("2023-01-01") + rng.integers(-40000, 40000, n) \
        if seed % 2 else np.datetime64("2023-01-01") + rng.integers(0, 900, n)
    start[rng.random(n) < 0.1] = np.datetime64("NaT")
    anchor = start - rng.integers(-5, 30, n)
    anchor[rng.random(n) < 0.1] = np.datetime64("NaT")
    cols = [_text(rng, n, int(rng.integers(1, 9)), f"k{j}")
            for j in range(1 if seed % 3 == 0 else 3)]
    first = int(np.datetime64("2023-04", "M").astype(np.int64))
    size, as_of = 30, np.datetime64("2025-06-15")
    cohort = start.astype("datetime64[M]").astype(np.int64) - first
    cohort[np.isnat(start)] = compile_mod.NO_MONTH
    started = (cohort >= 0) & (cohort < size) & (start <= as_of) & ~(start < anchor)
    expected = profiles._start_cells(cols, cohort, started, size)
    counts = np.zeros(profiles._space(cols) * size, dtype=np.int64)
    kernels_esf.start_cells(start.view(np.int64), anchor.view(np.int64),
                            tuple(np.ascontiguousarray(c.values, np.int32) for c in cols),
                            np.array([len(c.dictionary) + 1 for c in cols]),
                            int(as_of.astype(np.int64)), *profiles.axis_days(first, size), size,
                            counts)
    present = np.flatnonzero(counts)
    assert present.tolist() == expected[0].tolist()
    assert counts[present].tolist() == expected[1].tolist()
    assert int(counts.sum()) == int(started.sum())
    # without an anchor every start on the axis by the as-of date counts
    counts[:] = 0
    kernels_esf.start_cells(start.view(np.int64), None,
                            tuple(np.ascontiguousarray(c.values, np.int32) for c in cols),
                            np.array([len(c.dictionary) + 1 for c in cols]),
                            int(as_of.astype(np.int64)), *profiles.axis_days(first, size), size,
                            counts)
    assert int(counts.sum()) == int(((cohort >= 0) & (cohort < size) & (start <= as_of)).sum())


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("n", [0, 1, 50, 5000])
def test_breach_verdicts_counted_in_their_pass_as_code_cells(n: int, compiled: bool) -> None:
    """The evaluation's breach pass (no status or months written): every record's verdict
    code counted, and the placed ones' cells over their group codes as ``code_cells`` counts
    the codes and months the audit's pass writes."""
    rng = np.random.default_rng(n)
    size, first, months, space = 60, 19800, 9, 6
    anchor = np.where(rng.random(n) < 0.1, NAT_DAY, first + rng.integers(0, size, n))
    until = np.where(rng.random(n) < 0.3, NAT_DAY, anchor + rng.integers(-3, 40, n))
    until[anchor == NAT_DAY] = NAT_DAY
    at = np.where(anchor == NAT_DAY, size, anchor - first).astype(np.int32)
    limits = np.append(first + np.arange(size) + 20, NAT_DAY).astype(np.int64)
    limit_month = np.append(rng.integers(0, months, size), -1).astype(np.int32)
    month = rng.integers(-1, months, n).astype(np.int32)
    in_pop = rng.random(n) < 0.9 if n % 2 else None
    prior = rng.random(n) < 0.1 if n > 1 else None
    code = rng.integers(-1, space, n).astype(np.int32)
    loop = kernels_esf.breach_verdicts if compiled else kernels_esf.breach_verdicts.py_func
    args = (month, until.astype(np.int64), anchor.astype(np.int64), at, limits, limit_month,
            in_pop, prior, first + 30)
    status, placed = np.empty(n, np.int8), np.empty(n, np.int32)
    before = np.empty(n, np.bool_)
    found = loop(*args, status, placed, None, before, None, 0, None, None, None)
    seen, dense = np.zeros(space + 1, np.bool_), np.zeros(((space + 1) * months, 9), np.int64)
    totals, again = np.zeros(5, np.int64), np.empty(n, np.bool_)
    assert loop(*args, None, None, None, again, code, months, seen, dense, totals) == found
    assert again.tolist() == before.tolist()
    assert totals.tolist() == np.bincount(status, minlength=5).tolist()
    want = [np.zeros_like(seen), np.zeros_like(dense), np.zeros(0, np.int64)]
    kernels_esf.code_cells.py_func(code, None, 0, placed >= 0, placed, status, months, None,
                                   None, None, None, None, *want)
    assert seen.tolist() == want[0].tolist() and dense.tolist() == want[1].tolist()
    assert dense.sum() == (placed >= 0).sum() > (0 if n > 1 else -1)
