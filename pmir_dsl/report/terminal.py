"""The terminal report (rich): what a performance manager reads at a Contract Performance Review.

Top: the contract, the as-of date and the data read. Then the short summary: what failed this
month and for whom (by how much, since when), the escalation levels, deferred fees and notices
that follow. Then the whole contract's summary per measure and the details: each measure's
recent periods by basis, its groups this month, cohorts, reviews, regimes, fees, pending records
and data-quality exclusions. With ``--provider`` / ``--group`` the details are a page per group
instead (see :mod:`pmir_dsl.report.terminal_group`).

Every table fits the console width (:mod:`pmir_dsl.report.fit`): number columns are never
shortened, columns are left out by priority and named under the table. Percentages are rounded
as Excel rounds them, 2 places half up, with more places where 2 would make a failed figure read
as its target (:func:`pmir_dsl.report.view.percent_text`); met / failed is decided exactly.
Every data value is printed literally, control characters escaped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from fractions import Fraction
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from .. import assumptions
from ..evaluate import K_EXCLUDED, K_FAILED, K_MET, K_PENDING
from ..ir import Measure
from ..pipeline import Evaluation
from ..visible import visible
from . import view
from .fit import ID_MIN, Col, fitted, safe

BASIS_TITLES = {"in_month": "In month", "rolling_3": "Rolling 3", "rolling_12": "Rolling 12",
                "cumulative": "Cumulative", "quarter": "Quarter", "year_to_date": "Year to date"}
CALENDAR_TITLES = {"england_and_wales": "England and Wales", "scotland": "Scotland",
                   "northern_ireland": "Northern Ireland"}

#: Each status's mark and style: met, failed, pending (not yet due), not assessed.
STATUS_MARKS = {"met": ("✓", "green"), "failed": ("✗", "bold red"), "pending": ("·", "yellow"),
                "not assessed": ("-", "dim")}

#: Tick, cross, or nothing (reported but not assessed: too few records) and their styles.
MARKS = {True: ("✓", "green"), False: ("✗", "bold red"), None: ("", "")}

LEVEL_STYLES = {1: "green", 2: "yellow", 3: "dark_orange", 4: "bold red"}


def render(ev: Evaluation, console: Console, groups: Mapping[str, str] | None = None,
           measures: Iterable[str] | None = None) -> None:
    """Print the whole report to ``console``, fitted to its width; ``groups`` (key: value) and
    ``measures`` (ids) narrow it as ``--group`` / ``--provider`` / ``--measure`` do."""
    from . import terminal_group

    width = max(40, console.width)
    keep = set(measures) if measures is not None else None
    pack = view.build(ev, groups, keep)
    for part in (header(ev), this_month(pack, width)):
        console.print(part)
    if groups:
        for g in pack.groups:
            console.print(terminal_group.page(ev, g, width))
        if ev.plan.contract.assurances:
            from .terminal_assurance import assurance_section

            console.print(assurance_section(ev, width, groups))
    else:
        _whole_contract(ev, console, pack, keep, width)
    console.print(quality_section(ev, width))


def _whole_contract(ev: Evaluation, console: Console, pack: view.PackView,
                    keep: set[str] | None, width: int) -> None:
    """The summary of the contract as a whole, then every section of details."""
    whole = pack.group({})
    plans = [mp.measure for mp in ev.plan.measures if keep is None or mp.measure.id in keep]
    console.print(summary(whole, plans, width))
    by_measure: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ev.results:
        by_measure[r["measure"]].append(r)
    for m in plans:
        console.print(measure_section(ev, m, by_measure[m.id], width))
    for review in ev.plan.contract.reviews:
        console.print(review_section(ev, review.name, width, keep))
    for regime in ev.plan.contract.regimes:
        console.print(regime_section(ev, regime.name, width))
    for remedy in ev.plan.contract.remedies:
        console.print(remedy_section(ev, remedy.name, width))
        if remedy.forfeitable_after is not None:
            console.print(forfeitable_section(ev, remedy))
    if ev.plan.contract.assurances:
        from .terminal_assurance import assurance_section

        console.print(assurance_section(ev, width))
    console.print(pending_section(ev, plans, width))
    if getattr(ev.plan.contract, "assumptions", ()):
        console.print(assumptions_section(ev, width))


def header(ev: Evaluation) -> Panel:
    """The contract, its source, the as-of date and the tables read."""
    c = ev.plan.contract
    lines = Text()
    lines.append_text(safe(c.name + "\n", "bold"))
    if c.guidance:
        lines.append_text(safe(c.guidance + "\n", "italic"))
    lines.append_text(safe(f"Contract file {c.file} (sha256 {c.sha256[:12]})\n"))
    lines.append(f"Service start {c.service_start} · calendar "
                 f"{CALENDAR_TITLES[c.calendar.region]} bank holidays\n")
    for text in assumptions.header(c):  # the header's own: beside the dates they set
        lines.append_text(safe(f"  assumed: {text}\n", "italic"))
    lines.append("As of ", style="bold")
    lines.append(f"{ev.as_of}", style="bold cyan")
    lines.append(f" ({ev.as_of_source})\n")
    for name, t in sorted(ev.tables.items()):
        lines.append_text(safe(f"  {name}: {t.rows:,} rows from {t.path} "
                               f"(sha256 {t.sha256[:12]})\n"))
    lines.rstrip()
    return Panel(lines, title="pmirc check", title_align="left", box=box.ROUNDED)


# ---- the short summary: this month -------------------------------------------------------------


def this_month(pack: view.PackView, width: int) -> Group:
    """What failed in the month under review and for whom, then the escalation levels above
    the lowest, the fees in deferral and the notices running, with their reasons."""
    parts: list[RenderableType] = [Text(""), Text(f"This month: {pack.month} (as of "
                                                  f"{pack.as_of})", style="bold")]
    failures = sorted(pack.failures(), key=lambda gm: _measure_rank(pack, gm[1].measure))
    if failures:
        parts.append(failures_table(failures, width))
    else:
        parts.append(Text(f"No assessed target failed in {pack.month}", style="bold green"))
    follows = following(pack)
    if follows.plain:
        parts.append(follows)
    return Group(*parts)


def _measure_rank(pack: view.PackView, measure_id: str) -> int:
    ids = [m.measure for g in pack.groups for m in g.measures]
    return ids.index(measure_id)


def failures_table(failures: list[tuple[view.GroupView, view.MeasureView]],
                   width: int) -> RenderableType:
    """One row per (measure, group) failed this month on the measure's first basis."""
    cols = [Col("Measure", min=ID_MIN), Col("Failed for", min=14), Col("Value", num=True, justify="right"),
            Col("Target", drop=4), Col("Records short", num=True, justify="right", drop=3),
            Col("Points", num=True, justify="right", drop=5),
            Col("Failing since", num=True, drop=2), Col("Band", drop=6)]
    rows = []
    for g, mv in failures:
        f = mv.current
        assert f is not None
        target = target_text(mv)
        if mv.kind == "count_ratio" and f.target is not None:  # looked up: say what it came to
            target += f" = {view.percent_text(f.target)}"
        rows.append([mv.measure, g.label, Text(f.text, style="bold red"), target,
                     records_text(f.records_short), view.points_text(f.points),
                     _since(mv.headline), f.band or ""])
    n = len({g.label for g, _ in failures})
    title = (f"Failed this month: {len(failures)} figure{'s' if len(failures) != 1 else ''} "
             f"for {n} group{'s' if n != 1 else ''} (each measure's first basis)")
    return fitted(title, cols, rows, width)


