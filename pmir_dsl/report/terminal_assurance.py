"""The terminal report's section on assurance reviews (IPES PAT, 9.93-9.95): each action DWP
may take, with the group, the month, the reviews behind it and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.text import Text

from ..pipeline import Evaluation
from .fit import Col, fitted, safe

ACTION_TITLES = {"same_or_worse": "same or worse, same reasons",
                 "consecutive": "consecutive weak ratings",
                 "action_plan_late": "action plan late"}


def assurance_section(ev: Evaluation, width: int,
                      groups: Mapping[str, str] | None = None) -> Group:
    """Every assurance's triggers (those of ``groups`` only, if given), newest last."""
    parts: list[Any] = []
    for a in ev.plan.contract.assurances:
        rows = [r for r in ev.assurance if r["assurance"] == a.name
                and all(str(r["group"].get(k)) == v for k, v in (groups or {}).items())]
        parts.append(Text(""))
        if not rows:
            parts.append(safe(f"{a.title} ({a.cite}): no action triggered", "bold green"))
            continue
        cols = [*(Col(k.replace("_", " ").capitalize()) for k in a.keys),
                Col("Month", num=True), Col("Action"), Col("Reviews", drop=1), Col("Why")]
        out = [[*("(none)" if r["group"][k] is None else r["group"][k] for k in a.keys),
                r["month"], ACTION_TITLES[r["action"]],
                ", ".join(v["review_id"] for v in r["reviews"]), r["reason"]] for r in rows]
        title = f"{a.title} ({a.cite}): {len(rows)} action{'s' * (len(rows) != 1)} triggered"
        parts.append(fitted(title, cols, out, width))
        if a.assumptions:
            parts.append(safe("  assumed: " + "; ".join(a.assumptions), "dim"))
    return Group(*parts)
