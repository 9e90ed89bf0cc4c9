"""Out-of-core evaluation: the big tables read in record batches, never whole.

A table is *streamed* when it is only ever read record by record: it is some measure's own
table, and no other table looks into it (no ``ref`` column names it, and it is no rate, profile,
cohort, fee, validation or contact-log table). Looked-up tables are loaded whole, as
:func:`pmir_dsl.load.load_tables` loads them.

A streamed table is read twice, in batches of :data:`BATCH_ROWS` records (Parquet files and
folders with ``ParquetFile.iter_batches``, CSV with pyarrow's streaming CSV reader), each batch
parsed by the loader's own column parsers:

1. the first pass (:func:`scan`) finds everything that needs the whole table: the problems of
   every batch (rows counted across batches), repeated ids (a 64-bit hash of every id, sorted;
   ids whose hash repeats are then compared exactly), far dates, the span of every date column
   (the as-of date, the calendar's years), the 6 latest distinct dates (the far-date warning),
   the sums of the summed columns (limits.check_sums), the distinct values of the text columns
   with their counts (look-alike values, decision 285; the records of a look-alike set are read
   again, only when one is found) and the SHA-256 of the files;
2. the second pass (:func:`evaluate`) evaluates each batch to a :class:`~pmir_dsl.evaluate.Partial`
   (the other tables empty, looked-up tables whole) and merges them exactly.

Figures, data-quality entries and warnings are byte-identical to the in-memory run
(tests/test_stream.py). Memory is two batches at a time (the one worked on and the next,
read ahead: :func:`ahead`) plus 8 bytes per id of the streamed tables (the repeat check) and
the distinct values of their text columns.

A streamed table's shell (``Opened.tables``) holds no columns: code that reads a whole table
takes a streamed one's facts from :class:`Streamed` (``spans``, ``latest``, ``sums``, ``texts``,
``lookalikes``) and resolves joined columns from the declarations (decision 274).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import ir, limits, lookalike
from .compile import Batch, Plan
from .errors import DataError, DataProblem
from .evaluate import Partial, Quality, partials, quality_entry
from .load import (
    _CODED, SHOWN_ROWS, _check_required, _concat_parts, _csv_options, _csv_read, _data_folder,
    _empty_is_null, _Field, _find_source, _missing_columns, _parse_column, _plain,
    _report_duplicates, _sha256, _Source, each_table, load_table,
)
from .pipeline import (
    Evaluation, Spans, evaluate_with, latest_dates, merge_all, resolve_as_of, slice_table,
)
from .schema import DECIMAL_SCALE, Column, ColumnType, Table, TableSpec

#: Records per batch of a streamed table.
BATCH_ROWS = 1 << 18
#: ``pmirc check`` streams on its own when the streamable tables' files are larger than this
#: (per format: Parquet holds about four times as many records per byte as CSV).
STREAM_BYTES = {"csv": 1 << 30, "parquet": 256 << 20, "folder": 256 << 20}


# ---- which tables -------------------------------------------------------------------------------


def streamable(contract: ir.Contract) -> tuple[str, ...]:
    """The tables that can be streamed: measures' own tables that nothing looks up."""
    own = {m.table for m in contract.measures}
    looked = {t for m in contract.measures for t, _ in ir.measure_columns(m, contract)
              if t != m.table}
    looked |= {m.expected.table for m in contract.measures if m.expected is not None}
    looked |= {r.fee_table for r in contract.remedies}
    looked |= {r.validation.table for r in contract.reviews if r.validation is not None}
    return tuple(t.name for t in contract.used_tables() if t.name in own - looked)


