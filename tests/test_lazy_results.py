"""Result rows built as they are written (issue 12): the memory of writing a report grows with
the counts, not with the rows; and the lazy rows are the rows a list would hold."""

from __future__ import annotations

import csv
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

from pmir_dsl import pipeline
from pmir_dsl.evaluate import Results
from pmir_dsl.load import load_tables
from pmir_dsl.report import json as json_report

REPO = Path(__file__).resolve().parent.parent


def _spread(tmp: Path, groups: int) -> Path:
    """The AtW HA example data with its referrals spread over ``groups`` providers (repeated
    until every provider has at least one)."""
    out = tmp / f"atw{groups}"
    shutil.copytree(REPO / "examples" / "atw_ha", out)
    with open(out / "referrals.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    at = head.index("provider")
    with open(out / "referrals.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for i in range(max(groups, len(body))):
            r = list(body[i % len(body)])
            r[0], r[at] = f"R{i:08d}", f"P{i % groups:06d}"
            w.writerow(r)
    return out


def _evaluate(data: Path) -> pipeline.Evaluation:
    plan = pipeline.compile_file(REPO / "contracts" / "atw_ha.pmir")
    return pipeline.evaluate(plan, load_tables(data, plan.contract.used_tables()), "2024-05-31")


def _peak(work: Any) -> int:
    """Peak bytes Python allocates while ``work()`` runs (what was held before not counted)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        work()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _written(ev: pipeline.Evaluation) -> int:
    """Bytes of the JSON, written piece by piece to nowhere (as ``-o FILE`` writes them)."""
    return sum(len(p) for p in json_report.pieces(ev))


def test_writing_the_json_holds_the_counts_not_the_rows(tmp_path: Path) -> None:
    """2,000 and 20,000 small providers: writing the JSON of ten times the rows takes a few
    bytes more per extra row (the groups' keys in order), where holding the rows takes hundreds
    of bytes each, as the report did before its rows were built as written."""
    small, big = (_evaluate(_spread(tmp_path, n)) for n in (2_000, 20_000))
    rows = [len(ev.results) for ev in (small, big)]
    assert rows[1] > 9 * rows[0] > 9 * 5_000
    written = [_peak(lambda ev=ev: _written(ev)) for ev in (small, big)]
    per_row = (written[1] - written[0]) / (rows[1] - rows[0])
    held = _peak(lambda: list(big.results)) / rows[1]
    assert per_row < 60, (written, rows)
    assert held > 400 and held > 50 * per_row, (held, per_row)


def test_lazy_rows_are_the_listed_rows_sorted_and_filtered_before_they_are_built(
        tmp_path: Path) -> None:
    ev = _evaluate(_spread(tmp_path, 300))
    assert isinstance(ev.results, Results)
    rows = list(ev.results)
    assert len(ev.results) == len(rows) and ev.results == rows and ev.results[5] == rows[5]
    keys = [(r["measure"], len(r["group"]), sorted(r["group"].items()), r["period"], r["basis"])
            for r in rows]
    assert keys == sorted(keys) and len(set(map(repr, keys))) == len(keys)
    one = ev.results.only({"provider": "P000007"}, ["KPI1", "KPI3"])
    assert list(one) == [r for r in rows if r["group"] == {"provider": "P000007"}
                         and r["measure"] in ("KPI1", "KPI3")]
    assert len(one) == len(list(one)) > 0
    assert ev.results.group_values() == {"provider": {r["group"]["provider"] for r in rows
                                                      if r["group"]}}
