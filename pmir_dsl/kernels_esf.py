"""Compiled loops for the counts of the measures that are not plain (issue 12): group slots,
per-(group, month) counts and cohort triangles, each one pass over the records.

numpy makes each of these as several whole-array passes (a mask, a key, a count of the keys,
the distinct keys, a lookup of each key among them); these loops make them in one or two,
writing into arrays the caller allocates. Each gives exactly the integers of its numpy twin in
:mod:`pmir_dsl.evaluate` (``tests/test_jit_esf.py`` holds them to it); they are used only when
the batch says so (``Batch.jit``, :mod:`pmir_dsl.jit`).

Inputs have fixed dtypes (int64 codes, slots, months and amounts; int8 verdict codes; a bool
mask) so that each loop compiles once for each of its inputs that may be None: an input a
measure has none of (its amounts, steps, cohorts, a level's second key column) is None, and the
loop compiled for None has no test of it (``code_cells`` 1.1-1.8x as fast as with an empty
array tested for every record).
"""

from __future__ import annotations

import numpy as np

from . import jit
from .kernels_eval import _EXCLUDED, _FAILED, _MET, _OUTSIDE, _PENDING, NAT_DAY  # as compile's

#: Columns of the dense per-cell counts :func:`level_cells` fills: the five verdict codes'
#: counts, the met records' summed numerator and denominator amounts, then the records whose
#: first and second step (a backlog's first month in and first month out, or a count ratio's
#: numerator month) fall in the cell.
C_NUM, C_DEN, C_FIRST, C_SECOND, C_WIDTH = 5, 6, 7, 8, 9
#: Columns that say a record touched the cell (a cell is held where one of them is not zero).
TOUCHING = (0, 1, 2, 3, 4, C_FIRST, C_SECOND)


@jit.kernel
def group_slots(code: np.ndarray, placed: np.ndarray, lookup: np.ndarray,
                slot: np.ndarray) -> int:
    """Each placed record's group slot (the rank of its code among the codes of placed
    records; -1 for a record not placed) into ``slot``, the slot of each code into ``lookup``
    (all -1 on entry, -1 where no placed record has the code), and the number of groups."""
    for i in range(len(code)):
        if placed[i]:
            lookup[code[i]] = 0
    groups = 0
    for c in range(len(lookup)):
        if lookup[c] == 0:
            lookup[c] = groups
            groups += 1
    for i in range(len(code)):
        slot[i] = lookup[code[i]] if placed[i] else -1
    return groups


@jit.kernel
def level_cells(slot: np.ndarray, month: np.ndarray, status: np.ndarray, months: int,
                first: np.ndarray, second: np.ndarray, numerator: np.ndarray,
                denominator: np.ndarray, dense: np.ndarray) -> None:
    """Add each record in a group slot to ``dense`` [slots x months, C_WIDTH], cell
    ``slot * months + month``: its verdict code's count (where it has a month), the met
    records' amounts (where ``numerator`` is not empty), and the count of ``first`` and
    ``second`` (month indexes, -1 for none; None where the measure has none) in their own
    month's cell."""
    for i in range(len(slot)):
        s = slot[i]
        if s < 0:
            continue
        base = s * months
        m = month[i]
        if m >= 0:
            code = status[i]
            dense[base + m, code] += 1
            if numerator is not None and code == 0:
                dense[base + m, C_NUM] += numerator[i]
                dense[base + m, C_DEN] += denominator[i]
        if first is not None and first[i] >= 0:
            dense[base + first[i], C_FIRST] += 1
        if second is not None and second[i] >= 0:
            dense[base + second[i], C_SECOND] += 1


@jit.kernel
def triangle_counts(slot: np.ndarray, month: np.ndarray, cohort: np.ndarray,
                    status: np.ndarray, months: int, counts: np.ndarray) -> None:
    """Add each met record in a group slot with a cohort no later than its month to
    ``counts`` [slots x months x months], cell (slot, cohort month, months since start)."""
    for i in range(len(slot)):
        s, c, m = slot[i], cohort[i], month[i]
        if status[i] == 0 and c >= 0 and m >= c and s >= 0:
            counts[(s * months + c) * months + (m - c)] += 1


