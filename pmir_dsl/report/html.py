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

import math
from fractions import Fraction
from typing import Any

from .. import __version__
from ..ir import Measure
from ..pipeline import Evaluation
from . import charts, dashboard
from .json import measure_summary
from .markup import (BASIS_TITLES, COUNT_KINDS, MARK, Anchors, GroupKey, Index, cell, esc,
                     figure, group_title, rag, section, table, target_text, td)

#: How many periods a trend chart shows, the latest last.
TREND_PERIODS = 24

#: The basis drawn beside the first, when a measure has one: the steadiest that shares the
#: first basis's monthly periods (a quarterly basis would leave gaps between its quarters).
SECOND_BASES = ("rolling_12", "cumulative", "rolling_3", "year_to_date")

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class Pack:
    """What every page reads: the evaluation, its results by measure/group/basis, anchors."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev
        self.index = Index(ev.results)
        self.anchors = Anchors()
        self.measures = [mp.measure for mp in ev.plan.measures]
        self.cohorts = ev.cohorts()


def render(ev: Evaluation) -> str:
    """The whole pack as HTML text."""
    pack = Pack(ev)
    pages: list[tuple[str, str, str]] = []  # (anchor, nav label, markup)
    pages.append(contract_page(pack))
    for g in pack.index.groups():
        if g:
            pages.append(group_page(pack, g))
    pages += dashboard.pages(pack)
    pages.append(quality_page(pack))
    return document(ev, pages)


def document(ev: Evaluation, pages: list[tuple[str, str, str]]) -> str:
    """The page frame: head with styles, the contract header, the navigation, the pages."""
    c = ev.plan.contract
    title = f"{c.name}: review pack as of {ev.as_of}"
    nav = "".join(f'<li><a href="#{esc(a)}">{esc(n)}</a></li>' for a, n, _ in pages)
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
        f"service start {esc(c.service_start)} · pmirc {esc(__version__)}</p>"
        f'<p class="guidance">{esc(c.guidance or "")}</p></header>'
        f'<div class="layout"><nav><h2>Contents</h2><ol>{nav}</ol>'
        f'<h2>Data read</h2><ul class="tables">{tables}</ul></nav>'
        f"<main>{''.join(markup for _, _, markup in pages)}</main></div>"
        "</body></html>\n")


# ---- the contract page and the group pages ------------------------------------------------------


def contract_page(pack: Pack) -> tuple[str, str, str]:
    """Whole contract: what failed this month and for whom, tiles, the status table, trends."""
    anchor = pack.anchors.take("contract")
    body = failures_summary(pack) + page_body(pack, (), anchor)
    return anchor, "Contract as a whole", section(anchor, "Contract as a whole", body)


def group_page(pack: Pack, g: GroupKey) -> tuple[str, str, str]:
    """One provider (or other group): the same view, plus its escalation, fees and notices."""
    title = group_title(g)
    anchor = pack.anchors.take(title)
    body = page_body(pack, g, anchor) + dashboard.group_extras(pack, g, anchor)
    return anchor, title, section(anchor, title, body)


def page_body(pack: Pack, g: GroupKey, anchor: str) -> str:
    """Tiles, the status table and one block of charts per measure, for group ``g``."""
    mine = [m for m in pack.measures if pack.index.latest(m.id, g, m.bases[0]) is not None]
    tiles = "".join(tile(pack, m, g) for m in mine)
    blocks = "".join(measure_block(pack, m, g, anchor) for m in mine)
    return (f'<div class="tiles">{tiles}</div>' + status_table(pack, mine, g) + blocks)


def failures_summary(pack: Pack) -> str:
    """One line per measure failed in its latest period: for the contract and for whom."""
    lines = []
    for m in pack.measures:
        basis = m.bases[0]
        failed = [g for g in pack.index.groups()
                  if (r := pack.index.latest(m.id, g, basis)) is not None and r["met"] is False]
        if failed:
            period = pack.index.latest(m.id, failed[0], basis)["period"]  # type: ignore[index]
            who = ", ".join(group_title(g) for g in failed)
            lines.append(f"<li><strong>{esc(m.id)}</strong> {esc(m.title)} "
                         f"({esc(BASIS_TITLES[basis].lower())} {esc(period)}): {esc(who)}</li>")
    if not lines:
        return '<p class="allmet">Every assessed target was met in its latest period.</p>'
    return ('<div class="callout"><h3>Failed in the latest period</h3>'
            f"<ul>{''.join(lines)}</ul></div>")


def tile(pack: Pack, m: Measure, g: GroupKey) -> str:
    """A RAG tile: the measure, its latest figure against the target, since when it fails."""
    series = pack.index.series(m.id, g, m.bases[0])
    r = series[-1]
    colour = rag(r, m)
    band = f" · {esc(r['band'])}" if r["band"] else ""
    notes = [n for n in (failing_since(series), shortfall(r, m), rank_note(r)) if n]
    return (f'<div class="tile t-{colour}">'
            f'<div class="tid">{esc(m.id)} <span class="mark">{MARK[colour]}</span></div>'
            f'<div class="ttitle">{esc(m.title)}</div>'
            f'<div class="tvalue">{esc(figure(r, m))}</div>'
            f'<div class="ttarget">{esc(target_text(r, m))} · '
            f"{esc(BASIS_TITLES[m.bases[0]].lower())} {esc(r['period'])}{band}</div>"
            f'<div class="tnote">{esc(" · ".join(notes))}</div></div>')


def failing_run(series: list[dict[str, Any]]) -> int:
    """How many periods in a row, up to the latest, were failed (0: the latest was not)."""
    run = 0
    for r in reversed(series):
        if r["met"] is not False:
            break
        run += 1
    return run


def _same_period(pack: Pack, m: Measure, g: GroupKey, basis: str) -> bool:
    """Whether ``basis`` has a result in the period of the measure's first basis's latest."""
    if basis not in m.bases:
        return False
    r = pack.index.latest(m.id, g, basis)
    first = pack.index.latest(m.id, g, m.bases[0])
    return r is not None and first is not None and r["period"] == first["period"]


def failing_since(series: list[dict[str, Any]]) -> str:
    """``failed since 2025-03 (4 periods)`` when the latest period failed, else ``''``."""
    run = failing_run(series)
    if not run:
        return ""
    first = series[-run]["period"]
    return f"failed since {first} ({run} period{'s' if run > 1 else ''})"


def shortfall(r: dict[str, Any], m: Measure) -> str:
    """How far a failed figure is from its target: in records (met records needed, rounded
    up: a part-record cannot be met) and in percentage points."""
    if r["met"] is not False or r["target"] is None or r["value"] is None:
        return ""
    if m.kind in COUNT_KINDS:
        return f"{abs(r['numerator'] - r['target']):,.0f} over the target"
    goal = Fraction(repr(r["target"])) * Fraction(repr(r["denominator"]))
    points = (r["value"] - r["target"]) * 100
    if m.target.op in ("at_least", "above"):
        need = max(1, math.ceil(goal - Fraction(repr(r["numerator"]))))
        return f"{need:,} short ({points:+.2f} points)"
    excess = max(1, math.floor(Fraction(repr(r["numerator"])) - goal) + 1)
    return f"{excess:,} too many ({points:+.2f} points)"


def rank_note(r: dict[str, Any]) -> str:
    """``ranked 2`` for a ranked group's result."""
    return f"ranked {r['rank']}" if r.get("rank") is not None else ""


