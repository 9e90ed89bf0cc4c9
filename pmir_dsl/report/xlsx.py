"""The review pack as an Excel workbook (``pmirc check --format xlsx -o pack.xlsx``).

A Summary sheet (every measure x group x basis in its latest period), one sheet per measure
(every result), then Escalations, Service fee, Notices, Reviews (quarterly reviews), Assurance
(assurance actions) and Data quality where the contract has them. Numbers are written as numbers (shares with a percent format, money as pounds with a
pound format, counts as integers), every header row is frozen and filtered, and the status
column is coloured by conditional formatting: Met green, Failed red, Not assessed grey, the
second band of a band set (Cabinet Office "Near Target") amber.

Written with XlsxWriter, which stamps every part of the zip with 1980-01-01; the document's
"created" date is set to the as-of date, so the file is byte-identical run to run.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import xlsxwriter

from ..ir import Measure
from ..pipeline import Evaluation
from .csv import group_keys
from .json import measure_summary

STATUS = {True: "Met", False: "Failed", None: "Not assessed"}
COUNT_KINDS = ("count", "backlog_count")
PERCENT, COUNT, DECIMAL, POUNDS = "0.00%", "#,##0", "#,##0.00", "£#,##0.00"

#: Fill and font colours of the conditional formats (GOV.UK colours, light fills for print).
FILLS = {"Met": ("#cce2d8", "#005a30"), "Failed": ("#f6d7d2", "#942514"),
         "Not assessed": ("#f3f2f1", "#505a5f"), "amber": ("#fcd6c3", "#6e3619")}


def write(ev: Evaluation, path: str, scope: str | None = None) -> None:
    """Write the workbook to ``path``; ``scope``: what a filtered pack shows (on the Summary)."""
    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"PMIR review pack: {ev.plan.contract.name}",
                       "subject": f"as of {ev.as_of}", "author": "pmirc",
                       "created": dt.datetime.fromisoformat(ev.as_of)})
    fmt = _formats(wb)
    names = SheetNames()
    summary_sheet(wb.add_worksheet(names.take("Summary")), ev, fmt, scope)
    for mp in ev.plan.measures:
        m = mp.measure
        measure_sheet(wb.add_worksheet(names.take(m.id)), ev, m, fmt)
    if ev.escalations:
        escalation_sheet(wb.add_worksheet(names.take("Escalations")), ev, fmt)
    fees = [r for r in ev.remedies if "fee_pence" in r]
    if fees:
        fee_sheet(wb.add_worksheet(names.take("Service fee")), fees, fmt)
    notices = [r for r in ev.remedies if "issued" in r]
    if notices:
        notice_sheet(wb.add_worksheet(names.take("Notices")), notices, fmt)
    if ev.plan.contract.reviews:
        review_sheet(wb.add_worksheet(names.take("Reviews")), ev.reviews, fmt)
    if ev.plan.contract.assurances:
        assurance_sheet(wb.add_worksheet(names.take("Assurance")), ev.assurance, fmt)
    quality_sheet(wb.add_worksheet(names.take("Data quality")), ev, fmt)
    wb.close()


class SheetNames:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, unique ignoring case."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        base = re.sub(r"[\[\]:*?/\\]", "_", wanted)[:31]
        name, n = base, 2
        while name.lower() in self.used:
            suffix = f"~{n}"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        self.used.add(name.lower())
        return name


def _formats(wb: Any) -> dict[str, Any]:
    f = {"head": wb.add_format({"bold": True, "bg_color": "#0b0c0c", "font_color": "#ffffff",
                                "text_wrap": True, "valign": "top"}),
         "title": wb.add_format({"bold": True, "font_size": 14}),
         "percent": wb.add_format({"num_format": PERCENT}),
         "count": wb.add_format({"num_format": COUNT}),
         "decimal": wb.add_format({"num_format": DECIMAL}),
         "pounds": wb.add_format({"num_format": POUNDS}),
         "wrap": wb.add_format({"text_wrap": True, "valign": "top"})}
    for name, (bg, fg) in FILLS.items():
        f[name] = wb.add_format({"bg_color": bg, "font_color": fg})
    return f


def value_format(m: Measure) -> str:
    """Counts as integers, everything else (rates, ratios, shares of a profile) as percent."""
    return "count" if m.kind in COUNT_KINDS else "percent"


def _table(ws: Any, first: int, header: list[str], rows: list[list[Any]],
           formats: dict[int, Any], fmt: dict[str, Any], widths: dict[int, int]) -> None:
    """Header at row ``first``, frozen beneath it and filtered; each row's cells written as
    their own type (None: left empty), column ``j`` in ``formats[j]`` (a format, or a list
    of one format per row)."""
    ws.write_row(first, 0, header, fmt["head"])
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is not None:
                f = formats.get(j)
                ws.write(first + 1 + i, j, v, f[i] if isinstance(f, list) else f)
    ws.freeze_panes(first + 1, 0)
    ws.autofilter(first, 0, first + max(len(rows), 1), len(header) - 1)
    for j, h in enumerate(header):
        ws.set_column(j, j, widths.get(j, max(10, min(len(h) + 2, 40))))


def _status_colours(ws: Any, first: int, n: int, col: int, fmt: dict[str, Any]) -> None:
    for text in ("Met", "Failed", "Not assessed"):
        ws.conditional_format(first + 1, col, first + max(n, 1), col,
                              {"type": "cell", "criteria": "==", "value": f'"{text}"',
                               "format": fmt[text]})


def _band_colours(ws: Any, first: int, n: int, col: int, m: Measure, fmt: dict[str, Any]) -> None:
    if m.bands is None or len(m.bands.bands) < 2:
        return
    for i, band in enumerate(m.bands.bands):
        colour = "Met" if i == 0 else "amber" if i == 1 else "Failed"
        ws.conditional_format(first + 1, col, first + max(n, 1), col,
                              {"type": "cell", "criteria": "==", "value": f'"{band.label}"',
                               "format": fmt[colour]})


def _latest(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each measure x group x basis in its latest period, in the results' order."""
    last: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in results:
        key = (r["measure"], tuple(r["group"].items()), r["basis"])
        if key not in last or r["period"] > last[key]["period"]:
            last[key] = r
    return list(last.values())


