"""The terminal report (rich): what a performance manager reads at a Contract Performance Review.

Top: the contract, the as-of date and the data read. Then a summary line per measure for the
latest period, each measure's periods for the whole contract by basis, its groups in the latest
period, and finally the pending records and the data-quality exclusions. Percentages are shown
truncated, never rounded up, so a figure shown at or above its target has met it.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..evaluate import K_EXCLUDED, K_FAILED, K_MET, K_PENDING
from ..ir import Measure
from ..pipeline import Evaluation

BASIS_TITLES = {"in_month": "In month", "rolling_3": "Rolling 3", "rolling_12": "Rolling 12",
                "cumulative": "Cumulative", "quarter": "Quarter", "year_to_date": "Year to date"}
CALENDAR_TITLES = {"england_and_wales": "England and Wales", "scotland": "Scotland",
                   "northern_ireland": "Northern Ireland"}


def render(ev: Evaluation, console: Console) -> None:
    """Print the whole report to ``console``."""
    by_measure: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ev.results:
        by_measure[r["measure"]].append(r)
    console.print(header(ev))
    console.print(summary(ev, by_measure))
    for mp in ev.plan.measures:
        console.print(measure_section(ev, mp.measure, by_measure[mp.measure.id]))
    for review in ev.plan.contract.reviews:
        console.print(review_section(ev, review.name))
    for regime in ev.plan.contract.regimes:
        console.print(regime_section(ev, regime.name))
    for remedy in ev.plan.contract.remedies:
        console.print(remedy_section(ev, remedy.name))
        if remedy.forfeitable_after is not None:
            console.print(forfeitable_section(ev, remedy))
    console.print(pending_section(ev))
    console.print(quality_section(ev))
    if getattr(ev.plan.contract, "assumptions", ()):
        console.print(assumptions_section(ev))


def header(ev: Evaluation) -> Panel:
    """The contract, its source, the as-of date and the tables read."""
    c = ev.plan.contract
    lines = Text()
    lines.append(c.name + "\n", style="bold")
    if c.guidance:
        lines.append(c.guidance + "\n", style="italic")
    lines.append(f"Contract file {c.file} (sha256 {c.sha256[:12]})\n")
    lines.append(f"Service start {c.service_start} · calendar "
                 f"{CALENDAR_TITLES[c.calendar.region]} bank holidays\n")
    lines.append("As of ", style="bold")
    lines.append(f"{ev.as_of}", style="bold cyan")
    lines.append(f" ({ev.as_of_source})\n")
    for name, t in sorted(ev.tables.items()):
        lines.append(f"  {name}: {t.rows:,} rows from {t.path} (sha256 {t.sha256[:12]})\n")
    lines.rstrip()
    return Panel(lines, title="pmirc check", title_align="left",
                 box=box.ROUNDED)


def summary(ev: Evaluation, by_measure: dict[str, list[dict[str, Any]]]) -> Table:
    """One line per measure: target, and each basis for the whole contract in the latest period."""
    bases = [b for b in BASIS_TITLES if any(b in mp.measure.bases for mp in ev.plan.measures)]
    t = Table(title="Summary: whole contract, latest period (periods failed: on the first basis)",
              title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("Measure", "Target", "Period", *(BASIS_TITLES[b] for b in bases), "Band",
                "Periods failed"):
        t.add_column(col, justify="left" if col in ("Measure", "Band") else "right",
                     no_wrap=col in ("Measure", "Period"))
    for mp in ev.plan.measures:
        m = mp.measure
        whole = [r for r in by_measure[m.id] if not r["group"]]
        latest = max((r["period"] for r in whole if r["basis"] == m.bases[0]), default="-")
        cells = {r["basis"]: r for r in whole if r["period"] == latest}
        failed = sum(r["met"] is False for r in whole if r["basis"] == m.bases[0])
        total = sum(r["met"] is not None for r in whole if r["basis"] == m.bases[0])
        band = cells.get(m.bases[0], {}).get("band")
        t.add_row(m.id, m.target.text.replace("at least ", "≥ ")
                  .replace("at most ", "≤ "), latest,
                  *(figure(cells.get(b), m) if b in m.bases else Text("")
                    for b in bases), band or "", f"{failed} of {total}")
    return t


def measure_section(ev: Evaluation, m: Measure, rows: list[dict[str, Any]]) -> Group:
    """A measure's heading, accounting, whole-contract periods and latest-period groups."""
    parts: list[RenderableType] = [Text(""), heading(ev, m)]
    whole = [r for r in rows if not r["group"]]
    parts.append(period_table(m, whole))
    for level in m.groups[1:]:
        parts.append(group_table(m, level, rows))
    triangle = [r for r in ev.cohorts() if r["measure"] == m.id and not r["group"]]
    if triangle:
        parts.append(cohort_table(triangle))
    return Group(*parts)


