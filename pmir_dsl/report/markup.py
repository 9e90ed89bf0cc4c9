"""Small pieces the HTML pack is built from: escaping, tables, figures and RAG colours, and an
index of the results by measure, group and basis.

Every value that comes from a contract or from data (a provider's name, a measure's title, a
reason) passes through :func:`esc` before it is put in the page; the markup itself is fixed text.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from fractions import Fraction
from html import escape
from typing import Any

from ..ir import Measure

GroupKey = tuple[tuple[str, Any], ...]

BASIS_TITLES = {"in_month": "In month", "rolling_3": "Rolling 3", "rolling_12": "Rolling 12",
                "cumulative": "Cumulative", "quarter": "Quarter", "year_to_date": "Year to date"}
COUNT_KINDS = ("count", "backlog_count")


def esc(value: object) -> str:
    """``value`` as text safe inside an element or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def key_of(group: dict[str, Any]) -> GroupKey:
    """A group dict as a hashable key, in its keys' order."""
    return tuple(group.items())


def group_title(key: GroupKey) -> str:
    """``Provider: North · Lep area: Leeds`` (not escaped) or ``Whole contract``."""
    if not key:
        return "Whole contract"
    return " · ".join(f"{label(k)}: {'(none)' if v is None else v}" for k, v in key)


def label(name: str) -> str:
    """``lep_area`` -> ``Lep area``: a column name as a heading."""
    if len(name) <= 3:  # an abbreviation: cpa, lep
        return name.upper()
    return name.replace("_", " ").capitalize()


class Index:
    """The results by (measure, group, basis), each list in period order."""

    def __init__(self, results: Iterable[dict[str, Any]]) -> None:
        self.rows: dict[tuple[str, GroupKey, str], list[dict[str, Any]]] = defaultdict(list)
        for r in results:
            self.rows[(r["measure"], key_of(r["group"]), r["basis"])].append(r)
        for rows in self.rows.values():
            rows.sort(key=lambda r: r["period"])

    def series(self, measure: str, group: GroupKey, basis: str) -> list[dict[str, Any]]:
        """One measure's results for one group on one basis, oldest first (maybe empty)."""
        return self.rows.get((measure, group, basis), [])

    def latest(self, measure: str, group: GroupKey, basis: str) -> dict[str, Any] | None:
        """The latest period's result, or None when the group has none."""
        rows = self.series(measure, group, basis)
        return rows[-1] if rows else None

    def groups(self) -> list[GroupKey]:
        """Every group with a result, the whole contract first, then by keys and values."""
        keys = {g for (_, g, _) in self.rows}
        return sorted(keys, key=lambda g: (len(g), [k for k, _ in g],
                                           ["" if v is None else str(v) for _, v in g]))


def percent(numerator: float, denominator: float, target: float | None = None,
            met: bool | None = None) -> str:
    """``numerator / denominator`` as a percentage rounded half up to 2 places, as Excel shows
    it; a failed figure that would then read as its target gets more places (up to 6), so a
    reader never sees a failure shown equal to the target."""
    exact = Fraction(repr(numerator)) / Fraction(repr(denominator)) * 100
    text = _half_up(exact, 2)
    if met is False and target is not None:
        goal = Fraction(repr(target)) * 100
        places = 2
        while places < 6 and text == _half_up(goal, places):
            places += 1
            text = _half_up(exact, places)
    return text + "%"


def _half_up(x: Fraction, places: int) -> str:
    scaled = math.floor(abs(x) * 10**places + Fraction(1, 2))
    whole, part = divmod(scaled, 10**places)
    sign = "-" if x < 0 and scaled else ""
    return f"{sign}{whole}.{part:0{places}d}"


def figure(r: dict[str, Any] | None, m: Measure) -> str:
    """The figure a reader compares with the target: a count, or a percentage (of the
    denominator; for a profile measure the denominator is the expected figure)."""
    if r is None:
        return ""
    if m.kind in COUNT_KINDS:
        return f"{r['numerator']:,}"
    if r["value"] is None:
        return "–"
    return percent(r["numerator"], r["denominator"], r["target"], r["met"])


def target_text(r: dict[str, Any] | None, m: Measure) -> str:
    """The target of this result: the looked-up rate where there is one, else the rule's text."""
    if r is not None and m.target.lookup is not None and r["target"] is not None:
        return f"{r['target'] * 100:.2f}% (MPL)"
    return m.target.text


def rag(r: dict[str, Any] | None, m: Measure) -> str:
    """The tile colour: green met, red failed, grey not assessed (or no target), amber for a
    failed figure in the second band of a band set (the Cabinet Office "Near Target")."""
    if r is None or r["met"] is None:
        return "grey"
    if r["met"]:
        return "green"
    if m.bands is not None and len(m.bands.bands) > 2 and r["band"] == m.bands.bands[1].label:
        return "amber"
    return "red"


MARK = {"green": "✓", "red": "✗", "amber": "✗", "grey": ""}


def cell(r: dict[str, Any] | None, m: Measure) -> str:
    """A table cell with the figure, coloured by :func:`rag`, with a tick or cross."""
    if r is None:
        return "<td></td>"
    colour = rag(r, m)
    mark = MARK[colour]
    return f'<td class="num c-{colour}">{esc(figure(r, m))} {mark}</td>'


def table(header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "",
          numeric: Sequence[int] = ()) -> str:
    """A ``<table>``: ``header`` is plain text (escaped here); each row's cells are markup
    already (made with :func:`td` or :func:`cell`)."""
    heads = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>'
                    for i, h in enumerate(header))
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{heads}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def td(value: object, cls: str = "") -> str:
    """A table cell holding ``value`` as escaped text."""
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{esc(value)}</td>"


def pounds(pence: int) -> str:
    """Integer pence as pounds: 250000050 -> '£2,500,000.50'."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{part:02d}"


_SLUG = re.compile(r"[^a-z0-9]+")


class Anchors:
    """Unique, readable ``id`` attributes: ``provider-north``, ``provider-north-2``, ..."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, text: str) -> str:
        base = _SLUG.sub("-", text.lower()).strip("-") or "section"
        name, n = base, 2
        while name in self.used:
            name, n = f"{base}-{n}", n + 1
        self.used.add(name)
        return name


def section(anchor: str, title: str, body: str, cls: str = "page") -> str:
    """A ``<section>`` with its own anchor and heading (``title`` escaped here)."""
    return (f'<section class="{cls}" id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>')