@jit.kernel
def code_cells(outer: np.ndarray, inner: np.ndarray | None, radix: int, placed: np.ndarray,
               month: np.ndarray, status: np.ndarray, months: int, first: np.ndarray | None,
               second: np.ndarray | None, numerator: np.ndarray | None,
               denominator: np.ndarray | None, cohort: np.ndarray | None, seen: np.ndarray,
               dense: np.ndarray,
               triangle: np.ndarray) -> None:
    """:func:`group_slots`, :func:`level_cells` and :func:`triangle_counts` of one group level
    in one pass, counted by group code rather than slot: the code of a record is read from its
    key columns' int32 codes (-1: missing), ``(outer + 1) * radix + inner + 1`` (``inner``
    None for a level of one column: ``outer + 1``), as :func:`pmir_dsl.evaluate._group_base`
    makes it. Each placed record marks ``seen[code]`` and adds to ``dense`` [codes x months,
    C_WIDTH] as :func:`level_cells` to its slot's, and, where ``cohort`` is not None, a met
    record with a cohort no later than its month to ``triangle`` [codes x months x months]."""
    for i in range(len(outer)):
        if not placed[i]:
            continue
        c = np.int64(outer[i]) + 1
        if inner is not None:
            c = c * radix + inner[i] + 1
        seen[c] = True
        base = c * months
        m = month[i]
        if m >= 0:
            code = status[i]
            dense[base + m, code] += 1
            if code == 0:
                if numerator is not None:
                    dense[base + m, C_NUM] += numerator[i]
                    dense[base + m, C_DEN] += denominator[i]
                if cohort is not None:
                    k = cohort[i]
                    if k >= 0 and m >= k:
                        triangle[(base + k) * months + (m - k)] += 1
        if first is not None and first[i] >= 0:
            dense[base + first[i], C_FIRST] += 1
        if second is not None and second[i] >= 0:
            dense[base + second[i], C_SECOND] += 1


@jit.kernel
def breach_verdicts(month: np.ndarray, until: np.ndarray, anchor: np.ndarray,
                    anchor_at: np.ndarray, limits: np.ndarray, limit_month: np.ndarray,
                    in_pop: np.ndarray | None, prior: np.ndarray | None, as_of: int,
                    status: np.ndarray | None, placed: np.ndarray | None,
                    deadline: np.ndarray | None, before: np.ndarray, code: np.ndarray | None,
                    months: int, seen: np.ndarray | None, dense: np.ndarray | None,
                    totals: np.ndarray | None) -> int:
    """A backlog breach count's verdicts (:meth:`pmir_dsl.compile.MeasurePlan._breach`) in
    one pass over tables on the span of the anchor dates (``anchor_at``: each record's offset,
    the last entry NaT's): ``limits`` the last day of each anchor's limit, ``limit_month`` the
    month index it counts in (the day after the limit's, the as-of month at the latest).

    A population record not yet excluded (``prior``) whose ``until`` is before its anchor is
    excluded (``before``; the count is returned). Failed: still open at the end of its limit,
    which ended before the as-of date; met: closed by then (and by the as-of date); pending
    otherwise. A placed record (``month`` >= 0) not excluded counts in its limit's month
    (``placed``), an excluded one in its own; ``deadline``: each record's last day (None: not
    written, the evaluation's counts read none). ``in_pop`` None: every record is in the
    population; ``prior`` None: none is excluded yet. ``dense`` not None: the verdicts are
    counted in the same pass, as :func:`code_cells` counts them over the group codes ``code``
    (``seen`` and ``dense`` over ``months`` months), and every record's verdict code into
    ``totals``; ``status`` and ``placed`` None are not written."""
    found = 0
    for i in range(month.shape[0]):
        u = until[i]
        a = anchor[i]
        out = False
        excluded = False
        inside = True if in_pop is None else in_pop[i]
        if inside:
            if prior is not None and prior[i]:
                excluded = True
            elif u != NAT_DAY and a != NAT_DAY and u < a:
                out = True
                excluded = True
                found += 1
        before[i] = out
        at = anchor_at[i]
        limit = limits[at]
        if deadline is not None:  # (the audit's)
            deadline[i] = limit
        closed = u != NAT_DAY and limit != NAT_DAY and u <= limit and u <= as_of
        breached = not closed and limit != NAT_DAY and limit < as_of
        verdict = _OUTSIDE if not inside else _EXCLUDED if excluded else \
            _FAILED if breached else _MET if closed else _PENDING
        m = month[i]
        m = limit_month[at] if m >= 0 and not excluded else m
        if status is not None:
            status[i] = verdict
        if placed is not None:
            placed[i] = m
        if dense is not None:
            count_coded(verdict, m, code[i], months, seen, dense, totals)
    return found


