"""Differential tests: the compiled numpy engine against the reference interpreter.

Random contracts are written as ``.pmir`` text (so the parser and checker are exercised too) from
the language's constructs: windows of each kind and length, category-dependent windows, deadlines,
filters, conditions, 'due when', targets, count targets, bands (reporting-only and deciding),
bases, group levels (joined through references too), minimum denominators, direct and cohort
profiles (monthly ones too), windows in calendar months (with lateness buckets), backlogs and
averages (of days, and of another table's rows per
record, with cohorts of at least N months); and the Work Programme's (docs/language.md 10): count
ratios (read through references too), targets looked up per record, 'no target', ranks, lateness
buckets, ranks within a column's value, formal reviews with validation rounds (a provider's own
too) and notices, and regimes that follow the notices; and assurance reviews (docs/language.md
9.5: same or worse for the same reasons, read either way, runs, late action plans). Random
data is written as CSV: nulls, weekend and bank-holiday dates, events before their anchors,
records before the service start and after the as-of date, empty months, single-row groups,
unknown references, rate tables with gaps, empty keys and (rarely) overlapping or backwards rows,
validation rounds with gaps and (rarely) broken rules; sometimes a busier extract, for reviews
and notices to be decided. Both engines must print the same JSON.

Profiles: ``HYPOTHESIS_PROFILE=ci`` (the default, a couple of minutes on 2 cores) or ``long``.
The failing examples found are kept in ``tests/regressions/`` and replayed by
:func:`test_regression_case`; those that show a known bug of the numpy engine are marked
``xfail(strict=True)`` with the bug's name, so that fixing the bug makes them pass loudly.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pmir_dsl.check import check_source
from pmir_dsl.compile import compile_contract
from pmir_dsl.errors import DataError
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import evaluate
from pmir_dsl.reference import evaluate_reference
from pmir_dsl.report.json import render, to_dict

REPO = Path(__file__).resolve().parent.parent
REGRESSIONS = Path(__file__).resolve().parent / "regressions"

settings.register_profile("ci", max_examples=700, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("long", max_examples=4000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
# for hunting: no shrinking, every failure kept (with PMIRC_KEEP_FAILURES=DIR)
settings.register_profile("hunt", max_examples=2000, deadline=None, phases=[Phase.generate],
                          report_multiple_bugs=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


# ---- comparing the two engines -------------------------------------------------------------------

#: Known differences in the numpy engine: none open. A new one is kept as a failing regression
#: case in tests/regressions/ (case.json "bug": NAME, a strict xfail) and, while it is open, is
#: listed here with its normalisation in :func:`normalise`, so that it does not hide others.
#: The bugs fixed so far are the regression cases whose case.json says "fixed".
KNOWN_BUGS: dict[str, str] = {}


def normalise(out: dict[str, Any]) -> dict[str, Any]:
    """The JSON object less what legitimately differs: the tables' data paths."""
    out = json.loads(json.dumps(out))
    for t in out["tables"].values():
        t.pop("path", None)
    return out


def both(source: str, data: Path, as_of: str | None) -> tuple[Any, Any]:
    """The numpy engine's JSON object (or DataError, or a Crash), and the reference's."""
    contract = check_source(source, "differential.pmir", data)
    plan = compile_contract(contract)
    try:
        tables = load_tables(data, plan.contract.used_tables())
    except DataError as e:
        pytest.fail(f"the generated data is not loadable: {e}")
    results: list[Any] = []
    for run in (lambda: evaluate(plan, tables, as_of),
                lambda: evaluate_reference(plan, tables, as_of)):
        try:
            results.append(to_dict(run()))
        except DataError:
            results.append(DataError)
        except Exception as e:  # noqa: BLE001 - a crash: 'internal error' from pmirc check
            frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
            results.append(Crash(f"{type(e).__name__}: {e}", tuple(frames)))
    return results[0], results[1]


class Crash:
    """An engine raised something other than DataError (pmirc would exit 70)."""

    def __init__(self, error: str, frames: tuple[str, ...]):
        self.error, self.frames = error, frames

    def __repr__(self) -> str:
        return f"crash ({self.error}) in {' > '.join(self.frames[-4:])}"


def assert_same(source: str, data: Path, as_of: str | None) -> None:
    """Both engines give the same JSON (or both refuse the data)."""
    a, b = both(source, data, as_of)
    if isinstance(a, Crash) or isinstance(b, Crash):
        raise AssertionError(f"numpy: {a if isinstance(a, Crash) else 'ok'}; "
                             f"reference: {b if isinstance(b, Crash) else 'ok'}")
    if a is DataError or b is DataError:
        assert a is b, f"numpy: {'DataError' if a is DataError else 'ok'}, " \
                       f"reference: {'DataError' if b is DataError else 'ok'}"
        return
    a, b = normalise(a), normalise(b)
    if a != b:
        raise AssertionError(describe(a, b))
    assert json.dumps(a) == json.dumps(b), "same values, keys in another order"


def describe(a: dict[str, Any], b: dict[str, Any]) -> str:
    """The first few differences, readably."""
    lines = []
    for key in a:
        if a[key] == b.get(key):
            continue
        lines.append(f"== {key} differs")
        if isinstance(a[key], list) and isinstance(b.get(key), list):
            if len(a[key]) != len(b[key]):
                lines.append(f"   numpy has {len(a[key])} entries, reference {len(b[key])}")
                only_a = [x for x in a[key] if x not in b[key]][:4]
                only_b = [x for x in b[key] if x not in a[key]][:4]
                lines += [f"   only numpy:     {x}" for x in only_a]
                lines += [f"   only reference: {x}" for x in only_b]
            else:
                shown = 0
                for x, y in zip(a[key], b[key]):
                    if x != y and shown < 4:
                        lines += [f"   numpy:     {x}", f"   reference: {y}"]
                        shown += 1
        else:
            lines += [f"   numpy:     {a[key]}", f"   reference: {b.get(key)}"]
    return "\n".join(lines)


