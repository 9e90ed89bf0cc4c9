#!/usr/bin/env python
"""Benchmark: load and evaluate the AtW HA contract over 1M and 10M synthetic referrals.

For each size the data is generated and written once (timed, reported apart from the figures,
cached in the work folder by rows, seed and format), then each measurement runs in fresh Python
processes, so that peak RSS (``ru_maxrss`` of the process: arrow allocates outside Python, so
tracemalloc would miss most of it) covers that measurement and nothing before it:

* ``load``      ``load_tables`` of the columns the contract reads -> rows/s. A process of its own.
* ``baseline``  one numpy pass over the same loaded columns: the sum of every column the contract
                reads (dates as their int64 view, codes and flags as ints; the id columns, Arrow
                string arrays that evaluation only reads for data-quality examples, are left out).
* ``evaluate``  ``pipeline.evaluate`` over the loaded tables (loading excluded) -> rows/s.
* ``render``    ``report.json.render`` of that evaluation.

``baseline``, ``evaluate`` and ``render`` share a second process: an untimed load, then the three
in that order, so the ratio evaluate / baseline compares timings taken in one process on the
same arrays. ``peak RSS`` is the process's peak once the phase has run (it includes the loaded
data); ``+phase`` is how much the phase raised that peak. ``cpu s`` is the CPU time of the
process (all threads) during the phase: on a machine busy with other work it is steadier than
wall time (``load`` parses on threads, so its CPU time may exceed its wall time). Every process
is repeated ``--repeat`` times; the best times and the largest RSS are kept. Modules (including
the ``holidays`` country tables, imported lazily on the first evaluation) are imported before
timing: an import is a fixed cost, not a per-row one.

Rows are the ``referrals`` rows; ``workforce`` and ``returns`` (a few dozen rows each) are loaded
and evaluated too. The figures are printed as a fixed-layout plain-text table and written to
``benchmarks/out/results.json``. The aim (the issue): evaluation within 10x of the baseline.

Usage: python benchmarks/bench_atw.py [--rows 1000000 10000000] [--format csv|parquet]
           [--repeat 3] [--workdir DIR] [--keep] [--seed 1] [--results PATH]
           [--chunk-rows N] [--profile N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
#: Which bundled contract and generator to run (--contract sets it; children inherit it).
NAME = os.environ.get("PMIRC_BENCH_CONTRACT", "atw_ha")
CONTRACT = ROOT / "contracts" / f"{NAME}.pmir"
RESULTS = OUT / "results.json"
CACHE_MARK = "bench-complete.json"
PHASES = ("load", "baseline", "evaluate", "render")


# ---------------------------------------------------------------------------------------------
# Child processes: each prints one JSON object as its last stdout line.


def _peak_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


def _preimport() -> None:
    """Import what the timed code would otherwise import on first use."""
    import importlib

    import pmir_dsl.load  # noqa: F401
    import pmir_dsl.pipeline  # noqa: F401
    import pmir_dsl.report.json  # noqa: F401

    try:  # holidays loads its country modules lazily, on the first calendar built
        importlib.import_module("holidays.countries")
    except ImportError:
        pass


def child_generate(rows: int, seed: int, fmt: str, out_dir: Path) -> dict[str, Any]:
    """Generate and write the data set; times of the two steps."""
    from pmir_dsl.synth import GENERATORS, write_tables

    t0 = time.perf_counter()
    tables = GENERATORS[NAME](rows, seed)
    t1 = time.perf_counter()
    paths = write_tables(tables, out_dir, fmt)
    t2 = time.perf_counter()
    return {"generate_s": round(t1 - t0, 4), "write_s": round(t2 - t1, 4),
            "bytes": sum(p.stat().st_size for p in paths), "peak_rss_mib": round(_peak_mib(), 1)}


class Phase:
    """Times a block: wall seconds, CPU seconds of the whole process (all threads), and the
    process's peak RSS before and after it."""

    def __init__(self, figures: dict[str, Any], name: str):
        self.figures, self.name = figures, name

    def __enter__(self) -> Phase:
        self.rss_before = _peak_mib()
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu = time.perf_counter() - self.wall0, time.process_time() - self.cpu0
        self.figures[self.name] = {"wall_s": wall, "cpu_s": cpu,
                                   "rss_before_mib": self.rss_before, "rss_after_mib": _peak_mib()}


def child_load(data_dir: Path) -> dict[str, Any]:
    """Time load_tables alone."""
    _preimport()
    from pmir_dsl.load import load_tables
    from pmir_dsl.pipeline import compile_file

    plan = compile_file(CONTRACT)
    specs = plan.contract.used_tables()
    phases: dict[str, Any] = {}
    with Phase(phases, "load"):
        tables = load_tables(data_dir, specs)
    return {"rows": tables["referrals"].rows, "phases": phases}