def status_table(pack: Pack, measures: list[Measure], g: GroupKey) -> str:
    """Each measure's latest period on every basis it is reported on, band and record."""
    bases = [b for b in BASIS_TITLES if any(_same_period(pack, m, g, b) for m in measures)]
    rows = []
    for m in measures:
        first = pack.index.series(m.id, g, m.bases[0])
        latest = first[-1]
        recent = first[-12:]
        failed = sum(r["met"] is False for r in recent)
        assessed = sum(r["met"] is not None for r in recent)
        cells = [td(m.id, "mid"), td(latest["period"]), td(target_text(latest, m))]
        for b in bases:
            r = pack.index.latest(m.id, g, b) if b in m.bases else None
            cells.append(cell(r, m) if _same_period(pack, m, g, b) else "<td></td>")
        run = failing_run(first)
        cells += [td(latest["band"] or ""), td(f"{failed} of {assessed}", "num"),
                  td(f"{first[-run]['period']} ({run})" if run else "", "num")]
        rows.append(cells)
    header = ["Measure", "Period", "Target", *(BASIS_TITLES[b] for b in bases), "Band",
              "Failed, last 12", "Failing since (periods)"]
    return ('<h3>Status in the latest period</h3>'
            + table(header, rows, "status", numeric=range(3, 3 + len(bases))))


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
td:nth-child(2),td:nth-child(3){white-space:nowrap}
td.reason{font-size:12.5px;color:#383f43}
small.rank{color:#505a5f;font-size:11px}
"""