def _since(b: view.BasisView) -> str:
    if b.failing_since is None:
        return ""
    return f"{b.failing_since} ({b.failing_periods})"


def target_text(mv: view.MeasureView | Measure) -> str:
    """``≥ 99%``, ``< 2%``: a target as short as it reads."""
    text = mv.target_text if isinstance(mv, view.MeasureView) else mv.target.text
    for long, short in (("at least ", "≥ "), ("at most ", "≤ "), ("below ", "< "),
                        ("above ", "> ")):
        if text.startswith(long):
            return short + text[len(long):]
    return text


def records_text(n: int | None) -> str:
    """A count of records (``1,234``); empty when there is none."""
    return "" if n is None else f"{n:,}"


def following(pack: view.PackView) -> Text:
    """Lines for each escalation above the lowest level, fee in deferral and running notice."""
    out = Text()
    for g in pack.groups:
        for r in g.regimes:
            if r.level > 1:
                out.append_text(safe(f"  {g.label}: "))
                out.append(f"level {r.level} ", style=LEVEL_STYLES.get(r.level, ""))
                out.append_text(safe(f"{r.level_title} ({r.title}) since {r.since}"))
                if r.reasons:
                    out.append_text(safe(": " + "; ".join(r.reasons)))
                out.append("\n")
            for n in r.notices:
                out.append_text(safe(f"  {g.label}: {n['notice']} on {n['measure']} running "
                                     f"(raised for {n['raised_for']}), remedy period to "
                                     f"{n['remedy_period_end']}\n"))
        for fee in g.fees:
            if fee.outstanding_pence or fee.forfeited_pence:
                out.append_text(safe(
                    f"  {g.label}: {fee.title}: {pounds(fee.outstanding_pence)} deferred "
                    f"and outstanding, {pounds(fee.forfeited_pence)} forfeited so far"
                    + (" (in deferral)" if fee.in_deferral else "") + "\n"))
    if out.plain:
        out = Text("What follows at the end of the month\n", style="bold") + out
    out.rstrip()
    return out


