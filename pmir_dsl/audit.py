"""The per-record verdicts behind a figure, for an audit: ``pmirc audit``.

Every record in a measure's population is listed with the period it counts in, its verdict (met,
failed, pending, excluded), the deadline it had and, for excluded records, the data-quality check
that excluded it, so any figure in a report can be traced back to the rows that make it.

Each row also gives its share of the figure (``numerator`` and ``denominator``: the summed amounts
of a ratio, 1 or 0 for a record counted in a rate or count) and the dates the measure reads from
it (``dates``), and a failed row says why it failed (``reason``). A ratio's records are
``counted``, not met: a ratio is met or failed only as a whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ir
from .compile import EXCLUDED, FAILED, MET, OUTSIDE, STATUS_NAMES
from .evaluate import month_label, quarter_label
from .pipeline import Evaluation, make_batch
from .schema import DECIMAL_SCALE, ColumnSpec, ColumnType


def audit_rows(ev: Evaluation, measure_id: str, period: str | None, status: str | None,
               groups: dict[str, str]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the records behind ``measure_id``, filtered as asked, in table order."""
    plan = ev.plan
    mp = plan.measure(measure_id)
    m = mp.measure
    first = ev.axis.first_month
    batch = make_batch(plan, ev.tables, np.datetime64(ev.as_of, "D"))
    v = mp.verdicts(batch)
    specs = {spec.name: spec for level in m.groups for spec in level}
    table = ev.tables[m.table]
    record = v.rows if v.rows is not None else np.arange(len(v.status))
    keep = v.status != OUTSIDE
    if status is not None:
        keep &= v.status == STATUS_NAMES.index(status)
    labels = _period_labels(v.month, first, m.period_unit)
    if period is not None:
        keep &= labels == period
    for key, value in groups.items():
        if key not in specs and key not in table.columns:
            keep &= False
            continue
        col = batch.column(m.table, specs[key]) if key in specs else table.columns[key]
        keep &= np.asarray(col.take_strings(record), dtype=object) == value
    entries = np.flatnonzero(keep)
    rows = record[entries]
    reason = _reasons(v.exclusions, table.rows)
    id_col = next((c for c in table.columns.values() if c.spec.type is ColumnType.ID), None)
    ids = id_col.take_strings(rows) if id_col else [f"row {r + 2}" for r in rows]
    keys = [c for level in m.groups for c in level]
    key_cols = {spec.name: batch.column(m.table, spec).take_strings(rows) for spec in keys}
    header = ["measure", "id", *key_cols, "period", "verdict", "deadline", "reason",
              "numerator", "denominator", "dates"]
    dates = {spec.name: batch.column(m.table, spec).values[rows] for spec in _own_dates(m)}
    out = []
    for i, (e, r) in enumerate(zip(entries, rows)):
        deadline = "" if np.isnat(v.deadline[e]) else str(v.deadline[e])
        values = {name: col[i] for name, col in dates.items()}
        why = reason[r] if v.status[e] == EXCLUDED else \
            failure(m, values, deadline) if v.status[e] == FAILED else ""
        num, den = _share(m, v, e)
        out.append([m.id, ids[i], *(key_cols[k][i] for k in key_cols), labels[e] or "",
                    _verdict(m, v.status[e]), deadline, why, num, den,
                    "; ".join(f"{k}={d}" for k, d in values.items() if not np.isnat(d))])
    return header, out


def _verdict(m: ir.Measure, status: int) -> str:
    """The verdict's name; a ratio's records are 'counted' (only the whole figure is met)."""
    counted = m.kind in ("ratio", "average") and status == MET
    return "counted" if counted else STATUS_NAMES[status]


def _own_dates(m: ir.Measure) -> list[ColumnSpec]:
    """The date columns a measure reads from its own table, each once, in reading order."""
    own = [c for c in ir.own_columns(m) if c.via is None and c.type is ColumnType.DATE]
    return list(dict.fromkeys(own))


def _share(m: ir.Measure, v: Any, e: int) -> tuple[str, str]:
    """The entry's part of the numerator and denominator of its period's figure."""
    status = v.status[e]
    if status not in (MET, FAILED) or m.kind in ("backlog_share", "backlog_count"):
        return "", ""  # pending or excluded: in neither; a backlog: a state at month ends
    if m.kind == "ratio":
        return (_decimal(int(v.numerator[e])), _decimal(int(v.denominator[e])))
    if m.kind == "average":  # the record's days, over one record
        return str(int(v.numerator[e])), "1"
    if m.kind == "count_ratio":
        return ("1" if status == MET else "0"), "1"
    counted = status == (FAILED if m.kind == "backlog_breach" else MET)
    return ("1" if counted else "0"), "1"


def _decimal(units: int) -> str:
    """An amount in units of 1 / DECIMAL_SCALE as exact decimal text."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), DECIMAL_SCALE)
    digits = len(str(DECIMAL_SCALE)) - 1
    text = f"{whole}.{frac:0{digits}d}".rstrip("0").rstrip(".")
    return sign + text


def failure(m: ir.Measure, dates: dict[str, Any], deadline: str) -> str:
    """Why a failed record failed, in words, from its dates."""
    w = m.window
    if m.kind == "backlog_breach" and m.backlog is not None:
        return _late(m.backlog.until.name, dates, deadline, "its limit")
    if m.kind in ("backlog_share", "backlog_count"):
        return "in backlog at the as-of date"
    if m.kind == "count_ratio" and m.ratio is not None:
        return f"no {m.ratio[0].name} by the as-of date"
    if isinstance(w, (ir.WithinDays, ir.OnOrBeforeDeadline)):
        return _late(w.event.name, dates, deadline, "the deadline")
    if isinstance(w, ir.EveryNDays):
        unit = "working" if w.working else "calendar"
        return f"a gap of more than {w.days} {unit} days from {w.start.name}"
    said = _condition(m.condition)
    if m.due is not None:
        unit = "working" if m.due.working else "calendar"
        return f"{said} {m.due.days} {unit} days after {m.due.anchor.name}"
    return said


def _condition(c: ir.Condition | None) -> str:
    """What a failed 'met when' condition lacked, for the simple conditions; else in general."""
    if isinstance(c, ir.IsPresent):
        return f"{'no' if c.present else 'a'} {c.column.name}"
    if isinstance(c, ir.IsTrue):
        return f"{c.column.name} is not true"
    if isinstance(c, ir.InValues) and not c.negate:
        return f"{c.column.name} is not {' or '.join(c.values)}"
    return "the 'met when' condition does not hold"


def _late(event: str, dates: dict[str, Any], deadline: str, what: str) -> str:
    day = dates.get(event)
    if day is None or np.isnat(day):
        return f"no {event} by {what} {deadline}".rstrip()
    return f"{event} {day} after {what} {deadline}".rstrip()


def _period_labels(month: np.ndarray, first: int, unit: str) -> np.ndarray:
    name = quarter_label if unit == "quarter" else month_label
    out = np.full(len(month), None, dtype=object)
    for idx in np.unique(month[month >= 0]):
        out[month == idx] = name(first + int(idx))
    return out


def _reasons(exclusions: tuple[tuple[str, np.ndarray], ...], n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for check, mask in exclusions:
        out[mask] = check
    return out
