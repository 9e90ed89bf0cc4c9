"""Evaluate a compiled plan over loaded tables: mergeable counts, then figures per basis.

Evaluation has two halves. :func:`partials` reduces a batch of records to per-(group, month)
counts for every measure (:class:`MeasureCounts`) and per-check data-quality tallies; two such
results for disjoint batches merge exactly with :func:`merge` (integer sums, groups keyed by their
values, examples the smallest ids), so a table can be evaluated in chunks, processes or machines
and give the same answer. :func:`finish` then turns the merged counts into one result per
measure x group x period x basis, decided exactly (semantics.md sections 2-5).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import ir, kernels_esf, kernels_eval
from .cells import DENSE_CELLS, Cells, Keys
from .compile import (
    FAILED,
    MET,
    OUTSIDE,
    PENDING,
    Batch,
    MeasurePlan,
    Plan,
    Verdicts,
    fusable_breach,
    fusable_cohort,
)
from .profiles import SCALE, code_type, radix_codes
from .schema import DECIMAL_SCALE, Column, ColumnSpec, ColumnType, Table

#: Columns of a counts array: the four verdicts, then the summed numerator and denominator.
K_MET, K_FAILED, K_PENDING, K_EXCLUDED, K_NUM, K_DEN = range(6)
NO_DATE = np.iinfo(np.int64).max
N_EXAMPLES = 5
#: A level's arrays per group: :class:`Cells` from evaluation (a plain dict where built by hand).
Levels = Mapping[tuple[Any, ...], np.ndarray]


@attrs.frozen(eq=False)
class MeasureCounts:
    """Per-(group, month) counts of one measure: ``levels[i]`` maps group values -> [P, 6] ints.

    Each level is a :class:`~pmir_dsl.cells.Cells`: a mapping that holds only the (group,
    month) cells records fell in and builds a group's dense array when it is asked for.

    ``totals`` counts every population record by verdict (those without a month included) and
    ``outside`` the records the population's filter left out. ``cohorts`` (measures against a
    cohort profile) maps group values -> [cohort month, months since start] record counts.
    ``oldest`` (backlog measures) maps group values -> the earliest date (days since 1970) of a
    record in backlog at each month end (:data:`NO_DATE` where none); merged by minimum.
    ``extra`` maps group values -> [P, E] sums of the verdicts' extra columns (a looked-up
    target's rates in millionths, or lateness bucket counts).
    """

    measure: str
    levels: tuple[Levels, ...]
    totals: np.ndarray
    outside: int
    cohorts: tuple[Levels, ...] = ()
    oldest: tuple[Levels, ...] = ()
    extra: tuple[Levels, ...] = ()


@attrs.frozen(eq=False)
class Quality:
    """One data-quality check's tally: how many records, and the smallest example ids."""

    table: str
    check: str
    count: int
    examples: tuple[str, ...]


@attrs.frozen(eq=False)
class Partial:
    """What one batch contributes: counts per measure and data-quality tallies."""

    counts: dict[str, MeasureCounts]
    quality: dict[tuple[str, str], Quality]


@attrs.frozen(eq=False)
class Axis:
    """The evaluation's months: from the service start month to the as-of month."""

    first_month: int
    last_month: int

    @property
    def size(self) -> int:
        """Number of months on the axis."""
        return self.last_month - self.first_month + 1


# ---- batch -> partial ---------------------------------------------------------------------------


def partials(plan: Plan, batch: Batch, row_offset: int = 0) -> Partial:
    """Reduce one batch to mergeable counts (``row_offset``: the batch's first row in its table)."""
    axis = Axis(batch.first_month, batch.last_month)
    counts: dict[str, MeasureCounts] = {}
    flagged: dict[tuple[str, str], np.ndarray] = {}
    for mp in plan.measures:
        v = mp.verdicts(batch, False, _pass_cells(mp, batch, axis.size))
        counts[mp.measure.id] = _count(mp, v, batch, axis)
        for check, mask in v.exclusions:
            key = (mp.table, check)
            flagged[key] = flagged[key] | mask if key in flagged else mask
    quality = {k: quality_entry(batch.tables[k[0]], k[1], mask, row_offset)
               for k, mask in flagged.items()}
    return Partial(counts, quality)


def _pass_cells(mp: MeasurePlan, b: Batch, months: int) -> tuple[np.ndarray, int] | None:
    """(group base, grid size) of the table's finest group code (:func:`_finest`), else of a
    measure's one group level besides the whole contract's, for its verdicts' compiled pass to
    count in (:func:`_cell_counts` then reads that grid); for a count against cohorts or a
    breach count (``compile.fusable_cohort``, ``fusable_breach``), (each record's finest group
    code, the code space), where :func:`_coded_levels` would count over it; None where the
    batch takes no compiled pass, or the measure's levels are neither."""
    levels = [level for level in mp.measure.groups if level]
    if b.jit and (fusable_cohort(mp.measure) or fusable_breach(mp.measure)):
        finest = _finest(mp, b, months, JIT_DENSE_CELLS)  # as _coded_levels counts
        return (finest_code(mp, b), finest[1]) if finest is not None and (
            not fusable_cohort(mp.measure) or finest[1] * months * months <= DENSE_CELLS) \
            else None
    if not (b.jit and mp.counts_in_pass):
        return None
    slots, codes = months + 1, OUTSIDE + 1
    finest = _finest(mp, b, slots)
    if finest is not None:  # every level summed from the finest code's grid (_plain_levels)
        return _finest_base(mp, b, slots, codes), finest[1] * slots * codes
    if not (len(levels) == 1 and len(levels) + 1 == len(mp.measure.groups)):
        return None
    base, space = _group_base(levels[0], mp.table, b, slots, codes)
    return (base, space * slots * codes) if space * slots <= DENSE_CELLS else None


def _count(mp: MeasurePlan, v: Verdicts, b: Batch, axis: Axis) -> MeasureCounts:
    """Reduce one batch's verdicts to per-(group, month) counts for every group level.

    Each level is a handful of ``np.bincount`` passes over integer keys (group slot x month x
    verdict): no Python loop over records and no per-record matrix.
    """
    m = mp.measure
    totals, outside = _totals(m.kind, v)
    plain = _plain_levels(mp, v, b, axis.size) if _is_plain(m, v) else None
    if plain is not None:
        return MeasureCounts(m.id, plain, totals, outside)
    assert v.counted is None, m.id  # counted in the verdicts' pass: a plain measure's only
    backlog = _backlog_levels(mp, v, b, axis.size) if _is_backlog(m, v) else None
    if backlog is not None:
        return MeasureCounts(m.id, backlog[0], totals, outside, oldest=backlog[1])
    placed = v.month >= 0
    if v.second is not None:
        placed = placed | (v.second >= 0)
    coded = _coded_levels(mp, v, b, axis.size, placed) if b.jit else None
    assert v.coded is None or coded is not None, m.id  # counted in the pass over the finest
    if coded is not None:
        return MeasureCounts(m.id, coded[0], totals, outside, coded[1])
    levels, cohorts, oldest, extra = [], [], [], []
    for level in m.groups:
        slot, labels = _slots(level, mp.table, b, placed, v.rows)
        levels.append(_level_counts(m.kind, v, slot, labels, axis.size, b.jit))
        if v.cohort is not None:
            cohorts.append(_triangle(v, slot, labels, axis.size, b.jit))
        if v.backlog is not None and v.anchor is not None:
            oldest.append(_oldest(v, slot, labels, axis.size))
        if v.extra is not None:
            extra.append(_extra(v, slot, labels, axis.size))
    return MeasureCounts(m.id, tuple(levels), totals, outside, tuple(cohorts), tuple(oldest),
                         tuple(extra))


def _coded_levels(mp: MeasurePlan, v: Verdicts, b: Batch, months: int, placed: np.ndarray
                  ) -> tuple[tuple[Cells, ...], tuple[Cells, ...]] | None:
    """Every group level's counts and cohort triangles (:func:`_slots`, :func:`_level_counts`,
    :func:`_triangle`) by one compiled pass per level over the key columns' codes
    (:func:`~pmir_dsl.kernels_esf.code_cells`), the whole contract's summed from another
    level's; None where that does not serve (a level of three or more columns, one too large
    to hold densely, no level but the whole contract's, oldest dates or extra sums)."""
    m = mp.measure
    if v.rows is not None or v.extra is not None or v.backlog is not None and \
            v.anchor is not None:
        return None
    finest = _finest(mp, b, months, JIT_DENSE_CELLS)
    if finest is not None and (v.cohort is None or finest[1] * months * months <= DENSE_CELLS):
        return _coded_finest(mp, v, b, months, placed, finest)
    keyed = [level for level in m.groups if level]
    cols = {level: [b.column(mp.table, spec) for spec in level] for level in keyed}
    spaces = {level: int(np.prod([_cardinality(c) for c in cols[level]])) for level in keyed}
    if not keyed or any(len(level) > 2 or spaces[level] * months > JIT_DENSE_CELLS or (
            v.cohort is not None and spaces[level] * months * months > DENSE_CELLS)
            for level in keyed):
        return None
    found = {}
    for level in sorted(keyed, key=len, reverse=True):  # a level of two columns first
        finer = next((f for f in found if len(f) == 2 and f[0] == level[0]), None)
        found[level] = _code_cells(m.kind, v, cols[level], spaces[level], months, placed) \
            if finer is None or len(level) != 1 else _coarser(found[finer], spaces[level])
    levels, cohorts = [], []
    for level in m.groups:
        counts, triangle = _coded_counts(m.kind, v, found[level] if level else
                                         _summed(found[keyed[0]], months), cols.get(level, []),
                                         months)
        levels.append(counts)
        if triangle is not None:
            cohorts.append(triangle)
    return tuple(levels), tuple(cohorts)


