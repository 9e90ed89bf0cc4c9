"""The monthly review pack as one self-contained HTML page (``pmirc check --format html``).

What a DWP performance manager hands round at a Contract Performance Review (ESF 7.17, IPES
9.36, the Work Programme dashboard of seed 003 chapter 8): a page for the contract as a whole
and one per provider (or other group), each with RAG tiles for every measure, a status table,
trend charts against the target and band edges, and the cohort triangle as a heat map; then the
Work Programme dashboard pages, escalation and fee timelines, notices and data quality.

Self-contained: styles inline, charts inline SVG, no script, no font, no link; a Content
Security Policy forbids the browser from fetching anything, so a pack that tried would show
errors in the console (the Chromium test looks). Byte-identical run to run.
"""

from __future__ import annotations

from typing import Any

from .. import __version__, assumptions
from ..ir import Measure
from ..pipeline import Evaluation
from . import charts, dashboard, view
from .json import measure_summary
from .markup import (BASIS_TITLES, COUNT_KINDS, MARK, Anchors, GroupKey, Index, colour_of, esc,
                     group_title, key_of, section, table, td)

#: How many periods a trend chart shows, the latest last.
TREND_PERIODS = 24

#: The basis drawn beside the first, when a measure has one: the steadiest that shares the
#: first basis's monthly periods (a quarterly basis would leave gaps between its quarters).
SECOND_BASES = ("rolling_12", "cumulative", "rolling_3", "year_to_date")

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class Pack:
    """What every page reads: the evaluation, the view model of every group (view.py: status,
    trend, since when failing, variance, escalation, fees, notices), the results by
    measure/group/basis for the charts, and the anchors taken so far."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev
        self.index = Index(ev.results)
        self.anchors = Anchors()
        self.measures = [mp.measure for mp in ev.plan.measures]
        self.measure = {m.id: m for m in self.measures}
        self.view = view.build(ev)
        self.cohorts = ev.cohorts()


def render(ev: Evaluation, scope: str | None = None) -> str:
    """The whole pack as HTML text; ``scope``: what a filtered pack shows (in its header)."""
    pack = Pack(ev)
    pages: list[tuple[str, str, str]] = []  # (anchor, nav label, markup)
    breakdowns: list[tuple[str, str, str]] = []  # pages of information-only group levels
    for gv in pack.view.groups:
        if gv.breakdown:
            breakdowns.append(group_page(pack, gv))
        else:
            pages.append(group_page(pack, gv) if gv.group else contract_page(pack, gv))
    pages += dashboard.pages(pack)
    pages.append(quality_page(pack))
    return document(ev, pages, breakdowns, scope)


def document(ev: Evaluation, pages: list[tuple[str, str, str]],
             breakdowns: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
             scope: str | None = None) -> str:
    """The page frame: head with styles, the contract header, the navigation, the pages, and
    after them the ``breakdowns`` (groups only measures with no target use), listed apart."""
    c = ev.plan.contract
    title = f"{c.name}: review pack as of {ev.as_of}"
    assumed = "".join(f" (assumed: {esc(t)})" for t in assumptions.header(c))
    nav = "".join(f'<li><a href="#{esc(a)}">{esc(n)}</a></li>' for a, n, _ in pages)
    more = "".join(f'<li><a href="#{esc(a)}">{esc(n)}</a></li>' for a, n, _ in breakdowns)
    if more:
        nav += f'</ol><h2>Breakdowns (information only)</h2><ol class="breakdowns">{more}'
    pages = [*pages, *breakdowns]
    tables = "".join(f"<li>{esc(n)}: {t.rows:,} rows from <code>{esc(t.path)}</code> "
                     f"(sha256 {esc(t.sha256[:12])})</li>" for n, t in sorted(ev.tables.items()))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f'<header class="top"><div class="brand">PMIR review pack</div>'
        f"<h1>{esc(c.name)}</h1>"
        f'<p class="meta">As of <strong>{esc(ev.as_of)}</strong> ({esc(ev.as_of_source)}) · '
        f"contract <code>{esc(c.file)}</code> (sha256 {esc(c.sha256[:12])}) · "
        f"service start {esc(c.service_start)}{assumed} · pmirc {esc(__version__)}</p>"
        f'<p class="guidance">{esc(c.guidance or "")}</p>'
        + (f'<p class="meta"><strong>Filtered:</strong> only {esc(scope)} (the rest of the '
           "contract is left out of this pack)</p>" if scope else "") + "</header>"
        f'<div class="layout"><nav><h2>Contents</h2><ol>{nav}</ol>'
        f'<h2>Data read</h2><ul class="tables">{tables}</ul></nav>'
        f"<main>{''.join(markup for _, _, markup in pages)}</main></div>"
        "</body></html>\n")


# ---- the contract page and the group pages ------------------------------------------------------


def contract_page(pack: Pack, gv: view.GroupView) -> tuple[str, str, str]:
    """Whole contract: what failed this month and for whom, tiles, the status table, trends."""
    anchor = pack.anchors.take("contract")
    body = failures_summary(pack) + page_body(pack, gv, anchor)
    return anchor, "Contract as a whole", section(anchor, "Contract as a whole", body)


def group_page(pack: Pack, gv: view.GroupView) -> tuple[str, str, str]:
    """One provider (or other group): the same view, plus its escalation, fees and notices."""
    g = key_of(gv.group)
    title = group_title(g)
    anchor = pack.anchors.take(title)
    body = page_body(pack, gv, anchor) + dashboard.group_extras(pack, gv, anchor)
    return anchor, title, section(anchor, title, body)


def page_body(pack: Pack, gv: view.GroupView, anchor: str) -> str:
    """Tiles, the status table and one block of charts per measure, for one group."""
    g = key_of(gv.group)
    mine = [mv for mv in gv.measures if mv.current is not None]
    tiles = "".join(tile(pack.measure[mv.measure], mv) for mv in mine)
    blocks = "".join(measure_block(pack, pack.measure[mv.measure], g, anchor) for mv in mine)
    return f'<div class="tiles">{tiles}</div>' + status_table(pack, mine) + blocks


def failures_summary(pack: Pack) -> str:
    """One line per measure failed this month (its headline basis): for the contract as a
    whole and for which groups."""
    failed: dict[str, list[str]] = {}
    for gv, mv in pack.view.failures():
        failed.setdefault(mv.measure, []).append(group_title(key_of(gv.group)))
    lines = []
    for mid, who in failed.items():
        m, mv = pack.measure[mid], _first_failed(pack, mid)
        lines.append(f"<li><strong>{esc(mid)}</strong> {esc(m.title)} "
                     f"({esc(BASIS_TITLES[mv.headline.basis].lower())} "
                     f"{esc(mv.current.period)}): {esc(', '.join(who))}</li>")  # type: ignore[union-attr]
    if not lines:
        return '<p class="allmet">Every assessed target was met in its latest period.</p>'
    return ('<div class="callout"><h3>Failed in the latest period</h3>'
            f"<ul>{''.join(lines)}</ul></div>")


def _first_failed(pack: Pack, measure_id: str) -> view.MeasureView:
    return next(mv for _, mv in pack.view.failures() if mv.measure == measure_id)


def tile(m: Measure, mv: view.MeasureView) -> str:
    """A RAG tile: the measure, this month's figure against the target, since when it has
    failed and by how much (records and points), its rank."""
    f = mv.current
    assert f is not None
    colour = colour_of(f.met, f.band, m)
    band = f" · {esc(f.band)}" if f.band else ""
    since = (f"failed since {mv.failing_since} ({mv.headline.failing_periods} "
             f"period{'s' if mv.headline.failing_periods > 1 else ''})"
             if mv.failing_since else f.reason)
    notes = [n for n in (since, variance(f), f"ranked {f.rank}" if f.rank else "") if n]
    return (f'<div class="tile t-{colour}">'
            f'<div class="tid">{esc(m.id)} <span class="mark">{MARK[colour]}</span></div>'
            f'<div class="ttitle">{esc(m.title)}</div>'
            f'<div class="tvalue">{esc(f.text)}</div>'
            f'<div class="ttarget">{esc(target_of(f, m))} · '
            f"{esc(BASIS_TITLES[f.basis].lower())} {esc(f.period)}{band}</div>"
            f'<div class="tnote">{esc(" · ".join(notes))}</div></div>')


def variance(f: view.Figure) -> str:
    """``3 records short, -1.25 points`` (failed) or ``12 to spare, +2.10 points`` (met)."""
    parts = []
    if f.met is False and f.records_short:
        parts.append(f"{f.records_short:,} record{'s' if f.records_short > 1 else ''} short")
    elif f.met is True and f.records_spare is not None:
        parts.append(f"{f.records_spare:,} to spare")
    if f.points is not None and f.met is not None:
        parts.append(f"{float(f.points):+.2f} points")
    return ", ".join(parts)


def target_of(f: view.Figure, m: Measure) -> str:
    """The figure's target: the looked-up rate (the MPL) where the target is looked up."""
    if m.target.lookup is not None and f.target is not None:
        return f"{view.percent_text(f.target)} (MPL)"
    return m.target.text


