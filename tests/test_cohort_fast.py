"""Counts against cohorts read through a join in one compiled pass (kernels_esf.cohort_starts,
cohort_verdicts): the starts table packed once per evaluation, each record's start read by one
gather, and the same verdicts, cohorts, exclusions and JSON as the numpy path, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO, write_csv
from test_jit_esf import _counting as _counting_kernels

from pmir_dsl import compile as compile_mod
from pmir_dsl import kernels_esf, profiles, stream
from pmir_dsl.check import check_source
from pmir_dsl.compile import compile_contract
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import compile_file, evaluate, make_batch
from pmir_dsl.report import json as json_report

KERNELS = ("cohort_starts", "cohort_verdicts")
#: cohort_verdicts' last arguments where its verdicts are not counted in its pass.
NOT_COUNTED = (None, 0, None, None, None, None)
#: ESF with the columns its random data leaves empty optional.
ESF = (REPO / "contracts/esf.pmir").read_text().replace(
    "lep_area: text                      \"Local", "lep_area: text?                     \"Local"
).replace("category_of_region: text            \"Category of Region (CoR) within",
          "category_of_region: text?           \"Category of Region (CoR) within"
          ).replace("referral_id: ref(referrals)", "referral_id: ref(referrals)?"
                    ).replace("achieved_date: date\n", "achieved_date: date?\n")
NAT = np.iinfo(np.int64).min


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the calls of each kernel of this file (the compiled path taken, not only allowed)."""
    return _counting_kernels(monkeypatch, KERNELS)


@pytest.mark.parametrize("batch_rows", [97, 1000])
def test_streamed_esf_gives_the_same_json_with_the_cohort_pass(
        repo: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int) -> None:
    """``pmirc check --stream``: each batch of outcomes reads the starts packed from the whole
    referrals; the same JSON as the streamed run without the loops."""
    monkeypatch.chdir(repo)
    plan = compile_file("contracts/esf.pmir")
    found = {}
    for setting in ("0", "1"):
        monkeypatch.setenv("PMIRC_JIT", setting)
        calls = _counting(monkeypatch)
        opened = stream.open_tables("examples/esf", plan, stream.streamable(plan.contract),
                                    batch_rows)
        assert opened.streams
        found[setting] = json_report.render(stream.evaluate(plan, opened))
        assert bool(calls["cohort_verdicts"]) == (setting == "1")
    assert found["1"] == found["0"]


# ---- seeded random referrals and outcomes -------------------------------------------------------

LEPS = ["Leeds", "York", "Hull", "Derby", "Bath", "Wells"]
CORS = ["More Developed", "Transition", "Less Developed"]


def _day(base: str, offset: int) -> str:
    return str(np.datetime64(base) + offset)


def _esf_data(rng: np.random.Generator, tmp: Path, n: int, leps: list[str]) -> None:
    """Referrals with no start, starts before their referral, before the service start, after
    the as-of date and decades away; outcomes of unknown, empty or unstarted referrals,
    achieved before their start or empty; profiles for some LEP areas and CoRs only."""
    referrals, starts = [], []
    for i in range(n):
        referral = _day("2023-02-01", int(rng.integers(0, 500)))
        draw = rng.random()
        start = None if draw < 0.25 else _day(referral, int(rng.integers(-6, 0))) \
            if draw < 0.35 else _day(referral, int(rng.integers(3000, 9000))) if draw < 0.38 \
            else _day(referral, int(rng.integers(0, 40)))
        if i < 2:  # the first with no start, the second started after its outcomes below
            referral, start = "2023-07-01", None if i == 0 else "2023-08-01"
        starts.append(start)
        referrals.append([f"E{i:05d}", "P1", rng.choice([*leps, None]),
                          rng.choice([*CORS, None]), referral, start, None, referral])
    outcomes = []
    for _ in range(int(rng.integers(0, 3 * n + 2))):
        r = int(rng.integers(-3, n)) if n else -1
        base = starts[r] if r >= 0 and starts[r] is not None else "2023-06-01"
        achieved = None if rng.random() < 0.03 else _day(base, int(rng.integers(-20, 400)))
        who = f"E{r:05d}" if r >= 0 else (None if r == -1 else f"X{r}")
        outcomes.append([who, rng.choice(["short_job", "sustained_job"]), achieved])
    for outcome in ("short_job", "sustained_job"):  # unknown, empty, no start, before it
        outcomes += [["X1", outcome, "2023-07-03"], [None, outcome, "2023-07-04"],
                     ["E00000", outcome, "2023-07-05"], ["E00001", outcome, "2023-07-06"]]
    profiles = []
    for lep in leps:
        if rng.random() < 0.3:
            continue  # a LEP area with no profile: its starts in no cohort
        for cor in ["ALL", *CORS]:
            if cor != "ALL" and rng.random() < 0.3:
                continue
            for outcome in ("short_job", "sustained_job"):
                profiles += [[lep, cor, outcome, "0.3", 0, "0.25"],
                             [lep, cor, outcome, "0.3", 1, "0.75"]]
    write_csv(tmp, "referrals", ["referral_id", "provider", "lep_area", "category_of_region",
                                 "referral_date", "start_date", "dns_date", "recorded_date"],
              referrals)
    write_csv(tmp, "outcomes", ["referral_id", "outcome", "achieved_date"], outcomes)
    write_csv(tmp, "outcome_profiles", ["lep_area", "category_of_region", "outcome", "rate",
                                        "month", "share"], profiles)
    write_csv(tmp, "starts_profile", ["lep_area", "category_of_region", "month",
                                      "profiled_starts"], [["Leeds", "ALL", "2023-04", 3]])