def baseline_pass(tables: dict[str, Any], specs: Any) -> tuple[int, int, int]:
    """One numpy pass: the sum of every column the contract reads. (checksum, columns, bytes)."""
    import numpy as np

    from pmir_dsl.schema import ColumnType

    total, columns, nbytes = 0, 0, 0
    for spec in specs:
        table = tables[spec.name]
        for col_spec in spec.columns:
            if col_spec.type in (ColumnType.ID, ColumnType.REF):  # strings: not summable
                continue
            values = table.columns[col_spec.name].values
            if values.dtype.kind == "M":
                values = values.view(np.int64)
            total += int(np.add.reduce(values, dtype=np.int64))
            columns += 1
            nbytes += values.nbytes
    return total, columns, nbytes


def child_evaluate(data_dir: Path, chunk_rows: int | None) -> dict[str, Any]:
    """Load (untimed), then time the baseline pass, evaluate and render, in that order."""
    _preimport()
    from pmir_dsl.load import load_tables
    from pmir_dsl.pipeline import compile_file, evaluate
    from pmir_dsl.report.json import render

    plan = compile_file(CONTRACT)
    specs = plan.contract.used_tables()
    tables = load_tables(data_dir, specs)
    phases: dict[str, Any] = {}
    with Phase(phases, "baseline"):
        checksum, columns, nbytes = baseline_pass(tables, specs)
    with Phase(phases, "evaluate"):
        ev = evaluate(plan, tables, chunk_rows=chunk_rows)
    with Phase(phases, "render"):
        text = render(ev)
    data = text.encode()
    return {
        "rows": tables["referrals"].rows, "phases": phases,
        "baseline_columns": columns, "baseline_bytes": nbytes, "baseline_checksum": checksum,
        "results": len(ev.results), "json_bytes": len(data),
        "json_sha256": hashlib.sha256(data).hexdigest(),
    }


def child_profile(data_dir: Path, top: int, chunk_rows: int | None) -> dict[str, Any]:
    """cProfile of evaluate (loading excluded): the top functions by own time."""
    import cProfile
    import io
    import pstats

    _preimport()
    from pmir_dsl.load import load_tables
    from pmir_dsl.pipeline import compile_file, evaluate

    plan = compile_file(CONTRACT)
    tables = load_tables(data_dir, plan.contract.used_tables())
    profile = cProfile.Profile()
    profile.enable()
    evaluate(plan, tables, chunk_rows=chunk_rows)
    profile.disable()
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return {"profile": text.getvalue()}


def note(text: str) -> None:
    """Progress on stderr (stdout keeps its fixed layout)."""
    print(f"[bench_atw] {text}", file=sys.stderr, flush=True)


def run_child(args: list[str]) -> dict[str, Any]:
    """Run this script as a child with ``args``; its last stdout line, parsed."""
    sys.stdout.flush()
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"benchmark child failed ({done.returncode}): {' '.join(args)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Driver


def synth_hash() -> str:
    """Hash of the generator's source, so that cached data follows changes to it."""
    return hashlib.sha256((ROOT / "pmir_dsl" / "synth.py").read_bytes()).hexdigest()[:16]


def ensure_data(workdir: Path, rows: int, seed: int, fmt: str) -> tuple[Path, dict[str, Any]]:
    """The data folder for (rows, seed, format), generated unless the cache already has it."""
    folder = workdir / "data" / f"{NAME}-rows{rows}-seed{seed}-{fmt}"
    mark = folder / CACHE_MARK
    key = {"rows": rows, "seed": seed, "format": fmt, "synth": synth_hash()}
    if mark.is_file():
        info = json.loads(mark.read_text())
        if info.get("key") == key:
            return folder, {**info["generated"], "cached": True}
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    note(f"generating {rows} rows ({fmt}) in {folder}")
    generated = run_child(["generate", str(rows), str(seed), fmt, str(folder)])
    mark.write_text(json.dumps({"key": key, "generated": generated}, indent=2) + "\n")
    return folder, {**generated, "cached": False}