# ---- the contract as a whole -------------------------------------------------------------------


def summary(whole: view.GroupView | None, plans: list[Measure], width: int) -> RenderableType:
    """One row per measure: target, this period's figure on its first basis, band, periods
    failed, then its other bases (a text column: it wraps between figures, never inside one)."""
    cols = [Col("Measure", min=ID_MIN), Col("Target"), Col("Period"), Col("Value", num=True, justify="right"),
            Col("Band", drop=2), Col("Periods failed", num=True, justify="right", drop=1),
            Col("Other bases", drop=3, min=24)]
    rows = []
    for m in plans:
        mv = whole.measure(m.id) if whole else None
        if mv is None:
            continue
        head = mv.headline
        others = Text()
        for b in mv.bases[1:]:
            if others.plain:
                others.append("\n")  # one basis a line: a figure never parts from its name
            others.append(f"{BASIS_TITLES[b.basis]} ")
            others.append_text(figure_cell(b.current))
        period = head.current.period if head.current else "-"
        rows.append([m.id, target_text(m), f"{BASIS_TITLES[head.basis]} {period}",
                     figure_cell(head.current),
                     mv.band or "", f"{head.periods_failed} of {head.periods_assessed}", others])
    return Group(Text(""), fitted("Summary: whole contract, latest period (value and periods "
                                  "failed on each measure's first basis)", cols, rows, width))


def figure_cell(f: view.Figure | None, blank: bool = False) -> Text:
    """A figure's value and its status mark, coloured; ``-`` when there is no value."""
    if f is None:
        return Text("" if blank else "-")
    mark, style = STATUS_MARKS[f.status]
    if f.value is None:
        return Text(f"- {mark}" if f.status == "pending" else "-", style="dim")
    text = Text(f"{f.text} {mark}", style=style)
    if f.reason == view.INFORMATION:  # beside the target, never met or failed
        text.append(" (info)", style="dim")
    return text


def counts_text(f: view.Figure | None, m: Measure) -> str:
    """``42/43`` (met of due), ``49 of 47.00`` (actual of profiled), or a count."""
    if f is None:
        return ""
    if m.kind == "profile":
        return f"{_amount(f.numerator)} of {_amount(f.denominator)}"
    if m.kind in ("count", "backlog_count", "backlog_breach"):
        return ""
    if m.kind == "average" and m.count_of is not None:  # rows of another table over records
        return f"{_amount(f.numerator)} {m.count_of.table}/{_amount(f.denominator)}"
    if m.kind == "average":  # days summed over records
        return f"{_amount(f.numerator)} days/{_amount(f.denominator)}"
    return f"{_amount(f.numerator)}/{_amount(f.denominator)}"


def _amount(x: int | Fraction) -> str:
    if isinstance(x, int) or x.denominator == 1:
        return f"{int(x):,}"
    return f"{view.excel_round(Fraction(x), 2):,}"


