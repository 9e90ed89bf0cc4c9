"""Work over whole tables is done once per evaluation, not once per chunk (issue 12)."""

from __future__ import annotations

from pathlib import Path

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
    real = pc.index_in

    def counting(values, value_set, **kw):  # type: ignore[no-untyped-def]
        sizes.append(len(value_set))
        return real(values, value_set=value_set, **kw)
    monkeypatch.setattr(compile_mod.pc, "index_in", counting)
    contract, data = ROOT / "contracts" / "esf.pmir", ROOT / "examples" / "esf"
    whole = run_check(contract, data)
    referrals = whole.tables["referrals"].rows
    assert referrals > 7 * 2  # several chunks
    assert sizes.count(referrals) == 1
    sizes.clear()
    chunked = run_check(contract, data, chunk_rows=7)
    assert sizes.count(referrals) == 1  # was once per chunk: hundreds of times
    assert chunked.results == whole.results