def cohort_table(rows: list[dict[str, Any]]) -> Table:
    """The cohort triangle: cumulative conversion by cohort and months since start, coloured
    green at or above the profile's expected conversion and red below it."""
    width = max(r["months_since_start"] for r in rows) + 1
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Cohorts: conversion (outcomes so far / "
              "starts) by months since start; green at or above the profile, red below",
              title_justify="left")
    t.add_column("Cohort")
    t.add_column("Starts", justify="right")
    for k in range(width):
        t.add_column(f"+{k}", justify="right")
    cohorts: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        cohorts[r["cohort"]][r["months_since_start"]] = r
    for cohort in sorted(cohorts):
        cells = cohorts[cohort]
        starts = next(iter(cells.values()))["starts"]
        t.add_row(cohort, f"{starts:,}", *(_conversion(cells.get(k)) for k in range(width)))
    return t


def _conversion(r: dict[str, Any] | None) -> Text:
    if r is None:
        return Text("")
    style = "green" if r["conversion"] >= r["expected_conversion"] else "red"
    return Text(f"{int(r['conversion'] * 100)}%", style=style)


def heading(ev: Evaluation, m: Measure) -> Text:
    """``KPI1 Acknowledging the referral`` with target, citation and population accounting."""
    t = ev.partial.counts[m.id].totals
    text = Text()
    text.append(f"{m.id}  {m.title}", style="bold")
    text.append(f"   target {m.target.text}", style="cyan")
    if m.bands:
        kind = "deciding" if m.bands.deciding else "reporting only"
        text.append(f" · bands {m.bands.name} ({kind})")
    if m.cite:
        text.append(f"\n  {m.cite}", style="dim")
    population = int(t[K_MET] + t[K_FAILED] + t[K_PENDING] + t[K_EXCLUDED])
    verdict = {"ratio": "counted", "profile": "counted", "average": "counted",
               "backlog_share": "out of backlog",
               "backlog_count": "out of backlog",
               "backlog_breach": "closed in time"}.get(m.kind, "met")
    text.append(f"\n  {m.table}: {population:,} in population = {int(t[K_MET]):,} {verdict}")
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


def period_table(m: Measure, whole: list[dict[str, Any]]) -> Table:
    """Whole-contract figures: one row per period, one column per basis."""
    t = Table(box=box.SIMPLE_HEAD, title="Whole contract", title_justify="left", pad_edge=False)
    t.add_column("Period")
    for b in m.bases:
        t.add_column(BASIS_TITLES[b], justify="right")
    t.add_column("Band", justify="left")
    t.add_column("Pending", justify="right")
    backlog = m.kind in ("backlog_share", "backlog_count")
    if backlog:
        t.add_column("Oldest in backlog", justify="right")
    by_period: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in whole:
        by_period[r["period"]][r["basis"]] = r
    for period in sorted(by_period):
        cells = by_period[period]
        first = cells.get(m.bases[0])
        age = (first or {}).get("oldest_age_working_days")
        extra = [f"{age} working days" if age is not None else "-"] if backlog else []
        t.add_row(period, *(figure(cells.get(b), m, counts=(i == 0))
                            for i, b in enumerate(m.bases)),
                  (first or {}).get("band") or "", str((first or {}).get("pending", "")), *extra)
    return t


