"""Which parts of a contract its rule tests exercise: ``pmirc test --coverage``.

An item is exercised when a test's expectations look at it:

* a measure: some expectation names it (a record's verdict or a figure);
* a measure's window: its tests saw a record of it met and one failed (both sides of the
  deadline); a window whose days depend on a category: each category, met or failed;
* a target: a checked figure of the measure was met, and one was failed;
* a band: a checked figure of the measure fell in it;
* a regime rule: a checked level row moved (``changed``) to the rule's level in its direction;
* an assurance's action: a checked assurance row was triggered by it, and a group's month
  was checked to trigger nothing (``triggered false``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .ir import DaysByCategory, WithinDays


def coverage(plan: Any, runs: Iterable[Any]) -> tuple[list[str], list[str]]:
    """(items exercised, items not exercised) of ``plan`` by the test ``runs`` of it."""
    seen: set[str] = set()
    for run in runs:
        for e, got in run.observed:
            if got is not None:
                seen |= _seen(run.evaluation, e, got, plan)
    items = list(_items(plan))
    return [i for i in items if i in seen], [i for i in items if i not in seen]


def _items(plan: Any) -> Iterable[str]:
    for mp in plan.measures:
        m = mp.measure
        yield f"measure {m.id}"
        if m.window is not None:
            days = m.window.days if isinstance(m.window, WithinDays) else None
            if isinstance(days, DaysByCategory):
                cats = [c for c, d in zip(days.column.categories, days.days) if d is not None]
                yield from (f"window of {m.id}: {days.column.name} {c}" for c in cats)
            else:
                yield from (f"window of {m.id}: {side}" for side in ("met", "failed"))
        if m.target.text and not m.target.text.startswith("no "):
            yield from (f"target of {m.id} ({m.target.text}): {side}" for side in ("met", "failed"))
        if m.bands is not None:
            yield from (f"band of {m.id}: {b.label}" for b in m.bands.bands)
    for r in plan.contract.regimes:
        for rule in r.rules:
            yield f"regime {r.name}: {_rule(rule)}"
    for a in plan.contract.assurances:
        for rule in a.rules:
            yield from (f"assurance {a.name}: {rule.kind} {side}"
                        for side in ("triggered", "not triggered"))


def _rule(rule: Any) -> str:
    word = "escalate" if rule.escalate else "return"
    src = f" from level {rule.from_level}" if rule.from_level is not None else ""
    return f"{word} to level {rule.level}{src}"


def _seen(ev: Any, e: Any, got: dict[str, Any], plan: Any) -> set[str]:
    if e.kind == "level":
        rules = next(r.rules for r in plan.contract.regimes if r.name == e.name)
        prev = _previous_level(ev, got)
        return {f"regime {e.name}: {_rule(rule)}" for rule in rules if got.get("changed")
                and rule.level == got["level"] and _moves(rule, prev, got["level"])}
    if e.kind == "assurance":
        rules = next(a.rules for a in plan.contract.assurances if a.name == e.name)
        if got.get("triggered") is False:
            return {f"assurance {e.name}: {r.kind} not triggered" for r in rules}
        return {f"assurance {e.name}: {got.get('action')} triggered"}
    if e.kind not in ("record", "figure"):
        return set()
    m = plan.measure(e.name).measure
    out = {f"measure {m.id}"} | _window_seen(ev, m)
    if e.kind == "figure":
        if got.get("met") is not None:
            out.add(f"target of {m.id} ({m.target.text}): {'met' if got['met'] else 'failed'}")
        if got.get("band"):
            out.add(f"band of {m.id}: {got['band']}")
    return out


def _previous_level(ev: Any, got: dict[str, Any]) -> int:
    """The level of the group's month before ``got`` (the lowest level, 1, before the first)."""
    rows = [r for r in ev.escalations if r["regime"] == got["regime"]
            and r["group"] == got["group"] and r["month"] < got["month"]]
    return max(rows, key=lambda r: r["month"])["level"] if rows else 1


def _moves(rule: Any, prev: int, level: int) -> bool:
    """Whether a move from ``prev`` to ``level`` is one ``rule`` makes (its direction, and its
    'from level' if it has one)."""
    direction = prev < level if rule.escalate else prev > level
    return direction and (rule.from_level is None or rule.from_level == prev)


def _window_seen(ev: Any, m: Any) -> set[str]:
    """The window items the test's records of ``m`` reached (met or failed records)."""
    if m.window is None:
        return set()
    days = m.window.days if isinstance(m.window, WithinDays) else None
    if isinstance(days, DaysByCategory):
        col = days.column.name
        return {f"window of {m.id}: {col} {c}" for c in days.column.categories
                if _verdicts(ev, m.id, {col: c}) & {"met", "failed"}}
    verdicts = _verdicts(ev, m.id, {})
    return {f"window of {m.id}: {v}" for v in ("met", "failed") if v in verdicts}


def render(contract: str, done: list[str], missing: list[str]) -> str:
    """The report: what no test exercised, and a count."""
    total = len(done) + len(missing)
    out = [f"coverage of {contract}: {len(done)} of {total} items exercised"]
    out += [f"  not exercised: {item}" for item in missing]
    return "\n".join(out)


def _verdicts(ev: Any, measure_id: str, groups: dict[str, str]) -> set[str]:
    """The verdicts of the records of ``measure_id`` in ``groups``, read by column name."""
    from .audit import audit_rows

    header, rows = audit_rows(ev, measure_id, None, None, groups)
    at = header.index("verdict")
    return {r[at] for r in rows}