@jit.helper
def count_coded(verdict: int, m: int, code: int, months: int, seen: np.ndarray,
                dense: np.ndarray, totals: np.ndarray) -> int:
    """Count one record's verdict code in a pass that counts as :func:`code_cells` does over a
    finest group code: into ``totals``, and where the record is placed (month index ``m`` >=
    0) into the cells of its code + 1 (``seen``; ``dense`` over ``months`` months). Returns
    its code's first cell (its row of ``dense``), -1 where it is not placed."""
    totals[verdict] += 1
    if m < 0:
        return -1
    c = np.int64(code) + 1
    seen[c] = True
    base = c * months
    dense[base + m, verdict] += 1
    return base


@jit.kernel
def start_cells(start: np.ndarray, anchor: np.ndarray | None, keys: tuple, radixes: np.ndarray,
                as_of: int, first_day: int, cohorts: np.ndarray, size: int,
                counts: np.ndarray) -> None:
    """Add each start to ``counts`` [key code x ``size`` + cohort], as
    :func:`pmir_dsl.profiles._start_cells` over :func:`pmir_dsl.profiles._started` counts them:
    a start (day number, NaT none) on or before ``as_of``, not before its ``anchor`` (None
    where there is none), on a day of the month axis (``cohorts``: the month index of
    each day from ``first_day``, the axis's first); its key code the mixed radix of ``keys``'
    value codes plus one (0: no value) over ``radixes``."""
    days = len(cohorts)
    for i in range(len(start)):
        s = start[i]
        if s > as_of or s < first_day or anchor is not None and s < anchor[i]:
            continue  # NaT (and a NaT anchor) is the smallest day number: before every day
        day = s - first_day
        if day >= days:
            continue
        code = 0
        for k in range(len(keys)):
            code = code * radixes[k] + keys[k][i] + 1
        counts[code * size + cohorts[day]] += 1


def as_int64(values: np.ndarray | None) -> np.ndarray | None:
    """``values`` as int64 (no copy where they are); None stays None (the loops' "none")."""
    return None if values is None else np.asarray(values, dtype=np.int64)


@jit.kernel
def decimal_keys(keys: np.ndarray, pad: np.uint64, out: np.ndarray) -> int:
    """:func:`pmir_dsl.compile._decimal` of each key (``pad``: '0' bytes before the key's own)
    into ``out`` (the largest uint64 where a byte is not a digit), in one pass; the number of
    keys that are not digits."""
    high, zero, over = np.uint64(0x8080808080808080), np.uint64(0x3030303030303030), \
        np.uint64(0x4646464646464646)
    m8, m16, m32 = np.uint64(0x00FF00FF00FF00FF), np.uint64(0x0000FFFF0000FFFF), \
        np.uint64(0xFFFFFFFF)
    bad = 0
    for i in range(len(keys)):
        v = keys[i] | pad
        if ((v + over) | (v - zero) | v) & high:
            out[i] = np.uint64(0xFFFFFFFFFFFFFFFF)
            bad += 1
            continue
        v -= zero
        v = ((v >> np.uint64(8)) & m8) * np.uint64(10) + (v & m8)
        v = ((v >> np.uint64(16)) & m16) * np.uint64(100) + (v & m16)
        out[i] = (v >> np.uint64(32)) * np.uint64(10000) + (v & m32)
    return bad


@jit.kernel
def dense_positions(keys: np.ndarray, wanted: np.ndarray, lookup: np.ndarray,
                    pos: np.ndarray) -> None:
    """Each of ``wanted``'s position in ``keys`` (strictly ascending uint64) into ``pos`` (-1:
    not there), through ``lookup``, a table over the keys' range (its length: the span); an
    empty ``lookup`` where the keys are consecutive (a key's position is its offset)."""
    first = keys[0]
    consecutive = len(lookup) == 0
    span = np.uint64(len(keys) if consecutive else len(lookup))
    if not consecutive:
        for c in range(len(lookup)):
            lookup[c] = -1
        for i in range(len(keys)):
            lookup[keys[i] - first] = i
    for i in range(len(wanted)):
        offset = wanted[i] - first  # below the first: wraps round to beyond the span
        if offset >= span:
            pos[i] = -1
        elif consecutive:
            pos[i] = offset
        else:
            pos[i] = lookup[offset]


# ---- cohorts through a join

#: A cohort start packed in one uint32 (:func:`cohort_starts`): its day's offset in the span
#: of the starts plus one in the low :data:`DAY_BITS` bits (0: no start), its key combination
#: (< 4096) in the bits above.
DAY_BITS = 20
DAY_MASK = (1 << DAY_BITS) - 1