def measure(folder: Path, repeat: int, chunk: list[str]) -> dict[str, Any]:
    """Best-of-``repeat`` figures of every phase, each repeat in fresh processes."""
    note(f"measuring {folder.name}: {repeat} load processes, then {repeat} evaluate processes")
    loads = [run_child(["load", str(folder)]) for _ in range(repeat)]
    evals = [run_child(["evaluate", str(folder), *chunk]) for _ in range(repeat)]
    digests = {e["json_sha256"] for e in evals}
    if len(digests) != 1:
        raise SystemExit(f"the JSON report differs between repeats: {sorted(digests)}")
    rows = evals[0]["rows"]
    runs = {phase: [c["phases"][phase] for c in (loads if phase == "load" else evals)]
            for phase in PHASES}
    wall = {phase: min(r["wall_s"] for r in runs[phase]) for phase in PHASES}
    cpu = {phase: min(r["cpu_s"] for r in runs[phase]) for phase in PHASES}

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 2) if b > 0 else None

    phases = {}
    for phase in PHASES:
        # peak RSS once the phase had run (monotonic within a process), and what it added
        peak = max(r["rss_after_mib"] for r in runs[phase])
        before = max(r["rss_before_mib"] for r in runs[phase])
        phases[phase] = {
            "seconds": round(wall[phase], 6),
            "cpu_seconds": round(cpu[phase], 6),
            "rows_per_s": round(rows / wall[phase]) if wall[phase] > 0 else None,
            "x_baseline": ratio(wall[phase], wall["baseline"]),
            "x_baseline_cpu": ratio(cpu[phase], cpu["baseline"]),
            "peak_rss_mib": round(peak, 1),
            "phase_rss_mib": round(max(peak - before, 0.0), 1),
            "runs_s": [round(r["wall_s"], 6) for r in runs[phase]],
            "runs_cpu_s": [round(r["cpu_s"], 6) for r in runs[phase]],
        }
    e = evals[0]
    return {
        "rows": rows,
        "phases": phases,
        "evaluate_over_baseline": phases["evaluate"]["x_baseline"],
        "evaluate_over_baseline_cpu": phases["evaluate"]["x_baseline_cpu"],
        "baseline_columns": e["baseline_columns"],
        "baseline_mib": round(e["baseline_bytes"] / 2**20, 1),
        "results": e["results"],
        "json_bytes": e["json_bytes"],
        "json_sha256": e["json_sha256"],
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import numpy
    import pyarrow

    mem_kib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "mem_total_gib": round(mem_kib / 2**20, 1) if mem_kib else None,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
    }


def package_info() -> dict[str, Any]:
    """Which pmir_dsl was measured: its folder, a hash of its sources, and the git revision."""
    import importlib.util

    spec = importlib.util.find_spec("pmir_dsl")
    folder = Path(spec.origin).parent if spec and spec.origin else None
    digest = hashlib.sha256()
    if folder is not None:
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())

    def git(*words: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder.parent), *words],
                                  capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    revision = git("rev-parse", "--short", "HEAD") if folder is not None else None
    dirty = git("status", "--porcelain", "--", "pmir_dsl") if revision else None
    return {"path": str(folder) if folder else None,
            "sources_sha256": digest.hexdigest()[:16] if folder else None,
            "git_revision": revision,
            "git_dirty": None if dirty is None else bool(dirty)}


