"""Expected figures from profile tables: a direct profile, and the layered Cohort Profile.

A direct profile (``expected profiled_starts of starts_profile``) gives the expected figure per
calendar month. A cohort profile (``expected cohorts of referrals by start_date times
outcome_profiles``) gives, per months since start k, the share of a cohort's starts expected to
achieve an outcome in month k; the expected outcomes in calendar month m are then

    sum over cohorts c <= m of starts[c] x weight[m - c]        (ESF 7.20-7.23)

a discrete convolution, computed here per group and profile series with exact integers.

Profiles are matched to groups by their key columns (the profile's columns that are also group
columns, e.g. lep_area and category_of_region). The value ``ALL`` in a key column stands for
every value: a group level that does not split by a key column uses the profile's ``ALL`` rows
for it where the profile has them (the LEP area overall), and adds up the finer rows where it has
none. Amounts are exact: integers scaled by :data:`SCALE`.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

import attrs
import numpy as np

from . import ir, kernels_esf
from .cells import DENSE_CELLS
from .compile import Batch, compile_condition
from .errors import DataError, DataProblem
from .schema import DECIMAL_SCALE, Column, ColumnType

ALL = "ALL"
#: Expected figures are integers in units of 1/SCALE (a decimal rate times a decimal share).
SCALE = DECIMAL_SCALE * DECIMAL_SCALE
#: Shares of one profile series must sum to 1 within this tolerance (published profiles round).
SHARE_TOLERANCE = Fraction(1, 1000)

Groups = dict[tuple[Any, ...], np.ndarray]


@attrs.frozen(eq=False)
class Expected:
    """Expected figures per group of each level (object arrays of ints over the month axis, in
    units of 1/SCALE), and for cohort profiles the starts and expected cumulative outcomes per
    cohort (arrays [cohort, months since start])."""

    levels: tuple[Groups, ...]
    starts: tuple[Groups, ...] = ()
    cumulative: tuple[Groups, ...] = ()
    problems: tuple[tuple[str, int, tuple[str, ...]], ...] = ()


def expected(m: ir.Measure, b: Batch) -> Expected | None:
    """The expected figures of measure ``m`` over the whole evaluation, or None."""
    if isinstance(m.expected, ir.ExpectedDirect):
        return _direct(m, m.expected, b)
    if isinstance(m.expected, ir.ExpectedCohort):
        return _cohort(m, m.expected, b)
    return None


# ---- direct profiles ------------------------------------------------------------------------------


def _direct(m: ir.Measure, e: ir.ExpectedDirect, b: Batch) -> Expected:
    table = b.tables[e.table]
    size = b.last_month - b.first_month + 1
    value = table.columns[e.value.name]
    factor = SCALE // (DECIMAL_SCALE if e.value.type is ColumnType.DECIMAL else 1)
    months = table.columns[e.period.name].values.astype(np.int64) - b.first_month
    keys = {k.name: _strings(table.columns[k.name]) for k in e.keys}
    chosen = compile_condition(e.where)(b, e.table) if e.where is not None else \
        np.ones(table.rows, dtype=bool)
    levels = []
    for level in m.groups:
        names = [c.name for c in level]
        rows = _rows_for_level(keys, names, chosen)
        out: Groups = {}
        for r in np.flatnonzero(rows & (months >= 0) & (months < size) & value.present()):
            g = tuple(keys[n][r] for n in names)
            arr = out.setdefault(g, np.zeros(size, dtype=object))
            arr[months[r]] += int(value.values[r]) * factor
        levels.append(out)
    return Expected(tuple(levels))


def _rows_for_level(keys: dict[str, np.ndarray], level: list[str], chosen: np.ndarray
                    ) -> np.ndarray:
    """Profile rows that give a level's figures, among the ``chosen`` rows (the profile's
    ``where``): its own keys split, and for each other key the ALL rows where the chosen rows
    have them, else the finer rows (matched on the remaining keys; decision 39)."""
    n = len(chosen)
    rows = chosen.copy()
    for name, values in keys.items():
        is_all = values == ALL
        if name in level:
            rows &= ~is_all
            continue
        others = [keys[k] for k in keys if k != name]
        combo = [tuple(col[r] for col in others) for r in range(n)]
        covered = {combo[r] for r in np.flatnonzero(is_all & chosen)}
        finer = np.array([not is_all[r] and combo[r] not in covered for r in range(n)], dtype=bool)
        rows &= is_all | finer
    return rows


def _strings(col: Column) -> np.ndarray:
    """A text, category or bool column's values as an object array of strings (None for null)."""
    names = {ColumnType.TEXT: col.dictionary, ColumnType.BOOL: ("false", "true")}.get(
        col.spec.type, col.spec.categories)
    lookup = np.array([*names, None], dtype=object)
    return lookup[np.where(col.values >= 0, col.values, len(names))]


