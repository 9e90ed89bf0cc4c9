"""Read a contract's tables from a data folder (CSV or Parquet) into typed columns.

Each declared table is one of ``DATA_DIR/NAME.csv``, ``DATA_DIR/NAME.parquet`` or a folder
``DATA_DIR/NAME/`` of ``*.parquet`` files (one partitioned table, its files read in name order;
sub-folders are not searched). Only the declared columns are read; extra columns and column order
do not matter. Values become the fixed per-type representation documented in :mod:`.schema`.

Everything is vectorised (pyarrow.compute and numpy, no Python loop over rows), and the columns
of a table are parsed on a thread pool while the file's SHA-256 is computed on another thread.

Decisions worth knowing:

* CSV: only an empty cell (quoted or not) is null. pyarrow's default null markers (``NA``,
  ``NULL``, ``n/a``, ...) are ordinary values, so an id or text ``NA`` survives.
* CSV values are taken exactly as written (no trimming), so ``"2024-01-01 "`` is a bad date.
* ``integer`` accepts an optional ``+``/``-`` and leading zeros, with at most 18 significant
  digits; ``decimal`` accepts ``+``/``-``, at most 12 integer digits and at most 6 significant
  decimal places (trailing zeros beyond the 6th place are allowed: ``1.5000000`` is exact).
* Rows in problems are spreadsheet rows for CSV (header row 1, first record row 2) and record
  numbers counted from 1 for Parquet (a partitioned table counts across its files in name order).
* Parquet: dictionary and large strings are read as strings; integers are accepted for ``id``,
  ``text`` and ``category`` (as their decimal text); a float NaN is null; floats for ``decimal``
  are rounded to the nearest millionth (binary floats cannot hold most decimals exactly) and for
  ``integer`` must be whole; Parquet decimals are converted exactly; timestamps become their
  calendar date in their own time zone (a London midnight in summer, 23:00 UTC, is that day), or
  as written if they have none. ``month`` and ``quarter`` must be text in Parquet too.
* Dates must lie in the years 0000 to 9999 in Parquet as in CSV (``YYYY-MM-DD``): a Parquet date
  in the year 5,000,000 is a wrong unit or an overflow, not a date.
* A CSV file that is not UTF-8 (saved as ANSI / Windows-1252, say) is reported by column, with
  the rows that hold the bytes and their values (undecodable bytes shown as U+FFFD).
* Values shown in problems are cut to :data:`SHOWN_CHARS` characters (with the full length).
* Ids and text longer than :data:`MAX_CELL_CHARS` (32,767, Excel's limit for a cell) are problems:
  such a cell is a broken export, and a group's name is repeated in every one of its results.
* Duplicate ids are shown grouped by id (ids in sorted order, each with its rows), not file order.
* The hash of a partitioned table covers each file's name (then a NUL byte) and its bytes, in
  name order.
* A date column may declare its format (``DD/MM/YYYY``, :mod:`.date_formats`): read with
  pyarrow's strptime, strictly (docs/language.md decision 280).
* A CSV header is read from at most one block, with any line end (CRLF, LF, CR); a declared
  column that is in the header with an invisible character (a second BOM) is named so.
* In Parquet, an empty string in a column read as text is an empty cell, as in CSV (decision
  284); a folder table's ``*.parquet`` that is a broken symbolic link is a problem, not skipped.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import errno
import hashlib
import io
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import jit
from .date_formats import SLASHED, DateFormat, compiled_format
from .errors import DataError, DataProblem
from .limits import date_span, out_of_span, remember_span
from .schema import DECIMAL_PLACES, Column, ColumnSpec, ColumnType, Table, TableSpec
from .visible import visible

#: How many bad rows (and their values) a problem shows.
SHOWN_ROWS = 5
#: How many characters of a value a problem shows (a 1 MB cell is shown by its start and length).
SHOWN_CHARS = 80
#: The longest id or text a cell may hold: Excel's limit, since these values come from and go
#: back to spreadsheets (and each is repeated in every result row of its group).
MAX_CELL_CHARS = 32_767
_HASH_CHUNK = 1 << 20
_CSV_BLOCK = 4 << 20
#: The largest block pyarrow takes, for a file with a record longer than :data:`_CSV_BLOCK`.
_CSV_BLOCK_LIMIT = (1 << 31) - 1
_NULL_STRING = pa.scalar(None, pa.string())

_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_INTEGER_RE = r"^[+-]?0*\d{1,18}$"
_DECIMAL_RE = r"^[+-]?0*\d{1,12}(\.\d{1,6}0*)?$"
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_QUARTER_RE = r"^\d{4}-Q[1-4]$"
#: Largest magnitude a decimal may have: its millionths must fit in an int64.
_DECIMAL_LIMIT = Decimal(10**12)
_INTEGER_LIMIT = Decimal(10**18)
#: The dates a ``YYYY-MM-DD`` text can write; Parquet dates must lie between them too.
_DATE_RANGE = (np.datetime64("0000-01-01", "D"), np.datetime64("9999-12-31", "D"))
#: NaT as the int64 a datetime64[D] array holds.
_NAT_DAY = np.iinfo(np.int64).min

_DATE_HINT = (
    "write dates as YYYY-MM-DD, e.g. 2024-03-31, and use real calendar dates (in Excel, format"
    " the column as yyyy-mm-dd before saving as CSV)"
)
_REQUIRED_HINT = "if the column may be empty, mark it optional with '?' in the contract's table"


# ---------------------------------------------------------------------------------------------
# Public API


def load_tables(data_dir: str | Path, specs: Sequence[TableSpec]) -> dict[str, Table]:
    """Load every declared table from ``data_dir``, keyed by table name.

    Problems in all tables are collected and raised together as one :class:`DataError`, so a
    user sees everything that is wrong with the data at once.
    """
    folder = _data_folder(data_dir)
    return each_table(specs, lambda spec: load_table(folder, spec))


def each_table(specs: Iterable[TableSpec], load: Callable[[TableSpec], Table]
               ) -> dict[str, Table]:
    """``load(spec)`` of every spec, keyed by table name; every table's problems are gathered
    and raised together as one :class:`DataError`."""
    tables: dict[str, Table] = {}
    problems: list[DataProblem] = []
    for spec in specs:
        try:
            tables[spec.name] = load(spec)
        except DataError as error:
            problems.extend(error.problems)
    if problems:
        raise DataError(problems)
    return tables


def load_table(data_dir: str | Path, spec: TableSpec) -> Table:
    """Load one declared table from ``data_dir``; raises :class:`DataError` listing its problems."""
    source = _find_source(_data_folder(data_dir), spec.name)
    with ThreadPoolExecutor(max_workers=1) as pool:  # hash the bytes while parsing them
        digest: Future[str] = pool.submit(_sha256, source)
        data = _read(source, spec)
        columns, problems = _parse_columns(source, spec, data)
        sha256 = _hash_result(source, digest)
    table = Table(spec.name, source.path, data.num_rows, sha256, columns)
    problems = problems or out_of_span(table)  # a far date would stretch the month axis
    if problems:
        raise DataError(problems)
    return table


# ---------------------------------------------------------------------------------------------
# Finding and hashing a table's files


@attrs.frozen
class _Source:
    """Where a table's data is: the path users see, its files in read order, and their format."""

    path: str
    files: tuple[Path, ...]
    kind: str  # "csv", "parquet" or "folder" (of Parquet files)

    @property
    def first_row(self) -> int:
        """The row number of the first record: 2 in a CSV file (after the header), else 1."""
        return 2 if self.kind == "csv" else 1


