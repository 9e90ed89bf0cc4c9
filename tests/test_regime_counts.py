"""The regimes read their monthly verdicts from the merged counts (no result row built), and a
filtered run builds only the selected groups' escalations and money rows: the filtered output
is exactly the filter of the unfiltered one."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pmir_dsl import evaluate, pipeline, regimes
from pmir_dsl.evaluate import LazyRows, Results, month_label
from pmir_dsl.report import filters
from pmir_dsl.report import json as json_report

REPO = Path(__file__).resolve().parent.parent
CONTRACTS = ("ipes", "work_programme", "esf", "atw_ha")


@cache
def _evaluation(name: str) -> pipeline.Evaluation:
    return pipeline.run_check(REPO / f"contracts/{name}.pmir", REPO / f"examples/{name}")


def _filters(ev: pipeline.Evaluation) -> list[dict[str, str]]:
    """A --provider filter for the first and last provider, and a --group filter for each other
    key's first value (and the two together where a provider has that value)."""
    values = {k: sorted(v) for k, v in ev.results.group_values().items()}
    out = [{"provider": values["provider"][0]}, {"provider": values["provider"][-1]}]
    for key, have in sorted(values.items()):
        if key != "provider":
            out += [{key: have[0]}, {key: have[0], "provider": values["provider"][0]}]
    return out


@pytest.mark.parametrize("name", CONTRACTS)
def test_a_filtered_json_is_the_filter_of_the_unfiltered_one(name: str) -> None:
    ev = _evaluation(name)
    whole = json.loads(json_report.render(ev))
    for wanted in _filters(ev):
        for measures in (None, [ev.plan.measures[0].measure.id]):
            text = "".join(json_report.pieces(ev, wanted, measures))
            assert json.loads(text) == filters.filter_json(whole, wanted, measures), wanted
            packed = filters.narrow(ev, wanted, measures)  # what the packs show
            for key in filters.EVALUATION_LISTS:
                assert list(getattr(packed, key)) == [
                    r for r in getattr(ev, key) if filters.keep_row(r, wanted, measures)], key
            assert filters.failed(ev.results, wanted, measures) == any(
                r["met"] is False for r in filters.filter_json(whole, wanted, measures)["results"])


@pytest.mark.parametrize("name", CONTRACTS)
def test_verdicts_from_the_counts_are_the_rows_met(name: str) -> None:
    """Every measure, basis and group level: the verdict decided from the counts is the ``met``
    of the row built from them, month by month (profiles, looked-up targets, bands, minimum
    denominators and information bases alike)."""
    ev = _evaluation(name)
    rows = list(ev.results)
    index = {month_label(ev.axis.first_month + i): i for i in range(ev.axis.size)}
    levels = {tuple(r["group"]) for r in rows}
    wanted = {(mp.measure.id, b): (mp.measure.id, b) for mp in ev.plan.measures
              for b in mp.measure.bases}
    checked = 0
    for keys in levels:
        groups, has, decide = ev.results.verdicts(keys, wanted)
        found = {g: decide(g) for g in groups}
        assert len(set(groups)) == len(groups) and all(map(has, groups))
        expected: dict[tuple[Any, ...], dict[tuple[str, str], list[bool | None]]] = {}
        for r in rows:
            if tuple(r["group"]) == keys and r["period"] in index:
                g = tuple(r["group"][k] for k in keys)
                months = expected.setdefault(g, {}).setdefault((r["measure"], r["basis"]),
                                                               [None] * ev.axis.size)
                months[index[r["period"]]] = r["met"]
                checked += r["met"] is not None
        assert found == expected, keys
    assert checked > 0


@pytest.mark.parametrize("name", CONTRACTS)
def test_regimes_and_remedies_from_counts_are_those_from_rows(name: str) -> None:
    """The regime's levels and the remedies' pence from the counts equal those the same
    functions give from the built rows (as the reference interpreter hands them)."""
    ev = _evaluation(name)
    rows = list(ev.results)
    c = ev.plan.contract
    _, _, running = pipeline._reviews(ev.plan, ev.partial, ev.axis, _batch(ev), ev.tables)
    for r in c.regimes:
        assert (regimes.escalations(r, ev.results, ev.axis, running)
                == regimes.escalations(r, rows, ev.axis, running))
    for r in c.remedies:
        table = ev.tables[r.fee_table]
        assert (regimes.remedies(r, ev.results, ev.axis, table, running)
                == regimes.remedies(r, rows, ev.axis, table, running))


def _batch(ev: pipeline.Evaluation) -> Any:
    day = ev.as_of
    import numpy as np
    return pipeline.make_batch(ev.plan, ev.tables, np.datetime64(day, "D"))


def test_a_filtered_run_decides_only_its_groups_verdicts(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """--provider: the verdicts decided (and so escalation rows built) are the provider's
    alone; unfiltered, every provider's."""
    ev = _evaluation("ipes")
    decided: list[Any] = []
    real = evaluate._Level.verdicts

    def spy(self: Any, values: tuple[Any, ...], basis: str, at: Any) -> Any:
        decided.append(values)
        return real(self, values, basis, at)
    monkeypatch.setattr(evaluate._Level, "verdicts", spy)
    providers = sorted(ev.results.group_values()["provider"])
    assert len(providers) > 1
    one = list(filters.only(ev.escalations, {"provider": providers[0]}, None))
    assert one and {tuple(r["group"].values()) for r in one} == {(providers[0],)}
    assert set(decided) == {(providers[0],)}
    decided.clear()
    money = list(filters.only(ev.remedies, {"provider": providers[-1]}, None))
    assert money and all(r["group"]["provider"] == providers[-1] for r in money)
    assert set(decided) == {(providers[-1],)}
    decided.clear()
    assert len(list(ev.escalations)) > len(one)
    assert set(decided) == {(p,) for p in providers}


def test_lazy_rows_filter_before_building_and_after() -> None:
    """LazyRows.only hands its maker the groups (it may give others) and keeps exactly the
    rows whose group matches and whose measure, where a row has one, is kept."""
    asked: list[dict[str, str]] = []

    def make(groups: Any) -> Any:
        asked.append(dict(groups))
        yield {"group": {"provider": "A"}, "month": "2024-04"}
        yield {"group": {"provider": "B"}, "month": "2024-04"}
        yield {"group": {"provider": None}, "measure": "M1"}
        yield {"group": {"provider": "A"}, "measure": "M2"}
    rows = LazyRows(make)
    assert len(rows) == 4 and asked == [{}]
    assert list(rows.only({"provider": "A"})) == [{"group": {"provider": "A"}, "month": "2024-04"},
                                                  {"group": {"provider": "A"}, "measure": "M2"}]
    assert asked[-1] == {"provider": "A"}
    assert list(rows.only({"provider": "(none)"}, ["M1"])) == [
        {"group": {"provider": None}, "measure": "M1"}]
    assert list(rows.only(measures=["M1"]).only({"provider": "A"})) == [
        {"group": {"provider": "A"}, "month": "2024-04"}]
    assert isinstance(rows, evaluate.RowSequence) and isinstance(
        _evaluation("atw_ha").results, Results)
    assert not isinstance([], evaluate.RowSequence)