def measure_section(ev: Evaluation, m: Measure, rows: list[dict[str, Any]],
                    width: int) -> Group:
    """A measure's heading, accounting, recent whole-contract periods and this month's groups."""
    parts: list[RenderableType] = [Text(""), heading(ev, m)]
    whole = [r for r in rows if not r["group"]]
    parts.append(period_table(m, whole, width))
    for level in m.groups[1:]:
        parts.append(group_table(m, level, rows, width))
    triangle = [r for r in ev.cohorts() if r["measure"] == m.id and not r["group"]]
    if triangle:
        parts.append(cohort_table(triangle, width))
    return Group(*parts)


def heading(ev: Evaluation, m: Measure) -> Text:
    """``KPI1 Acknowledging the referral`` with target, citation and population accounting."""
    t = ev.partial.counts[m.id].totals
    text = Text()
    text.append_text(safe(f"{m.id}  {m.title}", "bold"))
    text.append_text(safe(f"   target {m.target.text}", "cyan"))
    if m.bands:
        kind = "deciding" if m.bands.deciding else "reporting only"
        text.append_text(safe(f" · bands {m.bands.name} ({kind})"))
    if m.cite:
        text.append_text(safe(f"\n  {m.cite}", "dim"))
    population = int(t[K_MET] + t[K_FAILED] + t[K_PENDING] + t[K_EXCLUDED])
    verdict = {"ratio": "counted", "profile": "counted", "average": "counted",
               "backlog_share": "out of backlog", "backlog_count": "out of backlog",
               "backlog_breach": "closed in time"}.get(m.kind, "met")
    text.append_text(safe(f"\n  {m.table}: {population:,} in population = "
                          f"{int(t[K_MET]):,} {verdict}"))
    if m.kind in ("backlog_share", "backlog_count"):
        text.append(f" + {int(t[K_FAILED]):,} in backlog at {ev.as_of}")
    elif m.kind == "backlog_breach":
        text.append(f" + {int(t[K_FAILED]):,} breached + {int(t[K_PENDING]):,} pending")
    elif m.kind == "average":
        text.append(f" + {int(t[K_PENDING]):,} pending")
    elif m.kind not in ("ratio", "profile"):
        text.append(f" + {int(t[K_FAILED]):,} failed + {int(t[K_PENDING]):,} pending")
    text.append(f" + {int(t[K_EXCLUDED]):,} excluded")
    outside = ev.partial.counts[m.id].outside
    if outside:
        text.append(f"; {outside:,} rows outside the population")
    return text


def period_table(m: Measure, whole: list[dict[str, Any]], width: int) -> RenderableType:
    """Whole-contract figures of the last 12 months: a row per period, a column per basis."""
    by_period: dict[str, dict[str, view.Figure]] = defaultdict(dict)
    for r in whole:
        by_period[r["period"]][r["basis"]] = view.figure(m, r)
    periods = sorted(by_period)
    shown = periods[-view.TREND_MONTHS:] if m.period_unit == "month" else periods[-4:]
    backlog = m.kind in ("backlog_share", "backlog_count")
    cols = [Col("Period", num=True),
            *(Col(BASIS_TITLES[b], num=True, justify="right", drop=0 if i == 0 else 3 + i)
              for i, b in enumerate(m.bases)),
            Col("Counted" if m.kind == "profile" else "Num/den", num=True, justify="right",
                drop=2),
            Col("Band", drop=2), Col("Pending", num=True, justify="right", drop=1)]
    if backlog:
        cols.append(Col("Oldest in backlog", num=True, justify="right", drop=1))
    rows = []
    for period in shown:
        cells = by_period[period]
        first = cells.get(m.bases[0])
        row: list[object] = [period, *(figure_cell(cells.get(b), blank=True) for b in m.bases),
                             counts_text(first, m), (first.band if first else None) or "",
                             f"{first.pending:,}" if first else ""]
        if backlog:
            age = next((r.get("oldest_age_working_days") for r in whole
                        if r["period"] == period and r["basis"] == m.bases[0]), None)
            row.append(f"{age} working days" if age is not None else "-")
        rows.append(row)
    title = "Whole contract" + (f", last {len(shown)} of {len(periods)} periods (all of them: "
                                "--format json)" if len(shown) < len(periods) else "")
    return fitted(title, cols, rows, width)


