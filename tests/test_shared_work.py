"""Work over whole tables is done once per evaluation, not once per chunk (issue 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pmir_dsl import compile as compile_mod
from pmir_dsl.compile import Shared
from pmir_dsl.pipeline import run_check

ROOT = Path(__file__).resolve().parent.parent


def test_shared_computes_each_key_once() -> None:
    shared, made = Shared(), []
    for key in ("a", "b", "a", "a"):
        shared.get(key, lambda key=key: made.append(key) or len(made))
    assert made == ["a", "b"]
    assert shared.get("a", lambda: 99) == 1


def test_chunks_join_into_the_whole_referenced_table_once(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """ESF's outcomes refer to its referrals: 7-row chunks hash the referral ids no more often
    than one whole batch does, and give the same figures."""
    sizes: list[int] = []
    real = compile_mod.join_ids

    def counting(refs, ids, *compiled):  # type: ignore[no-untyped-def]
        sizes.append(len(ids))
        return real(refs, ids, *compiled)
    monkeypatch.setattr(compile_mod, "join_ids", counting)
    contract, data = ROOT / "contracts" / "esf.pmir", ROOT / "examples" / "esf"
    whole = run_check(contract, data)
    referrals = whole.tables["referrals"].rows
    assert referrals > 7 * 2  # several chunks
    assert sizes.count(referrals) == 1
    sizes.clear()
    chunked = run_check(contract, data, chunk_rows=7)
    assert sizes.count(referrals) == 1  # was once per chunk: hundreds of times
    assert chunked.results == whole.results


def _hashed(refs: pa.Array, ids: pa.Array) -> list[int]:
    return pc.fill_null(pc.index_in(refs, value_set=ids), -1).to_pylist()


@pytest.mark.parametrize(("ids", "refs", "searched"), [
    # ascending ids of one length, one prefix: binary search (nulls, other lengths, unknown ids,
    # another prefix among the references all -1)
    (["E01", "E02", "E10", "E99"], ["E10", None, "E1", "E011", "E05", "F01", "E99", "E01"], True),
    (["REF-00000001", "REF-00000002", "REF-10000000"], ["REF-10000000", "REF-00000002",
                                                       "REF-00000003", "XEF-00000001"], True),
    (["A0000000", "A9999999", "B0000000"], ["B0000000", "A9999999", "A0000000", "A000000"], True),
    (["x"], ["x", "y", ""], True),
    # hashed by Arrow: not ascending; lengths differ; more than 8 bytes after the prefix; null id
    (["E02", "E01", "E10"], ["E01", "E10", "E03"], False),
    (["E1", "E02", "E10"], ["E1", "E02"], False),
    (["A000000000", "B000000000"], ["B000000000", "A000000000"], False),
])
def test_join_ids_finds_the_rows_arrow_finds(ids: list[str], refs: list[str | None],
                                             searched: bool) -> None:
    """Every reference's row among the ids (-1: null or unknown), by binary search where the
    ids allow it, the same as Arrow's hash lookup; sliced arrays (an offset) too."""
    a, r = pa.array(ids, pa.string()), pa.array(refs, pa.string())
    assert (compile_mod._sorted_join(r, a) is not None) == searched
    assert compile_mod.join_ids(r, a).tolist() == _hashed(r, a)
    wide, rs = pa.array(["Z", *ids, "Z"], pa.string()).slice(1, len(ids)), \
        pa.array(["?", *refs], pa.string()).slice(1)
    assert compile_mod.join_ids(rs, wide).tolist() == _hashed(rs, wide)
    chunked = pa.chunked_array([r[:1], r[1:]])  # not one array: hashed
    assert compile_mod._sorted_join(chunked, a) is None
    assert compile_mod.join_ids(chunked, a).tolist() == _hashed(r, a)


def test_join_ids_of_many_random_references() -> None:
    """A million sorted ids, references drawn at random (known, unknown, null): as Arrow."""
    rng = np.random.default_rng(5)
    ids = pa.array([f"E{i:08d}" for i in range(0, 2_000_000, 2)], pa.string())
    drawn = rng.integers(-5, 2_000_010, 200_000)
    refs = pa.array([None if d < 0 else f"E{d:08d}" for d in drawn], pa.string())
    assert compile_mod._sorted_join(refs, ids) is not None
    assert compile_mod.join_ids(refs, ids).tolist() == _hashed(refs, ids)
