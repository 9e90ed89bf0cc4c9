"""Shared test helpers: write small CSV tables and evaluate contract text over them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from pmir_dsl.check import check_source
from pmir_dsl.compile import compile_contract
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import Evaluation, evaluate

REPO = Path(__file__).resolve().parent.parent


def write_csv(folder: Path, name: str, header: list[str], rows: list[list[Any]]) -> Path:
    """Write ``folder/name.csv`` with ``header`` and ``rows`` (None is an empty cell)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def write_random_cases(rng: Any, folder: Path, dates: list[str]) -> int:
    """Write ``folder/cases.csv``: 1, 40 or 900 random records of ``case_id``, ``provider``
    (one provider or many, some missing), ``kind`` (a, b, c or missing), ``flag`` (true, false
    or missing) and the date columns ``dates``: the first 2024-01-20 onwards (5% missing), each
    other 3 days before to 60 days after it (30% missing). Returns the number of records."""
    import numpy as np

    n = int(rng.choice([1, 40, 900]))
    providers = ["p1"] if rng.integers(0, 3) == 0 else \
        [f"p{i}" for i in range(int(rng.integers(2, 60)))]
    first = [None if rng.random() < 0.05 else str(d)
             for d in np.datetime64("2024-01-20") + rng.integers(0, 330, n)]
    later = [[None if s is None or rng.random() < 0.3 else
              str(np.datetime64(s) + int(rng.integers(-3, 60))) for s in first]
             for _ in dates[1:]]
    rows = [[f"c{i:05d}", rng.choice([*providers, None]), rng.choice(["a", "b", "c", None]),
             rng.choice(["true", "false", None]), first[i], *(d[i] for d in later)]
            for i in range(n)]
    write_csv(folder, "cases", ["case_id", "provider", "kind", "flag", *dates], rows)
    return n


def random_cases_plan(rng: Any, folder: Path, dates: list[str], source: Any
                      ) -> tuple[int, Any, dict[str, Any], str]:
    """(records, plan, tables, as-of date) of :func:`write_random_cases` in ``folder`` under
    the contract ``source(rng)`` writes, as of a day from 2024-06-01 to 2024-09-28."""
    import numpy as np

    n = write_random_cases(rng, folder, dates)
    as_of = str(np.datetime64("2024-06-01") + int(rng.integers(0, 120)))
    plan = compile_contract(check_source(source(rng), "random.pmir", folder))
    return n, plan, load_tables(folder, plan.contract.used_tables()), as_of


def first_verdicts_both_ways(plan: Any, tables: dict[str, Any], as_of: str,
                             monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The first measure's every verdict field over the whole table, and the JSON of the
    evaluation in chunks of 450 rows, without the compiled loops and with them."""
    import numpy as np

    from pmir_dsl.pipeline import make_batch
    from pmir_dsl.report import json as json_report

    found = []
    for setting in ("0", "1"):
        monkeypatch.setenv("PMIRC_JIT", setting)
        v = plan.measures[0].verdicts(make_batch(plan, tables, np.datetime64(as_of, "D")))
        found.append((v.status.tolist(), v.month.tolist(), v.deadline.tolist(),
                      v.numerator.tolist(), [(name, mask.tolist()) for name, mask in v.exclusions],
                      json_report.render(evaluate(plan, tables, as_of, 450))))
    return found


def run_source(source: str, data_dir: Path, as_of: str | None = None,
               chunk_rows: int | None = None) -> Evaluation:
    """Check, compile, load and evaluate contract ``source`` over ``data_dir``."""
    plan = compile_contract(check_source(source, "test.pmir", data_dir))
    tables = load_tables(data_dir, plan.contract.used_tables())
    return evaluate(plan, tables, as_of, chunk_rows)


def pick(ev: Evaluation, measure: str, period: str, basis: str = "in_month",
         group: dict[str, str] | None = None) -> dict[str, Any]:
    """The one result row for (measure, group, period, basis)."""
    found = [r for r in ev.results if r["measure"] == measure and r["period"] == period
             and r["basis"] == basis and r["group"] == (group or {})]
    assert len(found) == 1, f"{len(found)} results for {measure} {group} {period} {basis}"
    return found[0]


@pytest.fixture
def repo() -> Path:
    """The repository root."""
    return REPO


# ---- synthetic data generators ------------------------------------------------------------------


def assert_generator_deterministic(generate: Any, rows: int, tmp: Path, tables: list[str]) -> None:
    """Same arguments: equal tables and byte-identical CSV; another seed: other ``tables``."""
    from pmir_dsl.synth import write_tables

    first, second = generate(rows, seed=4), generate(rows, seed=4)
    assert list(first) == list(second)
    for name, table in first.items():
        assert second[name].equals(table), name
    for a, b in zip(write_tables(generate(rows, seed=9), tmp / "a"),
                    write_tables(generate(rows, seed=9), tmp / "b")):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = generate(rows, seed=2)
    for name in tables:
        assert not first[name].equals(other[name]), name


def assert_example_is_generated(generate: Any, rows: int, example: Path, tmp: Path,
                                command: str) -> None:
    """The committed example is exactly a fresh generation, and its README says how."""
    from pmir_dsl.synth import write_tables

    fresh = write_tables(generate(rows, seed=1), tmp)
    assert sorted(p.name for p in example.glob("*.csv")) == sorted(p.name for p in fresh)
    for path in fresh:
        assert (example / path.name).read_bytes() == path.read_bytes(), path.name
    assert command in (example / "README.md").read_text(encoding="utf-8")


def dates(table: Any, column: str) -> Any:
    """A column of a generated (pyarrow) table as ``datetime64[D]``, NaT for null."""
    return table[column].to_numpy(zero_copy_only=False).astype("datetime64[D]")


def all_dates(tables: dict[str, Any]) -> Any:
    """Every non-null date in a generated data set."""
    import numpy as np
    import pyarrow as pa

    found = [dates(t, c) for t in tables.values() for c in t.column_names
             if t.schema.field(c).type == pa.date32()]
    values = np.concatenate(found)
    return values[~np.isnat(values)]


def england_and_wales(first_year: int, last_year: int) -> Any:
    """England and Wales working days from the ``holidays`` package, built independently of
    the generators and of pmirc's calendar."""
    import holidays
    import numpy as np

    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.busdaycalendar(holidays=np.array(sorted(days), dtype="datetime64[D]"))


def texts(table: Any, column: str) -> Any:
    """A string column of a generated table as a numpy array of str (null as '')."""
    import numpy as np

    return np.array(table[column].fill_null("").to_pylist(), dtype=str)


def row_numbers(ids: Any) -> Any:
    """Row index of each ``X0000001``-style id (0 for the first)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(pc.utf8_slice_codeunits(ids, 1), pa.int64()).to_numpy() - 1