def group_table(m: Measure, level: tuple, rows: list[dict[str, Any]]) -> Table:
    """Each group of a level, in the latest period of each basis."""
    keys = [c.name for c in level]
    mine = [r for r in rows if list(r["group"]) == keys]
    latest = {b: max((r["period"] for r in mine if r["basis"] == b), default=None)
              for b in m.bases}
    title = f"By {' and '.join(keys)}, latest period"
    t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False)
    for k in keys:
        t.add_column(k.replace("_", " ").capitalize())
    for b in m.bases:
        t.add_column(f"{BASIS_TITLES[b]} {latest[b] or ''}".strip(), justify="right")
    t.add_column("Band")
    groups: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in mine:
        if r["period"] == latest[r["basis"]]:
            groups[tuple(r["group"].values())][r["basis"]] = r
    for values in sorted(groups, key=lambda v: tuple("" if x is None else x for x in v)):
        cells = groups[values]
        band = (cells.get(m.bases[0]) or {}).get("band") or ""
        t.add_row(*("(none)" if v is None else str(v) for v in values),
                  *(figure(cells.get(b), m, counts=(i == 0)) for i, b in enumerate(m.bases)),
                  band)
    return t


def figure(r: dict[str, Any] | None, m: Measure, counts: bool = False) -> Text:
    """A coloured figure: the value (truncated), a tick or cross, and optionally num/den."""
    if r is None:
        return Text("")
    if r["met"] is None and r["value"] is None:
        return Text("-", style="dim")
    mark, style = MARKS[r["met"]]
    if m.kind in ("count", "backlog_count", "backlog_breach"):
        body = f"{r['numerator']:,}"
    elif m.kind == "average" and r["value"] is not None:  # mean days, truncated as percents are
        body = f"{int(r['value'] * 10) / 10:.1f} days"
    elif r["value"] is None:
        body = "-"
    else:
        body = percent(r["numerator"], r["denominator"])
    text = Text(f"{body} {mark}".rstrip(), style=style)
    if r.get("information"):  # beside the target, never met or failed
        text.append(" (info)", style="dim")
    if m.kind == "profile":
        text.append(f" {r['numerator']:,} of {r['expected']:,.2f}", style="dim")
    elif counts and m.kind not in ("count", "backlog_count"):
        text.append(f" {_amount(r['numerator'])}/{_amount(r['denominator'])}", style="dim")
    return text


#: Tick, cross, or nothing (reported but not assessed: too few records) and their styles.
MARKS = {True: ("✓", "green"), False: ("✗", "bold red"), None: ("", "")}


def percent(numerator: float, denominator: float) -> str:
    """``numerator / denominator`` as a percentage truncated to 2 places (never rounded up)."""
    exact = Fraction(repr(numerator)) / Fraction(repr(denominator))
    hundredths = int(exact * 10000)  # int() truncates towards zero
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _amount(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,.2f}"


def pending_section(ev: Evaluation) -> Group:
    """Records not yet due at the as-of date, per measure, with the periods they fall in."""
    t = Table(title=f"Pending at {ev.as_of} (not yet due: in neither numerator nor denominator)",
              title_justify="left", box=box.SIMPLE_HEAD)
    t.add_column("Measure")
    t.add_column("Pending", justify="right")
    t.add_column("Periods")
    for mp in ev.plan.measures:
        m = mp.measure
        rows = [r for r in ev.results if r["measure"] == m.id and not r["group"]
                and r["basis"] == m.bases[0] and r["pending"]]
        total = int(ev.partial.counts[m.id].totals[K_PENDING])
        if total:
            periods = ", ".join(f"{r['period']}: {r['pending']}" for r in rows)
            t.add_row(m.id, f"{total:,}", periods)
    if not t.rows:
        return Group(Text(""), Text(f"Pending at {ev.as_of}: none", style="bold"))
    return Group(Text(""), t)


def quality_section(ev: Evaluation) -> Group:
    """Records excluded by data-quality checks, with counts and example ids."""
    if not ev.quality:
        return Group(Text(""), Text("Data quality: no records excluded", style="bold green"))
    t = Table(title="Data quality: records excluded from the measures", title_justify="left",
              box=box.SIMPLE_HEAD)
    for col in ("Table", "Check", "Records", "Examples"):
        t.add_column(col, justify="right" if col == "Records" else "left")
    for q in ev.quality:
        t.add_row(q.table, q.check, f"{q.count:,}", ", ".join(q.examples))
    return Group(Text(""), t)


LEVEL_STYLES = {1: "green", 2: "yellow", 3: "dark_orange", 4: "bold red"}


