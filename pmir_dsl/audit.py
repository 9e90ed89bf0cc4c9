"""The per-record verdicts behind a figure, for an audit: ``pmirc audit``.

Every record in a measure's population is listed with the period it counts in, its verdict (met,
failed, pending, excluded), the deadline it had and, for excluded records, the data-quality check
that excluded it, so any figure in a report can be traced back to the rows that make it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .compile import EXCLUDED, OUTSIDE, STATUS_NAMES
from .evaluate import month_label, quarter_label
from .pipeline import Evaluation, make_batch
from .schema import ColumnType


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
    header = ["measure", "id", *key_cols, "period", "verdict", "deadline", "reason"]
    out = []
    for i, (e, r) in enumerate(zip(entries, rows)):
        deadline = "" if np.isnat(v.deadline[e]) else str(v.deadline[e])
        out.append([m.id, ids[i], *(key_cols[k][i] for k in key_cols), labels[e] or "",
                    STATUS_NAMES[v.status[e]], deadline,
                    reason[r] if v.status[e] == EXCLUDED else ""])
    return header, out


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