def _find_source(data_dir: Path, name: str) -> _Source:
    """Locate ``name``'s file (or folder of Parquet files) in ``data_dir``."""
    candidates = {
        "csv": data_dir / f"{name}.csv",
        "parquet": data_dir / f"{name}.parquet",
        "folder": data_dir / name,
    }
    found = {k: p for k, p in candidates.items() if (p.is_dir() if k == "folder" else p.is_file())}
    if not found:
        raise DataError(_unusable_path(candidates) or _missing_table(data_dir, name))
    if len(found) > 1:
        names = " and ".join(p.name + ("/" if k == "folder" else "") for k, p in found.items())
        message = f"ambiguous table '{name}': found both {names}"
        hint = "keep only one of them in the data folder"
        raise DataError(DataProblem(str(next(iter(found.values()))), message, hint=hint))
    kind, path = next(iter(found.items()))
    return _Source(str(path), _folder_files(path) if kind == "folder" else (path,), kind)


def _unusable_path(candidates: dict[str, Path]) -> DataProblem | None:
    """The problem with a table's path that is there but cannot be read as its file: a folder
    named like a file, a pipe or device, or a symbolic link that loops."""
    for kind, path in candidates.items():
        try:
            mode = os.lstat(path).st_mode
            os.stat(path)
        except OSError as e:
            if e.errno == errno.ELOOP:
                return DataProblem(str(path), "a symbolic link that loops, not a file",
                                   hint="point the link at the table's file, or copy it here")
            continue
        if kind != "folder" and not stat.S_ISLNK(mode) and not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "a pipe or device"
            return DataProblem(str(path), f"{what}, not a file", hint="a table is a .csv or "
                               ".parquet file, or a folder of Parquet files named after the table")
    return None


def _folder_files(folder: Path) -> tuple[Path, ...]:
    """The ``*.parquet`` files of a partitioned table, in name order."""
    if broken := _broken_links(folder):
        raise DataError(broken)
    files = tuple(sorted((p for p in folder.glob("*.parquet") if p.is_file()), key=_name))
    if not files:
        message = f"the folder {folder.name}/ has no .parquet files"
        hint = "a folder table holds the Parquet files of one table (sub-folders are not read)"
        raise DataError(DataProblem(str(folder), message, hint=hint))
    return files


def _broken_links(folder: Path) -> list[DataProblem]:
    """A problem for each ``*.parquet`` of a folder table that is a symbolic link that loops or
    leads nowhere: a part of the table that cannot be read is named, never skipped."""
    problems = []
    for path in sorted(folder.glob("*.parquet"), key=_name):
        try:
            os.stat(path)
        except OSError as e:
            what = "loops" if e.errno == errno.ELOOP else "leads nowhere" \
                if e.errno == errno.ENOENT else f"cannot be followed ({e.strerror})"
            problems.append(DataProblem(str(path), f"a symbolic link that {what}, not a file",
                                        hint="a folder table's files are all read: point the "
                                        "link at a Parquet file, or remove it"))
    return problems


def _name(path: Path) -> str:
    """A path's file name (the sort key of a partitioned table's files)."""
    return path.name