def status_table(pack: Pack, mine: list[view.MeasureView]) -> str:
    """Each measure this month on every basis reported in that period, band, failures in the
    last 12 months on the headline basis, and since when it has failed."""
    bases = [b for b in BASIS_TITLES if any(_same_period(mv, b) for mv in mine)]
    rows = []
    for mv in mine:
        m, f = pack.measure[mv.measure], mv.current
        assert f is not None
        trend = mv.headline.trend
        cells = [td(m.id, "mid"), td(f.period), td(target_of(f, m))]
        for b in bases:
            bv = mv.basis(b)
            cells.append(figure_cell(bv.current, m) if _same_period(mv, b) and bv else "<td></td>")
        failed = sum(x.status == "failed" for x in trend)
        assessed = sum(x.met is not None for x in trend)
        run = mv.headline.failing_periods
        since = f"since {mv.failing_since} ({run} period{'s' if run > 1 else ''}); " if run else ""
        cells += [td(f.band or ""), td(f"{failed} of {assessed}", "num"),
                  td(since + variance(f), "note")]
        rows.append(cells)
    header = ["Measure", "Period", "Target", *(BASIS_TITLES[b] for b in bases), "Band",
              "Failed, last 12 months", "Failing since; variance to target"]
    return ('<h3>Status in the latest period</h3>'
            + table(header, rows, "status", numeric=range(3, 3 + len(bases))))


