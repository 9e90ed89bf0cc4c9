"""Every group level of a table's measures counted once, over the table's finest group code
(pmir_dsl/evaluate.py, "the finest group code of a table's measures"): the same figures as
counting each level by itself, byte for byte."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_jit_esf import _finest_taken, _json

from pmir_dsl import compile as compile_mod
from pmir_dsl import evaluate as evaluate_mod
from pmir_dsl import profiles, stream
from pmir_dsl.check import check_source
from pmir_dsl.compile import Batch, compile_contract
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import evaluate
from pmir_dsl.report import json as json_report
from pmir_dsl.schema import Column, ColumnSpec, ColumnType


def _gathered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the columns gathered through a reference (compile.gather), as they are."""
    names: list[str] = []
    real = compile_mod.gather

    def spy(col: Column, rows: np.ndarray) -> Column:
        names.append(col.spec.name)
        return real(col, rows)
    monkeypatch.setattr(compile_mod, "gather", spy)
    return names


# ---- the bundled contracts, both ways ---------------------------------------------------------


def test_esf_outcomes_read_their_key_columns_through_one_gather_of_the_finest_code(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In chunks, the outcomes' provider, LEP area and CoR are read through the referral as one
    code per record (the referrals' finest code, made once), never gathered column by column;
    without the loops they are gathered as before."""
    monkeypatch.setenv("PMIRC_JIT", "1")
    gathered = _gathered(monkeypatch)
    made = []
    real = evaluate_mod.referenced_code

    def spy(mp: Any, b: Batch) -> np.ndarray:
        made.append(mp.measure.id)
        return real(mp, b)
    monkeypatch.setattr(evaluate_mod, "referenced_code", spy)
    _json(repo, "esf", "esf", 700)
    assert made  # the outcome measures took it
    assert not {"provider", "lep_area", "category_of_region"} & set(gathered), gathered
    gathered.clear()
    monkeypatch.setenv("PMIRC_JIT", "0")
    _json(repo, "esf", "esf", 700)
    assert {"provider", "lep_area", "category_of_region"} <= set(gathered)


@pytest.mark.parametrize("limit", ["DENSE_CELLS", "FINEST_CELLS"])
def test_a_finest_space_too_large_to_hold_counts_each_level_by_itself(
        repo: Path, monkeypatch: pytest.MonkeyPatch, limit: str) -> None:
    """Where the finest code's grid is over the dense limit, or over one cell per record of
    the chunk (the floor made small: 700 rows, ESF's finest grid about 1,600 cells), each level
    is counted by itself as before, with the same JSON."""
    monkeypatch.setenv("PMIRC_JIT", "0")
    plain = _json(repo, "esf", "esf", 700)
    monkeypatch.setenv("PMIRC_JIT", "1")
    monkeypatch.setattr(evaluate_mod, limit, 60)  # under ESF's finest grid
    monkeypatch.setattr(evaluate_mod, "JIT_DENSE_CELLS", 60 if limit == "DENSE_CELLS" else
                        evaluate_mod.JIT_DENSE_CELLS)
    taken = _finest_taken(monkeypatch)
    assert _json(repo, "esf", "esf", 700) == plain
    assert not taken


# ---- random records over levels in every order, joined and own key columns --------------------

_CONTRACT = '''contract "finest" {
  service start 2024-03-01
  calendar england_and_wales
  bases in_month, cumulative
  group by provider
}

table people "random people" {
  person_id: id
  provider: text?
  area: text?
  kind: category(a, b, c)?
  flag: bool?
  start: date?
  done: date?
}

table visits "visits: every key column read through the person" {
  person_id: ref(people)?
  happened: date?
}

table calls "calls: key columns of their own and through the person" {
  person_id: ref(people)
  channel: category(phone, web)?
  happened: date?
}

measure RATE "done within 10 working days" {
  population people%(scope)s
  month of start
  met when done within 10 working days of start
  target at least 90%%
  group by provider, area and provider, kind and flag and area
}

measure PRESENT "done at all" {
  population people
  month of start
  met when done is present
  target at least 50%%
  group by flag and kind, area
}

measure BACKLOG "open" {
  population people
  month of start
  share in backlog until done
  target below 50%%
  group by kind and area, flag
}

measure BREACH "open over 5 working days" {
  population people%(scope)s
  month of start
  count breaches of backlog until done for over 5 working days
  target at most 0
  group by area and kind
}

measure VISITS "visits" {
  population visits
  month of happened
  count records
  target at least 1
  group by area and provider, kind, provider and area
}

measure CALLS "calls" {
  population calls
  month of happened
  count records
  target at least 1
  group by channel and area, area
}
'''


def _dates(rng: np.random.Generator, n: int, first: str, days: int, missing: float
           ) -> list[str | None]:
    day = np.datetime64(first) + rng.integers(0, days, n)
    return [None if rng.random() < missing else str(d) for d in day]


def _records(rng: np.random.Generator, folder: Path, seed: int) -> None:
    """People with missing keys, NaT starts and dones, starts before the service start (off the
    month axis), one provider or many; visits and calls whose reference is empty or unknown."""
    from conftest import write_csv

    n = int(rng.choice([1, 60, 700]))
    providers = ["p1"] if seed % 3 == 0 else [f"p{i}" for i in range(int(rng.integers(2, 40)))]
    areas = [f"area {i}" for i in range(int(rng.integers(1, 9)))]
    start = _dates(rng, n, "2024-01-20", 300, 0.05)
    done = [None if s is None or rng.random() < 0.3 else
            str(np.datetime64(s) + int(rng.integers(-3, 25))) for s in start]
    people = [[f"x{i:05d}", None if rng.random() < 0.05 else rng.choice(providers),
               None if rng.random() < 0.05 else rng.choice(areas),
               rng.choice(["a", "b", "c", None]), rng.choice(["true", "false", None]),
               start[i], done[i]] for i in range(n)]
    write_csv(folder, "people", ["person_id", "provider", "area", "kind", "flag", "start",
                                 "done"], people)
    for name, own in (("visits", []), ("calls", ["channel"])):
        m = int(rng.choice([0, 5, 900])) if name == "visits" else int(rng.choice([1, 500]))
        ids = [f"x{int(i):05d}" for i in rng.integers(0, n + 3, m)]  # some not found
        if name == "visits":
            ids = [None if rng.random() < 0.05 else i for i in ids]
        happened = _dates(rng, m, "2024-01-01", 330, 0.05)
        rows = [[ids[i], *([rng.choice(["phone", "web", None])] if own else []), happened[i]]
                for i in range(m)]
        write_csv(folder, name, ["person_id", *own, "happened"], rows)


@pytest.mark.parametrize("seed", range(8))
def test_levels_in_any_order_from_the_finest_code_on_random_records(
        seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Levels of one to three key columns in another order than the finest code's (summed and
    transposed), joined key columns (one gather of the finest code) and joined with own ones,
    plain, backlog, breach and counted measures, in or out of scope: the compiled path's JSON
    is the numpy path's, whole and in chunks."""
    rng = np.random.default_rng(seed)
    _records(rng, tmp_path, seed)
    source = _CONTRACT % {"scope": rng.choice(["", " where flag is true"])}
    as_of = str(np.datetime64("2024-06-01") + int(rng.integers(0, 120)))
    plan = compile_contract(check_source(source, "finest.pmir", tmp_path))
    tables = load_tables(tmp_path, plan.contract.used_tables())
    monkeypatch.setenv("PMIRC_JIT", "0")
    plain = json_report.render(evaluate(plan, tables, as_of))
    monkeypatch.setenv("PMIRC_JIT", "1")
    taken = _finest_taken(monkeypatch)
    for chunk_rows in (None, 7, 150):
        assert json_report.render(evaluate(plan, tables, as_of, chunk_rows)) == plain, chunk_rows
    assert {"RATE", "PRESENT", "BACKLOG", "BREACH", "VISITS", "CALLS"} <= set(taken)


@pytest.mark.parametrize("seed", [2, 10])  # 900 visits and 500 calls: many batches
def test_streamed_random_records_give_the_same_json_over_the_finest_code(
        seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pmirc check --stream``: the streamed tables (the visits and calls; people is looked up)
    in batches of 50 rows, each batch's levels from its finest code (joined key columns
    gathered column by column: a batch shares no whole-table results), as the numpy path."""
    rng = np.random.default_rng(seed)
    _records(rng, tmp_path, seed)
    plan = compile_contract(check_source(_CONTRACT % {"scope": ""}, "finest.pmir", tmp_path))
    monkeypatch.setenv("PMIRC_JIT", "0")
    plain = json_report.render(evaluate(plan, load_tables(tmp_path, plan.contract.used_tables()),
                                        "2024-09-30"))
    monkeypatch.setenv("PMIRC_JIT", "1")
    taken = _finest_taken(monkeypatch)
    opened = stream.open_tables(tmp_path, plan, stream.streamable(plan.contract), 50)
    assert set(opened.streams) == {"visits", "calls"}
    assert json_report.render(stream.evaluate(plan, opened, "2024-09-30")) == plain
    assert {"VISITS", "CALLS"} <= set(taken)


def test_the_finest_keys_are_every_level_column_once_in_first_named_order(
        tmp_path: Path) -> None:
    _records(np.random.default_rng(1), tmp_path, 1)
    plan = compile_contract(check_source(_CONTRACT % {"scope": ""}, "finest.pmir", tmp_path))
    finest = {mp.measure.id: [(s.via, s.name) for s in mp.finest] for mp in plan.measures}
    people = [(None, "provider"), (None, "area"), (None, "kind"), (None, "flag")]
    assert finest["RATE"] == finest["BREACH"] == people
    assert finest["VISITS"] == [("person_id", "area"), ("person_id", "provider"),
                                ("person_id", "kind")]
    assert finest["CALLS"] == [(None, "channel"), ("person_id", "area")]


# ---- the pieces, against counting each level by itself -----------------------------------------


def _text(rng: np.random.Generator, n: int, values: int, name: str, kind: ColumnType
          ) -> Column:
    """A key column of ``values`` values (codes -1 .. values - 1, -1 missing)."""
    spec = ColumnSpec(name, kind, True, tuple(f"{name}{i}" for i in range(values))
                      if kind is ColumnType.CATEGORY else ())
    codes = rng.integers(-1, values, n).astype(np.int8 if kind is ColumnType.BOOL else np.int32)
    names = tuple(f"{name}{i}" for i in range(values)) if kind is ColumnType.TEXT else ()
    return Column(spec, codes, None, names)


def _columns(rng: np.random.Generator, n: int) -> list[Column]:
    return [_text(rng, n, int(rng.integers(1, 6)), "t", ColumnType.TEXT),
            _text(rng, n, 2, "f", ColumnType.BOOL),
            _text(rng, n, 3, "c", ColumnType.CATEGORY)]


def _level_codes(cols: list[Column]) -> np.ndarray:
    """Each record's code of a level as :func:`evaluate._group_base` numbers them."""
    code = np.zeros(len(cols[0].values) if cols else 0, dtype=np.int64)
    for col in cols:
        code = code * evaluate_mod._cardinality(col) + (col.values.astype(np.int64) + 1)
    return code


@pytest.mark.parametrize(("seed", "n"), [(0, 0), (1, 1), (2, 50), (3, 4000), (4, 4000)])
def test_the_finest_code_is_the_group_code_of_its_columns(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    cols = _columns(rng, n)
    for k in range(1, 4):
        for picked in itertools.permutations(cols, k):
            expected = _level_codes(list(picked)).tolist()
            code = profiles.radix_codes(list(picked), n, np.int32)  # a chunk's finest code
            assert code.dtype == np.int32 and code.tolist() == expected
            narrow = profiles.code_type(profiles._space(list(picked)))  # the referenced one
            code = profiles.radix_codes(list(picked), n, narrow)
            assert code.dtype == narrow and code.tolist() == expected


@pytest.mark.parametrize(("seed", "n"), [(0, 0), (1, 1), (2, 50), (3, 4000), (4, 4000)])
def test_a_level_grid_reduced_from_the_finest_is_the_level_counted_by_itself(
        seed: int, n: int) -> None:
    """Sums, minima and ors over the finest code's [space, months] grid, reduced to every
    level of the columns in every order (and none: the whole contract), equal the level's own
    grid counted from its own codes."""
    rng = np.random.default_rng(seed)
    cols = _columns(rng, n)
    cards = [evaluate_mod._cardinality(c) for c in cols]
    months = int(rng.integers(1, 5))
    month = rng.integers(0, months, n)
    date = rng.integers(0, 10**5, n)
    space = int(np.prod(cards))
    fine = _level_codes(cols) * months + month
    counts = np.bincount(fine, minlength=space * months).reshape(space, months)
    oldest = np.full(space * months, np.iinfo(np.int64).max)
    np.minimum.at(oldest, fine, date)
    oldest = oldest.reshape(space, months)
    for k in range(4):
        for picks in itertools.permutations(range(3), k):
            level = [cols[p] for p in picks]
            size = int(np.prod([cards[p] for p in picks]))
            own = _level_codes(level) * months + month if level else month
            want = np.bincount(own, minlength=size * months).reshape(size, months)
            got = evaluate_mod._level_grid(counts, cards, list(picks), np.add)
            assert got.tolist() == want.tolist(), picks
            least = np.full(size * months, np.iinfo(np.int64).max)
            np.minimum.at(least, own, date)
            assert evaluate_mod._level_grid(oldest, cards, list(picks), np.minimum).tolist() \
                == least.reshape(size, months).tolist(), picks
            seen = evaluate_mod._level_grid(counts.any(axis=1), cards, list(picks),
                                            np.logical_or)
            assert seen.tolist() == want.any(axis=1).tolist(), picks
