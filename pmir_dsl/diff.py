"""What a change to a contract (or its data, or its as-of date) changes: ``pmirc diff``.

Two evaluations are compared figure by figure (measure x group x period x basis) and regime row
by regime row (regime x group x month). A change is one field of one figure: its counts, value,
verdict (met flips), band or profiled figure; or a regime level. Figures only one side has are
changes too ("added" / "removed"). The list is sorted, so the output is byte-identical run to
run, as a plain table or as JSON.
"""

from __future__ import annotations

import json
from typing import Any

#: The fields of a figure compared, in the order changes are listed.
FIGURE_FIELDS = ("numerator", "denominator", "pending", "excluded", "value", "met", "band",
                 "expected")
LEVEL_FIELDS = ("level", "level_title")


def _group(g: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in g.items())


def _figures(ev: Any) -> dict[tuple[str, ...], dict[str, Any]]:
    return {("figure", r["measure"], _group(r["group"]), r["period"], r["basis"]): r
            for r in ev.results}


def _levels(ev: Any) -> dict[tuple[str, ...], dict[str, Any]]:
    return {("level", r["regime"], _group(r["group"]), r["month"], ""): r for r in ev.escalations}


def changes(old: Any, new: Any) -> list[dict[str, Any]]:
    """Every field that differs between two evaluations, sorted by kind, name, group, period,
    basis and field."""
    out: list[dict[str, Any]] = []
    for rows, fields in ((_figures, FIGURE_FIELDS), (_levels, LEVEL_FIELDS)):
        a, b = rows(old), rows(new)
        for key in sorted(set(a) | set(b)):
            out += _row_changes(key, a.get(key), b.get(key), fields)
    return out


def _row_changes(key: tuple[str, ...], a: dict[str, Any] | None, b: dict[str, Any] | None,
                 fields: tuple[str, ...]) -> list[dict[str, Any]]:
    kind, name, group, period, basis = key
    base = {"kind": kind, "name": name, "group": group, "period": period, "basis": basis}
    if a is None or b is None:
        return [{**base, "field": "(row)", "old": None if a is None else "present",
                 "new": None if b is None else "present"}]
    return [{**base, "field": f, "old": a.get(f), "new": b.get(f)}
            for f in fields if a.get(f) != b.get(f)]


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
        return "no figure, verdict, band or level changed\n"
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