def group_label(group: dict[str, Any]) -> str:
    """``provider=North; lep_area=Leeds`` or ``whole contract``."""
    return "; ".join(f"{k}={v}" for k, v in group.items()) or "whole contract"


def summary_sheet(ws: Any, ev: Evaluation, fmt: dict[str, Any], scope: str | None = None
                  ) -> None:
    """Contract, as-of date (and what a filtered pack shows), then every measure x group x
    basis in its latest period."""
    c = ev.plan.contract
    ws.write(0, 0, c.name, fmt["title"])
    ws.write(1, 0, f"As of {ev.as_of} ({ev.as_of_source}); contract file {c.file}, "
                   f"sha256 {c.sha256}" + (f"; filtered: only {scope}" if scope else ""))
    header = ["Measure", "Title", "Target", "Group", "Period", "Basis", "Numerator",
              "Denominator", "Value", "Target value", "Status", "Band"]
    rows, value_fmts = [], []
    for r in _latest(ev.results):
        m = ev.plan.measure(r["measure"]).measure
        rows.append([m.id, m.title, m.target.text, group_label(r["group"]), r["period"],
                     r["basis"], r["numerator"], r["denominator"], r["value"], r["target"],
                     STATUS[r["met"]], r["band"]])
        value_fmts.append(fmt[value_format(m)])
    first = 3
    _table(ws, first, header, rows, {6: fmt["decimal"], 7: fmt["decimal"], 8: value_fmts,
                                     9: value_fmts}, fmt, {0: 24, 1: 40, 2: 22, 3: 30})
    _status_colours(ws, first, len(rows), 10, fmt)
    for mp in ev.plan.measures:  # band labels are shared by every measure using a band set
        _band_colours(ws, first, len(rows), 11, mp.measure, fmt)


