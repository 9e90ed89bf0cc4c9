"""The review-pack view: per group and measure, what a Contract Performance Review asks.

Built from an :class:`~pmir_dsl.pipeline.Evaluation` (the very figures ``--format json`` prints),
this module is pure data, no rendering: the terminal report, the HTML and the XLSX packs all read
it, so they show the same statuses, trends and variances.

API (stable; the HTML / XLSX packs build on it)::

    pack = build(ev)                        # PackView of every group, whole contract first
    pack = build(ev, groups={"provider": "North"}, measures={"KPI1"})   # filtered
    pack.contract / pack.as_of / pack.month # names and the month under review
    pack.groups                             # tuple[GroupView, ...]
    pack.group({"provider": "North"})       # one GroupView, or None
    pack.failures()                         # [(GroupView, MeasureView)] failed this month
    g.label / g.group / g.measures / g.regimes / g.fees / g.notices
    mv = g.measure("KPI1")                  # MeasureView, or None
    mv.status / mv.current / mv.failing_since / mv.band / mv.headline / mv.bases
    mv.headline.trend                       # tuple[Figure, ...]: the last 12 months' periods
    f = mv.current                          # Figure: value, target, met, status, text,
    f.records_short / f.records_spare / f.points   # variance to target, exact

Statuses (``STATUSES``): ``met``, ``failed``, ``pending`` (nothing can be decided yet: no record
is due but some are pending) and ``not assessed`` (no records, too few records for the minimum
denominator, or a measure reported without a target); ``Figure.reason`` says which.

The *headline* basis of a measure is its first declared basis (as in the summary of the terminal
report); every basis is in :attr:`MeasureView.bases` with its own trend and run of failures.

Exactness: ``met`` is always the evaluation's exact verdict. Values and targets are recovered as
exact fractions from the result rows (integers as they are, floats through their shortest
decimal, which is exact for the 6-decimal sums and 12-decimal profiles the engine produces), so
``records_short`` is the exact smallest number of records that would have changed the verdict.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

import attrs

from ..ir import Measure

#: The statuses a figure can have, in the order a summary lists them.
STATUSES = ("failed", "met", "pending", "not assessed")

#: Why a figure of an information basis is not assessed (ESF 7.3 b3: reported, never decided).
INFORMATION = "for information: reported beside the target, never met or failed"

#: How many months back a trend reaches (the month under review included).
TREND_MONTHS = 12

#: Measure kinds whose value is a share (shown as a percentage); the others are counts.
SHARE_KINDS = ("rate", "ratio", "profile", "backlog_share", "count_ratio")


@attrs.frozen
class Figure:
    """One measure's figure for one group, period and basis.

    ``numerator`` / ``denominator`` are exact (``Fraction`` for decimal sums and profiles, else
    ``int``); for a profile measure the denominator is the profiled (expected) figure. ``value``
    is the compared figure (the share, or the count), ``target`` the figure it is compared with
    (``None``: no target), both exact. ``text`` is the value as a person reads it (see
    :func:`percent_text`). Variance to target:

    - ``records_short``: for a failed figure, the fewest records that would have had to be met
      instead of failed (the denominator unchanged; for profiles and count targets, more met
      records) for the target to be met; 0 when met; ``None`` when not assessed or when the
      measure sums amounts rather than counting records (``ratio``).
    - ``records_spare``: for a met figure, the most met records that could have failed with the
      target still met; 0 when failed; ``None`` as above.
    - ``points``: ``(value - target) x 100``, percentage points, signed (negative: below the
      target); ``None`` for counts or without a target.
    """

    period: str
    basis: str
    numerator: int | Fraction
    denominator: int | Fraction
    pending: int
    excluded: int
    value: Fraction | None
    target: Fraction | None
    met: bool | None
    status: str
    reason: str
    band: str | None
    text: str
    records_short: int | None
    records_spare: int | None
    points: Fraction | None
    rank: int | None = None
    expected: Fraction | None = None
    buckets: Mapping[str, int] | None = None


@attrs.frozen
class BasisView:
    """A measure's figures on one basis for one group.

    ``current``: the latest period (the month, or quarter, under review). ``trend``: the periods
    ending in the last 12 months, oldest first, ``current`` last. ``failing_since``: the first
    period of the run of consecutive failed periods that ends with ``current`` (``None`` unless
    ``current`` failed); ``failing_periods`` its length. ``periods_failed`` / ``periods_assessed``
    count over the whole contract so far.
    """

    basis: str
    current: Figure | None
    trend: tuple[Figure, ...]
    failing_since: str | None
    failing_periods: int
    periods_failed: int
    periods_assessed: int


@attrs.frozen
class MeasureView:
    """One measure for one group: its definition, every basis, and what followed from it.

    ``notices``: the notices (e.g. PINs) raised on this measure for this group, as the JSON's
    ``remedies`` rows with an ``issued`` date; ``reviews``: its formal review rows;
    ``cohorts``: its cohort-triangle rows for this group.
    """

    measure: str
    title: str
    cite: str
    kind: str
    target_text: str
    group: Mapping[str, Any]
    bases: tuple[BasisView, ...]
    notices: tuple[Mapping[str, Any], ...] = ()
    reviews: tuple[Mapping[str, Any], ...] = ()
    cohorts: tuple[Mapping[str, Any], ...] = ()

    @property
    def headline(self) -> BasisView:
        """The first declared basis, which the summary reports."""
        return self.bases[0]

    @property
    def current(self) -> Figure | None:
        """The headline basis's figure for the period under review."""
        return self.headline.current

    @property
    def status(self) -> str:
        """``met`` / ``failed`` / ``pending`` / ``not assessed`` this month (headline basis)."""
        return self.current.status if self.current else "not assessed"

    @property
    def failing_since(self) -> str | None:
        """First period of the current run of failures on the headline basis, or ``None``."""
        return self.headline.failing_since

    @property
    def band(self) -> str | None:
        """The headline figure's band this month, if the measure has bands."""
        return self.current.band if self.current else None

    def basis(self, name: str) -> BasisView | None:
        """The view of one basis (``in_month``, ``rolling_12``...), or ``None``."""
        return next((b for b in self.bases if b.basis == name), None)