def write_csv(folder: Path, name: str, header: list[str], rows: list[list[Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows([["" if v is None else v for v in row] for row in rows])


# ---- the contract's tables (fixed) and random measures -------------------------------------------

TABLES = """
table referrals "one row per referral" {
  referral_id: id
  provider: text?
  region: category(north, south, west)?
  urgent: bool?
  kind: category(virtual, face_to_face, enhanced)?
  referral_date: date?
  ack_date: date?
  report_date: date?
  start_date: date?
  recorded_date: date?
  submitted_date: date?
  hours: integer?
  cost: decimal?
  budget: decimal?
  period: period?
  sent_month: month?
  end_date: date?
ORDERS}

table meetings "one row per meeting; exactly one date column" {
  referral_id: ref(referrals)?
  meeting_date: date?
}

table outcomes "one row per outcome; no id column, so records are named by their row" {
  referral_id: ref(referrals)?
  outcome: category(job, sustained)
  achieved_date: date?
}

table starts_profile {
  provider: text
  region: text
  month: month
  profiled: integer
}

table outcomes_profile {
  provider: text
  region: text
  outcome: category(job, sustained)
  month: month
  profiled: decimal
}

table outcome_profiles {
  provider: text
  region: text
  outcome: category(job, sustained)
  month: integer
  rate: decimal
  share: decimal
}

table cumulative_profiles {
  provider: text
  outcome: category(job, sustained)
  month: integer
  rate: decimal
}

table rates_by_provider "looked-up rates: from and to months" {
  provider: text?
  from_month: month?
  to_month: month?
  rate: decimal?
}

table rates_by_region_kind {
  region: text?
  kind: category(virtual, face_to_face, enhanced)?
  from_month: month?
  to_month: month?
  rate: decimal?
}

table rates_by_urgent "looked-up rates: one month column, whole numbers" {
  urgent: bool?
  month: month?
  rate: integer?
}

table validation "validation rounds" {
  period_start: date?
  period_end: date?
  rate: decimal?
  completed_date: date?
  provider: text?
}

table assurance_reviews "assurance reviews: ratings, reasons and action plans (9.5)" {
  provider: text?
  review_id: id
  completed_date: date?
  rating: category(weak, limited, reasonable, strong)?
  reasons: text?
  plan_due: date?
  plan_submitted: date?
}

bands tiers(good, fair) for reporting only {
  "Good" at least good
  "Fair" at least fair
  "Poor" otherwise
}

bands tolerance(pass_mark, tolerance) deciding {
  "Met" at least pass_mark passes
  "Tolerated" at least tolerance passes
  "Not met" otherwise
}

bands fixed_shares for reporting only {
  "High" at least 75%
  "Low" otherwise passes
}
"""

REF_HEADER = ["referral_id", "provider", "region", "urgent", "kind", "referral_date", "ack_date",
              "report_date", "start_date", "recorded_date", "submitted_date", "hours", "cost",
              "budget", "period", "sent_month", "end_date"]
DATES = ["referral_date", "ack_date", "report_date", "start_date", "recorded_date",
         "submitted_date"]
EVENTS = ["ack_date", "report_date", "start_date", "recorded_date", "submitted_date"]
PROVIDERS = ["A", "B", "Wales and West"]
GROUPABLE = ["provider", "region", "urgent", "kind"]

# Interesting service starts: around the 2022 Jubilee and State Funeral, Easter 2023 and the
# Coronation, Christmas, a leap day, mid-month starts.
STARTS = ["2022-04-01", "2022-05-16", "2022-09-01", "2022-12-01", "2023-01-01", "2023-03-15",
          "2023-04-01", "2023-12-27", "2024-02-29", "2024-04-01", "2024-10-01"]
CALENDARS = ["england_and_wales", "england_and_wales", "scotland", "northern_ireland"]


def day(d: dt.date) -> str:
    return d.isoformat()


def pct(n: int) -> str:
    """A percentage from tenths of a percent: 935 -> 93.5%."""
    return f"{n // 10}%" if n % 10 == 0 else f"{n // 10}.{n % 10}%"


@st.composite
def conditions(draw: st.DrawFn, table: str, depth: int = 2) -> str:
    """A random filter or met condition on ``table`` (never a time window)."""
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        op = draw(st.sampled_from(["and", "or"]))
        items = draw(st.lists(conditions(table, depth - 1), min_size=2, max_size=3))
        return "(" + f" {op} ".join(items) + ")"
    if depth > 0 and draw(st.integers(0, 6)) == 0:
        return "not " + draw(conditions(table, depth - 1))
    if table == "outcomes":
        atoms = [
            "outcome is job", "outcome is not sustained", "outcome is one of (job, sustained)",
            "achieved_date is present", "achieved_date is missing", "referral_id is present",
            "provider is A", 'provider is "Wales and West"', "region is not north",
            "urgent", "urgent is false", "kind is one of (virtual, enhanced)",
            "start_date is present", "achieved_date >= 2023-06-01",
        ]
        return draw(st.sampled_from(atoms))
    atoms = [
        "urgent", "urgent is true", "urgent is false", "urgent is not true",
        "provider is A", "provider is B", 'provider is "Wales and West"', "provider is Z",
        "provider is not A", "provider is one of (A, B)", "provider is not one of (B)",
        "region is north", "region is not south", "region is one of (north, west)",
        "region is not one of (west)", "kind is enhanced", "kind is not virtual",
        "referral_id is R03", "referral_id is not one of (R01, R02)",
        "hours > 3", "hours <= 10", "hours = 0", "hours != 5", "cost >= 1", "cost < budget",
        "budget > 0", "hours < cost", "cost >= 10000000000000", "hours > 9223372036855",
        "hours >= 999999999999999999", "cost <= 999999999999",
        "referral_date >= 2023-04-01", "referral_date < 2024-01-01", "ack_date > referral_date",
        "report_date = ack_date",
    ] + [f"{c} is present" for c in REF_HEADER[1:]] + [f"{c} is missing" for c in REF_HEADER[1:]]
    return draw(st.sampled_from(atoms))


@st.composite
def groups_clause(draw: st.DrawFn, allowed: list[str],
                  combined: tuple[str, ...] = ("provider and region", "region and kind")) -> str:
    levels = draw(st.lists(st.sampled_from(allowed + list(combined)), min_size=1, max_size=3))
    return "group by " + ", ".join(levels)


@st.composite
def bands_clause(draw: st.DrawFn, share: bool) -> str:
    which = draw(st.sampled_from(["tiers", "tolerance", "fixed"] if share else
                                 ["tiers", "tolerance"]))
    if which == "fixed":
        return "bands fixed_shares"
    if share:
        hi = draw(st.integers(2, 1000))
        lo = draw(st.integers(0, hi - 1))
        return f"bands {which}({pct(hi)}, {pct(lo)})"
    hi = draw(st.integers(1, 8))
    lo = draw(st.integers(0, hi - 1))
    return f"bands {which}({hi}, {lo})"


@st.composite
def share_target(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["at least", "at least", "at most", "below", "above"]))
    return f"target {op} {pct(draw(st.integers(0, 1000)))}"


@st.composite
def count_target(draw: st.DrawFn) -> str:
    return f"target {draw(st.sampled_from(['at least', 'at most']))} {draw(st.integers(0, 6))}"


@st.composite
def window(draw: st.DrawFn) -> tuple[str, str, tuple[int, str] | None]:
    """(the window text, the period clause that goes with it, (N, unit) for 'within N days')."""
    kind = draw(st.sampled_from(["working", "working", "calendar", "same_day", "by_category",
                                 "deadline", "months"]))
    event = draw(st.sampled_from(EVENTS))
    anchor = draw(st.sampled_from(["referral_date", "referral_date", "ack_date"]))
    period = f"month of {anchor}" if draw(st.booleans()) else f"quarter of {anchor}"
    if kind == "working":
        n = draw(st.integers(0, 25))
        return f"{event} within {n} working day{'s' if n != 1 else ''} of {anchor}", period, \
            (n, "working days")
    if kind == "calendar":
        n = draw(st.integers(0, 40))
        return f"{event} within {n} calendar days of {anchor}", period, (n, "calendar days")
    if kind == "months":  # Excel's EDATE (WP 8.30)
        n = draw(st.integers(0, 3))
        return f"{event} within {n} calendar month{'s' if n != 1 else ''} of {anchor}", \
            period, (n, "calendar months")
    if kind == "same_day":
        return f"{event} on the day of {anchor}", period, None
    if kind == "by_category":
        values = ["virtual", "face_to_face", "enhanced"]
        named = draw(st.lists(st.sampled_from(values), unique=True, min_size=1, max_size=3))
        cases = [f"{v} {draw(st.integers(0, 15))}" for v in named]
        if len(named) < 3 or draw(st.booleans()):
            cases.append(f"otherwise {draw(st.integers(0, 15))}")
        unit = draw(st.sampled_from(["working days", "calendar days"]))
        return f"{event} within (by kind: {', '.join(cases)}) {unit} of {anchor}", period, None
    source = draw(st.sampled_from(["period", "sent_month"]))
    unit = "month" if (source == "sent_month" or draw(st.booleans())) else "quarter"
    nth = draw(st.integers(1, 28))
    suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(nth, "th")
    roll = ", or the next working day" if draw(st.booleans()) else ""
    period = f"{unit} of {source}" if draw(st.integers(0, 3)) else f"{unit} of referral_date"
    return f"submitted_date on or before the {nth}{suffix} of the month after {source}{roll}", \
        period, None


@st.composite
def bases_clause(draw: st.DrawFn, quarterly: bool) -> str:
    pool = ["quarter", "cumulative", "year_to_date", "rolling_12"] if quarterly else \
        ["in_month", "rolling_3", "rolling_12", "cumulative", "quarter", "year_to_date"]
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    return ("basis " if len(chosen) == 1 and draw(st.booleans()) else "bases ") + \
        ", ".join(chosen)


#: Looked-up targets: (table, its key columns), each key also a column of referrals.
RATE_TABLES = [("rates_by_provider", ("provider",)), ("rates_by_region_kind", ("region", "kind")),
               ("rates_by_region_kind", ("kind", "region")), ("rates_by_urgent", ("urgent",))]


@st.composite
def count_ratio(draw: st.DrawFn, table: str) -> tuple[list[str], bool]:
    """The lines of a count ratio ('ratio count of A over count of B') and its target: a rate
    looked up per record (usually), a percentage, or none; and whether it is looked up."""
    if table == "outcomes":  # A or B read through the outcome's referral, and the lookup keys
        a, b = draw(st.sampled_from([("achieved_date", "start_date"),
                                     ("start_date", "achieved_date"),
                                     ("achieved_date", "referral_date")]))
    else:
        a, b = draw(st.sampled_from([(x, y) for x in DATES for y in DATES if x != y] +
                                    [("ack_date", "referral_date"), ("start_date", "referral_date")]
                                    * 4 + [("referral_date", "referral_date")]))
    lines = [f"ratio count of {a} over count of {b}"]
    how = draw(st.integers(0, 5))
    if how == 0:
        lines.append(draw(share_target()))
    elif how == 1:
        lines.append("no target")
    else:
        rates, keys = draw(st.sampled_from(RATE_TABLES))
        lines.append(f"target at least rate of {rates} for {', '.join(keys)} in the month of {b}")
    return lines, how > 1


def levels_of(clause: str | None) -> list[str]:
    """The group levels a 'group by' clause names ('provider and region', ...)."""
    if clause is None or clause == "group by contract only":
        return []
    return [level.strip() for level in clause[len("group by "):].split(",")]


@st.composite
def measure(draw: st.DrawFn, mid: str, contract_groups: str | None,
            contract_bases: bool) -> tuple[str, list[str] | None]:
    """One random measure declaration, and, for a count ratio with a looked-up target (which a
    review may name), its group levels."""
    kind = draw(st.sampled_from(["window", "window", "condition", "count_records", "ratio",
                                 "direct", "direct_outcomes", "cohort", "backlog_share",
                                 "backlog_count", "gap", "count_ratio", "count_ratio",
                                 "count_ratio_outcomes", "backlog_breach", "average",
                                 "cohort_own", "average_count"]))
    lines: list[str] = []
    table = "outcomes" if kind in ("cohort", "direct_outcomes", "count_ratio_outcomes") \
        else "referrals"
    where = f" where {draw(conditions(table))}" if draw(st.integers(0, 2)) == 0 else ""
    share = kind in ("ratio", "direct", "direct_outcomes", "cohort", "cohort_own", "backlog_share",
                     "count_ratio", "count_ratio_outcomes")
    quarterly = False
    looked_up = False
    if kind in ("window", "condition", "count_records"):
        counted = kind != "window" and draw(st.booleans())
        if kind == "window":
            text, period, days = draw(window())
            counted = draw(st.booleans())
            lines.append(period)
            lines.append(("count when " if counted else "met when ") + text)
            if days is not None and draw(st.integers(0, 2)) == 0:
                top = 4 if days[1] == "calendar months" else 30
                bounds = sorted(set(draw(st.lists(st.integers(days[0] + 1, days[0] + top),
                                                  min_size=1, max_size=3))))
                lines.append(f"lateness buckets up to {', '.join(map(str, bounds))} "
                             f"{days[1]}")
        else:
            col = draw(st.sampled_from(DATES + ["period", "sent_month"]))
            unit = draw(st.sampled_from(["month", "quarter"]))
            lines.append(f"{unit} of {col}")
            if kind == "count_records":
                counted = True
                lines.append("count records")
            else:
                lines.append(("count when " if counted else "met when ") +
                             draw(conditions("referrals")))
                if draw(st.integers(0, 2)) == 0:
                    n = draw(st.integers(0, 25))
                    unit_days = draw(st.sampled_from(["working days", "calendar days"]))
                    event = draw(st.sampled_from(EVENTS))
                    lines.append(f"due when {event} is present or {n} {unit_days} after "
                                 f"referral_date")
        quarterly = lines[0].startswith("quarter")
        share = not counted
        lines.append(draw(count_target() if counted else share_target()))
    elif kind == "ratio":
        unit = draw(st.sampled_from(["month", "quarter"]))
        quarterly = unit == "quarter"
        column = draw(st.sampled_from(["referral_date", "period", "sent_month"]))
        lines.append(f"{unit} of {column}")
        num, den = draw(st.sampled_from([("cost", "budget"), ("hours", "budget"),
                                         ("cost", "hours"), ("hours", "hours")]))
        lines.append(f"ratio sum {num} over sum {den}")
        lines.append(draw(share_target()))
    elif kind in ("count_ratio", "count_ratio_outcomes"):
        found, looked_up = draw(count_ratio(table))
        lines += found
    elif kind == "direct":
        where = " where start_date is present" + (where.replace(" where ", " and ")
                                                  if where else "")
        lines += ["month of start_date", "count records", "expected profiled of starts_profile",
                  f"target at least {pct(draw(st.integers(0, 1000)))} of expected"]
    elif kind == "direct_outcomes":
        outcome = draw(st.sampled_from(["job", "sustained"]))
        if draw(st.booleans()):
            where = f" where outcome is {outcome}"
        lines += ["month of achieved_date", "count records",
                  f"expected profiled of outcomes_profile where outcome is {outcome}",
                  f"target at least {pct(draw(st.integers(0, 1000)))} of expected"]
    elif kind == "gap":
        n = draw(st.integers(0, 40))
        unit = draw(st.sampled_from(["calendar days", "working days"]))
        lines.append("each month from start_date until end_date" if draw(st.booleans())
                     else "month of start_date")
        counted = draw(st.integers(0, 3)) == 0
        share = not counted
        lines.append(("count when " if counted else "met when ") +
                     f"meetings at most {n} {unit} apart from start_date until end_date")
        lines.append(draw(count_target() if counted else share_target()))
    elif kind == "cohort":
        profile = draw(st.sampled_from(["outcome_profiles", "cumulative_profiles",
                                        "monthly cumulative_profiles"]))
        outcome = draw(st.sampled_from(["job", "sustained"]))
        if draw(st.booleans()):
            where = f" where outcome is {outcome}"
        lines += ["month of achieved_date", "count records",
                  f"expected cohorts of referrals by start_date times {profile} "
                  f"where outcome is {outcome}",
                  f"target at least {pct(draw(st.integers(0, 1000)))} of expected"]
    elif kind == "average":  # the mean days from A to B: total days over records
        a, e = draw(st.sampled_from([("referral_date", "ack_date"), ("ack_date", "report_date"),
                                     ("referral_date", "start_date"), ("start_date", "end_date")]))
        lines.append(f"month of {draw(st.sampled_from([a, e, 'referral_date']))}")
        unit = draw(st.sampled_from(["working days", "calendar days"]))
        lines.append(f"average {unit} from {a} to {e}")
        lines.append(draw(st.sampled_from(["no target", "target at most 5", "target at least 2"])))
    elif kind == "average_count":  # another table's rows per record (WP 8.25, 10.11)
        lines.append(f"month of {draw(st.sampled_from(['referral_date', 'start_date']))}")
        other, date = draw(st.sampled_from([("meetings", "meeting_date"),
                                            ("outcomes", "achieved_date")]))
        lines.append(f"average count of {other} by {date}")
        if draw(st.integers(0, 2)) > 0:
            lines.append(f"cohorts of at least {draw(st.integers(0, 14))} months")
        lines.append(draw(st.sampled_from(["no target", "target at most 1", "target at least 2"])))
    elif kind == "backlog_breach":  # semantics 6a: each breach once, in the month after
        lines.append("month of referral_date")
        until = draw(st.sampled_from(["recorded_date", "ack_date"]))
        n = draw(st.integers(0, 45))
        unit = draw(st.sampled_from(["working days", "calendar days"]))
        lines.append(f"count breaches of backlog until {until} for over {n} {unit}")
        lines.append(draw(count_target()))
    elif kind == "cohort_own":  # the starts' own outcomes (WP: a participant's job outcome)
        profile = draw(st.sampled_from(["outcome_profiles", "cumulative_profiles",
                                        "monthly cumulative_profiles"]))
        outcome = draw(st.sampled_from(["job", "sustained"]))
        lines += [f"month of {draw(st.sampled_from(['report_date', 'recorded_date']))}",
                  "count records",
                  f"expected cohorts of referrals by start_date times {profile} "
                  f"where outcome is {outcome}",
                  f"target at least {pct(draw(st.integers(0, 1000)))} of expected"]
    else:
        lines.append("month of referral_date")
        until = draw(st.sampled_from(["recorded_date", "ack_date"]))
        if kind == "backlog_share":
            lines.append(f"share in backlog until {until}")
            lines.append(draw(share_target()))
        else:
            over = ""
            if draw(st.booleans()):
                n = draw(st.integers(0, 45))
                over = f" for over {n} {draw(st.sampled_from(['working days', 'calendar days']))}"
            lines.append(f"count in backlog until {until}{over}")
            lines.append(draw(count_target()))
        if draw(st.booleans()):
            lines.append("basis cumulative")
    if kind not in ("backlog_share", "backlog_count"):
        if draw(st.booleans()) or (quarterly and contract_bases):
            lines.append(draw(bases_clause(quarterly)))
    if kind in ("direct", "direct_outcomes"):  # its groups must be the profile's keys
        if contract_groups is not None or draw(st.booleans()):
            lines.append(draw(groups_clause(["provider", "region"], ("provider and region",))))
    elif draw(st.integers(0, 5)) == 0:
        lines.append("group by contract only")
    elif draw(st.booleans()):
        lines.append(draw(groups_clause(GROUPABLE)))
    if draw(st.integers(0, 3)) == 0:
        lines.append(draw(bands_clause(share)))
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"minimum denominator {draw(st.integers(1, 4))}")
    if draw(st.integers(0, 9)) == 0:  # reported, never judged (10.3)
        lines = ["no target" if x.startswith("target ") else x for x in lines]
    if draw(st.integers(0, 2)) == 0:
        ranked = f"rank {draw(st.sampled_from(['highest', 'lowest']))} first"
        own = next((x for x in lines if x.startswith("group by")), contract_groups)
        pairs = [level.split(" and ") for level in levels_of(own) if " and " in level]
        if pairs and draw(st.booleans()):  # the primes within a CPA (WP 3.3, 8.9)
            ranked += f" within {draw(st.sampled_from(sorted({c for p in pairs for c in p})))}"
        lines.append(ranked)
    body = "\n  ".join([f"population {table}{where}", *lines])
    levels = None
    if looked_up and any(x.startswith("target at least rate of") for x in lines):
        own = next((x for x in lines if x.startswith("group by")), None)
        levels = levels_of(own if own is not None else contract_groups)
    return f'measure {mid} "Measure {mid}" {{\n  {body}\n}}\n', levels


@st.composite
def review(draw: st.DrawFn, reviewable: list[tuple[str, list[str]]]) -> str:
    """A review of some count ratios with looked-up targets (10.6, 10.7), at one group level
    they all have, with or without validation rounds and a notice; sometimes a regime that
    follows the notice (10.8)."""
    level = draw(st.sampled_from([None, *reviewable[0][1]]))
    names = [mid for mid, levels in reviewable if level is None or level in levels]
    lines = [f"group by {level}"] if level is not None else []
    lines.append(f"measures {', '.join(names)}")
    basis = draw(st.sampled_from(["rolling_3", "quarter", "year_to_date", "cumulative",
                                  "rolling_12", "quarter"]))
    lines.append(f"at each quarter end over {basis}")
    if draw(st.booleans()):
        lag = draw(st.integers(0, 2))
        lines.append(f"reviewed {lag} month{'s' if lag != 1 else ''} after the quarter end")
    if draw(st.integers(0, 3)):
        lines.append("net of the rate of validation for period_start to period_end, "
                     "completed on completed_date")
    notice = draw(st.integers(0, 3)) > 0
    if notice:
        lines += ['notice PIN "Improvement notice" when failed',
                  f"remedy period {draw(st.sampled_from([3, 6, 6, 9, 12]))} months"]
    if notice and draw(st.booleans()):  # (the checker wants a notice for these three)
        lines.append("no further notice before the end date")
    if notice and draw(st.booleans()):
        lines.append("cancel when the validated figures meet")
    if notice and draw(st.booleans()):
        lines.append(f"action plan due within {draw(st.integers(0, 12))} "
                     f"{draw(st.sampled_from(['working', 'calendar']))} days")
    text = 'review R "Review" {\n  ' + "\n  ".join(lines) + "\n}\n"
    if notice and draw(st.booleans()):
        rules = ["escalate to level 2 when PIN open",
                 "return to level 1 from level 2 when no PIN open"]
        regime = ([f"group by {level}"] if level is not None else []) + \
            ['level 1 "Normal"', 'level 2 "Notice"', *rules]
        text += '\nregime G "Regime" {\n  ' + "\n  ".join(regime) + "\n}\n"
    return text


RATINGS = ["weak", "limited", "reasonable", "strong"]


@st.composite
def assurance(draw: st.DrawFn) -> str:
    """An assurance over the fixed assurance_reviews table (9.5): its ratings worst first, with
    one to three of its actions, each on a random set of ratings and reading."""
    def ratings() -> str:
        return " or ".join(draw(st.lists(st.sampled_from(RATINGS), min_size=1, max_size=3,
                                         unique=True)))

    scale = RATINGS if draw(st.integers(0, 3)) else ["strong", "reasonable", "limited", "weak"]
    lines = ([] if draw(st.integers(0, 3)) == 0 else ["group by provider"]) + [
        "reviews assurance_reviews completed on completed_date",
        f"ratings from rating, worst first: {', '.join(scale)}"]
    reasons = draw(st.booleans())
    if reasons:
        sep = draw(st.sampled_from([";", ";", ";", ","]))
        lines.append(f'reasons from reasons separated by "{sep}"')
        reading = draw(st.sampled_from(["any in common", "all of them"]))
        lines.append(f"action when {ratings()} is followed by the same or worse for the same "
                     f"reasons ({reading})")
    if not reasons or draw(st.booleans()):
        lines.append(f"action when {draw(st.integers(2, 4))} consecutive ratings are "
                     f"{ratings()}")
    if draw(st.booleans()):
        lines.append("action when plan_submitted is not on or before plan_due")
    return 'assurance PAT "Assurance" {\n  ' + "\n  ".join(lines) + "\n}\n"


@st.composite
def contracts(draw: st.DrawFn) -> tuple[str, dt.date]:
    """Contract text (header, the fixed tables and 1-3 random measures) and its service start."""
    start = dt.date.fromisoformat(draw(st.sampled_from(STARTS)))
    if draw(st.integers(0, 3)) == 0:
        start += dt.timedelta(days=draw(st.integers(1, 27)))
    header = [f"service start {day(start)}", f"calendar {draw(st.sampled_from(CALENDARS))}"]
    if draw(st.integers(0, 3)) == 0:  # a header assumption: both engines show it alike
        header.insert(1, 'assume "the service start: the guidance gives none"')
    if draw(st.integers(0, 4)) == 0:
        header.append(f'add holiday {day(start + dt.timedelta(days=draw(st.integers(0, 90))))} '
                      '"closure"')
    if draw(st.integers(0, 4)) == 0:
        removed = draw(st.sampled_from(["2022-06-03", "2023-05-08", "2023-12-25", "2024-05-06",
                                        "2024-12-26"]))
        header.append(f"remove holiday {removed}")
    if draw(st.integers(0, 3)) == 0:
        header.append(f"extract date {day(start + dt.timedelta(days=draw(st.integers(0, 420))))}")
    contract_bases = draw(st.integers(0, 3)) == 0
    if contract_bases:
        header.append(draw(bases_clause(False)))
    contract_groups = draw(groups_clause(GROUPABLE)) if draw(st.integers(0, 2)) == 0 else None
    if contract_groups:
        header.append(contract_groups)
    n = draw(st.integers(1, 3))
    drawn = [draw(measure(f"M{i}", contract_groups, contract_bases)) for i in range(n)]
    measures = [text for text, _ in drawn]
    reviewable = [(f"M{i}", levels) for i, (_, levels) in enumerate(drawn) if levels is not None]
    if reviewable and draw(st.booleans()):
        measures.append(draw(review(reviewable)))
    if draw(st.integers(0, 3)) == 0:
        measures.append(draw(assurance()))
    orders = draw(st.lists(st.sampled_from(["start_date not before referral_date",
                                            "report_date not before ack_date",
                                            "end_date not before start_date"]),
                           max_size=2, unique=True))  # semantics.md 1: excluded, both engines
    tables = TABLES.replace("ORDERS", "".join(f"  {o}\n" for o in orders))
    text = 'contract "Differential" {\n  ' + "\n  ".join(header) + "\n}\n" + tables + \
        "\n".join(measures)
    return text, start


@st.composite
def dates_near(draw: st.DrawFn, start: dt.date) -> dt.date:
    """A date from before the service start to over a year after it, often an awkward one:
    a weekend, a bank holiday, a month end."""
    how = draw(st.integers(0, 4))
    if how == 0:
        return dt.date.fromisoformat(draw(st.sampled_from([
            "2022-06-02", "2022-06-03", "2022-06-04", "2022-09-19", "2022-12-26", "2022-12-27",
            "2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29",
            "2023-08-28", "2023-12-25", "2023-12-26", "2024-01-01", "2024-03-29", "2024-04-01",
            "2024-05-06", "2024-08-05", "2024-08-26", "2024-11-30", "2024-12-31", "2025-01-02",
            "2025-03-17", "2023-03-17", "2023-07-12", "2024-07-12"])))
    if how == 1:  # a month end near the start
        month = start.month + draw(st.integers(-2, 14))
        year = start.year + (month - 1) // 12
        first_next = dt.date(year + (month % 12 == 0), month % 12 + 1, 1) if month % 12 else \
            dt.date(year + 1, 1, 1)
        return first_next - dt.timedelta(days=draw(st.integers(1, 2)))
    return start + dt.timedelta(days=draw(st.integers(-70, 430)))


def month_text(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


@st.composite
def profile_keys(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(provider, region) key values of a profile: some units, and ALL rows for the provider
    column, the region column, both or neither (usually for every value of the other column,
    sometimes not: decision 39 says what then)."""
    units = draw(st.lists(st.tuples(st.sampled_from(PROVIDERS),
                                    st.sampled_from(["north", "south", "west"])),
                          unique=True, max_size=4))
    keys = list(units)
    for column in draw(st.sampled_from([(), ("provider",), ("region",),
                                        ("provider", "region")])):
        if column == "provider":
            regions = sorted({r for _, r in units})
            keys += [("ALL", r) for r in regions if draw(st.integers(0, 5))]
        else:
            providers = sorted({p for p, _ in units})
            keys += [(p, "ALL") for p in providers if draw(st.integers(0, 5))]
    if len(keys) > len(units) and draw(st.booleans()):
        keys.append(("ALL", "ALL"))
    return keys


#: Magnitudes at the edge of what is held exactly (int64 millionths, docs/reliability.md): a
#: few fit a sum, more than nine of the largest do not (both engines must refuse the data), and
#: whole numbers past 9,223,372,036,854 cannot be scaled to millionths in an int64 to compare.
HUGE_DECIMALS = ["999999999999.999999", "-999999999999", "999999999999", "10000000000.5"]
HUGE_INTEGERS = [9_000_000_000_000, -9_000_000_000_000, 10_000_000_000_000, 10**17]


def huge(values: list[Any], usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``usual``; now and then (1 in 20) one of the huge ``values``."""
    return st.integers(0, 19).flatmap(lambda k: st.sampled_from(values) if k == 0 else usual)


@st.composite
def data_sets(draw: st.DrawFn, start: dt.date, busy: bool = False
              ) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """CSV tables for the fixed declarations, with nulls and awkward values."""
    # sometimes a busier extract, dated after the service start: enough records in each
    # quarter for looked-up targets, reviews and notices to be decided
    busy = busy or draw(st.integers(0, 4)) == 0
    n = draw(st.integers(15, 30) if busy else st.integers(0, 14))
    referrals = []
    maybe = st.integers(0, 5)
    for i in range(n):
        if busy:
            referral: dt.date | None = start + dt.timedelta(days=draw(st.integers(0, 400)))
        else:
            referral = draw(dates_near(start)) if draw(maybe) else None

        def event(far: int = 30) -> str | None:
            if referral is None or draw(st.integers(0, 3)) == 0:
                return None if draw(st.booleans()) else day(draw(dates_near(start)))
            return day(referral + dt.timedelta(days=draw(st.integers(-3, far))))

        period = None
        if draw(maybe):
            p = draw(dates_near(start))
            period = month_text(p) if draw(st.booleans()) else f"{p.year}-Q{(p.month - 1) // 3 + 1}"
        referrals.append([
            f"R{i:02d}" if draw(st.integers(0, 5)) else f"R{i}",
            draw(st.sampled_from(PROVIDERS)) if draw(maybe) else None,
            draw(st.sampled_from(["north", "south", "west"])) if draw(maybe) else None,
            draw(st.sampled_from(["true", "false", "TRUE"])) if draw(maybe) else None,
            draw(st.sampled_from(["virtual", "face_to_face", "enhanced"])) if draw(maybe)
            else None,
            None if referral is None else day(referral),
            event(8), event(20), event(20), event(60), event(70),
            draw(huge(HUGE_INTEGERS, st.integers(-2, 12))) if draw(maybe) else None,
            draw(huge(HUGE_DECIMALS, st.sampled_from(["0", "1.5", "2", "0.000001", "-1.25",
                                                      "3.333333", "10"])))
            if draw(maybe) else None,
            draw(huge(HUGE_DECIMALS, st.sampled_from(["0", "2.5", "4", "1", "7.75", "-2"])))
            if draw(maybe) else None,
            period,
            month_text(draw(dates_near(start))) if draw(maybe) else None,
            event(200),
        ])
    ids = [r[0] for r in referrals]

    def some_ref() -> str | None:
        if ids and draw(maybe):
            return draw(st.sampled_from(ids))
        return draw(st.sampled_from([None, "R99"]))

    outcomes = [[some_ref(), draw(st.sampled_from(["job", "sustained"])),
                 day(draw(dates_near(start))) if draw(maybe) else None]
                for _ in range(draw(st.integers(0, 10)))]
    meetings = []
    for _ in range(draw(st.integers(0, 20))):
        ref = some_ref()
        starts = [r[8] for r in referrals if r[0] == ref and r[8]]
        if starts and draw(st.integers(0, 3)):
            when = dt.date.fromisoformat(starts[0]) + dt.timedelta(days=draw(st.integers(-5, 90)))
        else:
            when = draw(dates_near(start))
        meetings.append([ref, day(when) if draw(maybe) else None])
    keys = draw(profile_keys())
    starts_profile, outcomes_profile, profiles = [], [], []
    for p, r in keys:
        for k in range(-1, 15):
            if draw(st.integers(0, 2)):
                starts_profile.append([p, r, month_text(_add_months(start, k)),
                                       draw(st.integers(0, 6))])
            if draw(st.integers(0, 3)) == 0:
                outcomes_profile.append([p, r, draw(st.sampled_from(["job", "sustained"])),
                                         month_text(_add_months(start, k)),
                                         draw(st.sampled_from(["0", "0.5", "1.25", "2"]))])
        for outcome in ("job", "sustained"):
            profiles += draw(share_profile(p, r, outcome))
    cumulative = []
    for p in sorted({p for p, _ in keys}):
        for outcome in ("job", "sustained"):
            length = draw(st.integers(1, 5))
            steps = draw(st.lists(st.integers(0, 40), min_size=length, max_size=length))
            total = 0
            for k, step in enumerate(steps):
                total += step
                cumulative.append([p, outcome, k, f"{total / 1000:.3f}"])
    return {
        **draw(rate_tables(start)),
        "validation": (["period_start", "period_end", "rate", "completed_date", "provider"],
                       draw(contract_rounds(start))),
        "referrals": (REF_HEADER, referrals),
        "outcomes": (["referral_id", "outcome", "achieved_date"], outcomes),
        "meetings": (["referral_id", "meeting_date"], meetings),
        "starts_profile": (["provider", "region", "month", "profiled"], starts_profile),
        "outcomes_profile": (["provider", "region", "outcome", "month", "profiled"],
                             outcomes_profile),
        "outcome_profiles": (["provider", "region", "outcome", "month", "rate", "share"],
                             profiles),
        "cumulative_profiles": (["provider", "outcome", "month", "rate"], cumulative),
        "assurance_reviews": (["provider", "review_id", "completed_date", "rating", "reasons",
                               "plan_due", "plan_submitted"], draw(assurance_rows(start))),
    }


@st.composite
def assurance_rows(draw: st.DrawFn, start: dt.date) -> list[list[Any]]:
    """Assurance reviews: a few per provider, same-day ones, missing and later-than-as-of
    dates, reasons with spaces, repeats and empty codes, agreed dates before the review."""
    rows = []
    maybe = st.integers(0, 7)
    for i in range(draw(st.integers(0, 14))):
        # mostly a history, a month or two apart; sometimes any awkward date, or none
        how = draw(maybe)
        done = (None if how == 0 else draw(dates_near(start)) if how == 1
                else start + dt.timedelta(days=30 * i + draw(st.integers(-20, 40))))
        codes = draw(st.lists(st.sampled_from(["gov", "claims", " claims", "data", ""]),
                              min_size=draw(st.sampled_from([0, 1, 1])), max_size=3))

        def after(far: int) -> str | None:
            if done is None or draw(st.integers(0, 2)) == 0:
                return None
            return day(done + dt.timedelta(days=draw(st.integers(-5, far))))

        due = after(90)
        rows.append([draw(st.sampled_from(["A", "A", "A", "B", "Wales and West"]))
                     if draw(maybe) else None, f"P{i:02d}", None if done is None else day(done),
                     draw(st.sampled_from([*RATINGS, "weak", "limited"])) if draw(maybe)
                     else None,
                     ";".join(codes) if codes else None, due, after(150)])
    return rows


@st.composite
def month_ranges(draw: st.DrawFn, start: dt.date) -> list[tuple[str | None, str | None]]:
    """(first, last) months of one key's rates: consecutive ranges around the service start,
    some left out; rarely one that overlaps the one before, runs backwards, or has an empty
    month."""
    cuts = sorted(set(draw(st.lists(st.integers(-2, 15), max_size=4))))
    bounds = [-3, *cuts, 16]
    out: list[tuple[str | None, str | None]] = []
    for lo, hi in zip(bounds, bounds[1:]):
        if draw(st.integers(0, 5)) == 0:
            continue  # no rate for these months
        first, last = lo if lo == -3 else lo + 1, hi
        fault = draw(st.integers(0, 300))  # (hypothesis draws the ends of a range often)
        if fault == 101 and out:
            first -= 1  # overlaps the range before
        elif fault == 102:
            first, last = last + 1, first  # backwards
        texts = [month_text(_add_months(start, first)), month_text(_add_months(start, last))]
        if fault == 103:
            texts[draw(st.integers(0, 1))] = None
        out.append((texts[0], texts[1]))
    return out


@st.composite
def rate_tables(draw: st.DrawFn, start: dt.date) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The looked-up targets' tables: rates per key values and months (empty key values too;
    some key values have no rates)."""
    decimals = st.sampled_from(["0.25", "0.1", "0.5", "0", "0.333333", "1", "1.5", "0.055"])

    def rate(values: Any) -> Any:
        return draw(values) if draw(st.integers(0, 12)) else None

    by_provider, by_region_kind, by_urgent = [], [], []
    for p in [*PROVIDERS, None, "Z"]:
        if draw(st.integers(0, 5)):
            by_provider += [[p, lo, hi, rate(decimals)] for lo, hi in draw(month_ranges(start))]
    for r in ["north", "south", "west", None]:
        for k in ["virtual", "face_to_face", "enhanced", None]:
            if draw(st.booleans()):
                by_region_kind += [[r, k, lo, hi, rate(decimals)]
                                   for lo, hi in draw(month_ranges(start))]
    for u in ["true", "false", None]:
        if not draw(st.integers(0, 5)):
            continue
        for k in range(-2, 16):
            if draw(st.integers(0, 5)):
                by_urgent.append([u, month_text(_add_months(start, k)),
                                  rate(st.integers(0, 2))])
        if by_urgent and draw(st.integers(0, 100)) == 50:
            by_urgent.append(list(by_urgent[-1]))  # the same month twice
    return {
        "rates_by_provider": (["provider", "from_month", "to_month", "rate"], by_provider),
        "rates_by_region_kind": (["region", "kind", "from_month", "to_month", "rate"],
                                 by_region_kind),
        "rates_by_urgent": (["urgent", "month", "rate"], by_urgent),
    }


@st.composite
def contract_rounds(draw: st.DrawFn, start: dt.date) -> list[list[Any]]:
    """Rounds for every provider (no provider) and, sometimes, a provider's own rounds
    (WP 8.32), read by reviews grouped by provider."""
    rows = [[*r, None] for r in draw(validation_rounds(start))]
    for provider in draw(st.lists(st.sampled_from(PROVIDERS), max_size=2, unique=True)):
        rows += [[*r, provider] for r in draw(validation_rounds(start))]
    return rows


@st.composite
def validation_rounds(draw: st.DrawFn, start: dt.date) -> list[list[Any]]:
    """Validation rounds of whole months, in order, each completed after the one before (some
    months between them never validated); rarely a round that breaks a rule (10.6)."""
    rows: list[list[Any]] = []
    month = draw(st.integers(-4, 2))
    completed = _add_months(start, month)
    for _ in range(draw(st.integers(0, 6))):
        month += draw(st.sampled_from([0, 0, 0, 1]))  # sometimes a month left out
        length = draw(st.integers(1, 6))
        first, end = _add_months(start, month), _add_months(start, month + length)
        last = end - dt.timedelta(days=1)
        completed = max(completed, last + dt.timedelta(days=draw(st.integers(1, 100))))
        if draw(st.integers(0, 3)) == 0:
            completed += dt.timedelta(days=draw(st.integers(0, 30)))
        rows.append([day(first), day(last),
                     draw(st.sampled_from(["0.05", "0.1", "0", "0.333333", "0.079", "1"])),
                     day(completed)])
        month += length
    if rows and draw(st.integers(0, 60)) == 30:
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, 3))
        rows[row][column] = None if draw(st.booleans()) else day(
            dt.date.fromisoformat(rows[row][column]) - dt.timedelta(days=1)) \
            if column != 2 else "0.2"
    if len(rows) > 1 and draw(st.integers(0, 60)) == 30:
        i = draw(st.integers(0, len(rows) - 2))
        rows[i], rows[i + 1] = rows[i + 1], rows[i]  # out of order, completed before
    return rows


@st.composite
def share_profile(draw: st.DrawFn, provider: str, region: str, outcome: str) -> list[list[Any]]:
    """One series of a rate-and-shares profile: shares in millionths that add up to 1 (a
    month may be given in two rows, to be added up)."""
    length = draw(st.integers(1, 5))
    parts = draw(st.lists(st.integers(0, 9), min_size=length, max_size=length))
    if sum(parts) == 0:
        parts[-1] = 1
    micro = [x * 10**6 // sum(parts) for x in parts]
    micro[-1] += 10**6 - sum(micro)
    rate = draw(st.sampled_from(["0.5", "0.3125", "1", "0.05", "0"]))
    rows = []
    if draw(st.integers(0, 40)) == 0:  # a bad profile: a gap in the months, or too much share
        micro = [*micro, 0, 5000] if draw(st.booleans()) else [*micro[:-1], micro[-1] + 5000]
        if len(micro) > length + 1:
            micro[length] = None  # type: ignore[call-overload]
    for k, u in enumerate(micro):
        if u is None:
            continue
        if u >= 2 and draw(st.integers(0, 6)) == 0:  # the same month in two rows
            rows.append([provider, region, outcome, k, rate, f"{(u // 2) / 10**6:.6f}"])
            u -= u // 2
        rows.append([provider, region, outcome, k, rate, f"{u / 10**6:.6f}"])
    return rows


def _add_months(d: dt.date, k: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + k
    return dt.date(m // 12, m % 12 + 1, 1)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, dict[str, Any], str | None]:
    source, start = draw(contracts())
    reviewed = "\nreview R " in source
    data = draw(data_sets(start, busy=reviewed and draw(st.booleans())))
    written = draw(st.sampled_from(sorted(DATE_FORMATS)))
    if written != "YYYY-MM-DD":  # a declared format (decision 280): both engines read the same
        source, data = declared_dates(source, data, written, draw(st.booleans()))
    as_of = None
    if draw(st.integers(0, 3)):
        # reviews want a year or so: their windows are whole quarters, or 12 months
        days = st.integers(80, 480) if reviewed else st.integers(0, 420)
        as_of = day(start + dt.timedelta(days=draw(days)))
    return source, data, as_of


#: Declared date formats, and how each writes a date (the meetings table's dates).
DATE_FORMATS = {"YYYY-MM-DD": "%Y-%m-%d", "DD/MM/YYYY": "%d/%m/%Y", "DD-MMM-YYYY": "%d-%b-%Y"}


def declared_dates(source: str, data: dict[str, Any], written: str, on_table: bool
                   ) -> tuple[str, dict[str, Any]]:
    """The meetings table's dates written in ``written``, declared for the table or its column."""
    if on_table:
        source = source.replace('one date column" {', f'one date column" dates "{written}" {{', 1)
    else:
        source = source.replace("  meeting_date: date?", f'  meeting_date: date("{written}")?', 1)
    header, rows = data["meetings"]
    rows = [[ref, None if d is None else dt.date.fromisoformat(d).strftime(DATE_FORMATS[written])]
            for ref, d in rows]
    return source, {**data, "meetings": (header, rows)}


def write_case(folder: Path, source: str, data: dict[str, Any], as_of: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "contract.pmir").write_text(source, encoding="utf-8")
    for name, (header, rows) in data.items():
        write_csv(folder / "data", name, header, rows)
    (folder / "case.json").write_text(json.dumps({"as_of": as_of}, indent=2) + "\n")


@given(case=scenarios())
def test_numpy_engine_and_reference_agree(tmp_path_factory: pytest.TempPathFactory,
                                          case: tuple[str, dict[str, Any], str | None]) -> None:
    problem = disagreement(tmp_path_factory, case)
    assert problem is None, problem


def disagreement(tmp_path_factory: pytest.TempPathFactory,
                 case: tuple[str, dict[str, Any], str | None]) -> str | None:
    """How the two engines' JSON differ on a drawn case, None when it is the same (a case they
    disagree on is kept in PMIRC_KEEP_FAILURES)."""
    source, data, as_of = case
    folder = tmp_path_factory.mktemp("case")
    write_case(folder, source, data, as_of)
    try:
        assert_same(source, folder / "data", as_of)
    except AssertionError as e:
        keep = os.environ.get("PMIRC_KEEP_FAILURES")
        if keep:  # to add it to tests/regressions/ after shrinking
            write_case(Path(keep) / folder.name, source, data, as_of)
        return str(e) or "the engines disagree"
    return None


@st.composite
def assurance_scenarios(draw: st.DrawFn) -> tuple[str, dict[str, Any], str | None]:
    """A random scenario that always declares an assurance (9.5)."""
    source, start = draw(contracts())
    if "\nassurance PAT " not in source:
        source += "\n" + draw(assurance())
    as_of = day(start + dt.timedelta(days=draw(st.integers(0, 420))))
    return source, draw(data_sets(start)), as_of if draw(st.integers(0, 3)) else None


@settings(max_examples=max(100, settings().max_examples // 5))
@given(case=assurance_scenarios())
def test_assurance_engines_agree(tmp_path_factory: pytest.TempPathFactory,
                                 case: tuple[str, dict[str, Any], str | None]) -> None:
    """Assurance triggers and the reviews they leave out, in both engines."""
    problem = disagreement(tmp_path_factory, case)
    assert problem is None, problem


# ---- the regression cases hypothesis found -------------------------------------------------------


def regression_cases() -> list[Any]:
    cases = []
    for folder in sorted(REGRESSIONS.glob("*/")):
        meta = json.loads((folder / "case.json").read_text())
        marks = [pytest.mark.xfail(strict=True, reason=f"{meta['bug']}: {meta['why']}")] \
            if meta.get("bug") else []
        cases.append(pytest.param(folder, meta, marks=marks, id=folder.name))
    return cases


@pytest.mark.parametrize(("folder", "meta"), regression_cases())
def test_regression_case(folder: Path, meta: dict[str, Any]) -> None:
    """A kept example: both engines agree on it."""
    source = (folder / "contract.pmir").read_text(encoding="utf-8")
    assert_same(source, folder / "data", meta.get("as_of"))


# ---- the bundled contracts on their example data -------------------------------------------------


BUNDLED = [(c, d) for c, d in [("atw_ha", "atw_ha"), ("esf", "esf"), ("ses", "ses"),
                                ("ipes", "ipes"), ("work_programme", "work_programme"),
                                ("atw_ha_mmir", "atw_ha")]
           if (REPO / "examples" / d).is_dir() and (REPO / "contracts" / f"{c}.pmir").is_file()]


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_bundled_examples_agree(contract: str, data: str) -> None:
    source = (REPO / "contracts" / f"{contract}.pmir").read_text(encoding="utf-8")
    assert_same(source, REPO / "examples" / data, None)


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_bundled_examples_render_identically(contract: str, data: str) -> None:
    """The rendered JSON text, byte for byte (less the data paths)."""
    plan = compile_contract(check_source((REPO / "contracts" / f"{contract}.pmir").read_text(),
                                         f"contracts/{contract}.pmir", REPO / "contracts"))
    tables = load_tables(REPO / "examples" / data, plan.contract.used_tables())
    texts = [json.dumps(normalise(json.loads(render(ev))), indent=2)
             for ev in (evaluate(plan, tables), evaluate_reference(plan, tables))]
    assert texts[0] == texts[1]


# ---- pmirc check --engine reference --------------------------------------------------------------


def pmirc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pmir_dsl.cli", *args], cwd=REPO,
                          capture_output=True, text=True, check=False)


def test_cli_engine_reference() -> None:
    args = ["check", "contracts/atw_ha.pmir", "examples/atw_ha", "--format", "json",
            "--as-of", "2025-03-31"]
    numpy_run, ref_run = pmirc(*args), pmirc(*args, "--engine", "reference")
    assert ref_run.returncode == numpy_run.returncode == 1, ref_run.stderr
    assert ref_run.stdout == numpy_run.stdout  # byte-identical, exit status too
    table = pmirc("check", "contracts/atw_ha.pmir", "examples/atw_ha", "--engine", "reference",
                  "--width", "160")
    assert table.returncode == 1 and "KPI1" in table.stdout and "2025" in table.stdout


def test_cli_engine_choices() -> None:
    bad = pmirc("check", "contracts/atw_ha.pmir", "examples/atw_ha", "--engine", "pandas")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_cli_engine_reference_reports_bad_as_of() -> None:
    run = pmirc("check", "contracts/atw_ha.pmir", "examples/atw_ha", "--engine", "reference",
                "--as-of", "2020-01-01")
    assert run.returncode == 2 and "before the contract's service start" in run.stderr
