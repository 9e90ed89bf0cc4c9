"""The reference interpreter's formal quarterly reviews and notices (Work Programme PINs).

Written from semantics.md section 7, docs/language.md section 10 and decisions 85-94, not from
:mod:`pmir_dsl.reviews`, for ``pmirc check --engine reference`` and the tests that compare the
two engines. It works on plain Python values: months as whole numbers (year * 12 + month - 1),
dates as ``datetime.date``, every figure a ``Fraction``, validation rates taken month by month.

The input is, per reviewed measure and group, each month's outcomes, base (attachments) and
required outcomes, as the reference's measures counted them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from . import ir

#: (measure, group values) -> month -> (outcomes, base, required outcomes)
Monthly = dict[tuple[str, tuple[Any, ...]], dict[int, tuple[int, int, Fraction]]]


class ValidationRound:
    """One completed post-payment validation round."""

    def __init__(self, order: int, start: dt.date, end: dt.date, rate: Fraction,
                 completed: dt.date):
        self.order = order
        self.start, self.end, self.rate, self.completed = start, end, rate, completed

    def covers(self, month: int) -> bool:
        """Whether the round's period holds every day of ``month``."""
        return self.start <= first_day(month) and last_day(month) <= self.end


def first_day(month: int) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)


def last_day(month: int) -> dt.date:
    return first_day(month + 1) - dt.timedelta(days=1)


