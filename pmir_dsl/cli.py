"""The ``pmirc`` command line: check, lint, schema, audit and synth.

Exit statuses (output.md): 0 every assessed target met (or nothing wrong), 1 a target failed,
2 the contract or the data cannot be used (diagnostics on standard error, never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import io
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from . import __version__
from .cli_guard import as_of_date, as_of_warnings, at_least, guard_streams
from .diagnostics import CompileError, render_all
from .errors import DataError
from .visible import visible_lines

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE, EXIT_BUG = 0, 1, 2, 70
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class UsageError(Exception):
    """A command-line mistake the user can fix (exit 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pmirc`` console script."""
    saved = sys.stdout, sys.stderr
    guard_streams()  # a reader that goes away early must not change the exit status
    try:
        status = _main(argv)
        sys.stdout.flush()  # a full disk is found here, not in Python's flush at exit
        return status
    except KeyboardInterrupt:
        print("pmirc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:
        if e.errno not in OUTPUT_ERRNOS:
            raise
        print(f"pmirc: error: cannot write the output: {e.strerror}", file=sys.stderr)
        _quiet_stdout()
        return EXIT_UNUSABLE
    finally:
        sys.stdout, sys.stderr = saved


#: Write errors that are the output's destination's fault (a full disk, a broken device).
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that Python's own flush at exit cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _without_pandas():
            if getattr(args, "data_dir", None) is not None:  # a command that reads data
                from .memory import reuse_freed_memory

                reuse_freed_memory()
            return int(args.run(args))
    except CompileError as e:
        print(render_all(e.diagnostics, e.sources), file=sys.stderr)
        return EXIT_UNUSABLE
    except DataError as e:
        print(visible_lines(str(e)), file=sys.stderr)
        return EXIT_UNUSABLE
    except UsageError as e:
        print(visible_lines(f"pmirc: error: {e}"), file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as e:  # noqa: BLE001 - a bug in pmirc, never the user's fault
        if isinstance(e, OSError) and e.errno in OUTPUT_ERRNOS:
            raise  # the output's destination failed: named by main()
        if os.environ.get("PMIRC_DEBUG"):
            traceback.print_exc()
        print(f"pmirc: internal error ({type(e).__name__}: {e}). This is a bug in pmirc; "
              "set PMIRC_DEBUG=1 for details.", file=sys.stderr)
        return EXIT_BUG


class _NoPandas:
    """An import finder that refuses pandas (see :func:`_without_pandas`)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("pmirc reads data without pandas", name="pandas")


@contextlib.contextmanager
def _without_pandas() -> Iterator[None]:
    """While a command runs, pandas cannot be imported: pyarrow imports it (when installed) on
    its first conversion to or from numpy, half a second or more of every command that reads
    data, and pmirc never uses it. Only for the command's duration (a notebook or a test that
    calls :func:`main` may use pandas afterwards: pyarrow looks for it again when asked to)."""
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(prog="pmirc", description="Evaluate DWP PMIR contract rules "
                                "written in the pmir language over programme data.")
    p.add_argument("--version", action="version", version=f"pmirc {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _check_parser(sub.add_parser("check", help="evaluate a contract over a data folder"))
    lint = sub.add_parser("lint", help="check a contract file without data")
    lint.add_argument("contracts", nargs="+", metavar="CONTRACT")
    lint.add_argument("--assumptions", action="store_true",
                      help="list every number the guidance does not state, FILE:LINE first")
    lint.set_defaults(run=cmd_lint)
    schema = sub.add_parser("schema", help="list the tables and columns a contract reads")
    schema.add_argument("contract")
    schema.set_defaults(run=cmd_schema)
    _audit_parser(sub.add_parser("audit", help="list the per-record verdicts behind a figure"))
    _test_parser(sub.add_parser("test", help="run a contract's rule tests (*.pmirtest files)"))
    _sample_parser(sub.add_parser("sample", help="draw a random compliance sample of a "
                                  "measure's records (AtW 6.46-6.48, IPES 9.75-9.77)"))
    _diff_parser(sub.add_parser("diff", help="the figures, verdicts, bands and levels that "
                                "change between two contracts, data sets or as-of dates"))
    _explain_parser(sub.add_parser("explain", help="why a figure is what it is: clauses, "
                                   "counts, deadlines and the records behind them"))
    fmt = sub.add_parser("fmt", help="rewrite contract files in the canonical layout")
    fmt.add_argument("files", nargs="+", metavar="FILE", help=".pmir files or folders of them")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if a file is not in the canonical layout")
    fmt.set_defaults(run=cmd_fmt)
    lsp = sub.add_parser("lsp", help="run the language server over standard input and output "
                         "(needs pip install 'pmirc[lsp]')")
    lsp.set_defaults(run=cmd_lsp)
    synth = sub.add_parser("synth", help="write a synthetic example data set")
    synth.add_argument("name", help="which contract's data: atw_ha")
    synth.add_argument("out_dir")
    synth.add_argument("--rows", type=int, default=2000)
    synth.add_argument("--seed", type=at_least(0), default=1)
    synth.add_argument("--force", action="store_true", help="overwrite files already there")
    synth.add_argument("--format", choices=("csv", "parquet"), default="csv")
    synth.set_defaults(run=cmd_synth)
    return p


def _check_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("contract")
    p.add_argument("data_dir")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD",
                   help="evaluate as at this date (default: the contract's extract date, else "
                   "the latest date in the data)")
    p.add_argument("--format", choices=("table", "json", "html", "xlsx", "csv"), default="table",
                   help="table (the terminal report), json, html (the review pack: one "
                   "self-contained page), xlsx (the pack as a workbook; needs -o) or csv (the "
                   "results table)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the json, html, xlsx or csv here instead of standard output")
    p.add_argument("--width", type=_width, default=None, metavar="N",
                   help="terminal report width in columns, at least 40 (default: the "
                   "terminal's, or 80 in a file); tables drop their least important columns "
                   "to fit, never cutting a figure")
    p.add_argument("--provider", metavar="NAME",
                   help="only this provider: a page of its measures (shorthand for --group "
                   "provider=NAME)")
    p.add_argument("--group", action="append", default=[], metavar="KEY=VALUE",
                   help="only groups with this key and value (any group key; repeatable)")
    p.add_argument("--measure", action="extend", nargs="+", metavar="ID",
                   help="only these measures (table and JSON)")
    p.add_argument("--chunk-rows", type=at_least(1), default=None, help=argparse.SUPPRESS)
    p.add_argument("--engine", choices=("numpy", "reference", "dask"), default="numpy",
                   help="numpy (default); reference: the slow, plain-Python reference "
                   "interpreter, to cross-check a figure on a small extract; dask: batches "
                   "evaluated on a dask.distributed cluster (a local one unless --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="with --engine dask: the address of a running scheduler "
                   "(tcp://HOST:8786); default a LocalCluster on this machine")
    p.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                   help="read the big tables in batches, never whole (out of core); default: "
                   "when their files are over 1 GiB of CSV or 256 MiB of Parquet")
    p.add_argument("--batch-rows", type=at_least(1), default=None, metavar="N",
                   help="records per batch when streaming (default 262,144)")
    p.set_defaults(run=cmd_check)


