"""Formal quarterly reviews and the notices they raise (Work Programme PINs, semantics.md 7).

At each quarter end (March, June, September, December) with a full window of months, a review
compares, per group and reviewed measure, the outcomes of the window net of post-payment
validation with the outcomes required (the looked-up target: each month's attachments times
that month's MPL). Two figures are made:

- the *provisional* figure, at the review date (the end of the month ``lag`` months after the
  quarter, or the as-of date if that is sooner): a month whose own validation round was
  completed by then uses that round's failure rate; every other month uses the rate of the last
  round completed by then (the 9 + 3 and 6 + 6 months of seed 003, 3.6-3.7);
- the *final* figure, once every month's own round is completed (by the as-of date): each month
  at its own round's rate.

A notice (PIN) is raised for a group and measure whose provisional figure fails; while one runs
(to the end of its remedy period) no other is raised for the same measure and group, if the
review says so (3.12); it is cancelled on the day the final figure shows the target was met
(3.15). Its target is the outcomes required over the window ending with the remedy period
(3.14), and the review at that quarter end says whether it was met (3.21-3.23). Arithmetic is
exact (fractions); amounts are shown as floats.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs
import numpy as np

from . import ir
from .calendar import workday
from .errors import DataError, DataProblem
from .evaluate import K_DEN, K_NUM, Axis, MeasureCounts, month_label, quarter_label
from .schema import DECIMAL_SCALE, Table

QUARTER_ENDS = (2, 5, 8, 11)  # months since January of March, June, September, December


@attrs.frozen
class Round:
    """One completed validation round (row is the spreadsheet row)."""

    number: int
    first: int  # months since 1970-01 of its first month
    last: int
    rate: Fraction
    completed: np.datetime64
    row: int


@attrs.frozen
class Figure:
    """Net outcomes over a window at a date, and how many months used their own round."""

    net: Fraction
    validated: int
    extrapolated: int
    rate: Fraction | None  # the extrapolation rate (None when no month was extrapolated)


def rounds(v: ir.Validation, table: Table, rows: Any = None) -> list[Round]:
    """The validation rounds (of ``rows``, else every row), checked: whole months, in order,
    not overlapping."""
    cols = table.columns
    out = []
    start, end = cols[v.start.name].values, cols[v.end.name].values
    done, rate = cols[v.completed.name].values, cols[v.rate.name]
    for r in (range(table.rows) if rows is None else rows):
        if np.isnat(start[r]) or np.isnat(end[r]) or np.isnat(done[r]) or not rate.present()[r]:
            raise DataError(DataProblem(table.path, "a validation round with an empty cell",
                                        v.start.name, (r + 2,), (), 1,
                                        hint="give every round its period, rate and completion "
                                        "date; leave a round out until it is completed"))
        first, last = (int(d.astype("datetime64[M]").astype(np.int64)) for d in (start[r], end[r]))
        whole = start[r] == np.datetime64(first, "M").astype("datetime64[D]") and \
            end[r] + np.timedelta64(1, "D") == np.datetime64(last + 1, "M").astype("datetime64[D]")
        if not whole or last < first:
            raise DataError(DataProblem(table.path, f"validation round on row {r + 2} does not "
                                        "cover whole months (from the 1st of a month to the last "
                                        "day of a month)", v.start.name, (r + 2,),
                                        (f"{start[r]} to {end[r]}",), 1))
        out.append(Round(r + 1, first, last, Fraction(int(rate.values[r]), DECIMAL_SCALE),
                         done[r], r + 2))
    for a, b in zip(out, out[1:]):
        if b.last < a.first:
            raise DataError(DataProblem(table.path, f"validation rounds on rows {a.row} and "
                                        f"{b.row} are out of order: row {b.row} covers earlier "
                                        "months", v.start.name, (a.row, b.row), (), 2,
                                        hint="list the rounds in the order of their periods"))
        if b.first <= a.last:
            raise DataError(DataProblem(table.path, f"validation rounds on rows {a.row} and "
                                        f"{b.row} overlap ({month_label(b.first)})", v.start.name,
                                        (a.row, b.row), (), 2,
                                        hint="each month is validated by one round"))
        if b.completed < a.completed:
            raise DataError(DataProblem(table.path, f"validation round on row {b.row} covers "
                                        f"later months than row {a.row} but was completed before "
                                        "it", v.completed.name, (a.row, b.row),
                                        (str(a.completed), str(b.completed)), 2,
                                        hint="a round is completed after the one before it"))
    return out


def contract_rows(v: ir.Validation, table: Table, keys: tuple[str, ...],
                  g: tuple[Any, ...]) -> list[int]:
    """The rows of the validation table that apply to group ``g`` (WP 8.32): its own rows (key
    columns each empty or ``g``'s value, at least one set) if it has any, else the rows for
    every contract (key columns all empty)."""
    from .profiles import _strings  # profiles imports compile, which this module need not

    ok = np.ones(table.rows, dtype=bool)
    named = np.zeros(table.rows, dtype=bool)
    for col in v.keys:
        values = _strings(table.columns[col.name])
        want = g[keys.index(col.name)]
        ok &= np.array([x is None or x == want for x in values], dtype=bool)
        named |= np.array([x is not None for x in values], dtype=bool)
    return [int(r) for r in np.flatnonzero(ok & named if (ok & named).any() else ok & ~named)]


def _own(rs: list[Round], month: int) -> Round | None:
    return next((r for r in rs if r.first <= month <= r.last), None)


class Rates:
    """The validation rounds, with the windows and dates already worked out remembered: the
    same few recur for every group."""

    def __init__(self, rs: list[Round]):
        self.rounds = rs
        self._factors: dict[tuple[int, int, Any, bool], Any] = {}
        self._final: dict[tuple[int, int], np.datetime64 | None] = {}

    def figure(self, months: range, outcomes: np.ndarray, at: np.datetime64,
               final: bool = False) -> Figure | None:
        """Net outcomes of ``months`` (absolute month numbers) known at ``at``; ``final``:
        every month at its own round's rate, None until all are completed by ``at``."""
        key = (months.start, months.stop, at, final)
        if key not in self._factors:
            self._factors[key] = self.factors(months, at, final)
        found = self._factors[key]
        if found is None:
            return None
        keep, validated, rate = found
        net = Fraction(int(np.dot(np.asarray(outcomes, dtype=np.int64), keep)), DECIMAL_SCALE)
        extrapolated = len(months) - validated
        return Figure(net, validated, extrapolated, rate if extrapolated else None)

    def factors(self, months: range, at: np.datetime64, final: bool
                ) -> tuple[np.ndarray, int, Fraction] | None:
        """Per month: the share kept (1 - its rate) in millionths; how many months use their
        own round; the rate of the last round completed by ``at`` (0 if none)."""
        done = [r for r in self.rounds if r.completed <= at]
        latest = max(done, key=lambda r: (r.completed, r.number)).rate if done else Fraction(0)
        keep = np.zeros(len(months), dtype=np.int64)
        validated = 0
        for i, j in enumerate(months):
            own = _own(done, j)
            if own is None and final:
                return None
            validated += own is not None
            keep[i] = int((1 - (own.rate if own is not None else latest)) * DECIMAL_SCALE)
        return keep, validated, latest

    def final_date(self, months: range) -> np.datetime64 | None:
        """The day the last of the window's own rounds was completed (None: a month has none)."""
        key = (months.start, months.stop)
        if key not in self._final:
            own = [_own(self.rounds, j) for j in months]
            self._final[key] = None if any(r is None for r in own) else \
                max(r.completed for r in own)  # type: ignore[union-attr]
        return self._final[key]


def figure(rs: list[Round], months: range, outcomes: np.ndarray, at: np.datetime64,
           final: bool = False) -> Figure | None:
    """:meth:`Rates.figure` for one window."""
    return Rates(rs).figure(months, outcomes, at, final)


def _month_end(month: int) -> np.datetime64:
    return np.datetime64(month + 1, "M").astype("datetime64[D]") - np.timedelta64(1, "D")


def _span(basis: str, end: int, first: int) -> tuple[int, int] | None:
    """(first, last) absolute month of the review window ending with ``end``; None when the
    window would start before the service start (a rolling window needs all its months)."""
    lengths = {"rolling_12": 12, "rolling_3": 3, "quarter": 3}
    if basis in lengths:
        lo = end - lengths[basis] + 1
        return (lo, end) if lo >= first else None
    if basis == "year_to_date":
        return (max(first, end - (end - first) % 12), end)
    return (first, end)


def _f(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


def _pct(x: Fraction) -> str:
    return f"{float(x * 100):.4g}%"


def _group(keys: tuple[str, ...], g: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(keys, g))


def evaluate(review: ir.Review, counts: dict[str, MeasureCounts], groups: dict[str, int],
             axis: Axis, as_of: np.datetime64, cal: np.busdaycalendar,
             validation: Table | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(review rows, notice rows) of one review over the merged counts of its measures.

    ``groups`` maps each reviewed measure to the index of its group level with the review's
    keys.
    """
    v = review.validation
    shared = Rates(rounds(v, validation) if v and validation and not v.keys else [])
    per_contract: dict[tuple[Any, ...], Rates] = {}
    as_of_month = int(as_of.astype("datetime64[M]").astype(np.int64))
    rows, notices = [], []
    for mid in review.measures:
        c = counts[mid]
        level = c.levels[groups[mid]]
        required = c.extra[groups[mid]] if c.extra else {}
        for g in sorted(level, key=lambda v: tuple("" if x is None else str(x) for x in v)):
            arr = level[g]
            need = required.get(g, np.zeros((axis.size, 1), dtype=np.int64))[:, 0]
            rs = shared
            if v is not None and validation is not None and v.keys:  # a contract's own rates
                rows_of = tuple(contract_rows(v, validation, review.keys, g))
                if rows_of not in per_contract:
                    per_contract[rows_of] = Rates(rounds(v, validation, rows_of))
                rs = per_contract[rows_of]
            found = _reviews(review, mid, g, arr, need, axis, as_of, rs)
            rows += found
            notices += _notices(review, mid, g, found, as_of, as_of_month, cal)
    return rows, notices


def _reviews(review: ir.Review, mid: str, g: tuple[Any, ...], arr: np.ndarray,
             need: np.ndarray, axis: Axis, as_of: np.datetime64, rs: Rates
             ) -> list[dict[str, Any]]:
    out = []
    for i in range(axis.size):
        end = axis.first_month + i
        span = _span(review.basis, end, axis.first_month) if end % 12 in QUARTER_ENDS else None
        if span is None:
            continue
        lo, hi = span[0] - axis.first_month, span[1] - axis.first_month
        months = range(span[0], span[1] + 1)
        outcomes = arr[lo:hi + 1, K_NUM]
        den = int(arr[lo:hi + 1, K_DEN].sum())
        required = Fraction(int(need[lo:hi + 1].sum()), DECIMAL_SCALE)
        due = _month_end(end + review.lag)
        at = min(due, as_of)
        prov = rs.figure(months, outcomes, at)
        fin = rs.figure(months, outcomes, as_of, final=True)
        fin_day = rs.final_date(months) if fin is not None else None
        assessed = den > 0
        assert prov is not None
        prov_met = prov.net >= required if assessed else None
        fin_met = (fin.net >= required if assessed else None) if fin is not None else None
        out.append({
            "review": review.name, "measure": mid, "group": _group(review.keys, g),
            "period": month_label(end), "quarter": quarter_label(end), "basis": review.basis,
            "months": [month_label(span[0]), month_label(span[1])],
            "review_date": str(due), "figure_as_at": str(at),
            "numerator": int(outcomes.sum()), "denominator": den, "required": _f(required),
            "provisional": {"net": _f(prov.net), "met": prov_met,
                            "validated_months": prov.validated,
                            "extrapolated_months": prov.extrapolated,
                            "extrapolation_rate": _f(prov.rate)},
            "final": None if fin is None else {"net": _f(fin.net), "met": fin_met,
                                               "as_at": str(fin_day)},
            "final_failed_after_provisional_met": bool(prov_met and fin_met is False),
            "_exact": (required, prov.net, fin.net if fin else None, fin_day, due),
        })
    return out


def _notices(review: ir.Review, mid: str, g: tuple[Any, ...], found: list[dict[str, Any]],
             as_of: np.datetime64, as_of_month: int, cal: np.busdaycalendar
             ) -> list[dict[str, Any]]:
    """The notices raised, in review order, with their end-of-remedy outcome."""
    by_month = {r["period"]: r for r in found}
    out: list[dict[str, Any]] = []
    for r in found:
        required, net, fin_net, fin_day, due = r.pop("_exact")
        r["notice"] = None
        if review.notice is None or r["provisional"]["met"] is not False:
            continue
        end = int(np.datetime64(r["period"], "M").astype(np.int64))
        running = [n for n in out if n["_end"] >= end and
                   (n["cancelled"] is None or np.datetime64(n["cancelled"]) > due)]
        if review.no_repeat and running:
            r["notice"] = f"not raised: the {running[-1]['remedy']} of {running[-1]['month']} runs to " \
                          f"{running[-1]['remedy_period_end']}"
            continue
        stop = end + review.remedy_months
        cancelled = None
        if review.cancel and fin_net is not None and fin_net >= required:
            cancelled = str(max(fin_day, due))
        closing = by_month.get(month_label(stop))
        outcome, target = None, None
        if closing is not None:  # a later review: its exact figures are still on it
            c_req, c_net = closing["_exact"][:2]
            target = _f(c_req)
            outcome = {"period": closing["period"], "review_date": closing["review_date"],
                       "figure_as_at": closing["figure_as_at"], "net": _f(c_net),
                       "target": _f(c_req), "met": closing["provisional"]["met"]}
        status = _status(cancelled, outcome, due, as_of, stop, as_of_month)
        plan = None
        if review.action_plan is not None:
            days, working = review.action_plan
            plan = str(workday(np.array([due]), days, cal)[0]) if working else \
                str(due + np.timedelta64(days, "D"))
        split = f"{r['provisional']['validated_months']} months validated"
        if r["provisional"]["extrapolated_months"]:
            split += (f", {r['provisional']['extrapolated_months']} extrapolated at "
                      f"{_pct(Fraction(r['provisional']['extrapolation_rate']))}")
        notice = {
            "remedy": review.notice, "title": review.notice_title, "review": review.name,
            "measure": mid, "group": r["group"], "month": r["period"],
            "issued": str(due), "action_plan_due": plan,
            "remedy_period_end": str(_month_end(stop)), "target": target,
            "status": status, "cancelled": cancelled, "end_of_remedy": outcome,
            "reasons": [f"{mid} {r['basis'].replace('_', ' ')} {r['months'][0]} to "
                        f"{r['months'][1]}: {float(net):.2f} net against {float(required):.2f} "
                        f"required ({split})"],
            "_end": stop,
        }
        r["notice"] = f"{review.notice} raised"
        out.append(notice)
    return out


def _status(cancelled: str | None, outcome: dict[str, Any] | None, due: np.datetime64,
            as_of: np.datetime64, stop: int, as_of_month: int) -> str:
    if due > as_of:
        return f"provisional: the review is on {due}"
    if cancelled is not None and np.datetime64(cancelled) <= as_of:
        return "cancelled"
    if outcome is None or np.datetime64(outcome["review_date"]) > as_of:
        return "open"
    if outcome["met"] is None:
        return "not assessed at the end of the remedy period"
    return "target met" if outcome["met"] else "target missed"


def runs(n: dict[str, Any], month: int, as_of: np.datetime64) -> bool:
    """Whether notice ``n`` runs at the end of ``month`` (months since 1970-01): issued by then
    and by the as-of date, not cancelled by then, its remedy period not over."""
    end = _month_end(month)
    issued = np.datetime64(n["issued"])
    return bool(issued <= end and issued <= as_of and month <= n["_end"] and
                (n["cancelled"] is None or np.datetime64(n["cancelled"]) > end))


def open_months(notices: list[dict[str, Any]], name: str, keys: tuple[str, ...], axis: Axis,
                as_of: np.datetime64) -> dict[tuple[Any, ...], list[str]]:
    """Per group and month of the axis: the notices called ``name`` running at the month end,
    described for a reason ('on JO_VS_MPL_PG1, raised for 2023-12, to 2024-06-30'), or ''."""
    out: dict[tuple[Any, ...], list[str]] = {}
    for n in notices:
        if n["remedy"] != name:
            continue
        months = out.setdefault(tuple(n["group"][k] for k in keys), [""] * axis.size)
        what = (f"on {n['measure']}, raised for {n['month']}, to "
                f"{n['remedy_period_end']}")
        for i in range(axis.size):
            if runs(n, axis.first_month + i, as_of):
                months[i] = f"{months[i]}; {what}" if months[i] else what
    return out


def annotate(levels: list[dict[str, Any]], notices: list[dict[str, Any]],
             as_of: np.datetime64) -> None:
    """Give each regime row the notices of its group running at the end of its month."""
    for row in levels:
        month = int(np.datetime64(row["month"], "M").astype(np.int64))
        row["notices"] = [
            {"notice": n["remedy"], "measure": n["measure"], "raised_for": n["month"],
             "remedy_period_end": n["remedy_period_end"]}
            for n in notices if all(n["group"].get(k) == v for k, v in row["group"].items())
            and runs(n, month, as_of)]


def public(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notices without their private fields, sorted by name, group, measure and month."""
    rows = [{k: v for k, v in n.items() if not k.startswith("_")} for n in notices]
    return sorted(rows, key=lambda n: (n["remedy"], group_order(n["group"]), n["measure"],
                                       n["month"]))


def group_order(group: dict[str, Any]) -> list[tuple[str, str]]:
    """A group's sort key, as results are sorted: by column name, an empty value first."""
    return [(k, "" if v is None else v) for k, v in sorted(group.items())]
