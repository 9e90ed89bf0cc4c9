"""Escalation and remedies: rules evaluated month by month, per group, in order (semantics.md 7).

Rules read the in-month results of measures for their group: a month is *failed* when its result
was assessed and missed its target, *met* when assessed and met, and *not assessed* otherwise. A
not-assessed month is neither: it never counts as a failure, and it is not a met month either, so
it breaks a run of failed months and a run of met months alike. The state
of month m depends only on results up to m. Every change carries its reason: the measures and
months that triggered it. Money is integer pence throughout.

The work is a loop over groups and months (a provider x month grid, not records): 100 providers
over 84 months is 8,400 small steps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from . import assumptions, ir
from .errors import DataError, DataProblem
from .evaluate import Axis, Results, group_matches, month_label
from .schema import Table

Status = dict[str, list[bool | None]]  # measure id -> met per month index (None: not assessed)


def status_key(measure: str, basis: str) -> str:
    """The key of a measure's verdicts on a basis in a :data:`Status`."""
    return measure if basis == "in_month" else f"{measure} on {basis}"


def monthly_status(results: Sequence[dict[str, Any]], measures: set[str], keys: tuple[str, ...],
                   axis: Axis) -> GroupStatus:
    """Per group values: each named measure's verdicts over the month axis (``measures`` holds
    :func:`status_key` names: in-month by the measure's name, other bases with theirs). Lazy
    results (evaluate.Results) decide them from the counts, building no row; a filtered view
    of them, for its groups only."""
    if isinstance(results, Results):
        return GroupStatus(*results.verdicts(keys, _named(results, measures)))
    index = {month_label(axis.first_month + i): i for i in range(axis.size)}
    out: dict[tuple[Any, ...], Status] = defaultdict(dict)
    for r in results:
        key = status_key(r["measure"], r["basis"])
        if key in measures and tuple(r["group"]) == keys and r["period"] in index:
            g = tuple(r["group"][k] for k in keys)
            months = out[g].setdefault(key, [None] * axis.size)
            months[index[r["period"]]] = r["met"]
    decided = dict(out)
    return GroupStatus(list(decided), decided.__contains__, decided.__getitem__)


class GroupStatus(Mapping[tuple[Any, ...], Status]):
    """Each group's :data:`Status`, decided by ``decide`` when the group is read (a group at a
    time: the regimes hold one group's verdicts, not every group's), with running notices
    added beside them (:meth:`add`); ``groups`` lists the groups, ``has`` tests one."""

    def __init__(self, groups: list[tuple[Any, ...]], has: Callable[[tuple[Any, ...]], bool],
                 decide: Callable[[tuple[Any, ...]], Status]) -> None:
        self.groups, self.has, self.decide = groups, has, decide
        self.added: dict[tuple[Any, ...], Status] = {}

    def __contains__(self, g: object) -> bool:
        return g in self.added or self.has(g)  # type: ignore[arg-type]

    def __getitem__(self, g: tuple[Any, ...]) -> Status:
        if g not in self:
            raise KeyError(g)
        return {**(self.decide(g) if self.has(g) else {}), **self.added.get(g, {})}

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        yield from self.groups
        yield from (g for g in self.added if not self.has(g))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def add(self, g: tuple[Any, ...], key: str, months: list[Any]) -> None:
        self.added.setdefault(g, {})[key] = months


def _named(results: Results, measures: set[str]) -> dict[tuple[str, str], str]:
    """(measure, basis) -> :func:`status_key` of those named in ``measures``."""
    return {(mp.measure.id, b): status_key(mp.measure.id, b) for mp in results.plan.measures
            for b in mp.measure.bases if status_key(mp.measure.id, b) in measures}


