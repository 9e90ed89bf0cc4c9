"""The Parquet fast paths of loading give what the general paths give.

Text and category columns are parsed by their distinct values (Parquet dictionaries), and ids
are checked for repeats by sorting 64-bit keys; these tests pin that the columns and the problems
are those of the string paths (CSV, or Parquet strings that are not dictionary-encoded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pmir_dsl.errors import DataError
from pmir_dsl.load import _maybe_repeats, load_table
from pmir_dsl.schema import ColumnSpec, ColumnType, TableSpec

SPEC = TableSpec("t", (ColumnSpec("id", ColumnType.ID),
                       ColumnSpec("who", ColumnType.TEXT, nullable=True),
                       ColumnSpec("kind", ColumnType.CATEGORY, nullable=True,
                                  categories=("a", "b", "c"))))


def _write(folder: Path, rows: dict[str, list], dictionary: bool, parts: int = 1) -> None:  # type: ignore[type-arg]
    table = pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})
    if parts == 1:
        pq.write_table(table, folder / "t.parquet", use_dictionary=dictionary)
        return
    (folder / "t").mkdir()
    step = -(-table.num_rows // parts)
    for i in range(parts):
        pq.write_table(table.slice(i * step, step), folder / "t" / f"part-{i}.parquet",
                       use_dictionary=dictionary)


def _load(folder: Path):  # type: ignore[no-untyped-def]
    try:
        return load_table(folder, SPEC), None
    except DataError as e:
        return None, [(p.column, p.message, p.rows, p.values, p.count) for p in e.problems]


@pytest.mark.parametrize("parts", [1, 3])
def test_dictionary_columns_equal_string_columns(tmp_path: Path, parts: int) -> None:
    rows = {"id": [f"r{i:03d}" for i in range(30)],
            "who": [["Zed", "amy", None, "Bob"][i % 4] if i < 20 else "late" for i in range(30)],
            "kind": [["c", "a", None][i % 3] for i in range(30)]}
    loaded = {}
    for dictionary in (True, False):
        folder = tmp_path / str(dictionary)
        folder.mkdir()
        _write(folder, rows, dictionary, parts)
        loaded[dictionary], problems = _load(folder)
        assert problems is None
    fast, slow = loaded[True].columns, loaded[False].columns
    assert fast["who"].dictionary == slow["who"].dictionary == ("Bob", "Zed", "amy", "late")
    np.testing.assert_array_equal(fast["who"].values, slow["who"].values)
    np.testing.assert_array_equal(fast["kind"].values, slow["kind"].values)
    assert fast["kind"].values.dtype == slow["kind"].values.dtype == np.int32


def test_dictionary_category_problems_equal_string_problems(tmp_path: Path) -> None:
    rows = {"id": ["1", "2", "3", "4"], "who": ["x", "y", "x", None],
            "kind": ["a", "B", "zz", "B"]}
    found = []
    for dictionary in (True, False):
        folder = tmp_path / str(dictionary)
        folder.mkdir()
        _write(folder, rows, dictionary)
        found.append(_load(folder)[1])
    assert found[0] == found[1]
    assert found[0][0][2] == (2, 3, 4)  # rows of the unknown values, counted from 1


def test_repeated_ids_are_found_by_the_fast_check(tmp_path: Path) -> None:
    rows = {"id": [f"R{i:07d}" for i in range(1000)] + ["R0000007"], "who": ["a"] * 1001,
            "kind": ["a"] * 1001}
    _write(tmp_path, rows, True)
    _, problems = _load(tmp_path)
    assert problems is not None and "duplicate ids: 1 id appears" in problems[0][1]
    assert problems[0][2] == (8, 1001)


@pytest.mark.parametrize("ids, maybe", [
    (["a1", "a2", "a3"], False),                       # one width <= 8: exact keys
    (["a1", "a2", "a1"], True),
    ([f"participant-{i:020d}" for i in range(50)], False),  # 32 bytes: hashed words
    ([f"participant-{i:020d}" for i in [1, 2, 1]], True),
    (["a", "bb", "a"], True),                          # lengths differ: the exact check decides
    (["x" * 40, "y" * 40], True),                      # longer than 32 bytes: likewise
])
def test_maybe_repeats(ids: list[str], maybe: bool) -> None:
    assert _maybe_repeats(pa.array(ids, pa.string())) is maybe
    sliced = pa.array(["zz", *ids], pa.string()).slice(1)  # an offset into the buffers
    assert _maybe_repeats(sliced) is maybe
