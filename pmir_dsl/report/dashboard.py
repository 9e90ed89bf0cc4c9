"""The pack's pages after the contract and group pages: the Work Programme dashboard (seed 003
chapter 8: JO performance against the MPL, JO ranks and trends, exit-report buckets, the
off-benefit check and CMO rankings), escalation timelines, the Service Fee timeline, and
quarterly reviews with their notices; and the same for one group on its own page.

Every function returns markup (values escaped with :func:`markup.esc`); charts come from
:mod:`charts`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from . import charts, view
from .markup import (BASIS_TITLES, MARK, GroupKey, esc, figure, group_title, key_of, label,
                     pounds, rag, section, table, td)

if TYPE_CHECKING:  # the Pack is html.py's; imported only for the annotations
    from ..ir import Measure
    from .html import Pack

#: Ranks and trends columns (seed 003 8.19): title, basis, which period from the latest back.
TREND_COLUMNS = (("Latest month", "in_month", 1), ("Previous month", "in_month", 2),
                 ("Current quarter", "quarter", 1), ("Previous quarter", "quarter", 2),
                 ("Year to date", "year_to_date", 1), ("Rolling 12", "rolling_12", 1),
                 ("Contract to date", "cumulative", 1))

BUCKET_COLOURS = (charts.GREEN, charts.AMBER, charts.RED, charts.GREY, charts.BLUE)


def pages(pack: Pack) -> list[tuple[str, str, str]]:
    """(anchor, nav label, markup) of each page the contract has material for."""
    out = []
    if any(_ranked(pack, m) or m.kind == "count_ratio" or m.buckets for m in pack.measures):
        out.append(work_programme_page(pack))
    c = pack.ev.plan.contract
    for regime in c.regimes:
        out.append(regime_page(pack, regime))
    for remedy in c.remedies:
        out.append(fee_page(pack, remedy))
    if c.reviews:
        out.append(review_page(pack))
    if c.assurances:
        from .html_assurance import assurance_page

        out.append(assurance_page(pack))
    return out


def group_extras(pack: Pack, gv: view.GroupView, anchor: str) -> str:
    """A group's own escalation (level now, since when and why, then by month and every
    change), its fee (totals and the months with money moved) and its reviews and notices."""
    g = key_of(gv.group)
    parts = []
    regimes = {r.name: r for r in pack.ev.plan.contract.regimes}
    for rv in gv.regimes:
        rows = [e for e in pack.ev.escalations
                if e["regime"] == rv.regime and key_of(e["group"]) == g]
        why = f": {'; '.join(rv.reasons)}" if rv.reasons else ""
        parts.append(f"<h3>{esc(rv.title)}</h3>"
                     f'<p class="now c-l{min(rv.level, 4)}"><strong>Level {esc(rv.level)} '
                     f"{esc(rv.level_title)}</strong> in {esc(rv.month)}, since "
                     f"{esc(rv.since)}{esc(why)}</p>"
                     + level_chart(f"{anchor}-{rv.regime}", regimes[rv.regime], rows)
                     + changes_table(list(rv.changes)))
    for fv in gv.fees:
        state = "in deferral" if fv.in_deferral else "not in deferral"
        parts.append(f"<h3>{esc(fv.title)}</h3>"
                     f'<p class="now">Deferred {esc(pounds(fv.deferred_pence))}, released '
                     f"{esc(pounds(fv.released_pence))}, forfeit "
                     f"{esc(pounds(fv.forfeited_pence))} to date; outstanding "
                     f"{esc(pounds(fv.outstanding_pence))} ({state})</p>"
                     + fee_chart(f"{anchor}-{fv.remedy}", f"{fv.title}, last 12 months",
                                 list(fv.rows))
                     + fee_table([r for r in pack.ev.remedies if r.get("remedy") == fv.remedy
                                  and "fee_pence" in r and key_of(r["group"]) == g]))
    reviews = [r for r in pack.ev.reviews if key_of(r["group"]) == g]
    if reviews:
        parts.append("<h3>Quarterly reviews</h3>" + review_grid(reviews))
    if gv.notices:
        parts.append("<h3>Notices</h3>" + notice_table(list(gv.notices)))
    if pack.ev.plan.contract.assurances:
        from .html_assurance import group_part

        parts.append(group_part(pack, g))
    return "".join(parts)


# ---- Work Programme dashboard -------------------------------------------------------------------


def _ranked(pack: Pack, m: Measure) -> bool:
    return any(r.get("rank") is not None for r in pack.ev.results if r["measure"] == m.id)


def work_programme_page(pack: Pack) -> tuple[str, str, str]:
    """JO performance against the MPL, ranks and trends, exit reports and the rankings."""
    anchor = pack.anchors.take("dashboard")
    parts = [mpl_section(pack, anchor)]
    for m in pack.measures:
        if m.buckets:
            parts.append(bucket_section(pack, m, anchor))
    for m in pack.measures:  # ranked measures, and those reported without a target (CMO)
        if _ranked(pack, m) or m.target.op == "none":
            parts.append(ranks_section(pack, m))
    title = "Performance dashboard"
    return anchor, title, section(anchor, title, "".join(parts))


def _review_basis(pack: Pack) -> str:
    reviews = pack.ev.plan.contract.reviews
    return reviews[0].basis if reviews else "rolling_12"


def mpl_section(pack: Pack, anchor: str) -> str:
    """Each payment group's job outcomes against its MPL for every group (seed 003 8.16-8.18):
    a table of performance against the MPL with ranks, and a chart per reviewed measure."""
    ratio = [m for m in pack.measures if m.kind == "count_ratio"]
    if not ratio:
        return ""
    basis = _review_basis(pack)
    groups = pack.index.groups()
    rows = []
    for m in ratio:
        cells = [td(m.id, "mid")]
        for g in groups:
            r = pack.index.latest(m.id, g, basis)
            cells.append(_against_cell(r, m))
        rows.append(cells)
    period = next((r["period"] for m in ratio if (r := pack.index.latest(m.id, (), basis))), "")
    head = ["Measure", *(group_title(g) if g else "National" for g in groups)]
    out = [f"<h3>Job outcomes against the MPL: {esc(BASIS_TITLES[basis].lower())} to "
           f"{esc(period)} (100% = the MPL; rank among its level)</h3>",
           table(head, rows, "status", numeric=range(1, len(head)))]
    reviewed = {m for r in pack.ev.plan.contract.reviews for m in r.measures}
    for m in ratio:
        if m.id not in reviewed:
            continue
        found = [(g, pack.index.latest(m.id, g, basis)) for g in groups]
        found = [(g, r) for g, r in found if r is not None]
        svg = charts.bars(f"{anchor}-{m.id}-mpl", f"{m.id}: job outcomes as a share of the MPL, "
                          f"{BASIS_TITLES[basis].lower()} to {period}",
                          [group_title(g) if g else "National" for g, _ in found],
                          [r.get("against_target") for _, r in found],
                          [r["met"] for _, r in found], 1.0, "the MPL")
        out.append(f'<figure class="chart">{svg}</figure>')
    return "".join(out)


def _against_cell(r: dict[str, Any] | None, m: Measure) -> str:
    """Performance against the looked-up target (JOs / MPL) with the rank, red or green."""
    if r is None or r.get("against_target") is None:
        return "<td></td>" if r is None else f'<td class="num c-grey">{esc(figure(r, m))}</td>'
    colour = rag(r, m)
    rank = f' <small class="rank">#{esc(r["rank"])}</small>' if r.get("rank") else ""
    return (f'<td class="num c-{colour}">{r["against_target"] * 100:.1f}% '
            f"{MARK[colour]}{rank}</td>")


def ranks_section(pack: Pack, m: Measure) -> str:
    """A ranked measure for every group: latest and previous month and quarter, year to date,
    rolling 12 and contract to date, each with its rank (seed 003 8.18-8.20, 8.23, 8.31)."""
    cols = [(t, b, k) for t, b, k in TREND_COLUMNS if b in m.bases]
    ranked = sorted({key_of(r["group"]) for r in pack.ev.results
                     if r["measure"] == m.id and r["group"] and (r.get("rank") is not None
                                                                 or m.rank is None)},
                    key=lambda g: (len(g), [str(v) for _, v in g]))
    rows = []
    for g in [(), *ranked]:
        cells = [td(group_title(g) if g else "National", "mid")]
        for _, b, back in cols:
            series = pack.index.series(m.id, g, b)
            r = series[-back] if len(series) >= back else None
            cells.append(_ranked_cell(r, m))
        rows.append(cells)
    order = {"highest": "ranks and trends (ranked highest first)",
             "lowest": "ranks and trends (ranked lowest first)"}.get(m.rank or "", "by group")
    return (f"<h3>{esc(m.id)} <span>{esc(m.title)}: {order}</span></h3>"
            + table(["Group", *(t for t, _, _ in cols)], rows, "status",
                    numeric=range(1, len(cols) + 1)))


def _ranked_cell(r: dict[str, Any] | None, m: Measure) -> str:
    if r is None:
        return "<td></td>"
    if r.get("against_target") is not None:
        return _against_cell(r, m)
    colour = rag(r, m)
    rank = f' <small class="rank">#{esc(r["rank"])}</small>' if r.get("rank") else ""
    return (f'<td class="num c-{colour}">{esc(figure(r, m))} {MARK[colour]}{rank}'
            f'<br><small class="rank">{esc(r["period"])}</small></td>')


def bucket_section(pack: Pack, m: Measure, anchor: str) -> str:
    """Requests by how late the return came (seed 003 8.26): a stacked chart by month for the
    contract and a table for every group in the latest month."""
    series = pack.index.series(m.id, (), "in_month")[-24:]
    if not series:
        return ""
    names = list(series[-1]["buckets"])
    parts = [(label(n), BUCKET_COLOURS[i % len(BUCKET_COLOURS)],
              [r["buckets"].get(n, 0) for r in series]) for i, n in enumerate(names)]
    svg = charts.stacked(f"{anchor}-{m.id}-buckets", f"{m.id}: requests by month, by when "
                         "the report came back", [r["period"] for r in series], parts)
    rows = []
    for g in pack.index.groups():
        r = pack.index.latest(m.id, g, "in_month")
        if r is None or "buckets" not in r:
            continue
        rank = f" #{r['rank']}" if r.get("rank") else ""
        rows.append([td(group_title(g) if g else "National", "mid"),
                     *(td(f"{r['buckets'].get(n, 0):,}", "num") for n in names),
                     td(f"{figure(r, m)}{rank}", "num")])
    period = series[-1]["period"]
    return (f"<h3>{esc(m.id)} <span>{esc(m.title)}</span></h3>"
            f'<figure class="chart">{svg}</figure>'
            + table(["Group", *(label(n) for n in names), f"Within target, {period}"], rows,
                    numeric=range(1, len(names) + 2)))


# ---- escalation ---------------------------------------------------------------------------------


def regime_page(pack: Pack, regime: Any) -> tuple[str, str, str]:
    """Every group's level month by month, each change with its reason, notices running."""
    anchor = pack.anchors.take(regime.name)
    rows = [e for e in pack.ev.escalations if e["regime"] == regime.name]
    body = (f'<p class="cite">{esc(regime.cite)}</p>' + level_chart(anchor, regime, rows)
            + "<h3>Changes of level and why</h3>" + changes_table(rows, with_group=True))
    return anchor, regime.title, section(anchor, regime.title, body)