def _audit_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("contract")
    p.add_argument("data_dir")
    p.add_argument("--measure", required=True)
    p.add_argument("--period", help="only records counting in this month (YYYY-MM)")
    p.add_argument("--status", choices=("met", "failed", "pending", "excluded"))
    p.add_argument("--group", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD")
    p.add_argument("-o", "--output", help="write the CSV here instead of standard output")
    p.set_defaults(run=cmd_audit)


def _test_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="test files or folders to search for *.pmirtest (default: contracts/); "
                   "with --snapshot, the contracts")
    p.add_argument("--snapshot", metavar="DATA_DIR",
                   help="store the contracts' figures on this data set in an amber file beside "
                   "each contract (or in --snapshot-dir), or show which figures moved")
    p.add_argument("--snapshot-dir", metavar="DIR", help="where the amber files are kept")
    p.add_argument("--update", action="store_true", help="accept the figures that moved")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD", help="with --snapshot")
    p.add_argument("--coverage", action="store_true", help="list the measures, windows, "
                   "categories, targets, bands and regime rules that no test exercised")
    p.set_defaults(run=cmd_test)


def _sample_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("contract")
    p.add_argument("data_dir")
    p.add_argument("--measure", required=True)
    p.add_argument("--n", type=at_least(1), required=True, help="records to draw (per stratum)")
    p.add_argument("--seed", type=int, required=True, help="the generator's seed (recorded)")
    p.add_argument("--stratify", metavar="COLUMN", help="draw N from each value of this "
                   "group column of the measure")
    p.add_argument("--period", help="only records counting in this month (YYYY-MM)")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD")
    p.add_argument("-o", "--output", help="write the CSV here instead of standard output")
    p.set_defaults(run=cmd_sample)