def holds(atom: ir.Atom, status: Status, i: int, axis: Axis) -> tuple[bool, list[str]]:
    """Whether ``atom`` holds at month index ``i``, and its reasons (one per measure that did).

    ``all of (...) met`` in a month means none of the measures failed and at least one was
    assessed and met: a standard with nothing to assess that month (no exit reports due, say)
    neither blocks it nor makes it on its own.
    """
    if isinstance(atom, ir.NoticeAtom):
        running = status.get(status_key(atom.notice, "notice"), [""] * axis.size)[i]
        if bool(running) == atom.open:
            what = f" ({running})" if running else ""
            return True, [f"{atom.notice} {'running' if running else 'not running'} at the end "
                          f"of {_label(axis, i)}{what}"]
        return False, []
    if atom.quantifier == "all" and atom.kind == "met_run":
        return _all_met(atom, status, i, axis)
    found = {status_key(m, atom.basis): _test(atom, status.get(status_key(m, atom.basis),
                                                               [None] * axis.size), i, axis)
             for m in atom.measures}
    hits = [why for why in found.values() if why is not None]
    ok = (len(hits) == len(found)) if atom.quantifier == "all" else bool(hits)
    named = [f"{m} {why}" for m, why in found.items() if why is not None]
    return ok, named if ok else []


def _test(atom: ir.Atom, months: list[bool | None], i: int, axis: Axis) -> str | None:
    """The reason ``atom`` holds for one measure at month ``i``, or None."""
    if atom.kind == "failed_k_of_n":
        window = range(max(0, i - atom.n + 1), i + 1)
        failed = [j for j in window if months[j] is False]
        if len(failed) >= atom.k:
            return "failed in " + _and([_label(axis, j) for j in failed])
        return None
    if i - atom.k + 1 < 0:
        return None
    run = range(i - atom.k + 1, i + 1)
    if atom.kind == "failed_run" and all(months[j] is False for j in run):
        return "failed " + _span_words(axis, run)
    if atom.kind == "met_run" and all(months[j] is True for j in run):
        return "met " + _span_words(axis, run)
    return None


def _label(axis: Axis, j: int) -> str:
    return month_label(axis.first_month + int(j))


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _join(measures: tuple[str, ...]) -> str:
    return ", ".join(measures)


def _span_words(axis: Axis, run: range) -> str:
    if len(run) == 1:
        return "in " + _label(axis, run[0])
    return f"{_label(axis, run[0])} to {_label(axis, run[-1])} ({len(run)} consecutive months)"


def _all_met(atom: ir.Atom, status: Status, i: int, axis: Axis) -> tuple[bool, list[str]]:
    if i - atom.k + 1 < 0:
        return False, []
    run = range(i - atom.k + 1, i + 1)
    none = [None] * axis.size
    for j in run:
        month = [status.get(status_key(m, atom.basis), none)[j] for m in atom.measures]
        if False in month or True not in month:
            return False, []
    on = "" if atom.basis == "in_month" else f" on {atom.basis}"
    return True, [f"{_join(atom.measures)} met{on} {_span_words(axis, run)}"]


def condition(atoms: tuple[ir.Atom, ...], status: Status, i: int, axis: Axis
              ) -> tuple[bool, list[str]]:
    """All atoms hold at month ``i``: (True, their reasons), else (False, [])."""
    reasons: list[str] = []
    for atom in atoms:
        ok, why = holds(atom, status, i, axis)
        if not ok:
            return False, []
        reasons += why
    return True, reasons


# ---- regimes -------------------------------------------------------------------------------------


def escalations(regime: ir.Regime, results: Sequence[dict[str, Any]], axis: Axis,
                notices: dict[str, dict[tuple[Any, ...], list[str]]] | None = None
                ) -> list[dict[str, Any]]:
    """Each group's level in each month, and why (the reasons of the last change).

    ``notices`` maps a notice name to, per group, the notices running at each month end
    (described, for the reasons; '' when none). Rules marked 'at allocation' apply only in
    allocation months (every N months from the first) and when a group's level is due its
    review (N months after it was entered, and every N after).
    """
    return list(escalation_stream(regime, results, axis, notices))