@attrs.frozen
class RegimeView:
    """A group's escalation under one regime: its level in the month under review, since when
    it has been at that level, why (the reasons of the change to it), every change so far, and
    the notices running at the end of the month."""

    regime: str
    title: str
    month: str
    level: int
    level_title: str
    since: str
    reasons: tuple[str, ...]
    changes: tuple[Mapping[str, Any], ...]
    notices: tuple[Mapping[str, Any], ...]


@attrs.frozen
class FeeView:
    """A group's fee under one remedy: the rows of the last 12 months (the JSON's remedies
    rows, pence as integers) and totals to date."""

    remedy: str
    title: str
    rows: tuple[Mapping[str, Any], ...]
    deferred_pence: int
    released_pence: int
    forfeited_pence: int
    outstanding_pence: int
    in_deferral: bool
    reasons: tuple[str, ...]


@attrs.frozen
class GroupView:
    """One group (``group == {}``: the contract as a whole) and every measure evaluated for it."""

    group: Mapping[str, Any]
    label: str
    measures: tuple[MeasureView, ...]
    regimes: tuple[RegimeView, ...] = ()
    fees: tuple[FeeView, ...] = ()
    notices: tuple[Mapping[str, Any], ...] = ()
    breakdown: bool = False  # a group only information measures break down (information_only)

    def measure(self, measure_id: str) -> MeasureView | None:
        """This group's view of one measure, or ``None``."""
        return next((m for m in self.measures if m.measure == measure_id), None)

    def failures(self) -> list[MeasureView]:
        """The measures failed this month (headline basis)."""
        return [m for m in self.measures if m.status == "failed"]


@attrs.frozen
class PackView:
    """The whole pack: the contract, the month under review and every group's view."""

    contract: str
    as_of: str
    month: str
    groups: tuple[GroupView, ...]
    data_quality: tuple[Mapping[str, Any], ...] = ()

    def group(self, group: Mapping[str, Any]) -> GroupView | None:
        """The view of the group with exactly these keys and values (None for an empty value,
        as in the results), or ``None``."""
        want = _texts(group)
        return next((g for g in self.groups if _texts(g.group) == want), None)

    def failures(self) -> list[tuple[GroupView, MeasureView]]:
        """Every (group, measure) failed this month, whole contract first, in measure order."""
        return [(g, m) for g in self.groups for m in g.failures()]


# ---- building ----------------------------------------------------------------------------------