def _same_period(mv: view.MeasureView, basis: str) -> bool:
    """Whether ``basis`` has a figure in the period of the headline basis's latest figure."""
    bv = mv.basis(basis)
    return (bv is not None and bv.current is not None and mv.current is not None
            and bv.current.period == mv.current.period)


def figure_cell(f: view.Figure | None, m: Measure) -> str:
    """A table cell with a figure, coloured as its tile would be, with a tick or cross."""
    if f is None:
        return "<td></td>"
    colour = colour_of(f.met, f.band, m)
    return f'<td class="num c-{colour}">{esc(f.text)} {MARK[colour]}</td>'


def measure_block(pack: Pack, m: Measure, g: GroupKey, anchor: str) -> str:
    """A measure's heading, citation, trend or profile chart and cohort heat map."""
    salt = f"{anchor}-{m.id}"
    parts = [f'<article class="measure" id="{esc(salt.lower())}">'
             f"<h3>{esc(m.id)} <span>{esc(m.title)}</span></h3>"
             f'<p class="cite">Target {esc(m.target.text)}. {esc(m.cite)}</p>']
    if m.kind == "profile" and "cumulative" in m.bases:
        parts.append(profile_chart(pack, m, g, salt))
    else:
        parts.append(trend_chart(pack, m, g, salt))
    parts.append(cohort_heatmap(pack, m, g, salt))
    parts.append("</article>")
    return "".join(parts)


