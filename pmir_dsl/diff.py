"""What a change to a contract (or its data, or its as-of date) changes: ``pmirc diff``.

Two evaluations are compared row by row, for every kind of row the JSON holds (output.md):
figures (measure x group x period x basis), cohort cells (measure x group x cohort x month since
start), regime levels (regime x group x month), Service Fee months and notices (remedy x group x
month), quarterly reviews (review x measure x group x quarter) and assurance actions (assurance x
group x month x action). A change is one field of one row: a figure's counts, value, verdict
(met flips), band or profiled figure; a level; a fee's pence; a notice's status; a review's net
figures and verdicts; an action's reason. Rows only one side has are changes too, as the field
``(row)``. The list is sorted, so the output is byte-identical run to run, as a plain table or
as JSON.
"""

from __future__ import annotations

import json
from typing import Any

#: The fields of a figure compared, in the order changes are listed.
FIGURE_FIELDS = ("numerator", "denominator", "pending", "excluded", "value", "met", "band",
                 "expected")
LEVEL_FIELDS = ("level", "level_title")
COHORT_FIELDS = ("starts", "outcomes", "conversion", "expected_conversion")
FEE_FIELDS = ("fee_pence", "deferred_pence", "released_pence", "forfeited_pence",
              "outstanding_pence", "forfeitable_pence", "in_deferral")
NOTICE_FIELDS = ("issued", "action_plan_due", "remedy_period_end", "target", "status",
                 "cancelled", "end_of_remedy.net", "end_of_remedy.met")
REVIEW_FIELDS = ("numerator", "denominator", "required", "provisional.net", "provisional.met",
                 "final.net", "final.met", "final_failed_after_provisional_met", "notice")
ASSURANCE_FIELDS = ("reason",)

Key = tuple[str, str, str, str, str]


def _group(g: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in g.items())


def _figures(ev: Any) -> dict[Key, dict[str, Any]]:
    return {("figure", r["measure"], _group(r["group"]), r["period"], r["basis"]): r
            for r in ev.results}


def _cohorts(ev: Any) -> dict[Key, dict[str, Any]]:
    return {("cohort", r["measure"], _group(r["group"]), r["cohort"],
             f"month {r['months_since_start']}"): r for r in ev.cohorts()}


def _levels(ev: Any) -> dict[Key, dict[str, Any]]:
    return {("level", r["regime"], _group(r["group"]), r["month"], ""): r for r in ev.escalations}


def _fees(ev: Any) -> dict[Key, dict[str, Any]]:
    return {("fee", r["remedy"], _group(r["group"]), r["month"], ""): r
            for r in ev.remedies if "fee_pence" in r}


def _notices(ev: Any) -> dict[Key, dict[str, Any]]:
    return {("notice", f"{r['remedy']} {r['measure']}", _group(r["group"]), r["month"], ""): r
            for r in ev.remedies if "issued" in r}


def _reviews(ev: Any) -> dict[Key, dict[str, Any]]:
    return {("review", f"{r['review']} {r['measure']}", _group(r["group"]), r["quarter"],
             r["basis"]): r for r in ev.reviews}


def _actions(ev: Any) -> dict[Key, dict[str, Any]]:
    return {("assurance", r["assurance"], _group(r["group"]), r["month"], r["action"]): r
            for r in ev.assurance}


#: Each kind of row: how its rows are keyed, and the fields compared.
KINDS = ((_figures, FIGURE_FIELDS), (_cohorts, COHORT_FIELDS), (_levels, LEVEL_FIELDS),
         (_fees, FEE_FIELDS), (_notices, NOTICE_FIELDS), (_reviews, REVIEW_FIELDS),
         (_actions, ASSURANCE_FIELDS))


def changes(old: Any, new: Any) -> list[dict[str, Any]]:
    """Every field that differs between two evaluations, sorted by kind, name, group, period,
    basis and field."""
    out: list[dict[str, Any]] = []
    for rows, fields in KINDS:
        a, b = rows(old), rows(new)
        for key in sorted(set(a) | set(b)):
            out += _row_changes(key, a.get(key), b.get(key), fields)
    return out


def _field(row: dict[str, Any], path: str) -> Any:
    """A field of a row; ``a.b`` reads ``b`` of the object ``a`` (None where either is absent)."""
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _row_changes(key: Key, a: dict[str, Any] | None, b: dict[str, Any] | None,
                 fields: tuple[str, ...]) -> list[dict[str, Any]]:
    kind, name, group, period, basis = key
    base = {"kind": kind, "name": name, "group": group, "period": period, "basis": basis}
    if a is None or b is None:
        return [{**base, "field": "(row)", "old": None if a is None else "present",
                 "new": None if b is None else "present"}]
    return [{**base, "field": f, "old": _field(a, f), "new": _field(b, f)}
            for f in fields if _field(a, f) != _field(b, f)]


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def render_table(found: list[dict[str, Any]]) -> str:
    """The changes as an aligned plain-text table (and a count)."""
    if not found:
        return "nothing changed: no figure, verdict, band, level, remedy, review or action\n"
    head = ["kind", "name", "group", "period", "basis", "field", "old", "new"]
    rows = [[_cell(c[h]) if h in ("old", "new") else (c[h] or "-") for h in head]
            for c in found]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
             for r in [head, *rows]]
    flips = sum(c["field"] == "met" for c in found)
    summary = f"{len(found)} change{'s' if len(found) != 1 else ''} ({flips} verdict" \
              f"{'s' if flips != 1 else ''} flipped)"
    return "\n".join(lines) + f"\n\n{summary}\n"


def render_json(found: list[dict[str, Any]], sides: dict[str, Any]) -> str:
    """The changes as JSON: what was compared, and the changes."""
    return json.dumps({"compared": sides, "changes": found}, indent=2, ensure_ascii=False) + "\n"


def run_diff(old_contract: str, new_contract: str, old_data: str, new_data: str,
             as_of: tuple[str | None, str | None]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Evaluate both sides; (the changes, what each side was)."""
    from .pipeline import run_check

    old = run_check(old_contract, old_data, as_of[0])
    new = run_check(new_contract, new_data, as_of[1])
    sides = {side: {"contract": c, "data": d, "as_of": ev.as_of}
             for side, c, d, ev in (("old", old_contract, old_data, old),
                                    ("new", new_contract, new_data, new))}
    return changes(old, new), sides