def measure_sheet(ws: Any, ev: Evaluation, m: Measure, fmt: dict[str, Any]) -> None:
    """Every result of one measure: group columns, period, basis, figures, status, band."""
    mine = [r for r in ev.results if r["measure"] == m.id]
    keys = group_keys(mine)
    extra = [k for k in ("expected", "variance", "against_target", "rank",
                         "oldest_age_working_days") if any(k in r for r in mine)]
    header = [*keys, "Period", "Basis", "Numerator", "Denominator", "Pending", "Excluded",
              "Value", "Target", "Status", "Band", *extra]
    rows = [[*(r["group"].get(k) for k in keys), r["period"], r["basis"], r["numerator"],
             r["denominator"], r["pending"], r["excluded"], r["value"], r["target"],
             STATUS[r["met"]], r["band"], *(r.get(k) for k in extra)] for r in mine]
    n = len(keys)
    vf = fmt[value_format(m)]
    formats = {n + 2: fmt["decimal"], n + 3: fmt["decimal"], n + 4: fmt["count"],
               n + 5: fmt["count"], n + 6: vf, n + 7: vf}
    for j, k in enumerate(extra, start=n + 10):
        formats[j] = fmt["percent"] if k == "against_target" else fmt["decimal"]
    ws.write(0, 0, f"{m.id}: {m.title}", fmt["title"])
    ws.write(1, 0, f"Target {m.target.text}. {m.cite}")
    _table(ws, 3, header, rows, formats, fmt, {})
    _status_colours(ws, 3, len(rows), n + 8, fmt)
    _band_colours(ws, 3, len(rows), n + 9, m, fmt)


def escalation_sheet(ws: Any, ev: Evaluation, fmt: dict[str, Any]) -> None:
    """Each group's escalation level month by month, with the reasons for each change."""
    keys = group_keys(ev.escalations)
    header = ["Regime", *keys, "Month", "Level", "Level title", "Changed", "Reasons"]
    rows = [[e["regime"], *(e["group"].get(k) for k in keys), e["month"], e["level"],
             e["level_title"], "yes" if e["changed"] else "", "; ".join(e["reasons"])]
            for e in ev.escalations]
    _table(ws, 0, header, rows, {len(keys) + 2: fmt["count"]}, fmt, {len(header) - 1: 80})


def fee_sheet(ws: Any, fees: list[dict[str, Any]], fmt: dict[str, Any]) -> None:
    """Service fee month by month in pounds: fee, deferred, released, forfeit, outstanding."""
    keys = group_keys(fees)
    money = ("fee_pence", "deferred_pence", "released_pence", "forfeited_pence",
             "outstanding_pence")
    header = ["Remedy", *keys, "Month", "Fee", "Deferred", "Released", "Forfeit",
              "Outstanding", "Reasons"]
    rows = [[r["remedy"], *(r["group"].get(k) for k in keys), r["month"],
             *(r[k] / 100 for k in money), "; ".join(r["reasons"])] for r in fees]
    first = len(keys) + 2
    _table(ws, 0, header, rows, {first + i: fmt["pounds"] for i in range(len(money))}, fmt,
           {len(header) - 1: 80})


def notice_sheet(ws: Any, notices: list[dict[str, Any]], fmt: dict[str, Any]) -> None:
    """Every notice raised: where, on what, when, its target, status and why."""
    keys = group_keys(notices)
    header = ["Notice", "Measure", *keys, "Quarter", "Issued", "Action plan due",
              "Remedy period end", "Target", "Status", "Cancelled", "Net at end",
              "Target met at end", "Reasons"]
    rows = []
    for n in notices:
        end = n.get("end_of_remedy") or {}
        met = end.get("met")
        rows.append([n["remedy"], n["measure"], *(n["group"].get(k) for k in keys), n["month"],
                     n["issued"], n["action_plan_due"], n["remedy_period_end"], n["target"],
                     n["status"], n["cancelled"], end.get("net"),
                     None if met is None else STATUS[met], "; ".join(n["reasons"])])
    k = len(keys) + 2
    _table(ws, 0, header, rows, {k + 5: fmt["decimal"], k + 8: fmt["decimal"]}, fmt,
           {len(header) - 1: 80})
    _status_colours(ws, 0, len(rows), k + 9, fmt)