def group_table(m: Measure, level: tuple, rows: list[dict[str, Any]],
                width: int) -> RenderableType:
    """Each group of a level in the latest period of each basis, with since when it has failed
    and by how much."""
    keys = [c.name for c in level]
    mine = [r for r in rows if list(r["group"]) == keys]
    series: dict[tuple[str, ...], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for r in mine:
        series[tuple(_cell(v) for v in r["group"].values())][r["basis"]].append(r)
    latest = {b: max((r["period"] for r in mine if r["basis"] == b), default=None)
              for b in m.bases}
    cols = [*(Col(k.replace("_", " ").capitalize()) for k in keys),
            *(Col(f"{BASIS_TITLES[b]} {latest[b] or ''}".strip(), num=True, justify="right",
                  drop=0 if i == 0 else 4 + i) for i, b in enumerate(m.bases)),
            Col("Records short", num=True, justify="right", drop=3),
            Col("Failing since", num=True, drop=2), Col("Band", drop=3)]
    out = []
    for values in sorted(series):
        views = {b: view.basis_view(m, b, sorted(series[values][b], key=lambda r: r["period"]))
                 for b in m.bases}
        head = views[m.bases[0]]
        cur = head.current
        out.append([*values, *(figure_cell(views[b].current, blank=True) for b in m.bases),
                    records_text(cur.records_short) if cur and cur.status == "failed" else "",
                    _since(head), (cur.band if cur else None) or ""])
    return fitted(f"By {' and '.join(keys)}, latest period", cols, out, width)


def _cell(v: Any) -> str:
    return "(none)" if v is None else str(v)


def cohort_table(rows: list[dict[str, Any]], width: int) -> RenderableType:
    """The cohort triangle: cumulative conversion by cohort and months since start, coloured
    green at or above the profile's expected conversion and red below it."""
    span = max(r["months_since_start"] for r in rows) + 1
    cols = [Col("Cohort", num=True), Col("Starts", num=True, justify="right"),
            *(Col(f"+{k}", num=True, justify="right", drop=k + 1) for k in range(span))]
    cohorts: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        cohorts[r["cohort"]][r["months_since_start"]] = r
    out = []
    for cohort in sorted(cohorts):
        cells = cohorts[cohort]
        starts = next(iter(cells.values()))["starts"]
        out.append([cohort, f"{starts:,}", *(_conversion(cells.get(k)) for k in range(span))])
    return fitted("Cohorts: conversion (outcomes so far / starts) by months since start; green "
                  "at or above the profile, red below", cols, out, width)


def _conversion(r: dict[str, Any] | None) -> Text:
    if r is None:
        return Text("")
    style = "green" if r["conversion"] >= r["expected_conversion"] else "red"
    return Text(f"{int(r['conversion'] * 100)}%", style=style)


def pending_section(ev: Evaluation, plans: list[Measure], width: int) -> Group:
    """Records not yet due at the as-of date, per measure, with the periods they fall in."""
    rows = []
    for m in plans:
        found = [r for r in ev.results if r["measure"] == m.id and not r["group"]
                 and r["basis"] == m.bases[0] and r["pending"]]
        total = int(ev.partial.counts[m.id].totals[K_PENDING])
        if total:
            rows.append([m.id, f"{total:,}",
                         ", ".join(f"{r['period']}: {r['pending']}" for r in found)])
    if not rows:
        return Group(Text(""), Text(f"Pending at {ev.as_of}: none", style="bold"))
    cols = [Col("Measure", min=ID_MIN), Col("Pending", num=True, justify="right"), Col("Periods")]
    return Group(Text(""), fitted(f"Pending at {ev.as_of} (not yet due: in neither numerator "
                                  "nor denominator)", cols, rows, width))


def quality_section(ev: Evaluation, width: int = 80) -> Group:
    """Records excluded by data-quality checks, with counts and example ids."""
    if not ev.quality:
        return Group(Text(""), Text("Data quality: no records excluded", style="bold green"))
    cols = [Col("Table"), Col("Check"), Col("Records", num=True, justify="right"),
            Col("Examples")]
    rows = [[q.table, q.check, f"{q.count:,}", ", ".join(q.examples)] for q in ev.quality]
    return Group(Text(""), fitted("Data quality: records excluded from the measures", cols,
                                  rows, width))


# ---- reviews, regimes, remedies ----------------------------------------------------------------


def regime_section(ev: Evaluation, name: str, width: int) -> Group:
    """Each group's level over the last 12 months, then every change of level with its reason."""
    rows = [e for e in ev.escalations if e["regime"] == name]
    regime = next(r for r in ev.plan.contract.regimes if r.name == name)
    months = sorted({e["month"] for e in rows})[-12:]
    levels = ", ".join(f"{n} {t}" for n, t in regime.levels)
    parts: list[RenderableType] = [Text(""), safe(f"{regime.title} ({levels})", "bold")]
    by_group: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    for e in rows:
        by_group[tuple(_cell(v) for v in e["group"].values())][e["month"]] = e["level"]
    span = f"{months[0]} to {months[-1]}" if months else "no months"
    grid = [[*g, level_strip([by_group[g].get(m) for m in months])] for g in sorted(by_group)]
    keys = [Col(k.replace("_", " ").capitalize()) for k in regime.keys]
    parts.append(fitted(f"Level by month, {span}", [*keys, Col("Levels", num=True)], grid,
                        width))
    changes = [[*map(_cell, e["group"].values()), e["month"],
                f"{e['level']} {e['level_title']}", "; ".join(e["reasons"])]
               for e in rows if e["changed"]]
    cols = [*keys, Col("Month", num=True), Col("Level"), Col("Reason")]
    parts.append(fitted("Changes of level and why", cols, changes, width))
    last = months[-1] if months else None
    running = [e for e in rows if e["month"] == last and e.get("notices")]
    if running:
        lines = Text(f"Notices running at the end of {last}\n", style="bold")
        for e in running:
            who = ", ".join(map(_cell, e["group"].values())) or "the contract"
            for n in e["notices"]:
                lines.append_text(safe(f"  {who}: {n['notice']} on {n['measure']} (raised for "
                                       f"{n['raised_for']}), remedy period to "
                                       f"{n['remedy_period_end']}\n"))
        lines.rstrip()
        parts.append(lines)
    return Group(*parts)


def level_strip(levels: list[int | None]) -> Text:
    """Levels month by month as ``1 1 2 2 3``, each coloured; ``.`` for a month without one."""
    out = Text()
    for i, level in enumerate(levels):
        if i:
            out.append(" ")
        out.append("." if level is None else str(level), style=LEVEL_STYLES.get(level or 0, ""))
    return out


def review_section(ev: Evaluation, name: str, width: int, keep: set[str] | None = None
                   ) -> Group:
    """Every quarter-end review at a glance (provisional / final), the failed ones in detail,
    then the notices raised with their dates, targets and status."""
    review = next(r for r in ev.plan.contract.reviews if r.name == name)
    rows = [r for r in ev.reviews if r["review"] == name
            and (keep is None or r["measure"] in keep)]
    quarters = sorted({r["period"] for r in rows})[-8:]
    keys = [Col(k.replace("_", " ").capitalize()) for k in review.keys]
    cells: dict[tuple[str, ...], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        cells[(*map(_cell, r["group"].values()), r["measure"])][r["period"]] = r
    grid = [[*key, *(_review_cell(cells[key].get(q)) for q in quarters)]
            for key in sorted(cells)]
    cols = [*keys, Col("Measure", min=ID_MIN),
            *(Col(q[2:], num=True, drop=len(quarters) - i) for i, q in enumerate(quarters))]
    parts: list[RenderableType] = [
        Text(""), fitted(f"{review.title}: provisional and final result at each quarter end "
                         "(- not yet known)", cols, grid, width)]
    failed = [r for r in rows if r["provisional"]["met"] is False
              or (r["final"] is not None and r["final"]["met"] is False)]
    if failed:
        parts.append(review_failures(review, failed, width))
    if review.notice is not None:
        parts.append(notice_lines(review, [n for n in ev.remedies if n.get("review") == name
                                           and (keep is None or n["measure"] in keep)]))
    return Group(*parts)


def review_failures(review: Any, rows: list[dict[str, Any]], width: int) -> RenderableType:
    """Reviews failed on the provisional or the final figure: net outcomes against required."""
    cols = [*(Col(k.replace("_", " ").capitalize()) for k in review.keys), Col("Measure", min=ID_MIN),
            Col("Quarter", num=True), Col("Required", num=True, justify="right"),
            Col("Provisional", num=True, justify="right"), Col("Final", num=True)]
    out = []
    for r in rows:
        p, f = r["provisional"], r["final"]
        out.append([*map(_cell, r["group"].values()), r["measure"], r["period"],
                    f"{r['required']:,.2f}",
                    Text(f"{p['net']:,.2f} ({p['validated_months']}+"
                         f"{p['extrapolated_months']})", style=MARKS[p["met"]][1]),
                    "-" if f is None else Text(f"{f['net']:,.2f} ({f['as_at']})",
                                               style=MARKS[f["met"]][1])])
    return fitted("Reviews failed on either figure (net outcomes against those required)",
                  cols, out, width)


def _review_cell(r: dict[str, Any] | None) -> Text:
    if r is None:
        return Text("")
    p = r["provisional"]["met"]
    f = None if r["final"] is None else r["final"]["met"]
    text = Text(MARKS[p][0] or "-", style=MARKS[p][1])
    text.append(" ")
    text.append(MARKS[f][0] if r["final"] is not None and f is not None else "-",
                style=MARKS[f][1] if r["final"] is not None else "dim")
    return text


def notice_lines(review: Any, notices: list[dict[str, Any]]) -> RenderableType:
    """One paragraph per notice: where, when, the target, its status and why it was raised."""
    if not notices:
        return safe(f"No {review.notice} raised", "bold green")
    out = safe(f"{review.notice_title}s ({review.notice})\n", "bold")
    for n in notices:
        who = ", ".join(_cell(v) for v in n["group"].values()) or "the contract"
        out.append_text(safe(f"  {who} · {n['measure']} · quarter {n['month']}: ", "bold"))
        status = n["status"] + (f" on {n['cancelled']}" if n["status"] == "cancelled" else "")
        style = "green" if status.startswith(("cancelled", "target met")) else "bold red"
        out.append_text(safe(status + "\n", style))
        target = "not yet known" if n["target"] is None else f"{n['target']:,.2f}"
        plan = f", action plan due {n['action_plan_due']}" if n["action_plan_due"] else ""
        out.append(f"    issued {n['issued']}{plan}, remedy period to "
                   f"{n['remedy_period_end']}, target {target}\n")
        end = n["end_of_remedy"]
        if end is not None:
            out.append(f"    at the end of the remedy period: {end['net']:,.2f} against "
                       f"{end['target']:,.2f} (as at {end['figure_as_at']})\n")
        for why in n["reasons"]:
            out.append_text(safe(f"    why: {why}\n", "dim"))
    out.rstrip()
    return out


def remedy_section(ev: Evaluation, name: str, width: int) -> Group:
    """Months with money deferred, released or forfeit, in pounds."""
    remedy = next(r for r in ev.plan.contract.remedies if r.name == name)
    rows = [r for r in ev.remedies if r["remedy"] == name and "fee_pence" in r]
    moved = [r for r in rows if r["deferred_pence"] or r["released_pence"]
             or r["forfeited_pence"]]
    if not moved:
        return Group(Text(""), safe(f"{remedy.title}: nothing deferred", "bold green"))
    return Group(Text(""), fee_table(f"{remedy.title}: months with deferral, release or "
                                     "forfeiture", remedy.keys, moved, width))


def fee_table(title: str, keys: Iterable[str], rows: list[dict[str, Any]],
              width: int) -> RenderableType:
    """Fee rows in pounds: group, month, fee, deferred, released, forfeit, outstanding, why."""
    keys = list(keys)
    money = ("Fee", "Deferred", "Released", "Forfeit", "Outstanding")
    drops = {"Fee": 3, "Released": 2, "Forfeit": 1}
    cols = [*(Col(k.replace("_", " ").capitalize()) for k in keys), Col("Month", num=True),
            *(Col(c, num=True, justify="right", drop=drops.get(c, 0)) for c in money),
            Col("Why")]
    out = [[*(_cell(r["group"][k]) for k in keys), r["month"], pounds(r["fee_pence"]),
            pounds(r["deferred_pence"]), pounds(r["released_pence"]),
            pounds(r["forfeited_pence"]), pounds(r["outstanding_pence"]),
            "; ".join(r["reasons"])] for r in rows]
    return fitted(title, cols, out, width)


def pounds(pence: int) -> str:
    """Integer pence as pounds: 250000050 -> '£2,500,000.50'."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


# ---- assumptions (semantics.md 7): kept apart so the layout above can change freely ----------


def assumptions_section(ev: Evaluation, width: int = 80) -> Group:
    """Every number the guidance does not state, where it is, and what it decided in this run:
    the figures of its measure, the changes of level its rule made, its remedy's amounts."""
    cols = [Col("Line", num=True, justify="right"), Col("In", min=12),
            Col("Clause", drop=2, min=16), Col("Assumed", min=20),
            Col("What it decided here", drop=1, min=16)]
    rows = [[str(a.line), a.owner, a.clause or "(the whole block)", a.text,
             assumption_effect(ev, a)] for a in ev.plan.contract.assumptions]
    return Group(Text(""), fitted("Assumptions: numbers the guidance does not state", cols, rows,
                                  width))


def assumption_effect(ev: Evaluation, a: Any) -> str:
    """In words, what an assumption decided in this evaluation."""
    kind, name = a.owner.split(" ", 1)
    if a.owner == assumptions.HEADER:
        if a.clause.startswith("service start"):
            return (f"reporting starts {ev.plan.contract.service_start[:7]}; cumulative and "
                    "year-to-date figures count from it")
        return "every figure of the contract"
    if kind == "measure":
        rows = [r for r in ev.results if r["measure"] == name and r["met"] is not None]
        failed = sum(r["met"] is False for r in rows)
        return f"{len(rows)} assessed figures, {failed} failed"
    if kind == "regime":
        changes = [e for e in ev.escalations if e["regime"] == name and e["changed"]
                   and a.text in e.get("assumptions", ())]
        listed = ", ".join(f"{'/'.join(map(str, e['group'].values())) or 'contract'} "
                           f"{e['month']} to level {e['level']}" for e in changes[:4])
        more = f" and {len(changes) - 4} more" if len(changes) > 4 else ""
        return f"{len(changes)} changes of level" + (f": {listed}{more}" if changes else "")
    if kind == "remedy":
        rows = [r for r in ev.remedies if r.get("remedy") == name]
        last = max((r["month"] for r in rows), default="")
        now = sum(r.get("forfeitable_pence", 0) for r in rows if r["month"] == last)
        return (f"forfeit {pounds(sum(r['forfeited_pence'] for r in rows))}; forfeitable at "
                f"the end of {last}: {pounds(now)}")
    return ""


def forfeitable_section(ev: Evaluation, remedy: Any) -> Text:
    """Per group at the last month: what is still deferred, how much of it DWP may forfeit
    (a run of deferral has lasted ``forfeitable_after`` months) and what has been forfeit,
    kept apart (IPES 9.60-9.62, semantics.md 7)."""
    rows = [r for r in ev.remedies if r.get("remedy") == remedy.name]
    last = max((r["month"] for r in rows), default=None)
    out = safe(f"{remedy.title} at the end of {last}: deferred, forfeitable (DWP may forfeit "
               f"after {remedy.forfeitable_after} months of deferral) and forfeit\n", "bold")
    for r in (r for r in rows if r["month"] == last):
        forfeit = sum(x["forfeited_pence"] for x in rows if x["group"] == r["group"])
        who = ", ".join(map(str, r["group"].values())) or "the contract"
        out.append_text(safe(f"  {who}: deferred {pounds(r['outstanding_pence'])}, forfeitable "
                             f"{pounds(r['forfeitable_pence'])}, forfeit {pounds(forfeit)}\n"))
    out.rstrip()
    return out


# ---- progress on standard error ----------------------------------------------------------------


def progress_wanted(stream: Any, fmt: str) -> bool:
    """Progress only for a person watching: standard error a terminal, the table report, not
    under CI (``CI`` set) or a dumb terminal. Never in files, pipes or JSON runs."""
    import os

    isatty = getattr(stream, "isatty", None)
    return (bool(isatty and isatty()) and fmt == "table" and not os.environ.get("CI")
            and os.environ.get("TERM") != "dumb")


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str], AbstractContextManager[None]]]:
    """A ``step(description)`` context manager: with ``enabled``, a spinner line on standard
    error per step (elapsed time, gone when done); otherwise it does nothing."""
    if not enabled:
        yield lambda description: nullcontext()
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:

        @contextmanager
        def step(description: str) -> Iterator[None]:
            task = bar.add_task(visible(description), total=1)
            yield
            bar.update(task, completed=1)

        yield step