def _diff_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD.pmir")
    p.add_argument("new", metavar="NEW.pmir", nargs="?",
                   help="(default: OLD.pmir again, to compare two data sets or dates)")
    p.add_argument("data_dir", nargs="?", metavar="DATA_DIR")
    p.add_argument("--data", nargs=2, metavar=("OLD_DIR", "NEW_DIR"),
                   help="a data folder for each side")
    p.add_argument("--as-of", nargs=2, type=as_of_date, metavar=("A", "B"),
                   help="an as-of date for each side")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(run=cmd_diff)


def _explain_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("contract")
    p.add_argument("data_dir")
    p.add_argument("--measure", required=True)
    p.add_argument("--group", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--period", required=True, help="YYYY-MM (or YYYY-Qn)")
    p.add_argument("--basis", default=None, help="default: in_month, or the measure's first")
    p.add_argument("--as-of", type=as_of_date, metavar="YYYY-MM-DD")
    p.add_argument("-o", "--output", help="write the records behind the figure to this CSV")
    p.set_defaults(run=cmd_explain)


def _width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 40:
        raise argparse.ArgumentTypeError(f"'{text}' is not a width of 40 columns or more")
    return value



# ---- commands -----------------------------------------------------------------------------------


def _warn(contract: Any) -> None:
    """The contract's warnings (text that may not be what it looks like), on standard error."""
    for warning in contract.warnings:
        print(warning + "\n", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """``pmirc check``: evaluate and report; exit 1 when any assessed target is failed."""
    from .load import load_tables
    from .pipeline import compile_file
    from .report import filters
    from .report import json as json_report

    plan = compile_file(args.contract)
    _warn(plan.contract)
    with _progress(args.format) as step:
        used = plan.contract.used_tables()
        streamed = _streamed(args, plan)
        opened = None
        with step(f"Reading {len(used)} table{'s' if len(used) != 1 else ''} from "
                  f"{args.data_dir}" + (f" (streaming {', '.join(streamed)})" if streamed
                                        else "")), _importing_holidays():
            if streamed or args.engine == "dask":
                from .stream import open_tables

                opened = open_tables(_existing_dir(args.data_dir), plan, streamed,
                                     args.batch_rows)
                tables = opened.tables
            else:
                tables = load_tables(_existing_dir(args.data_dir), used)
        with step(f"Evaluating {len(plan.measures)} measures"):
            ev = _evaluate(args, plan, tables, opened)
    try:
        groups, measures = filters.resolve(ev, args.provider, args.group, args.measure)
    except filters.FilterError as e:
        raise UsageError(str(e)) from None
    if args.format in PACK_FORMATS:
        _write_pack(filters.narrow(ev, groups, measures), args.format, args.output,
                    filters.describe(groups, measures))
    elif args.format == "json":
        _write_text(args.output, json_report.pieces(ev, groups, measures))
    else:
        from rich.console import Console

        from .report import terminal

        terminal.render(ev, Console(width=args.width, highlight=False), groups, measures)
    return EXIT_FAILED if filters.failed(ev.results, groups, measures) else EXIT_OK


@contextlib.contextmanager
def _importing_holidays() -> Iterator[None]:
    """Import the bank-holiday package and its UK module (about 0.25 s of Python, needed for
    the calendar once the tables are read) on another thread while the tables are read: reading
    them is mostly Arrow's work, which lets go of the interpreter. Joined before the block's end,
    so that nothing is left importing."""
    import threading

    thread = threading.Thread(target=_import_holidays, name="pmirc-import-holidays")
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _import_holidays() -> None:
    """``holidays`` and its UK module imported (the calendar imports them again, a lookup)."""
    with contextlib.suppress(Exception):  # the calendar imports it again, and says what fails
        import holidays

        holidays.country_holidays("GB")


def _progress(fmt: str) -> Any:
    """The table report's progress steps (``terminal.progress``). Other formats never show
    progress (``terminal.progress_wanted``), so their runs do not import the terminal report
    and rich (0.1 s of every ``--format json`` run)."""
    if fmt != "table":
        return contextlib.nullcontext(lambda description: contextlib.nullcontext())
    from .report import terminal

    return terminal.progress(terminal.progress_wanted(sys.stderr, fmt))


def _streamed(args: argparse.Namespace, plan: Any) -> tuple[str, ...]:
    """The tables to read in batches (docs/performance.md: out of core)."""
    from .stream import chosen, streamable

    if args.scheduler is not None and args.engine != "dask":
        raise UsageError("--scheduler ADDRESS is the dask scheduler of --engine dask")
    if args.engine == "reference":
        if args.stream:
            raise UsageError("--engine reference reads every table whole: leave out --stream")
        return ()
    if args.engine == "dask":  # workers evaluate the batches of every streamable table
        return streamable(plan.contract)
    return chosen(plan.contract, _existing_dir(args.data_dir), args.stream)


PACK_FORMATS = ("html", "xlsx", "csv")


def _write_pack(ev: object, fmt: str, path: str | None, scope: str | None = None) -> None:
    """The review pack as HTML, an Excel workbook or the results CSV (docs/pack.md); ``scope``:
    what a filtered pack shows, said in its header."""
    if fmt == "xlsx":
        if path is None:
            raise UsageError("--format xlsx writes a workbook: name it with -o pack.xlsx")
        from .report import xlsx

        xlsx.write(ev, path, scope)  # type: ignore[arg-type]
    elif fmt == "html":
        from .report import html

        _write_text(path, html.render(ev, scope))  # type: ignore[arg-type]
    else:
        from .report import csv as csv_report

        _write_text(path, csv_report.render(ev.results))  # type: ignore[attr-defined]


def _write_text(path: str | None, text: str | Iterable[str]) -> None:
    """Write ``text`` (or its pieces, joined a few thousand at a time) to ``path`` or stdout."""
    if path is None:
        _write_pieces(sys.stdout, text)
    else:
        with open(path, "w", encoding="utf-8", newline="") as f:
            _write_pieces(f, text)


def _write_pieces(out: Any, text: str | Iterable[str]) -> None:
    if isinstance(text, str):
        out.write(text)
        return
    batch: list[str] = []
    for piece in text:
        batch.append(piece)
        if len(batch) >= 8192:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))


