"""Compile checked IR into whole-column numpy operations: per-record verdicts for each measure.

A :class:`MeasurePlan` turns one batch of a table's rows into :class:`Verdicts`: for every record
whether it is in the population, the month it counts in, and whether it met, failed, is pending or
is excluded (with the data-quality check that excluded it), plus its deadline for an audit. Each IR
node is compiled by a ``visit_<Node>`` function from a table, never by an if-chain; every
operation is on whole columns, never a Python loop over records. Sub-expressions shared between
measures (the same deadline, the same filter) are computed once per batch through
:attr:`Batch.memo`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import ir, kernels_esf, kernels_eval
from .calendar import (
    DaySpan,
    add_months,
    month_numbers,
    next_working_day,
    span_table,
    workday,
    working_step,
)
from .schema import DECIMAL_SCALE, Column, ColumnSpec, ColumnType, Table

#: Verdict codes, in the order of the count columns of a partial result.
MET, FAILED, PENDING, EXCLUDED, OUTSIDE = 0, 1, 2, 3, 4
STATUS_NAMES = ("met", "failed", "pending", "excluded", "not in population")

NAT = np.datetime64("NaT", "D")


class Shared:
    """Results over whole tables that every chunk of one evaluation reads (a join of a
    reference column into the whole table it refers to, the starts no profile covers): computed
    once, by the first chunk that asks, while the others wait."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        self._making: dict[Any, threading.Lock] = {}
        self._lock = threading.Lock()  # guards the two dicts, never held while making

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, computed once for equal keys: the first caller makes it while later
        callers of that key wait; callers of other keys do not (a ``make`` may ask for
        another key, never its own)."""
        with self._lock:
            if key in self._values:
                return self._values[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._values:  # made while this caller waited
                    return self._values[key]
            value = make()  # if it raises, the next caller makes it again
            with self._lock:
                self._values[key] = value
            return value


@attrs.define
class Batch:
    """One batch of rows of every table, with the evaluation's fixed context.

    A chunk of an evaluation in memory also has its first row's ``offset`` in its tables, whose
    whole are ``lookup``, and ``shared``: results over the whole tables, computed once.
    """

    tables: dict[str, Table]
    as_of: np.datetime64
    cal: np.busdaycalendar
    first_month: int  # months since 1970-01 of the service start month
    last_month: int  # months since 1970-01 of the as-of month
    memo: dict[Any, np.ndarray] = attrs.Factory(dict)
    lookup: dict[str, Table] | None = None  # whole tables that references resolve in
    offset: int | None = None  # the first row of this chunk in every table of ``lookup``
    shared: Shared | None = None
    jit: bool = False  # measures use the compiled loops of pmir_dsl/jit.py (large tables)

    def referenced(self, name: str) -> Table:
        """A table as a ``ref`` column sees it: whole, even when this batch is a chunk."""
        return (self.lookup or self.tables)[name]

    def column(self, table: str, spec: ColumnSpec) -> Column:
        """The loaded column for ``spec`` in ``table`` (joined columns read through the ref)."""
        if spec.via is None:
            return self.tables[table].columns[spec.name]
        key = ("joined", table, spec.via, spec.name)
        if key not in self.memo:
            ref = self.tables[table].columns[spec.via]
            target = self.referenced(ref.spec.references).columns[spec.name]  # type: ignore[arg-type]
            self.memo[key] = gather(target, self.join(table, spec.via))  # type: ignore[assignment]
        return self.memo[key]  # type: ignore[return-value]

    def join(self, table: str, ref_name: str) -> np.ndarray:
        """Row of the referenced table for each record's ``ref_name`` id; -1 if none or unknown."""
        def make() -> np.ndarray:
            ref = self.tables[table].columns[ref_name]
            target = self.referenced(ref.spec.references)  # type: ignore[arg-type]
            ids = next(c for c in target.columns.values() if c.spec.type is ColumnType.ID)
            return join_ids(ref.values, ids.values, self.jit)
        key = ("join", table, ref_name)
        if self.shared is None or self.lookup is None or self.offset is None or \
                self.tables is self.lookup:
            return self.cached(key, make)
        # the whole table's join once (hashing the referenced ids is the cost), then this slice
        whole = attrs.evolve(self, tables=self.lookup, memo={}, offset=None, shared=None)
        rows = self.shared.get(key, lambda: whole.join(table, ref_name))
        return self.cached(key, lambda: rows[self.offset:self.offset + self.tables[table].rows])

    def whole_cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` for a result that depends on the whole tables only: once per evaluation
        where chunks share one, else once per batch."""
        if self.shared is None:
            return self.cached(key, make)
        return self.shared.get(key, make)

    def span(self, table: str, spec: ColumnSpec) -> DaySpan:
        """A date column's :class:`~pmir_dsl.calendar.DaySpan`, once per batch for every
        measure (deadlines and months are looked up in tables over it)."""
        return self.cached(("span", table, spec),  # type: ignore[return-value]
                           lambda: DaySpan.of(self.column(table, spec).values, self.jit))

    def months(self, table: str, spec: ColumnSpec) -> np.ndarray:
        """Months since 1970-01 of a date column's values (:data:`NO_MONTH` for NaT), once per
        batch."""
        return self.cached(("month numbers", table, spec), lambda: month_numbers(
            self.column(table, spec).values, NO_MONTH, self.span(table, spec)))

    def missing(self, table: str, spec: ColumnSpec) -> np.ndarray:
        """Where a date column is NaT, once per batch (read only)."""
        return self.cached(("missing", table, spec),
                           lambda: np.isnat(self.column(table, spec).values))

    def cached(self, key: Any, make: Callable[[], np.ndarray]) -> np.ndarray:
        """``make()``, computed once per batch for equal keys (IR nodes are hashable)."""
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]


@attrs.frozen(eq=False)
class Verdicts:
    """Per-record outcome of one measure over one batch (arrays of the table's length).

    ``status``: MET / FAILED / PENDING / EXCLUDED / OUTSIDE; ``month``: index into the evaluation's
    month axis (-1 where the record has none); ``deadline``: NaT where none applies;
    ``numerator`` / ``denominator``: per-record amounts (for ratio measures the summed columns);
    ``exclusions``: (check name, mask) for every data-quality check that excluded records.
    ``cohort``: for measures against a cohort profile, the month index of each record's cohort.
    ``backlog``: for backlog measures, the first month index each record is (counted as) in
    backlog at the month end, and the first it is no longer (-1: never / beyond the axis).
    ``second``: for count ratios, the month index each record's numerator counts in (-1: none).
    ``extra``: [records, E] integers summed per group and month beside the counts: a looked-up
    target's rates (in millionths), or one-hot lateness buckets.
    ``counted``: the (group, month slot, verdict) grid of the one group level the evaluation
    asked for (``MeasurePlan.verdicts``' ``cells``), counted in the verdicts' pass; ``status``,
    ``month``, ``deadline`` and ``numerator`` are then empty, not per record. Verdicts made
    without ``records`` have ``deadline`` and ``numerator`` empty where a compiled pass made
    them (only the audit reads them). ``coded``: a count against cohorts counted in its
    verdicts' pass over the table's finest group code (``cells`` of (each record's code, the
    code space)): (whether a placed record has each code + 1, dense [(codes + 1) x months,
    C_WIDTH] counts, the cohort triangles, every record's count per verdict code) as
    ``evaluate._cells_of_codes`` and ``_totals`` count them; ``status``, ``month`` and
    ``cohort`` are then empty.
    """

    status: np.ndarray
    month: np.ndarray
    deadline: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    exclusions: tuple[tuple[str, np.ndarray], ...]
    cohort: np.ndarray | None = None
    backlog: tuple[np.ndarray, np.ndarray] | None = None
    anchor: np.ndarray | None = None
    rows: np.ndarray | None = None
    second: np.ndarray | None = None
    extra: np.ndarray | None = None
    counted: np.ndarray | None = None
    coded: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None


def join_ids(refs: pa.Array, ids: pa.Array, compiled: bool = False) -> np.ndarray:
    """Row of ``ids`` (a table's unique ids) holding each of ``refs``; -1 if null or unknown.

    Ids of one length in ascending order, as extracts often are, that differ only in their last
    eight bytes (a shared prefix before them) are looked up by binary search on those bytes as
    integers, the references sorted first: no hash of the ids. Other ids are hashed by Arrow."""
    found = _consecutive_join(refs, ids, compiled)
    if found is None:
        found = _sorted_join(refs, ids, compiled)
    if found is not None:
        return found
    rows = pc.index_in(refs, value_set=ids)
    return np.asarray(pc.fill_null(rows, -1).to_numpy(zero_copy_only=False), np.int64)


#: Ids (and references) read at a time by :func:`_consecutive_join`: its temporaries (a few
#: arrays of this many 8-byte keys) are reused block after block instead of being allocated
#: whole (glibc maps each block over 64 MiB on an evaluation thread afresh: every page
#: faulted in again, 70,000 faults per ESF evaluation at 10M referrals).
JOIN_BLOCK = 1 << 20


def _consecutive_join(refs: pa.Array, ids: pa.Array, compiled: bool = False
                      ) -> np.ndarray | None:
    """:func:`join_ids` for ids numbered in sequence, as extracts often are: one width, one
    prefix, their suffixes (the bytes after the prefix as a big-endian integer, or the number
    their digits write) first, first + 1, ... in row order, so that a reference's row is its
    suffix less the first's. Whether they are is read from the first and last id, then
    checked over every id; both sides are read in blocks of :data:`JOIN_BLOCK`. None where
    the ids are not so (:func:`_sorted_join` then)."""
    if not _byte_joinable(refs, ids):
        return None
    starts, data = _string_parts(ids)
    n = len(ids)
    width = int(starts[1] - starts[0])
    if int(starts[n] - starts[n - 1]) != width or width == 0:
        return None
    ends = np.stack([data[starts[0]:starts[0] + width], data[starts[n - 1]:starts[n]]])
    shared = int(np.argmax(np.append(ends[0] != ends[1], True)))  # their common prefix
    if width - shared > 8:
        return None
    prefix = ends[0, :shared]
    raw = _suffix_keys(ends, prefix)[0]
    decimal = int(raw[1]) - int(raw[0]) + 1 != n
    if decimal:
        ends_dec, digits = _decimal(raw, width - shared)
        if not digits or int(ends_dec[1]) - int(ends_dec[0]) + 1 != n:
            return None
        first = ends_dec[0]
    else:
        first = raw[0]

    def suffixes(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys, same = _suffix_keys(table, prefix)
        return (_decimal(keys, width - shared, compiled)[0] if decimal else keys), same
    last = None  # strictly ascending from the first to the last: each the one before + 1
    for lo in range(0, n, JOIN_BLOCK):
        rows, table = _fixed_width(ids.slice(lo, JOIN_BLOCK), width)
        if rows is not None:
            return None
        keys, same = suffixes(table)
        if not same.all() or (keys[1:] <= keys[:-1]).any() or \
                (last is not None and keys[0] <= last):
            return None  # (a key that is not digits is the largest: never below the last)
        last = keys[-1]
    out = np.empty(len(refs), dtype=np.int64)
    for lo in range(0, len(refs), JOIN_BLOCK):
        block = refs.slice(lo, JOIN_BLOCK)
        rows, table = _fixed_width(block, width)
        wanted, same = suffixes(table)
        wanted -= first  # uint64: a suffix below the first wraps round beyond the ids
        out[lo:lo + len(block)] = _rows_found(len(block), rows, wanted.view(np.int64),
                                              same & (wanted < np.uint64(n)))
    return out


def _byte_joinable(refs: pa.Array, ids: pa.Array) -> bool:
    """Whether references and ids are Arrow string arrays whose bytes the joins without a hash
    read (:func:`_consecutive_join`, :func:`_sorted_join`): some ids, none null."""
    return isinstance(ids, pa.Array) and isinstance(refs, pa.Array) and \
        ids.type == pa.string() and refs.type == pa.string() and len(ids) > 0 and \
        not ids.null_count


def _fixed_width(values: pa.Array, width: int) -> tuple[np.ndarray | None, np.ndarray]:
    """(the rows of an Arrow string array that are given and ``width`` bytes long, None where
    every row is; their bytes, [rows, width]: read in place where every row is)."""
    at, data = _string_parts(values)
    ok = np.diff(at) == width
    if values.null_count:
        ok &= np.asarray(values.is_valid())
    if ok.all():
        return None, data[at[0]:at[-1]].reshape(len(values), width)
    rows = np.flatnonzero(ok)
    return rows, data[at[rows][:, None] + np.arange(width)]


def _rows_found(n: int, rows: np.ndarray | None, pos: np.ndarray, hit: np.ndarray
                ) -> np.ndarray:
    """Each of ``n`` references' row of the ids (-1: none) from the rows ``pos`` found for the
    references read (``rows`` of :func:`_fixed_width`, None: every one), where they ``hit``."""
    if rows is None:  # pos is a fresh array of every reference's row
        pos[~hit] = -1
        return pos
    out = np.full(n, -1, dtype=np.int64)
    out[rows[hit]] = pos[hit]
    return out


def _sorted_join(refs: pa.Array, ids: pa.Array, compiled: bool = False) -> np.ndarray | None:
    """:func:`join_ids` by binary search (or a table over the ids' range), None where the ids
    do not allow it; ``compiled``: the table by the loops of :mod:`pmir_dsl.kernels_esf`."""
    if not _byte_joinable(refs, ids):
        return None
    starts, _ = _string_parts(ids)
    width = int(starts[1] - starts[0])
    rows, table = _fixed_width(ids, width)
    if rows is not None:
        return None
    shared = int(np.argmax(np.append(table[0] != table[-1], True)))  # their common prefix
    if width - shared > 8:
        return None
    keys, same = _suffix_keys(table, table[0, :shared])
    if not same.all() or (keys[1:] <= keys[:-1]).any():
        return None  # not one prefix, or not strictly ascending: hash them
    rows, looked = _fixed_width(refs, width)
    wanted, same = _suffix_keys(looked, table[0, :shared])
    pos = _dense_positions(keys, wanted, width - shared, compiled)
    if pos is None:
        order = np.argsort(wanted)
        pos = np.empty(len(wanted), dtype=np.int64)
        pos[order] = np.searchsorted(keys, wanted[order])
        pos = np.minimum(pos, len(keys) - 1)
        hit = same & (keys[pos] == wanted)
    else:
        hit = same & (pos >= 0)
    return _rows_found(len(refs), rows, pos, hit)


#: Ids whose integer keys span at most this many times their number are looked up in a table.
DENSE_SPAN = 4


def _dense_positions(keys: np.ndarray, wanted: np.ndarray, width: int, compiled: bool = False
                     ) -> np.ndarray | None:
    """Each of ``wanted``'s position in ``keys`` (strictly ascending uint64 keys of ``width``
    bytes; -1: not there) read from a table over the keys' range, when that range is at most
    :data:`DENSE_SPAN` times the keys: one gather instead of sorting the references. Keys that
    are decimal digits (ids numbered in sequence) are ranged by their numbers. None where the
    range is wider. ``compiled``: by the loops of :mod:`pmir_dsl.kernels_esf`."""
    if not _narrow(keys):
        keys, digits = _decimal(keys, width, compiled)
        if not digits or not _narrow(keys):
            return None
        wanted = _decimal(wanted, width, compiled)[0]  # not digits: beyond the range
    span = int(keys[-1] - keys[0]) + 1
    consecutive = span == len(keys)  # (ascending) a key's position is its offset: no table
    pos = np.empty(len(wanted), dtype=np.int64)
    if compiled:
        kernels_esf.dense_positions(keys, wanted, np.empty(0 if consecutive else span,
                                                           dtype=np.int64), pos)
        return pos
    offset = wanted - keys[0]  # uint64: a key below the first wraps round to beyond the span
    inside = offset < np.uint64(span)
    pos.fill(-1)
    if consecutive:
        pos[inside] = offset[inside]
        return pos
    lookup = np.full(span, -1, dtype=np.int64)
    lookup[keys - keys[0]] = np.arange(len(keys))
    pos[inside] = lookup[offset[inside]]
    return pos


def _narrow(keys: np.ndarray) -> bool:
    return int(keys[-1] - keys[0]) < DENSE_SPAN * len(keys) + 1024


_BYTES = [np.uint64(v) for v in (0x8080808080808080, 0x3030303030303030, 0x4646464646464646)]
#: Per step of the decimal reading: the shift, the mask of each lane's low half, its weight.
_LANES = [(np.uint64(s), np.uint64(m), np.uint64(w)) for s, m, w in (
    (8, 0x00FF00FF00FF00FF, 10), (16, 0x0000FFFF0000FFFF, 100), (32, 0xFFFFFFFF, 10000))]


def _decimal(keys: np.ndarray, width: int, compiled: bool = False) -> tuple[np.ndarray, bool]:
    """The numbers written by big-endian keys of ``width`` (<= 8) ASCII bytes (the largest
    uint64 where a byte is not a digit: beyond any range), and whether every key is digits.
    Eight bytes at once, in place: the digits' values, then pairs, fours and the eight
    combined (the order of the strings is the order of the numbers). ``compiled``: in one
    pass, by :func:`pmir_dsl.kernels_esf.decimal_keys`."""
    high, zero, over = _BYTES
    pad = zero & ~np.uint64((1 << (8 * width)) - 1) if width < 8 else np.uint64(0)
    if compiled:
        out = np.empty(len(keys), dtype=np.uint64)
        return out, kernels_esf.decimal_keys(keys, pad, out) == 0
    v = keys | pad  # the bytes before the key's own as '0'
    t = v + over  # no byte below '0' or above '9': in place, two arrays of the keys' length
    t |= v
    v -= zero
    t |= v
    t &= high
    bad = t != 0
    for shift, low, weight in _LANES:
        np.right_shift(v, shift, out=t)
        t &= low
        t *= weight
        v &= low
        v += t
    v[bad] = np.iinfo(np.uint64).max
    return v, not bad.any()


def _string_parts(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(start offsets of each string and the end of the last, int32, read in place; the bytes)
    of an Arrow string array."""
    starts = np.frombuffer(values.buffers()[1], np.int32)[values.offset:
                                                         values.offset + len(values) + 1]
    data = values.buffers()[2]
    return starts, np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)


def _suffix_keys(table: np.ndarray, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes after ``prefix`` of each row of ``table`` (strings of one width, at most 8
    bytes after the prefix) as big-endian integers, so in the strings' order; and whether
    each row starts with ``prefix``."""
    n, width = table.shape
    if width >= 8 and table.flags.c_contiguous and n:  # the last 8 bytes of each row at once
        keys = np.ndarray((n,), ">u8", table, width - 8, (width,)).astype(np.uint64)
        if width - len(prefix) < 8:
            keys &= np.uint64((1 << (8 * (width - len(prefix)))) - 1)
    else:
        keys = np.zeros(n, dtype=np.uint64)
        for j in range(len(prefix), width):
            keys <<= np.uint64(8)
            keys |= table[:, j]
    return keys, (table[:, :len(prefix)] == prefix).all(axis=1)


def unprofiled_starts(m: ir.Measure, b: Batch) -> np.ndarray:
    """Whether no profile covers each row of the starts table ``m``'s cohorts link to, with a
    False appended for the row -1 (a start not joined: in no triangle): made once per
    evaluation for every chunk (``b.whole_cached``; ``pipeline._shared_ahead`` makes it ahead
    of the chunks), not per chunk (a copy of the whole starts' table)."""
    from .profiles import without_profile  # profiles imports this module

    return b.whole_cached(("without profile", m.id),
                          lambda: np.append(without_profile(m, b), False))


#: What the compiled pass of a measure against cohorts reads of its starts: (each start packed
#: by :func:`~pmir_dsl.kernels_esf.cohort_starts`, the first day of the starts' span, the
#: cohort month index of each packed day offset, whether each key combination has no profile).
PackedStarts = tuple[np.ndarray, int, np.ndarray, np.ndarray]


def packed_starts(m: ir.Measure, b: Batch) -> PackedStarts | None:
    """:data:`PackedStarts` of the whole cohort table of ``m``, made once per evaluation
    (``b.whole_cached``; ``pipeline._shared_ahead`` makes them ahead of the chunks), the
    packed starts shared by every measure against them. None where they do not pack (dates
    that are not date columns, too many key combinations, starts spanning too many days)."""
    from .profiles import lost_keys  # profiles imports this module

    e = m.expected
    assert isinstance(e, ir.ExpectedCohort)
    packed = b.whole_cached(("packed starts", e.table, e.start, e.anchor, e.keys),
                            lambda: _packed_starts(e, b))
    if packed is None:
        return None
    return (*packed, b.whole_cached(("lost keys", m.id), lambda: lost_keys(m, b)))


def _linked_starts(m: ir.Measure, b: Batch) -> tuple[np.ndarray | None, ...] | None:
    """What :func:`~pmir_dsl.kernels_esf.cohort_verdicts` reads of each record's start, read
    through ``m``'s cohort link once per batch for every measure against the same starts:
    (the references' rows, None where a measure before read the starts; the packed starts;
    each record's start, to be read by the pass given the rows) then the rest of
    :data:`PackedStarts`. None where the starts do not pack."""
    e = m.expected
    found = packed_starts(m, b)
    if found is None:
        return None
    assert isinstance(e, ir.ExpectedCohort) and e.link is not None
    packed, *rest = found
    key = ("packed starts", e.table, e.start, e.anchor, e.keys, m.table, e.link.name)
    if key in b.memo:
        return (None, packed, b.memo[key], *rest)
    starts = b.memo[key] = np.empty(b.tables[m.table].rows, dtype=np.uint32)
    return (b.join(m.table, e.link.name), packed, starts, *rest)


def _packed_starts(e: ir.ExpectedCohort, b: Batch) -> tuple[np.ndarray, int, np.ndarray] | None:
    """The first three of :data:`PackedStarts` for the whole cohort table (an entry more for
    a reference not joined; the cohort month index -1 for no start, first, and where the
    month is before the service start), None where its starts do not pack."""
    from .profiles import key_codes  # profiles imports this module

    table = b.referenced(e.table)
    dates = [e.start] if e.anchor is None else [e.start, e.anchor]
    codes = key_codes(e, table)
    if codes is None or any(d.type is not ColumnType.DATE for d in dates):
        return None
    start, *anchor = (np.ascontiguousarray(table.columns[d.name].values).view(np.int64)
                      for d in dates)
    packed = np.empty(table.rows + 1, dtype=np.uint32)
    first, size = kernels_esf.cohort_starts(start, anchor[0] if anchor else None, *codes,
                                            packed)
    if size < 0:
        return None
    months = np.arange(first, first + size).astype("datetime64[D]").astype("datetime64[M]")
    cohort = months.astype(np.int64) - b.first_month
    return packed, int(first), np.concatenate([[-1], np.where(cohort < 0, -1, cohort)]
                                              ).astype(np.int32)


def gather(col: Column, rows: np.ndarray) -> Column:
    """``col`` taken at ``rows`` (-1: null), in the same representation."""
    ok = rows >= 0
    everywhere = bool(ok.all())  # every reference found: no row to blank
    safe = rows if everywhere else np.where(ok, rows, 0)
    t = col.spec.type
    if t in (ColumnType.ID, ColumnType.REF):
        values = col.values.take(pa.array(safe)).to_numpy(zero_copy_only=False)
        return Column(col.spec, pa.array(np.where(ok, values, None), pa.string()))
    values = col.values[safe] if len(col.values) else np.zeros(len(rows), col.values.dtype)
    if not everywhere and t in (ColumnType.DATE, ColumnType.TEXT, ColumnType.CATEGORY,
                                ColumnType.BOOL):  # a fresh array (taken): blanked in place
        values[~ok] = NAT if t is ColumnType.DATE else -1
    valid = ok if col.valid is None else ok & col.valid[safe]
    months = None if col.months is None else col.months[safe]
    return Column(col.spec, values, valid, col.dictionary, months)


# ---- conditions -----------------------------------------------------------------------------------

CondFn = Callable[[Batch, str], np.ndarray]


def compile_condition(c: ir.Condition) -> CondFn:
    """A function of (batch, table) returning the condition's boolean mask; null is false."""
    return CONDITIONS[type(c)](c)


def visit_IsTrue(c: ir.IsTrue) -> CondFn:  # noqa: N802
    return lambda b, t: b.column(t, c.column).values == 1


def visit_IsPresent(c: ir.IsPresent) -> CondFn:  # noqa: N802
    def run(b: Batch, t: str) -> np.ndarray:
        present = b.column(t, c.column).present()
        return present if c.present else ~present
    return run


def visit_InValues(c: ir.InValues) -> CondFn:  # noqa: N802
    def run(b: Batch, t: str) -> np.ndarray:
        col = b.column(t, c.column)
        hit = _member(col.values, _codes_of(col, c.values)) if col.spec.type is not \
            ColumnType.ID else np.isin(np.asarray(col.values.to_pylist(), dtype=object), c.values)
        return (hit ^ c.negate) & col.present()
    return run


def _member(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``np.isin(values, codes)``: one comparison where there is one code (isin sorts)."""
    return values == codes[0] if len(codes) == 1 else np.isin(values, codes)


def _codes_of(col: Column, values: tuple[str, ...]) -> np.ndarray:
    t = col.spec.type
    if t is ColumnType.BOOL:
        return np.array([1 if v == "true" else 0 for v in values])
    names = col.spec.categories if t is ColumnType.CATEGORY else col.dictionary
    return np.array([names.index(v) for v in values if v in names], dtype=np.int64)


COMPARE_OPS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "=": np.equal, "!=": np.not_equal,
}


def visit_Comparison(c: ir.Comparison) -> CondFn:  # noqa: N802
    scale = DECIMAL_SCALE if any(o.column is not None and o.column.type is ColumnType.DECIMAL
                                 for o in (c.left, c.right)) else 1

    def side(b: Batch, t: str, o: ir.Operand) -> tuple[np.ndarray, np.ndarray | bool]:
        if o.column is None:
            if isinstance(o.value, str):
                return np.datetime64(o.value, "D"), True
            return int(o.value) * scale, True  # a Python int: numpy compares it exactly
        col = b.column(t, o.column)
        if o.column.type is ColumnType.INTEGER and scale != 1:
            return _scaled(col.values, scale), col.present()
        return col.values, col.present()

    def run(b: Batch, t: str) -> np.ndarray:
        (lv, lp), (rv, rp) = side(b, t, c.left), side(b, t, c.right)
        return np.asarray(COMPARE_OPS[c.op](lv, rv) & lp & rp, dtype=bool)
    return run


def _scaled(values: np.ndarray, scale: int) -> np.ndarray:
    """Whole numbers in millionths, to compare with decimals: as Python ints (exact, slower)
    when some would not fit in an int64, so that a comparison never wraps round."""
    if values.size and int(np.abs(values).max()) > np.iinfo(np.int64).max // scale:
        return values.astype(object) * scale
    return values * scale


def visit_Not(c: ir.Not) -> CondFn:  # noqa: N802
    inner = compile_condition(c.item)
    return lambda b, t: ~inner(b, t)


def visit_AllOf(c: ir.AllOf) -> CondFn:  # noqa: N802
    parts = [compile_condition(i) for i in c.items]
    return lambda b, t: np.logical_and.reduce([p(b, t) for p in parts])


def visit_AnyOf(c: ir.AnyOf) -> CondFn:  # noqa: N802
    parts = [compile_condition(i) for i in c.items]
    return lambda b, t: np.logical_or.reduce([p(b, t) for p in parts])


CONDITIONS: dict[type, Callable[[Any], CondFn]] = {
    ir.IsTrue: visit_IsTrue, ir.IsPresent: visit_IsPresent, ir.InValues: visit_InValues,
    ir.Comparison: visit_Comparison, ir.Not: visit_Not, ir.AllOf: visit_AllOf,
    ir.AnyOf: visit_AnyOf,
}

# ---- periods ---------------------------------------------------------------------------------------


#: The month of a record with no date (months before 1970 are negative, so not -1).
NO_MONTH = np.iinfo(np.int64).min // 4


def record_months(b: Batch, table: str, spec: ColumnSpec, unit: str) -> np.ndarray:
    """Months since 1970-01 each record counts in (quarters: the quarter's first month);
    :data:`NO_MONTH` where the record has none."""
    col = b.column(table, spec)
    if spec.type is ColumnType.DATE:
        months = b.months(table, spec)
    else:
        months = np.where(col.present(), col.values.astype(np.int64), NO_MONTH)
    if unit == "quarter":
        months = np.where(months != NO_MONTH, months - months % 3, NO_MONTH)
    return months


# ---- measures --------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class MeasurePlan:
    """A measure compiled to column operations."""

    measure: ir.Measure
    scope: CondFn | None
    condition: CondFn | None
    #: The key columns of every group level of the measures of its table, in the order the
    #: contract's measures first name them: the columns of the table's finest group code, that
    #: every level's counts are summed from (:func:`pmir_dsl.evaluate.finest_code`).
    finest: tuple[ColumnSpec, ...] = ()

    @property
    def table(self) -> str:
        """The population table's name."""
        return self.measure.table

    @property
    def counts_in_pass(self) -> bool:
        """Whether the compiled pass of this measure's verdicts can count them into a group
        level's grid (:meth:`verdicts`' ``cells``)."""
        return _fusable(self.measure) or _countable(self.measure)

    def verdicts(self, b: Batch, records: bool = True,
                 cells: tuple[np.ndarray, int] | None = None) -> Verdicts:
        """Every record's verdict for this measure over the batch.

        ``records``: every per-record field is wanted (the audit's); the evaluation's counts
        read only the verdict codes, months and exclusions. ``cells``: (each record's group
        base, grid size) of the one group level the evaluation counts, counted in the compiled
        pass where it serves (``Verdicts.counted``; records not wanted); for a count against
        cohorts, (each record's finest group code, the code space) (``Verdicts.coded``)."""
        m = self.measure
        n = b.tables[m.table].rows
        in_pop = self.scope(b, m.table) if self.scope else np.ones(n, dtype=bool)
        if m.kind == "count_ratio":  # counted once it has either date
            assert m.ratio is not None
            in_pop = in_pop & (b.column(m.table, m.ratio[0]).present() |
                               b.column(m.table, m.ratio[1]).present())
        def months() -> np.ndarray:  # only where no lookup over the dates' span serves
            return b.cached(("months", m.table, m.period_column, m.period_unit),
                            lambda: record_months(b, m.table, m.period_column, m.period_unit))
        excl = Exclusions(in_pop)
        self._joins(b, excl)
        unjoined = excl.any.copy() if excl.checks else None  # no group to count them in
        self._place(b, months, excl)
        for later, earlier in m.orders:  # 'LATER not before EARLIER' (semantics.md 1)
            excl.add(f"{later.name} before {earlier.name}",
                     b.column(m.table, later).values < b.column(m.table, earlier).values)
        if b.jit and fusable_cohort(m):  # one compiled pass over starts packed ahead
            fast = self._cohort_verdicts(b, months, excl, unjoined, records, cells)
            if fast is not None:
                return fast
        cohort = self._cohort(b, months(), excl) if isinstance(m.expected, ir.ExpectedCohort) \
            else None
        fused = self._rate_tables(b) if b.jit and _fusable(m) else None
        if fused is not None:  # one compiled pass: deadlines, exclusions, the verdict codes
            return self._fused_verdicts(b, months, excl, unjoined, fused, cohort, records,
                                        cells)
        breach = self._breach_tables(b) if b.jit and fusable_breach(m) else None
        if breach is not None:  # one compiled pass: exclusion, verdict codes, months
            status, deadline, month_idx, coded = self._breach_verdicts(
                b, self._placed(b, months, excl, unjoined), excl, breach, records, cells)
            return Verdicts(status, month_idx, deadline, np.broadcast_to(np.True_, (n,)),
                            np.broadcast_to(np.int64(1), (n,)), tuple(excl.checks), cohort,
                            coded=coded)
        if cells is not None and not records and unjoined is None and cohort is None and \
                b.jit and _countable(m):  # counted in one compiled pass, no codes made
            return self._condition_counts(b, months, excl, cells)
        met, pending, deadline = self._decide(b, excl)
        num, den = self._amounts(b, met, excl)
        if m.kind == "average" and m.count_of is not None:
            met, pending, num, den = self._average_count(b, months())
        elif m.kind == "average":
            met, pending, num, den = self._average(b, excl)
        month_idx = self._placed(b, months, excl, unjoined)
        backlog, anchor = None, None
        if m.backlog is not None and m.backlog.breach:
            met, pending, deadline, month_idx = self._breach(b, month_idx, excl)
        elif m.backlog is not None:
            anchor = b.column(m.table, m.period_column).values
            if b.jit and _fusable_backlog(m) and \
                    b.span(m.table, m.backlog.until).at.dtype == np.int32:  # one compiled pass
                backlog, status = self._backlog_verdicts(b, month_idx, excl)
                return Verdicts(status, month_idx, deadline, num, den, tuple(excl.checks),
                                cohort, backlog, anchor)
            backlog = self._backlog(b, month_idx, excl)
            met = ~((backlog[0] >= 0) & (backlog[1] < 0))  # failed: in backlog at the as-of date
        second, extra = None, None
        if m.kind == "count_ratio":
            met, second, extra = self._count_ratio(b, month_idx, excl)
        elif m.buckets is not None:
            extra = self._buckets(b, met, deadline)
        status = (~np.asarray(met, dtype=bool)).view(np.int8)  # MET 0, FAILED 1
        np.putmask(status, pending, PENDING)
        if excl.checks:
            np.putmask(status, excl.any, EXCLUDED)
        if not excl.everyone:
            np.putmask(status, ~in_pop, OUTSIDE)
        if second is not None:
            second = np.where(status == MET, second, -1)
        v = Verdicts(status, month_idx, deadline, num, den, tuple(excl.checks), cohort, backlog,
                     anchor, None, second, extra)
        return self._each_month(b, v) if m.each_month_until is not None else v

    def _placed(self, b: Batch, months: Callable[[], np.ndarray], excl: Exclusions,
                unjoined: np.ndarray | None) -> np.ndarray:
        """Each record's index on the month axis, -1 where it has none or is not placed (out of
        the population, or its reference not joined)."""
        m = self.measure
        month_idx = b.cached(("month index", m.table, m.period_column, m.period_unit),
                             lambda: self._month_index(b, months))
        if not excl.everyone or unjoined is not None:  # placed: in the population and joined
            placed = excl.in_pop if unjoined is None else excl.in_pop & ~unjoined
            month_idx = np.where(placed, month_idx, -1)
        return month_idx

    def _condition_counts(self, b: Batch, months: Callable[[], np.ndarray], excl: Exclusions,
                          cells: tuple[np.ndarray, int]) -> Verdicts:
        """The verdicts of a measure met where its condition holds (:func:`_countable`)
        counted into ``cells``' grid by one compiled pass
        (:func:`~pmir_dsl.kernels_eval.condition_cells`), as the numpy path's codes and placed
        months count: no per-record codes, months or deadlines made."""
        m = self.measure
        month = b.cached(("month index", m.table, m.period_column, m.period_unit),
                         lambda: self._month_index(b, months))
        cond = None if self.condition is None else \
            np.ascontiguousarray(self.condition(b, m.table), dtype=np.bool_)
        grid = np.zeros(cells[1], dtype=np.int64)
        kernels_eval.condition_cells(cond, *excl.loop_masks(),
                                     kernels_eval.as_index(month),
                                     kernels_eval.as_index(cells[0]),
                                     grid)
        met = np.zeros(0, dtype=bool)
        return Verdicts(np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.int64),
                        np.zeros(0, dtype="datetime64[D]"), met, met, tuple(excl.checks),
                        counted=grid)

    def _rate_tables(self, b: Batch) -> tuple[Any, ...] | None:
        """What :func:`~pmir_dsl.kernels_eval.rate_verdicts` reads of a 'within N days'
        measure's deadlines: (anchor span offsets, the deadline table over the span, the span's
        size, category codes (None: the same days for every record), each code's row, whether
        each code has days, the span's first day); None where the table would be larger than
        the batch (the numpy path then)."""
        w = _deadline_window(self.measure)
        assert isinstance(w, ir.WithinDays)
        t = self.measure.table
        span = b.span(t, w.anchor)
        if isinstance(w.days, int):
            each, given = [w.days], [True]
            cat = None  # one row for every record
        else:
            given = [d is not None and d >= 0 for d in w.days.days]
            each = [d if ok else 0 for d, ok in zip(w.days.days, given)] + [0]  # type: ignore[misc]
            given.append(True)  # a missing code (-1) reads the last entry
            cat = np.ascontiguousarray(b.column(t, w.days.column).values, dtype=np.int32)
        values = sorted(set(each))
        if span.size * len(values) > max(b.tables[t].rows, 1 << 16) or \
                span.at.dtype != np.int32:
            return None
        step = working_step(b.cal) if w.working else add_months if w.months else _plus_days
        table = b.cached(("deadline table", t, w.anchor, tuple(values), w.working, w.months),
                         lambda: span_table(span, values, step))
        row = np.array([values.index(v) for v in each], dtype=np.int64)
        return (span.at, table, span.size, cat, row, np.array(given, dtype=np.bool_),
                span.first)

    def _fused_verdicts(self, b: Batch, months: Callable[[], np.ndarray], excl: Exclusions,
                        unjoined: np.ndarray | None, fused: tuple[Any, ...],
                        cohort: np.ndarray | None, records: bool,
                        cells: tuple[np.ndarray, int] | None) -> Verdicts:
        """A 'within N days' measure's verdicts by one compiled pass; counted into ``cells``'
        grid there where records are not wanted and every placed record is in the population
        (no reference left unjoined)."""
        m = self.measure
        if cells is not None and not records and unjoined is None and cohort is None:
            month = b.cached(("month index", m.table, m.period_column, m.period_unit),
                             lambda: self._month_index(b, months))
            grid = np.zeros(cells[1], dtype=np.int64)
            status, met, deadline = self._rate_verdicts(
                b, excl, fused, False, (kernels_eval.as_index(month),
                                        kernels_eval.as_index(cells[0]), grid))
            return Verdicts(status, np.zeros(0, dtype=np.int64), deadline, met, met,
                            tuple(excl.checks), counted=grid)
        status, met, deadline = self._rate_verdicts(b, excl, fused, records)
        month_idx = self._placed(b, months, excl, unjoined)
        return Verdicts(status, month_idx, deadline, met,
                        np.broadcast_to(np.int64(1), met.shape), tuple(excl.checks), cohort)

    def _rate_verdicts(self, b: Batch, excl: Exclusions, fused: tuple[Any, ...],
                       records: bool = True, count: tuple[np.ndarray, ...] | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(status, met, deadline) of a 'within N days' measure, or of a condition 'due when'
        (:meth:`_decide`), by one compiled pass: the exclusions of :func:`deadline_within`
        added to ``excl`` in its order. Without ``records`` met and deadline are not made
        (empty); ``count``: (month index, group base, grid) to count the verdicts into, status
        then not made either."""
        m = self.measure
        w = _deadline_window(m)
        assert isinstance(w, ir.WithinDays)
        t = m.table
        n = b.tables[t].rows
        event = np.ascontiguousarray(b.column(t, w.event).values).view(np.int64)
        cond = None if m.window is not None else np.ones(n, dtype=np.bool_) \
            if self.condition is None else \
            np.ascontiguousarray(self.condition(b, t), dtype=np.bool_)
        in_pop, prior = excl.loop_masks()
        status = None if count else np.empty(n, dtype=np.int8)
        met = np.empty(n, dtype=np.bool_) if records else None
        deadline = np.empty(n, dtype=np.int64) if records else None
        reason, hits = np.empty(n, dtype=np.int8), np.zeros(5, dtype=np.int64)
        kernels_eval.rate_verdicts(*fused, event, cond, in_pop, prior,
                                   int(b.as_of.astype(np.int64)), status, met, deadline,
                                   reason, hits, *(count or (None, None, None)))
        days = w.days.column.name if isinstance(w.days, ir.DaysByCategory) else ""
        names = ("", f"{w.anchor.name} missing", f"{days} missing", f"{days} has no days given",
                 f"{w.event.name} before {w.anchor.name}")
        for r in np.flatnonzero(hits):
            excl.found(names[r], reason == r)
        return (_made(status, np.int8), _made(met, np.bool_),
                _made(deadline, np.int64).view("datetime64[D]"))

    def _month_index(self, b: Batch, months: Callable[[], np.ndarray]) -> np.ndarray:
        """Each record's index on the month axis, -1 where its month is off the axis (no
        period, before the service start, after the as-of month): the same for every measure
        of the table counted by the same column, so computed once per batch (read only)."""
        m = self.measure
        coded = self._place_codes(b) if b.jit else None
        if coded is not None:
            return coded[0]
        if m.period_column.type is ColumnType.DATE and m.period_unit == "month":
            span = b.span(m.table, m.period_column)  # a table over the span of its dates
            if span.size <= max(b.tables[m.table].rows, 1):
                every = span.days().astype("datetime64[M]").astype(np.int64)
                return np.append(_axis_index(b, every, "month"), -1)[span.at]
        return _axis_index(b, months(), m.period_unit)

    def _each_month(self, b: Batch, v: Verdicts) -> Verdicts:
        """One entry per record and month it runs, failed in the months a gap was overdue."""
        m = self.measure
        w = m.window
        assert isinstance(w, ir.EveryNDays) and m.each_month_until is not None
        start = b.column(m.table, w.start).values
        until = b.column(m.table, m.each_month_until).values
        end = np.where(np.isnat(until) | (until > b.as_of), b.as_of, until)
        first = v.month
        last = np.minimum(end.astype("datetime64[M]").astype(np.int64) - b.first_month,
                          b.last_month - b.first_month)
        runs = (first >= 0) & (v.status != EXCLUDED) & (v.status != OUTSIDE) & (last >= first)
        rows = np.flatnonzero(runs)
        lengths = last[rows] - first[rows] + 1
        each = np.repeat(rows, lengths)
        month = first[each] + np.arange(len(each)) - np.repeat(np.cumsum(lengths) - lengths,
                                                                 lengths)
        size = b.last_month - b.first_month + 1
        late = overdue_months(b, self.table, w, start, end)
        late[:, 1] -= b.first_month
        late = late[(late[:, 1] >= 0) & (late[:, 1] < size)]  # no aliasing onto the next record
        failed = np.isin(each * size + month, late[:, 0] * size + late[:, 1])
        status = np.where(failed, FAILED, MET).astype(np.int8)
        others = np.flatnonzero(~runs)  # excluded or outside: one entry each, in its own month
        return attrs.evolve(v, status=np.concatenate([status, v.status[others]]),
                            month=np.concatenate([month, v.month[others]]),
                            rows=np.concatenate([each, others]),
                            deadline=np.full(len(each) + len(others), NAT),
                            numerator=np.concatenate([~failed, np.zeros(len(others), bool)]),
                            denominator=np.ones(len(each) + len(others), dtype=np.int64))

    def _count_ratio(self, b: Batch, month_idx: np.ndarray, excl: Exclusions
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(met, numerator month index, rates) of 'ratio count of A over count of B'.

        A record counts in the denominator in B's month and, once A has happened (by the as-of
        date), in the numerator in A's month: met when it has A, failed while it has not.
        """
        m = self.measure
        assert m.ratio is not None
        num = b.column(m.table, m.ratio[0]).values
        den = b.column(m.table, m.ratio[1]).values
        excl.add(f"{m.ratio[0].name} before {m.ratio[1].name}", num < den)
        met = ~np.isnat(num) & (num <= b.as_of)
        idx = num.astype("datetime64[M]").astype(np.int64) - b.first_month
        size = b.last_month - b.first_month + 1
        second = np.where(met & (idx >= 0) & (idx < size), idx, -1)
        rates = None
        if m.target.lookup is not None:
            rates, missing = lookup_rates(m.target.lookup, b, m.table)
            excl.add(f"no {m.target.lookup.value.name} in {m.target.lookup.table} for its "
                     f"{', '.join(k.name for k, _ in m.target.lookup.keys)} and month of "
                     f"{m.target.lookup.date.name}", missing & ~np.isnat(den))
            rates = rates.reshape(-1, 1)
        return met, second, rates

    def _buckets(self, b: Batch, met: np.ndarray, deadline: np.ndarray) -> np.ndarray:
        """One-hot lateness buckets: late up to each bound, later, or outstanding (no event)."""
        m = self.measure
        assert m.buckets is not None and isinstance(m.window, ir.WithinDays)
        anchor = b.column(m.table, m.window.anchor).values
        event = b.column(m.table, m.window.event).values
        bounds = [workday(anchor, n, b.cal) if m.buckets.working else add_months(anchor, n)
                  if m.buckets.months else anchor + np.timedelta64(n, "D")
                  for n in m.buckets.bounds]
        has = ~np.isnat(event)
        late = has & ~met
        out = np.zeros((len(met), len(bounds) + 2), dtype=np.int64)
        placed = np.zeros(len(met), dtype=bool)
        for j, limit in enumerate(bounds):
            hit = late & ~placed & (event <= limit)
            out[hit, j] = 1
            placed |= hit
        out[late & ~placed, len(bounds)] = 1
        out[~has, len(bounds) + 1] = 1
        return out

    def _joins(self, b: Batch, excl: Exclusions) -> None:
        """Exclude records whose reference to another table is missing or unknown."""
        m = self.measure
        for ref in references(m):
            missing, unknown = b.cached(  # type: ignore[misc]
                ("unjoined", m.table, ref), lambda ref=ref: _unjoined(b, m.table, ref))
            if missing is not None:
                excl.add(f"{ref} missing", missing)
            target = b.tables[m.table].columns[ref].spec.references
            excl.add(f"{ref} not found in {target}", unknown)

    def _cohort(self, b: Batch, months: np.ndarray, excl: Exclusions) -> np.ndarray | None:
        """Each record's cohort (month index of its start) for a measure against cohorts."""
        e = self.measure.expected
        if not isinstance(e, ir.ExpectedCohort):
            return None
        own = e.link is None  # the records are the starts themselves (a participant's JO)
        if own and e.table != self.measure.table:
            return None

        def spec_of(spec: ColumnSpec) -> ColumnSpec:
            return spec if own else attrs.evolve(spec, via=e.link.name)  # type: ignore[union-attr]

        start = b.column(self.measure.table, spec_of(e.start)).values
        if e.anchor is not None:  # a start before its anchor is no start (semantics.md 1)
            start = np.where(start < b.column(self.measure.table, spec_of(e.anchor)).values,
                             NAT, start)
            month = month_numbers(start, NO_MONTH)
        else:  # looked up over the dates' span, once per batch for every measure of the starts
            month = b.months(self.measure.table, spec_of(e.start))
        event = b.column(self.measure.table, self.measure.period_column).values
        excl.add(f"no {e.start.name} in {e.table}", np.isnat(start))
        if self.measure.period_column.type is ColumnType.DATE:
            excl.add(f"{self.measure.period_column.name} before {e.start.name}", event < start)
        cohort = month - b.first_month  # NaT (NO_MONTH): -1 below
        from .profiles import own_without_profile  # profiles imports this module
        if own:
            lost = b.cached(("own without profile", self.measure.id),
                            lambda: own_without_profile(self.measure, b))
        else:
            lost = unprofiled_starts(self.measure, b)[
                b.join(self.measure.table, e.link.name)]  # type: ignore[union-attr]
        return np.where(np.isnat(start) | (cohort < 0) | lost, -1, cohort)

    def _cohort_verdicts(self, b: Batch, months: Callable[[], np.ndarray], excl: Exclusions,
                         unjoined: np.ndarray | None, records: bool,
                         cells: tuple[np.ndarray, int] | None = None) -> Verdicts | None:
        """The verdicts of a count against cohorts of another table (:func:`fusable_cohort`)
        by one compiled pass over each record's start read through its link, packed once per
        evaluation (:func:`packed_starts`, read by :func:`_linked_starts`): :meth:`_cohort`'s
        exclusions added to ``excl`` in its order, and its cohorts. None where the starts do
        not pack (the numpy path then). Without ``records`` the deadlines and amounts are not
        made (empty), and with ``cells`` (each record's finest group code, the code space)
        the verdicts are counted in the pass (``Verdicts.coded``), not written."""
        m = self.measure
        e = m.expected
        assert isinstance(e, ir.ExpectedCohort)
        found = _linked_starts(m, b)
        if found is None:
            return None
        t = m.table
        n = b.tables[t].rows
        month_idx = b.cached(("month index", t, m.period_column, m.period_unit),
                             lambda: self._month_index(b, months))
        in_pop, prior = excl.loop_masks()
        month_idx = kernels_eval.as_index(month_idx)
        counting = cells is not None and not records
        made = 0 if counting else n  # the per-record codes: not made where counted
        cohort, month = np.empty(made, dtype=np.int32), np.empty(made, dtype=month_idx.dtype)
        reason, status = np.empty(n, dtype=np.int8), np.empty(made, dtype=np.int8)
        hits = np.zeros(3, dtype=np.int64)
        size = b.last_month - b.first_month + 1
        coded = _coded_grids(cells[1], size, size) if counting else None  # type: ignore[index]
        kernels_esf.cohort_verdicts(
            *found, _day_numbers(b, t, m.period_column)[0], in_pop, prior, unjoined, month_idx,
            None if counting else cohort, reason, hits, None if counting else status,
            None if counting else month, np.ascontiguousarray(cells[0]) if counting else None,
            size, *(coded or (None,) * 4))
        names = ("", f"no {e.start.name} in {e.table}",
                 f"{m.period_column.name} before {e.start.name}")
        for r in np.flatnonzero(hits[1:]) + 1:
            excl.found(names[r], reason == r)
        deadline = np.full(n, NAT) if records else np.zeros(0, dtype="datetime64[D]")
        met = np.ones(n if records else 0, dtype=bool)  # every record counts
        return Verdicts(status, month, deadline, met, np.broadcast_to(np.int64(1), (n,)),
                        tuple(excl.checks), cohort, coded=coded)

    def _backlog(self, b: Batch, month_idx: np.ndarray, excl: Exclusions
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(first, end) month index of each record's time in backlog at month ends (-1: none).

        A record referred in month k is in backlog at the end of k and each later month until
        the month its ``until`` date falls in; the as-of month is judged at the as-of date.
        """
        spec = self.measure.backlog
        assert spec is not None
        size = b.last_month - b.first_month + 1
        until = b.column(self.measure.table, spec.until).values
        anchor = b.column(self.measure.table, self.measure.period_column).values
        excl.add(f"{spec.until.name} before {self.measure.period_column.name}", until < anchor)
        open_ = np.isnat(until) | (until > b.as_of)
        end = np.where(open_, size, b.months(self.measure.table, spec.until) - b.first_month)
        first = month_idx.copy()
        if spec.over_days is not None:
            first = np.maximum(first, self._over_from(b, anchor, spec, size))
        ok = (month_idx >= 0) & ~excl.any & (first < end)
        return np.where(ok, first, -1), np.where(ok & (end < size), end, -1)

    def _backlog_verdicts(self, b: Batch, month_idx: np.ndarray, excl: Exclusions
                          ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """:meth:`_backlog` and the verdict codes by one compiled pass."""
        spec = self.measure.backlog
        assert spec is not None
        t, period = self.measure.table, self.measure.period_column
        size = b.last_month - b.first_month + 1
        n = b.tables[t].rows
        span = b.span(t, spec.until)
        months = b.cached(("month index table", t, spec.until), lambda: np.append(
            span.days().astype("datetime64[M]").astype(np.int64) - b.first_month, -1))
        until, anchor = _day_numbers(b, t, spec.until, period)
        in_pop, prior = excl.loop_masks()
        month_idx = kernels_eval.as_index(month_idx)
        first, end = np.empty(n, dtype=month_idx.dtype), np.empty(n, dtype=month_idx.dtype)
        status, before = np.empty(n, dtype=np.int8), np.empty(n, dtype=np.bool_)
        found = kernels_eval.backlog_verdicts(
            month_idx, until,
            np.ascontiguousarray(span.at, dtype=np.int32), months, anchor, in_pop, prior,
            int(b.as_of.astype(np.int64)), size, first, end, status, before)
        if found:
            excl.found(f"{spec.until.name} before {period.name}", before)
        return (first, end), status

    def _breach(self, b: Batch, month_idx: np.ndarray, excl: Exclusions
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(met, pending, deadline, month index) of 'count breaches of backlog' (semantics 6a).

        A record breaches (failed: counted) when it is still in backlog at the end of its
        limit's last day, and that day ended before the as-of date; it is met when closed by
        then; pending otherwise. It counts in the month of the day after the limit (the as-of
        month where that is later: decided early, or still pending); an excluded record stays in
        the month of its date, as everywhere (decision 28).
        """
        spec = self.measure.backlog
        assert spec is not None and spec.over_days is not None
        until = b.column(self.measure.table, spec.until).values
        anchor = b.column(self.measure.table, self.measure.period_column).values
        excl.add(f"{spec.until.name} before {self.measure.period_column.name}", until < anchor)
        limit = workday(anchor, spec.over_days, b.cal) if spec.working else \
            anchor + np.timedelta64(spec.over_days, "D")
        closed = ~np.isnat(until) & (until <= limit) & (until <= b.as_of)
        breached = ~closed & (limit < b.as_of)
        after = month_numbers(limit + np.timedelta64(1, "D"), NAT.view(np.int64))  # as astype
        month = np.minimum(after, b.last_month) - b.first_month
        month_idx = np.where((month_idx >= 0) & ~excl.any, month, month_idx)  # excluded: own month
        return ~breached, ~closed & ~breached, limit, month_idx

    def _breach_tables(self, b: Batch) -> tuple[np.ndarray, np.ndarray] | None:
        """What :func:`~pmir_dsl.kernels_esf.breach_verdicts` reads of a breach count's
        limits, once per batch: (the last day of the limit of each date of the anchor's span,
        the month index that day counts in), each with a last entry for NaT; None where the
        span is longer than the batch (the numpy path then)."""
        spec = self.measure.backlog
        assert spec is not None and spec.over_days is not None
        t, period = self.measure.table, self.measure.period_column
        span = b.span(t, period)
        if span.size > max(b.tables[t].rows, 1):
            return None

        def make() -> tuple[np.ndarray, np.ndarray]:
            step = working_step(b.cal) if spec.working else _plus_days
            limits = span_table(span, [spec.over_days], step)  # type: ignore[list-item]
            after = month_numbers(limits[:-1].view("datetime64[D]") + np.timedelta64(1, "D"),
                                  NO_MONTH)
            month = np.append(np.minimum(after, b.last_month) - b.first_month, -1)
            return limits, month.astype(np.int64)
        return b.cached(("breach tables", t, period, spec.over_days, spec.working), make)

    def _breach_verdicts(self, b: Batch, month_idx: np.ndarray, excl: Exclusions,
                         tables: tuple[np.ndarray, np.ndarray], records: bool = True,
                         cells: tuple[np.ndarray, int] | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """(status, deadline, month index, ``Verdicts.coded``) of :meth:`_breach` by one
        compiled pass, its exclusion added to ``excl``; the deadlines (only the audit's) empty
        without ``records``, and with ``cells`` (each record's finest group code, the code
        space) the verdicts counted in the pass, status and months not made (empty)."""
        spec = self.measure.backlog
        assert spec is not None
        t, period = self.measure.table, self.measure.period_column
        n = b.tables[t].rows
        until, anchor = _day_numbers(b, t, spec.until, period)
        in_pop, prior = excl.loop_masks()
        month_idx = kernels_eval.as_index(month_idx)
        counting = cells is not None and not records
        made = 0 if counting else n  # the per-record codes: not made where counted
        status, before = np.empty(made, dtype=np.int8), np.empty(n, dtype=np.bool_)
        placed = np.empty(made, dtype=month_idx.dtype)
        deadline = np.empty(n, dtype=np.int64) if records else None
        size = b.last_month - b.first_month + 1
        coded = _coded_grids(cells[1], size, 0) if counting else None  # type: ignore[index]
        found = kernels_esf.breach_verdicts(
            month_idx, until, anchor,
            np.ascontiguousarray(b.span(t, period).at, dtype=np.int32), *tables, in_pop, prior,
            int(b.as_of.astype(np.int64)), None if counting else status,
            None if counting else placed, deadline, before,
            np.ascontiguousarray(cells[0]) if counting else None,  # type: ignore[index]
            size, *((coded[0], coded[1], coded[3]) if coded else (None,) * 3))
        if found:
            excl.found(f"{spec.until.name} before {period.name}", before)
        return status, _made(deadline, np.int64).view("datetime64[D]"), placed, coded

    def _average(self, b: Batch, excl: Exclusions
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(met, pending, days, ones) of 'average days from A to B'.

        A record counts (met) once B has happened by the as-of date, with the days from A to B:
        working days after A up to and including B (0 on the same day), or calendar days; it is
        pending while B is empty or after the as-of date.
        """
        m = self.measure
        assert m.ratio is not None
        a, e = (b.column(m.table, spec).values for spec in m.ratio)
        excl.add(f"{m.ratio[0].name} missing", np.isnat(a))
        excl.add(f"{m.ratio[1].name} before {m.ratio[0].name}", e < a)
        done = ~np.isnat(e) & ~np.isnat(a) & (e <= b.as_of) & (e >= a)
        safe_a, safe_e = np.where(done, a, b.as_of), np.where(done, e, b.as_of)
        one = np.timedelta64(1, "D")
        days = np.busday_count(safe_a + one, safe_e + one, busdaycal=b.cal) if m.average_working \
            else (safe_e - safe_a).astype(np.int64)
        return done, ~done, np.where(done, days, 0).astype(np.int64), np.ones(len(a), np.int64)

    def _average_count(self, b: Batch, months: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(met, pending, rows, ones) of 'average count of TABLE by DATE'.

        A record's figure is the number of TABLE's rows that refer to it, dated on or before
        the as-of date. With 'cohorts of at least N months', a record is pending while its month
        is fewer than N months before the as-of month (its cohort is too young to show).
        """
        m = self.measure
        assert m.count_of is not None
        n = len(months)
        counts = b.cached(("count of", m.table, m.count_of), lambda: rows_per_record(
            b, m.table, m.count_of))  # type: ignore[arg-type]
        young = np.zeros(n, dtype=bool)
        if m.mature_months is not None:
            young = months > b.last_month - m.mature_months
        return ~young, young, np.where(young, 0, counts), np.ones(n, np.int64)

    def _over_from(self, b: Batch, anchor: np.ndarray, spec: ir.BacklogSpec, size: int
                   ) -> np.ndarray:
        """First month index whose month end is more than ``over_days`` days after the anchor."""
        limit = workday(anchor, spec.over_days, b.cal) if spec.working else \
            anchor + np.timedelta64(spec.over_days, "D")
        after = (limit + np.timedelta64(1, "D")).astype("datetime64[M]").astype(np.int64)
        first = after - b.first_month
        not_yet = (first == size - 1) & (limit >= b.as_of)  # the as-of month ends at the as-of date
        return np.where(np.isnat(limit), size, np.where(not_yet, size, first))

    def _place(self, b: Batch, months: Callable[[], np.ndarray], excl: Exclusions) -> None:
        """Exclude records with no period, or one outside the service start to the as-of date."""
        m = self.measure
        col = m.period_column.name
        start = np.datetime64(b.first_month, "M")
        checks = (f"{col} missing", f"{col} before the service start month {start}",
                  f"{col} after the as-of date {b.as_of}")
        coded = self._place_codes(b) if b.jit else None
        if coded is not None:  # each reason's mask made only where a record has it
            _, reason, hits = coded
            for r, check in enumerate(checks, 1):
                if hits[r]:
                    excl.add(check, b.cached(("place reason", m.table, m.period_column, r),
                                             lambda r=r: reason == r))  # type: ignore[misc]
        else:
            masks = b.cached(("place", m.table, m.period_column, m.period_unit),
                             lambda: self._place_masks(b, months))
            for check, mask in zip(checks, masks):
                excl.add(check, mask)
        lengths = b.column(m.table, m.period_column).months
        if m.period_unit == "month" and lengths is not None:
            excl.add(f"{col} is a quarter, not a month", lengths == 3)

    def _place_codes(self, b: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(month index, reason, records per reason) of every record by one compiled pass over
        tables on the span of a date period column's dates: reason 0 placed, 1 no period, 2
        before the service start, 3 after the as-of date (as :meth:`_place_masks` and
        :meth:`_month_index`); None for other periods, or a span longer than the batch."""
        m = self.measure
        if m.period_column.type is not ColumnType.DATE or m.period_unit != "month":
            return None
        span = b.span(m.table, m.period_column)
        if span.size > max(b.tables[m.table].rows, 1):
            return None

        def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            every = span.days()
            months = every.astype("datetime64[M]").astype(np.int64)
            month_table = np.append(_axis_index(b, months, "month"), -1).astype(np.int32)
            reason_table = np.append(np.where(months < _first_month(b, "month"), 2,
                                              np.where(every > b.as_of, 3, 0)), 1
                                     ).astype(np.int8)
            n = len(span.at)
            month, reason = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int8)
            hits = np.zeros(4, dtype=np.int64)
            kernels_eval.place_months(np.ascontiguousarray(span.at, dtype=np.int32),
                                      month_table, reason_table, month, reason, hits)
            return month, reason, hits
        return b.cached(("place codes", m.table, m.period_column), make)  # type: ignore[return-value]

    def _place_masks(self, b: Batch, months: Callable[[], np.ndarray]
                     ) -> tuple[np.ndarray, ...]:
        """(no period, before the service start, after the as-of date) of every record: the same
        for every measure of the table counted by the same column, so computed once per batch
        (for a date column, looked up in tables over the span of its dates)."""
        m = self.measure
        first = _first_month(b, m.period_unit)
        if m.period_column.type is ColumnType.DATE and m.period_unit == "month":
            span = b.span(m.table, m.period_column)
            if span.size <= max(b.tables[m.table].rows, 1):
                every = span.days()
                before = np.append(every.astype("datetime64[M]").astype(np.int64) < first, False)
                after = np.append(every > b.as_of, False)
                return b.missing(m.table, m.period_column), before[span.at], after[span.at]
        months = months()
        missing = months == NO_MONTH
        before = ~missing & (months < first)
        if m.period_column.type is ColumnType.DATE:
            after = b.column(m.table, m.period_column).values > b.as_of
        else:  # the record's own month (or period start), before rounding to a quarter
            raw = record_months(b, m.table, m.period_column, "month")
            after = (raw != NO_MONTH) & (raw > b.last_month)
        return missing, before, after

    def _decide(self, b: Batch, excl: Exclusions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(met, pending, deadline) per record."""
        m = self.measure
        n = len(excl.in_pop)
        if m.window is None:  # ratio, profile and backlog measures count every record
            met = self.condition(b, m.table) if self.condition else np.ones(n, dtype=bool)
            if m.due is None:
                return met, np.zeros(n, dtype=bool), np.full(n, NAT)
            due_by = deadline_within(m.due, b, m.table, excl)
            undecided = np.isnat(b.column(m.table, m.due.event).values)
            return met, undecided & (due_by > b.as_of), due_by
        if isinstance(m.window, ir.EveryNDays):
            return self._gaps(b, m.window, excl)
        deadline = WINDOWS[type(m.window)](m.window, b, m.table, excl)
        event = b.column(m.table, m.window.event).values
        met = event <= deadline  # NaT (no event, or no deadline) compares false
        pending = b.missing(m.table, m.window.event) & (deadline > b.as_of)
        return met, pending, deadline

    def _gaps(self, b: Batch, w: ir.EveryNDays, excl: Exclusions
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(met, pending, deadline) for 'at most N days apart': met once ended with no longer
        gap, failed as soon as one gap is longer, pending while still running without one."""
        start = b.column(self.table, w.start).values
        until = b.column(self.table, w.until).values
        excl.add(f"{w.start.name} missing", np.isnat(start))
        excl.add(f"{w.until.name} before {w.start.name}", until < start)
        end = np.where(np.isnat(until) | (until > b.as_of), b.as_of, until)
        gap = largest_gaps(b, self.table, w, start, end)
        over = gap > w.days
        ended = ~np.isnat(until) & (until <= b.as_of)
        return ended & ~over, ~ended & ~over, np.full(len(start), NAT)

    def _amounts(self, b: Batch, met: np.ndarray, excl: Exclusions) -> tuple[np.ndarray, np.ndarray]:
        m = self.measure
        if m.ratio is None or m.kind in ("count_ratio", "average"):  # read only where summed
            return met, np.broadcast_to(np.int64(1), met.shape)
        cols = [b.column(m.table, spec) for spec in m.ratio]
        for spec, col in zip(m.ratio, cols):
            excl.add(f"{spec.name} missing", ~col.present())
        return tuple(_millionths(col) for col in cols)  # type: ignore[return-value]


def _plus_days(dates: np.ndarray, days: int) -> np.ndarray:
    """``days`` calendar days after each date (for :func:`~pmir_dsl.calendar.span_table`)."""
    return dates + np.timedelta64(days, "D")


def _coded_grids(space: int, months: int, triangle: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Empty ``Verdicts.coded`` grids over a finest group code space of ``space`` codes (read
    by the loops as code + 1: a missing code, -1, is 0) and ``months`` months, the cohort
    triangles ``triangle`` months deep (0: none)."""
    codes = space + 1
    return (np.zeros(codes, dtype=np.bool_),
            np.zeros((codes * months, kernels_esf.C_WIDTH), dtype=np.int64),
            np.zeros(codes * months * triangle, dtype=np.int64),
            np.zeros(OUTSIDE + 1, dtype=np.int64))


def _made(values: np.ndarray | None, dtype: type) -> np.ndarray:
    """A compiled pass's output, empty where it was not asked for (None)."""
    return np.zeros(0, dtype=dtype) if values is None else values


def _fusable(m: ir.Measure) -> bool:
    """Whether a measure's verdicts are those of its 'within N days' window alone, or of its
    condition and 'due when' (a rate or a count): computed by one compiled pass where the batch
    uses them."""
    return (isinstance(_deadline_window(m), ir.WithinDays)
            and m.kind not in ("count_ratio", "average")
            and m.ratio is None and m.backlog is None and m.buckets is None
            and m.each_month_until is None and m.count_of is None)


def _countable(m: ir.Measure) -> bool:
    """Whether a measure is met where its condition holds (every record, with none) and
    nothing else decides its verdicts (no window, 'due', amounts, backlog, buckets, cohorts or
    per-month entries): counted by one compiled pass where the batch counts in one."""
    return (m.kind in ("rate", "count", "profile") and m.window is None and m.due is None
            and m.ratio is None and m.backlog is None and m.buckets is None
            and m.each_month_until is None and m.count_of is None and m.mature_months is None
            and not isinstance(m.expected, ir.ExpectedCohort))


def _deadline_window(m: ir.Measure) -> ir.Window | None:
    """The days a measure's deadline is counted in: its window ('met when EVENT within N days
    of ANCHOR'), else its 'due when EVENT is present or N days after ANCHOR'."""
    return m.due if m.window is None else m.window


def fusable_cohort(m: ir.Measure) -> bool:
    """Whether a measure counts its records (every one) against cohorts of another table, in
    the month of a date: its verdicts computed by one compiled pass over the starts packed
    ahead where the batch uses them."""
    e = m.expected
    return (m.kind == "profile" and isinstance(e, ir.ExpectedCohort) and e.link is not None
            and m.condition is None and m.window is None and m.due is None and m.ratio is None
            and m.backlog is None and m.buckets is None and m.each_month_until is None
            and m.count_of is None and m.period_column.type is ColumnType.DATE)


def _unjoined(b: Batch, table: str, ref: str) -> tuple[np.ndarray | None, np.ndarray]:
    """(where ``ref`` is empty, None where it never is; where it is given but not found) for
    every measure of the batch that joins through it."""
    col = b.tables[table].columns[ref]
    rows = b.join(table, ref)
    if not col.values.null_count:  # a row -1 is an unknown reference
        return None, rows < 0
    present = col.present()
    return ~present, present & (rows < 0)


def _day_numbers(b: Batch, table: str, *specs: ColumnSpec) -> tuple[np.ndarray, ...]:
    """Date columns as the compiled loops read them: int64 day numbers (NaT the least)."""
    return tuple(np.ascontiguousarray(b.column(table, c).values).view(np.int64) for c in specs)


def fusable_breach(m: ir.Measure) -> bool:
    """Whether a measure's verdicts are those of its backlog breach count alone (no window,
    'due', buckets or per-month entries; a date period): computed by one compiled pass where
    the batch uses them."""
    return (m.backlog is not None and m.backlog.breach and m.backlog.over_days is not None
            and m.window is None and m.due is None and m.buckets is None and m.ratio is None
            and m.kind == "backlog_breach" and m.each_month_until is None
            and m.count_of is None and m.period_column.type is ColumnType.DATE)


def _fusable_backlog(m: ir.Measure) -> bool:
    """Whether a measure's verdicts are those of its backlog alone ('count in backlog until',
    no age limit, no window or 'due'): computed by one compiled pass where the batch uses
    them."""
    return (m.backlog is not None and not m.backlog.breach and m.backlog.over_days is None
            and m.window is None and m.due is None and m.buckets is None
            and m.kind not in ("count_ratio", "average") and m.each_month_until is None)


def lookup_rates(lk: ir.RateLookup, b: Batch, table: str) -> tuple[np.ndarray, np.ndarray]:
    """Each record's rate (millionths) from the lookup table row with its key values whose
    months hold the month of its date, and where none does. Overlapping rows are a data error."""
    rt = b.referenced(lk.table)
    rows = _lookup_rows(lk, rt)
    month = b.column(table, lk.date).values.astype("datetime64[M]").astype(np.int64)
    lo, hi = (np.asarray(rt.columns[c.name].values, dtype=np.int64)
              for c in (lk.months[0], lk.months[-1]))
    value = _millionths(rt.columns[lk.value.name])
    cols = [b.column(table, own) for own, _ in lk.keys]
    code = np.zeros(len(month), dtype=np.int64)
    for col in cols:
        code = code * (len(_names(col)) + 1) + (col.values.astype(np.int64) + 1)
    rates = np.zeros(len(month), dtype=np.int64)
    missing = np.ones(len(month), dtype=bool)
    for c in np.unique(code):
        key, rest = [], int(c)
        for col in reversed(cols):
            rest, k = divmod(rest, len(_names(col)) + 1)
            key.append(_names(col)[k - 1] if k > 0 else "")
        where = np.flatnonzero(code == c)
        for r in rows.get(tuple(reversed(key)), []):
            hit = where[(month[where] >= lo[r]) & (month[where] <= hi[r])]
            rates[hit] = value[r]
            missing[hit] = False
    return rates, missing


def _names(col: Column) -> list[str]:
    t = col.spec.type
    if t is ColumnType.BOOL:
        return ["false", "true"]
    return list(col.dictionary if t is ColumnType.TEXT else col.spec.categories)


def _lookup_rows(lk: ir.RateLookup, rt: Table) -> dict[tuple[str, ...], list[int]]:
    """The lookup table's usable rows by key values; a key's month ranges must not overlap."""
    from .errors import DataError, DataProblem

    cols = [rt.columns[c.name] for c in (lk.value, lk.months[0], lk.months[-1])]
    usable = np.flatnonzero(np.logical_and.reduce([c.present() for c in cols]))
    lo, hi = (np.asarray(c.values, dtype=np.int64) for c in cols[1:])
    keys = [rt.columns[theirs.name].take_strings(usable) for _, theirs in lk.keys]
    rows: dict[tuple[str, ...], list[int]] = {}
    for i, r in enumerate(usable):
        rows.setdefault(tuple(k[i] for k in keys), []).append(int(r))
    backwards = [int(r) for r in usable if lo[r] > hi[r]]
    if backwards:
        raise DataError(DataProblem(
            rt.path, f"{lk.months[0].name} after {lk.months[-1].name}", lk.months[0].name,
            tuple(r + 2 for r in backwards[:5]), (), len(backwards),
            hint=f"the first month column declared ({lk.months[0].name}) is where each row's "
            "months begin"))
    for k, found in rows.items():
        found.sort(key=lambda r: (lo[r], hi[r]))
        for r0, r1 in zip(found, found[1:]):
            if lo[r1] <= hi[r0]:
                raise DataError(DataProblem(
                    rt.path, f"rows {r0 + 2} and {r1 + 2} both give a {lk.value.name} for "
                    f"{', '.join(k) or 'every record'} in {np.datetime64(int(lo[r1]), 'M')}",
                    lk.months[0].name, (r0 + 2, r1 + 2), (), 2,
                    hint="each key's months may appear in one row only"))
    return rows


def _millionths(col: Column) -> np.ndarray:
    """A numeric column in millionths (decimals already are), 0 where empty."""
    factor = DECIMAL_SCALE if col.spec.type is ColumnType.INTEGER else 1
    return np.where(col.present(), col.values, 0).astype(np.int64) * factor


def references(m: ir.Measure) -> list[str]:
    """The reference columns of its own table a measure joins through, in name order: those of
    the joined columns it reads, and its cohorts' link. A record whose reference is missing or
    unknown is excluded (6.8)."""
    refs = {c.via for c in ir.own_columns(m) if c.via is not None}
    if isinstance(m.expected, ir.ExpectedCohort) and m.expected.link is not None:
        refs.add(m.expected.link.name)
    return sorted(refs)


def _axis_index(b: Batch, months: np.ndarray, unit: str) -> np.ndarray:
    """Index on the month axis of each month (-1 where off the axis)."""
    inside = (months >= _first_month(b, unit)) & (months <= b.last_month)
    if unit == "quarter":  # a quarter counts in its last month (or the as-of month)
        months = np.minimum(months + 2, b.last_month)
    return np.where(inside, months - b.first_month, -1)


def _first_month(b: Batch, unit: str) -> int:
    """The first month a record may count in: a quarter begun before the service start counts."""
    return b.first_month - (b.first_month % 3 if unit == "quarter" else 0)


class Exclusions:
    """Data-quality checks that exclude population records, each with its mask."""

    def __init__(self, in_pop: np.ndarray):
        self.in_pop = in_pop
        self.everyone = bool(in_pop.all())
        self.any = np.zeros(len(in_pop), dtype=bool)
        self.checks: list[tuple[str, np.ndarray]] = []

    def add(self, check: str, mask: np.ndarray) -> None:
        """Exclude population records where ``mask`` holds, under ``check``'s name."""
        if not mask.any():  # most checks find nothing: one pass, no temporaries
            return
        hit = mask if self.everyone else mask & self.in_pop
        if self.checks:  # each record is reported under its first check
            hit = hit & ~self.any
        if hit.any():
            self.checks.append((check, hit))
            self.any |= hit

    def found(self, check: str, hit: np.ndarray) -> None:
        """Records a compiled pass excluded under ``check``: in the population and not
        excluded before (the pass read :meth:`loop_masks`), so added as they are."""
        self.checks.append((check, hit))
        self.any |= hit

    def loop_masks(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(in the population, excluded so far) as the compiled loops of
        :mod:`pmir_dsl.kernels_eval` read them: None where every record is in the population,
        or none excluded (the loop compiled for None tests nothing)."""
        in_pop = None if self.everyone else np.ascontiguousarray(self.in_pop, dtype=np.bool_)
        return in_pop, self.any if self.checks else None


def deadline_within(w: ir.WithinDays, b: Batch, table: str, excl: Exclusions) -> np.ndarray:
    """The last allowed date of ``event``: N working (or calendar) days after the anchor."""
    anchor = b.column(table, w.anchor).values
    event = b.column(table, w.event).values
    excl.add(f"{w.anchor.name} missing", b.missing(table, w.anchor))
    days = _days(w.days, b, table, excl)
    excl.add(f"{w.event.name} before {w.anchor.name}", event < anchor)
    if w.working:
        return b.cached(("workday", table, w.anchor, w.days),
                        lambda: workday(anchor, w.days if isinstance(w.days, int) else days,
                                        b.cal, b.span(table, w.anchor)))
    if w.months:
        return add_months(anchor, days)
    return anchor + days.astype("timedelta64[D]")


def _days(days: int | ir.DaysByCategory, b: Batch, table: str, excl: Exclusions) -> np.ndarray:
    if isinstance(days, int):  # the same for every record: no array of it
        return np.int64(days)  # type: ignore[return-value]
    codes = b.column(table, days.column).values  # -1 (missing) reads each table's last entry
    excl.add(f"{days.column.name} missing", codes < 0)
    given = [d is not None and d >= 0 for d in days.days]
    if not all(given):
        excl.add(f"{days.column.name} has no days given", ~np.array([*given, True])[codes])
    return np.array([d if ok else 0 for d, ok in zip(days.days, given)] + [0],
                    dtype=np.int64)[codes]


def deadline_by(w: ir.OnOrBeforeDeadline, b: Batch, table: str, excl: Exclusions) -> np.ndarray:
    """The ``day``-th of the month after each record's period, rolled to a working day if asked."""
    col = b.column(table, w.period)
    excl.add(f"{w.period.name} missing", ~col.present())
    lengths = {ColumnType.MONTH: 1, ColumnType.QUARTER: 3}
    length = col.months if col.months is not None else lengths.get(w.period.type, 1)
    after = col.values.astype(np.int64) + length  # the month after the period's last month
    day = after.astype("datetime64[M]").astype("datetime64[D]") + np.timedelta64(w.day - 1, "D")
    day = np.where(col.present(), day, NAT)
    return next_working_day(day, b.cal) if w.roll_forward else day


def largest_gaps(b: Batch, table: str, w: ir.EveryNDays, start: np.ndarray,
                 end: np.ndarray) -> np.ndarray:
    """Per record: the longest stretch (in calendar or working days) between its start, each of
    its events in ``w.log`` within [start, end], and its end. Sort and diff; no Python loop."""
    rows, dates, same, steps = _gaps_between(b, table, w, start, end)
    gap = np.zeros(len(start), dtype=np.int64)
    np.maximum.at(gap, rows[1:][same], steps[same])
    return gap


def overdue_months(b: Batch, table: str, w: ir.EveryNDays, start: np.ndarray,
                   end: np.ndarray) -> np.ndarray:
    """(record, month since 1970-01) pairs: the months in which, at some time, more than N days
    had passed since the last meeting (or the start): from the month of the day after the N-th
    day to the month of the next meeting (or the end), so an ongoing gap fails every month it
    continues (semantics.md 7). A pair may repeat."""
    rows, dates, same, steps = _gaps_between(b, table, w, start, end)
    over = same & (steps > w.days)
    since = dates[:-1][over]
    if w.working:
        ran_out = np.busday_offset(since, w.days, roll="forward", busdaycal=b.cal)
    else:
        ran_out = since + np.timedelta64(w.days, "D")
    first = (ran_out + np.timedelta64(1, "D")).astype("datetime64[M]").astype(np.int64)
    last = dates[1:][over].astype("datetime64[M]").astype(np.int64)
    lengths = np.maximum(last - first + 1, 1)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    month = np.repeat(first, lengths) + offsets
    return np.stack([np.repeat(rows[1:][over], lengths), month], axis=1).reshape(-1, 2)


def rows_per_record(b: Batch, table: str, c: ir.CountOf) -> np.ndarray:
    """Per record of ``table``: the rows of ``c.table`` (read whole) that refer to it, dated on
    or before the as-of date. A row whose reference is not in this batch counts for none here."""
    other = b.referenced(c.table)
    ids = next(col for col in b.tables[table].columns.values() if col.spec.type is ColumnType.ID)
    owner = pc.index_in(other.columns[c.ref.name].values, value_set=ids.values)
    owner = np.asarray(pc.fill_null(owner, -1).to_numpy(zero_copy_only=False), np.int64)
    when = other.columns[c.date.name].values
    ok = (owner >= 0) & ~np.isnat(when) & (when <= b.as_of)
    return np.bincount(owner[ok], minlength=b.tables[table].rows).astype(np.int64)


def _gaps_between(b: Batch, table: str, w: ir.EveryNDays, start: np.ndarray,
                  end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each record's start, events and end sorted: (rows, dates, same record as the previous
    point, length of the step from it)."""
    log = b.referenced(w.log)
    ids = next(c for c in b.tables[table].columns.values() if c.spec.type is ColumnType.ID)
    owner = pc.index_in(log.columns[w.ref.name].values, value_set=ids.values)
    owner = np.asarray(pc.fill_null(owner, -1).to_numpy(zero_copy_only=False), np.int64)
    when = log.columns[w.date.name].values
    ok = (owner >= 0) & ~np.isnat(when)
    owner, when = owner[ok], when[ok]
    inside = (when >= start[owner]) & (when <= end[owner])
    owner, when = owner[inside], when[inside]
    n = len(start)
    rows = np.concatenate([np.arange(n), owner, np.arange(n)])
    dates = np.concatenate([start, when, end])
    valid = ~np.isnat(dates)
    rows, dates = rows[valid], dates[valid]
    order = np.lexsort((dates, rows))
    rows, dates = rows[order], dates[order]
    same = rows[1:] == rows[:-1]
    if w.working:
        steps = np.busday_count(dates[:-1], dates[1:], busdaycal=b.cal)
    else:
        steps = (dates[1:] - dates[:-1]).astype(np.int64)
    return rows, dates, same, steps


WINDOWS: dict[type, Callable[..., np.ndarray]] = {
    ir.WithinDays: deadline_within,
    ir.OnOrBeforeDeadline: deadline_by,
}


@attrs.frozen(eq=False)
class Plan:
    """A whole contract compiled: one plan per measure, in the contract's order."""

    contract: ir.Contract
    measures: tuple[MeasurePlan, ...]

    def measure(self, measure_id: str) -> MeasurePlan:
        """The plan of the measure with id ``measure_id``."""
        return next(p for p in self.measures if p.measure.id == measure_id)


def compile_contract(contract: ir.Contract) -> Plan:
    """Compile every measure of a checked contract."""
    plans = []
    finest = finest_keys(contract.measures)
    for m in contract.measures:
        scope = compile_condition(m.where) if m.where is not None else None
        cond = compile_condition(m.condition) if m.condition is not None else None
        plans.append(MeasurePlan(m, scope, cond, finest[m.table]))
    return Plan(contract, tuple(plans))


def finest_keys(measures: Iterable[ir.Measure]) -> dict[str, tuple[ColumnSpec, ...]]:
    """Per table, the key columns of every group level of its measures, each once, in the
    order the measures (in the contract's order) and their levels first name them."""
    keys: dict[str, dict[ColumnSpec, None]] = {}
    for m in measures:
        found = keys.setdefault(m.table, {})
        for level in m.groups:
            found.update(dict.fromkeys(level))
    return {table: tuple(specs) for table, specs in keys.items()}
