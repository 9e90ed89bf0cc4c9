"""The terminal report's page for one group (``pmirc check ... --provider North``).

From the group's :class:`~pmir_dsl.report.view.GroupView`: every measure's status this month, a
strip of its last 12 months, since when it has failed and by how much; then each measure's
recent periods by basis; then the escalation level, the fee rows and the notices that follow,
with their reasons.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.text import Text

from ..pipeline import Evaluation
from . import view
from .fit import Col, fitted, safe
from .terminal import (BASIS_TITLES, LEVEL_STYLES, STATUS_MARKS, counts_text, fee_table,
                       figure_cell, level_strip, pounds, records_text, target_text)


def page(ev: Evaluation, g: view.GroupView, width: int) -> Group:
    """The whole page of one group."""
    plans = {mp.measure.id: mp.measure for mp in ev.plan.measures}
    parts: list[RenderableType] = [Text(""), Rule(safe(g.label, "bold"), align="left"),
                                   status_table(g, width)]
    for mv in g.measures:
        parts.append(measure_trend(mv, plans[mv.measure], width))
    for r in g.regimes:
        parts.append(regime_part(g, r, width))
    for fee in g.fees:
        parts.append(fee_part(fee, list(g.group), width))
    if g.notices:
        parts.append(notices_part(g))
    return Group(*parts)


def status_table(g: view.GroupView, width: int) -> RenderableType:
    """One row per measure: status this month, value, target, short by, points, since when
    failing, band and the last 12 months as marks (✓ met, ✗ failed, · pending, - not assessed)."""
    cols = [Col("Measure"), Col("Status"), Col("Value", num=True, justify="right"),
            Col("Target", drop=4), Col("Records short", num=True, justify="right", drop=3),
            Col("Points", num=True, justify="right", drop=6),
            Col("Failing since", num=True, drop=2), Col("Band", drop=5),
            Col("Last 12 months", num=True, drop=1)]
    rows = []
    for mv in g.measures:
        f = mv.current
        mark, style = STATUS_MARKS[mv.status]
        failed = f is not None and f.status == "failed"
        rows.append([mv.measure, Text(mv.status, style=style),
                     Text(f.text if f else "-", style=style), target_text(mv),
                     records_text(f.records_short) if failed and f else "",
                     view.points_text(f.points) if f else "",
                     _since(mv.headline), mv.band or "", trend_strip(mv.headline.trend)])
    title = (f"{g.label}: {len(g.failures())} of {len(g.measures)} measures failed this month "
             "(first basis; last 12 months: ✓ met, ✗ failed, · pending, - not assessed)")
    return fitted(title, cols, rows, width)


def _since(b: view.BasisView) -> str:
    return "" if b.failing_since is None else f"{b.failing_since} ({b.failing_periods})"


def trend_strip(trend: tuple[view.Figure, ...]) -> Text:
    """A figure's status month by month, oldest first, as coloured marks."""
    out = Text()
    for f in trend:
        mark, style = STATUS_MARKS[f.status]
        out.append(mark, style=style)
    return out


def measure_trend(mv: view.MeasureView, m: object, width: int) -> RenderableType:
    """A measure's periods of the last 12 months on every basis, with the first basis's counts,
    pending records and band."""
    head = Text()
    head.append_text(safe(f"{mv.measure}  {mv.title}", "bold"))
    head.append_text(safe(f"   target {mv.target_text}", "cyan"))
    by_period: dict[str, dict[str, view.Figure]] = {}
    for b in mv.bases:
        for f in b.trend:
            by_period.setdefault(f.period, {})[b.basis] = f
    cols = [Col("Period", num=True),
            *(Col(BASIS_TITLES[b.basis], num=True, justify="right", drop=0 if i == 0 else 3 + i)
              for i, b in enumerate(mv.bases)),
            Col("Num/den", num=True, justify="right", drop=2),
            Col("Records short", num=True, justify="right", drop=2),
            Col("Pending", num=True, justify="right", drop=1), Col("Band", drop=2)]
    rows = []
    for period in sorted(by_period):
        cells = by_period[period]
        first = cells.get(mv.bases[0].basis)
        rows.append([period, *(figure_cell(cells.get(b.basis), blank=True) for b in mv.bases),
                     counts_text(first, m),  # type: ignore[arg-type]
                     records_text(first.records_short) if first and first.met is False else "",
                     f"{first.pending:,}" if first else "", (first.band if first else "") or ""])
    return Group(Text(""), head, fitted(None, cols, rows, width))


def regime_part(g: view.GroupView, r: view.RegimeView, width: int) -> RenderableType:
    """The group's level under a regime, since when and why, and each change so far."""
    text = Text()
    text.append_text(safe(f"{r.title}: ", "bold"))
    text.append(f"level {r.level} ", style=LEVEL_STYLES.get(r.level, ""))
    text.append_text(safe(f"{r.level_title} at the end of {r.month}, since {r.since}"))
    if r.reasons:
        text.append_text(safe(": " + "; ".join(r.reasons)))
    for n in r.notices:
        text.append_text(safe(f"\n  {n['notice']} on {n['measure']} running (raised for "
                              f"{n['raised_for']}), remedy period to {n['remedy_period_end']}"))
    rows = [[c["month"], level_strip([c["level"]]) + Text(f" {c['level_title']}"),
             "; ".join(c["reasons"])] for c in r.changes]
    cols = [Col("Month", num=True), Col("Level"), Col("Reason")]
    parts: list[RenderableType] = [Text(""), text]
    if rows:
        parts.append(fitted("Changes of level and why", cols, rows, width))
    return Group(*parts)


def fee_part(fee: view.FeeView, keys: list[str], width: int) -> RenderableType:
    """The group's fee rows of the last 12 months and its totals to date."""
    total = safe(f"{fee.title}: {pounds(fee.deferred_pence)} deferred, "
                 f"{pounds(fee.released_pence)} released, {pounds(fee.forfeited_pence)} "
                 f"forfeited to date; {pounds(fee.outstanding_pence)} outstanding"
                 + (" (in deferral)" if fee.in_deferral else ""), "bold")
    return Group(Text(""), total, fee_table(f"{fee.title}, last {len(fee.rows)} months", keys,
                                            list(fee.rows), width))


def notices_part(g: view.GroupView) -> Text:
    """Each notice raised for the group: measure, quarter, status, dates, target and why."""
    out = Text("\nNotices\n", style="bold")
    for n in g.notices:
        style = "green" if n["status"] in ("cancelled", "target met") else "bold red"
        out.append_text(safe(f"  {n['notice'] if 'notice' in n else n['remedy']} on "
                             f"{n['measure']}, quarter {n['month']}: "))
        out.append_text(safe(n["status"] + "\n", style))
        target = "not yet known" if n["target"] is None else f"{n['target']:,.2f}"
        out.append(f"    issued {n['issued']}, remedy period to {n['remedy_period_end']}, "
                   f"target {target}\n")
        for why in n["reasons"]:
            out.append_text(safe(f"    why: {why}\n", "dim"))
    out.rstrip()
    return out