def chosen(contract: ir.Contract, data_dir: str | Path, stream: bool | None) -> tuple[str, ...]:
    """The tables to stream: all streamable ones with ``--stream``, none with ``--no-stream``,
    and by default all of them when their files are larger than :data:`STREAM_BYTES`."""
    if stream is False:
        return ()
    names = streamable(contract)
    if stream or not names:
        return names
    try:
        sources = [_find_source(_data_folder(data_dir), n) for n in names]
    except DataError:
        return ()  # the in-memory loader reports it
    size = sum(f.stat().st_size for s in sources for f in s.files)
    limit = min(STREAM_BYTES[s.kind] for s in sources)
    return names if size > limit else ()


# ---- a streamed table ---------------------------------------------------------------------------


@attrs.frozen(eq=False)
class Streamed:
    """A table read in batches, and what the first pass found in it."""

    spec: TableSpec
    source: _Source
    batch_rows: int
    rows: int
    sha256: str
    spans: dict[str, tuple[np.datetime64 | None, np.datetime64 | None]]
    latest: np.ndarray  # its 6 latest distinct dates
    empty: Table  # no rows, its columns
    sums: _Sums
    texts: dict[str, lookalike.Values]  # its text columns' distinct values and their counts
    lookalikes: tuple[Quality, ...]  # its look-alike entries (decision 285)

    @property
    def shell(self) -> Table:
        """The table as reports see it (rows, hash, path), without columns."""
        return Table(self.spec.name, self.source.path, self.rows, self.sha256, {})

    def batches(self) -> Iterator[tuple[int, Table]]:
        """(first row, parsed table) of each batch; the first pass found no problem. Each
        batch is read and parsed while the caller works on the one before."""
        for offset, _, table, _ in ahead(parsed(self.source, self.spec, self.batch_rows)):
            yield offset, table


def parsed(source: _Source, spec: TableSpec, batch_rows: int
           ) -> Iterator[tuple[int, pa.Table, Table, list[DataProblem]]]:
    """(first row, the batch as read, parsed, its problems) of each batch of a table."""
    offset = 0
    for raw in raw_batches(source, spec, batch_rows):
        yield offset, raw, *parse(source, spec, raw, offset)
        offset += raw.num_rows


_END = object()


def ahead(items: Iterator[Any]) -> Iterator[Any]:
    """``items`` in order, each next one made on a thread of its own while the caller works
    on the one before (reading and parsing a batch, mostly in Arrow and numpy, runs beside
    its evaluation): one item more held at a time. An error making an item is raised where
    the caller asks for that item, as without the thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, items, _END)
        while True:
            item = pending.result()
            if item is _END:
                return
            pending = pool.submit(next, items, _END)
            yield item


def raw_batches(source: _Source, spec: TableSpec, batch_rows: int) -> Iterator[pa.Table]:
    """The declared columns in batches of exactly ``batch_rows`` records (the last fewer)."""
    names = [c.name for c in spec.columns]
    if source.kind == "csv":
        pieces = _csv_pieces(source, spec, names)
    else:
        coded = [c.name for c in spec.columns if c.type in _CODED]
        pieces = (p for path in source.files
                  for p in _parquet_pieces(source, spec, path, names, coded, batch_rows))
    held: list[pa.Table] = []
    count = 0
    for piece in pieces:
        held.append(piece)
        count += piece.num_rows
        while count >= batch_rows:
            whole = _concat_parts(source, held)
            yield whole.slice(0, batch_rows)
            rest = whole.slice(batch_rows)
            held, count = [rest], rest.num_rows
    if count or not held:
        yield _concat_parts(source, held) if held else _empty(source, spec)


def _csv_pieces(source: _Source, spec: TableSpec, names: list[str]) -> Iterator[pa.Table]:
    read = _csv_read(source.files[0], names)
    try:
        options = _csv_options(read, True)
        for batch in pacsv.open_csv(read.path, **options):  # type: ignore[arg-type]
            yield pa.Table.from_batches([batch])
    except (pa.ArrowException, OSError):
        _as_loaded(source, spec)


def _parquet_pieces(source: _Source, spec: TableSpec, path: Path, names: list[str],
                    coded: list[str], batch_rows: int) -> Iterator[pa.Table]:
    try:
        parquet = pq.ParquetFile(path, read_dictionary=coded or None)
        missing = _missing_columns(str(path), names, parquet.schema_arrow.names)
        if missing:
            raise DataError(missing)
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=names,
                                          use_threads=True):
            yield pa.table({n: _empty_is_null(_plain(pa.chunked_array([batch.column(n)]),
                                                         n in coded)) for n in names})
    except (pa.ArrowException, OSError):
        _as_loaded(source, spec)


def _as_loaded(source: _Source, spec: TableSpec) -> None:
    """A file the streaming readers cannot read: the in-memory loader's message for it."""
    try:
        load_table(Path(source.path).parent, spec)
    except DataError as error:
        raise DataError(error.problems) from None
    raise DataError(DataProblem(source.path, "cannot read the file in batches"))