def build(ev: Any, groups: Mapping[str, str] | None = None,
          measures: Iterable[str] | None = None) -> PackView:
    """The pack view of an evaluation.

    ``groups``: keep only the groups whose keys include every ``key: value`` given (values
    compared as text, ``(none)`` for an empty value); ``measures``: keep only these measure ids.
    """
    keep = set(measures) if measures is not None else None
    rows = [r for r in ev.results if keep is None or r["measure"] in keep]
    if groups:
        rows = [r for r in rows if matches(r["group"], groups)]
    by_group: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_group[_gkey(r["group"])].append(r)
    plans = {mp.measure.id: mp.measure for mp in ev.plan.measures}
    order = [mp.measure.id for mp in ev.plan.measures]
    levels = _level_order(ev.plan.measures)
    triangles = ev.cohorts() if rows else []  # worked out once, shared out by group below
    deciding = deciding_levels(ev.plan.measures)
    breakdown = {k: information_only(dict(k), deciding) for k in by_group}
    views = [attrs.evolve(_group_view(ev, plans, order, dict(k), by_group[k], triangles),
                          breakdown=breakdown[k])
             for k in sorted(by_group, key=lambda k: (breakdown[k], len(k),
                                                      levels.get(_keys(k), 0), k))]
    months = [r["month"] for r in ev.escalations] + [m for r in rows for m in [_month(r)]]
    quality = tuple({"table": q.table, "check": q.check, "count": q.count,
                     "examples": list(q.examples)} for q in ev.quality)
    return PackView(ev.plan.contract.name, ev.as_of, max(months, default=ev.as_of[:7]),
                    tuple(views), quality)


def _level_order(plans: Iterable[Any]) -> dict[tuple[str, ...], int]:
    """Each group level (its key names) numbered in the order the contract first declares it,
    so providers come before contract package areas where the contract lists them so."""
    order: dict[tuple[str, ...], int] = {}
    for mp in plans:
        for level in mp.measure.groups:
            order.setdefault(tuple(c.name for c in level), len(order))
    return order


def deciding_levels(plans: Iterable[Any]) -> set[tuple[str, ...]]:
    """The group levels (key names) of the measures that have a target. A level only measures
    with no target use (a breakdown by answer or by customer group, say) is information: its
    pages come after the deciding ones, so a provider's pages are not lost among breakdowns."""
    return {tuple(c.name for c in level) for mp in plans if mp.measure.target.op != "none"
            for level in mp.measure.groups}


def information_only(group: Mapping[str, Any], deciding: set[tuple[str, ...]]) -> bool:
    """Whether ``group`` breaks a figure down by a key that no measure with a target groups by
    (an answer, a customer group: see deciding_levels). A level that only no-target measures
    use but whose keys all decide elsewhere (the Work Programme's providers, ranked) is not."""
    keys = {k for level in deciding for k in level}
    return bool(group) and bool(keys) and tuple(group) not in deciding and \
        not set(group) <= keys


