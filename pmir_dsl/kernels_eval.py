"""Compiled loops of a measure's verdicts and counts (issue 12): one pass where numpy makes a
dozen.

Each loop is the twin of a numpy path in :mod:`pmir_dsl.compile` or :mod:`pmir_dsl.evaluate`
and gives exactly its integers; it runs only where ``Batch.jit`` is set (large tables, or
``PMIRC_JIT=1``: :mod:`pmir_dsl.jit`). Inputs are cast to fixed dtypes by the callers (int64 day
numbers and keys, int32 span offsets and category codes, int8 codes, bool masks; month indexes
int32 or int64, :func:`as_index`) so that each loop compiles once or twice;
outputs are preallocated by the callers. A mask that is the same for every record is passed as
None (no array of the batch's length is made for it): numba compiles a loop of its own for it,
with the test gone (``rate_verdicts`` twice as fast as with a mask of length 1, whose test the
loop made, and reloaded, for every record).
"""

from __future__ import annotations

import numpy as np

from . import jit

#: Verdict codes (as pmir_dsl.compile: MET, FAILED, PENDING, EXCLUDED, OUTSIDE).
_MET, _FAILED, _PENDING, _EXCLUDED, _OUTSIDE = 0, 1, 2, 3, 4
#: A NaT day number (datetime64[D] viewed as int64).
NAT_DAY = np.iinfo(np.int64).min
#: A computed index as numba reads it without the check for a negative (wrap-around) index:
#: every index the loops compute is at least 0 (about a fifth of ``rate_verdicts``' time).
_u = np.uint64


def as_index(values: np.ndarray | int | None) -> np.ndarray | None:
    """Month indexes (or cohorts, steps, cell bases) as the loops read them: contiguous, int32
    or int64 as made (a month index is int32 where the compiled pass placed the records: half
    the memory of int64), other integers as int64, one value as an array of length 1 (every
    record's); None stays None (the loops' "none")."""
    if values is None:
        return None
    values = np.ascontiguousarray(values)
    return values if values.dtype in (np.int32, np.int64) else values.astype(np.int64)


@jit.kernel
def count_cells(month: np.ndarray, status: np.ndarray, base: np.ndarray, codes: int,
                out: np.ndarray) -> None:
    """Add each record to its cell of a (group, month slot, verdict) grid: ``out[base + (month
    + 1) * codes + status] += 1`` (month -1: slot 0, none). ``base`` of length 1: every record's."""
    one = base.shape[0] == 1
    for i in range(month.shape[0]):
        b = base[0] if one else base[i]
        out[_u(b + (month[i] + 1) * codes + status[i])] += 1