#: A date this many days or more after every other date in the data is probably mistyped.
FAR_DAYS = 366


def far_dates(tables: dict, opened: Any = None) -> list[str]:  # type: ignore[type-arg]
    """Warnings naming the dates (file, column, rows) a year or more after all the others, among
    the 5 latest distinct dates in the data: without --as-of or an extract date, the latest of
    them is the as-of date (semantics.md 2), which a mistyped year makes absurd. ``opened``
    (streamed tables): their latest dates are known; their rows are read only for a warning."""
    import numpy as np

    from .errors import DataProblem
    from .pipeline import latest_dates
    from .schema import ColumnType

    cols = [(t, c, 0) for t in tables.values() for c in t.columns.values()
            if c.spec.type is ColumnType.DATE]
    dates = latest_dates([c.values for _, c, _ in cols], 6)
    if opened is not None and opened.streams:
        dates = np.unique(np.concatenate([dates, *(s.latest for s in opened.streams.values())]))
    top = dates[-6:]
    jumps = np.flatnonzero(np.diff(top) >= np.timedelta64(FAR_DAYS, "D"))
    if not jumps.size:
        return []
    usual = top[jumps[0]]
    if opened is not None and opened.streams:
        from .stream import far_date_columns

        cols = list(far_date_columns(opened))
    found: dict[tuple[str, str], tuple[list[int], list[str], int]] = {}
    for t, c, offset in cols:
        rows = np.flatnonzero(c.values > usual)
        if rows.size:
            first = 2 if t.path.endswith(".csv") else 1  # spreadsheet rows, as in data problems
            shown, values, count = found.get((t.path, c.spec.name), ([], [], 0))
            found[(t.path, c.spec.name)] = (
                (shown + [int(r) + first + offset for r in rows[:5]])[:5],
                (values + [str(c.values[r]) for r in rows[:5]])[:5], count + len(rows))
    out = []
    for (path, column), (shown, values, count) in found.items():
        problem = DataProblem(
            path, f"a year or more after every other date in the data (the latest of them "
            f"is {usual}), so the as-of date is {dates[-1]}", column, tuple(shown), tuple(values),
            count, hint="if it is mistyped, correct it, or pass --as-of YYYY-MM-DD")
        out.append(problem.render().replace("error[bad-data]", "warning[far-date]", 1))
    return out


