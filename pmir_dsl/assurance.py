"""Evaluate ``assurance`` declarations: the actions each group's assurance reviews trigger
(IPES Provider Assurance Team, 9.93-9.95; docs/language.md 9.5).

Whole-column numpy: the reviews are sorted once by group, completed date and id, so a review's
predecessor is the row before it when that row is of the same group. Ratings become severities
(0 the worst, from the scale written worst first); reasons become a boolean matrix, review x
reason code, built from the text column's dictionary (each distinct text split once), so "a
reason in common" is a row-wise AND and "every reason again" a row-wise implication. Only the
triggers found (a handful) are turned into output rows, by :func:`trigger_row`, which the
reference interpreter shares so that both engines word a trigger alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import ir
from .schema import Column, ColumnType, Table

#: The order of the actions in reports, as 9.95 lists them.
ACTION_ORDER = {"same_or_worse": 0, "consecutive": 1, "action_plan_late": 2}


def split_reasons(text: str | None, sep: str) -> tuple[str, ...]:
    """The reason codes of one review: split on ``sep``, trimmed, empty ones dropped, sorted
    and each once."""
    return tuple(sorted({r.strip() for r in (text or "").split(sep)} - {""}))


def exclusion_checks(a: ir.Assurance, as_of: str) -> list[str]:
    """The data-quality checks of an assurance's reviews, in the order they apply: the first
    three leave the review out altogether, the last two only out of the action-plan rule."""
    checks = [f"{a.completed.name} missing", f"{a.completed.name} after the as-of date {as_of}",
              f"{a.rating.name} missing"]
    for r in a.rules:
        if r.kind == "action_plan_late" and r.due is not None and r.submitted is not None:
            checks += [f"{r.due.name} before {a.completed.name}",
                       f"{r.submitted.name} before {a.completed.name}"]
    return list(dict.fromkeys(checks))


def evaluate(a: ir.Assurance, table: Table, as_of: np.datetime64
             ) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The assurance's triggers (sorted) and, per data-quality check, the rows it excludes."""
    cols = table.columns
    done = cols[a.completed.name].values
    rating = cols[a.rating.name].values
    checks = exclusion_checks(a, str(as_of))
    quality = {checks[0]: np.isnat(done), checks[1]: done > as_of}
    quality[checks[2]] = (rating < 0) & ~quality[checks[0]] & ~quality[checks[1]]
    kept = ~(quality[checks[0]] | quality[checks[1]] | quality[checks[2]])
    rows = np.flatnonzero(kept)
    group, labels = _groups(a, table)
    rank = _id_rank(cols[a.review_id.name])
    order = rows[np.lexsort((rank[rows], done[rows].astype(np.int64), group[rows]))]
    sev = _severities(a, cols[a.rating.name])[rating[order]]
    reasons = _reason_matrix(a, table)[order] if a.reasons is not None else None
    hits: list[tuple[int, str, list[int], tuple[str, ...]]] = []
    for i, rule in enumerate(a.rules):
        if rule.kind == "action_plan_late":
            late, excluded = _late(a, rule, table, kept, as_of)
            for check, mask in excluded.items():
                quality[check] = quality.get(check, np.zeros(table.rows, bool)) | mask
            hits += [(i, rule.kind, [int(r)], ()) for r in np.flatnonzero(late)]
            continue
        flagged = np.isin(rating[order], [a.rating.categories.index(x) for x in rule.ratings])
        same = group[order]
        if rule.kind == "same_or_worse":
            assert reasons is not None
            found, common = _same_or_worse(flagged, sev, same, reasons, rule.reading)
            names = _reason_names(a, table)
            for k in np.flatnonzero(found):
                codes = tuple(names[np.flatnonzero(common[k])])
                hits.append((i, rule.kind, [int(order[k - 1]), int(order[k])], codes))
        else:
            for k in np.flatnonzero(_run(flagged, same, rule.count)):
                hits.append((i, rule.kind, [int(r) for r in order[k - rule.count + 1:k + 1]], ()))
    source = _Source(a, table, group, labels,
                     np.asarray([r for _, _, rs, _ in hits for r in rs], np.int64))
    out = [trigger_row(a, a.rules[i], source.group(rs[-1]), [source.review(r) for r in rs],
                       list(codes), str(as_of)) for i, _, rs, codes in hits]
    return sort_rows(a, out), {k: v for k, v in quality.items() if v.any()}