def label(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def own_round(rounds: list[ValidationRound], month: int, by: dt.date) -> ValidationRound | None:
    """The round that validates ``month``, if it was completed by ``by``."""
    for r in rounds:
        if r.covers(month) and r.completed <= by:
            return r
    return None


def last_completed(rounds: list[ValidationRound], by: dt.date) -> ValidationRound | None:
    """The round completed most recently on or before ``by`` (the later one in the file on a
    tie)."""
    best = None
    for r in rounds:
        if r.completed <= by and (best is None or (r.completed, r.order) >
                                  (best.completed, best.order)):
            best = r
    return best


def net_outcomes(rounds: list[ValidationRound], months: list[int], outcomes: dict[int, int],
                 by: dt.date, final: bool) -> tuple[Fraction, int, Fraction | None] | None:
    """(net outcomes, months at their own round's rate, the rate used for the others) as known
    on ``by``; a final figure needs every month's own round (None until then)."""
    latest = last_completed(rounds, by)
    fallback = latest.rate if latest is not None else Fraction(0)
    net, own_count = Fraction(0), 0
    for month in months:
        own = own_round(rounds, month, by)
        if own is None and final:
            return None
        if own is not None:
            own_count += 1
        net += outcomes.get(month, 0) * (1 - (own.rate if own is not None else fallback))
    return net, own_count, (fallback if own_count < len(months) else None)


def window(basis: str, end: int, first: int) -> list[int] | None:
    """The months a review at quarter end ``end`` looks at (None: a rolling window that would
    begin before the service start month)."""
    if basis in ("rolling_12", "rolling_3", "quarter"):
        length = 12 if basis == "rolling_12" else 3
        if end - length + 1 < first:
            return None
        return list(range(end - length + 1, end + 1))
    if basis == "year_to_date":
        start = end - (end - first) % 12
        return list(range(max(start, first), end + 1))
    return list(range(first, end + 1))


def reviews_reference(review: ir.Review, monthly: Monthly,
                      rounds: Callable[[tuple[Any, ...]], list[ValidationRound]],
                      first: int, last: int, as_of: dt.date,
                      workday: Callable[[dt.date, int], dt.date]
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(review rows, notice rows) of ``review`` over months ``first`` .. ``last``; ``rounds``
    gives each group's validation rounds."""
    rows: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    for measure in review.measures:
        groups = sorted((g for (m, g) in monthly if m == measure),
                        key=lambda g: tuple("" if v is None else str(v) for v in g))
        for g in groups:
            own = rounds(g)
            found = [one_review(review, measure, g, monthly[(measure, g)], own, first, end,
                                as_of)
                     for end in range(first, last + 1) if end % 12 in (2, 5, 8, 11)]
            found = [r for r in found if r is not None]
            rows += found
            notices += raise_notices(review, measure, found, as_of, workday)
    rows.sort(key=lambda x: (x["review"], x["measure"], len(x["group"]),
                             [(k, v is not None, v or "") for k, v in sorted(x["group"].items())],
                             x["period"]))
    return rows, notices


def one_review(review: ir.Review, measure: str, g: tuple[Any, ...],
               months_of: dict[int, tuple[int, int, Fraction]], rounds: list[ValidationRound],
               first: int, end: int, as_of: dt.date) -> dict[str, Any] | None:
    months = window(review.basis, end, first)
    if months is None:
        return None
    outcomes = {m: months_of.get(m, (0, 0, Fraction(0)))[0] for m in months}
    base = sum(months_of.get(m, (0, 0, Fraction(0)))[1] for m in months)
    required = sum((months_of.get(m, (0, 0, Fraction(0)))[2] for m in months), Fraction(0))
    review_day = last_day(end + review.lag)
    known_at = min(review_day, as_of)
    net, own_count, rate = net_outcomes(rounds, months, outcomes, known_at, final=False)  # type: ignore[misc]
    final = net_outcomes(rounds, months, outcomes, as_of, final=True)
    final_day = None
    if final is not None:
        final_day = max(own_round(rounds, m, as_of).completed for m in months)  # type: ignore[union-attr]
    assessed = base > 0
    provisional_met = (net >= required) if assessed else None
    final_met = (final[0] >= required if assessed else None) if final is not None else None
    return {
        "review": review.name, "measure": measure, "group": dict(zip(review.keys, g)),
        "period": label(end), "quarter": f"{end // 12}-Q{end % 12 // 3 + 1}",
        "basis": review.basis, "months": [label(months[0]), label(months[-1])],
        "review_date": review_day.isoformat(), "figure_as_at": known_at.isoformat(),
        "numerator": sum(outcomes.values()), "denominator": base, "required": float(required),
        "provisional": {"net": float(net), "met": provisional_met, "validated_months": own_count,
                        "extrapolated_months": len(months) - own_count,
                        "extrapolation_rate": None if rate is None else float(rate)},
        "final": None if final is None else {"net": float(final[0]), "met": final_met,
                                             "as_at": final_day.isoformat()},  # type: ignore[union-attr]
        "final_failed_after_provisional_met": bool(provisional_met and final_met is False),
        "notice": None,
        "_figures": (required, net, None if final is None else final[0], final_day, review_day,
                     end),
    }


def raise_notices(review: ir.Review, measure: str, found: list[dict[str, Any]], as_of: dt.date,
                  workday: Callable[[dt.date, int], dt.date]) -> list[dict[str, Any]]:
    """Walk the reviews in order: a notice where the provisional figure fails, unless one
    still runs (not cancelled by the review date) and the review says no further notice."""
    by_end = {r["_figures"][5]: r for r in found}
    raised: list[dict[str, Any]] = []
    for r in found:
        required, net, final_net, final_day, review_day, end = r["_figures"]
        if review.notice is None or r["provisional"]["met"] is not False:
            continue
        running = [n for n in raised if n["_end"] >= end and
                   (n["cancelled"] is None or dt.date.fromisoformat(n["cancelled"]) > review_day)]
        if review.no_repeat and running:
            r["notice"] = (f"not raised: the {review.notice} of {running[-1]['month']} runs to "
                           f"{running[-1]['remedy_period_end']}")
            continue
        stop = end + review.remedy_months
        cancelled = None
        if review.cancel and final_net is not None and final_net >= required:
            cancelled = max(final_day, review_day).isoformat()
        closing = by_end.get(stop)
        outcome, target = None, None
        if closing is not None:
            c_required, c_net = closing["_figures"][0], closing["_figures"][1]
            target = float(c_required)
            outcome = {"period": closing["period"], "review_date": closing["review_date"],
                       "figure_as_at": closing["figure_as_at"], "net": float(c_net),
                       "target": float(c_required), "met": closing["provisional"]["met"]}
        if review_day > as_of:
            status = f"provisional: the review is on {review_day.isoformat()}"
        elif cancelled is not None and dt.date.fromisoformat(cancelled) <= as_of:
            status = "cancelled"
        elif outcome is None or dt.date.fromisoformat(outcome["review_date"]) > as_of:
            status = "open"
        elif outcome["met"] is None:
            status = "not assessed at the end of the remedy period"
        else:
            status = "target met" if outcome["met"] else "target missed"
        plan = None
        if review.action_plan is not None:
            days, working = review.action_plan
            plan = (workday(review_day, days) if working else
                    review_day + dt.timedelta(days=days)).isoformat()
        p = r["provisional"]
        split = f"{p['validated_months']} months validated"
        if p["extrapolated_months"]:
            split += (f", {p['extrapolated_months']} extrapolated at "
                      f"{float(Fraction(p['extrapolation_rate']) * 100):.4g}%")
        raised.append({
            "remedy": review.notice, "title": review.notice_title, "review": review.name,
            "measure": measure, "group": r["group"], "month": r["period"],
            "issued": review_day.isoformat(), "action_plan_due": plan,
            "remedy_period_end": last_day(stop).isoformat(), "target": target,
            "status": status, "cancelled": cancelled, "end_of_remedy": outcome,
            "reasons": [f"{measure} {r['basis'].replace('_', ' ')} {r['months'][0]} to "
                        f"{r['months'][1]}: {float(net):.2f} net against {float(required):.2f} "
                        f"required ({split})"],
            "_end": stop,
        })
        r["notice"] = f"{review.notice} raised"
    for r in found:
        r.pop("_figures", None)
    return raised
