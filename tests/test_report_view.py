"""The review-pack view (report/view.py): statuses, trends, runs of failures, exact variances."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmir_dsl.pipeline import Evaluation, run_check
from pmir_dsl.report import view
from tests.conftest import REPO


@cache
def _ev(name: str) -> Evaluation:
    return run_check(REPO / f"contracts/{name}.pmir", REPO / f"examples/{name}")


@pytest.mark.parametrize(("value", "shown"), [
    (Fraction(2, 3), "66.67%"), (Fraction(1, 8), "12.50%"), (Fraction(1, 800), "0.13%"),
    (Fraction(1005, 100000), "1.01%"),  # float rounding would say 1.00%
    (Fraction(1), "100.00%"), (Fraction(-1005, 100000), "-1.01%"),
    (Fraction(123456, 100), "123,456.00%")])
def test_percentages_round_as_excel_does(value: Fraction, shown: str) -> None:
    assert view.percent_text(value) == shown


@pytest.mark.parametrize(("value", "target", "shown"), [
    (Fraction(98995, 100000), Fraction(99, 100), "98.995%"),  # failed: never shown as 99.00%
    (Fraction(989999, 1000000), Fraction(99, 100), "98.9999%"),
    (Fraction(20049, 1000000), Fraction(2, 100), "2.005%"),  # above an at-most 2% target
    (Fraction(99, 100), Fraction(99, 100), "99.00%"),
    (Fraction(98, 100), Fraction(99, 100), "98.00%")])
def test_percentages_show_more_places_rather_than_equal_the_target(
        value: Fraction, target: Fraction, shown: str) -> None:
    assert view.percent_text(value, target) == shown


def _rate_row(num: int, den: int, met: bool) -> dict[str, object]:
    return {"measure": "KPI1", "group": {}, "period": "2024-01", "basis": "in_month",
            "numerator": num, "denominator": den, "pending": 0, "excluded": 0,
            "value": num / den, "target": 0.99, "met": met, "band": None}


@settings(deadline=None)
@given(st.integers(1, 5000).flatmap(lambda den: st.tuples(st.integers(0, den), st.just(den))))
def test_records_short_and_spare_are_exact_and_minimal(case: tuple[int, int]) -> None:
    num, den = case
    m = _ev("atw_ha").plan.measure("KPI1").measure  # at least 99%
    meets = lambda n: Fraction(n, den) >= Fraction(99, 100)  # noqa: E731
    f = view.figure(m, _rate_row(num, den, meets(num)))
    assert f.records_short is not None and f.records_spare is not None
    if meets(num):
        assert f.records_short == 0 and meets(num - f.records_spare)
        assert num - f.records_spare - 1 < 0 or not meets(num - f.records_spare - 1)
    else:
        assert f.records_spare == 0 and meets(num + f.records_short)
        assert not meets(num + f.records_short - 1)
    assert f.points == (Fraction(num, den) - Fraction(99, 100)) * 100


def test_every_current_run_of_failures_starts_where_the_results_say() -> None:
    for name in ("atw_ha", "ipes", "esf"):
        ev = _ev(name)
        series: dict[tuple[object, ...], list[dict[str, object]]] = {}
        for r in ev.results:
            key = (tuple(r["group"].items()), r["measure"], r["basis"])
            series.setdefault(key, []).append(r)
        pack = view.build(ev)
        for (group, measure, basis), rows in series.items():
            rows.sort(key=lambda r: str(r["period"]))
            run = []
            for r in reversed(rows):
                if r["met"] is not False:
                    break
                run.insert(0, r["period"])
            g = pack.group(dict(group))
            assert g is not None
            mv = g.measure(str(measure))
            assert mv is not None
            b = mv.basis(str(basis))
            assert b is not None and b.current is not None
            assert (b.failing_since, b.failing_periods) == (run[0] if run else None, len(run))
            assert b.current.period == rows[-1]["period"]
            assert 1 <= len(b.trend) <= view.TREND_MONTHS and b.trend[-1] == b.current


def test_atw_central_kpi1_has_been_failing_since_april() -> None:
    pack = view.build(_ev("atw_ha"))
    g = pack.group({"provider": "Central"})
    assert g is not None and g.label == "Central"
    kpi1 = g.measure("KPI1")
    assert kpi1 is not None and kpi1.status == "failed"
    assert (kpi1.failing_since, kpi1.headline.failing_periods) == ("2025-04", 3)
    f = kpi1.current
    assert f is not None and f.text == "97.67%" and f.records_short == 1
    assert f.numerator == 42 and f.denominator == 43
    assert math.ceil(Fraction(99, 100) * 43) - 42 == f.records_short
    assert [x.period for x in kpi1.headline.trend][-1] == "2025-06"
    assert len(kpi1.headline.trend) == 12


def test_filters_keep_only_the_asked_groups_and_measures() -> None:
    pack = view.build(_ev("ipes"), groups={"provider": "Provider B"}, measures={"CSS1", "CSS2"})
    assert [g.label for g in pack.groups] == ["Provider B", "provider Provider B, cpa Wales"]
    assert [m.measure for m in pack.groups[0].measures] == ["CSS1", "CSS2"]


def test_ipes_provider_b_escalation_and_fee_follow_with_reasons() -> None:
    g = view.build(_ev("ipes")).group({"provider": "Provider B"})
    assert g is not None
    (regime,) = g.regimes
    assert regime.changes and all(c["reasons"] for c in regime.changes)
    assert regime.month == "2025-09"
    (fee,) = g.fees
    assert len(fee.rows) == 12 and fee.deferred_pence > 0
    assert "CSS1 failed in 2024-06 and 2024-08" in fee.reasons


def test_work_programme_notices_reach_the_measure_they_were_raised_on() -> None:
    pack = view.build(_ev("work_programme"))
    # 3.3: a contract is a provider in a CPA, so notices are raised per provider and cpa
    g = pack.group({"provider": "Provider B", "cpa": "East Midlands"})
    assert g is not None and g.notices
    mv = g.measure("JO_VS_MPL_PG1")
    assert mv is not None and mv.notices and mv.reviews
    assert all(n["measure"] == "JO_VS_MPL_PG1" for n in mv.notices)
    labels = [x.label for x in pack.groups]
    # the contract's level order: the provider level before the provider-and-cpa level
    assert labels.index("Provider A") < labels.index("provider Provider A, cpa East Midlands")


def test_statuses_say_why_a_figure_is_not_assessed() -> None:
    g = view.build(_ev("atw_ha")).group({"provider": "Central"})
    assert g is not None
    seen = {m.status: m.current.reason for m in g.measures if m.current}
    assert set(seen) <= set(view.STATUSES)
    assert seen["pending"].endswith("not yet due")
    assert seen["not assessed"]


@pytest.mark.parametrize(("points", "shown"), [
    (Fraction(-4, 1000), "-0.004"), (Fraction(-1325, 1000), "-1.33"), (Fraction(0), "+0.00"),
    (Fraction(3), "+3.00"), (None, "")])
def test_points_never_read_as_zero_when_they_are_not(points: Fraction | None, shown: str) -> None:
    assert view.points_text(points) == shown


def test_breakdowns_by_answer_come_after_the_groups_that_decide() -> None:
    """IPES CSS 9 counts answers per provider and customer group with no target: those groups
    are breakdowns, listed after every provider and provider-and-cpa page (not among them);
    the Work Programme's provider level, used only by ranked measures with no target, groups by
    keys that decide elsewhere and stays a page of its own."""
    ipes = _ev("ipes")
    groups = view.build(ipes).groups
    labels = [x.label for x in groups]
    info = [x.breakdown for x in groups]
    assert any(info) and info == sorted(info)  # every breakdown after every deciding group
    assert all(("answer" in x.group or "customer_group" in x.group) == x.breakdown
               for x in groups)
    assert labels.index("provider Provider D, cpa Wales") < min(
        i for i, x in enumerate(groups) if "answer" in x.group)
    from pmir_dsl.report.html import render

    html = render(ipes)
    assert html.index("<h2>Breakdowns (information only)</h2>") < html.index("Answer: very_satisfied")
    wp = _ev("work_programme")
    deciding = view.deciding_levels(wp.plan.measures)
    assert not view.information_only({"provider": "Provider A"}, deciding)
