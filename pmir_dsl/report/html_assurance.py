"""The review pack's page on assurance reviews (IPES PAT, 9.93-9.95; docs/language.md 9.5):
each action DWP may take, with the group, the month, the reviews behind it and why; and the
same rows on each group's page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .markup import GroupKey, esc, group_title, key_of, section, table, td

if TYPE_CHECKING:  # the Pack is html.py's; imported only for the annotations
    from .html import Pack

ACTION_TITLES = {"same_or_worse": "The same or a worse rating for the same reasons",
                 "consecutive": "Consecutive weak or limited ratings",
                 "action_plan_late": "Action plan not submitted on time"}


def assurance_page(pack: Pack) -> tuple[str, str, str]:
    """Every assurance of the contract: its actions, all groups."""
    anchor = pack.anchors.take("assurance")
    body = "".join(_block(a, pack.ev.assurance, None) for a in pack.ev.plan.contract.assurances)
    title = "Assurance reviews"
    return anchor, title, section(anchor, title, body)


def group_part(pack: Pack, g: GroupKey) -> str:
    """A group's own actions (nothing when the contract declares no assurance)."""
    return "".join(_block(a, pack.ev.assurance, g) for a in pack.ev.plan.contract.assurances)


def _block(a: Any, rows: list[dict[str, Any]], g: GroupKey | None) -> str:
    mine = [r for r in rows if r["assurance"] == a.name
            and (g is None or key_of(r["group"]) == g)]
    head = f"<h3>{esc(a.title)} ({esc(a.cite)})</h3>"
    if not mine:
        return head + '<p class="allmet">No action triggered.</p>'
    out = []
    for r in mine:
        who = [td(group_title(key_of(r["group"])))] if g is None else []
        out.append([*who, td(r["month"]), td(ACTION_TITLES[r["action"]]),
                    td(", ".join(f"{v['review_id']} {v['rating']} ({v['completed']})"
                                 for v in r["reviews"])), td(r["reason"], "reason")])
    assumed = (f'<p class="meta">Assumed: {esc("; ".join(a.assumptions))}</p>'
               if a.assumptions else "")
    return head + table([*(["Group"] if g is None else []), "Month", "Action", "Reviews",
                         "Why"], out) + assumed