def trend_chart(pack: Pack, m: Measure, g: GroupKey, salt: str) -> str:
    """The first basis (coloured by met) and the second, with the whole contract's first basis
    for comparison on a group page; the target and each band's lower edge."""
    first = pack.index.series(m.id, g, m.bases[0])[-TREND_PERIODS:]
    periods = [r["period"] for r in first]
    percent = m.kind not in COUNT_KINDS

    def values(rows: list[dict[str, Any]]) -> list[float | None]:
        by = {r["period"]: (r["value"] if percent else r["numerator"]) for r in rows}
        return [by.get(p) for p in periods]

    series = [(BASIS_TITLES[m.bases[0]], values(first))]
    second = next((b for b in SECOND_BASES if b in m.bases[1:]), None)
    if second is not None:
        series.append((BASIS_TITLES[second], values(pack.index.series(m.id, g, second))))
    if g:
        series.append((f"whole contract, {BASIS_TITLES[m.bases[0]].lower()}",
                       values(pack.index.series(m.id, (), m.bases[0]))))
    edges = [(b.label, float(b.lower)) for b in (m.bands.bands if m.bands else ())
             if b.lower is not None]
    svg = charts.trend(salt, f"{m.id}: {BASIS_TITLES[m.bases[0]].lower()} against target",
                       periods, series, [r["met"] for r in first], [r["target"] for r in first],
                       edges, percent)
    return f'<figure class="chart">{svg}</figure>'


def profile_chart(pack: Pack, m: Measure, g: GroupKey, salt: str) -> str:
    """Cumulative actual against the cumulative expected figure of the profile."""
    rows = pack.index.series(m.id, g, "cumulative")[-TREND_PERIODS:]
    share = float(m.target.value) if m.target.relative else None
    svg = charts.profile(salt, f"{m.id}: cumulative actual against the profile",
                         [r["period"] for r in rows], [r["numerator"] for r in rows],
                         [r.get("expected") for r in rows], [r["met"] for r in rows], share)
    return f'<figure class="chart">{svg}</figure>'


def cohort_heatmap(pack: Pack, m: Measure, g: GroupKey, salt: str) -> str:
    """The cohort triangle of ``m`` for group ``g`` as a heat map, or ``''`` when it has none."""
    rows = [r for r in pack.cohorts if r["measure"] == m.id and tuple(r["group"].items()) == g]
    if not rows:
        return ""
    cohorts = sorted({r["cohort"] for r in rows})
    width = max(r["months_since_start"] for r in rows) + 1
    actual: dict[str, list[float | None]] = {c: [None] * width for c in cohorts}
    expected: dict[str, list[float | None]] = {c: [None] * width for c in cohorts}
    starts = {}
    for r in rows:
        actual[r["cohort"]][r["months_since_start"]] = r["conversion"]
        expected[r["cohort"]][r["months_since_start"]] = r["expected_conversion"]
        starts[r["cohort"]] = r["starts"]
    svg = charts.heatmap(f"{salt}-cohorts", f"{m.id}: conversion % by cohort (starts) and "
                         "months since start", cohorts, [starts[c] for c in cohorts],
                         [_trim(actual[c]) for c in cohorts], [_trim(expected[c]) for c in cohorts])
    return f'<figure class="chart wide">{svg}</figure>'


def _trim(row: list[float | None]) -> list[float | None]:
    while row and row[-1] is None:
        row = row[:-1]
    return row


# ---- data quality -------------------------------------------------------------------------------


def quality_page(pack: Pack) -> tuple[str, str, str]:
    """Records excluded by each check, and every measure's population accounting."""
    ev = pack.ev
    anchor = pack.anchors.take("data-quality")
    rows = [[td(q.table), td(q.check), td(f"{q.count:,}", "num"), td(", ".join(q.examples))]
            for q in ev.quality]
    excluded = (table(["Table", "Check", "Records", "Examples"], rows, numeric=[2]) if rows
                else '<p class="allmet">No records excluded.</p>')
    acc = []
    for m in pack.measures:
        s = measure_summary(ev, m.id)
        acc.append([td(m.id, "mid"), td(m.table), *(td(f"{s[k]:,}", "num") for k in (
            "population", "met", "failed", "pending", "excluded", "outside_population"))])
    accounting = table(["Measure", "Table", "Population", "Met", "Failed", "Pending", "Excluded",
                        "Outside the population"], acc, numeric=range(2, 8))
    body = ("<h3>Records excluded by data-quality checks</h3>" + excluded
            + "<h3>Population accounting (population = met + failed + pending + excluded)</h3>"
            + accounting)
    return anchor, "Data quality", section(anchor, "Data quality", body)