def escalation_stream(regime: ir.Regime, results: Sequence[dict[str, Any]], axis: Axis,
                      notices: dict[str, dict[tuple[Any, ...], list[str]]] | None = None,
                      groups: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """:func:`escalations`' rows, built one at a time; with ``groups`` (key -> value as text)
    those of the groups matching it (and maybe others: filter what it gives), the others'
    verdicts never decided."""
    names = {status_key(m, a.basis) for r in regime.rules for a in r.atoms
             if isinstance(a, ir.Atom) for m in a.measures}
    status = monthly_status(_narrowed(results, groups), names, regime.keys, axis)
    _add_notices(status, _matching(notices, regime.keys, groups))
    return escalation_rows(regime, status, axis)


def _narrowed(results: Sequence[dict[str, Any]], groups: Mapping[str, str] | None
              ) -> Sequence[dict[str, Any]]:
    """Lazy results narrowed to ``groups`` before any verdict is decided (rows as they are)."""
    return results.only(groups) if groups and isinstance(results, Results) else results


def _matching(notices: dict[str, dict[tuple[Any, ...], list[str]]] | None,
              keys: tuple[str, ...], groups: Mapping[str, str] | None
              ) -> dict[str, dict[tuple[Any, ...], list[str]]] | None:
    """The running notices of the groups (values of ``keys``) matching ``groups``."""
    if not groups or not notices:
        return notices
    return {name: {g: months for g, months in found.items()
                   if group_matches(dict(zip(keys, g)), groups)}
            for name, found in notices.items()}


def escalation_rows(regime: ir.Regime, status: dict[tuple[Any, ...], Status], axis: Axis
                    ) -> Iterator[dict[str, Any]]:
    """The rows of :func:`escalations` from each group's verdicts, group by group."""
    lowest = regime.levels[0][0] if regime.levels else 1
    titles = dict(regime.levels)
    reviews = dict(regime.level_reviews)
    for g in sorted(status, key=_group_order):
        verdicts = status[g]  # decided once per group
        level, reasons, entered, by = lowest, [], 0, None
        for i in range(axis.size):
            changed = False
            due = _allocation(regime, axis, i) or (
                level in reviews and i > entered and (i - entered) % reviews[level] == 0)
            for rule in regime.rules:
                if not _applies(rule, level) or (rule.at_allocation and not due):
                    continue
                ok, why = condition(rule.atoms, verdicts, i, axis)
                if ok:
                    level, reasons, changed, entered, by = rule.level, why, True, i, rule
                    break
            row = {"regime": regime.name, "group": dict(zip(regime.keys, g)),
                   "month": _label(axis, i), "level": level,
                   "level_title": titles.get(level, ""), "changed": changed,
                   "reasons": list(reasons)}
            assumed = assumptions.regime_row(regime, by)
            if assumed is not None:  # the level rests on numbers the guidance does not state
                row["assumptions"] = assumed
            yield row


def _add_notices(status: GroupStatus,
                 notices: dict[str, dict[tuple[Any, ...], list[str]]] | None) -> None:
    """Put each notice's running months beside the measures' verdicts of its groups."""
    for name, groups in (notices or {}).items():
        for g, months in groups.items():
            status.add(g, status_key(name, "notice"), months)


def _allocation(regime: ir.Regime, axis: Axis, i: int) -> bool:
    """Whether month index ``i`` is an allocation month of the regime."""
    if regime.allocate is None:
        return False
    every, first = regime.allocate
    start = int(np.datetime64(first, "M").astype(np.int64))
    month = axis.first_month + i
    return month >= start and (month - start) % every == 0


def _applies(rule: ir.Rule, level: int) -> bool:
    if rule.from_level is not None and rule.from_level != level:
        return False
    return rule.level > level if rule.escalate else rule.level < level


def _group_order(g: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in g)


# ---- remedies ------------------------------------------------------------------------------------


def remedies(remedy: ir.Remedy, results: Sequence[dict[str, Any]], axis: Axis,
             fees: Table, notices: dict[str, dict[tuple[Any, ...], list[str]]] | None = None
             ) -> list[dict[str, Any]]:
    """Service Fee deferral, release and forfeiture per group and month, in integer pence.

    While deferral holds (it starts when the ``defer`` condition holds), ``share`` of each month's
    fee is deferred (rounded down to the penny); in the first month the ``release`` condition
    holds, the fee is paid in full and everything outstanding becomes payable. An amount still
    deferred ``forfeit_after`` months after the month it was deferred is forfeit; at the end of
    the referral period (``forfeit_at``) everything outstanding is forfeit.
    """
    status = monthly_status(results, _remedy_names(remedy), remedy.keys, axis)
    _add_notices(status, notices)
    fee = fee_grid(remedy, fees, axis)
    _check_fees(remedy, status, fee, fees)
    return list(_remedy_rows(remedy, status, axis, fee, fee))


def checked_fees(remedy: ir.Remedy, results: Sequence[dict[str, Any]], axis: Axis,
                 fees: Table, notices: dict[str, dict[tuple[Any, ...], list[str]]] | None = None
                 ) -> dict[tuple[Any, ...], np.ndarray]:
    """Each group's fee per month (:func:`fee_grid`), checked up front: a group the remedy
    reads verdicts or notices of with no fees is a data error (lazy results give the groups
    from the counts, deciding no verdict)."""
    fee = fee_grid(remedy, fees, axis)
    names = _remedy_names(remedy)
    if isinstance(results, Results):
        groups = set(results.verdicts(remedy.keys, _named(results, names))[0])  # none decided
    else:
        groups = set(monthly_status(results, names, remedy.keys, axis))
    for found in (notices or {}).values():
        groups |= set(found)
    _check_fees(remedy, groups, fee, fees)
    return fee


def _check_fees(remedy: ir.Remedy, status: Iterable[tuple[Any, ...]],
                fee: dict[tuple[Any, ...], np.ndarray], fees: Table) -> None:
    """A data error for the first group (in order) with verdicts or notices and no fees."""
    for g in sorted(set(status) | set(fee), key=_group_order):
        if g not in fee:
            raise DataError(DataProblem(fees.path, f"no fees for {_describe(remedy.keys, g)}",
                                        remedy.fee.name))


def _remedy_names(remedy: ir.Remedy) -> set[str]:
    return {status_key(m, a.basis) for a in remedy.defer + remedy.release
            if isinstance(a, ir.Atom) for m in a.measures}


def remedy_stream(remedy: ir.Remedy, results: Sequence[dict[str, Any]], axis: Axis,
                  fee: dict[tuple[Any, ...], np.ndarray],
                  notices: dict[str, dict[tuple[Any, ...], list[str]]] | None = None,
                  groups: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """:func:`remedies`' rows from the checked fees, group by group; with ``groups`` those of
    the groups matching it (and maybe others: filter what it gives)."""
    status = monthly_status(_narrowed(results, groups), _remedy_names(remedy), remedy.keys,
                            axis)
    _add_notices(status, _matching(notices, remedy.keys, groups))
    paid = [g for g in fee if not groups or group_matches(dict(zip(remedy.keys, g)), groups)]
    return _remedy_rows(remedy, status, axis, fee, paid)


def _remedy_rows(remedy: ir.Remedy, status: Mapping[tuple[Any, ...], Status], axis: Axis,
                 fee: dict[tuple[Any, ...], np.ndarray], paid: Iterable[tuple[Any, ...]]
                 ) -> Iterator[dict[str, Any]]:
    """The rows of the groups with verdicts or notices and of those ``paid`` (fees checked)."""
    end = _month_index(remedy.forfeit_at, axis) if remedy.forfeit_at else None
    for g in sorted(set(status) | set(paid), key=_group_order):
        yield from _remedy_months(remedy, g, status.get(g, {}), fee[g], axis, end)


def _remedy_months(remedy: ir.Remedy, g: tuple[Any, ...], status: Status, fee: np.ndarray,
                   axis: Axis, end: int | None) -> list[dict[str, Any]]:
    outstanding: list[tuple[int, int]] = []  # (month index deferred, pence)
    deferring, rows, run = False, [], 0  # run: the month index the running deferral began

    for i in range(axis.size):
        deferred = released = forfeited = 0
        reasons: list[str] = []
        release_now, why_release = condition(remedy.release, status, i, axis)
        trigger, why_defer = condition(remedy.defer, status, i, axis)
        if deferring and release_now:
            released = sum(p for _, p in outstanding)
            outstanding, deferring, reasons = [], False, why_release
        elif trigger or deferring:
            run = i if not deferring else run
            deferred = int(Fraction(int(fee[i])) * remedy.share)  # rounded down to the penny
            outstanding.append((i, deferred))
            deferring, reasons = True, why_defer or ["deferral continues until the standards "
                                                      "are met"]
        if remedy.forfeit_after is not None:
            old = [(d, p) for d, p in outstanding if i - d >= remedy.forfeit_after]
            forfeited += sum(p for _, p in old)
            outstanding = [(d, p) for d, p in outstanding if i - d < remedy.forfeit_after]
        if end is not None and i >= end:
            forfeited += sum(p for _, p in outstanding)
            outstanding = []
        rows.append({"remedy": remedy.name, "group": dict(zip(remedy.keys, g)),
                     "month": _label(axis, i), "fee_pence": int(fee[i]),
                     "deferred_pence": deferred, "released_pence": released,
                     "forfeited_pence": forfeited,
                     "outstanding_pence": sum(p for _, p in outstanding),
                     "forfeitable_pence": _forfeitable(remedy, outstanding, deferring, run, i),
                     "in_deferral": deferring, "reasons": reasons})
        if remedy.assumptions:  # the amounts rest on numbers the guidance does not state
            rows[-1]["assumptions"] = list(remedy.assumptions)
    return rows


def _forfeitable(remedy: ir.Remedy, outstanding: list[tuple[int, int]], deferring: bool,
                 run: int, i: int) -> int:
    """What DWP may forfeit at the end of month ``i`` (IPES 9.60-9.62, semantics.md 7): once
    the running deferral has lasted ``forfeitable_after`` months (its first month counted),
    every amount still deferred in it. It stays outstanding: payable on release, forfeit at
    the end of the referral period."""
    n = remedy.forfeitable_after
    if n is None or not deferring or i - run + 1 < n:
        return 0
    return sum(p for _, p in outstanding)


def fee_grid(remedy: ir.Remedy, fees: Table, axis: Axis) -> dict[tuple[Any, ...], np.ndarray]:
    """Each group's fee per month of the axis; a missing month or negative fee is a data error."""
    fee, month = fees.columns[remedy.fee.name], fees.columns[remedy.month.name]
    keys = [fees.columns[k] for k in remedy.keys]
    negative = np.flatnonzero(fee.present() & (fee.values < 0))
    if len(negative):
        raise DataError(DataProblem(fees.path, "negative fees", remedy.fee.name,
                                    tuple(int(r) + 2 for r in negative[:5]),
                                    tuple(str(fee.values[r]) for r in negative[:5]),
                                    len(negative)))
    grid: dict[tuple[Any, ...], np.ndarray] = {}
    idx = month.values.astype(np.int64) - axis.first_month
    for r in np.flatnonzero(month.present() & fee.present() & (idx >= 0) & (idx < axis.size)):
        g = tuple(k.take_strings(np.array([r]))[0] for k in keys)
        arr = grid.setdefault(g, np.full(axis.size, -1, dtype=np.int64))
        arr[idx[r]] = max(int(arr[idx[r]]), 0) + int(fee.values[r])  # rows of a month add up
    for g, arr in grid.items():
        missing = [_label(axis, i) for i in np.flatnonzero(arr < 0)]
        if missing:
            raise DataError(DataProblem(fees.path, f"fees missing for {_describe(remedy.keys, g)}"
                                        f" in {len(missing)} month(s): {', '.join(missing[:6])}",
                                        remedy.fee.name, hint="give a fee for every month from "
                                        "the service start to the as-of date (0 if none is due)"))
    return grid


def _describe(keys: tuple[str, ...], g: tuple[Any, ...]) -> str:
    return ", ".join(f"{k} {v}" for k, v in zip(keys, g)) or "the contract"


def _month_index(day: str, axis: Axis) -> int:
    return int(np.datetime64(day, "M").astype(np.int64)) - axis.first_month