def _missing_table(data_dir: Path, name: str) -> DataProblem:
    """The problem for a table with no file, with a did-you-mean hint from the folder's names."""
    paths = sorted(
        p
        for p in data_dir.iterdir()
        if not p.name.startswith(".") and (p.is_dir() or p.suffix in (".csv", ".parquet"))
    )
    stems = {(p.name if p.is_dir() else p.stem): p.name + ("/" * p.is_dir()) for p in paths}
    entries = list(stems.values())
    close = difflib.get_close_matches(name, list(stems), n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + " or ".join(f"'{stems[c]}'" for c in close) + "?"
    elif entries:
        shown = ", ".join(entries[:20]) + (", ..." if len(entries) > 20 else "")
        hint = f"the folder has: {shown}"
    else:
        hint = "the folder has no .csv or .parquet files"
    message = (
        f"missing table file: expected {name}.csv, {name}.parquet"
        f" or a folder {name}/ of Parquet files"
    )
    return DataProblem(str(data_dir / f"{name}.csv"), message, hint=hint)


def _shorten(value: str) -> str:
    """``value`` as a problem shows it: cut to :data:`SHOWN_CHARS` characters, with its length."""
    if len(value) <= SHOWN_CHARS:
        return value
    return f"{value[:SHOWN_CHARS - 20]}... ({len(value):,} characters)"


def _data_folder(data_dir: str | Path) -> Path:
    """``data_dir`` as a Path, or a DataError if there is no such folder."""
    folder = Path(data_dir)
    if not folder.is_dir():
        hint = f"give the folder holding the tables' .csv or .parquet files (from {os.getcwd()})"
        raise DataError(DataProblem(str(folder), "data folder not found", hint=hint))
    try:
        os.listdir(folder)  # an unreadable folder is named here, not met as a crash later
    except OSError as e:
        raise DataError(DataProblem(str(folder), f"cannot read the data folder: {e.strerror}",
                                    hint="check the folder's permissions")) from None
    return folder


def _sha256(source: _Source) -> str:
    """Hex SHA-256 of the file's bytes; for a folder, of each file's name and bytes in order."""
    digest = hashlib.sha256()
    for path in source.files:
        if source.kind == "folder":
            digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(_HASH_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def _hash_result(source: _Source, digest: Future[str]) -> str:
    """The hash computed in the background, or a DataError if the file could not be read."""
    try:
        return digest.result()
    except OSError as error:
        raise DataError(_unreadable(source.path, error, [])) from None


# ---------------------------------------------------------------------------------------------
# Reading the declared columns


def _read(source: _Source, spec: TableSpec) -> pa.Table:
    """The declared columns of the table, as read from its file(s)."""
    names = [c.name for c in spec.columns]
    if source.kind == "csv":
        return _read_csv(source.files[0], names)
    coded = [c.name for c in spec.columns if c.type in _CODED]
    files = [(path, _open_parquet(path, names, coded)) for path in source.files]
    if jit.wanted(sum(f.metadata.num_rows for _, f in files)):  # numba imported while Arrow
        jit.preload()  # reads the files (their rows known from the footers)
    return _concat_parts(source, [_read_parquet(path, f, names, coded) for path, f in files])


def _missing_columns(file: str, names: Sequence[str], header: Sequence[str]) -> list[DataProblem]:
    """A problem for each declared column that the header lacks (did-you-mean) or repeats."""
    problems = []
    for name in (n for n in names if n not in header):
        close = difflib.get_close_matches(name, header, n=1, cutoff=0.6)
        shown = ", ".join(_shorten(h) for h in header[:30]) + (", ..." if len(header) > 30 else "")
        hint = f"did you mean '{close[0]}'?" if close else f"the file has columns: {shown}"
        hint = _invisible_in_header(name, header) or hint
        problems.append(DataProblem(file, "missing column", column=name, hint=hint))
    for name in (n for n in names if list(header).count(n) > 1):
        message = f"the header names this column {list(header).count(name)} times"
        hint = "rename or remove the extra columns so that the name is unique"
        problems.append(DataProblem(file, message, column=name, hint=hint))
    return problems


#: Characters that do not show in a spreadsheet's header cell, by what they are.
_INVISIBLE = {"\ufeff": "a byte order mark (U+FEFF)", "\u200b": "a zero-width space (U+200B)",
              "\u200c": "a zero-width non-joiner (U+200C)", "\u200d": "a zero-width joiner "
              "(U+200D)", "\u2060": "a word joiner (U+2060)", "\u00a0": "a no-break space "
              "(U+00A0)", " ": "a space", "\t": "a tab"}
_WITHOUT_INVISIBLE = {ord(c): None for c in _INVISIBLE}


def _invisible_in_header(name: str, header: Sequence[str]) -> str | None:
    """The hint for a declared column whose name is in the header with characters that do not
    show around or inside it (a second byte order mark, a zero-width or no-break space)."""
    for cell in header:
        if cell.translate(_WITHOUT_INVISIBLE) != name:
            continue
        found = sorted({_INVISIBLE[c] for c in cell if c in _INVISIBLE})
        doubled = " (the file starts with two byte order marks)" if cell.startswith("\ufeff") \
            and cell == header[0] else ""
        return (f"the header has '{visible(cell)}': the name with {' and '.join(found)} in it"
                f"{doubled}; retype the header cell, or save the file again as CSV UTF-8")
    return None


def _csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (a leading UTF-8 BOM is dropped), read from at most
    :data:`_CSV_BLOCK` bytes, with any line end (CRLF, LF or an old Mac's CR)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_CSV_BLOCK + 1)
    except OSError as error:
        raise DataError(_unreadable(str(path), error, [])) from None
    text = io.StringIO(head.decode("utf-8-sig", "surrogateescape"), newline="")
    try:
        header = next(csv.reader(text), [])
    except csv.Error:  # a cell longer than the csv module's limit
        message = f"a header cell is longer than {csv.field_size_limit():,} characters"
        raise DataError(DataProblem(str(path), message, hint=_HUGE_HEADER_HINT)) from None
    if len(head) > _CSV_BLOCK and text.tell() >= len(text.getvalue()):
        raise DataError(DataProblem(str(path), f"the header row is longer than {_CSV_BLOCK:,} "
                                    "bytes", hint=_HUGE_HEADER_HINT))
    if any(_has_surrogate(h) for h in header):
        raise DataError(DataProblem(str(path), "the header row is not UTF-8 text",
                                    hint=_UTF8_HINT))
    if not header:
        hint = "the first row must name the columns"
        raise DataError(DataProblem(str(path), "the file is empty (no header row)", hint=hint))
    return header


_HUGE_HEADER_HINT = ("the first row must name the columns: a header this long is usually a "
                     "quote left open, or a file that is not CSV")


def _has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a byte that was not UTF-8 (decoded as a lone surrogate)."""
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _read_csv(path: Path, names: list[str]) -> pa.Table:
    """Read the declared columns of a CSV file, every one as (nullable) strings."""
    read = _csv_read(path, names)
    header = _csv_header(path)
    try:
        return _arrow_csv(read, use_threads=True)
    except (pa.ArrowException, OSError) as error:
        failure: Exception = error
    if "straddling object" in str(failure):  # a record longer than a block: one block for all
        read = attrs.evolve(read, block=min(path.stat().st_size + 1, _CSV_BLOCK_LIMIT))
        try:
            return _arrow_csv(read, use_threads=True)
        except (pa.ArrowException, OSError) as error:
            failure = error
    if "invalid UTF8" in str(failure) and (problems := _not_utf8(read)):
        raise DataError(problems) from None
    failure = _serial_error(read, failure)
    raise DataError(_unreadable(str(path), failure, header)) from None


def _csv_read(path: Path, names: Sequence[str]) -> _CsvRead:
    """How a CSV file's declared columns are read, once its header is found to have them."""
    header = _csv_header(path)
    missing = _missing_columns(str(path), names, header)
    if missing:
        raise DataError(missing)
    # In a one-column file an empty line is an empty cell; in a wider one it is skipped.
    return _CsvRead(path, tuple(names), len(header) > 1, _CSV_BLOCK)


def _csv_options(read: _CsvRead, use_threads: bool, kind: pa.DataType = pa.string()
                 ) -> dict[str, object]:
    """pyarrow's CSV options with this module's rules (strings; only an empty cell is null)."""
    return {"read_options": pacsv.ReadOptions(use_threads=use_threads, block_size=read.block),
            "parse_options": pacsv.ParseOptions(newlines_in_values=True,
                                                ignore_empty_lines=read.skip_empty),
            "convert_options": pacsv.ConvertOptions(
                column_types={n: kind for n in read.names}, include_columns=list(read.names),
                strings_can_be_null=True, null_values=[""])}


@attrs.frozen
class _CsvRead:
    """How a CSV file is read: its declared columns, whether blank lines are skipped (they are
    empty cells in a one-column file) and pyarrow's block size (a record must fit in one)."""

    path: Path
    names: tuple[str, ...]
    skip_empty: bool
    block: int


def _arrow_csv(read: _CsvRead, use_threads: bool, kind: pa.DataType = pa.string()) -> pa.Table:
    """pyarrow's CSV reader with this module's rules (strings; only an empty cell is null)."""
    options = _csv_options(read, use_threads, kind)
    return pacsv.read_csv(read.path, **options)  # type: ignore[arg-type]


def _serial_error(read: _CsvRead, error: Exception) -> Exception:
    """The same error from a single-threaded read, whose parse errors name the row."""
    if "parse error" not in str(error) or "Row #" in str(error):
        return error
    try:
        _arrow_csv(read, use_threads=False)
    except (pa.ArrowException, OSError) as serial:
        return serial
    return error


_UTF8_HINT = ("the file must be UTF-8 text: in Excel use Save As 'CSV UTF-8 (Comma delimited)' "
              "(this one looks saved as 'CSV' / ANSI, e.g. Windows-1252)")


def _not_utf8(read: _CsvRead) -> list[DataProblem]:
    """A problem for each declared column holding bytes that are not UTF-8, with their rows."""
    try:
        table = _arrow_csv(read, use_threads=True, kind=pa.binary())
    except (pa.ArrowException, OSError):
        return []
    problems = []
    for name in read.names:
        rows = _bad_utf8_rows(table.column(name))
        if rows.size:
            shown = rows[:SHOWN_ROWS]
            values = tuple(_shorten(v.decode("utf-8", "replace"))
                           for v in table.column(name).take(shown).to_pylist())
            problems.append(DataProblem(str(read.path), "text that is not UTF-8", name,
                                        tuple(int(r) + 2 for r in shown), values, int(rows.size),
                                        _UTF8_HINT))
    return problems


def _bad_utf8_rows(values: pa.ChunkedArray) -> np.ndarray:
    """The 0-based rows of a binary column whose bytes are not UTF-8, in order."""
    rows: list[int] = []
    offset = 0
    for chunk in values.chunks:
        rows += [offset + r for r in _bad_utf8_in(chunk)]
        offset += len(chunk)
    return np.array(rows, np.int64)


def _bad_utf8_in(chunk: pa.Array) -> list[int]:
    """Rows of one binary chunk that are not UTF-8. Only rows with a byte above 0x7F (found with
    numpy) can be wrong, and only those are decoded, one by one: this runs on the error path."""
    _, offsets_buffer, data_buffer = chunk.buffers()
    if data_buffer is None or len(chunk) == 0:
        return []
    offsets = np.frombuffer(offsets_buffer, np.int32)[chunk.offset:chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buffer, np.uint8)
    high = np.flatnonzero(data[offsets[0]:offsets[-1]] >= 0x80) + offsets[0]
    rows = np.unique(np.searchsorted(offsets, high, side="right") - 1)
    view = memoryview(data_buffer)
    return [int(r) for r in rows if not _is_utf8(view[offsets[r]:offsets[r + 1]])]


def _is_utf8(value: memoryview) -> bool:
    """Whether ``value`` is UTF-8."""
    try:
        codecs.utf_8_decode(value, "strict", True)
    except UnicodeDecodeError:
        return False
    return True


_READ_HINTS = (
    ("UTF8", "the file must be UTF-8 text: in Excel use Save As 'CSV UTF-8 (Comma delimited)'"),
    ("codec can't decode", "the file must be UTF-8 text: in Excel use Save As 'CSV UTF-8'"),
    ("columns, got", "every row needs as many fields as the header: look for a stray delimiter "
     "or an unclosed quote"),
    ("magic bytes", "the file is not a valid Parquet file (or it is damaged)"),
)


def _unreadable(file: str, error: Exception, header: Sequence[str]) -> DataProblem:
    """A problem for a file pyarrow (or the header reader) cannot read, without a traceback."""
    lines = str(error).strip().splitlines()
    text, column = (lines[0] if lines else repr(error)), None
    if m := re.match(r"In CSV column #(\d+): ", text):
        column = header[int(m[1])] if int(m[1]) < len(header) else None
        text = text[m.end():]
    text = re.sub(r"^(CSV parse error|CSV conversion error to \w+): ", "", text)
    rows: tuple[int, ...] = ()
    values: tuple[str, ...] = ()
    if m := re.match(r"Row #(\d+): (.*?)(?:: (.*))?$", text):
        rows, text, values = (int(m[1]),), m[2], (_shorten(m[3] or ""),)
    hint = next((h for key, h in _READ_HINTS if key in text), None)
    return DataProblem(file, f"cannot read the file: {text}", column, rows, values, len(rows), hint)


def _open_parquet(path: Path, names: list[str], coded: Sequence[str]) -> pq.ParquetFile:
    """One Parquet file opened (its footer read) to read the declared columns: ``coded`` (text
    and category columns) as Arrow dictionaries of strings, as Parquet stores them."""
    try:
        parquet = pq.ParquetFile(path, read_dictionary=list(coded) or None, memory_map=True,
                                 pre_buffer=True)  # fewer, larger reads: 10M rows 1.25 -> 0.8 s
    except (pa.ArrowException, OSError) as error:
        raise DataError(_unreadable(str(path), error, [])) from None
    missing = _missing_columns(str(path), names, parquet.schema_arrow.names)
    if missing:
        raise DataError(missing)
    return parquet


def _read_parquet(path: Path, parquet: pq.ParquetFile, names: list[str],
                  coded: Sequence[str] = ()) -> pa.Table:
    """Read the declared columns of one opened Parquet file, strings normalised to
    ``pa.string()``. ``coded`` columns are parsed by their distinct values
    (:func:`_parse_coded`), so a column of 10M referrals and 5 providers costs 5 string
    operations, not 10M."""
    try:
        table = parquet.read(columns=names, use_threads=True)
    except (pa.ArrowException, OSError) as error:
        raise DataError(_unreadable(str(path), error, [])) from None
    return pa.table({n: _empty_is_null(_plain(table.column(n), n in coded)) for n in names})


def _empty_is_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet string column with its empty strings made null, as an empty CSV cell is
    (decision 284): a table gives the same figures saved as CSV or as Parquet, and a writer that
    put '' for a missing date is met with one 'empty' problem and a count, not a bad date a row."""
    if _is_string(values.type):
        if pc.min(pc.binary_length(values)).as_py() != 0:  # none empty (or all null): no copy
            return values
        return pc.if_else(pc.equal(values, ""), _NULL_STRING, values)
    if not pa.types.is_dictionary(values.type):
        return values
    chunks = []
    for chunk in values.chunks:
        empty = pc.index(chunk.dictionary, "").as_py()
        indices = chunk.indices if empty < 0 else pc.if_else(
            pc.equal(chunk.indices, empty), pa.scalar(None, chunk.indices.type), chunk.indices)
        chunks.append(pa.DictionaryArray.from_arrays(indices, chunk.dictionary))
    return pa.chunked_array(chunks, values.type)


def _plain(values: pa.ChunkedArray, coded: bool = False) -> pa.ChunkedArray:
    """Decode dictionary columns (but for ``coded`` ones of strings); large/view strings and
    all-null columns become strings."""
    t = values.type
    if pa.types.is_dictionary(t):
        if coded and pa.types.is_string(t.value_type) and pa.types.is_int32(t.index_type):
            return values
        return _plain(pc.cast(values, t.value_type))
    if pa.types.is_large_string(t) or pa.types.is_null(t) or str(t) == "string_view":
        return pc.cast(values, pa.string())
    return values


def _concat_parts(source: _Source, parts: list[pa.Table]) -> pa.Table:
    """One table from a partitioned table's parts (types promoted where they differ)."""
    if len(parts) == 1:
        return parts[0]
    try:
        return pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowException, TypeError) as error:
        raise DataError(_disagreements(source, parts, error)) from None


def _disagreements(source: _Source, parts: list[pa.Table], error: Exception) -> list[DataProblem]:
    """A problem for each column whose type differs between the files of a folder table."""
    problems = []
    hint = "write every file of the table with the same column types"
    for name in parts[0].column_names:
        files: dict[str, list[str]] = {}
        for path, part in zip(source.files, parts):
            files.setdefault(str(part.schema.field(name).type), []).append(path.name)
        if len(files) > 1:
            shown = "; ".join(f"{kind} in {', '.join(names[:3])}" + (" ..." * (len(names) > 3))
                              for kind, names in files.items())
            message = f"the files of the folder disagree on the column's type: {shown}"
            problems.append(DataProblem(source.path, message, name, hint=hint))
    message = f"the files of the folder disagree on column types: {error}"
    return problems or [DataProblem(source.path, message, hint=hint)]


# ---------------------------------------------------------------------------------------------
# Parsing columns


@attrs.define
class _Field:
    """One column being parsed: its declaration, raw values and the problems found so far."""

    file: str
    spec: ColumnSpec
    raw: pa.ChunkedArray
    first_row: int
    problems: list[DataProblem] = attrs.Factory(list)

    def present(self) -> np.ndarray:
        """Boolean mask of the rows with a value in the file (a float NaN counts as empty)."""
        if self.raw.null_count == 0 and not pa.types.is_floating(self.raw.type):
            return np.ones(len(self.raw), dtype=bool)
        return ~_bools(pc.is_null(self.raw, nan_is_null=True))

    def report(
        self, rows: np.ndarray, message: str, hint: str | None = None, count: int | None = None
    ) -> None:
        """Record a problem at 0-based ``rows`` (in showing order); ``count`` defaults to all."""
        if rows.size == 0:
            return
        shown = rows[:SHOWN_ROWS]
        values = tuple("" if v is None else _shorten(str(v))
                       for v in self.raw.take(shown).to_pylist())
        if self.first_row == 1:
            message += " (rows are record numbers, counting from 1)"
        numbers = tuple(int(r) + self.first_row for r in shown)
        self.problems.append(
            DataProblem(
                self.file, message, self.spec.name, numbers, values,
                int(rows.size) if count is None else count, hint,
            )
        )

    def report_mask(self, bad: np.ndarray, message: str, hint: str | None = None) -> None:
        """Record a problem at the rows where ``bad`` is true."""
        self.report(np.flatnonzero(bad), message, hint)

    def with_raw(self, raw: pa.ChunkedArray) -> _Field:
        """The same field (sharing its problem list) over other raw values."""
        return attrs.evolve(self, raw=raw, problems=self.problems)


def _parse_columns(
    source: _Source, spec: TableSpec, data: pa.Table
) -> tuple[dict[str, Column], list[DataProblem]]:
    """Parse every declared column (in parallel); problems come back in declaration order."""
    fields = [
        _Field(source.path, c, data.column(c.name), source.first_row) for c in spec.columns
    ]
    workers = max(1, min(len(fields), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        columns = list(pool.map(_parse_column, fields))
    problems = [p for f in fields for p in f.problems]
    return {f.spec.name: c for f, c in zip(fields, columns) if c is not None}, problems


def _parse_column(field: _Field) -> Column | None:
    """One column in its type's representation, or None if its file type cannot be used."""
    kind = field.spec.type
    try:
        if pa.types.is_dictionary(field.raw.type):
            column: Column | None = _parse_coded(field)
        elif _is_string(field.raw.type):
            _check_length(field)
            column = _FROM_TEXT[kind](field)
        else:
            column = _FROM_NATIVE[kind](field)
    except pa.ArrowException as error:  # a safety net: report, never a traceback
        message = f"cannot read the values: {error}"
        field.problems.append(DataProblem(field.file, message, field.spec.name))
        return None
    if column is None:
        message = f"expected {_EXPECTED[kind]}, the file has {field.raw.type}"
        field.problems.append(DataProblem(field.file, message, field.spec.name))
        return None
    _check_required(field)
    return column


def _check_length(field: _Field) -> None:
    """Report ids and text longer than an Excel cell can hold (other types fail their format)."""
    if field.spec.type not in _LENGTH_LIMITED:
        return
    if (pc.max(pc.binary_length(field.raw)).as_py() or 0) <= MAX_CELL_CHARS:
        return  # no value has more bytes than the limit has characters
    too_long = _bools(pc.greater(pc.utf8_length(field.raw), MAX_CELL_CHARS))
    field.report_mask(too_long, f"longer than {MAX_CELL_CHARS:,} characters (Excel's limit for a "
                      "cell)", "a cell this long is usually a broken export, e.g. a quote left "
                      "open that runs on into the following rows")


def _check_required(field: _Field) -> None:
    """Report empty cells in a column that must have a value (ids always must)."""
    if field.spec.nullable and field.spec.type is not ColumnType.ID:
        return
    if field.raw.null_count == 0 and not pa.types.is_floating(field.raw.type):
        return  # every row has a value (no pass over the rows to find none empty)
    hint = "an id is required on every row" if field.spec.type is ColumnType.ID else _REQUIRED_HINT
    field.report_mask(~field.present(), "empty, but a value is required", hint)


def _is_string(t: pa.DataType) -> bool:
    """Whether a column arrived as text (every CSV column; string columns of Parquet)."""
    return pa.types.is_string(t) or pa.types.is_large_string(t)


# --- array helpers ----------------------------------------------------------------------------


def _bools(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A pyarrow boolean array as a numpy bool array, null as False."""
    return _numpy(pc.fill_null(mask, False), np.bool_)


def _numpy(values: pa.ChunkedArray | pa.Array, dtype: type | str) -> np.ndarray:
    """A null-free pyarrow array as a writable numpy array of ``dtype`` (even with no chunks)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    array = np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype)
    return array if array.flags.writeable else array.copy()


def _matches(field: _Field, pattern: str) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Where the raw text matches ``pattern``, and the raw text with the other rows nulled."""
    ok = pc.match_substring_regex(field.raw, pattern)
    return _bools(ok), pc.if_else(ok, field.raw, _NULL_STRING)


def _slice_ints(text: pa.ChunkedArray, start: int, stop: int) -> np.ndarray:
    """The digits at ``[start, stop)`` of each (validated) string as int64, 0 for null."""
    digits = pc.cast(pc.utf8_slice_codeunits(text, start, stop), pa.int64())
    return _numpy(pc.fill_null(digits, 0), np.int64)


def _number_column(spec: ColumnSpec, values: np.ndarray, valid: np.ndarray) -> Column:
    """An integer-like column: values (0 where invalid) and a valid mask (None if all valid)."""
    values = np.where(valid, values, 0).astype(np.int32 if spec.type in _MONTHLY else np.int64)
    return Column(spec, values, None if valid.all() else valid)


# --- date -------------------------------------------------------------------------------------


def _date_text(field: _Field) -> Column:
    """Dates written ``YYYY-MM-DD`` (real calendar dates) as ``datetime64[D]``, or in the
    column's declared format."""
    if field.spec.date_format is not None:
        return _date_formatted(field, compiled_format(field.spec.date_format))
    try:  # fast path: pyarrow's ISO parser is exactly as strict (10 characters, real date)
        return _date_column(field.spec, pc.cast(field.raw, pa.date32()))
    except pa.ArrowInvalid:
        pass
    ok, text = _matches(field, _DATE_RE)
    year, month, day = (_slice_ints(text, a, b) for a, b in ((0, 4), (5, 7), (8, 10)))
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (day - 1)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (days.astype("datetime64[M]") == months)
    bad = field.present() & ~ok
    field.report_mask(bad, "not a valid date (expected YYYY-MM-DD)", _undeclared_hint(field, bad))
    return Column(field.spec, np.where(ok, days, np.datetime64("NaT", "D")))


def _undeclared_hint(field: _Field, bad: np.ndarray) -> str:
    """The hint for dates that are not ``YYYY-MM-DD``: declare the format, when the first bad
    value is written like 31/03/2024."""
    first = np.flatnonzero(bad)[:1]
    value = field.raw.take(first).to_pylist() if first.size else []
    if not value or not re.match(SLASHED, value[0] or ""):
        return _DATE_HINT
    return (f"{_DATE_HINT}; or, for dates such as '{value[0]}', declare their format in the "
            f'contract: table ... dates "DD/MM/YYYY" {{ ... }}, or {field.spec.name}: '
            'date("DD/MM/YYYY")')


def _date_formatted(field: _Field, fmt: DateFormat) -> Column:
    """Dates in a declared format (``DD/MM/YYYY``): the value has the format's shape, pyarrow's
    strptime reads it, and the day read is the day written (strptime rolls 31/02 on to 02/03)."""
    shaped = _bools(pc.match_substring_regex(field.raw, fmt.shape))
    text = pc.if_else(pa.array(shaped), field.raw.combine_chunks(), _NULL_STRING)
    parsed = pc.strptime(text, format=fmt.strptime, unit="s", error_is_null=True)
    written = pc.struct_field(pc.extract_regex(text, fmt.shape), "day")
    same_day = pc.equal(pc.day(parsed), pc.cast(written, pa.int64()))
    ok = shaped & _bools(same_day)
    hint = f"write dates as {fmt.text}, e.g. {fmt.example}, as the contract declares"
    field.report_mask(field.present() & ~ok, f"not a valid date (expected {fmt.text})", hint)
    days = pc.cast(pc.if_else(pa.array(ok), parsed, pa.scalar(None, parsed.type)), pa.date32())
    return _date_column(field.spec, days)


def _date_native(field: _Field) -> Column | None:
    """Parquet date32, date64 and timestamp columns (a timestamp's date in its own time zone),
    within the years 0000 to 9999 that CSV dates can have."""
    t = field.raw.type
    if not (pa.types.is_date(t) or pa.types.is_timestamp(t)):
        return None
    raw = pc.local_timestamp(field.raw) if pa.types.is_timestamp(t) and t.tz else field.raw
    column = _date_column(field.spec, pc.cast(raw, pa.date32(), safe=False))
    first, last = _DATE_RANGE
    lo, hi = date_span(column.values)  # Arrow's, remembered: no pass where all are in range
    if lo is None or (first <= lo and hi <= last):
        return column
    wild = (column.values < first) | (column.values > last)  # NaT compares False
    if wild.any():  # shown as numpy writes them: Python's dates end at the year 9999
        as_text = pa.chunked_array([pa.array(np.datetime_as_string(column.values))])
        field.with_raw(as_text).report_mask(
            wild, "date out of range (years 0000 to 9999)", "a date this far out is usually "
            "a wrong unit or an overflow in the program that wrote the file")
        column = attrs.evolve(column, values=np.where(wild, np.datetime64("NaT", "D"),
                                                      column.values))
    return column


def _date_column(spec: ColumnSpec, days: pa.ChunkedArray) -> Column:
    """A date column from a pyarrow date32 array (null becomes NaT), its earliest and latest
    date taken from Arrow's min_max, which skips nulls: numpy would need a pass and a full-size
    temporary to leave NaT out (limits.date_span; the as-of date, far-date and calendar checks
    all ask for the span)."""
    values = _date_days(days)
    ends = pc.min_max(pc.cast(days, pa.int32()))
    lo, hi = ends["min"].as_py(), ends["max"].as_py()
    remember_span(values, (None, None) if lo is None else
                  (np.datetime64(lo, "D"), np.datetime64(hi, "D")))
    return Column(spec, values)


def _date_days(days: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """date32 days as a writable datetime64[D] array, null as NaT."""
    chunks = days.chunks if isinstance(days, pa.ChunkedArray) else [days]
    return _filled(chunks, np.int64, _NAT_DAY).view("datetime64[D]")


def _filled(chunks: Sequence[pa.Array], dtype: type, null: int) -> np.ndarray:
    """Arrow arrays of fixed-width integers (or dates: their day numbers) as one writable
    ``dtype`` array, ``null`` where null: each chunk's values read from its buffer and widened
    in place into the one array (no combined copy of the chunks, no Arrow-to-numpy
    conversion, no array of the nulls beyond a chunk's)."""
    out = np.empty(sum(len(c) for c in chunks), dtype=dtype)
    at = 0
    for chunk in chunks:
        n = len(chunk)
        part = out[at:at + n]
        data = chunk.buffers()[1]
        if n and data is not None:
            width = chunk.type.bit_width // 8
            sign = "u" if pa.types.is_unsigned_integer(chunk.type) else "i"  # (dates: int32)
            part[:] = np.frombuffer(data, f"<{sign}{width}", n, chunk.offset * width)
        if chunk.null_count:
            np.copyto(part, null, where=~np.asarray(chunk.is_valid()))
        at += n
    return out


# --- bool -------------------------------------------------------------------------------------


def _bool_text(field: _Field) -> Column:
    """``true`` / ``false`` in any letter case as int8 1 / 0, -1 for null."""
    codes = pc.index_in(pc.ascii_lower(field.raw), value_set=pa.array(["false", "true"]))
    hint = "write true or false (any letter case)"
    field.report_mask(field.present() & _bools(pc.is_null(codes)), "not true or false", hint)
    return Column(field.spec, _numpy(pc.fill_null(codes, -1), np.int8))


def _bool_native(field: _Field) -> Column | None:
    """A Parquet boolean column."""
    if not pa.types.is_boolean(field.raw.type):
        return None
    codes = pc.fill_null(pc.cast(field.raw, pa.int8()), -1)
    return Column(field.spec, _numpy(codes, np.int8))


# --- integer and decimal ----------------------------------------------------------------------


def _integer_text(field: _Field) -> Column:
    """Whole numbers: an optional sign and at most 18 significant digits, as int64."""
    ok, text = _matches(field, _INTEGER_RE)
    hint = "write whole numbers as digits with an optional sign, e.g. 42 or -3"
    field.report_mask(field.present() & ~ok, "not a whole number", hint)
    values = pc.cast(pc.replace_substring(text, "+", ""), pa.int64())
    return _number_column(field.spec, _numpy(pc.fill_null(values, 0), np.int64), ok)


def _decimal_text(field: _Field) -> Column:
    """Decimals like ``-12.5`` as exact int64 millionths (parsed as text, never via float)."""
    ok, text = _matches(field, _DECIMAL_RE)
    if (bad := field.present() & ~ok).any():
        _report_bad_decimals(field, bad)
    try:
        decimals = pc.cast(text, pa.decimal128(18, DECIMAL_PLACES))
    except pa.ArrowInvalid:  # very many leading or trailing zeros: drop them and try again
        text = pc.replace_substring_regex(text, r"^([+-]?)0+(\d)", r"\1\2")
        text = pc.replace_substring_regex(text, r"(\.\d{1,6}?)0*$", r"\1")
        decimals = pc.cast(text, pa.decimal128(18, DECIMAL_PLACES))
    return _decimal_column(field.spec, decimals, ok)


def _report_bad_decimals(field: _Field, bad: np.ndarray) -> None:
    """Sort bad decimal text into: too many places, too large, not a number."""
    fmt = _bools(pc.match_substring_regex(field.raw, r"^[+-]?\d+(\.\d+)?$"))
    places = fmt & ~_bools(pc.match_substring_regex(field.raw, r"^[^.]*(\.\d{1,6}0*)?$"))
    field.report_mask(
        bad & places,
        f"more than {DECIMAL_PLACES} decimal places",
        f"decimals are held exactly to {DECIMAL_PLACES} places: round the values in the file",
    )
    field.report_mask(bad & fmt & ~places, "number too large (at most 12 digits before the point)")
    hint = "write numbers like 1234.5 or -0.25 (no thousands separators, currency or exponent)"
    field.report_mask(bad & ~fmt, "not a decimal number", hint)


def _decimal_column(spec: ColumnSpec, values: pa.ChunkedArray, ok: np.ndarray) -> Column:
    """A decimal column from a decimal128 array of scale 6 (at most 19 digits) and a mask."""
    scale = pa.scalar(Decimal(10**DECIMAL_PLACES), pa.decimal128(DECIMAL_PLACES + 1, 0))
    exact = pc.cast(values, pa.decimal128(19, DECIMAL_PLACES))
    units = pc.cast(pc.multiply(exact, scale), pa.int64())
    return _number_column(spec, _numpy(pc.fill_null(units, 0), np.int64), ok)


def _numbers_native(field: _Field) -> Column | None:
    """Parquet integer, float and decimal columns for ``integer`` and ``decimal`` columns."""
    values = _native_decimals(field)
    if values is None:
        return None
    places = 0 if field.spec.type is ColumnType.INTEGER else DECIMAL_PLACES
    limit = _INTEGER_LIMIT if places == 0 else _DECIMAL_LIMIT
    present = field.present()
    inexact = present & ~_bools(pc.equal(pc.round(values, places), values))
    what = "not a whole number" if places == 0 else f"more than {DECIMAL_PLACES} decimal places"
    field.report_mask(inexact, what)
    magnitude = pc.abs(pc.cast(values, pa.float64()))  # the limits leave ample room for rounding
    too_big = present & _bools(pc.greater_equal(magnitude, float(limit)))
    field.report_mask(too_big & ~inexact, "number too large")
    ok = present & ~inexact & ~too_big
    kept = pc.if_else(pa.array(ok), values.combine_chunks(), pa.scalar(None, values.type))
    if places == 0:
        ints = pc.fill_null(pc.cast(pc.cast(kept, pa.decimal128(38, 0)), pa.int64()), 0)
        return _number_column(field.spec, _numpy(ints, np.int64), ok)
    return _decimal_column(field.spec, pc.round(kept, places), ok)


def _native_decimals(field: _Field) -> pa.ChunkedArray | None:
    """Integers, floats (NaN null, rounded to millionths) or decimals, as a decimal128 array."""
    t = field.raw.type
    if pa.types.is_integer(t):
        return pc.cast(field.raw, pa.decimal128(38, 0))
    if pa.types.is_decimal(t):
        return field.raw
    if not pa.types.is_floating(t):
        return None
    floats = pc.cast(field.raw, pa.float64())  # float16 and float32 too
    finite = pc.and_(pc.is_finite(floats), pc.less(pc.abs(floats), 1e20))
    field.report_mask(field.present() & ~_bools(finite), "number too large or not finite")
    floats = pc.if_else(finite, floats, pa.scalar(None, pa.float64()))
    return pc.cast(floats, pa.decimal128(38, DECIMAL_PLACES), safe=False)


# --- month and quarter ------------------------------------------------------------------------


def _month_text(field: _Field) -> Column:
    """Months written ``YYYY-MM`` as int32 months since 1970-01."""
    ok, text = _matches(field, _MONTH_RE)
    hint = "write months as YYYY-MM, e.g. 2024-03"
    field.report_mask(field.present() & ~ok, "not a valid month (expected YYYY-MM)", hint)
    months = (_slice_ints(text, 0, 4) - 1970) * 12 + _slice_ints(text, 5, 7) - 1
    return _number_column(field.spec, months, ok)


def _quarter_text(field: _Field) -> Column:
    """Quarters written ``YYYY-Qn`` as int32 months since 1970-01 of the quarter's first month."""
    ok, text = _matches(field, _QUARTER_RE)
    hint = "write quarters as YYYY-Qn with n from 1 to 4, e.g. 2024-Q2"
    field.report_mask(field.present() & ~ok, "not a valid quarter (expected YYYY-Qn)", hint)
    months = (_slice_ints(text, 0, 4) - 1970) * 12 + (_slice_ints(text, 6, 7) - 1) * 3
    return _number_column(field.spec, months, ok)


def _period_text(field: _Field) -> Column:
    """Months (``YYYY-MM``) or quarters (``YYYY-Qn``): first month, and its length in months."""
    is_month, month_text = _matches(field, _MONTH_RE)
    is_quarter, quarter_text = _matches(field, _QUARTER_RE)
    ok = is_month | is_quarter
    hint = "write a month as YYYY-MM (2024-03) or a quarter as YYYY-Qn (2024-Q2)"
    field.report_mask(field.present() & ~ok, "not a valid period (expected YYYY-MM or YYYY-Qn)",
                      hint)
    years = np.where(is_month, _slice_ints(month_text, 0, 4), _slice_ints(quarter_text, 0, 4))
    within = np.where(is_month, _slice_ints(month_text, 5, 7) - 1,
                      (_slice_ints(quarter_text, 6, 7) - 1) * 3)
    column = _number_column(field.spec, (years - 1970) * 12 + within, ok)
    return attrs.evolve(column, months=np.where(is_quarter, 3, 1).astype(np.int8))


# --- category, text and id --------------------------------------------------------------------


def _category_text(field: _Field) -> Column:
    """A closed set of values as int32 codes in declaration order, -1 for null."""
    allowed = list(field.spec.categories)
    codes = pc.index_in(field.raw, value_set=pa.array(allowed, pa.string()))
    bad = field.present() & _bools(pc.is_null(codes))
    if bad.any():
        _report_unknown(field, bad, allowed)
    return Column(field.spec, _numpy(pc.fill_null(codes, -1), np.int32))


def _report_unknown(field: _Field, bad: np.ndarray, allowed: list[str]) -> None:
    """Report unknown category values: the distinct ones, a did-you-mean and the allowed values."""
    unknown = pc.unique(field.raw.filter(pa.array(bad))).to_pylist()
    shown = ", ".join(repr(_shorten(u)) for u in unknown[:10]) + (", ..." if len(unknown) > 10
                                                                   else "")
    lowered = {a.lower(): a for a in allowed}
    guesses = {u: lowered.get(u.lower()) or _closest(u, allowed) for u in unknown[:5]}
    tips = [f"'{g}' for '{u}'" for u, g in guesses.items() if g]
    hint = f"did you mean {', '.join(tips)}? " if tips else ""
    hint += f"allowed values: {', '.join(allowed)}"
    message = f"unknown value{'s' if len(unknown) != 1 else ''} {shown}"
    field.report_mask(bad, message, hint)


def _closest(value: str, allowed: list[str]) -> str | None:
    """The allowed value most like ``value``, if any is close."""
    close = difflib.get_close_matches(value, allowed, n=1)
    return close[0] if close else None


def _text_text(field: _Field) -> Column:
    """Free text as int32 codes into its sorted dictionary (so row order does not matter)."""
    encoded = pc.dictionary_encode(field.raw).unify_dictionaries()
    if encoded.num_chunks == 0:
        return Column(field.spec, np.zeros(0, np.int32), dictionary=())
    dictionary = encoded.chunk(0).dictionary
    indices = pa.chunked_array([c.indices for c in encoded.chunks], pa.int32())
    codes = _numpy(pc.fill_null(indices, -1), np.int32)
    order = _numpy(pc.array_sort_indices(dictionary), np.int64)
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    present = codes >= 0
    codes[present] = rank[codes[present]]
    return Column(field.spec, codes, dictionary=tuple(dictionary.take(order).to_pylist()))


def _id_text(field: _Field) -> Column:
    """Ids kept as a ``pyarrow.StringArray``; they must be unique within the table."""
    ids = field.raw.combine_chunks()
    if not _maybe_repeats(ids):
        return Column(field.spec, ids)
    encoded = pc.dictionary_encode(ids)  # faster than count_distinct for many distinct values
    if len(encoded.dictionary) < len(ids) - ids.null_count:
        _report_duplicates(field, encoded)
    return Column(field.spec, ids)


def _ref_text(field: _Field) -> Column:
    """Ids of another table's records, kept as a ``pyarrow.StringArray`` (may repeat)."""
    return Column(field.spec, field.raw.combine_chunks())


def _report_duplicates(field: _Field, encoded: pa.DictionaryArray) -> None:
    """Report repeated ids: the first ids in sorted order, each with its rows."""
    codes = _numpy(pc.fill_null(encoded.indices, -1), np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=len(encoded.dictionary))
    repeated = np.flatnonzero(counts > 1)
    order = _numpy(pc.array_sort_indices(encoded.dictionary.take(repeated)), np.int64)
    first = repeated[order[:SHOWN_ROWS]]
    rank = np.full(len(counts), len(first), np.int64)
    rank[first] = np.arange(len(first))
    rows = np.flatnonzero(rank[np.where(codes >= 0, codes, 0)] < len(first))
    rows = rows[np.argsort(rank[codes[rows]], kind="stable")]
    names = ", ".join(repr(_shorten(v)) for v in encoded.dictionary.take(first).to_pylist())
    more = ", ..." if len(repeated) > len(first) else ""
    plural = "s appear" if len(repeated) != 1 else " appears"
    message = f"duplicate ids: {len(repeated)} id{plural} more than once ({names}{more})"
    hint = "each row needs its own id: remove or fix the repeated rows"
    field.report(rows, message, hint, count=int(counts[repeated].sum()))


def _parse_coded(field: _Field) -> Column:
    """A text or category column read as an Arrow dictionary (Parquet's own encoding): its
    distinct values are checked and coded once, then each row takes its value's code. The same
    column, the same problems (rows and values) as parsing the decoded strings."""
    indices, values = _dictionary_parts(field.raw)
    too_long = _bools(pc.greater(pc.utf8_length(values), MAX_CELL_CHARS))
    if too_long.any():  # rows are looked at only when some value is too long
        field.report_mask(_take(too_long, indices, False), f"longer than {MAX_CELL_CHARS:,} "
                          "characters (Excel's limit for a cell)", "a cell this long is usually "
                          "a broken export, e.g. a quote left open that runs on into the "
                          "following rows")
    if field.spec.type is ColumnType.CATEGORY:
        allowed = list(field.spec.categories)
        known = _numpy(pc.fill_null(pc.index_in(values, value_set=pa.array(allowed, pa.string())),
                                    -1), np.int32)
        codes = _take(known, indices, -1)
        bad = (indices >= 0) & (codes < 0) if (known < 0).any() else codes[:0]
        if bad.any():  # the error path: the decoded strings, as the text parser sees them
            _report_unknown(field.with_raw(pc.cast(field.raw, pa.string())), bad, allowed)
        return Column(field.spec, codes)
    coded = indices if field.raw.null_count == 0 else indices[indices >= 0]
    used = np.flatnonzero(np.bincount(coded, minlength=len(values)))
    kept = values.take(pa.array(used))
    order = _numpy(pc.array_sort_indices(kept), np.int64)
    rank = np.full(len(values), -1, np.int32)
    rank[used[order]] = np.arange(len(order), dtype=np.int32)
    return Column(field.spec, _take(rank, indices, -1),
                  dictionary=tuple(kept.take(pa.array(order)).to_pylist()))


def _dictionary_parts(raw: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(int32 index of each row into the values, -1 for null; the values) of a dictionary
    column whose chunks may each have their own dictionary."""
    unified = raw.unify_dictionaries()
    if unified.num_chunks == 0:
        return np.zeros(0, np.int32), pa.array([], pa.string())
    values = unified.chunk(0).dictionary
    return _filled([c.indices for c in unified.chunks], np.int32, -1), values


def _take(per_value: np.ndarray, indices: np.ndarray, null: object) -> np.ndarray:
    """``per_value[indices]``, ``null`` where the index is -1 (a null row)."""
    out = np.append(per_value, np.array([null], per_value.dtype))
    return out[indices]


#: Ids of this many bytes or fewer, all the same length, are checked for repeats as integers.
_ID_WORDS = 4


def _maybe_repeats(ids: pa.Array) -> bool:
    """False when no id can repeat, found by sorting a 64-bit key per id in numpy (ids of one
    length up to 8 bytes are their own key; up to 32 bytes a hash of their 8-byte words);
    True when some key repeats or the ids are not of one length: the exact check decides."""
    n = len(ids)
    if n < 2:
        return False
    if ids.null_count:
        return True
    offsets = np.frombuffer(ids.buffers()[1], np.int32)[ids.offset:ids.offset + n + 1]
    width = int(offsets[1] - offsets[0])
    if width == 0 or width > 8 * _ID_WORDS or int(offsets[-1] - offsets[0]) != width * n or \
            (np.diff(offsets) != width).any():
        return True
    data = np.frombuffer(ids.buffers()[2], np.uint8)[offsets[0]:offsets[-1]]
    if _ascending(data.view(f"S{width}")):
        return False  # ids in ascending order, as extracts often are: no sort needed
    data = data.reshape(n, width)
    words = -(-width // 8)
    padded = np.zeros((n, words * 8), np.uint8)
    padded[:, words * 8 - width:] = data
    parts = padded.view(">u8").astype(np.uint64)
    key = parts[:, 0].copy()
    for j in range(1, words):  # wrapping arithmetic: a hash, so a repeat is only a candidate
        key *= np.uint64(0x9E3779B97F4A7C15)
        key ^= parts[:, j]
    key.sort()
    return bool((key[1:] == key[:-1]).any())


def _ascending(ids: np.ndarray) -> bool:
    """Whether ids of one length (a numpy bytes array) are in strictly ascending order, so that
    no two are equal. (numpy compares bytes values without their trailing NUL bytes, which
    keeps the order of distinct values of one length.)"""
    return bool((ids[1:] > ids[:-1]).all())


def _via_text(field: _Field) -> Column | None:
    """Parquet integers for id, text and category columns, read as their decimal text."""
    if not pa.types.is_integer(field.raw.type):
        return None
    return _FROM_TEXT[field.spec.type](field.with_raw(pc.cast(field.raw, pa.string())))


def _no_native(field: _Field) -> Column | None:
    """Types that must be text in Parquet files too (months and quarters)."""
    return None


_MONTHLY = (ColumnType.MONTH, ColumnType.QUARTER, ColumnType.PERIOD)
#: Types whose values are codes of distinct strings, read from Parquet as dictionaries.
_CODED = (ColumnType.TEXT, ColumnType.CATEGORY)
#: Types whose text is kept as it is, so its length is checked (other types check their format).
_LENGTH_LIMITED = (ColumnType.ID, ColumnType.REF, ColumnType.TEXT)

_FROM_TEXT: dict[ColumnType, Callable[[_Field], Column]] = {
    ColumnType.ID: _id_text,
    ColumnType.REF: _ref_text,
    ColumnType.TEXT: _text_text,
    ColumnType.CATEGORY: _category_text,
    ColumnType.DATE: _date_text,
    ColumnType.BOOL: _bool_text,
    ColumnType.INTEGER: _integer_text,
    ColumnType.DECIMAL: _decimal_text,
    ColumnType.MONTH: _month_text,
    ColumnType.QUARTER: _quarter_text,
    ColumnType.PERIOD: _period_text,
}

_FROM_NATIVE: dict[ColumnType, Callable[[_Field], Column | None]] = {
    ColumnType.ID: _via_text,
    ColumnType.REF: _via_text,
    ColumnType.TEXT: _via_text,
    ColumnType.CATEGORY: _via_text,
    ColumnType.DATE: _date_native,
    ColumnType.BOOL: _bool_native,
    ColumnType.INTEGER: _numbers_native,
    ColumnType.DECIMAL: _numbers_native,
    ColumnType.MONTH: _no_native,
    ColumnType.QUARTER: _no_native,
    ColumnType.PERIOD: _no_native,
}

_EXPECTED: dict[ColumnType, str] = {
    ColumnType.ID: "ids (text or whole numbers)",
    ColumnType.REF: "ids of another table (text or whole numbers)",
    ColumnType.TEXT: "text",
    ColumnType.CATEGORY: "text values",
    ColumnType.DATE: "a date",
    ColumnType.BOOL: "true/false values",
    ColumnType.INTEGER: "whole numbers",
    ColumnType.DECIMAL: "numbers",
    ColumnType.MONTH: "months as text YYYY-MM",
    ColumnType.QUARTER: "quarters as text YYYY-Qn",
    ColumnType.PERIOD: "months or quarters as text YYYY-MM or YYYY-Qn",
}