def _empty(source: _Source, spec: TableSpec) -> pa.Table:
    """A table of no records (a file with none): the in-memory loader reads it."""
    return pa.table({c.name: pa.array([], pa.string()) for c in spec.columns})


def parse(source: _Source, spec: TableSpec, data: pa.Table, offset: int
          ) -> tuple[Table, list[DataProblem]]:
    """One batch parsed as the loader parses a table, its problems' rows counted from the
    table's first record; ids are not checked for repeats here (:func:`scan` does)."""
    fields = [_Field(source.path, c, data.column(c.name), source.first_row) for c in spec.columns]
    workers = max(1, min(len(fields), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        columns = list(pool.map(_parse_field, fields))
    problems = [_shifted(p, offset) for f in fields for p in f.problems]
    cols = {f.spec.name: c for f, c in zip(fields, columns) if c is not None}
    return Table(spec.name, source.path, data.num_rows, "", cols), problems


def _parse_field(field: _Field) -> Column | None:
    """A column as the loader parses it, an id column without its repeat check."""
    if field.spec.type is not ColumnType.ID:
        return _parse_column(field)
    loose = attrs.evolve(field, spec=attrs.evolve(field.spec, type=ColumnType.REF, nullable=True),
                         problems=field.problems)
    column = _parse_column(loose)
    _check_required(field)
    return None if column is None else attrs.evolve(column, spec=field.spec)


def _shifted(p: DataProblem, offset: int) -> DataProblem:
    return attrs.evolve(p, rows=tuple(r + offset for r in p.rows)) if offset else p


class _Problems:
    """Problems of successive batches merged: the same problem's rows (the first shown) and
    counts added up, in the order first met."""

    def __init__(self) -> None:
        self.found: dict[tuple[Any, ...], DataProblem] = {}

    def add(self, problems: Iterable[DataProblem]) -> None:
        for p in problems:
            key = (p.file, p.column, p.message, p.hint)
            q = self.found.get(key)
            self.found[key] = p if q is None else attrs.evolve(
                q, rows=(q.rows + p.rows)[:SHOWN_ROWS], values=(q.values + p.values)[:SHOWN_ROWS],
                count=q.count + p.count)

    def all(self) -> list[DataProblem]:
        return list(self.found.values())


# ---- the first pass -----------------------------------------------------------------------------


def scan(data_dir: str | Path, spec: TableSpec, contract: ir.Contract,
         batch_rows: int = BATCH_ROWS) -> Streamed:
    """Read a table in batches once: its problems (raised as :class:`DataError`, as the loader
    raises them), and the facts about the whole table that evaluation needs."""
    source = _find_source(_data_folder(data_dir), spec.name)
    ids = next((c.name for c in spec.columns if c.type is ColumnType.ID), None)
    sums = _Sums(contract, spec.name)
    problems, far = _Problems(), _Problems()
    spans: dict[str, tuple[Any, Any]] = {}
    latest = np.array([], dtype="datetime64[D]")
    rows, empty = 0, None
    texts = _Texts()
    # ids' hash keys go to a file, read back once the batches are gone: 8 bytes per id at most
    with tempfile.TemporaryFile() as keys, ThreadPoolExecutor(max_workers=1) as pool:
        digest: Future[str] = pool.submit(_sha256, source)
        for _, raw, table, found in ahead(parsed(source, spec, batch_rows)):
            if empty is None:
                empty = parse(source, spec, raw.slice(0, 0), 0)[0]
            problems.add(found)
            if not found:  # a table with problems is reported, not evaluated
                far.add(_shifted(p, rows) for p in limits.out_of_span(table))
                dates = [c for c in table.columns.values() if c.spec.type is ColumnType.DATE]
                for c in dates:
                    spans[c.spec.name] = _wider(spans.get(c.spec.name), _span(c.values))
                latest = np.unique(np.concatenate([latest, latest_dates([c.values for c in dates],
                                                                         6)]))[-6:]
                sums.add(table, rows)
                texts.add(table)
                if ids is not None:
                    id_keys(table.columns[ids].values).tofile(keys)
            rows += raw.num_rows
        sha256 = _sha_or_problem(source, digest)
        found = _by_column(spec, problems.all())
        if ids is not None and not found:
            found = _with_repeats(found, source, spec, ids, batch_rows, keys)
    if found:
        raise DataError(found)
    if far.all():
        raise DataError(_by_column(spec, far.all()))
    assert empty is not None
    values = texts.values(spec)
    return Streamed(spec, source, batch_rows, rows, sha256, spans, latest, empty, sums, values,
                    _lookalikes(source, spec, values, batch_rows))


def _by_column(spec: TableSpec, problems: list[DataProblem]) -> list[DataProblem]:
    """Problems in the order of the declared columns, as the loader gives them (a column's
    own problems in the order first met)."""
    order = {c.name: i for i, c in enumerate(spec.columns)}
    return sorted(problems, key=lambda p: order.get(p.column or "", -1))


def _sha_or_problem(source: _Source, digest: Future[str]) -> str:
    try:
        return digest.result()
    except OSError as error:
        raise DataError(DataProblem(source.path, f"cannot read the file: {error}")) from None


def _span(values: np.ndarray) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    from .limits import date_span

    return date_span(values)


def _wider(a: tuple[Any, Any] | None, b: tuple[Any, Any]) -> tuple[Any, Any]:
    if a is None or a[0] is None:
        return b
    if b[0] is None:
        return a
    return min(a[0], b[0]), max(a[1], b[1])


# ---- repeated ids -------------------------------------------------------------------------------

_P = 0x100000001B3


def _powers(n: int) -> list[int]:
    """_P to the powers 0 .. n-1, modulo 2**64."""
    out = [1]
    for _ in range(n - 1):
        out.append(out[-1] * _P % (1 << 64))
    return out


def id_keys(ids: pa.Array) -> np.ndarray:
    """A 64-bit hash of each present id (a polynomial over its bytes, then mixed): equal ids
    have equal keys; a repeated key is only a candidate repeat."""
    ids = ids.drop_null() if ids.null_count else ids
    n = len(ids)
    if n == 0:
        return np.zeros(0, np.uint64)
    offsets = np.frombuffer(ids.buffers()[1], np.int32)[ids.offset:ids.offset + n + 1]
    offsets = offsets.astype(np.int64)
    start, lengths = offsets[0], np.diff(offsets)
    data = np.frombuffer(ids.buffers()[2], np.uint8)[start:offsets[-1]].astype(np.uint64)
    ends = np.repeat(offsets[1:] - start, lengths)
    power = np.array(_powers(int(lengths.max(initial=0)) + 1), np.uint64)
    weighted = np.append(data * power[ends - 1 - np.arange(len(data))], np.uint64(0))
    key = np.add.reduceat(weighted, offsets[:-1] - start)
    key[lengths == 0] = 0
    key ^= lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    key ^= key >> np.uint64(31)  # splitmix64's finish: spread the bits
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(29)
    return key


def _with_repeats(found: list[DataProblem], source: _Source, spec: TableSpec, ids: str,
                  batch_rows: int, keys: IO[bytes]) -> list[DataProblem]:
    """The id column's repeat problem, as the loader words it, when an id repeats."""
    keys.seek(0)
    every = np.fromfile(keys, np.uint64)
    every.sort()
    candidates = np.unique(every[1:][every[1:] == every[:-1]])
    del every
    if not len(candidates):
        return found
    rows, values = [], []
    offset = 0
    id_spec = TableSpec(spec.name, tuple(c for c in spec.columns if c.name == ids))
    for raw in raw_batches(source, id_spec, batch_rows):
        col = raw.column(ids).combine_chunks()
        col = col.cast(pa.string()) if not pa.types.is_string(col.type) else col
        present = np.flatnonzero(~np.asarray(col.is_null().to_numpy(zero_copy_only=False)))
        hit = present[np.isin(id_keys(col), candidates)]
        rows.append(hit + offset)
        values.append(col.take(pa.array(hit)))
        offset += raw.num_rows
    field = _Field(source.path, id_spec.columns[0], pa.chunked_array(values, pa.string()),
                   source.first_row)
    at = np.concatenate(rows)
    _report_duplicates(field, pa.chunked_array(values, pa.string()).combine_chunks()
                       .dictionary_encode())
    repeats = [attrs.evolve(p, rows=tuple(int(at[r - source.first_row]) + source.first_row
                                          for r in p.rows)) for p in field.problems]
    # the loader reports repeats after the column's length check, before its empty cells
    required = [p for p in found if p.column == ids and p.message.startswith("empty")]
    rest = [p for p in found if p not in required]
    return rest + repeats + required


# ---- sums ---------------------------------------------------------------------------------------


class _Sums:
    """The summed columns of a streamed table, added up exactly across batches, and their
    largest values (for limits.check_sums's message)."""

    def __init__(self, contract: ir.Contract, table: str) -> None:
        self.columns = [(m, spec) for m in contract.measures if m.table == table
                        for spec in limits.summed_columns(m)]
        self.total: dict[str, int] = {}
        self.count: dict[str, int] = {}
        self.top: dict[str, list[tuple[int, int, int]]] = {}  # (-magnitude, row, value)
        self.path = ""

    def add(self, table: Table, offset: int) -> None:
        self.path = table.path
        for _, spec in self.columns:
            col = table.columns[spec.name]
            if col.spec.type not in (ColumnType.DECIMAL, ColumnType.INTEGER):
                continue
            rows = np.flatnonzero(col.present())
            magnitude = np.abs(col.values[rows])
            exact = (int((magnitude >> 32).sum()) << 32) + int((magnitude & 0xFFFFFFFF).sum())
            self.total[spec.name] = self.total.get(spec.name, 0) + exact
            self.count[spec.name] = self.count.get(spec.name, 0) + len(rows)
            best = np.argsort(-magnitude, kind="stable")[:5]
            top = self.top.get(spec.name, []) + [(-int(magnitude[i]), int(rows[i]) + offset,
                                                 int(col.values[rows[i]])) for i in best]
            self.top[spec.name] = sorted(top)[:5]

    def problems(self) -> list[DataProblem]:
        out: dict[str, DataProblem] = {}
        for m, spec in self.columns:
            if spec.name in out or spec.name not in self.total:
                continue
            factor = DECIMAL_SCALE if spec.type is ColumnType.INTEGER else 1
            if self.total[spec.name] * factor <= limits.SUM_LIMIT:
                continue
            shown = sorted((row, value) for _, row, value in self.top[spec.name])
            out[spec.name] = limits.sum_problem(m, self.path, spec, [r for r, _ in shown],
                                                [v for _, v in shown], self.count[spec.name])
        return list(out.values())


# ---- look-alike values (decision 285) ----------------------------------------------------------


class _Texts:
    """The distinct values of a streamed table's text columns, with how many records hold each,
    added up across batches: bounded by the number of distinct values, not of records."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, table: Table) -> None:
        for column in table.columns.values():
            if column.spec.type is ColumnType.TEXT and column.dictionary:
                held = self.counts.setdefault(column.spec.name, {})
                found = lookalike.Values.of(column)
                for value, count in zip(found.dictionary, found.counts.tolist()):
                    held[value] = held.get(value, 0) + count

    def values(self, spec: TableSpec) -> dict[str, lookalike.Values]:
        """Each text column's values as the whole table's column holds them (sorted)."""
        out = {}
        for c in spec.columns:
            held = self.counts.get(c.name, {}) if c.type is ColumnType.TEXT else None
            if held is not None:
                dictionary = tuple(sorted(v for v, n in held.items() if n))
                out[c.name] = lookalike.Values(c, dictionary, np.array(
                    [held[v] for v in dictionary], np.int64))
        return out


def _lookalikes(source: _Source, spec: TableSpec, values: dict[str, lookalike.Values],
                batch_rows: int) -> tuple[Quality, ...]:
    """The look-alike entries of a streamed table, as :func:`pmir_dsl.lookalike.checks` gives
    a loaded table's: the sets come from the first pass's values; their records' count and
    smallest ids (or first rows) from reading the table's id and those columns again, only
    when some set was found."""
    found = {name: [(check, {v.dictionary[c] for c in codes})
                    for check, codes in lookalike.sets(v)] for name, v in values.items()}
    found = {name: sets for name, sets in found.items() if sets}
    if not found:
        return ()
    part = TableSpec(spec.name, tuple(c for c in spec.columns
                                      if c.name in found or c.type is ColumnType.ID))
    parts: list[Partial] = []
    offset = 0
    for raw in raw_batches(source, part, batch_rows):
        table, _ = parse(source, part, raw, offset)
        quality = {}
        for name, sets in found.items():
            column = table.columns[name]
            for check, alike in sets:
                codes = [i for i, v in enumerate(column.dictionary) if v in alike]
                mask = np.isin(column.values, np.array(codes, column.values.dtype))
                if mask.any():
                    quality[(spec.name, check)] = quality_entry(table, check, mask, offset)
        parts.append(Partial({}, quality))
        offset += raw.num_rows
    return tuple(merge_all(parts).quality.values())


# ---- opening and evaluating ---------------------------------------------------------------------


@attrs.frozen(eq=False)
class Opened:
    """A contract's tables: looked-up ones loaded whole, the streamed ones scanned."""

    tables: dict[str, Table]  # whole tables, and the streamed ones' shells, in declared order
    streams: dict[str, Streamed]

    @property
    def spans(self) -> Spans:
        return tuple(span for s in self.streams.values() for span in s.spans.values())

    @property
    def texts(self) -> dict[str, dict[str, lookalike.Values]]:
        """The streamed tables' text columns' values (lookalike.literal_warnings reads them)."""
        return {n: s.texts for n, s in self.streams.items()}

    @property
    def lookalikes(self) -> tuple[Quality, ...]:
        return tuple(q for s in self.streams.values() for q in s.lookalikes)


def open_tables(data_dir: str | Path, plan: Plan, names: Iterable[str],
                batch_rows: int | None = None) -> Opened:
    """Load the contract's tables, streaming ``names``: every table's problems raised together,
    as :func:`pmir_dsl.load.load_tables` raises them."""
    names = set(names)
    batch_rows = batch_rows or BATCH_ROWS
    folder = _data_folder(data_dir)
    streams: dict[str, Streamed] = {}

    def one(spec: TableSpec) -> Table:
        if spec.name not in names:
            return load_table(folder, spec)
        streams[spec.name] = scan(folder, spec, plan.contract, batch_rows)
        return streams[spec.name].shell
    return Opened(each_table(plan.contract.used_tables(), one), streams)


def check_sums(plan: Plan, opened: Opened) -> None:
    """limits.check_sums over whole and streamed tables."""
    problems = limits.sum_problems(plan.contract, opened.tables, frozenset(opened.streams))
    for s in opened.streams.values():
        problems += s.sums.problems()
    if problems:
        raise DataError(problems)


def check_axis(plan: Plan, opened: Opened, day: np.datetime64, source: str) -> None:
    """limits.check_axis, naming the rows of streamed tables too."""
    start = plan.contract.service_start
    months = int((day.astype("datetime64[M]") - np.datetime64(start, "M")).astype(np.int64)) + 1
    if months <= limits.MAX_MONTHS:
        return
    problems: list[DataProblem] = []
    for name, table in opened.tables.items():
        found = _Problems()
        parts: Iterable[tuple[int, Table]] = (opened.streams[name].batches()
                                              if name in opened.streams else [(0, table)])
        for offset, part in parts:
            try:
                limits.check_axis(start, day, source, {name: part})
            except DataError as error:
                found.add(_shifted(p, offset) for p in error.problems)
        problems += found.all()
        if source != "the latest date in the data" and problems:
            break  # the problem names the source, not the rows
    raise DataError(problems)


def evaluate(plan: Plan, opened: Opened, as_of: str | None = None,
             reduce: Callable[[Plan, Opened, Batch], Partial] | None = None) -> Evaluation:
    """Evaluate the opened tables, streamed ones batch by batch: the same figures as
    :func:`pmir_dsl.pipeline.evaluate` over the whole tables. ``reduce`` computes the merged
    partial of every batch (default: one after another, here; ``--engine dask``: on workers)."""
    check_sums(plan, opened)
    day, source = resolve_as_of(plan, opened.tables, as_of, opened.spans)
    check_axis(plan, opened, day, source)
    run = reduce or reduce_here
    return evaluate_with(plan, opened.tables, day, source, lambda whole: run(plan, opened, whole),
                         opened.spans, opened.lookalikes)


def whole_tables(opened: Opened) -> dict[str, Table]:
    """The tables loaded whole (streamed ones left out): what references resolve in."""
    return {n: t for n, t in opened.tables.items() if n not in opened.streams}


def first_part(opened: Opened) -> dict[str, Table]:
    """The whole tables, every streamed table empty: the part evaluated before the batches."""
    return {n: opened.streams[n].empty if n in opened.streams else t
            for n, t in opened.tables.items()}


def batch_part(opened: Opened, name: str, batch: Table) -> dict[str, Table]:
    """One batch of streamed table ``name``, every other table empty."""
    return {n: batch if n == name else opened.streams[n].empty if n in opened.streams
            else slice_table(t, 0, 0) for n, t in opened.tables.items()}


def reduce_here(plan: Plan, opened: Opened, whole: Batch) -> Partial:
    """Every part's partial, computed in this process one batch at a time, merged in order."""
    lookup = whole_tables(opened)

    def parts() -> Iterator[Partial]:
        yield partials(plan, attrs.evolve(whole, tables=first_part(opened), memo={},
                                          lookup=lookup), 0)
        for name, s in opened.streams.items():
            for offset, batch in s.batches():
                yield partials(plan, attrs.evolve(whole, tables=batch_part(opened, name, batch),
                                                  memo={}, lookup=lookup), offset)
    return merge_all(parts())


def far_date_columns(opened: Opened) -> Iterator[tuple[Table, Column, int]]:
    """(table, date column, first row) of every date column's pieces: whole tables' columns,
    then each batch of the streamed tables (read again: only when a far date is suspected)."""
    for name, t in opened.tables.items():
        if name in opened.streams:
            for offset, batch in opened.streams[name].batches():
                yield from ((batch, c, offset) for c in batch.columns.values()
                            if c.spec.type is ColumnType.DATE)
        else:
            yield from ((t, c, 0) for c in t.columns.values() if c.spec.type is ColumnType.DATE)