def regime_section(ev: Evaluation, name: str) -> Group:
    """Each group's level month by month, then every change of level with its reason."""
    rows = [e for e in ev.escalations if e["regime"] == name]
    regime = next(r for r in ev.plan.contract.regimes if r.name == name)
    months = sorted({e["month"] for e in rows})[-12:]
    grid = Table(title=f"{regime.title}: level by month (last {len(months)} months)",
                 title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for k in regime.keys:
        grid.add_column(k.replace("_", " ").capitalize())
    for m in months:
        grid.add_column(m[2:], justify="center")
    by_group: dict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
    for e in rows:
        by_group[tuple(e["group"].values())][e["month"]] = e["level"]
    for g in sorted(by_group, key=lambda v: tuple(str(x) for x in v)):
        grid.add_row(*map(str, g), *(Text(str(by_group[g].get(m, "")),
                                          style=LEVEL_STYLES.get(by_group[g].get(m, 0), ""))
                                     for m in months))
    changes = Table(title="Changes of level and why", title_justify="left", box=box.SIMPLE_HEAD,
                    pad_edge=False)
    for col in (*[k.capitalize() for k in regime.keys], "Month", "Level", "Reason"):
        changes.add_column(col)
    for e in rows:
        if e["changed"]:
            changes.add_row(*map(str, e["group"].values()), e["month"],
                            f"{e['level']} {e['level_title']}", "; ".join(e["reasons"]))
    levels = ", ".join(f"{n} {t}" for n, t in regime.levels)
    parts: list[RenderableType] = [Text(""), Text(f"{regime.title} ({levels})", style="bold"),
                                   grid, changes]
    last = months[-1] if months else None
    running = [e for e in rows if e["month"] == last and e.get("notices")]
    if running:
        lines = Text(f"Notices running at the end of {last}\n", style="bold")
        for e in running:
            who = ", ".join(map(str, e["group"].values())) or "the contract"
            for n in e["notices"]:
                lines.append(f"  {who}: {n['notice']} on {n['measure']} (raised for "
                             f"{n['raised_for']}), remedy period to {n['remedy_period_end']}\n")
        lines.rstrip()
        parts.append(lines)
    return Group(*parts)


def review_section(ev: Evaluation, name: str) -> Group:
    """Every quarter-end review at a glance (provisional / final), the failed ones in detail,
    then the notices raised with their dates, targets and status."""
    review = next(r for r in ev.plan.contract.reviews if r.name == name)
    rows = [r for r in ev.reviews if r["review"] == name]
    quarters = sorted({r["period"] for r in rows})[-8:]
    grid = Table(title=f"{review.title}: provisional and final result at each quarter end (- not yet known)",
                 title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for k in review.keys:
        grid.add_column(k.replace("_", " ").capitalize(), no_wrap=True)
    grid.add_column("Measure", no_wrap=True)
    for q in quarters:
        grid.add_column(q[2:], justify="center", no_wrap=True)
    cells: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        cells[(*r["group"].values(), r["measure"])][r["period"]] = r
    for key in sorted(cells, key=lambda v: tuple(str(x) for x in v)):
        grid.add_row(*map(str, key), *(_review_cell(cells[key].get(q)) for q in quarters))
    failed = Table(title="Reviews failed on either figure (net outcomes against those required)",
                   title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in (*[k.replace("_", " ").capitalize() for k in review.keys], "Measure", "Quarter",
                "Required", "Provisional", "Final"):
        failed.add_column(col, no_wrap=col != "Final",
                          justify="right" if col in ("Required", "Provisional") else "left")
    for r in rows:
        p, f = r["provisional"], r["final"]
        if p["met"] is False or (f is not None and f["met"] is False):
            failed.add_row(*map(str, r["group"].values()), r["measure"], r["period"],
                           f"{r['required']:,.2f}",
                           Text(f"{p['net']:,.2f} ({p['validated_months']}+"
                                f"{p['extrapolated_months']})", style=MARKS[p["met"]][1]),
                           "-" if f is None else Text(f"{f['net']:,.2f} ({f['as_at']})",
                                                      style=MARKS[f["met"]][1]))
    parts: list[RenderableType] = [Text(""), grid]
    if failed.rows:
        parts.append(failed)
    if review.notice is not None:
        parts.append(notice_lines(review, [n for n in ev.remedies if n.get("review") == name]))
    return Group(*parts)


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
        return Text(f"No {review.notice} raised", style="bold green")
    out = Text(f"{review.notice_title}s ({review.notice})\n", style="bold")
    for n in notices:
        who = ", ".join(str(v) for v in n["group"].values()) or "the contract"
        out.append(f"  {who} · {n['measure']} · quarter {n['month']}: ", style="bold")
        status = n["status"] + (f" on {n['cancelled']}" if n["status"] == "cancelled" else "")
        style = "green" if status.startswith(("cancelled", "target met")) else "bold red"
        out.append(status + "\n", style=style)
        target = "not yet known" if n["target"] is None else f"{n['target']:,.2f}"
        plan = f", action plan due {n['action_plan_due']}" if n["action_plan_due"] else ""
        out.append(f"    issued {n['issued']}{plan}, remedy period to "
                   f"{n['remedy_period_end']}, target {target}\n")
        end = n["end_of_remedy"]
        if end is not None:
            out.append(f"    at the end of the remedy period: {end['net']:,.2f} against "
                       f"{end['target']:,.2f} (as at {end['figure_as_at']})\n")
        for why in n["reasons"]:
            out.append(f"    why: {why}\n", style="dim")
    out.rstrip()
    return out


def remedy_section(ev: Evaluation, name: str) -> Group:
    """Months with money deferred, released or forfeit, in pounds, and totals per group."""
    remedy = next(r for r in ev.plan.contract.remedies if r.name == name)
    rows = [r for r in ev.remedies if r["remedy"] == name]
    t = Table(title=f"{remedy.title}: months with deferral, release or forfeiture",
              title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in (*[k.capitalize() for k in remedy.keys], "Month", "Fee", "Deferred", "Released",
                "Forfeit", "Outstanding", "Why"):
        t.add_column(col, justify="right" if col in ("Fee", "Deferred", "Released", "Forfeit",
                                                     "Outstanding") else "left")
    for r in rows:
        if r["deferred_pence"] or r["released_pence"] or r["forfeited_pence"]:
            t.add_row(*map(str, r["group"].values()), r["month"], pounds(r["fee_pence"]),
                      pounds(r["deferred_pence"]), pounds(r["released_pence"]),
                      pounds(r["forfeited_pence"]), pounds(r["outstanding_pence"]),
                      "; ".join(r["reasons"]))
    if not t.rows:
        return Group(Text(""), Text(f"{remedy.title}: nothing deferred", style="bold green"))
    return Group(Text(""), t)


def pounds(pence: int) -> str:
    """Integer pence as pounds: 250000050 -> '£2,500,000.50'."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


# ---- assumptions (semantics.md 7): kept apart so the layout above can change freely ----------


def assumptions_section(ev: Evaluation) -> Group:
    """Every number the guidance does not state, where it is, and what it decided in this run:
    the figures of its measure, the changes of level its rule made, its remedy's amounts."""
    t = Table(title="Assumptions: numbers the guidance does not state", title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("Line", "In", "Clause", "Assumed", "What it decided here"):
        long = col == "Clause"  # the line number leads to the whole clause
        t.add_column(col, no_wrap=long, overflow="ellipsis" if long else "fold",
                     max_width=28 if long else None)
    for a in ev.plan.contract.assumptions:
        t.add_row(str(a.line), a.owner, a.clause or "(the whole block)", a.text,
                  assumption_effect(ev, a))
    return Group(Text(""), t)


def assumption_effect(ev: Evaluation, a: Any) -> str:
    """In words, what an assumption decided in this evaluation."""
    kind, name = a.owner.split(" ", 1)
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
    out = Text(f"{remedy.title} at the end of {last}: deferred, forfeitable (DWP may forfeit "
               f"after {remedy.forfeitable_after} months of deferral) and forfeit\n", style="bold")
    for r in (r for r in rows if r["month"] == last):
        forfeit = sum(x["forfeited_pence"] for x in rows if x["group"] == r["group"])
        who = ", ".join(map(str, r["group"].values())) or "the contract"
        out.append(f"  {who}: deferred {pounds(r['outstanding_pence'])}, forfeitable "
                   f"{pounds(r['forfeitable_pence'])}, forfeit {pounds(forfeit)}\n")
    out.rstrip()
    return out