def _evaluate(args: argparse.Namespace, plan: Any, tables: dict,  # type: ignore[type-arg]
              opened: Any = None) -> Any:
    """Evaluate with the engine asked for, after the far-date warnings; ``opened``: the
    tables as :func:`pmir_dsl.stream.open_tables` opened them (some streamed)."""
    from .lookalike import literal_warnings
    from .pipeline import evaluate

    if args.as_of is None and not plan.contract.extract_date:  # as of the latest date in the data
        for line in far_dates(tables, opened):
            print(line, file=sys.stderr)
    if args.as_of is not None:
        for line in as_of_warnings(tables, args.as_of, opened.spans if opened else ()):
            print(line, file=sys.stderr)
    for line in literal_warnings(plan.contract, tables, opened.texts if opened else None):
        print(line, file=sys.stderr)
    if args.engine == "reference":
        from .reference import evaluate_reference

        return evaluate_reference(plan, tables, args.as_of)
    if args.engine == "dask":
        from .cluster import ClusterError, evaluate_dask

        try:
            return evaluate_dask(plan, opened, args.as_of, args.scheduler)
        except ClusterError as e:
            raise UsageError(str(e)) from None
    if opened is not None:
        from .stream import evaluate as evaluate_streamed

        return evaluate_streamed(plan, opened, args.as_of)
    return evaluate(plan, tables, args.as_of, args.chunk_rows)


def cmd_lint(args: argparse.Namespace) -> int:
    """``pmirc lint``: parse and check each contract; report what it declares."""
    from .check import check_file

    status = EXIT_OK
    for path in args.contracts:
        try:
            c = check_file(path)
        except CompileError as e:
            print(render_all(e.diagnostics, e.sources), file=sys.stderr)
            status = EXIT_UNUSABLE
            continue
        _warn(c)
        print(f"{path}: ok: contract '{c.name}', {len(c.measures)} measures "
              f"({', '.join(m.id for m in c.measures)}), {len(c.tables)} tables")
        if args.assumptions:
            from .assumptions import lint_lines

            lines = lint_lines(c)
            print("\n".join(lines) if lines else f"{path}: no assumptions declared")
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    """``pmirc schema``: the files and columns ``pmirc check`` will read."""
    from .check import check_file

    c = check_file(args.contract)
    used = {t.name: {col.name for col in t.columns} for t in c.used_tables()}
    for t in c.tables:
        if t.name not in used:
            continue
        print(f"{t.name}.csv (or {t.name}.parquet, or a folder {t.name}/ of Parquet files)")
        for col in t.columns:
            if col.name in used[t.name]:
                kind = f"category: {' | '.join(col.categories)}" if col.categories else \
                    f"ids of {col.references}" if col.references else col.type.value
                kind += f" written {col.date_format}" if col.date_format else ""
                print(f"  {col.name:<28} {kind}{', may be empty' if col.nullable else ''}")
    return EXIT_OK


def _measure_evaluation(args: argparse.Namespace) -> Any:
    """The evaluation behind ``audit``, ``sample`` and ``explain``: ``args.contract`` compiled,
    ``args.measure`` checked to be one of its measures (before any data is read), then
    ``args.data_dir`` loaded and evaluated as of ``args.as_of``."""
    from .load import load_tables
    from .pipeline import compile_file, evaluate

    plan = compile_file(args.contract)
    _warn(plan.contract)
    if args.measure not in {mp.measure.id for mp in plan.measures}:
        ids = ", ".join(mp.measure.id for mp in plan.measures)
        raise UsageError(f"no measure '{args.measure}' in {args.contract} (measures: {ids})")
    tables = load_tables(_existing_dir(args.data_dir), plan.contract.used_tables())
    return evaluate(plan, tables, args.as_of)