def _source(rng: np.random.Generator) -> str:
    """ESF, or ESF without its 'start_date not before referral_date' (cohorts with no anchor)
    and with every outcome in the Short Job Outcomes' population (no scope)."""
    source = ESF
    if rng.random() < 0.5:
        source = source.replace("  start_date not before referral_date\n", "")
    if rng.random() < 0.5:
        source = source.replace("population outcomes where outcome is short_job",
                                "population outcomes")
    return source


def _verdicts(plan: Any, tables: Any, as_of: str) -> list[Any]:
    batch = make_batch(plan, tables, np.datetime64(as_of, "D"))
    found = []
    for mp in plan.measures:
        if mp.table == "outcomes":
            for records in (False, True):
                v = mp.verdicts(batch, records)
                found.append((v.status.tolist(), v.month.tolist(), v.cohort.tolist(),
                              [(name, mask.tolist()) for name, mask in v.exclusions]))
            found.append((v.deadline.tolist(), np.asarray(v.numerator).tolist(),
                          np.asarray(v.denominator).tolist()))  # the audit's fields
    return found


@pytest.mark.parametrize("seed", range(10))
def test_cohort_verdicts_as_numpy(seed: int, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Every verdict field of both outcome measures (codes, months, cohorts, exclusions in
    their order with their records, the audit's deadlines and amounts) and the JSON, whole
    and in chunks: as the numpy path's. No referrals, one, many; one LEP area or several."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 50, 400]))
    _esf_data(rng, tmp_path, n, LEPS[:1] if seed % 3 == 0 else LEPS)
    plan = compile_contract(check_source(_source(rng), "esf.pmir", tmp_path))
    tables = load_tables(tmp_path, plan.contract.used_tables())
    as_of = _day("2023-09-01", int(rng.integers(0, 300)))
    found = []
    for setting in ("0", "1"):
        monkeypatch.setenv("PMIRC_JIT", setting)
        calls = _counting(monkeypatch)
        found.append((_verdicts(plan, tables, as_of), json_report.render(
            evaluate(plan, tables, as_of, 150)), json_report.render(evaluate(plan, tables, as_of))))
        assert bool(calls["cohort_verdicts"]) == (setting == "1")
    assert found[1] == found[0]
    if n >= 50:  # the hand-made cases are there: the test can tell the readings apart
        exclusions = {name for v in found[0][0][::3] for name, _ in v[3]}
        assert {"no start_date in referrals", "achieved_date before start_date",
                "referral_id not found in referrals"} <= exclusions


def test_too_many_key_combinations_take_the_numpy_path(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Key columns with more combinations than a packed start holds: no pass, same figures."""
    rng = np.random.default_rng(5)
    _esf_data(rng, tmp_path, 300, LEPS)
    plan = compile_contract(check_source(ESF, "esf.pmir", tmp_path))
    tables = load_tables(tmp_path, plan.contract.used_tables())
    monkeypatch.setenv("PMIRC_JIT", "0")
    plain = _verdicts(plan, tables, "2024-03-31")
    monkeypatch.setenv("PMIRC_JIT", "1")
    monkeypatch.setattr(profiles, "KEY_TABLE", 4)
    calls = _counting(monkeypatch)
    assert _verdicts(plan, tables, "2024-03-31") == plain
    assert calls == {"cohort_starts": 0, "cohort_verdicts": 0}


# ---- the kernels against their numpy twins ------------------------------------------------------


def _packed_twin(start: np.ndarray, anchor: np.ndarray | None, key: np.ndarray
                 ) -> tuple[list[int], int, int]:
    """:func:`kernels_esf.cohort_starts` by numpy: (packed, first day, size)."""
    ok = start != NAT
    if anchor is not None:
        ok &= ~(start < anchor)
    if not ok.any():
        return [*(key.astype(np.int64) << 20).tolist(), 0], 0, 0
    lo, hi = int(start[ok].min()), int(start[ok].max())
    offset = np.where(ok, start - lo + 1, 0)
    return [*((key.astype(np.int64) << 20) | offset).tolist(), 0], lo, hi - lo + 1


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize(("n", "anchored", "wide"), [
    (0, True, False), (1, False, False), (1, True, False), (500, True, False),
    (501, False, False), (500, True, True), (20000, True, False)])
def test_cohort_starts_as_numpy(n: int, anchored: bool, wide: bool, compiled: bool) -> None:
    """NaT starts and anchors, starts before their anchor (no start), every start gone, a span
    too wide for the offsets' bits (-1: the numpy path then), key combinations of two columns
    or of one; the plain Python loop the same."""
    if not compiled and n > 501:
        return
    rng = np.random.default_rng(n + anchored + 2 * wide)
    start = rng.integers(19000, 19600, n)
    start[rng.random(n) < 0.2] = NAT
    if wide and n:
        start[0] = -1_100_000  # before year -1000: over 2**20 days before the rest
    anchor = np.where(rng.random(n) < 0.1, NAT, start + rng.integers(-30, 5, n)) if anchored \
        else None
    if wide and anchored and n:
        anchor[0] = NAT
    outer, inner = (rng.integers(-1, 63, n).astype(np.int32) for _ in range(2))
    key = (outer + 1) * 64 + inner + 1  # two key columns of 63 values (-1: missing)
    if n % 2:  # one key column, or a code made by numpy: outer + 1
        inner = None
        key = outer + 1
    packed = np.empty(n + 1, np.uint32)
    loop = kernels_esf.cohort_starts if compiled else kernels_esf.cohort_starts.py_func
    first, size = loop(start, anchor, outer, inner, 64, packed)
    twin, lo, width = _packed_twin(start, anchor, key)
    if wide and n:
        assert size == -1 and width > (1 << 20)
        return
    assert (int(first), int(size)) == (lo, width)
    assert packed.tolist() == twin


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("fresh", [False, True])
@pytest.mark.parametrize(("n", "everyone"), [(0, True), (1, False), (300, False), (300, True),
                                             (30000, False)])
def test_cohort_verdicts_as_numpy_twin(n: int, everyone: bool, fresh: bool,
                                       compiled: bool) -> None:
    """Against the numpy steps of MeasurePlan._cohort and the verdict codes: records outside
    the population, excluded before, not joined (the last packed entry), starts lost (no
    profile), cohorts before the service start, NaT events, events before their start, the
    same start read by several records. ``everyone`` in the population and, ``fresh``, none
    excluded before and every reference joined: those masks passed as None."""
    if not compiled and n > 300:
        return
    rng = np.random.default_rng(n + everyone)
    size, first, rows = 400, 19000, max(n // 3, 1)
    day = np.where(rng.random(rows) < 0.2, NAT, first + rng.integers(0, size, rows))
    key = rng.integers(0, 12, rows)
    packed = np.append(np.where(day == NAT, 0, day - first + 1).astype(np.uint32) |
                       (key << 20).astype(np.uint32), np.uint32(0))
    join = rng.integers(-1, rows, n)  # -1: not joined, the last entry (no start) read
    day, key = np.append(day, NAT)[join], np.append(key, 0)[join]
    months = np.arange(first, first + size).astype("datetime64[D]").astype("datetime64[M]")
    cohorts = np.concatenate([[-1], np.maximum(months.astype(np.int64) - 629, -1)])
    lost = rng.random(12) < 0.3
    event = np.where(rng.random(n) < 0.05, NAT, first + rng.integers(-20, size + 20, n))
    in_pop = np.ones(n, bool) if everyone else rng.random(n) < 0.7
    prior = in_pop & (rng.random(n) < 0.1) & (not fresh)
    unjoined = prior & (rng.random(n) < 0.5)
    masks = (None if everyone else in_pop, None if fresh else prior, None if fresh else unjoined)
    month_idx = rng.integers(-1, 12, n)
    out = [np.empty(n, np.int64), np.empty(n, np.int8), np.zeros(3, np.int64),
           np.empty(n, np.int8), np.empty(n, np.int64)]
    loop = kernels_esf.cohort_verdicts if compiled else kernels_esf.cohort_verdicts.py_func
    gathered = np.empty(n, np.uint32)
    loop(join, packed, gathered, first, cohorts, lost, event,
         *masks,
         month_idx, *out, *NOT_COUNTED)
    cohort, reason, hits, status, month = out
    again = [np.empty(n, np.int64), np.empty(n, np.int8), np.zeros(3, np.int64),
             np.empty(n, np.int8), np.empty(n, np.int64)]  # a second measure: starts read
    loop(None, packed, gathered.copy(), first, cohorts, lost, event,
         *masks,
         month_idx, *again, *NOT_COUNTED)
    assert all(a.tolist() == b.tolist() for a, b in zip(again, out))
    # the numpy path: the start (NaT: none), its month's cohort, the exclusions in order
    start = np.where(day == NAT, NAT, day).view("datetime64[D]")
    want = np.where((day == NAT) | lost[key], -1,
                    start.astype("datetime64[M]").astype(np.int64) - 629)
    assert cohort.tolist() == np.where(want < 0, -1, want).tolist()
    fresh = in_pop & ~prior
    no_start = fresh & (day == NAT)
    before = fresh & ~no_start & (event.view("datetime64[D]") < start)
    assert (reason == 1).tolist() == no_start.tolist()
    assert (reason == 2).tolist() == before.tolist()
    assert hits.tolist() == [n - no_start.sum() - before.sum(), no_start.sum(), before.sum()]
    codes = np.where(~in_pop, 4, np.where(prior | no_start | before, 3, 0))
    assert status.tolist() == codes.tolist()
    assert month.tolist() == np.where(in_pop & ~unjoined, month_idx, -1).tolist()
    # counted in the pass (the evaluation's): no codes written, the cells code_cells counts
    space, months = 7, 12
    code = rng.integers(-1, space - 1, n).astype(np.int32)
    counted = [np.zeros(space, np.bool_), np.zeros((space * months, kernels_esf.C_WIDTH),
                                                   np.int64),
               np.zeros(space * months * months, np.int64), np.zeros(5, np.int64)]
    kept = [np.empty(n, np.int8), np.zeros(3, np.int64)]
    loop(join, packed, np.empty(n, np.uint32), first, cohorts, lost, event, *masks, month_idx,
         None, kept[0], kept[1], None, None, code, months, *counted)
    assert kept[0].tolist() == reason.tolist() and kept[1].tolist() == hits.tolist()
    want = [np.zeros_like(a) for a in counted[:3]]
    kernels_esf.code_cells.py_func(code, None, 0, month >= 0, month, status, months, None,
                                   None, None, None, cohort, *want)
    assert all(a.tolist() == b.tolist() for a, b in zip(counted, want))
    assert counted[3].tolist() == np.bincount(status, minlength=5).tolist()


# ---- the join the cohorts are read through ------------------------------------------------------


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("kind", ["every", "unknown", "nulls", "short"])
def test_sorted_join_of_references_read_in_place_as_arrow(kind: str, compiled: bool) -> None:
    """References all of the ids' length and given (read in place, their rows written as
    found), some unknown (-1), some empty or of another length: the rows Arrow's hash finds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(len(kind))
    ids = pa.array([f"E{i:08d}" for i in range(1, 3001)], pa.string())
    drawn = rng.integers(1, 3200 if kind != "every" else 3001, 5000)  # beyond 3000: unknown
    refs = [f"E{d:08d}" for d in drawn]
    if kind == "nulls":
        refs[::7] = [None] * len(refs[::7])
    if kind == "short":
        refs[::5] = [r[:-1] for r in refs[::5]]
    array = pa.array(refs, pa.string()).slice(3)  # an offset into the buffers
    want = pc.fill_null(pc.index_in(array, value_set=ids), -1).to_pylist()
    found = compile_mod._sorted_join(array, ids, compiled)
    assert found is not None and found.tolist() == want
    assert (min(want) == -1) == (kind != "every")


REGRESSIONS = sorted((REPO / "tests" / "regressions").glob("cohort_*"))


@pytest.mark.parametrize("case", REGRESSIONS, ids=[c.name for c in REGRESSIONS])
def test_cohort_regression_cases_give_the_same_json_with_the_loops(
        case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-made cohort cases kept from the differential tests (outcomes without a start,
    profiles missing at one level, group by a bool, ...): the same JSON with the loops."""
    import json

    as_of = json.loads((case / "case.json").read_text())["as_of"]
    plan = compile_file(case / "contract.pmir")
    tables = load_tables(case / "data", plan.contract.used_tables())
    found = {}
    for setting in ("0", "1"):
        monkeypatch.setenv("PMIRC_JIT", setting)
        calls = _counting(monkeypatch)
        found[setting] = json_report.render(evaluate(plan, tables, as_of, 3))
    assert calls["cohort_verdicts"]
    assert found["1"] == found["0"]