def _coded_counts(kind: str, v: Verdicts, found: tuple[np.ndarray, np.ndarray, np.ndarray],
                  cols: list[Column], months: int) -> tuple[Cells, Cells | None]:
    """A level's counts and cohort triangle (None for a measure without cohorts) from its
    :func:`_code_cells`: the groups some placed record has, in code order (their slots)."""
    seen, dense, triangle = found
    present = np.flatnonzero(seen)
    labels = _decode(present, cols)
    width = dense.shape[1]
    counts = _dense_counts(kind, v, dense.reshape(len(seen), months, width)[present]
                           .reshape(-1, width), labels, months)
    if v.cohort is None:
        return counts, None
    cohort = triangle.reshape(len(seen), months * months)[present].reshape(-1)
    held = np.flatnonzero(cohort)
    return counts, Cells(tuple(labels), held, cohort[held], (months, months))


def _code_cells(kind: str, v: Verdicts, cols: list[Column], space: int, months: int,
                placed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(whether a placed record has each group code, dense [codes x months, C_WIDTH] counts,
    the cohort triangles [codes x months x months] or an empty array) of one group level."""
    return _cells_of_codes(kind, v, [np.ascontiguousarray(c.values, dtype=np.int32)
                                     for c in cols], _cardinality(cols[-1]), space, months,
                           placed)


def _cells_of_codes(kind: str, v: Verdicts, codes: list[np.ndarray], radix: int, space: int,
                    months: int, placed: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_code_cells` from the key columns' int32 codes (one or two; ``radix``: the
    second's cardinality) as :func:`~pmir_dsl.kernels_esf.code_cells` reads them."""
    first, second, numerator, denominator = _loop_inputs(kind, v)
    seen = np.zeros(space, dtype=np.bool_)
    dense = np.zeros((space * months, kernels_esf.C_WIDTH), dtype=np.int64)
    triangle = np.zeros(space * months * months if v.cohort is not None else 0, np.int64)
    inner = codes[1] if len(codes) > 1 else None
    kernels_esf.code_cells(codes[0], inner, radix,
                           np.ascontiguousarray(placed, dtype=np.bool_),
                           kernels_eval.as_index(v.month), v.status, months, first, second,
                           numerator, denominator, kernels_eval.as_index(v.cohort), seen, dense,
                           triangle)
    return seen, dense, triangle


def _coarser(level: tuple[np.ndarray, np.ndarray, np.ndarray], space: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (seen, dense, triangle) of the level of the first key column alone from those of
    a level of two (its code is the two-column code divided by the second column's radix)."""
    seen, dense, triangle = level
    return (seen.reshape(space, -1).any(axis=1),
            dense.reshape(space, len(seen) // space, -1).sum(axis=1).reshape(-1, dense.shape[1]),
            triangle.reshape(space, len(seen) // space, -1).sum(axis=1).reshape(-1)
            if len(triangle) else triangle)


def _summed(level: tuple[np.ndarray, np.ndarray, np.ndarray], months: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole contract's (seen, dense, triangle) from a level's: one group holding every
    placed record (each placed record is in one group of every level)."""
    seen, dense, triangle = level
    groups = len(seen)
    return (np.array([seen.any()]), dense.reshape(groups, -1).sum(axis=0).reshape(months, -1),
            triangle.reshape(groups, -1).sum(axis=0) if len(triangle) else triangle)


def _is_plain(m: ir.Measure, v: Verdicts) -> bool:
    """Whether a measure's counts are the four verdicts per group and month and nothing else
    (no summed amounts, second dates, backlogs, cohorts, extras or per-month entries)."""
    # a ratio or an average sums amounts; a breach count's numerator is its failed records
    return (m.kind not in ("ratio", "average", "backlog_breach") and v.second is None and v.backlog is None and v.cohort is None
            and v.extra is None and v.rows is None)


def _plain_levels(mp: MeasurePlan, v: Verdicts, b: Batch, months: int
                  ) -> tuple[Cells, ...] | None:
    """Counts of a plain measure at every group level, None if a level's code space is too
    large to count densely.

    One ``np.bincount`` per level over (group code, month, verdict), the group codes' offsets
    computed once per batch for all measures of the table (:func:`_group_base`); the whole
    contract's counts are the sum of another level's (every placed record is in one group of
    each level, a missing key value being a group of its own).
    """
    m = mp.measure
    # month slot 0 holds the records with no month on the axis (outside the population among
    # them: five verdict codes), dropped after counting, so no mask is needed
    slots, codes = months + 1, OUTSIDE + 1
    finest = _finest(mp, b, slots)
    if finest is not None:  # one count over the finest code, every level summed from it
        cols, space = finest
        grid = _cell_counts(mp, v, b, _finest_base(mp, b, slots, codes), space * slots * codes)
        return tuple(_present_counts(found, level_cols) for (found,), level_cols in _levels_of(
            mp, cols, [(grid.reshape(space, slots, codes)[:, 1:, :4], np.add)]))

    def count(level: tuple, base: np.ndarray | int, space: int) -> np.ndarray:
        size = space * slots * codes
        grid = _cell_counts(mp, v, b, base, size)
        return grid.reshape(space, slots, codes)[:, 1:, :4]
    grids = _level_grids(mp, b, slots, count, codes)
    if grids is None:
        return None
    finer = next((g for g in grids if g is not None), None)
    out = []
    for level, grid in zip(m.groups, grids):
        if grid is None:
            grid = finer.sum(axis=0)[None] if finer is not None else count((), 0, 1)
        out.append(_present_counts(grid, [b.column(mp.table, spec) for spec in level]))
    return tuple(out)


def _present_counts(grid: np.ndarray, cols: list[Column]) -> Cells:
    """A level's [groups, months, 4] verdict counts as :func:`_as_counts`, for the groups a
    record fell in, labelled by the level's key columns (none: the whole contract's)."""
    present = np.flatnonzero(grid.reshape(len(grid), -1).any(axis=1))
    return _as_counts(grid[present], _decode(present, cols))  # [()] for the whole contract


def _level_grids(mp: MeasurePlan, b: Batch, months: int,
                 grid: Callable[[tuple, np.ndarray, int], Any], codes: int = 4) -> list[Any] | None:
    """``grid(level, base, space)`` of each group level of a measure (None for the whole contract's),
    from its group codes (:func:`_group_base`, ``codes`` cells per group and month); None if a
    level's code space is too large to hold densely."""
    grids: list[Any] = []
    for level in mp.measure.groups:
        if not level:
            grids.append(None)
            continue
        base, space = _group_base(level, mp.table, b, months, codes)
        if space * months > DENSE_CELLS:
            return None
        grids.append(grid(level, base, space))
    return grids


def _cell_counts(mp: MeasurePlan, v: Verdicts, b: Batch, base: np.ndarray | int, size: int
                 ) -> np.ndarray:
    """Records per cell of a level's (group, month slot, verdict code) grid of ``size`` cells
    (:func:`_month_cells`): one bincount, or one compiled pass where the batch uses them, or
    none where the verdicts' pass counted them (``Verdicts.counted``)."""
    if v.counted is not None:
        assert len(v.counted) == size
        return v.counted
    if not b.jit:
        return np.bincount(_month_cells(mp, v, b, base, size) + v.status, minlength=size)
    grid = np.zeros(size, dtype=np.int64)
    kernels_eval.count_cells(kernels_eval.as_index(v.month),
                             np.ascontiguousarray(v.status, dtype=np.int8),
                             kernels_eval.as_index(base),
                             OUTSIDE + 1, grid)
    return grid


def _month_cells(mp: MeasurePlan, v: Verdicts, b: Batch, base: np.ndarray | int, size: int
                 ) -> np.ndarray:
    """Each record's first cell in a level's (group, month slot, verdict code) grid of ``size``
    cells: its group's ``base`` plus its month slot (month index + 1, 0 for none) times the five
    verdict codes, int32
    where the grid allows. Measures of a table that share a month index (the same period column,
    no filter) share these, once per batch."""
    key = ("month cells", mp.table, id(base) if isinstance(base, np.ndarray) else base, size)
    hit = b.memo.get(key)
    if hit is not None and hit[0] is v.month and hit[2] is base:  # type: ignore[index]
        return hit[1]  # type: ignore[index]
    kind = np.int32 if size < np.iinfo(np.int32).max else np.int64
    cells = np.add(v.month, 1, dtype=kind, casting="same_kind")
    cells *= OUTSIDE + 1
    cells += base
    b.memo[key] = (v.month, cells, base)  # type: ignore[assignment]  # base kept: its id
    return cells


def _is_backlog(m: ir.Measure, v: Verdicts) -> bool:
    """Whether a measure counts records in backlog at month ends and nothing else besides the
    four verdicts (a backlog share or count, not a breach count)."""
    return (m.kind not in ("ratio", "average", "backlog_breach") and v.backlog is not None
            and v.anchor is not None and v.second is None and v.cohort is None
            and v.extra is None and v.rows is None)


def _backlog_levels(mp: MeasurePlan, v: Verdicts, b: Batch, months: int
                    ) -> tuple[tuple[Cells, ...], tuple[Cells, ...]] | None:
    """A backlog measure's counts and oldest dates at every group level, None if a level's code
    space is too large to hold densely.

    As :func:`_plain_levels`: dense (group code, month) grids from the group codes computed once
    per batch, the whole contract's the sum (or minimum) of another level's. The numerator is the
    records in backlog at each month end: +1 from the first month in it, -1 from the first out.
    A record in backlog has a month, so it is in the groups the verdicts place it in.
    """
    m = mp.measure
    slots = months + 1  # as _plain_levels: month slot 0 for no month (or not in backlog)
    finest = _finest(mp, b, slots)
    if finest is not None:  # one count over the finest code, every level summed from it
        cols, space = finest
        bases = (_finest_base(mp, b, slots, OUTSIDE + 1), _finest_base(mp, b, slots, 1))
        found = _backlog_grid(mp, v, b, bases, space, months)
        pairs = list(_levels_of(mp, cols, list(zip(found, (np.add, np.add, np.minimum)))))
        return _backlog_counts(pairs)

    def grid(level: tuple, base: np.ndarray | int, space: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        row = _group_base(level, mp.table, b, slots, 1)[0] if level else 0
        return _backlog_grid(mp, v, b, (base, row), space, months)
    grids = _level_grids(mp, b, slots, grid, OUTSIDE + 1)
    if grids is None:
        return None
    finer = next((g for g in grids if g is not None), None)
    if finer is None:
        finer = grid((), 0, 1)
    pairs = []
    for level, found in zip(m.groups, grids):
        if found is None:
            status, num, old = finer
            found = (status.sum(axis=0)[None], num.sum(axis=0)[None], old.min(axis=0)[None])
        pairs.append((found, [b.column(mp.table, spec) for spec in level]))
    return _backlog_counts(pairs)


def _backlog_counts(pairs: Iterable[tuple[Sequence[np.ndarray], list[Column]]]
                    ) -> tuple[tuple[Cells, ...], tuple[Cells, ...]]:
    """Each level's counts and oldest dates from its (verdict counts, records in backlog,
    oldest dates) grids (:func:`_backlog_grid`) and key columns, for the groups a record fell
    in."""
    levels, oldest = [], []
    for (status, num, old), cols in pairs:
        present = np.flatnonzero(status.reshape(len(status), -1).any(axis=1))
        labels = _decode(present, cols)
        levels.append(_with_numerator(status[present], num[present], labels))
        oldest.append(Cells.from_dense(old[present], labels, fill=NO_DATE))
    return tuple(levels), tuple(oldest)


def _backlog_grid(mp: MeasurePlan, v: Verdicts, b: Batch, bases: tuple[Any, Any], space: int,
                  months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[groups, months, 4] verdict counts, [groups, months] records in backlog at the month end
    and the oldest anchor date among them (:data:`NO_DATE` where none), for one group level.

    ``bases``: each record's group code times (months + 1) x 5 (its cells in the verdict grid,
    :func:`_month_cells`) and times (months + 1) (its row of month slots). The records in backlog
    at a month end are +1 from the first month in it, -1 from the first out, counted in month
    slots (slot 0: none, dropped)."""
    assert v.backlog is not None and v.anchor is not None
    base, row = bases
    first, end = v.backlog
    slots, codes = months + 1, OUTSIDE + 1
    size = space * slots * codes
    status = _cell_counts(mp, v, b, base, size)
    if b.jit and space * months * (months + 1) <= DENSE_CELLS:  # one compiled pass
        num, old = _backlog_cells(v, row, space, months)
        return status.reshape(space, slots, codes)[:, 1:, :4], num, old
    steps = [np.bincount(np.add(row, month + 1), minlength=space * slots) for month in (first, end)]
    num = (steps[0] - steps[1]).reshape(space, slots)[:, 1:]
    old = _oldest_grid(v, row, space, months)
    return status.reshape(space, slots, codes)[:, 1:, :4], num, old


def _backlog_cells(v: Verdicts, row: np.ndarray | int, space: int, months: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The records in backlog at each month end and the oldest among them (as
    :func:`_backlog_grid` and :func:`_oldest_grid`), counted in one compiled pass."""
    assert v.backlog is not None and v.anchor is not None
    num = np.zeros(space * (months + 1), dtype=np.int64)
    spans = np.full(space * months * (months + 1), NO_DATE, dtype=np.int64)
    first, end = (kernels_eval.as_index(a) for a in v.backlog)
    kernels_eval.backlog_cells(first, end, np.ascontiguousarray(v.anchor).view(np.int64),
                               kernels_eval.as_index(row), months,
                               num, spans)
    return num.reshape(space, months + 1)[:, 1:], _running_oldest(spans, space, months)


def _running_oldest(spans: np.ndarray, space: int, months: int) -> np.ndarray:
    """[groups, months] the oldest date in backlog at each month end from the earliest date of
    each (group, first month, end month): a running minimum over the first month of a running
    minimum over the end month from the last."""
    spans = spans.reshape(space, months, months + 1)
    later = np.minimum.accumulate(spans[:, :, ::-1], axis=2)[:, :, ::-1]  # min over e' >= e
    both = np.minimum.accumulate(later, axis=1)  # and over f' <= f
    j = np.arange(months)
    return both[:, j, j + 1]


def _oldest_grid(v: Verdicts, row: np.ndarray | int, space: int, months: int) -> np.ndarray:
    """[groups, months] the oldest anchor date among the records in backlog at each month end
    (:data:`NO_DATE` where none).

    Records are in backlog from a first month f to before an end month e: the earliest date of
    each (group, f, e) is found in one pass, then at month j the minimum over f <= j < e is a
    running minimum over f of a running minimum over e from the last (a few hundred cells). A
    grid too large for that expands each record's months instead."""
    assert v.backlog is not None and v.anchor is not None
    first, end = v.backlog
    held = np.flatnonzero(first >= 0)
    group = (row[held] if isinstance(row, np.ndarray) else np.zeros(len(held), np.int64)
             ) // (months + 1)
    f = first[held]
    e = np.where(end[held] < 0, months, end[held])
    anchor = v.anchor.view(np.int64)[held]
    if space * months * (months + 1) <= DENSE_CELLS:
        spans = np.full(space * months * (months + 1), NO_DATE, dtype=np.int64)
        np.minimum.at(spans, (group * months + f) * (months + 1) + e, anchor)
        return _running_oldest(spans, space, months)
    lengths = e - f
    each = np.repeat(np.arange(len(held)), lengths)
    offsets = np.arange(len(each)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    old = np.full(space * months, NO_DATE, dtype=np.int64)
    np.minimum.at(old, group[each] * months + f[each] + offsets, anchor[each])
    return old.reshape(space, months)


def _with_numerator(grid: np.ndarray, num: np.ndarray, labels: list[tuple[Any, ...]]) -> Cells:
    """[groups, months, 4] verdict counts as [months, 6] counts whose numerator is ``num``."""
    out = np.zeros((*grid.shape[:2], 6), dtype=np.int64)
    out[..., :4] = grid
    out[..., K_DEN] = grid[..., K_MET] + grid[..., K_FAILED]
    out[..., K_NUM] = num
    return Cells.from_dense(out, labels, tail=1)


# ---- the finest group code of a table's measures ------------------------------------------------


#: A finest grid of up to this many cells is used whatever the batch's size (above it, only up
#: to one cell per record: the levels' own grids are read from it, a product of their spaces).
FINEST_CELLS = 1 << 16


def _finest(mp: MeasurePlan, b: Batch, cells: int, limit: int | None = None
            ) -> tuple[list[Column], int] | None:
    """The key columns of the table's finest group code (:attr:`MeasurePlan.finest`: every
    key column of its measures' group levels) and the size of its code space, where the batch
    takes the compiled loops and a dense grid of ``cells`` cells per code holds at most
    ``limit`` (:data:`DENSE_CELLS` where not given) and at most one per record of the batch
    (:data:`FINEST_CELLS` at least); None elsewhere (each level is then counted by itself)."""
    if not (b.jit and mp.finest):
        return None
    cols = _key_columns(b, mp.table, mp.finest)
    space = int(np.prod([_cardinality(c) for c in cols]))
    most = min(DENSE_CELLS if limit is None else limit,
               max(b.tables[mp.table].rows, FINEST_CELLS))
    return (cols, space) if space * cells <= most else None


def _key_columns(b: Batch, table: str, specs: Sequence[ColumnSpec]) -> list[Column]:
    """The loaded key columns of ``specs`` as their codes and names are read (a joined column
    as its own table holds it: no gather, the same codes and dictionary)."""
    out = []
    for spec in specs:
        if spec.via is None:
            out.append(b.tables[table].columns[spec.name])
            continue
        ref = b.tables[table].columns[spec.via]
        out.append(b.referenced(ref.spec.references).columns[spec.name])  # type: ignore[arg-type]
    return out


def _levels_of(mp: MeasurePlan, cols: list[Column],
               grids: Sequence[tuple[np.ndarray, np.ufunc]]
               ) -> Iterator[tuple[list[np.ndarray], list[Column]]]:
    """Per group level of a measure, its grids (the level's codes in its own mixed radix
    first, as :func:`_group_base` makes them) and key columns, from grids over the finest code
    ([finest space, ...] each with the reduction that merges codes: a sum, a minimum, an or)."""
    cards = [_cardinality(c) for c in cols]
    for level in mp.measure.groups:
        picks = [mp.finest.index(spec) for spec in level]
        yield [_level_grid(g, cards, picks, op) for g, op in grids], [cols[p] for p in picks]


def _level_grid(grid: np.ndarray, cards: list[int], picks: list[int], op: np.ufunc
                ) -> np.ndarray:
    """A [finest space, ...] grid as a level's [level space, ...]: the finest code's axes
    (``cards``) the level does not have reduced by ``op``, those it has (``picks``, in the
    level's order) transposed to that order where it differs (none: the whole contract's)."""
    rest = grid.shape[1:]
    g = grid.reshape(*cards, *rest)
    dropped = tuple(i for i in range(len(cards)) if i not in picks)
    if dropped:
        g = op.reduce(g, axis=dropped)
    kept = sorted(picks)
    order = [kept.index(p) for p in picks]
    if order != sorted(order):
        g = g.transpose(*order, *range(len(kept), g.ndim))
    return g.reshape(-1, *rest)


def finest_code(mp: MeasurePlan, b: Batch) -> np.ndarray:
    """Each record's code in its table's finest group code space (int32): the mixed-radix
    number of its key columns' codes, a missing value 0, as :func:`_group_base` numbers them;
    once per batch for every measure of the table. Where every key column is read through one
    reference in a chunk of an evaluation, the referenced table's codes are made once
    (:func:`referenced_code`) and read through the join: one random read per record, not one
    per key column."""
    via = _one_via(mp)
    if via is None or b.shared is None:
        return b.cached(("finest code", mp.table, mp.finest), lambda: radix_codes(
            [b.column(mp.table, spec) for spec in mp.finest], b.tables[mp.table].rows,
            np.int32))  # the caller holds the space to a dense grid
    return b.cached(("finest code", mp.table, mp.finest), lambda: referenced_code(mp, b)[
        b.join(mp.table, via)].astype(np.int32))


def _one_via(mp: MeasurePlan) -> str | None:
    """The reference column every key column of the finest code is read through, None where
    they are not all read through one."""
    vias = {spec.via for spec in mp.finest}
    return vias.pop() if len(vias) == 1 else None


def referenced_code(mp: MeasurePlan, b: Batch) -> np.ndarray:
    """The finest code (:func:`finest_code`) of every row of the table the key columns are
    read from, then a 0 (all missing) read for the row -1 (no such reference): once per
    evaluation (``b.whole_cached``; ``pipeline._shared_ahead`` makes it ahead of the chunks),
    in the narrowest integers that hold the code space (the random reads through the join
    are a third as slow over a table of bytes as over one of int32)."""
    via = _one_via(mp)
    assert via is not None
    name = b.tables[mp.table].columns[via].spec.references
    names = tuple(spec.name for spec in mp.finest)

    def make() -> np.ndarray:
        target = b.referenced(name)  # type: ignore[arg-type]
        cols = [target.columns[n] for n in names]
        code = radix_codes(cols, target.rows, code_type(int(np.prod(
            [_cardinality(c) for c in cols]))))
        return np.append(code, code.dtype.type(0))
    return b.whole_cached(("finest code of", name, names), make)


def finest_ahead(mp: MeasurePlan, b: Batch) -> None:
    """Make the referenced table's finest code (:func:`referenced_code`) where a chunk of the
    evaluation ``b`` belongs to would read it: for ``pipeline._shared_ahead``."""
    if b.shared is not None and _one_via(mp) is not None and _finest(mp, b, 1) is not None:
        referenced_code(mp, b)


def _finest_base(mp: MeasurePlan, b: Batch, months: int, codes: int) -> np.ndarray:
    """Each record's finest group code times ``months * codes``: its first cell in a grid over
    the finest code (as :func:`_group_base` for a level), once per batch; int32, which holds
    every cell of a grid :func:`_finest` allows (at most :data:`DENSE_CELLS` cells per verdict
    code): half the memory of int64, read as made by the compiled loops."""
    assert DENSE_CELLS * (OUTSIDE + 1) < np.iinfo(np.int32).max
    return b.cached(("finest base", mp.table, mp.finest, months, codes), lambda: np.multiply(
        finest_code(mp, b), months * codes, dtype=np.int32))


def _coded_finest(mp: MeasurePlan, v: Verdicts, b: Batch, months: int, placed: np.ndarray,
                  finest: tuple[list[Column], int]
                  ) -> tuple[tuple[Cells, ...], tuple[Cells, ...]]:
    """:func:`_coded_levels` by one compiled pass over the finest code, every level's (seen,
    dense, triangle) reduced from its."""
    cols, space = finest
    # the kernel reads a one-column code as code + 1: its first code's cells are never touched
    seen, dense, triangle = v.coded[:3] if v.coded is not None else _cells_of_codes(
        mp.measure.kind, v, [finest_code(mp, b)], 0, space + 1, months, placed)
    grids = [(seen[1:], np.logical_or), (dense[months:].reshape(space, months, -1), np.add)]
    if len(triangle):
        grids.append((triangle[months * months:].reshape(space, -1), np.add))
    levels, cohorts = [], []
    for level, level_cols in _levels_of(mp, cols, grids):
        cells = (level[0], level[1].reshape(-1, level[1].shape[-1]),
                 level[2].reshape(-1) if len(level) > 2 else triangle[:0])
        counts, cohort = _coded_counts(mp.measure.kind, v, cells, level_cols, months)
        levels.append(counts)
        if cohort is not None:
            cohorts.append(cohort)
    return tuple(levels), tuple(cohorts)


def _group_base(level: tuple, table: str, b: Batch, months: int, codes: int = 4
                ) -> tuple[np.ndarray, int]:
    """Each record's group code times ``months * codes`` (its first cell in a level's grid),
    and the size of the code space; computed once per batch for every measure of the table."""
    cols = [b.column(table, spec) for spec in level]
    space = int(np.prod([_cardinality(c) for c in cols]))

    def make() -> np.ndarray:
        code = radix_codes(cols, b.tables[table].rows)
        code *= months * codes
        return code
    key = ("group base", table, tuple(spec.label for spec in level), months, codes)
    return b.cached(key, make), space


def _as_counts(grid: np.ndarray, labels: list[tuple[Any, ...]]) -> Cells:
    """[groups, months, 4] verdict counts as each group's [months, 6] counts (numerator met,
    denominator met + failed), kept where a record fell."""
    out = np.zeros((*grid.shape[:2], 6), dtype=np.int64)
    out[..., :4] = grid
    out[..., K_DEN] = grid[..., K_MET] + grid[..., K_FAILED]
    out[..., K_NUM] = grid[..., K_MET]
    return Cells.from_dense(out, labels, tail=1)


def _slots(level: tuple, table: str, b: Batch, placed: np.ndarray, rows: np.ndarray | None
           ) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Each placed record's group slot (-1 elsewhere) and the group values of each slot.

    Group codes are mixed-radix numbers of the key columns' codes, so the groups present are
    found with a bincount when the code space is small, by sorting otherwise.
    """
    cols = [b.column(table, spec) for spec in level]
    code, space = _group_base(level, table, b, 1, 1)  # shared by the measures of the table
    if rows is not None:  # one entry per record and month
        code = code[rows]
    if b.jit and space <= DENSE_CELLS:  # one compiled pass to mark the codes, one to look up
        lookup = np.full(space, -1, dtype=np.int64)
        slot = np.empty(len(placed), dtype=np.int64)
        kernels_esf.group_slots(code, placed, lookup, slot)
        present = np.flatnonzero(lookup >= 0)
    elif space <= DENSE_CELLS:
        present = np.flatnonzero(np.bincount(code[placed], minlength=space))
        lookup = np.full(space, -1, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        slot = np.where(placed, lookup[code], -1)
    else:
        present, inverse = np.unique(code[placed], return_inverse=True)
        slot = np.full(len(placed), -1, dtype=np.int64)
        slot[placed] = inverse.reshape(-1)
    return slot, _decode(present, cols)


def _level_counts(kind: str, v: Verdicts, slot: np.ndarray, labels: list[tuple[Any, ...]],
                  months: int, compiled: bool = False) -> Cells:
    """Counts [months, 6] per group (the four verdicts, then numerator and denominator), held in
    the (group, month) cells some record counts in: memory grows with the records, not with
    groups x months."""
    if compiled and len(labels) * months <= JIT_DENSE_CELLS:
        return _level_counts_compiled(kind, v, slot, labels, months)
    ok = (slot >= 0) & (v.month >= 0)
    key = slot[ok] * months + v.month[ok]
    steps = _step_keys(v, slot, months)
    cells = Keys.of([key, *steps], len(labels) * months)
    n, at = len(cells), cells.at(key)
    status = v.status[ok].astype(np.int64)
    out = np.zeros((n, 6), dtype=np.int64)
    out[:, :4] = np.bincount(at * 4 + status, minlength=n * 4).reshape(n, 4)
    if kind in ("ratio", "average"):  # summed amounts: a ratio's columns, an average's days
        counted = status == MET
        for column, amounts in ((K_NUM, v.numerator), (K_DEN, v.denominator)):
            total = np.zeros(n, dtype=np.int64)
            np.add.at(total, at[counted], amounts[ok][counted])
            out[:, column] = total
    else:
        out[:, K_DEN] = out[:, K_MET] + out[:, K_FAILED]
        out[:, K_NUM] = out[:, K_FAILED if kind == "backlog_breach" else K_MET]
    if v.backlog is not None:  # in backlog: +1 from the first month end, -1 from the last
        ins, outs = steps
        out[:, K_NUM] = (np.bincount(cells.at(ins), minlength=n)
                         - np.bincount(cells.at(outs), minlength=n))
    if v.second is not None:  # count ratios: the numerator in the month of its own date
        out[:, K_NUM] = np.bincount(cells.at(steps[0]), minlength=n)
    return Cells(tuple(labels), cells.cells, out, (months, 6), tail=1)


#: Up to this many (group, month) cells the compiled loops count into a dense array.
JIT_DENSE_CELLS = 1 << 17


def _level_counts_compiled(kind: str, v: Verdicts, slot: np.ndarray,
                           labels: list[tuple[Any, ...]], months: int) -> Cells:
    """:func:`_level_counts` in one compiled pass over the records into dense (group, month)
    cells, those some record touched kept."""
    first, second, numerator, denominator = _loop_inputs(kind, v)
    dense = np.zeros((len(labels) * months, kernels_esf.C_WIDTH), dtype=np.int64)
    kernels_esf.level_cells(slot, kernels_eval.as_index(v.month), v.status, months, first,
                            second, numerator, denominator, dense)
    return _dense_counts(kind, v, dense, labels, months)


def _loop_inputs(kind: str, v: Verdicts) -> tuple[np.ndarray, ...]:
    """(first step, second step, numerator, denominator) as the compiled loops read them
    (month indexes as made, :func:`~pmir_dsl.kernels_eval.as_index`; amounts int64; None where
    the measure has none)."""
    first, second = (v.backlog if v.backlog is not None else (v.second, None))
    sums = kind in ("ratio", "average")
    return (kernels_eval.as_index(first), kernels_eval.as_index(second),
            *(kernels_esf.as_int64(a) for a in (v.numerator if sums else None,
                                                 v.denominator if sums else None)))


def _dense_counts(kind: str, v: Verdicts, dense: np.ndarray, labels: list[tuple[Any, ...]],
                  months: int) -> Cells:
    """:func:`_level_counts` of a level's dense [slots x months, C_WIDTH] cells
    (:func:`~pmir_dsl.kernels_esf.level_cells`), those some record touched kept."""
    sums = kind in ("ratio", "average")
    held = np.flatnonzero(dense[:, list(kernels_esf.TOUCHING)].any(axis=1))
    dense = dense[held]
    out = np.zeros((len(held), 6), dtype=np.int64)
    out[:, :4] = dense[:, :4]
    if sums:
        out[:, K_NUM], out[:, K_DEN] = dense[:, kernels_esf.C_NUM], dense[:, kernels_esf.C_DEN]
    else:
        out[:, K_DEN] = out[:, K_MET] + out[:, K_FAILED]
        out[:, K_NUM] = out[:, K_FAILED if kind == "backlog_breach" else K_MET]
    if v.backlog is not None:
        out[:, K_NUM] = dense[:, kernels_esf.C_FIRST] - dense[:, kernels_esf.C_SECOND]
    if v.second is not None:
        out[:, K_NUM] = dense[:, kernels_esf.C_FIRST]
    return Cells(tuple(labels), held, out, (months, 6), tail=1)


def _step_keys(v: Verdicts, slot: np.ndarray, months: int) -> list[np.ndarray]:
    """Cells counted in other months than the record's own: a backlog's first month in it and
    first month out of it, or a count ratio's numerator month."""
    if v.backlog is not None:
        first, end = v.backlog
        ins, outs = (first >= 0) & (slot >= 0), (end >= 0) & (slot >= 0)
        return [slot[ins] * months + first[ins], slot[outs] * months + end[outs]]
    if v.second is not None:
        hit = (slot >= 0) & (v.second >= 0)
        return [slot[hit] * months + v.second[hit]]
    return []


def _extra(v: Verdicts, slot: np.ndarray, labels: list[tuple[Any, ...]], months: int) -> Cells:
    """The extra columns summed per group and month of the record (exact int64 sums)."""
    assert v.extra is not None
    width = v.extra.shape[1]
    ok = (slot >= 0) & (v.month >= 0) & (v.status <= PENDING)  # met, failed or pending
    key = slot[ok] * months + v.month[ok]
    cells = Keys.of([key], len(labels) * months)
    at = cells.at(key)
    out = np.zeros((len(cells), width), dtype=np.int64)
    for j in range(width):
        np.add.at(out[:, j], at, v.extra[ok, j])
    return Cells(tuple(labels), cells.cells, out, (months, width), tail=1)


def _totals(kind: str, v: Verdicts) -> tuple[np.ndarray, int]:
    """Every population record by verdict (placed in a month or not), with the summed amounts,
    and the number of records outside the population: one count of the verdict codes."""
    if v.counted is not None:  # every record is in one cell of the grid
        assert kind not in ("ratio", "average")
        every = v.counted.reshape(-1, OUTSIDE + 1).sum(axis=0).tolist()
    elif v.coded is not None:  # counted in the verdicts' pass
        every = v.coded[3].tolist()
    else:
        every = [np.count_nonzero(v.status == code) for code in range(OUTSIDE + 1)]  # bytes
    counts = np.array(every[:4], dtype=np.int64)
    if kind in ("ratio", "average"):
        met = v.status == MET
        amounts = [int(v.numerator[met].sum()), int(v.denominator[met].sum())]
    else:  # a breach count counts its failed records (the breaches)
        amounts = [int(counts[FAILED if kind == "backlog_breach" else MET]),
                   int(counts[MET] + counts[FAILED])]
    return np.array([*counts, *amounts], dtype=np.int64), int(every[OUTSIDE])


def _triangle(v: Verdicts, slot: np.ndarray, labels: list[tuple[Any, ...]], months: int,
              compiled: bool = False) -> Cells:
    """Outcome counts per group: [cohort month, months since start]."""
    assert v.cohort is not None
    size = len(labels) * months * months
    if compiled and size <= DENSE_CELLS:  # the same count, in one compiled pass
        counts = np.zeros(size, dtype=np.int64)
        kernels_esf.triangle_counts(slot, kernels_eval.as_index(v.month),
                                    kernels_eval.as_index(v.cohort), v.status, months, counts)
        held = np.flatnonzero(counts)
        return Cells(tuple(labels), held, counts[held], (months, months))
    ok = (v.status == MET) & (v.cohort >= 0) & (v.month >= v.cohort) & (slot >= 0)
    key = (slot[ok] * months + v.cohort[ok]) * months + (v.month[ok] - v.cohort[ok])
    size = len(labels) * months * months
    if size <= DENSE_CELLS:  # one count of the keys, the cells some outcome fell in kept
        counts = np.bincount(key, minlength=size)
        held = np.flatnonzero(counts)
        return Cells(tuple(labels), held, counts[held].astype(np.int64), (months, months))
    cells = Keys.of([key], size)
    counts = np.bincount(cells.at(key), minlength=len(cells)).astype(np.int64)
    return Cells(tuple(labels), cells.cells, counts, (months, months))


def _oldest(v: Verdicts, slot: np.ndarray, labels: list[tuple[Any, ...]], months: int
            ) -> Cells:
    """The earliest anchor date among records in backlog at each month end, per group.

    Each record's months in backlog are expanded (one row per record and month, a small multiple
    of the records at most) and reduced with ``np.minimum.at``.
    """
    assert v.backlog is not None and v.anchor is not None
    first, end = v.backlog
    end = np.where(end < 0, months, end)
    rows = np.flatnonzero((first >= 0) & (slot >= 0))
    lengths = end[rows] - first[rows]
    each = np.repeat(rows, lengths)
    offsets = np.arange(len(each)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    key = slot[each] * months + first[each] + offsets
    cells = Keys.of([key], len(labels) * months)
    out = np.full(len(cells), NO_DATE, dtype=np.int64)
    np.minimum.at(out, cells.at(key), v.anchor.astype(np.int64)[each])
    return Cells(tuple(labels), cells.cells, out, (months,), fill=NO_DATE)


def _cardinality(col: Column) -> int:
    names = {ColumnType.TEXT: len(col.dictionary), ColumnType.CATEGORY: len(col.spec.categories),
             ColumnType.BOOL: 2}
    return names[col.spec.type] + 1


def _decode(codes: np.ndarray, cols: list[Column]) -> list[tuple[Any, ...]]:
    """The group values of mixed-radix group codes (None for a missing value), all at once."""
    codes = np.asarray(codes, dtype=np.int64)
    values = []
    for col in reversed(cols):
        codes, c = np.divmod(codes, _cardinality(col))
        values.append(np.array([None, *_names(col)], dtype=object)[c])
    return list(zip(*reversed(values))) if values else [() for _ in codes]


def _names(col: Column) -> tuple[str, ...]:
    """The values of a group column's codes 0, 1, ..."""
    t = col.spec.type
    if t is ColumnType.BOOL:
        return ("false", "true")
    return tuple(col.dictionary if t is ColumnType.TEXT else col.spec.categories)


def quality_entry(table: Table, check: str, mask: np.ndarray, row_offset: int = 0) -> Quality:
    """The entry of the records under ``mask``: their count and the smallest ids (or rows);
    ``row_offset``: the first row of the chunk ``mask`` covers (0 for a whole table)."""
    rows = np.flatnonzero(mask)
    id_col = next((c for c in table.columns.values() if c.spec.type is ColumnType.ID), None)
    if id_col is None:
        examples = tuple(f"row {r + row_offset + 2}" for r in rows[:N_EXAMPLES])
    else:
        ids = id_col.values.take(pa.array(rows))
        order = pc.sort_indices(ids)[:N_EXAMPLES]
        examples = tuple(str(x) for x in ids.take(order).to_pylist())
    return Quality(table.name, check, len(rows), examples)


# ---- merging ------------------------------------------------------------------------------------


def merge(a: Partial, b: Partial) -> Partial:
    """The partial of two disjoint batches together: exact sums, groups matched by value."""
    counts = {m: _merge_counts(a.counts[m], b.counts[m]) for m in a.counts}
    quality = dict(a.quality)
    for key, q in b.quality.items():
        if key in quality:
            p = quality[key]
            examples = tuple(sorted(set(p.examples) | set(q.examples), key=_example_key))
            quality[key] = Quality(p.table, p.check, p.count + q.count, examples[:N_EXAMPLES])
        else:
            quality[key] = q
    return Partial(counts, quality)


def _example_key(e: str) -> tuple[int, str]:
    return (int(e[4:]), "") if e.startswith("row ") else (0, e)


def _merge_counts(a: MeasureCounts, b: MeasureCounts) -> MeasureCounts:
    return MeasureCounts(a.measure, _merge_levels(a.levels, b.levels), a.totals + b.totals,
                         a.outside + b.outside, _merge_levels(a.cohorts, b.cohorts),
                         _merge_levels(a.oldest, b.oldest, np.minimum),
                         _merge_levels(a.extra, b.extra))


def _merge_levels(a: tuple[Levels, ...], b: tuple[Levels, ...],
                  combine: np.ufunc = np.add) -> tuple[Levels, ...]:
    """Per level, the groups of both sides, cells of a group in both combined (summed, or the
    minimum for the oldest backlog dates)."""
    if not a:
        return b
    return tuple(la.merge(lb, combine) for la, lb in zip(a, b))  # type: ignore[attr-defined]


# ---- counts -> results --------------------------------------------------------------------------


def month_label(month: int) -> str:
    """``YYYY-MM`` of months since 1970-01."""
    return str(np.datetime64(month, "M"))


def quarter_label(month: int) -> str:
    """``YYYY-Qn`` of the quarter containing months-since-1970-01 ``month``."""
    return f"{1970 + month // 12}-Q{month % 12 // 3 + 1}"


def intervals(basis: str, unit: str, axis: Axis) -> list[tuple[str, int, int]]:
    """(period label, first, last month index) of each period of ``basis`` on the axis."""
    n, f = axis.size, axis.first_month
    quarters = _quarters(axis)
    if unit == "quarter" or basis == "quarter":
        ends = [(label, hi) for label, _, hi in quarters]
        spans = {"quarter": quarters,
                 "cumulative": [(lab, 0, hi) for lab, hi in ends],
                 "rolling_12": [(lab, max(0, hi - 11), hi) for lab, hi in ends],
                 "rolling_3": [(lab, max(0, hi - 2), hi) for lab, hi in ends],
                 "year_to_date": [(lab, hi - hi % 12, hi) for lab, hi in ends]}
        return spans[basis]
    label = [month_label(f + i) for i in range(n)]
    spans = {"in_month": [(label[i], i, i) for i in range(n)],
             "rolling_3": [(label[i], max(0, i - 2), i) for i in range(n)],
             "rolling_12": [(label[i], max(0, i - 11), i) for i in range(n)],
             "cumulative": [(label[i], 0, i) for i in range(n)],
             "year_to_date": [(label[i], i - i % 12, i) for i in range(n)]}
    return spans[basis]


def _quarters(axis: Axis) -> list[tuple[str, int, int]]:
    out = []
    q = axis.first_month - axis.first_month % 3
    while q <= axis.last_month:
        lo, hi = max(q, axis.first_month), min(q + 2, axis.last_month)
        out.append((quarter_label(q), lo - axis.first_month, hi - axis.first_month))
        q += 3
    return out


def finish(plan: Plan, partial: Partial, axis: Axis, expected: dict[str, Any] | None = None,
           batch: Batch | None = None) -> Results:
    """One result per measure x group x period x basis, sorted as output.md requires: a lazy
    :class:`Results`, whose rows are built from the counts as they are read.

    ``expected`` maps measure ids to their :class:`~pmir_dsl.profiles.Expected` figures;
    ``batch`` gives the calendar and as-of date for the age of the oldest backlog record.
    """
    return Results(plan, partial, axis, expected or {}, batch)


@runtime_checkable
class RowSequence(Protocol):
    """Report rows that filter themselves before they are built (:class:`Results`,
    :class:`LazyRows`): what ``--provider``, ``--group`` and ``--measure`` narrow."""

    def only(self, groups: Mapping[str, str] | None = None,
             measures: Sequence[str] | None = None) -> RowSequence:
        """The rows whose group has every ``groups`` key with that value (as text) and, for
        rows of a measure, whose measure is in ``measures`` (all when None)."""

    def group_values(self) -> dict[str, set[str]]:
        """Every group key of the rows and its values as text (``(none)`` for none)."""

    def any_failed(self) -> bool:
        """Whether any row is an assessed, failed target."""

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


def group_matches(group: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """Whether a row's group has every wanted key with the wanted value (as text)."""
    texts = {k: "(none)" if v is None else str(v) for k, v in group.items()}
    return all(texts.get(k) == v for k, v in wanted.items())


def group_values_of(rows: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Every group key of ``rows`` and its values as text (``(none)`` for none)."""
    out: dict[str, set[str]] = {}
    for r in rows:
        for k, v in r["group"].items():
            out.setdefault(k, set()).add("(none)" if v is None else str(v))
    return out


def row_kept(row: Mapping[str, Any], groups: Mapping[str, str],
             measures: Sequence[str] | None) -> bool:
    """Whether a row passes the filters: its group matches, and its measure (if it has one)
    is among ``measures`` (all when None)."""
    if groups and not group_matches(row.get("group", {}), groups):
        return False
    return measures is None or "measure" not in row or row["measure"] in measures


@attrs.frozen(eq=False)
class LazyRows(Sequence[dict[str, Any]]):
    """Report rows built by ``make`` each time they are iterated (escalations: one per group
    and month), not held; indexing, ``len``, ``==`` and the like build the list once.

    ``make(groups)`` gives the rows of the groups matching ``groups`` (every row when empty;
    it may give others too: :meth:`only` filters what it gives), so a filtered view builds
    only the groups it keeps."""

    make: Callable[[Mapping[str, str]], Iterator[dict[str, Any]]]
    groups: Mapping[str, str] = attrs.field(factory=dict)
    measures: tuple[str, ...] | None = None
    _held: list[list[dict[str, Any]]] = attrs.field(factory=list, init=False)

    def only(self, groups: Mapping[str, str] | None = None,
             measures: Sequence[str] | None = None) -> LazyRows:
        """The rows :func:`row_kept` keeps; those of other groups are never built."""
        return attrs.evolve(self, groups={**self.groups, **(groups or {})},
                            measures=self.measures if measures is None else tuple(
                                m for m in measures if self.measures is None or m in self.measures))

    def group_values(self) -> dict[str, set[str]]:
        return group_values_of(self)

    def any_failed(self) -> bool:
        return any(r.get("met") is False for r in self)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._held[0]) if self._held else self._generate()

    def _generate(self) -> Iterator[dict[str, Any]]:
        rows = self.make(self.groups)
        if not self.groups and self.measures is None:
            return rows
        return (r for r in rows if row_kept(r, self.groups, self.measures))

    def held(self) -> list[dict[str, Any]]:
        """Every row, built once and kept."""
        if not self._held:
            self._held.append(list(self._generate()))
        return self._held[0]

    def __len__(self) -> int:
        return len(self.held())

    def __getitem__(self, i: Any) -> Any:
        return self.held()[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self.held() == list(other)

    def __repr__(self) -> str:
        return "LazyRows(...)"


#: A result's group in output.md's order: its size, then (key, value) by key, "" for none.
GroupOrder = tuple[int, tuple[tuple[str, Any], ...]]


@attrs.frozen(eq=False)
class Results(Sequence[dict[str, Any]]):
    """The result rows of an evaluation, built lazily in output.md's sorted order (measure,
    group with the whole contract first, period, basis) each time they are iterated: per
    measure, the groups of each level in that order from the sparse counts, levels merged, a
    group's rows built, ranked and sorted together. Holding them costs the counts, not the rows;
    ranks come from per-level score arrays computed before the rows (:func:`_level_ranks`).

    ``groups`` (key -> value as text, ``(none)`` for none) and ``measures`` filter the rows
    before they are built (:meth:`only`). Indexing, ``==`` and the like build the list once.
    """

    plan: Plan
    partial: Partial
    axis: Axis
    expected: dict[str, Any]
    batch: Batch | None
    groups: Mapping[str, str] = attrs.field(factory=dict)
    measures: tuple[str, ...] | None = None
    notes: Mapping[str, list[str]] = attrs.field(factory=dict)
    bases: tuple[str, ...] | None = None
    #: Shared by every filtered view: per filter, whether a whole pass met a failed row.
    seen: dict[Any, bool] = attrs.field(factory=dict)
    _held: list[list[dict[str, Any]]] = attrs.field(factory=list, init=False)

    def only(self, groups: Mapping[str, str] | None = None,
             measures: Sequence[str] | None = None) -> Results:
        """The rows whose group has every ``groups`` key with that value (as text) and whose
        measure is in ``measures`` (all when None): the others are never built."""
        return attrs.evolve(self, groups={**self.groups, **(groups or {})},
                            measures=self.measures if measures is None else tuple(
                                m for m in measures if self.measures is None or m in self.measures))

    def on_bases(self, bases: Sequence[str]) -> Results:
        """The rows of those bases only (others never built; a backlog's age is then not
        what the full rows say: for readers of verdicts, as the regimes are)."""
        return attrs.evolve(self, bases=tuple(bases))

    def any_failed(self) -> bool:
        """Whether any row is an assessed, failed target: remembered from a whole pass over
        the same rows (the one that wrote them), else found by building them."""
        known = self.seen.get(self._filter())
        if known is not None:
            return known
        return any(r["met"] is False for r in self)

    def _filter(self) -> tuple[Any, ...]:
        return tuple(sorted(self.groups.items())), self.measures, self.bases

    def with_notes(self, notes: Mapping[str, list[str]]) -> Results:
        """The rows with a last key ``assumptions`` on those of the measures ``notes`` names."""
        return attrs.evolve(self, notes=notes)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._held:
            return iter(self._held[0])
        return self._generate()

    def _generate(self) -> Iterator[dict[str, Any]]:
        failed = False
        for mp in self._plans():
            for _, rows in heapq.merge(*self._levels(mp), key=lambda item: item[0]):
                failed = failed or any(r["met"] is False for r in rows)
                yield from rows
        self.seen[self._filter()] = failed

    def __len__(self) -> int:
        if self._held:
            return len(self._held[0])
        total = 0
        for mp in self._plans():
            width = sum(len(intervals(b, mp.measure.period_unit, self.axis))
                        for b in mp.measure.bases if self.bases is None or b in self.bases)
            total += width * sum(len(groups) for _, groups in self._level_groups(mp))
        return total

    def __getitem__(self, i: Any) -> Any:
        return self.held()[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and self.held() == list(other)

    def __repr__(self) -> str:
        return f"Results({len(self)} rows)"

    def held(self) -> list[dict[str, Any]]:
        """Every row, built once and kept (for readers that index or compare)."""
        if not self._held:
            self._held.append(list(self._generate()))
        return self._held[0]

    def group_values(self) -> dict[str, set[str]]:
        """Every group key of the rows and its values as text (``(none)`` for none), from the
        counts: what a filter may name."""
        out: dict[str, set[str]] = {}
        for mp in self._plans():
            for keys, groups in self._level_groups(mp):
                for values in groups:
                    for k, v in zip(keys, values):
                        out.setdefault(k, set()).add("(none)" if v is None else str(v))
        return out

    def _plans(self) -> list[MeasurePlan]:
        """The measures whose rows are wanted, by id (the rows' first sort key)."""
        return sorted((mp for mp in self.plan.measures
                       if self.measures is None or mp.measure.id in self.measures),
                      key=lambda mp: mp.measure.id)

    def _level_groups(self, mp: MeasurePlan) -> list[tuple[list[str], list[tuple[Any, ...]]]]:
        """Each group level's key names and its groups that pass the filter, in output.md's
        order; the whole contract's one group where no record has a group at all."""
        m = mp.measure
        counts, exp = self.partial.counts[m.id], self.expected.get(m.id)
        out = []
        for i, level in enumerate(m.groups):
            keys = [c.name for c in level]
            found = set(counts.levels[i]) | set(exp.levels[i] if exp is not None else ())
            order = sorted(keys)
            picks = [keys.index(k) for k in order]
            kept = [g for g in found if self._wanted(keys, g)]
            kept.sort(key=lambda g: tuple(("" if g[j] is None else g[j]) for j in picks))
            out.append((keys, kept))
        if not counts.levels[0] and not (exp and exp.levels[0]) and not self.groups:
            out.append(([], [()]))  # report the periods all the same
        return out

    def _wanted(self, keys: list[str], values: tuple[Any, ...]) -> bool:
        return not self.groups or group_matches(dict(zip(keys, values)), self.groups)

    def _levels(self, mp: MeasurePlan) -> list[Iterator[tuple[GroupOrder, list[dict[str, Any]]]]]:
        """Per group level, (sort key, sorted rows) of each of its groups in order."""
        spans = {b: intervals(b, mp.measure.period_unit, self.axis) for b in mp.measure.bases
                 if self.bases is None or b in self.bases}
        return [level.rows(groups, self._ranks(mp.measure, level, groups),
                           self.notes.get(mp.measure.id))
                for level, groups in self._level_parts(mp, spans)]

    def _level_parts(self, mp: MeasurePlan, spans: dict[str, list[tuple[str, int, int]]]
                     ) -> list[tuple[_Level, list[tuple[Any, ...]]]]:
        """Per group level, what its rows are built from and its groups the filter keeps."""
        m = mp.measure
        counts = self.partial.counts[m.id]
        exp = self.expected.get(m.id)
        found = []
        for i, (keys, groups) in enumerate(self._level_groups(mp)):
            whole = i == len(m.groups)  # the whole contract with no records
            level = _Level(m, keys, spans, self.axis, self.batch,
                           {} if whole else counts.levels[i],
                           exp.levels[i] if exp is not None and not whole else {},
                           counts.oldest[i] if counts.oldest and not whole else None,
                           counts.extra[i] if counts.extra and not whole else {}, whole)
            found.append((level, groups))
        return found

    def verdicts(self, keys: tuple[str, ...], wanted: Mapping[tuple[str, str], Any]
                 ) -> tuple[list[tuple[Any, ...]], Callable[[tuple[Any, ...]], bool],
                            Callable[[tuple[Any, ...]], dict[Any, Any]]]:
        """The groups of the ``keys`` level that the filter keeps and have a wanted (measure,
        basis) whose periods are months (a list, and a membership test: no set of every group
        is held), and a function giving a group's verdicts: each such (measure, basis)'s
        ``met`` per month of the axis (None: not assessed), keyed by the name ``wanted`` gives
        it, decided from the counts as the rows' are (:func:`verdict`), no row built: what the
        regimes read, one group at a time."""
        index = {month_label(self.axis.first_month + i): i for i in range(self.axis.size)}
        parts, lists = [], []
        for mp in self._plans():
            m = mp.measure
            named = [(wanted[(m.id, b)], b, at) for b in m.bases if (m.id, b) in wanted
                     for at in [[(label, lo, hi, index[label])
                                 for label, lo, hi in intervals(b, m.period_unit, self.axis)
                                 if label in index]] if at]
            for level, groups in self._level_parts(mp, {}):
                if named and tuple(level.keys) == keys:
                    parts.append((level, named))
                    lists.append(groups)

        def has(level: _Level, values: tuple[Any, ...]) -> bool:
            return ((level.whole and values == ()) or values in level.actual
                    or values in level.profiled) and self._wanted(level.keys, values)

        def contains(values: tuple[Any, ...]) -> bool:
            return any(has(level, values) for level, _ in parts)

        def decide(values: tuple[Any, ...]) -> dict[Any, list[bool | None]]:
            return {name: level.verdicts(values, basis, at) for level, named in parts
                    if has(level, values) for name, basis, at in named}
        return _union(list(keys), lists), contains, decide

    def _ranks(self, m: ir.Measure, level: _Level, groups: list[tuple[Any, ...]]
               ) -> dict[str, np.ndarray]:
        """Rank columns of a level's groups (``rank``, ``rank_within_COLUMN``): [groups, rows
        per group] arrays, 0 where the row has no rank; none for an unranked level."""
        col = m.rank_within
        if m.rank is None or not level.keys or sorted(level.keys) == [col]:
            return {}
        # ranks are among every group of the level, whichever the filter keeps
        everyone = self._unfiltered(level) if self.groups else groups
        where = {g: j for j, g in enumerate(everyone)}
        num, den, has = level.scores(everyone)
        sign = -1 if m.rank == "highest" else 1
        out = {"rank": _rank_columns(num, den, has, sign, None)}
        if col is not None and col in level.keys:
            at = level.keys.index(col)
            ids: dict[Any, int] = {}
            peers = np.array([ids.setdefault(g[at], len(ids)) for g in everyone],
                             dtype=np.int64)
            out[f"rank_within_{col}"] = _rank_columns(num, den, has, sign, peers)
        if self.groups:  # keep the rows of the groups wanted
            take = np.array([where[g] for g in groups], dtype=np.int64)
            out = {k: v[take] for k, v in out.items()}
        return out

    def _unfiltered(self, level: _Level) -> list[tuple[Any, ...]]:
        return sorted(set(level.actual) | set(level.profiled),
                      key=lambda g: tuple(("" if g[j] is None else g[j])
                                          for j in [level.keys.index(k)
                                                    for k in sorted(level.keys)]))


def _union(keys: list[str], lists: list[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """The groups of ``keys`` in lists each sorted as :meth:`Results._level_groups` sorts
    them, once each, in that order (no set of them held)."""
    if all(x is lists[0] or x == lists[0] for x in lists[1:]):
        return lists[0] if lists else []
    picks = [keys.index(k) for k in sorted(keys)]

    def key(g: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple("" if g[j] is None else g[j] for j in picks)
    out: list[tuple[Any, ...]] = []
    run: list[tuple[Any, ...]] = []  # the groups of the sort key last met (None and '' tie)
    for g in heapq.merge(*lists, key=key):
        if run and key(run[0]) != key(g):
            run = []
        if g not in run:
            run.append(g)
            out.append(g)
    return out


@attrs.frozen(eq=False)
class _Level:
    """One group level of a measure: what its rows are built from."""

    m: ir.Measure
    keys: list[str]
    spans: dict[str, list[tuple[str, int, int]]]
    axis: Axis
    batch: Batch | None
    actual: Levels
    profiled: Levels
    oldest: Levels | None
    extras: Levels
    whole: bool

    def build(self, values: tuple[Any, ...]) -> list[dict[str, Any]]:
        """A group's rows in the order they are computed: per basis, per period."""
        arr = self.actual.get(values)
        if arr is None:
            arr = np.zeros((self.axis.size, 6), dtype=np.int64)
        found = _rows(self.m, dict(zip(self.keys, values)), arr, self.spans,
                      self.profiled.get(values), self.extras.get(values))
        if self.oldest is not None and self.batch is not None and values in self.oldest:
            for r, age in zip(found, _ages_of(self.oldest[values], self.axis, self.batch)):
                r["oldest_age_working_days"] = age
        if self.whole and self.m.backlog is not None and not self.m.backlog.breach:
            for r in found:  # nobody: age null (decision 52)
                r["oldest_age_working_days"] = None
        return found

    def verdicts(self, values: tuple[Any, ...], basis: str,
                 at: list[tuple[str, int, int, int]]) -> list[bool | None]:
        """A group's ``met`` per month of the axis on ``basis`` (None where it has no row),
        from its periods ``at`` ((label, first, last, month index)), no row built."""
        arr = self.actual.get(values)
        if arr is None:
            arr = np.zeros((self.axis.size, 6), dtype=np.int64)
        spans = {basis: [(label, lo, hi) for label, lo, hi, _ in at]}
        months: list[bool | None] = [None] * self.axis.size
        for (_, _, _, i), (_, _, tot, exp, extra) in zip(at, _period_totals(
                self.m, arr, spans, self.profiled.get(values), self.extras.get(values))):
            months[i] = verdict(self.m, basis, tot, exp, extra)
        return months

    def rows(self, groups: list[tuple[Any, ...]], ranks: dict[str, np.ndarray],
             notes: list[str] | None = None) -> Iterator[tuple[GroupOrder, list[dict[str, Any]]]]:
        """(sort key, rows in period then basis order) of each group, ranked, with the
        measure's assumptions (``notes``) where it declares any."""
        order = sorted(self.keys)
        picks = [self.keys.index(k) for k in order]
        for j, values in enumerate(groups):
            found = self.build(values)
            for name, column in ranks.items():
                for r, rank in zip(found, column[j]):
                    r[name] = int(rank) if rank else None
            for r in found:
                r.pop("_score", None)
                if notes is not None:
                    r["assumptions"] = notes
            found.sort(key=_period_basis)
            key = tuple((k, "" if values[i] is None else values[i]) for k, i in zip(order, picks))
            yield (len(key), key), found

    def scores(self, groups: list[tuple[Any, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each group's rows' scores as exact numerator and denominator arrays [groups, rows]
        (int64, or Python ints where they do not fit), and where a row has one."""
        width = sum(len(p) for p in self.spans.values())
        num = np.zeros((len(groups), width), dtype=np.int64)
        den = np.ones((len(groups), width), dtype=np.int64)
        has = np.zeros((len(groups), width), dtype=bool)
        for j, values in enumerate(groups):
            for c, r in enumerate(self.build(values)):
                score = r.get("_score")
                if score is None:
                    continue
                score = Fraction(score)
                has[j, c] = True
                try:
                    num[j, c], den[j, c] = score.numerator, score.denominator
                except OverflowError:  # a huge exact figure: keep Python ints
                    num, den = num.astype(object), den.astype(object)
                    num[j, c], den[j, c] = score.numerator, score.denominator
        return num, den, has


def _period_basis(r: dict[str, Any]) -> tuple[str, str]:
    return r["period"], r["basis"]


def _rank_columns(num: np.ndarray, den: np.ndarray, has: np.ndarray, sign: int,
                  peers: np.ndarray | None) -> np.ndarray:
    """Per row position (period and basis), each group's rank among the groups with a score
    (among those of its ``peers`` value where given), best first; ties share the lower
    number (1, 1, 3); 0 where there is no score. Exact: scores compared as fractions."""
    out = np.zeros(num.shape, dtype=np.int64)
    sets = [np.arange(len(num))] if peers is None else \
        [np.flatnonzero(peers == p) for p in dict.fromkeys(peers.tolist())]
    for c in range(num.shape[1]):
        for members in sets:
            scored = [(sign * Fraction(int(num[g, c]), int(den[g, c])), g)
                      for g in members if has[g, c]]
            scored.sort(key=lambda x: x[0])
            for position, (score, g) in enumerate(scored):
                tied = position > 0 and score == scored[position - 1][0]
                out[g, c] = out[scored[position - 1][1], c] if tied else position + 1
    return out


def _ages_of(days: np.ndarray, axis: Axis, b: Batch) -> list[int | None]:
    """Working days from a group's oldest backlog record's date to each month end (the as-of
    date for the as-of month); None where nobody is in backlog."""
    ends = (np.arange(axis.first_month + 1, axis.last_month + 2).astype("datetime64[M]")
            .astype("datetime64[D]") - np.timedelta64(1, "D"))
    ends[-1] = min(ends[-1], b.as_of)
    has = days != NO_DATE
    since = np.where(has, days, 0).astype("datetime64[D]") + np.timedelta64(1, "D")
    age = np.busday_count(since, ends + np.timedelta64(1, "D"), busdaycal=b.cal)
    return [int(a) if h else None for a, h in zip(age, has)]


def result_sort_key(r: dict[str, Any]) -> tuple[Any, ...]:
    """Sort key of a result: measure, group (whole contract first), period, basis."""
    group = tuple((k, "" if v is None else v) for k, v in sorted(r["group"].items()))
    return (r["measure"], len(group), group, r["period"], r["basis"])


def _rows(m: ir.Measure, group: dict[str, Any], arr: np.ndarray,
          spans: dict[str, list[tuple[str, int, int]]],
          expected: np.ndarray | None, extra: np.ndarray | None = None) -> list[dict[str, Any]]:
    out = []
    for basis, label, tot, exp_total, extra_tot in _period_totals(m, arr, spans, expected, extra):
        row = result(m, group, label, basis, tot, exp_total)
        if extra_tot is not None:
            _add_extra(m, row, tot, extra_tot)
        out.append(row)
    return out


def _period_totals(m: ir.Measure, arr: np.ndarray, spans: dict[str, list[tuple[str, int, int]]],
                   expected: np.ndarray | None, extra: np.ndarray | None
                   ) -> Iterator[tuple[str, str, np.ndarray, Fraction | None, np.ndarray | None]]:
    """(basis, period label, summed counts, expected figure, summed extra columns or None) of
    each period of ``spans``: what a result row, or its verdict alone, is decided from."""
    cum = np.vstack([np.zeros((1, arr.shape[1]), dtype=np.int64), np.cumsum(arr, axis=0)])
    width = 1 if m.target.lookup is not None else (len(m.buckets.bounds) + 2 if m.buckets else 0)
    if extra is None:
        extra = np.zeros((arr.shape[0], width), dtype=np.int64)
    extra_cum = np.vstack([np.zeros((1, width), dtype=object),
                           np.cumsum(extra.astype(object), axis=0)])
    exp_cum = None
    if m.kind == "profile":
        exp = expected if expected is not None else np.zeros(arr.shape[0], dtype=object)
        exp_cum = np.concatenate([np.zeros(1, dtype=object), np.cumsum(exp.astype(object))])
    for basis, periods in spans.items():
        for label, lo, hi in periods:
            exp_total = None if exp_cum is None else Fraction(int(exp_cum[hi + 1] - exp_cum[lo]),
                                                              SCALE)
            yield (basis, label, cum[hi + 1] - cum[lo], exp_total,
                   extra_cum[hi + 1] - extra_cum[lo] if width else None)


def verdict(m: ir.Measure, basis: str, tot: np.ndarray, expected: Fraction | None = None,
            extra: np.ndarray | None = None) -> bool | None:
    """A result row's ``met`` from its period's summed counts, without the row: the decisions
    :func:`result` and :func:`_add_extra` make, made by the same functions."""
    num, den = int(tot[K_NUM]), int(tot[K_DEN])
    exact, guard = _exact(m, num, den, expected)
    met, _ = _decide(m, basis, exact, guard)
    if m.target.lookup is not None and extra is not None:
        met = _lookup_met(num, den, Fraction(int(extra[0]), DECIMAL_SCALE),
                          _assessed(m, exact, guard))
    return met


def _lookup_met(num: int, den: int, required: Fraction, assessed: bool) -> bool | None:
    """A looked-up target's verdict: the numerator against the required (summed) figure."""
    return num >= required if den > 0 and assessed else None


def _assessed(m: ir.Measure, exact: Fraction | None, guard: Fraction | int) -> bool:
    """A row's ``assessed``: True where the measure sets no minimum denominator."""
    return not m.min_denominator or (exact is not None and guard >= m.min_denominator)


def _add_extra(m: ir.Measure, row: dict[str, Any], tot: np.ndarray, extra: np.ndarray) -> None:
    """A looked-up target's figures (expected, variance, performance against it), or the
    lateness buckets, on a result row."""
    if m.target.lookup is not None:
        num, den = int(tot[K_NUM]), int(tot[K_DEN])
        required = Fraction(int(extra[0]), DECIMAL_SCALE)
        met = _lookup_met(num, den, required, row.get("assessed", True))
        row["target"] = float(required / den) if den > 0 else None
        row["met"] = met
        row["expected"] = float(required)
        row["variance"] = float(num - required)
        score = Fraction(num) / required if required > 0 and met is not None else None
        row["against_target"] = None if score is None else float(score)
        row["_score"] = score
        return
    assert m.buckets is not None and isinstance(m.window, ir.WithinDays)
    names = m.buckets.names(m.window.days)  # type: ignore[arg-type]
    counts = [int(tot[K_MET]), *(int(x) for x in extra)]
    row["buckets"] = dict(zip(names, counts))


SHARE_KINDS = ("rate", "ratio", "profile", "backlog_share", "count_ratio")


def result(m: ir.Measure, group: dict[str, Any], period: str, basis: str,
           tot: np.ndarray, expected: Fraction | None = None) -> dict[str, Any]:
    """One result row from the summed counts of its period (and its expected figure)."""
    num, den = int(tot[K_NUM]), int(tot[K_DEN])
    exact, guard = _exact(m, num, den, expected)
    met, band = _decide(m, basis, exact, guard)
    score = exact if m.target.lookup is None else None
    if m.min_denominator and guard < m.min_denominator:
        score = None  # not assessed: not ranked
    scale = DECIMAL_SCALE if m.kind == "ratio" else 1
    row = {
        "measure": m.id, "group": group, "period": period, "basis": basis,
        "numerator": num / scale if scale != 1 else num,
        "denominator": den / scale if scale != 1 else den,
        "pending": int(tot[K_PENDING]), "excluded": int(tot[K_EXCLUDED]),
        "value": None if exact is None else float(exact),
        "target": None if m.target.op == "none" else
        float(m.target.value) if m.target.share else int(m.target.value),
        "met": met, "band": band.label if band else None,
    }
    if m.rank is not None:
        row["_score"] = score
    if expected is not None:
        row["denominator"] = float(expected)
        row["expected"] = float(expected)
    if m.min_denominator:
        row["assessed"] = exact is not None and guard >= m.min_denominator
    if basis in m.information:  # reported beside the target, never met or failed
        row["information"] = True
    return row


def _exact(m: ir.Measure, num: int, den: int, expected: Fraction | None
           ) -> tuple[Fraction | None, Fraction | int]:
    """The exact figure compared with the target (None: nothing to compare), and the figure
    the minimum denominator guards."""
    if m.kind == "profile":
        assert expected is not None
        return (Fraction(num) / expected if expected > 0 else None), expected
    if m.kind == "ratio":  # sums may be negative (a budget overspent); only 0 is not assessed
        return (Fraction(num, den) if den != 0 else None), Fraction(den, DECIMAL_SCALE)
    if m.kind in SHARE_KINDS or m.kind == "average":  # an average: days over records
        return (Fraction(num, den) if den > 0 else None), den
    return Fraction(num), den


def _decide(m: ir.Measure, basis: str, exact: Fraction | None, guard: Fraction | int
            ) -> tuple[bool | None, Any]:
    """A row's ``met`` before a looked-up target's (None: not assessed), and its band."""
    met = None if exact is None else m.target.met(exact)
    if m.min_denominator and guard < m.min_denominator:
        met = None  # reported, but too few records to assess
    band = m.bands.band_for(exact) if (m.bands and exact is not None) else None
    if band is not None and m.bands is not None and m.bands.deciding and met is not None:
        met = band.passes
    if basis in m.information:  # reported beside the target, never met or failed
        met = None
    return met, band