# ---- layered cohort profiles ------------------------------------------------------------------------


def _cohort(m: ir.Measure, e: ir.ExpectedCohort, b: Batch) -> Expected:
    """Starts are counted once per (key and group values, cohort month) by one bincount over
    the cohort table; everything after that (profile series, groups, missing profiles) is
    worked out on those few combinations, never per record."""
    series, weights = _series(e, b)
    size = b.last_month - b.first_month + 1
    table = b.tables[e.table]
    key_names = [k.name for k in e.keys]
    names = list(dict.fromkeys([*key_names, *(c.name for level in m.groups for c in level)]))
    cols = [table.columns[n] for n in names]
    combo, cell_count = b.cached(  # the same for every measure against these starts
        ("start cells", e.table, e.start, e.anchor, tuple(names)),
        lambda: _start_cells_of(e, b, cols, size))
    codes = _digits(combo // size, cols)  # each combination's value code per column (0: none)
    month = combo % size
    key_cols = [table.columns[k] for k in key_names]
    key_code = np.zeros(len(combo), dtype=np.int64)
    for col, digit in zip(key_cols, (codes[names.index(k)] for k in key_names)):
        key_code = key_code * (len(_names(col)) + 1) + digit
    per_combo, inverse = _key_series(m, e, series, key_cols, key_code)
    sids = per_combo[:, inverse]
    missing = np.any(sids < 0, axis=0)
    levels, starts, cumulative = [], [], []
    for level, sid in zip(m.groups, sids):
        counts = _level_starts([codes[names.index(c.name)] for c in level],
                               [table.columns[c.name] for c in level], ~missing, sid, month,
                               cell_count, len(series), size)
        levels.append({g: _layer(c, weights, size) for g, c in counts.items()})
        starts.append({g: c.sum(axis=0) for g, c in counts.items()})
        cumulative.append({g: _cumulative(c, weights, size) for g, c in counts.items()})
    problems = ()
    if missing.any():  # the rows themselves, for the data-quality entry's examples
        lost = np.unique(combo[missing] // size)
        rows = _started(e, b, size)[1] & np.isin(radix_codes(cols, table.rows), lost)
        problems = (_missing_profile(e, rows, table),)
    return Expected(tuple(levels), tuple(starts), tuple(cumulative), problems)


def _started(e: ir.ExpectedCohort, b: Batch, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cohort (month index of its start) and whether it is a start on the axis."""
    table = b.tables[e.table]
    start = table.columns[e.start.name].values
    cohort = b.months(e.table, e.start) - b.first_month
    started = (cohort >= 0) & (cohort < size) & (start <= b.as_of)  # NaT: no month, never <=
    if e.anchor is not None:  # a start before its anchor is no start (semantics.md 1)
        started &= ~(start < table.columns[e.anchor.name].values)
    return cohort, started


def radix_codes(cols: list[Column], n: int, dtype: type = np.int64) -> np.ndarray:
    """Each record's mixed-radix code of ``cols``' value codes (digit 0: no value), as
    ``dtype`` (:func:`code_type` of the codes' space: fewer bytes to pass over); the group
    codes of :mod:`pmir_dsl.evaluate` too."""
    code = np.zeros(n, dtype=dtype)
    shift = 0  # the digits' +1s, added once at the end: (a+1)r + b+1 = (ar + b) + (r+1)
    for col in cols:  # in place: no temporaries of the table's length
        radix = len(_names(col)) + 1
        if shift:
            code *= radix
        np.add(code, col.values, out=code, casting="unsafe")
        shift = shift * radix + 1
    code += shift
    return code


def _space(cols: list[Column]) -> int:
    """How many mixed-radix codes ``cols`` have (each column's values, and none)."""
    return int(np.prod([len(_names(c)) + 1 for c in cols]))


def code_type(space: int) -> type:
    """The narrowest signed integer type that holds every code below ``space``."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if space <= np.iinfo(t).max)


def _digits(codes: np.ndarray, cols: list[Column]) -> list[np.ndarray]:
    """The digits of mixed-radix codes, one array per column (0: no value)."""
    out = []
    for col in reversed(cols):
        codes, digit = np.divmod(codes, len(_names(col)) + 1)
        out.append(digit)
    return out[::-1]


def _start_cells(cols: list[Column], cohort: np.ndarray, started: np.ndarray, size: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The (values of ``cols``, cohort month) cells starts fall in, as codes (value code x
    ``size`` + cohort month, ascending), and the starts in each."""
    space = _space(cols) * size
    code = radix_codes(cols, len(cohort), code_type(space))
    code *= size
    code += cohort  # (cohorts off the axis may wrap round in a narrow type: never started)
    code = code[started]
    if space <= DENSE_CELLS:
        counts = np.bincount(code, minlength=space)
        present = np.flatnonzero(counts)
        return present, counts[present]
    return np.unique(code, return_counts=True)


def _start_cells_of(e: ir.ExpectedCohort, b: Batch, cols: list[Column], size: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_start_cells` of the starts :func:`_started` finds: by one compiled pass
    (:func:`~pmir_dsl.kernels_esf.start_cells`) where the batch uses them and the cells fit a
    dense grid, else by whole-column numpy passes."""
    space = _space(cols) * size
    if not b.jit or space > DENSE_CELLS:
        return _start_cells(cols, *_started(e, b, size), size)
    table = b.tables[e.table]
    counts = np.zeros(space, dtype=np.int64)
    anchor = None if e.anchor is None else \
        np.ascontiguousarray(table.columns[e.anchor.name].values).view(np.int64)
    kernels_esf.start_cells(
        np.ascontiguousarray(table.columns[e.start.name].values).view(np.int64), anchor,
        tuple(np.ascontiguousarray(c.values, dtype=np.int32) for c in cols),
        np.array([len(_names(c)) + 1 for c in cols], dtype=np.int64),
        int(b.as_of.astype(np.int64)), *axis_days(b.first_month, size), size, counts)
    present = np.flatnonzero(counts)
    return present, counts[present]


def axis_days(first_month: int, size: int) -> tuple[int, np.ndarray]:
    """The first day (a day number) of the month axis from ``first_month`` (months since
    1970-01) and the month index of each of its days (``size`` months)."""
    first = np.datetime64(first_month, "M").astype("datetime64[D]")
    days = np.arange(first, np.datetime64(first_month + size, "M").astype("datetime64[D]"))
    return int(first.astype(np.int64)), \
        days.astype("datetime64[M]").astype(np.int64) - first_month


def _level_starts(digits: list[np.ndarray], cols: list[Column], ok: np.ndarray, sid: np.ndarray,
                  month: np.ndarray, count: np.ndarray, n_series: int, size: int
                  ) -> dict[tuple[Any, ...], np.ndarray]:
    """Starts per group of one level: arrays [series, cohort month], groups in code order."""
    code = np.zeros(len(month), dtype=np.int64)
    for col, digit in zip(cols, digits):
        code = code * (len(_names(col)) + 1) + digit
    present, group = np.unique(code[ok], return_inverse=True)
    out = np.zeros((len(present), n_series, size), dtype=np.int64)
    np.add.at(out, (group.reshape(-1), sid[ok], month[ok]), count[ok])
    labels = _decode(present, cols)
    return {g: out[i] for i, g in enumerate(labels)}


def _decode(codes: np.ndarray, cols: list[Column]) -> list[tuple[Any, ...]]:
    """The values (strings, None for none) of mixed-radix codes of ``cols``."""
    digits = _digits(np.asarray(codes, dtype=np.int64), cols)
    lookups = [np.array([None, *_names(c)], dtype=object) for c in cols]
    return list(zip(*(lookup[d] for lookup, d in zip(lookups, digits)))) if cols else \
        [() for _ in codes]


def without_profile(m: ir.Measure, b: Batch) -> np.ndarray:
    """Rows of the whole cohort table whose start has no profile at some group level: they are
    in no level's expected figures and no triangle, and neither are their outcomes."""
    e = m.expected
    assert isinstance(e, ir.ExpectedCohort)
    whole = attrs.evolve(b, tables=b.lookup or b.tables, memo={}, offset=None, shared=None)
    series, _ = _series(e, whole)
    return _without_profile(m, e, series, whole.tables[e.table])


def own_without_profile(m: ir.Measure, b: Batch) -> np.ndarray:
    """:func:`without_profile` for this batch's rows of the cohort table itself, when the
    measure counts the starts' own outcomes (a participant's job outcome, by its attachment)."""
    e = m.expected
    assert isinstance(e, ir.ExpectedCohort)
    whole = attrs.evolve(b, tables=b.lookup or b.tables, memo={}, offset=None, shared=None)
    series, _ = _series(e, whole)
    return _without_profile(m, e, series, b.tables[e.table])


def _without_profile(m: ir.Measure, e: ir.ExpectedCohort, series: list[tuple[Any, ...]],
                     table: Any) -> np.ndarray:
    """Each row of the cohort ``table``: whether its key values have no profile at some level."""
    cols = [table.columns[k.name] for k in e.keys]
    space = _space(cols)
    if space > KEY_TABLE:
        per_combo, inverse = _key_series(m, e, series, cols, radix_codes(cols, table.rows))
        return np.any(per_combo < 0, axis=0)[inverse]
    # few combinations: each one's answer, then each row's looked up (no count of the codes)
    lost = _lost(m, e, series, cols)
    if not lost.any():  # every combination has a profile: no pass over the rows
        return np.zeros(table.rows, dtype=bool)
    return lost[radix_codes(cols, table.rows, code_type(space))]


#: Key columns with at most this many combinations of values (and none) are answered for every
#: combination, each row's answer looked up by its code.
KEY_TABLE = 1 << 12


def _lost(m: ir.Measure, e: ir.ExpectedCohort, series: list[tuple[Any, ...]],
          cols: list[Column]) -> np.ndarray:
    """Whether each combination of the key columns' values (its :func:`radix_codes` code) has no
    profile at some group level."""
    return np.any(_combo_series(m, e, series, cols, np.arange(_space(cols))) < 0, axis=0)


def key_codes(e: ir.ExpectedCohort, table: Any
              ) -> tuple[np.ndarray, np.ndarray | None, int] | None:
    """What gives each row of the cohort ``table`` its key combination's :func:`radix_codes` code
    (the index of :func:`lost_keys`): (outer, inner, radix), int32 arrays, the code
    ``(outer + 1) * radix + inner + 1`` (``outer + 1`` where ``inner`` is None): the key
    columns' value codes where there are one or two, else the code less one. None where the
    key columns have more than :data:`KEY_TABLE` combinations."""
    cols = [table.columns[k.name] for k in e.keys]
    if _space(cols) > KEY_TABLE:
        return None
    if len(cols) not in (1, 2):
        return radix_codes(cols, table.rows, np.int32) - 1, None, 1
    codes = [np.ascontiguousarray(c.values, dtype=np.int32) for c in cols]
    return codes[0], codes[1] if len(codes) == 2 else None, \
        len(_names(cols[-1])) + 1


def lost_keys(m: ir.Measure, b: Batch) -> np.ndarray:
    """Whether no profile of ``m`` covers each key combination of its cohort table (by
    :func:`key_codes`) at some group level: :func:`without_profile` of a row is this at its
    code. Only where there are at most :data:`KEY_TABLE` combinations."""
    e = m.expected
    assert isinstance(e, ir.ExpectedCohort)
    whole = attrs.evolve(b, tables=b.lookup or b.tables, memo={}, offset=None, shared=None)
    cols = [whole.tables[e.table].columns[k.name] for k in e.keys]
    return _lost(m, e, _series(e, whole)[0], cols)


def _key_series(m: ir.Measure, e: ir.ExpectedCohort, series: list[tuple[Any, ...]],
                cols: list[Column], code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each level's profile series (-1: none) of each key combination present in ``code`` (the
    key columns' mixed-radix codes), [level, combination], and each code's combination."""
    space = _space(cols)
    if space <= DENSE_CELLS:
        present = np.flatnonzero(np.bincount(code, minlength=space))
        dense = np.full(space, -1, dtype=np.int64)
        dense[present] = np.arange(len(present))
        inverse = dense[code]
    else:
        present, inverse = np.unique(code, return_inverse=True)
        inverse = inverse.reshape(-1)
    return _combo_series(m, e, series, cols, present), inverse


def _combo_series(m: ir.Measure, e: ir.ExpectedCohort, series: list[tuple[Any, ...]],
                  cols: list[Column], codes: np.ndarray) -> np.ndarray:
    """Each level's profile series (-1: none) of each of the key columns' mixed-radix
    ``codes``, [level, code]."""
    labels = _decode(codes, cols)
    names = [k.name for k in e.keys]
    has_all = {name: any(s[i] == ALL for s in series) for i, name in enumerate(names)}
    per_combo = [_series_of(labels, names, [c.name for c in level], has_all, series)
                 for level in m.groups]
    return np.array(per_combo, dtype=np.int64).reshape(len(m.groups), len(codes))


def _names(col: Column) -> tuple[str, ...]:
    return {ColumnType.TEXT: col.dictionary, ColumnType.BOOL: ("false", "true")}.get(
        col.spec.type, col.spec.categories)


def _series(e: ir.ExpectedCohort, b: Batch) -> tuple[list[tuple[Any, ...]], list[np.ndarray]]:
    """The profile's series (distinct key values) and each one's weights by months since start."""
    table = b.tables[e.profile]
    rows = compile_condition(e.where)(b, e.profile) if e.where is not None else \
        np.ones(table.rows, dtype=bool)
    keys = [_strings(table.columns[k.name]) for k in e.keys]
    month = table.columns[e.month.name]
    rate = table.columns[e.rate.name]
    share = table.columns[e.share.name] if e.share else None
    by_series: dict[tuple[Any, ...], dict[int, tuple[int, int]]] = defaultdict(dict)
    for r in np.flatnonzero(rows):
        k, mo = tuple(col[r] for col in keys), int(month.values[r])
        amount = _amount(rate, r) * (_amount(share, r) if share else DECIMAL_SCALE)
        got, shares = by_series[k].get(mo, (0, 0))
        by_series[k][mo] = (got + amount, shares + (_amount(share, r) if share else 0))
    series = sorted(by_series, key=lambda k: tuple("" if v is None else v for v in k))
    weights = [_weights(e, k, by_series[k], share is not None) for k in series]
    return series, weights


def _amount(col: Column, r: int) -> int:
    value = int(col.values[r])
    return value * DECIMAL_SCALE if col.spec.type is ColumnType.INTEGER else value


def _weights(e: ir.ExpectedCohort, key: tuple[Any, ...],
             by_month: dict[int, tuple[int, int]], distribution: bool) -> np.ndarray:
    """Weights per months since start, validated: months 0..K without gaps; shares sum to 1."""
    label = ", ".join(f"{k.name}={v}" for k, v in zip(e.keys, key)) or "every start"
    if e.where is not None:
        label += f" ({_where_words(e.where)})"
    months = sorted(by_month)
    if months[0] < 0 or months != list(range(months[-1] + 1)):
        raise DataError(DataProblem(e.profile, f"profile for {label} must give every month "
                                    f"since start from 0 to {months[-1]}; it has {months}",
                                    e.month.name))
    values = np.array([by_month[k][0] for k in months], dtype=object)
    if distribution:
        total = Fraction(sum(by_month[k][1] for k in months), DECIMAL_SCALE)
        if abs(total - 1) > SHARE_TOLERANCE:
            raise DataError(DataProblem(e.profile, f"the shares of the profile for {label} add "
                                        f"up to {float(total):.4f}, not 1", "share",
                                        hint=f"shares must sum to 1 within {SHARE_TOLERANCE}"))
        return values
    if e.monthly:  # each month's own rate (WP retention after a job outcome, 8.22)
        return values
    steps = np.diff(np.concatenate([[0], values]).astype(object))
    if any(s < 0 for s in steps):
        raise DataError(DataProblem(e.profile, f"the cumulative rates of the profile for {label} "
                                    "go down from one month to the next", e.rate.name))
    return steps


def _series_of(combos: list[tuple[Any, ...]], names: list[str], level: list[str],
               has_all: dict[str, bool], series: list[tuple[Any, ...]]) -> np.ndarray:
    """Each key combination's profile series for a level (-1 where none): ALL for the keys the
    level does not split where the profile gives ALL rows; else the start's own row; else the
    ALL row of a key the level splits but the profile gives no finer row for (a LEP area with
    one profile)."""
    index = {s: i for i, s in enumerate(series)}
    found = np.full(len(combos), -1, dtype=np.int64)
    for i, own in enumerate(combos):
        wide = tuple(ALL if (n not in level and has_all[n]) else v for n, v in zip(names, own))
        widest = tuple(ALL if has_all[n] else v for n, v in zip(names, own))
        found[i] = next((index[c] for c in (wide, own, widest) if c in index), -1)
    return found


def _missing_profile(e: ir.ExpectedCohort, missing: np.ndarray,
                     table: Any) -> tuple[str, int, tuple[str, ...]]:
    rows = np.flatnonzero(missing)
    ids = next((c for c in table.columns.values() if c.spec.type is ColumnType.ID), None)
    examples = tuple(sorted(ids.take_strings(rows))[:5]) if ids else ()
    what = f" where {_where_words(e.where)}" if e.where is not None else ""
    return (f"starts with no profile in {e.profile}{what}", len(rows), examples)


def _where_words(where: Any) -> str:
    """'outcome is short_job' for a simple profile filter, as written (else a generic phrase)."""
    if not isinstance(where, ir.InValues):
        return "its filter"
    neg = "not " if where.negate else ""
    if len(where.values) == 1:
        return f"{where.column.name} is {neg}{where.values[0]}"
    return f"{where.column.name} is {neg}one of ({', '.join(where.values)})"


def _layer(counts: np.ndarray, weights: list[np.ndarray], size: int) -> np.ndarray:
    """Expected outcomes per calendar month: each series' starts convolved with its weights."""
    total = np.zeros(size, dtype=object)
    for s, w in enumerate(weights):
        if counts[s].any():
            total += np.convolve(counts[s].astype(object), w)[:size]
    return total


def _cumulative(counts: np.ndarray, weights: list[np.ndarray], size: int) -> np.ndarray:
    """Expected outcomes achieved by each cohort within k months of its start: [cohort, k]."""
    out = np.zeros((size, size), dtype=object)
    for s, w in enumerate(weights):
        cum = np.cumsum(np.concatenate([w, np.zeros(max(0, size - len(w)), dtype=object)]))[:size]
        out += np.outer(counts[s].astype(object), cum)
    return out


# ---- the cohort triangle -------------------------------------------------------------------------


def triangle(measure_id: str, level: tuple[str, ...], exp: Expected, level_index: int,
             actual: dict[tuple[Any, ...], np.ndarray], first_month: int, size: int
             ) -> list[dict[str, Any]]:
    """Cohort x months-since-start rows: starts, outcomes so far, conversion and its profile.

    ``actual`` maps group values -> [cohort, k] outcome counts (k = months since the cohort's
    start month); conversion at k is the outcomes achieved by the cohort within k months of its
    start month over its starts (semantics.md 6), and ``expected_conversion`` the profile's.
    """
    rows = []
    starts, cumexp = exp.starts[level_index], exp.cumulative[level_index]
    for values in sorted(starts, key=lambda v: tuple("" if x is None else str(x) for x in v)):
        n = starts[values]
        got = np.cumsum(actual.get(values, np.zeros((size, size), dtype=np.int64)), axis=1)
        for c in np.flatnonzero(n):
            for k in range(size - c):
                rows.append({
                    "measure": measure_id, "group": dict(zip(level, values)),
                    "cohort": str(np.datetime64(first_month + int(c), "M")),
                    "months_since_start": k, "starts": int(n[c]),
                    "outcomes": int(got[c, k]), "conversion": int(got[c, k]) / int(n[c]),
                    "expected_conversion": float(Fraction(int(cumexp[values][c, k]),
                                                          SCALE * int(n[c]))),
                })
    return rows