def loadavg() -> list[float] | None:
    """The system load averages (other work on the machine makes the figures slower)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def fmt_num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(fmt: str, sizes: list[dict[str, Any]]) -> None:
    """The figures as a fixed-layout plain-text table."""
    print()
    print("data generation (not part of the figures)")
    head = f"{'rows':>10}  {'format':<7}  {'generate s':>10}  {'write s':>8}  {'MiB':>8}  cached"
    print(head)
    print("-" * len(head))
    for s in sizes:
        g = s["generation"]
        print(f"{s['rows']:>10}  {fmt:<7}  {g['generate_s']:>10.2f}  {g['write_s']:>8.2f}  "
              f"{g['bytes'] / 2**20:>8.1f}  {'yes' if g['cached'] else 'no'}")
    print()
    head = (f"{'rows':>10}  {'format':<7}  {'phase':<8}  {'best s':>9}  {'rows/s':>11}  "
            f"{'x baseline':>10}  {'cpu s':>9}  {'x base cpu':>10}  {'peak RSS MiB':>12}  "
            f"{'+phase MiB':>10}")
    print(head)
    print("-" * len(head))
    for s in sizes:
        for phase in PHASES:
            p = s["phases"][phase]
            print(f"{s['rows']:>10}  {fmt:<7}  {phase:<8}  {p['seconds']:>9.4f}  "
                  f"{fmt_num(p['rows_per_s'], ',.0f'):>11}  {fmt_num(p['x_baseline'], '.1f'):>10}  "
                  f"{p['cpu_seconds']:>9.4f}  {fmt_num(p['x_baseline_cpu'], '.1f'):>10}  "
                  f"{p['peak_rss_mib']:>12.1f}  {p['phase_rss_mib']:>10.1f}")
    print()
    for s in sizes:
        ratio = s["evaluate_over_baseline"]
        verdict = "within" if ratio is not None and ratio <= 10 else "NOT within"
        print(f"{s['rows']:>10} rows ({fmt}): evaluation = {fmt_num(ratio, '.1f')} x the numpy "
              f"baseline pass over {s['baseline_columns']} columns ({s['baseline_mib']} MiB) "
              f"in wall time, {fmt_num(s['evaluate_over_baseline_cpu'], '.1f')} x in CPU time; "
              f"{verdict} the 10x aim")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contract", choices=("atw_ha", "esf", "ses", "ipes"), default=None,
                        help="bundled contract to run (default atw_ha)")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="folder for the generated data (reused as a cache); default: a new "
                             "temporary folder under benchmarks/out/, removed unless --keep")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where to write the figures as JSON "
                             "(default: benchmarks/out/results.json)")
    parser.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                        help="pass chunk_rows=N to evaluate (default: evaluate's own default)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print the top N functions of a cProfile of each evaluation")
    args = parser.parse_args(argv)
    if args.contract is not None and args.contract != NAME:  # re-run with the choice inherited
        env = dict(os.environ, PMIRC_BENCH_CONTRACT=args.contract)
        rest = [a for i, a in enumerate(argv) if a != "--contract"
                and (i == 0 or argv[i - 1] != "--contract")]
        return subprocess.call([sys.executable, __file__, *rest], env=env)
    if args.repeat < 1 or any(r < 1 for r in args.rows) or (args.chunk_rows or 1) < 1:
        parser.error("--repeat, --rows and --chunk-rows must be at least 1")
    chunk = [str(args.chunk_rows)] if args.chunk_rows else []

    OUT.mkdir(parents=True, exist_ok=True)
    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=OUT)) if temporary else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    info = machine()
    package = package_info()
    print(f"bench_atw: contract {CONTRACT.relative_to(ROOT)}, format {args.format}, "
          f"seed {args.seed}, best of {args.repeat}, chunk_rows {args.chunk_rows or 'default'}")
    print(f"machine: {info['nproc']} CPUs, {info['mem_total_gib']} GiB, {info['cpu']}; "
          f"Python {info['python']}, numpy {info['numpy']}, pyarrow {info['pyarrow']}")
    print(f"pmir_dsl: {package['path']} (sources {package['sources_sha256']}, git "
          f"{package['git_revision'] or '-'}{' dirty' if package['git_dirty'] else ''})")
    sizes = []
    started = time.perf_counter()
    load_start = loadavg()
    try:
        for rows in args.rows:
            folder, generated = ensure_data(workdir, rows, args.seed, args.format)
            figures = measure(folder, args.repeat, chunk)
            sizes.append({"rows": rows, "format": args.format, "generation": generated,
                          **figures})
            if args.profile:
                prof = run_child(["profile", str(folder), str(args.profile), *chunk])
                print(f"\n=== cProfile of evaluate, {rows} rows ({args.format}) ===")
                print(prof["profile"])
    finally:
        if temporary and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    load_end = loadavg()
    print_table(args.format, sizes)
    print(f"\nload average (1, 5, 15 min): {load_start} at the start, {load_end} at the end "
          f"({os.cpu_count()} CPUs)")
    report = {
        "benchmark": "bench_atw",
        "contract": str(CONTRACT.relative_to(ROOT)),
        "command": " ".join(["python", "benchmarks/bench_atw.py", *argv]),
        "format": args.format,
        "seed": args.seed,
        "repeat": args.repeat,
        "chunk_rows": args.chunk_rows,
        "machine": info,
        "loadavg_start": load_start,
        "loadavg_end": load_end,
        "pmir_dsl": package,
        "total_wall_s": round(time.perf_counter() - started, 1),
        "sizes": sizes,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.results}" + (f"; data kept in {workdir}" if temporary and args.keep
                                       else ""))
    return 0


def child_main(argv: list[str]) -> int:
    kind, rest = argv[0], argv[1:]
    if kind != "generate":  # the process measured allocates as pmirc's does
        from pmir_dsl.memory import reuse_freed_memory

        reuse_freed_memory()  # as pmirc's command line does (pmir_dsl/cli.py)
    if kind == "generate":
        out = child_generate(int(rest[0]), int(rest[1]), rest[2], Path(rest[3]))
    elif kind == "load":
        out = child_load(Path(rest[0]))
    elif kind == "evaluate":
        out = child_evaluate(Path(rest[0]), int(rest[1]) if len(rest) > 1 else None)
    elif kind == "profile":
        out = child_profile(Path(rest[0]), int(rest[1]), int(rest[2]) if len(rest) > 2 else None)
    else:
        raise SystemExit(f"unknown child {kind!r}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