def _groups(a: ir.Assurance, table: Table) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Each row's group number and each number's values (None for an empty key)."""
    if not a.keys:
        return np.zeros(table.rows, np.int64), [()]
    codes = np.stack([table.columns[k].values.astype(np.int64) for k in a.keys], axis=1)
    uniq, inverse = np.unique(codes, axis=0, return_inverse=True)
    labels = [tuple(_label(table.columns[k], int(c)) for k, c in zip(a.keys, u)) for u in uniq]
    return inverse.reshape(-1), labels


def _label(col: Column, code: int) -> str | None:
    if code < 0:
        return None
    return (col.dictionary if col.spec.type is ColumnType.TEXT else col.spec.categories)[code]


def _id_rank(col: Column) -> np.ndarray:
    """Each row's place in the text order of the ids (ties between same-day reviews)."""
    rank = np.empty(len(col.values), np.int64)
    rank[np.asarray(pc.sort_indices(col.values))] = np.arange(len(col.values))
    return rank


def _severities(a: ir.Assurance, col: Column) -> np.ndarray:
    """Severity of each category code: its place on the scale, 0 the worst."""
    return np.asarray([a.scale.index(c) for c in col.spec.categories], np.int64)


def _reason_names(a: ir.Assurance, table: Table) -> np.ndarray:
    assert a.reasons is not None
    col = table.columns[a.reasons.name]
    names = sorted({r for d in col.dictionary for r in split_reasons(d, a.separator)})
    return np.asarray(names, dtype=object)


def _reason_matrix(a: ir.Assurance, table: Table) -> np.ndarray:
    """Review x reason code: whether the review gives that reason. The text column's distinct
    values are split once; rows pick their value's line."""
    assert a.reasons is not None
    col = table.columns[a.reasons.name]
    names = list(_reason_names(a, table))
    per_text = np.zeros((len(col.dictionary) + 1, len(names)), bool)  # last line: empty text
    for i, d in enumerate(col.dictionary):
        per_text[i, [names.index(r) for r in split_reasons(d, a.separator)]] = True
    return per_text[np.where(col.values < 0, len(col.dictionary), col.values)]


def _same_or_worse(flagged: np.ndarray, sev: np.ndarray, group: np.ndarray,
                   reasons: np.ndarray, reading: str) -> tuple[np.ndarray, np.ndarray]:
    """Reviews (in sorted order) whose group's previous review was flagged, rated the same or
    worse, for the same reasons; and the reasons the two share."""
    n = len(flagged)
    found = np.zeros(n, bool)
    common = np.zeros_like(reasons)
    if n < 2:
        return found, common
    before, now = reasons[:-1], reasons[1:]
    common[1:] = before & now
    same = (~before | now).all(axis=1) if reading == "all" else common[1:].any(axis=1)
    found[1:] = ((group[1:] == group[:-1]) & flagged[:-1] & (sev[1:] <= sev[:-1])
                 & before.any(axis=1) & same)
    return found, common


def _run(flagged: np.ndarray, group: np.ndarray, count: int) -> np.ndarray:
    """Reviews (in sorted order) that end a run of ``count`` flagged reviews of one group."""
    n = len(flagged)
    out = flagged.copy()
    for j in range(1, count):  # a loop over the run's length, not over reviews
        shifted = np.zeros(n, bool)
        shifted[j:] = flagged[:-j] & (group[:-j] == group[j:]) if n > j else False
        out &= shifted
    return out