@jit.kernel
def rate_verdicts(at: np.ndarray, table: np.ndarray, size: int, cat: np.ndarray | None,
                  row: np.ndarray, given: np.ndarray, first: int, event: np.ndarray,
                  cond: np.ndarray | None, in_pop: np.ndarray | None,
                  prior: np.ndarray | None, as_of: int,
                  status: np.ndarray | None, met: np.ndarray | None,
                  deadline: np.ndarray | None, reason: np.ndarray, hits: np.ndarray,
                  month: np.ndarray | None, base: np.ndarray | None,
                  grid: np.ndarray | None) -> None:
    """A 'met when EVENT within N days of ANCHOR' measure's verdicts in one pass, or (``cond``
    not None) those of a measure 'met when COND, due when EVENT is present or N days after
    ANCHOR': met where ``cond`` holds, the deadline only its 'due' (pending until then while
    the event is missing), excluded as the window is.

    Each record's deadline is read from ``table`` (rows of ``size + 1`` day numbers over the
    anchors' span, the last NaT's): row ``row[cat[i]]`` (``cat`` None: row ``row[0]`` for all;
    a category code -1 reads the last entry of ``row`` and ``given``), at the anchor's offset
    ``at[i]`` (the anchor is day ``first + at[i]``, NaT where ``at[i]`` is ``size``). A
    population record (``in_pop``; None: every record) not yet excluded (``prior``; None: none
    is) is excluded, in this order, for
    a missing anchor (reason 1), a missing category (2), a category with no days given (3), an
    event before its anchor (4): ``reason`` and ``hits`` (per reason) say which. ``status`` is
    the final verdict code; ``met``: the event on or before the deadline (excluded or not).

    ``status``, ``met`` and ``deadline`` None are not written (the evaluation's counts read none
    of them: numba compiles the loop without them, a fifth to a third faster). ``grid`` not
    None: each record is added to its cell of a (group, month slot, verdict) grid as
    :func:`count_cells` adds it, its month ``month[i]`` where it is in the population (placed),
    none (slot 0) where not; ``base`` its group's first cell (length 1: every record's)."""
    width = size + 1
    last = row.shape[0] - 1
    for i in range(at.shape[0]):
        inside = True if in_pop is None else in_pop[i]
        code = _OUTSIDE
        r = 0
        # an outside record's deadline and met: only the audit's (numba prunes the test of
        # None at compile time); the evaluation's loop skips its deadline
        if inside or deadline is not None or met is not None:
            c = 0 if cat is None else cat[i]
            k = last if c < 0 else c
            day = table[_u(row[_u(k)] * width + at[i])]
            e = event[i]
            ok = e != NAT_DAY and day != NAT_DAY and e <= day if cond is None else cond[i]
            if deadline is not None:
                deadline[i] = day
            if met is not None:
                met[i] = ok
            code = _MET if ok else _FAILED
            if e == NAT_DAY and day != NAT_DAY and day > as_of:
                code = _PENDING
            if not inside:
                code = _OUTSIDE
            elif prior is None or not prior[i]:
                a = first + at[i]
                if at[i] == size:
                    r = 1
                elif c < 0:
                    r = 2
                elif not given[_u(k)]:
                    r = 3
                elif e != NAT_DAY and e < a:
                    r = 4
                if r:
                    hits[r] += 1
                    code = _EXCLUDED
            else:
                code = _EXCLUDED
        reason[i] = r
        if status is not None:
            status[i] = code
        if grid is not None:
            slot = month[i] + 1 if inside else 0
            grid[_u((base[0] if base.shape[0] == 1 else base[i]) + slot * (_OUTSIDE + 1)
                    + code)] += 1


@jit.kernel
def condition_cells(cond: np.ndarray | None, in_pop: np.ndarray | None,
                    prior: np.ndarray | None, month: np.ndarray, base: np.ndarray,
                    grid: np.ndarray) -> None:
    """The verdicts of a measure met where its condition holds (``cond``; None: every record,
    as 'count records'), with no window and no 'due', counted into a (group, month slot,
    verdict) grid as :func:`rate_verdicts` counts them: outside the population (``in_pop``;
    None: every record is in it) in slot 0, else in its month's slot (``month[i] + 1``, 0 where
    -1); excluded where excluded before (``prior``; None: none is), else met or failed.
    ``base``: each record's group's first cell (length 1: every record's)."""
    one = base.shape[0] == 1
    for i in range(month.shape[0]):
        inside = True if in_pop is None else in_pop[i]
        code = _OUTSIDE
        slot = 0
        if inside:
            slot = month[i] + 1
            if prior is not None and prior[i]:
                code = _EXCLUDED
            elif cond is None or cond[i]:
                code = _MET
            else:
                code = _FAILED
        grid[_u((base[0] if one else base[i]) + slot * (_OUTSIDE + 1) + code)] += 1