@jit.kernel
def cohort_starts(start: np.ndarray, anchor: np.ndarray | None, outer: np.ndarray,
                  inner: np.ndarray | None, radix: int, packed: np.ndarray) -> tuple[int, int]:
    """Each row of a cohort table packed for one read through a join (``packed``, one entry
    more than the rows: the last, no start, for a reference not joined): its start day
    (``start``; none where NaT or before its ``anchor``, ``anchor`` None where there is
    none) as its offset in the span of the start days, and its key combination ``(outer + 1)
    * radix + inner + 1`` (``outer + 1`` where ``inner`` is None; below 4096).
    Returns the (first day, size) of the span; size -1 (``packed`` not written) where it is
    wider than the bits of an offset (0 where no row has a start)."""
    lo = np.iinfo(np.int64).max
    hi = np.iinfo(np.int64).min
    for r in range(start.shape[0]):
        s = start[r]
        if s != NAT_DAY and not (anchor is not None and s < anchor[r]):
            lo = min(lo, s)
            hi = max(hi, s)
    if hi == np.iinfo(np.int64).min:
        lo, hi = 0, -1
    elif hi - lo >= DAY_MASK:
        return lo, -1
    for r in range(start.shape[0]):
        s = start[r]
        key = np.int64(outer[r]) + 1
        if inner is not None:
            key = key * radix + inner[r] + 1
        field = np.uint32(key) << np.uint32(DAY_BITS)
        if s != NAT_DAY and not (anchor is not None and s < anchor[r]):
            field |= np.uint32(s - lo + 1)
        packed[r] = field
    packed[start.shape[0]] = 0
    return lo, hi - lo + 1


@jit.kernel
def cohort_verdicts(join: np.ndarray | None, packed: np.ndarray, starts: np.ndarray, first: int,
                    cohorts: np.ndarray, lost: np.ndarray, event: np.ndarray,
                    in_pop: np.ndarray | None, prior: np.ndarray | None,
                    unjoined: np.ndarray | None,
                    month_idx: np.ndarray, cohort: np.ndarray | None, reason: np.ndarray,
                    hits: np.ndarray, status: np.ndarray | None, month: np.ndarray | None,
                    code: np.ndarray | None, months: int, seen: np.ndarray | None,
                    dense: np.ndarray | None, triangle: np.ndarray | None,
                    totals: np.ndarray | None) -> None:
    """The verdicts of a measure counting records against cohorts, read from each record's
    start packed by :func:`cohort_starts` (``starts``: first read into it from ``packed`` at
    its reference's row ``join``, -1 the last entry, where ``join`` is not None; ``first``
    the first day of the starts' span) in one pass: ``cohort`` the cohort month index of its
    start day (``cohorts`` at its offset plus one: -1 for none), -1 where its key
    combination has no profile (``lost``); a population record not yet excluded (``prior``)
    is excluded for no start (reason 1), then for its ``event`` day before its start (2):
    ``reason`` and ``hits`` (per reason) say which. ``status``: outside, excluded, else met
    (every record counts); ``month``: ``month_idx`` where the record is in the population and
    its reference joined (not ``unjoined``), else -1. ``in_pop`` None: every record is in the
    population; ``prior`` None: none is excluded yet; ``unjoined`` None: every reference
    joined.

    ``dense`` not None: the verdicts are counted in the same pass, as :func:`code_cells`
    counts them over the group codes ``code`` (``seen``, ``dense`` and ``triangle`` over
    ``months`` months), and every record's verdict code into ``totals``; ``cohort``,
    ``status`` and ``month`` None are not written (the evaluation's counts read none)."""
    if join is not None:
        for i in range(join.shape[0]):  # a loop of its own: the reads through the join overlap
            starts[i] = packed[join[i]]
    for i in range(starts.shape[0]):
        p = starts[i]
        at = p & DAY_MASK
        k = -1 if lost[p >> DAY_BITS] else cohorts[at]
        inside = True if in_pop is None else in_pop[i]
        before = False if prior is None else prior[i]
        r = 0
        if inside and not before:
            e = event[i]
            if at == 0:
                r = 1
            elif e != NAT_DAY and e < first + np.int64(at) - 1:
                r = 2
        reason[i] = r
        hits[r] += 1
        verdict = _OUTSIDE if not inside else _EXCLUDED if r != 0 or before else _MET
        joined = True if unjoined is None else not unjoined[i]
        m = month_idx[i] if inside and joined else -1
        if cohort is not None:
            cohort[i] = k
        if status is not None:
            status[i] = verdict
        if month is not None:
            month[i] = m
        if dense is not None:
            base = count_coded(verdict, m, code[i], months, seen, dense, totals)
            if base >= 0 and verdict == _MET and k >= 0 and m >= k:
                triangle[(base + k) * months + (m - k)] += 1
