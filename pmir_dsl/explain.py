"""Why a figure is what it is: ``pmirc explain``.

For one measure x group x period x basis: the measure's clauses as written in the contract (with
their line numbers and cites), the records counted at each step (population, excluded by
reason, pending, met, failed), the deadlines that decided them, and the figure itself. The
records behind each count come from :func:`pmir_dsl.audit.audit_rows`, the rows ``pmirc audit``
lists, so the explanation and the audit always agree; ``-o FILE`` writes them as Excel-safe CSV.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from .audit import audit_rows
from .evaluate import intervals, month_label, quarter_label


class ExplainError(Exception):
    """A request that names no figure of the contract (a usage mistake: exit 2)."""


def period_labels(ev: Any, measure: Any, basis: str, period: str) -> set[str]:
    """The record periods (months, or quarters for a quarterly measure) that ``basis`` adds up
    for ``period``, as the engine's own intervals define them."""
    spans = {label: (lo, hi) for label, lo, hi in intervals(basis, measure.period_unit, ev.axis)}
    if period not in spans:
        shown = ", ".join(list(spans)[:3]) + (" ... " + list(spans)[-1] if len(spans) > 3 else "")
        raise ExplainError(f"no period '{period}' for {measure.id} on basis {basis} "
                           f"(periods: {shown})")
    lo, hi = spans[period]
    first = ev.axis.first_month
    name = quarter_label if measure.period_unit == "quarter" else month_label
    return {name(first + i) for i in range(lo, hi + 1)}


def find_figure(ev: Any, measure_id: str, group: dict[str, str], period: str,
                basis: str) -> dict[str, Any]:
    """The result row explained, or ExplainError saying what exists."""
    m = ev.plan.measure(measure_id).measure
    if basis not in m.bases:
        raise ExplainError(f"{m.id} has no basis '{basis}' (bases: {', '.join(m.bases)})")
    levels = [sorted(c.name for c in level) for level in m.groups]
    if sorted(group) not in levels:
        shown = "; ".join(" and ".join(level) or "none (the whole contract)" for level in levels)
        raise ExplainError(f"{m.id} is not grouped by {', '.join(sorted(group)) or 'nothing'} "
                           f"(its --group keys: {shown})")
    rows = [r for r in ev.results if r["measure"] == m.id and r["group"] == group
            and r["period"] == period and r["basis"] == basis]
    if not rows:
        raise ExplainError(f"no figure of {m.id} for {group or 'the whole contract'} in {period} "
                           f"{basis}")
    return rows[0]


def records(ev: Any, measure_id: str, group: dict[str, str],
            periods: set[str]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the records behind the figure: ``pmirc audit``'s rows in its periods."""
    header, rows = audit_rows(ev, measure_id, None, None, group)
    at = header.index("period")
    return header, [r for r in rows if r[at] in periods]


def clauses(ev: Any, measure_id: str) -> list[str]:
    """The measure's declaration as written, each line with its number in the contract."""
    m = ev.plan.measure(measure_id).measure
    if m.span is None:
        return []
    try:
        lines = Path(m.span.file).read_text(encoding="utf-8").split("\n")
    except OSError:
        return []
    width = len(str(m.span.end_line))
    return [f"  {n:>{width}} | {lines[n - 1]}" for n in range(m.span.line, m.span.end_line + 1)]


def explain(ev: Any, measure_id: str, group: dict[str, str], period: str,
            basis: str) -> tuple[str, list[str], list[list[Any]]]:
    """(the explanation as text, the header and rows of the records behind it)."""
    m = ev.plan.measure(measure_id).measure
    figure = find_figure(ev, measure_id, group, period, basis)
    periods = period_labels(ev, m, basis, period)
    header, rows = records(ev, measure_id, group, periods)
    where = ", ".join(f"{k}={v}" for k, v in group.items()) or "the whole contract"
    out = [f"{m.id} \"{m.title}\" for {where}, {period}, basis {basis} (as of {ev.as_of}, "
           f"{ev.as_of_source})", "", f"Cite: {m.cite}", "", "Clauses applied:", *clauses(ev, m.id)]
    span = sorted(periods)
    out += ["", f"Records counted: those of {m.table} in the population whose period is "
            f"{span[0]}" + (f" to {span[-1]}" if len(span) > 1 else "") + ":"]
    out += _counts(header, rows) + [""] + _deadlines(header, rows) + [""] + _figure(m, figure)
    return "\n".join(out) + "\n", header, rows


def _counts(header: list[str], rows: list[list[Any]]) -> list[str]:
    verdict, reason = header.index("verdict"), header.index("reason")
    n = Counter(r[verdict] for r in rows)
    why = Counter(r[reason] for r in rows if r[verdict] == "excluded")
    out = [f"  population  {len(rows):>8}"]
    out.append(f"  excluded    {n['excluded']:>8}")
    out += [f"    {count:>8}  {text or 'no reason recorded'}" for text, count in sorted(why.items())]
    out.append(f"  pending     {n['pending']:>8}   (not yet due: in neither numerator nor "
               "denominator)")
    if n["counted"]:  # a ratio's or an average's records are counted, not met one by one
        return out + [f"  counted     {n['counted']:>8}   (adding up to "
                      f"{_sum(header, rows, 'numerator')} over {_sum(header, rows, 'denominator')}"
                      ": only the whole figure is met or failed)"]
    return out + [f"  met         {n['met']:>8}", f"  failed      {n['failed']:>8}"]


def _sum(header: list[str], rows: list[list[Any]], column: str) -> str:
    """The exact sum of the counted records' parts of the numerator or denominator."""
    verdict, at = header.index("verdict"), header.index(column)
    total = sum((Decimal(r[at]) for r in rows if r[verdict] == "counted" and r[at] != ""),
                Decimal(0))
    return _n(int(total)) if total == total.to_integral_value() else str(total.normalize())


def _deadlines(header: list[str], rows: list[list[Any]]) -> list[str]:
    verdict, deadline = header.index("verdict"), header.index("deadline")
    out = ["Deadlines:"]
    for status in ("met", "failed", "pending"):
        days = sorted(r[deadline] for r in rows if r[verdict] == status and r[deadline])
        if days:
            out.append(f"  {status:<8} {len(days):>6} records, deadlines {days[0]}"
                       + (f" to {days[-1]}" if days[-1] != days[0] else ""))
    return out if len(out) > 1 else ["Deadlines: none (the measure has no time window)"]


def _figure(m: Any, row: dict[str, Any]) -> list[str]:
    met = {True: "met", False: "failed", None: "not assessed"}[row["met"]]
    value = "-" if row["value"] is None else f"{row['value'] * 100:.2f}%" \
        if m.kind in ("rate", "backlog_share") else f"{row['value']:g}"
    out = [f"Figure: {_n(row['numerator'])} of {_n(row['denominator'])} = {value}; target "
           f"{m.target.text}: {met}"]
    if "expected" in row:
        out.append(f"  against the profiled (expected) figure {_n(row['expected'])}")
    if row.get("band"):
        out.append(f"  band: {row['band']} ({m.bands.name}, "
                   f"{'deciding' if m.bands.deciding else 'for reporting only'})")
    if m.kind not in ("rate",):
        out.append(f"  ({m.kind} measure: the numerator is not the count of met records)")
    return out


def _n(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)