def cmd_audit(args: argparse.Namespace) -> int:
    """``pmirc audit``: one CSV row per record behind a measure's figures."""
    from .audit import audit_rows

    ev = _measure_evaluation(args)
    groups = dict(_key_value(g) for g in args.group)
    header, rows = audit_rows(ev, args.measure, args.period, args.status, groups)
    if not rows:
        for line in _empty_audit(args, groups, header):
            print(line, file=sys.stderr)
    _write_csv(args.output, header, rows)
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    """``pmirc test``: run rule tests; exit 1 when one fails, 2 when a test file is malformed."""
    from .testing import run_paths

    if args.snapshot is not None:
        return _snapshot(args)
    cache: dict = {}  # type: ignore[type-arg]
    status, runs = run_paths(args.paths or ["contracts"], sys.stdout, sys.stderr, cache)
    if args.coverage:
        _coverage(runs, cache)
    return status


def cmd_sample(args: argparse.Namespace) -> int:
    """``pmirc sample``: a seeded, optionally stratified random sample of a measure's records,
    as CSV with the method and seed in '#' comment lines above the header."""
    from .sample import SampleError, draw_sample

    ev = _measure_evaluation(args)
    try:
        sample = draw_sample(ev, args.measure, args.n, args.seed, args.stratify, args.period)
    except SampleError as e:
        raise UsageError(str(e)) from None
    _write_csv(args.output, sample.header, sample.rows, [f"# {line}" for line in sample.method])
    return EXIT_OK


def _coverage(runs: list, cache: dict) -> None:  # type: ignore[type-arg]
    from .rulecoverage import coverage, render
    from .testing import contract_path, load_plan

    by_contract: dict = {}  # type: ignore[type-arg]
    for fr in runs:
        by_contract.setdefault(contract_path(fr.file), []).append(fr)
    for path, files in sorted(by_contract.items()):
        plan = load_plan(files[0].file, cache)
        done, missing = coverage(plan, [r for fr in files for r in fr.runs])
        print(render(str(path), done, missing))


def _snapshot(args: argparse.Namespace) -> int:
    from .snapshot import run_snapshot

    if not args.paths:
        raise UsageError("--snapshot DATA_DIR needs the contracts to snapshot, e.g. "
                         "pmirc test --snapshot examples/atw_ha contracts/atw_ha.pmir")
    _existing_dir(args.snapshot)
    return max(run_snapshot(c, args.snapshot, args.snapshot_dir, args.update, args.as_of,
                            sys.stdout) for c in args.paths)


def cmd_diff(args: argparse.Namespace) -> int:
    """``pmirc diff``: exit 0 when nothing changed, 1 when something did."""
    from .diff import render_json, render_table, run_diff

    new, data = args.new or args.old, args.data_dir
    if args.new and data is None and os.path.isdir(args.new):  # pmirc diff C.pmir DATA --as-of
        new, data = args.old, args.new
    if args.data and data:
        raise UsageError("give either DATA_DIR or --data OLD_DIR NEW_DIR, not both")
    if not args.data and not data:
        raise UsageError("give a data folder: pmirc diff OLD.pmir NEW.pmir DATA_DIR "
                         "(or --data OLD_DIR NEW_DIR)")
    old_dir, new_dir = args.data or (data, data)
    for d in (old_dir, new_dir):
        _existing_dir(d)
    found, sides = run_diff(args.old, new, old_dir, new_dir, tuple(args.as_of or (None, None)))
    sys.stdout.write(render_json(found, sides) if args.format == "json" else
                     render_table(found))
    return EXIT_FAILED if found else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """``pmirc explain``: the clauses, counts and records behind one figure."""
    from .explain import ExplainError, explain

    ev = _measure_evaluation(args)
    bases = ev.plan.measure(args.measure).measure.bases
    basis = args.basis or ("in_month" if "in_month" in bases else bases[0])
    try:
        text, header, rows = explain(ev, args.measure, dict(_key_value(g) for g in args.group),
                                     args.period, basis)
    except ExplainError as e:
        raise UsageError(str(e)) from None
    sys.stdout.write(text)
    if args.output:
        _write_csv(args.output, header, rows)
        print(f"{len(rows)} records written to {args.output}")
    return EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    """``pmirc fmt``: 0 all formatted (or already so), 1 --check found a file to reformat,
    2 a file does not parse (it is left as it is)."""
    from pathlib import Path

    from .fmt import format_file

    paths = [q for p in map(Path, args.files)
             for q in (sorted(p.rglob("*.pmir")) if p.is_dir() else [p])]
    status = EXIT_OK
    for path in paths:
        if not path.is_file():
            raise UsageError(f"no file '{path}'")
        source, formatted, diagnostics = format_file(str(path))
        if diagnostics:
            print(render_all(diagnostics, {str(path): source}), file=sys.stderr)
            status = EXIT_UNUSABLE
        elif formatted != source and args.check:
            print(f"{path}: would reformat")
            status = max(status, EXIT_FAILED)
        elif formatted != source:
            path.write_text(formatted, encoding="utf-8")
            print(f"{path}: reformatted")
    return status