def _late(a: ir.Assurance, rule: ir.AssuranceRule, table: Table, kept: np.ndarray,
          as_of: np.datetime64) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Reviews whose action plan was submitted after its due date, or not submitted with the
    due date on or before the as-of date (decision 11); and the rows each check leaves out."""
    assert rule.due is not None and rule.submitted is not None
    done = table.columns[a.completed.name].values
    due = table.columns[rule.due.name].values
    sub = table.columns[rule.submitted.name].values
    bad_due = kept & ~np.isnat(due) & (due < done)
    bad_sub = kept & ~bad_due & ~np.isnat(due) & ~np.isnat(sub) & (sub < done)
    ok = kept & ~np.isnat(due) & ~bad_due & ~bad_sub
    late = ok & np.where(np.isnat(sub), due <= as_of, sub > due)
    return late, {f"{rule.due.name} before {a.completed.name}": bad_due,
                  f"{rule.submitted.name} before {a.completed.name}": bad_sub}


class _Source:
    """Python values of the rows that trigger an action, converted once, column by column."""

    def __init__(self, a: ir.Assurance, table: Table, group: np.ndarray,
                 labels: list[tuple[Any, ...]], rows: np.ndarray):
        self.a, self.groups, self.labels = a, group, labels
        rows = np.unique(rows)
        cols = table.columns
        self.at = {int(r): i for i, r in enumerate(rows)}
        self.ids = [str(v) for v in cols[a.review_id.name].values.take(pa.array(rows)).to_pylist()]
        self.done = _days(cols[a.completed.name].values[rows])
        self.rating = [a.rating.categories[c] for c in cols[a.rating.name].values[rows]]
        self.reasons: list[list[str]] = [[] for _ in rows]
        if a.reasons is not None:
            col = cols[a.reasons.name]
            split = [list(split_reasons(d, a.separator)) for d in col.dictionary]
            self.reasons = [split[c] if c >= 0 else [] for c in col.values[rows]]
        self.plans = [(_days(cols[r.due.name].values[rows]),
                       _days(cols[r.submitted.name].values[rows])) for r in a.rules
                      if r.kind == "action_plan_late" and r.due is not None
                      and r.submitted is not None]

    def group(self, row: int) -> dict[str, Any]:
        return dict(zip(self.a.keys, self.labels[int(self.groups[row])]))

    def review(self, row: int) -> dict[str, Any]:
        i = self.at[row]
        out = {"review_id": self.ids[i], "completed": self.done[i], "rating": self.rating[i],
               "reasons": list(self.reasons[i])}
        for due, sub in self.plans:
            out["action_plan_due"], out["action_plan_submitted"] = due[i], sub[i]
        return out


def _days(values: np.ndarray) -> list[str | None]:
    """Dates as ``YYYY-MM-DD`` (None for NaT), converted in one pass."""
    text = values.astype(str)
    return [None if t == "NaT" else str(t) for t in text]


# ---- the output rows, shared with the reference interpreter -------------------------------------


def trigger_row(a: ir.Assurance, rule: ir.AssuranceRule, group: dict[str, Any],
                reviews: list[dict[str, Any]], common: list[str], as_of: str) -> dict[str, Any]:
    """One trigger as the JSON ``assurance`` list holds it: the action, the group, its month,
    the reviews behind it (oldest first), the reasons in common and a sentence saying why."""
    last = reviews[-1]
    month = (last["action_plan_due"] if rule.kind == "action_plan_late"
             else last["completed"])[:7]
    row = {"assurance": a.name, "action": rule.kind, "group": group, "month": month,
           "rule": rule.text, "cite": a.cite, "reviews": reviews, "reasons": common,
           "reason": _sentence(rule, reviews, common, as_of)}
    if a.assumptions:
        row["assumptions"] = list(a.assumptions)
    return row


def _sentence(rule: ir.AssuranceRule, reviews: list[dict[str, Any]], common: list[str],
              as_of: str) -> str:
    last = reviews[-1]
    if rule.kind == "action_plan_late":
        sub = last["action_plan_submitted"]
        when = f"submitted {sub}" if sub else f"not submitted by {as_of}"
        return (f"the action plan of {last['review_id']} ({last['completed']}, "
                f"{last['rating']}) was due {last['action_plan_due']} and {when}")
    seen = ", ".join(f"{r['review_id']} {r['rating']} ({r['completed']})" for r in reviews)
    if rule.kind == "consecutive":
        return (f"{rule.count} consecutive ratings {' or '.join(rule.ratings)}, whatever the "
                f"reasons: {seen}")
    return f"the same or a worse rating for the same reasons ({', '.join(common)}): {seen}"


def sort_rows(a: ir.Assurance, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Triggers in a fixed order: group, month, action (as 9.95 lists them), last review."""
    return sorted(rows, key=lambda r: (
        a.name, tuple((v is not None, v or "") for v in r["group"].values()), r["month"],
        ACTION_ORDER[r["action"]], r["reviews"][-1]["review_id"]))
