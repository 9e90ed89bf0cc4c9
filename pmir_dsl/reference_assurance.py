"""The reference interpreter's reading of ``assurance`` declarations (docs/language.md 9.5),
record at a time: each group's reviews in date order, each compared with the one before it.

Written from the language reference, not from :mod:`pmir_dsl.assurance`; only the wording of
an output row (:func:`pmir_dsl.assurance.trigger_row`) is shared, so that the two engines print
the same JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from . import ir
from .assurance import exclusion_checks, sort_rows, split_reasons, trigger_row


class Columns(Protocol):
    def column(self, table: str, name: str) -> list[Any]: ...


def assurance_reference(a: ir.Assurance, data: Columns, rows: int, as_of: dt.date
                        ) -> tuple[list[dict[str, Any]], dict[str, set[int]]]:
    """The triggers of one assurance, and the rows each data-quality check leaves out."""
    def col(spec: Any) -> list[Any]:
        return data.column(a.table, spec.name)

    done, rating = col(a.completed), col(a.rating)
    checks = exclusion_checks(a, as_of.isoformat())
    excluded: dict[str, set[int]] = {c: set() for c in checks}
    reviews: dict[tuple[Any, ...], list[int]] = {}
    for row in range(rows):
        if done[row] is None:
            excluded[checks[0]].add(row)
        elif done[row] > as_of:
            excluded[checks[1]].add(row)
        elif rating[row] is None:
            excluded[checks[2]].add(row)
        else:
            key = tuple(data.column(a.table, k)[row] for k in a.keys)
            reviews.setdefault(key, []).append(row)
    ids = col(a.review_id)
    out: list[dict[str, Any]] = []
    for key, found in reviews.items():
        found.sort(key=lambda r: (done[r], ids[r]))
        group = dict(zip(a.keys, key))
        for rule in a.rules:
            for rs, common in _triggers(a, rule, found, data, as_of, excluded):
                out.append(trigger_row(a, rule, group, [_review(a, data, r) for r in rs],
                                       common, as_of.isoformat()))
    return sort_rows(a, out), {c: rs for c, rs in excluded.items() if rs}


def _triggers(a: ir.Assurance, rule: ir.AssuranceRule, rows: list[int], data: Columns,
              as_of: dt.date, excluded: dict[str, set[int]]
              ) -> list[tuple[list[int], list[str]]]:
    """(the reviews behind it, the reasons in common) of each time ``rule`` is triggered in one
    group's reviews, oldest first."""
    rating = data.column(a.table, a.rating.name)
    out: list[tuple[list[int], list[str]]] = []
    if rule.kind == "action_plan_late":
        assert rule.due is not None and rule.submitted is not None
        done = data.column(a.table, a.completed.name)
        due = data.column(a.table, rule.due.name)
        sub = data.column(a.table, rule.submitted.name)
        for r in rows:
            if due[r] is None:
                continue  # no action plan asked for
            if due[r] < done[r]:
                excluded[f"{rule.due.name} before {a.completed.name}"].add(r)
            elif sub[r] is not None and sub[r] < done[r]:
                excluded[f"{rule.submitted.name} before {a.completed.name}"].add(r)
            elif (sub[r] is None and due[r] <= as_of) or (sub[r] is not None and sub[r] > due[r]):
                out.append(([r], []))
        return out
    if rule.kind == "consecutive":
        for i in range(rule.count - 1, len(rows)):
            if all(rating[r] in rule.ratings for r in rows[i - rule.count + 1:i + 1]):
                out.append((rows[i - rule.count + 1:i + 1], []))
        return out
    assert a.reasons is not None
    text = data.column(a.table, a.reasons.name)
    for before, now in zip(rows, rows[1:]):
        if rating[before] not in rule.ratings:
            continue
        if a.scale.index(rating[now]) > a.scale.index(rating[before]):
            continue  # better: the scale is worst first
        was = set(split_reasons(text[before], a.separator))
        is_ = set(split_reasons(text[now], a.separator))
        same = bool(was & is_) if rule.reading == "any" else bool(was) and was <= is_
        if same:
            out.append(([before, now], sorted(was & is_)))
    return out


def _review(a: ir.Assurance, data: Columns, row: int) -> dict[str, Any]:
    """One review as a trigger row lists it."""
    def value(name: str) -> Any:
        return data.column(a.table, name)[row]

    def day(name: str) -> str | None:
        v = value(name)
        return None if v is None else v.isoformat()

    out = {"review_id": value(a.review_id.name), "completed": day(a.completed.name),
           "rating": value(a.rating.name),
           "reasons": list(split_reasons(value(a.reasons.name), a.separator))
           if a.reasons is not None else []}
    for r in a.rules:
        if r.kind == "action_plan_late" and r.due is not None and r.submitted is not None:
            out["action_plan_due"] = day(r.due.name)
            out["action_plan_submitted"] = day(r.submitted.name)
    return out