STYLE = """
*{box-sizing:border-box}
body{margin:0;font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;background:#f3f2f1;
font-size:15px;line-height:1.4}
header.top{background:#0b0c0c;color:#fff;padding:18px 32px 14px;border-bottom:8px solid #1d70b8}
header.top h1{margin:2px 0 6px;font-size:28px}
.brand{font-weight:bold;letter-spacing:.04em;text-transform:uppercase;font-size:13px;color:#b1b4b6}
.meta,.guidance{margin:2px 0;font-size:14px;color:#dcdcdc}
.guidance{font-style:italic}
code{font-family:Consolas,Menlo,monospace;font-size:.92em}
.layout{display:flex;align-items:flex-start}
nav{position:sticky;top:0;width:250px;flex:none;max-height:100vh;overflow:auto;padding:16px 18px;
background:#fff;border-right:1px solid #b1b4b6;font-size:14px}
nav h2{font-size:14px;text-transform:uppercase;color:#505a5f;margin:8px 0}
nav ol{padding-left:20px;margin:0 0 12px}
nav li{margin:3px 0}
nav a{color:#1d70b8}
nav ul.tables{padding-left:16px;font-size:12px;color:#505a5f;overflow-wrap:anywhere}
main{flex:1;min-width:0;padding:8px 24px 40px}
section.page{background:#fff;margin:18px 0;padding:8px 22px 18px;border-top:5px solid #1d70b8}
section.page h2{font-size:24px;margin:10px 0 12px}
h3{font-size:18px;margin:20px 0 8px}
h3 span{font-weight:normal}
.callout{border-left:8px solid #d4351c;background:#fdf2f0;padding:6px 16px;margin:6px 0 16px}
.callout h3{margin:6px 0}
.callout ul{margin:4px 0 8px;padding-left:20px}
.allmet{border-left:8px solid #00703c;background:#eef7f2;padding:10px 16px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(205px,1fr));gap:10px;margin:8px 0}
.tile{border-radius:2px;padding:10px 12px;color:#fff;min-height:128px}
.t-green{background:#00703c}.t-red{background:#d4351c}.t-amber{background:#f47738}
.t-grey{background:#505a5f}
.tid{font-weight:bold;font-size:13px;word-break:break-all}
.mark{float:right;font-size:16px}
.ttitle{font-size:12.5px;opacity:.95;min-height:34px}
.tvalue{font-size:28px;font-weight:bold;margin:2px 0}
.ttarget,.tnote{font-size:12px}
.tnote{margin-top:3px;font-weight:bold}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
table.status{width:100%}
th{background:#f3f2f1;text-align:left;padding:5px 8px;border-bottom:2px solid #0b0c0c;
vertical-align:bottom}
td{padding:4px 8px;border-bottom:1px solid #e6e6e6;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.mid{font-weight:bold;white-space:nowrap}
.c-green{background:#cce2d8;color:#005a30}.c-red{background:#f6d7d2;color:#942514}
.c-amber{background:#fcd6c3;color:#6e3619}.c-grey{color:#505a5f}
.c-l1{background:#cce2d8}.c-l2{background:#fff2b3}.c-l3{background:#fcd6c3}
.c-l4{background:#f6d7d2;font-weight:bold}
article.measure{border-top:1px solid #b1b4b6;margin-top:14px}
.cite{color:#505a5f;font-size:13px;margin:0 0 6px}
figure.chart{margin:4px 0 8px}
figure.chart svg{max-width:100%;height:auto}
table.status td:nth-child(2){white-space:nowrap}
td.note{font-size:12px;min-width:150px}
td.reason{font-size:12.5px;color:#383f43}
small.rank{color:#505a5f;font-size:11px}
p.now{padding:6px 10px;margin:4px 0 8px;background:#f3f2f1}
"""
