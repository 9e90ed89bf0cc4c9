"""The ``pmirc`` command line: check, lint, schema, audit and synth.

Exit statuses (output.md): 0 every assessed target met (or nothing wrong), 1 a target failed,
2 the contract or the data cannot be used (diagnostics on standard error, never a traceback).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import traceback
from collections.abc import Callable, Sequence

import numpy as np
from rich.console import Console

from . import __version__
from .diagnostics import CompileError, render_all
from .errors import DataError

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE, EXIT_BUG = 0, 1, 2, 70


class UsageError(Exception):
    """A command-line mistake the user can fix (exit 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pmirc`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CompileError as e:
        print(render_all(e.diagnostics, e.sources), file=sys.stderr)
        return EXIT_UNUSABLE
    except DataError as e:
        print(str(e), file=sys.stderr)
        return EXIT_UNUSABLE
    except UsageError as e:
        print(f"pmirc: error: {e}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - a bug in pmirc, never the user's fault
        if os.environ.get("PMIRC_DEBUG"):
            traceback.print_exc()
        print(f"pmirc: internal error ({type(e).__name__}: {e}). This is a bug in pmirc; "
              "set PMIRC_DEBUG=1 for details.", file=sys.stderr)
        return EXIT_BUG


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(prog="pmirc", description="Evaluate DWP PMIR contract rules "
                                "written in the pmir language over programme data.")
    p.add_argument("--version", action="version", version=f"pmirc {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _check_parser(sub.add_parser("check", help="evaluate a contract over a data folder"))
    lint = sub.add_parser("lint", help="check a contract file without data")
    lint.add_argument("contracts", nargs="+", metavar="CONTRACT")
    lint.set_defaults(run=cmd_lint)
    schema = sub.add_parser("schema", help="list the tables and columns a contract reads")
    schema.add_argument("contract")
    schema.set_defaults(run=cmd_schema)
    _audit_parser(sub.add_parser("audit", help="list the per-record verdicts behind a figure"))
    synth = sub.add_parser("synth", help="write a synthetic example data set")
    synth.add_argument("name", help="which contract's data: atw_ha")
    synth.add_argument("out_dir")
    synth.add_argument("--rows", type=int, default=2000)
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--format", choices=("csv", "parquet"), default="csv")
    synth.set_defaults(run=cmd_synth)
    return p


def _check_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("contract")
    p.add_argument("data_dir")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="evaluate as at this date (default: the contract's extract date, else "
                   "the latest date in the data)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--width", type=int, default=None, help="terminal report width")
    p.add_argument("--chunk-rows", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--engine", choices=("numpy", "reference"), default="numpy",
                   help="numpy (default), or reference: the slow, plain-Python reference "
                   "interpreter, to cross-check a figure on a small extract")
    p.set_defaults(run=cmd_check)


def _audit_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("contract")
    p.add_argument("data_dir")
    p.add_argument("--measure", required=True)
    p.add_argument("--period", help="only records counting in this month (YYYY-MM)")
    p.add_argument("--status", choices=("met", "failed", "pending", "excluded"))
    p.add_argument("--group", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD")
    p.add_argument("-o", "--output", help="write the CSV here instead of standard output")
    p.set_defaults(run=cmd_audit)


def _date(text: str) -> str:
    try:
        value = np.datetime64(text, "D")
    except ValueError:
        value = None
    if value is None or str(value) != text:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD")
    return text


# ---- commands -----------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    """``pmirc check``: evaluate and report; exit 1 when any assessed target is failed."""
    from .load import load_tables
    from .pipeline import compile_file, evaluate
    from .report import json as json_report
    from .report import terminal

    plan = compile_file(args.contract)
    tables = load_tables(_existing_dir(args.data_dir), plan.contract.used_tables())
    if args.as_of is None and not plan.contract.extract_date:  # as of the latest date in the data
        for line in far_dates(tables):
            print(line, file=sys.stderr)
    if args.engine == "reference":
        from .reference import evaluate_reference

        ev = evaluate_reference(plan, tables, args.as_of)
    else:
        ev = evaluate(plan, tables, args.as_of, args.chunk_rows)
    if args.format == "json":
        sys.stdout.write(json_report.render(ev))
    else:
        terminal.render(ev, Console(width=args.width, highlight=False))
    failed = any(r["met"] is False for r in ev.results)
    return EXIT_FAILED if failed else EXIT_OK


#: A date this many days or more after every other date in the data is probably mistyped.
FAR_DAYS = 366


def far_dates(tables: dict) -> list[str]:  # type: ignore[type-arg]
    """Warnings naming the dates (file, column, rows) a year or more after all the others, among
    the 5 latest distinct dates in the data: without --as-of or an extract date, the latest of
    them is the as-of date (semantics.md 2), which a mistyped year makes absurd."""
    from .errors import DataProblem
    from .schema import ColumnType

    cols = [(t, c) for t in tables.values() for c in t.columns.values()
            if c.spec.type is ColumnType.DATE]
    from .pipeline import latest_dates

    dates = latest_dates([c.values for _, c in cols], 6)
    top = dates[-6:]
    jumps = np.flatnonzero(np.diff(top) >= np.timedelta64(FAR_DAYS, "D"))
    if not jumps.size:
        return []
    usual = top[jumps[0]]
    out = []
    for t, c in cols:
        rows = np.flatnonzero(c.values > usual)
        if rows.size:
            first = 2 if t.path.endswith(".csv") else 1  # spreadsheet rows, as in data problems
            problem = DataProblem(
                t.path, f"a year or more after every other date in the data (the latest of them "
                f"is {usual}), so the as-of date is {dates[-1]}", c.spec.name,
                tuple(int(r) + first for r in rows[:5]), tuple(str(c.values[r]) for r in rows[:5]),
                len(rows), hint="if it is mistyped, correct it, or pass --as-of YYYY-MM-DD")
            out.append(problem.render().replace("error[bad-data]", "warning[far-date]", 1))
    return out


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
        print(f"{path}: ok: contract '{c.name}', {len(c.measures)} measures "
              f"({', '.join(m.id for m in c.measures)}), {len(c.tables)} tables")
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
                print(f"  {col.name:<28} {kind}{', may be empty' if col.nullable else ''}")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    """``pmirc audit``: one CSV row per record behind a measure's figures."""
    from .audit import audit_rows
    from .pipeline import compile_file, evaluate
    from .load import load_tables

    plan = compile_file(args.contract)
    if args.measure not in {mp.measure.id for mp in plan.measures}:
        ids = ", ".join(mp.measure.id for mp in plan.measures)
        raise UsageError(f"no measure '{args.measure}' in {args.contract} (measures: {ids})")
    tables = load_tables(_existing_dir(args.data_dir), plan.contract.used_tables())
    ev = evaluate(plan, tables, args.as_of)
    groups = dict(_key_value(g) for g in args.group)
    header, rows = audit_rows(ev, args.measure, args.period, args.status, groups)
    _write_csv(args.output, header, rows)
    return EXIT_OK


def cmd_synth(args: argparse.Namespace) -> int:
    """``pmirc synth``: write a deterministic synthetic data set."""
    from .synth import GENERATORS, write_tables

    if args.name not in GENERATORS:
        raise UsageError(f"no generator '{args.name}' (have: {', '.join(GENERATORS)})")
    if args.rows < 1:
        raise UsageError("--rows must be at least 1")
    paths = write_tables(GENERATORS[args.name](args.rows, seed=args.seed), args.out_dir,
                         args.format)
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
    """A CSV cell that Excel will not run as a formula (cells beginning = + - @ are quoted)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_csv(path: str | None, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([[escape_cell(v) for v in row] for row in rows])
    if path is None:
        sys.stdout.write(buf.getvalue())
    else:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())


Command = Callable[[argparse.Namespace], int]

if __name__ == "__main__":
    sys.exit(main())