def level_chart(salt: str, regime: Any, rows: list[dict[str, Any]]) -> str:
    """Levels per group per month as coloured strips."""
    months = sorted({e["month"] for e in rows})
    by: dict[GroupKey, dict[str, int]] = defaultdict(dict)
    for e in rows:
        by[key_of(e["group"])][e["month"]] = e["level"]
    groups = sorted(by, key=lambda g: [str(v) for _, v in g])
    grid = [[by[g].get(m, 0) for m in months] for g in groups]
    svg = charts.levels(f"{salt}-levels", f"{regime.title}: level by month", 
                        [group_title(g) for g in groups], months, grid, regime.levels)
    return f'<figure class="chart">{svg}</figure>'


def changes_table(rows: list[dict[str, Any]], with_group: bool = False) -> str:
    """Each change of level: when, to what, and the rule's reason."""
    out = []
    for e in rows:
        if e["changed"]:
            who = [td(group_title(key_of(e["group"])))] if with_group else []
            out.append([*who, td(e["month"]),
                        f'<td class="c-l{min(int(e["level"]), 4)}">{esc(e["level"])} '
                        f'{esc(e["level_title"])}</td>', td("; ".join(e["reasons"]), "reason")])
    if not out:
        return '<p class="allmet">No change of level.</p>'
    return table([*(["Group"] if with_group else []), "Month", "Level", "Why"], out)