def cmd_lsp(args: argparse.Namespace) -> int:
    """``pmirc lsp``: the language server (diagnostics, hover, go to definition)."""
    try:
        import pygls  # noqa: F401
    except ImportError:
        raise UsageError("the language server needs pygls: pip install 'pmirc[lsp]'") from None
    from .lsp import serve

    serve()
    return EXIT_OK


def _empty_audit(args: argparse.Namespace, groups: dict[str, str], header: list[str]
                 ) -> list[str]:
    """Warnings when an audit's filters match no record: say which filters, and a group key
    that is not one of the measure's columns."""
    asked = [f"--period {args.period}"] * bool(args.period) + \
        [f"--status {args.status}"] * bool(args.status) + [f"--group {k}={v}" for k, v in groups.items()]
    if not asked:
        return []
    lines = [f"warning[empty-audit]: no record of {args.measure} matches {' '.join(asked)}"]
    known = header[2:header.index("period")]
    for key in groups:
        if key not in known:
            lines.append(f"  '{key}' is not a group column of {args.measure} "
                         f"(its group columns: {', '.join(known) or 'none'})")
    if args.period and not re.fullmatch(r"\d{4}-(\d{2}|Q[1-4])", args.period):
        lines.append(f"  periods are written YYYY-MM or YYYY-Qn, not '{args.period}'")
    return lines


def cmd_synth(args: argparse.Namespace) -> int:
    """``pmirc synth``: write a deterministic synthetic data set."""
    from .synth import GENERATORS, write_tables

    if args.name not in GENERATORS:
        raise UsageError(f"no generator '{args.name}' (have: {', '.join(GENERATORS)})")
    if args.rows < 1:
        raise UsageError("--rows must be at least 1")
    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        raise UsageError(f"'{args.out_dir}' is a file, not a folder to write the data set into")
    tables = GENERATORS[args.name](args.rows, seed=args.seed)
    there = [n for n in tables if os.path.exists(os.path.join(args.out_dir, f"{n}.{args.format}"))]
    if there and not args.force:
        raise UsageError(f"{args.out_dir} already holds {', '.join(f'{n}.{args.format}' for n in there)}"
                         "; pass --force to overwrite")
    try:
        paths = write_tables(tables, args.out_dir, args.format)
    except OSError as e:
        raise UsageError(f"cannot write the data set into '{args.out_dir}': {e.strerror or e}") from e
    for path in paths:
        print(path)
    return EXIT_OK


# ---- helpers ------------------------------------------------------------------------------------


def _existing_dir(path: str) -> str:
    if not os.path.isdir(path):
        raise UsageError(f"data folder '{path}' does not exist or is not a folder")
    return path


def _key_value(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise UsageError(f"--group takes KEY=VALUE, e.g. --group provider=North, not '{text}'")
    key, value = text.split("=", 1)
    return key, value


def escape_cell(value: object) -> str:
    """A CSV cell that Excel will not run as a formula (cells beginning = + - @, a tab, CR, LF
    or NUL are quoted: a spreadsheet may skip the control character and read what follows)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n", "\0") else text


def _write_csv(path: str | None, header: list[str], rows: list[list[object]],
               comments: Sequence[str] = ()) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for line in comments:  # '#' lines above the header, each one cell (quoted if it must be)
        w.writerow([escape_cell(" ".join(line.split()))])
    w.writerow(header)
    w.writerows([[escape_cell(v) for v in row] for row in rows])
    if path is None:
        sys.stdout.write(buf.getvalue())
    else:
        try:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(buf.getvalue())
        except OSError as e:  # a missing folder, a folder, a full disk
            raise UsageError(f"cannot write '{path}': {e.strerror or e}") from None


Command = Callable[[argparse.Namespace], int]

if __name__ == "__main__":
    sys.exit(main())