def _keys(k: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(name for name, _ in k)


def matches(group: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """Whether a result's group has every wanted key with the wanted value (as text)."""
    texts = _texts(group)
    return all(texts.get(k) == v for k, v in wanted.items())


def _texts(group: Mapping[str, Any]) -> dict[str, str]:
    return {k: "(none)" if v is None else str(v) for k, v in group.items()}


def _gkey(group: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(_texts(group).items())


def _month(r: Mapping[str, Any]) -> str:
    """The last month of a result's period, YYYY-MM."""
    p = r["period"]
    if "-Q" in p:
        return f"{p[:4]}-{int(p[-1]) * 3:02d}"
    return str(p)


def group_label(group: Mapping[str, Any]) -> str:
    """``the contract as a whole``, ``North``, or ``lep_area North, category_of_region Less``."""
    if not group:
        return "the contract as a whole"
    texts = _texts(group)
    if len(texts) == 1:
        return next(iter(texts.values()))
    return ", ".join(f"{k} {v}" for k, v in texts.items())


def _group_view(ev: Any, plans: dict[str, Measure], order: list[str], group: dict[str, str],
                rows: list[dict[str, Any]], triangles: list[dict[str, Any]]) -> GroupView:
    real = rows[0]["group"] if rows else group
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        per[r["measure"]].append(r)
    notices = tuple(n for n in ev.remedies if "issued" in n and _texts(n["group"]) == group)
    cohorts = [c for c in triangles if _texts(c["group"]) == group]
    measures = tuple(
        _measure_view(plans[mid], real, per[mid],
                      [n for n in notices if n["measure"] == mid],
                      [r for r in ev.reviews if r["measure"] == mid and _texts(r["group"]) == group],
                      [c for c in cohorts if c["measure"] == mid])
        for mid in order if mid in per)
    return GroupView(real, group_label(real), measures, _regimes(ev, group), _fees(ev, group),
                     notices)


def _measure_view(m: Measure, group: Mapping[str, Any], rows: list[dict[str, Any]],
                  notices: list[dict[str, Any]], reviews: list[dict[str, Any]],
                  cohorts: list[dict[str, Any]]) -> MeasureView:
    by_basis: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_basis[r["basis"]].append(r)
    bases = tuple(basis_view(m, b, sorted(by_basis[b], key=lambda r: r["period"]))
                  for b in m.bases)
    return MeasureView(m.id, m.title, m.cite, m.kind, m.target.text, group, bases,
                       tuple(notices), tuple(reviews), tuple(cohorts))


def basis_view(m: Measure, basis: str, rows: list[dict[str, Any]]) -> BasisView:
    """The :class:`BasisView` of one group's result rows of ``m`` on ``basis``, by period."""
    figures = [figure(m, r) for r in rows]
    current = figures[-1] if figures else None
    run = 0
    while run < len(figures) and figures[-1 - run].status == "failed":
        run += 1
    last = _index(_month(rows[-1])) if rows else 0
    trend = tuple(f for f, r in zip(figures, rows) if _index(_month(r)) > last - TREND_MONTHS)
    return BasisView(basis, current, trend, figures[-run].period if run else None, run,
                     sum(f.status == "failed" for f in figures),
                     sum(f.met is not None for f in figures))


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


# ---- one figure --------------------------------------------------------------------------------


def exact(x: int | float | None) -> int | Fraction | None:
    """An exact number from a result's int or float (floats through their shortest decimal)."""
    if x is None or isinstance(x, int):
        return x
    return Fraction(repr(float(x)))


def figure(m: Measure, r: Mapping[str, Any]) -> Figure:
    """The :class:`Figure` of one result row of measure ``m``."""
    num, den = exact(r["numerator"]), exact(r["denominator"])
    assert num is not None and den is not None
    value, target = _value(m, r, num, den), _target(m, r)
    status, reason = _status(m, r)
    short = spare = None
    if r["met"] is not None and m.kind != "ratio":
        short, spare = _records(m, r, num, den)
    points = None
    if value is not None and target is not None and m.kind in SHARE_KINDS:
        points = (value - target) * 100
    return Figure(
        r["period"], r["basis"], num, den, int(r["pending"]), int(r.get("excluded", 0)), value,
        target, r["met"], status, reason, r.get("band"),
        value_text(m, value, target, r["met"]), short, spare, points, r.get("rank"),
        exact(r.get("expected")), r.get("buckets"))


def _value(m: Measure, r: Mapping[str, Any], num: Any, den: Any) -> Fraction | None:
    if r["value"] is None:
        return None
    if m.kind in SHARE_KINDS or m.kind == "average":  # an average: days over records
        return Fraction(num) / Fraction(den) if den else None
    return Fraction(num)


def _target(m: Measure, r: Mapping[str, Any]) -> Fraction | None:
    """The exact target the value is compared with (a looked-up target: required / denominator)."""
    if m.target.lookup is not None:
        req, den = exact(r.get("expected")), exact(r["denominator"])
        return Fraction(req) / Fraction(den) if req is not None and den else None
    return None if m.target.op == "none" else Fraction(m.target.value)


def _status(m: Measure, r: Mapping[str, Any]) -> tuple[str, str]:
    """(status, why) of a result row."""
    if r["met"] is True:
        return "met", ""
    if r["met"] is False:
        return "failed", ""
    if r.get("information"):
        return "not assessed", INFORMATION
    if m.target.op == "none":
        return "not assessed", "reported without a target"
    if r["value"] is None and r["pending"]:
        return "pending", f"{r['pending']:,} records not yet due"
    if r.get("assessed") is False and r["value"] is not None:
        return "not assessed", f"fewer records than the minimum of {m.min_denominator}"
    return "not assessed", "no records due in the period"


def _records(m: Measure, r: Mapping[str, Any], num: Any, den: Any) -> tuple[int, int]:
    """(records short of the target, records to spare): see :class:`Figure`."""
    op, bound = _threshold(m, r, Fraction(den))
    if op is None:
        return 0, 0
    n = Fraction(num)
    if op in ("at_least", "above"):
        need = math.ceil(bound) if op == "at_least" else math.floor(bound) + 1
        return max(0, math.ceil(need - n)), max(0, math.floor(n - need))
    allow = math.floor(bound) if op == "at_most" else math.ceil(bound) - 1
    return max(0, math.ceil(n - allow)), max(0, math.floor(allow - n))


def _threshold(m: Measure, r: Mapping[str, Any], den: Fraction) -> tuple[str | None, Fraction]:
    """The comparison and the numerator it compares against: target x denominator (or x the
    profiled figure), the count itself, the looked-up requirement; for deciding bands the
    lowest passing band's bound."""
    op, share = m.target.op, Fraction(m.target.value)
    if m.bands is not None and m.bands.deciding:
        bounds = [b.lower for b in m.bands.bands if b.passes]
        if not bounds or None in bounds:
            return None, Fraction(0)
        op, share = "at_least", min(Fraction(b) for b in bounds if b is not None)
    if m.target.lookup is not None:
        return "at_least", Fraction(exact(r["expected"]) or 0)
    if m.kind in SHARE_KINDS:
        return op, share * den
    return op, share


# ---- showing a value ---------------------------------------------------------------------------


def value_text(m: Measure, value: Fraction | None, target: Fraction | None,
               met: bool | None) -> str:
    """The value as shown in every pack: ``-`` when there is none, counts with thousands
    separators, shares as :func:`percent_text`."""
    if value is None:
        return "-"
    if m.kind == "average" and m.count_of is not None:  # rows of another table per record
        return f"{excel_round(value, 2):,} {m.count_of.table}"
    if m.kind == "average":
        return f"{excel_round(value, 1):,} days"
    if m.kind not in SHARE_KINDS:
        return f"{int(value):,}" if value.denominator == 1 else f"{float(value):,.2f}"
    return percent_text(value, target)


def excel_round(x: Fraction, places: int) -> Decimal:
    """``x`` rounded to ``places`` decimals half away from zero, exactly, as Excel's ROUND."""
    with localcontext() as ctx:
        ctx.prec = 60
        q = Decimal(x.numerator) / Decimal(x.denominator)
        return q.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent_text(value: Fraction, target: Fraction | None = None, places: int = 2) -> str:
    """A share as a percentage rounded as Excel shows it (2 places, half up: 98.995% -> 99.00%),
    with more places where 2 would misstate the comparison with ``target``: a value below the
    target never reads as equal to it (98.996% against 99% reads 98.996%), nor one above it.
    """
    pct = value * 100
    tgt = None if target is None else target * 100
    for p in range(places, places + 16):
        shown = excel_round(pct, p)
        if tgt is None or _sign(Fraction(shown) - tgt) == _sign(pct - tgt):
            break
    return f"{shown:,}%"


def points_text(points: Fraction | None) -> str:
    """Percentage points, signed, 2 places half up (``-1.33``), more where 2 would read as 0;
    empty for ``None``."""
    if points is None:
        return ""
    for p in range(2, 18):
        shown = excel_round(points, p)
        if shown != 0 or points == 0:
            break
    return f"{shown:+,}"


def _sign(x: Fraction) -> int:
    return (x > 0) - (x < 0)


# ---- what follows: escalation, fees, notices --------------------------------------------------


def _regimes(ev: Any, group: dict[str, str]) -> tuple[RegimeView, ...]:
    out = []
    for regime in ev.plan.contract.regimes:
        rows = [e for e in ev.escalations
                if e["regime"] == regime.name and _texts(e["group"]) == group]
        if not rows:
            continue
        rows.sort(key=lambda e: e["month"])
        last = rows[-1]
        changes = tuple(e for e in rows if e["changed"])
        since = next((e for e in reversed(rows) if e["changed"]), rows[0])
        out.append(RegimeView(regime.name, regime.title, last["month"], int(last["level"]),
                              last["level_title"], since["month"], tuple(since["reasons"]),
                              changes, tuple(last.get("notices") or ())))
    return tuple(out)


def _fees(ev: Any, group: dict[str, str]) -> tuple[FeeView, ...]:
    out = []
    for remedy in ev.plan.contract.remedies:
        rows = sorted((r for r in ev.remedies if r.get("remedy") == remedy.name
                       and "fee_pence" in r and _texts(r["group"]) == group),
                      key=lambda r: r["month"])
        if not rows:
            continue
        last = _index(rows[-1]["month"])
        recent = tuple(r for r in rows if _index(r["month"]) > last - TREND_MONTHS)
        reasons = tuple(dict.fromkeys(x for r in rows for x in r["reasons"]))
        out.append(FeeView(remedy.name, remedy.title, recent,
                           sum(r["deferred_pence"] for r in rows),
                           sum(r["released_pence"] for r in rows),
                           sum(r["forfeited_pence"] for r in rows),
                           int(rows[-1]["outstanding_pence"]), bool(rows[-1]["in_deferral"]),
                           reasons))
    return tuple(out)
