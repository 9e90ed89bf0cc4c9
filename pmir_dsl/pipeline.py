"""The stages chained: check -> compile -> load -> evaluate, as ``pmirc check`` runs them."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from . import assurance, ir, jit, limits, lookalike, profiles, regimes, reviews
from .check import check_file
from .compile import (Batch, Plan, Shared, compile_contract, fusable_cohort, packed_starts,
                      references, unprofiled_starts)
from .errors import DataError, DataProblem
from .evaluate import (Axis, LazyRows, Partial, Quality, Results, finest_ahead, finish, merge,
                       partials, quality_entry)
from .limits import date_span
from .load import load_tables
from .schema import Column, ColumnType, Table


@attrs.frozen(eq=False)
class Evaluation:
    """Everything a report shows: the plan, as-of date, tables read, results and data quality."""

    plan: Plan
    as_of: str
    as_of_source: str
    tables: dict[str, Table]
    axis: Axis
    partial: Partial
    results: Sequence[dict[str, Any]]  # lazy: evaluate.Results, built as read
    expected: dict[str, Any] = attrs.Factory(dict)
    escalations: Sequence[dict[str, Any]] = attrs.Factory(list)  # lazy: built as read
    remedies: Sequence[dict[str, Any]] = attrs.Factory(list)  # lazy: fee rows, then notices
    reviews: list[dict[str, Any]] = attrs.Factory(list)
    assurance: list[dict[str, Any]] = attrs.Factory(list)

    def cohorts(self) -> list[dict[str, Any]]:
        """Cohort triangle rows of every measure against a cohort profile (all group levels)."""
        rows: list[dict[str, Any]] = []
        for mp in self.plan.measures:
            m, exp = mp.measure, self.expected.get(mp.measure.id)
            if exp is None or not exp.starts:
                continue
            counts = self.partial.counts[m.id]
            for i, level in enumerate(m.groups):
                actual = counts.cohorts[i] if counts.cohorts else {}
                rows += profiles.triangle(m.id, tuple(c.name for c in level), exp, i, actual,
                                          self.axis.first_month, self.axis.size)
        return rows

    @property
    def quality(self) -> list[Quality]:
        """Data-quality entries, sorted by table and check."""
        return sorted(self.partial.quality.values(), key=lambda q: (q.table, q.check))


def compile_file(path: str | Path) -> Plan:
    """Check and compile a contract file (raises CompileError with every diagnostic)."""
    return compile_contract(check_file(path))


def run_check(contract: str | Path, data_dir: str | Path, as_of: str | None = None,
              chunk_rows: int | None = None) -> Evaluation:
    """Compile ``contract``, load its tables from ``data_dir`` and evaluate them."""
    plan = compile_file(contract)
    tables = load_tables(data_dir, plan.contract.used_tables())
    return evaluate(plan, tables, as_of, chunk_rows)


def evaluate(plan: Plan, tables: dict[str, Table], as_of: str | None = None,
             chunk_rows: int | None = None) -> Evaluation:
    """Evaluate ``plan`` over loaded ``tables``, in chunks of ``chunk_rows`` rows if given."""
    limits.check_sums(plan.contract, tables)  # before any sum can wrap round
    day, source = resolve_as_of(plan, tables, as_of)
    limits.check_axis(plan.contract.service_start, day, source, tables)  # memory grows with it

    def reduce(whole: Batch) -> Partial:
        return _reduce_chunks(plan, whole, tables, chunk_rows)
    return evaluate_with(plan, tables, day, source, reduce)


#: Earliest and latest date of date columns that are not in ``tables`` (streamed ones).
Spans = tuple[tuple[np.datetime64 | None, np.datetime64 | None], ...]


def evaluate_with(plan: Plan, tables: dict[str, Table], day: np.datetime64, source: str,
                  reduce: Callable[[Batch], Partial], spans: Spans = (),
                  lookalikes: Iterable[Quality] = ()) -> Evaluation:
    """The evaluation as of ``day`` whose records' partials ``reduce`` gives, merged, for the
    whole batch it is handed (calendar and months fixed). ``tables`` are whole, but for streamed
    tables, which hold no columns: ``spans`` gives their date columns' spans instead, and
    ``lookalikes`` their look-alike entries (pmir_dsl/stream.py's first pass finds them)."""
    start = np.datetime64(plan.contract.service_start, "D")
    if day < start:
        raise DataError(DataProblem("--as-of", f"the as-of date {day} is before the contract's "
                                    f"service start {start}"))
    whole = make_batch(plan, tables, day, spans)
    total, (expected, alike) = _beside(lambda: reduce(whole),
                                       lambda: _whole_table_parts(plan, whole, tables))
    axis = Axis(whole.first_month, whole.last_month)
    total = _with_lookalikes(_with_profile_problems(plan, total, expected), alike, lookalikes)
    triggers, total = _assurance(plan, total, tables, whole.as_of)
    results = finish(plan, total, axis, expected, whole)
    c = plan.contract
    found, notices, running = _reviews(plan, total, axis, whole, tables)
    levels = _escalations(c, results, axis, notices, running, whole.as_of)
    money = _money(c, results, axis, tables, notices, running)
    return Evaluation(plan, str(day), source, tables, axis, total, results, expected, levels,
                      money, found, triggers)


def _beside(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """(``first()``, ``second()``): ``second`` on a thread of its own while ``first`` runs,
    where chunks are evaluated on threads (numpy and the compiled loops release the GIL), else
    one after the other. An error of ``first`` is raised before any of ``second``, as when they
    ran in turn."""
    if EVALUATION_THREADS <= 1:
        done = first()
        return done, second()
    with ThreadPoolExecutor(max_workers=1) as side:
        pending = side.submit(second)
        done = first()
        return done, pending.result()


def _whole_table_parts(plan: Plan, whole: Batch, tables: dict[str, Table]
                       ) -> tuple[dict[str, Any], dict[tuple[str, str], Quality]]:
    """What is worked out once over the whole tables and needs no chunk's partial: every
    measure's expected figures (profiles) and the loaded tables' look-alike entries. Its own
    batch memo: the chunks' reduction may run beside it."""
    own = attrs.evolve(whole, memo={})
    expected = {mp.measure.id: profiles.expected(mp.measure, own) for mp in plan.measures
                if mp.measure.expected is not None}
    return expected, _lookalike_entries(tables)


Running = dict[str, dict[tuple[Any, ...], list[str]]]


def _escalations(c: Any, results: Results, axis: Axis, notices: list[dict[str, Any]],
                 running: Running, as_of: np.datetime64) -> LazyRows:
    """Every regime's rows (one per group and month), built as they are written: a filtered
    view decides only its groups' verdicts. A contract whose reviews raise notices has each
    row annotated with its group's notices running at the month's end."""
    def make(groups: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        for r in c.regimes:
            for row in regimes.escalation_stream(r, results, axis, running, groups):
                if running:
                    reviews.annotate([row], notices, as_of)
                yield row
    return LazyRows(make)


def _money(c: Any, results: Results, axis: Axis, tables: dict[str, Table],
           notices: list[dict[str, Any]], running: Running) -> LazyRows:
    """Every remedy's fee rows, then the notices: fees checked now (a data error is raised by
    the evaluation), rows built as they are read, a filtered view's groups only."""
    fees = [regimes.checked_fees(r, results, axis, tables[r.fee_table], running)
            for r in c.remedies]
    raised = reviews.public(notices)

    def make(groups: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        for r, fee in zip(c.remedies, fees):
            yield from regimes.remedy_stream(r, results, axis, fee, running, groups)
        yield from raised
    return LazyRows(make)


def _assurance(plan: Plan, total: Partial, tables: dict[str, Table], as_of: np.datetime64
               ) -> tuple[list[dict[str, Any]], Partial]:
    """The triggers of every assurance (docs/language.md 9.5), and the partial with the
    reviews they leave out added to its data-quality entries."""
    rows: list[dict[str, Any]] = []
    quality = dict(total.quality)
    for a in plan.contract.assurances:
        found, excluded = assurance.evaluate(a, tables[a.table], as_of)
        rows += found
        for check, mask in excluded.items():
            quality.setdefault((a.table, check), quality_entry(tables[a.table], check, mask))
    return rows, attrs.evolve(total, quality=quality)


def merge_all(parts: Iterable[Partial]) -> Partial:
    """The merged partial of disjoint batches' partials, in their order (at least one)."""
    total: Partial | None = None
    for part in parts:
        total = part if total is None else merge(total, part)
    assert total is not None
    return total


def _reduce_chunks(plan: Plan, whole: Batch, tables: dict[str, Table],
                   chunk_rows: int | None) -> Partial:
    """Every chunk's partial, merged in chunk order. Chunks are evaluated on a few threads
    (numpy works outside the GIL on whole columns), the merge stays in order, so the result
    is the same as one chunk after another."""
    shared = Shared()  # joins into whole tables, computed once for every chunk

    def one(item: tuple[int, dict[str, Table]]) -> Partial:
        offset, chunk = item
        return partials(plan, attrs.evolve(whole, tables=chunk, memo={}, lookup=tables,
                                           offset=offset, shared=shared), offset)

    chunks = list(_chunks(tables, chunk_rows))
    workers = min(len(chunks), EVALUATION_THREADS)
    if workers <= 1:
        return merge_all(map(one, chunks))
    ahead = attrs.evolve(whole, tables=chunks[0][1], memo={}, lookup=tables, offset=0,
                         shared=shared)
    with ThreadPoolExecutor(max_workers=1) as side, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        side.submit(_shared_ahead, plan, ahead)
        return merge_all(pool.map(one, chunks))


def _shared_ahead(plan: Plan, b: Batch) -> None:
    """Work out the results over whole tables that the chunks share (``b.shared``), on a
    thread of its own started with them, before they ask: each measure's references joined
    into the tables they refer to, the finest group codes of the tables read through them
    (:func:`~pmir_dsl.evaluate.finest_ahead`), and for each measure against cohorts of another
    table the starts packed for its compiled pass, else the cohort table's rows no profile
    covers.
    A chunk asks for them only after the measures before (ESF: five measures of its referrals),
    so it finds them made, or waits for the rest of the making as it would have waited for
    another chunk's. Nothing here is kept that a chunk would not make: a failure is left for the
    chunk that needs the result, which makes it again and raises as it did."""
    try:
        for m in (mp.measure for mp in plan.measures):
            for ref in references(m):  # the joins of compile.MeasurePlan._joins
                b.join(m.table, ref)
        for mp in plan.measures:  # the referenced tables' finest group codes
            finest_ahead(mp, b)
        for m in (mp.measure for mp in plan.measures):
            if not (isinstance(m.expected, ir.ExpectedCohort) and m.expected.link is not None):
                continue
            if b.jit and fusable_cohort(m) and packed_starts(m, b) is not None:
                continue  # made: what compile.MeasurePlan._cohort_verdicts reads
            unprofiled_starts(m, b)  # what compile.MeasurePlan._cohort reads
    except Exception:  # noqa: BLE001 (made again, and raised, by the chunk that needs it)
        return


#: Threads that evaluate chunks side by side (at most one per CPU).
EVALUATION_THREADS = min(4, os.cpu_count() or 1)


def _reviews(plan: Plan, total: Partial, axis: Axis, whole: Batch, tables: dict[str, Table]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                        dict[str, dict[tuple[Any, ...], list[str]]]]:
    """Every review's rows and notices, and per notice the months each group has one running."""
    rows: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    running = {}
    for r in plan.contract.reviews:
        levels = {}
        for mid in r.measures:
            m = plan.measure(mid).measure
            levels[mid] = [tuple(c.name for c in level) for level in m.groups].index(r.keys)
        table = tables.get(r.validation.table) if r.validation else None
        found, raised = reviews.evaluate(r, total.counts, levels, axis, whole.as_of, whole.cal,
                                         table)
        rows += found
        notices += raised
        if r.notice is not None:
            running[r.notice] = reviews.open_months(raised, r.notice, r.keys, axis,
                                                    whole.as_of)
    rows.sort(key=lambda x: (x["review"], x["measure"], len(x["group"]),
                             reviews.group_order(x["group"]), x["period"]))
    return rows, notices, running


def _with_profile_problems(plan: Plan, total: Partial, expected: dict[str, Any]) -> Partial:
    """Add starts that no profile covers to the data-quality entries (once per check)."""
    quality = dict(total.quality)
    for mid, exp in expected.items():
        e = plan.measure(mid).measure.expected
        for check, count, examples in exp.problems:
            quality.setdefault((e.table, check), Quality(e.table, check, count, examples))
    return attrs.evolve(total, quality=quality)


def _lookalike_entries(tables: dict[str, Table]) -> dict[tuple[str, str], Quality]:
    """Each set of text values of the loaded ``tables`` that print alike but group apart
    (decision 285), as a data-quality entry."""
    return {(name, check): quality_entry(table, check, mask, 0)
            for name, table in tables.items() for check, mask in lookalike.checks(table)}


def _with_lookalikes(total: Partial, loaded: dict[tuple[str, str], Quality],
                     streamed: Iterable[Quality] = ()) -> Partial:
    """Add the look-alike entries: those of the ``loaded`` tables, and those ``streamed``
    tables' first pass found."""
    quality = dict(total.quality)
    quality.update(loaded)
    quality.update(((q.table, q.check), q) for q in streamed)
    return attrs.evolve(total, quality=quality)


def make_batch(plan: Plan, tables: dict[str, Table], as_of: np.datetime64,
               spans: Spans = ()) -> Batch:
    """A batch of all of ``tables`` with the contract's calendar and month axis fixed."""
    start = np.datetime64(plan.contract.service_start, "D")
    first, last = (int(d.astype("datetime64[M]").astype(np.int64)) for d in (start, as_of))
    cal = plan.contract.calendar.busdaycalendar(*_year_span(tables, start, as_of, spans))
    rows = max((t.rows for t in tables.values()), default=0)
    return Batch(tables, as_of, cal, first, last, jit=jit.wanted(rows))


def resolve_as_of(plan: Plan, tables: dict[str, Table], given: str | None,
                  spans: Spans = ()) -> tuple[np.datetime64, str]:
    """The as-of date and where it came from: --as-of, the contract, or the latest data date."""
    if given is not None:
        return np.datetime64(given, "D"), "--as-of"
    if plan.contract.extract_date:
        return np.datetime64(plan.contract.extract_date, "D"), "the contract's extract date"
    latest = [hi for _, hi in date_spans(tables, spans) if hi is not None]
    if not latest:
        raise DataError(DataProblem(", ".join(sorted(tables)) or "data", "no dates in the data "
                                    "to take the as-of date from", hint="pass --as-of YYYY-MM-DD"))
    return max(latest), "the latest date in the data"


def date_spans(tables: dict[str, Table], spans: Spans = ()) -> Spans:
    """The span of every date column of ``tables``, then ``spans`` (those of streamed tables)."""
    return (*(date_span(c.values) for c in _date_columns(tables)), *spans)


def _date_columns(tables: dict[str, Table]) -> list[Column]:
    return [c for t in tables.values() for c in t.columns.values()
            if c.spec.type is ColumnType.DATE]


def _year_span(tables: dict[str, Table], start: np.datetime64, as_of: np.datetime64,
               spans: Spans = ()) -> tuple[int, int]:
    """Years whose bank holidays matter: every date in the data, the start and the as-of date."""
    years = [int(str(d)[:4]) for d in (start, as_of)]
    for lo, hi in date_spans(tables, spans):
        if lo is not None and hi is not None:
            years += [int(str(lo)[:4]), int(str(hi)[:4])]
    return min(years), max(years) + 1  # deadlines may run into the next year


def latest_dates(columns: list[np.ndarray], k: int) -> np.ndarray:
    """The ``k`` latest distinct dates of the columns, sorted (fewer if there are fewer).

    The k latest overall are among the k latest of each column, and those are among its dates
    in the last month of its span, or failing that in a window eight times as long, and so on:
    each step is one comparison over the column and a count of the few dates it keeps."""
    found = [np.array([], dtype="datetime64[D]")]
    for values in columns:
        lo, hi = date_span(values)
        if lo is None or hi is None:
            continue
        first, last = int(lo.astype(np.int64)), int(hi.astype(np.int64))
        days = values.view(np.int64)  # NaT is the smallest int64: never in a window
        window = 31
        while True:
            since = max(first, last - window)
            recent = days[days >= since] - since
            present = np.flatnonzero(np.bincount(recent, minlength=last - since + 1))
            if len(present) >= k or since == first:
                break
            window *= 8
        found.append((present[-k:] + since).astype("datetime64[D]"))
    return np.unique(np.concatenate(found))[-k:]


#: Records are evaluated in chunks of this many rows by default: the result is the same (counts
#: merge exactly) and full-size temporaries are slower to allocate than cache-sized ones.
DEFAULT_CHUNK_ROWS = 1 << 20


def _chunks(tables: dict[str, Table], chunk_rows: int | None):  # type: ignore[no-untyped-def]
    """(row offset, tables sliced to that offset) for each chunk."""
    longest = max((t.rows for t in tables.values()), default=0)
    step = chunk_rows or DEFAULT_CHUNK_ROWS
    for offset in range(0, max(longest, 1), step):
        yield offset, {n: slice_table(t, offset, offset + step) for n, t in tables.items()}


def slice_table(t: Table, start: int, stop: int) -> Table:
    """Rows [start, stop) of a loaded table (views, no copies)."""
    stop = min(stop, t.rows)
    start = min(start, stop)
    cols = {n: _slice_column(c, start, stop) for n, c in t.columns.items()}
    return Table(t.name, t.path, stop - start, t.sha256, cols)


def _slice_column(c: Column, start: int, stop: int) -> Column:
    def cut(a: Any) -> Any:
        return None if a is None else a[start:stop]

    values = c.values.slice(start, stop - start) if c.spec.type is ColumnType.ID else \
        c.values[start:stop]
    return attrs.evolve(c, values=values, valid=cut(c.valid), months=cut(c.months))