# ---- service fee --------------------------------------------------------------------------------


def fee_page(pack: Pack, remedy: Any) -> tuple[str, str, str]:
    """Deferred, released and forfeit fee by month for the contract, totals per group."""
    anchor = pack.anchors.take(remedy.name)
    rows = [r for r in pack.ev.remedies if r["remedy"] == remedy.name]
    totals = []
    by: dict[GroupKey, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[key_of(r["group"])].append(r)
    for g in sorted(by, key=lambda g: [str(v) for _, v in g]):
        rs = by[g]
        totals.append([td(group_title(g), "mid"), *(td(pounds(sum(r[k] for r in rs)), "num")
                       for k in ("fee_pence", "deferred_pence", "released_pence",
                                 "forfeited_pence")), td(pounds(rs[-1]["outstanding_pence"]),
                                                         "num")])
    body = (f'<p class="cite">{esc(remedy.cite)}</p>' + fee_chart(anchor, remedy.title, rows)
            + "<h3>Totals</h3>" + table(["Group", "Fee", "Deferred", "Released", "Forfeit",
                                         "Outstanding at the end"], totals, numeric=range(1, 6))
            + "<h3>Months with a deferral, release or forfeiture</h3>"
            + fee_table(rows, with_group=True))
    return anchor, remedy.title, section(anchor, remedy.title, body)


def fee_chart(salt: str, title: str, rows: list[dict[str, Any]]) -> str:
    """Deferred, released and forfeit pounds by month (summed over the rows' groups)."""
    months = sorted({r["month"] for r in rows})
    sums = {k: defaultdict(int) for k in ("deferred_pence", "released_pence", "forfeited_pence")}
    for r in rows:
        for k, s in sums.items():
            s[r["month"]] += r[k]
    parts = [(name, colour, [sums[k][m] / 100 for m in months]) for name, colour, k in (
        ("deferred", charts.AMBER, "deferred_pence"), ("released", charts.GREEN,
                                                      "released_pence"),
        ("forfeit", charts.RED, "forfeited_pence"))]
    svg = charts.stacked(f"{salt}-fee", f"{title}: deferred, released and forfeit by month",
                         months, parts, unit="£")
    return f'<figure class="chart">{svg}</figure>'


def fee_table(rows: list[dict[str, Any]], with_group: bool = False) -> str:
    """The months in which money was deferred, released or forfeit, with the reasons."""
    out = []
    for r in rows:
        if r["deferred_pence"] or r["released_pence"] or r["forfeited_pence"]:
            who = [td(group_title(key_of(r["group"])))] if with_group else []
            out.append([*who, td(r["month"]), *(td(pounds(r[k]), "num") for k in (
                "fee_pence", "deferred_pence", "released_pence", "forfeited_pence",
                "outstanding_pence")), td("; ".join(r["reasons"]), "reason")])
    if not out:
        return '<p class="allmet">Nothing deferred.</p>'
    return table([*(["Group"] if with_group else []), "Month", "Fee", "Deferred", "Released",
                  "Forfeit", "Outstanding", "Why"], out,
                 numeric=range(1 + with_group, 6 + with_group))


# ---- reviews and notices ------------------------------------------------------------------------


def review_page(pack: Pack) -> tuple[str, str, str]:
    """Every quarterly review (provisional and final) and every notice raised."""
    anchor = pack.anchors.take("reviews")
    notices = [n for n in pack.ev.remedies if "issued" in n]
    body = ("<h3>Quarterly reviews: provisional and final result (✓ met, ✗ failed, – not yet "
            "known)</h3>" + review_grid(pack.ev.reviews, with_group=True)
            + "<h3>Notices</h3>" + (notice_table(notices, with_group=True) if notices else
                                    '<p class="allmet">No notice raised.</p>'))
    title = "Reviews and notices"
    return anchor, title, section(anchor, title, body)


def review_grid(rows: list[dict[str, Any]], with_group: bool = False) -> str:
    """One row per group and measure, one column per quarter reviewed."""
    quarters = sorted({r["quarter"] for r in rows})[-8:]
    cells: dict[tuple[GroupKey, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        cells[(key_of(r["group"]), r["measure"])][r["quarter"]] = r
    out = []
    for g, mid in sorted(cells, key=lambda k: ([str(v) for _, v in k[0]], k[1])):
        who = [td(group_title(g))] if with_group else []
        out.append([*who, td(mid, "mid"), *(_review_cell(cells[(g, mid)].get(q))
                                            for q in quarters)])
    return table([*(["Group"] if with_group else []), "Measure", *quarters], out)


def _review_cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "<td></td>"
    p = r["provisional"]
    f = r["final"]
    worst = p["met"] is False or (f is not None and f["met"] is False)
    colour = "red" if worst else "green"
    final = "–" if f is None else MARK["green" if f["met"] else "red"]
    return (f'<td class="num c-{colour}">{MARK["green" if p["met"] else "red"]} {final}'
            f'<br><small class="rank">{p["net"]:,.2f} of {r["required"]:,.2f}</small></td>')


def notice_table(notices: list[dict[str, Any]], with_group: bool = False) -> str:
    """Each notice: where, on what, when issued, its target and status, and why."""
    out = []
    for n in notices:
        who = [td(group_title(key_of(n["group"])))] if with_group else []
        end = n.get("end_of_remedy")
        at_end = ("" if end is None else f"{end['net']:,.2f} against {end['target']:,.2f} "
                  f"(as at {end['figure_as_at']})")
        status = n["status"] + (f" on {n['cancelled']}" if n.get("cancelled") else "")
        good = n["status"] in ("cancelled", "target met")
        out.append([*who, td(n["remedy"], "mid"), td(n["measure"]), td(n["month"]),
                    td(n["issued"]), td(n["action_plan_due"] or ""), td(n["remedy_period_end"]),
                    td("" if n["target"] is None else f"{n['target']:,.2f}", "num"),
                    td(status, "c-green" if good else "c-red"), td(at_end),
                    td("; ".join(n["reasons"]), "reason")])
    return table([*(["Group"] if with_group else []), "Notice", "Measure", "Quarter", "Issued",
                  "Action plan due", "Remedy period to", "Target", "Status",
                  "At the end of the remedy period", "Why"], out)