def review_sheet(ws: Any, reviews: list[dict[str, Any]], fmt: dict[str, Any]) -> None:
    """Every quarterly review: the figure, the net figure required, the provisional and the
    final result, and the notice it raised."""
    keys = group_keys(reviews)
    header = ["Review", "Measure", *keys, "Quarter", "Basis", "Review date", "Numerator",
              "Denominator", "Required", "Provisional net", "Provisional", "Final net", "Final",
              "Final failed after provisional met", "Notice"]
    rows = []
    for r in reviews:
        prov, final = r.get("provisional") or {}, r.get("final") or {}
        rows.append([r["review"], r["measure"], *(r["group"].get(k) for k in keys), r["quarter"],
                     r["basis"], r["review_date"], r["numerator"], r["denominator"],
                     r["required"], prov.get("net"), _verdict(prov), final.get("net"),
                     _verdict(final), "yes" if r["final_failed_after_provisional_met"] else "",
                     r["notice"] or ""])
    k = len(keys) + 2
    _table(ws, 0, header, rows, {k + 3: fmt["count"], k + 4: fmt["count"],
                                 k + 5: fmt["decimal"], k + 6: fmt["decimal"],
                                 k + 8: fmt["decimal"]}, fmt, {})
    _status_colours(ws, 0, len(rows), k + 7, fmt)
    _status_colours(ws, 0, len(rows), k + 9, fmt)


def _verdict(result: dict[str, Any]) -> str | None:
    """Met / Failed / Not assessed of a provisional or final result; nothing when not yet known."""
    return STATUS[result.get("met")] if result else None


def assurance_sheet(ws: Any, actions: list[dict[str, Any]], fmt: dict[str, Any]) -> None:
    """Every assurance action DWP may take: where, when, which rule, the reviews behind it."""
    from .html_assurance import ACTION_TITLES

    keys = group_keys(actions)
    header = ["Assurance", *keys, "Month", "Action", "Cite", "Reviews", "Reasons", "Why"]
    rows = [[a["assurance"], *(a["group"].get(k) for k in keys), a["month"],
             ACTION_TITLES[a["action"]], a["cite"],
             "; ".join(f"{v['review_id']} {v['rating']} ({v['completed']})" for v in a["reviews"]),
             ", ".join(a["reasons"]), a["reason"]] for a in actions]
    if not rows:
        rows = [["No action triggered", *([None] * (len(header) - 1))]]
    _table(ws, 0, header, rows, {}, fmt, {len(header) - 3: 40, len(header) - 1: 80})


def quality_sheet(ws: Any, ev: Evaluation, fmt: dict[str, Any]) -> None:
    """Records excluded by each data-quality check, then each measure's population accounting."""
    header = ["Table", "Check", "Records excluded", "Examples"]
    rows = [[q.table, q.check, q.count, ", ".join(q.examples)] for q in ev.quality]
    _table(ws, 0, header, rows, {2: fmt["count"]}, fmt, {1: 50, 3: 50})
    first = len(rows) + 3
    head = ["Measure", "Table", "Population", "Met", "Failed", "Pending", "Excluded",
            "Outside the population"]
    ws.write_row(first, 0, head, fmt["head"])
    for i, mp in enumerate(ev.plan.measures, start=first + 1):
        s = measure_summary(ev, mp.measure.id)
        ws.write_row(i, 0, [s["measure"], s["table"], s["population"], s["met"], s["failed"],
                            s["pending"], s["excluded"], s["outside_population"]])