@jit.kernel
def backlog_verdicts(month: np.ndarray, until: np.ndarray, until_at: np.ndarray,
                     until_month: np.ndarray, anchor: np.ndarray, in_pop: np.ndarray | None,
                     prior: np.ndarray | None, as_of: int, size: int, first: np.ndarray,
                     end: np.ndarray, status: np.ndarray, before: np.ndarray) -> int:
    """A backlog measure's months in backlog and verdict codes in one pass.

    A population record (``in_pop``; None: every record) not yet excluded (``prior``; None:
    none is) whose ``until`` is before its anchor is excluded (``before``; the count is
    returned). A placed record (``month`` >= 0) not excluded
    is in backlog from its month (``first``) to before ``end``: the month index of ``until``
    (``until_month`` at ``until_at``, int32 span offsets as DaySpan gives them), or none (-1)
    while ``until`` is empty or after the as-of date; -1 both where it is in none. Failed: in
    backlog at the as-of date."""
    found = 0
    for i in range(month.shape[0]):
        u = until[i]
        a = anchor[i]
        out = False
        code = _MET
        if in_pop is not None and not in_pop[i]:
            code = _OUTSIDE
        elif prior is None or not prior[i]:
            if u != NAT_DAY and a != NAT_DAY and u < a:
                out = True
                found += 1
                code = _EXCLUDED
        else:
            code = _EXCLUDED
        before[i] = out
        e = size if u == NAT_DAY or u > as_of else until_month[_u(until_at[i])]
        f = month[i]
        if f >= 0 and code != _EXCLUDED and f < e:
            first[i] = f
            end[i] = e if e < size else -1
            if e >= size and code == _MET:
                code = _FAILED
        else:
            first[i] = -1
            end[i] = -1
        status[i] = code
    return found


@jit.kernel
def backlog_cells(first: np.ndarray, end: np.ndarray, anchor: np.ndarray, row: np.ndarray,
                  months: int, num: np.ndarray, spans: np.ndarray) -> None:
    """Records in backlog at each month end (``num``: +1 in the month slot after ``row`` where
    one enters, -1 where it leaves) and the earliest anchor of each (group, first month, end)
    (``spans``, by minimum; end ``months`` where none). ``row``: each record's group code times
    (months + 1), or one for every record."""
    one = row.shape[0] == 1
    for i in range(first.shape[0]):
        f = first[i]
        if f < 0:
            continue
        r = row[0] if one else row[i]
        num[_u(r + f + 1)] += 1
        e = end[i]
        if e >= 0:
            num[_u(r + e + 1)] -= 1
        else:
            e = months
        k = ((r // (months + 1)) * months + f) * (months + 1) + e
        spans[_u(k)] = min(spans[_u(k)], anchor[i])


@jit.kernel
def place_months(at: np.ndarray, month_table: np.ndarray, reason_table: np.ndarray,
                 month: np.ndarray, reason: np.ndarray, hits: np.ndarray) -> None:
    """Each record's month index and why it has none, read from tables over its period
    column's span at its offset ``at``; ``hits`` counts the records of each reason."""
    for i in range(at.shape[0]):
        s = at[i]
        month[i] = month_table[_u(s)]
        r = reason_table[_u(s)]
        reason[i] = r
        hits[r] += 1


@jit.kernel
def day_span(day: np.ndarray, at: np.ndarray, ok: np.ndarray) -> tuple[int, int]:
    """(first day, size) of the span of the day numbers that are not NaT, each day's offset in
    it (``at``; ``size`` for NaT) and whether it is not NaT (``ok``), as DaySpan.of; (0, 0)
    where every day is NaT; size -1 (``at`` not written) where the span is too long for int32."""
    lo = np.iinfo(np.int64).max
    hi = np.iinfo(np.int64).min
    for i in range(day.shape[0]):
        d = day[i]
        if d != NAT_DAY:
            lo = min(lo, d)
            hi = max(hi, d)
    if hi == np.iinfo(np.int64).min:  # every day NaT
        for i in range(day.shape[0]):
            at[i] = 0
            ok[i] = False
        return 0, 0
    size = hi - lo + 1
    if size >= 2**31 - 1:
        return lo, -1
    for i in range(day.shape[0]):
        d = day[i]
        ok[i] = d != NAT_DAY
        at[i] = d - lo if d != NAT_DAY else size
    return lo, size
