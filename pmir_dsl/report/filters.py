"""``pmirc check --provider X / --group KEY=VALUE / --measure ID...``: checked and applied.

A group filter keeps the results (and cohorts, escalations, remedies, reviews, assurance actions)
whose group has
every KEY=VALUE given, values compared as text (``(none)`` for an empty value); the contract as a
whole has no keys, so it is left out. A measure filter keeps the results, cohorts, reviews and
notices of those measures and their ``measures`` entries; escalation, fee and assurance rows are
per group, not per measure, and stay. Data quality always stays: it is about the data. Every key
of the JSON stays (output.md): only the lists are shorter. The review packs (HTML, XLSX, CSV) are
made from the evaluation :func:`narrow` filters the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ..diagnostics import did_you_mean
from ..evaluate import RowSequence, group_values_of, row_kept
from ..visible import visible


class FilterError(Exception):
    """A filter naming a measure, group key or value the evaluation does not have."""


def resolve(ev: Any, provider: str | None, groups: Sequence[str],
            measures: Sequence[str] | None) -> tuple[dict[str, str], list[str] | None]:
    """The checked group filter (key: value) and measure ids, from the command line's
    ``--provider``, ``--group`` and ``--measure`` (raises :class:`FilterError`)."""
    wanted = dict(_key_value(g) for g in groups)
    if provider is not None:
        wanted["provider"] = provider
    ids = [mp.measure.id for mp in ev.plan.measures]
    for mid in measures or ():
        if mid not in ids:
            raise FilterError(_unknown("measure", mid, ids, ev.plan.contract.file))
    values = rows_of(ev.results).group_values()
    for key, value in wanted.items():
        if key not in values:
            raise FilterError(_unknown("group key", key, sorted(values), ev.plan.contract.file))
        if value not in values[key]:
            raise FilterError(_unknown(f"{key}", value, sorted(values[key]), "the data"))
    return wanted, (list(dict.fromkeys(measures)) if measures else None)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise FilterError(f"--group takes KEY=VALUE, e.g. --group provider=North, not "
                          f"'{visible(text)}'")
    return key, value


@attrs.frozen(eq=False)
class _Listed:
    """Rows held in a list (an evaluation made by hand, the reference interpreter's), seen
    through the :class:`~pmir_dsl.evaluate.RowSequence` protocol: filtered as they are read."""

    rows: Iterable[dict[str, Any]]
    groups: Mapping[str, str] = attrs.field(factory=dict)
    measures: Sequence[str] | None = None

    def only(self, groups: Mapping[str, str] | None = None,
             measures: Sequence[str] | None = None) -> _Listed:
        return _Listed([r for r in self.rows if keep_row(r, groups or {}, measures)])

    def group_values(self) -> dict[str, set[str]]:
        return group_values_of(self.rows)

    def any_failed(self) -> bool:
        return any(r.get("met") is False for r in self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)


def rows_of(rows: Iterable[dict[str, Any]]) -> RowSequence:
    """``rows`` as a :class:`~pmir_dsl.evaluate.RowSequence`: lazy rows (evaluate.Results,
    LazyRows) as they are, which filter before they build; a list filtered as read."""
    return rows if isinstance(rows, RowSequence) else _Listed(rows)


def only(rows: Iterable[dict[str, Any]], groups: Mapping[str, str],
         measures: Sequence[str] | None) -> Iterable[dict[str, Any]]:
    """The rows the filters keep; lazy ones filtered before they are built."""
    if not groups and measures is None:
        return rows
    kept = rows_of(rows).only(groups, measures)
    return kept.rows if isinstance(kept, _Listed) else kept


def _unknown(what: str, name: str, have: list[str], where: str) -> str:
    hint = did_you_mean(name, have)
    shown = ", ".join(have[:30]) + (f" and {len(have) - 30} more" if len(have) > 30 else "")
    text = f"no {what} '{name}' in {where}" + (f"; {hint}" if hint else "")
    return visible(f"{text} (have: {shown or 'none'})")


def keep_row(row: Mapping[str, Any], groups: Mapping[str, str],
             measures: Sequence[str] | None) -> bool:
    """Whether a result, cohort, review or remedy row passes the filters."""
    return row_kept(row, groups, measures)


def filter_json(d: dict[str, Any], groups: Mapping[str, str],
                measures: Sequence[str] | None) -> dict[str, Any]:
    """output.md's object with its lists filtered; every key kept."""
    out = dict(d)
    for key in ("results", "cohorts", *EVALUATION_LISTS[1:]):
        if key in d:  # `assurance` only where the contract declares one
            out[key] = [r for r in d[key] if keep_row(r, groups, measures)]
    if measures is not None:
        out["measures"] = [m for m in d["measures"] if m["measure"] in measures]
    return out


#: The lists of rows an evaluation holds, filtered alike (cohorts are worked out from the
#: counts on demand: the measures kept narrow them, and the packs look them up by group).
EVALUATION_LISTS = ("results", "escalations", "remedies", "reviews", "assurance")


def narrow(ev: Any, groups: Mapping[str, str], measures: Sequence[str] | None) -> Any:
    """The evaluation with only the rows the filters keep, and only the measures kept, for the
    review packs: what they show of a provider is what its JSON holds."""
    if not groups and measures is None:
        return ev
    kept = {key: list(only(getattr(ev, key), groups, measures)) for key in EVALUATION_LISTS}
    plan = ev.plan
    if measures is not None:
        plan = attrs.evolve(plan, measures=tuple(mp for mp in plan.measures
                                                 if mp.measure.id in measures))
    return attrs.evolve(ev, plan=plan, **kept)


def describe(groups: Mapping[str, str], measures: Sequence[str] | None) -> str | None:
    """What the filters keep, in words, for a filtered pack's header (None: everything)."""
    parts = [f"{k}={v}" for k, v in groups.items()]
    if measures is not None:
        parts.append(f"measure{'s' if len(measures) != 1 else ''} {', '.join(measures)}")
    return "; ".join(parts) or None


def filter_lists(d: dict[str, Any], ev: Any, groups: Mapping[str, str],
                 measures: Sequence[str] | None) -> dict[str, Any]:
    """:func:`filter_json`, the lazy lists of ``ev`` (results, escalations, remedies)
    filtered before they are built (rows of the groups and measures left out never are)."""
    lazy = ("results", "escalations", "remedies")
    out = filter_json({**d, **{key: [] for key in lazy}}, groups, measures)
    for key in lazy:
        out[key] = only(d[key], groups, measures)
    return out


def kept_results(rows: Iterable[dict[str, Any]], groups: Mapping[str, str],
                 measures: Sequence[str] | None) -> Iterable[dict[str, Any]]:
    """The result rows the filters keep; lazy rows (evaluate.Results) are filtered before they
    are built, so those left out never are."""
    return only(rows, groups, measures)


def failed(results: Iterable[Mapping[str, Any]], groups: Mapping[str, str],
           measures: Sequence[str] | None) -> bool:
    """Whether any result the filters keep is an assessed, failed target (exit status 1)."""
    return rows_of(results).only(groups, measures).any_failed()  # type: ignore[arg-type]
