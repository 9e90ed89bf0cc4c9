#!/usr/bin/env python
"""Benchmark: ``pmirc check`` end to end against DuckDB SQL and pandas on the same AtW Parquet.

For each size the AtW HA data is generated once (cached like bench_atw.py, in
``WORKDIR/data/atw_ha-rows{N}-seed{S}-parquet``), then each of these runs in a fresh process,
timed from the process's start to its exit (interpreter start, imports, reading the Parquet and
computing all included), with its peak RSS from ``wait4``:

* ``pmirc``   ``pmirc check contracts/atw_ha.pmir DATA --format json`` (all 8 measures,
              every group, period and basis, data quality, the JSON rendered);
* ``duckdb``  KPI 1-5 by DuckDB SQL with a working-day calendar table (atw_baselines.py);
* ``pandas``  KPI 1-5 by pandas (atw_baselines.py).

Each process's CPU time (user + system, all threads, from ``wait4``) is shown too: on a machine
shared with other work it is steadier than wall time.

The figures of KPI 1-5 (numerator, denominator, pending, excluded for every group, month and
basis) of the three must be equal, or the script stops. A fourth process loads the tables with
``load_tables`` and times, on the loaded arrays, ``pipeline.evaluate`` and one numpy pass: the
sum of each of the six referral date columns as int32 days. Ratios are of times measured in
this run: pmirc / DuckDB, pmirc / pandas, evaluate / numpy pass.

A last row (``--groups``, default 100,000) counts 1M referrals spread over that many providers
and 84 months with bench_groups.py: load plus every measure's counts (``pmirc s``), the counts
alone (``evaluate s``) and one numpy pass; no DuckDB or pandas figures, and not end to end: the
result rows of that many groups would be hundreds of millions (see bench_groups.py).

Usage: python benchmarks/bench_vs.py [--rows 1000000 10000000] [--repeat 1] [--workdir DIR]
           [--no-pandas] [--no-inprocess] [--groups 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import atw_baselines as baselines  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
CONTRACT = ROOT / "contracts" / "atw_ha.pmir"
PMIRC = Path(sys.executable).parent / "pmirc"


def timed(command: list[str], stdout: Path) -> dict[str, float]:
    """Run ``command`` with stdout to a file: wall seconds, and peak RSS in MiB from wait4."""
    with stdout.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):  # pmirc check exits 1 when a target is failed
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{err}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024}


def child(kind: str, folder: Path, out: Path) -> None:
    """Run one baseline (duckdb, pandas) or the in-process evaluate / numpy timings."""
    if kind == "duckdb":
        figures, as_of = baselines.duckdb_figures(folder)
    elif kind == "pandas":
        figures, as_of = baselines.pandas_figures(folder)
    else:
        out.write_text(json.dumps(inprocess(folder)))
        return
    out.write_text(json.dumps({"as_of": as_of, "figures": [[*k, *v] for k, v in figures.items()]}))


def inprocess(folder: Path) -> dict[str, float]:
    """Load, then time evaluate and one numpy pass over the six date columns (best of 3)."""
    import numpy as np

    from pmir_dsl.load import load_tables
    from pmir_dsl.memory import reuse_freed_memory
    from pmir_dsl.pipeline import compile_file, evaluate

    reuse_freed_memory()  # the process allocates as pmirc's command line does (pmir_dsl/cli.py)
    plan = compile_file(CONTRACT)
    t0 = time.perf_counter()
    tables = load_tables(folder, plan.contract.used_tables())
    load = time.perf_counter() - t0
    cols = [tables["referrals"].columns[c].values.view(np.int64).astype(np.int32)
            for c in baselines.DATE_COLUMNS]
    passes, evals = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        total = sum(int(np.add.reduce(c, dtype=np.int64)) for c in cols)
        passes.append(time.perf_counter() - t0)
    for _ in range(2):
        t0 = time.perf_counter()
        evaluate(plan, tables)
        evals.append(time.perf_counter() - t0)
    return {"load_s": load, "numpy_pass_s": min(passes), "evaluate_s": min(evals),
            "checksum": total}


def read_figures(path: Path) -> tuple[baselines.Figures, str]:
    data = json.loads(path.read_text())
    return {tuple(f[:4]): tuple(f[4:]) for f in data["figures"]}, data["as_of"]  # type: ignore


def run_size(label: str, folder: Path, repeat: int, with_pandas: bool,
             env_args: list[str] | None = None) -> dict[str, Any]:
    """Every process for one data folder, best of ``repeat``, figures cross-checked."""
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    work = OUT / "vs"
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, float]]] = {}
    commands = {"pmirc": [str(PMIRC), "check", str(CONTRACT), str(folder), "--format", "json",
                          *(env_args or [])],
                "duckdb": [*me, "duckdb", str(folder), str(work / "duckdb.json")]}
    if with_pandas:
        commands["pandas"] = [*me, "pandas", str(folder), str(work / "pandas.json")]
    for _ in range(repeat):
        for name, command in commands.items():
            print(f"[bench_vs] {label}: {name}", file=sys.stderr, flush=True)
            runs.setdefault(name, []).append(timed(command, work / f"{name}.stdout"))
    report = json.loads((work / "pmirc.stdout").read_text())
    expected = baselines.pmirc_figures(report)
    for name in commands:
        if name == "pmirc":
            continue
        figures, as_of = read_figures(work / f"{name}.json")
        wrong = baselines.differences(expected, figures)
        if wrong or as_of != report["as_of"]:
            raise SystemExit(f"{name} disagrees with pmirc ({label}):\n" + "\n".join(wrong))
    best = {name: {"wall_s": min(r["wall_s"] for r in rs), "cpu_s": min(r["cpu_s"] for r in rs),
                   "peak_rss_mib": max(r["peak_rss_mib"] for r in rs)} for name, rs in runs.items()}
    return {"label": label, "rows": report["tables"]["referrals"]["rows"], "best": best,
            "figures_checked": len(expected)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], Path(argv[2]), Path(argv[3]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=OUT / "cache")
    p.add_argument("--no-pandas", action="store_true", help="skip the (slow) pandas baseline")
    p.add_argument("--no-inprocess", action="store_true",
                   help="skip the in-process evaluate / numpy pass timing")
    p.add_argument("--groups", type=int, default=100_000,
                   help="also count this many providers over 84 months (bench_groups.py; 0: no)")
    args = p.parse_args(argv)
    import bench_atw

    results = []
    for rows in args.rows:
        folder, _ = bench_atw.ensure_data(args.workdir, rows, args.seed, "parquet")
        size = run_size(f"{rows} rows", folder, args.repeat, not args.no_pandas)
        if not args.no_inprocess:
            out = OUT / "vs" / "inprocess.json"
            timed([sys.executable, str(Path(__file__).resolve()), "--child", "inprocess",
                   str(folder), str(out)], OUT / "vs" / "inprocess.stdout")
            size["inprocess"] = json.loads(out.read_text())
        results.append(size)
    if args.groups:
        results.append(many_groups(args.groups))
    print_table(results)
    (OUT / "vs-results.json").write_text(json.dumps(
        {"command": " ".join(["python", "benchmarks/bench_vs.py", *argv]), "results": results},
        indent=2) + "\n")
    return 0


def many_groups(groups: int) -> dict[str, Any]:
    """bench_groups.py's case: 1M referrals over ``groups`` providers x 84 months, counted (not
    the result rows: see its docstring), beside one numpy pass; no DuckDB or pandas figures."""
    import bench_groups

    folder = OUT / "cache" / "data" / f"atw_ha-rows1000000-groups{groups}-months84-parquet"
    bench_groups.generate(1_000_000, groups, 84, folder)
    print(f"[bench_vs] {groups} groups: counts", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(HERE / "bench_groups.py"), "--child",
                           str(folder)], cwd=ROOT, capture_output=True, text=True, check=True)
    r = json.loads(proc.stdout)
    return {"label": f"{groups:,} groups x 84 months (counts only)", "rows": 1_000_000,
            "best": {"pmirc": {"wall_s": r["load_s"] + r["counts_s"], "cpu_s": r["cpu_s"],
                               "peak_rss_mib": r["counts_peak_mib"]}},
            "inprocess": {"evaluate_s": r["counts_s"], "numpy_pass_s": r["numpy_s"]}}


def print_table(results: list[dict[str, Any]]) -> None:
    """The figures as a Markdown table (pasted into benchmarks/README.md)."""
    print("| data | rows | pmirc s | DuckDB s | pandas s | pmirc / DuckDB | pmirc / pandas | "
          "evaluate s | numpy pass s | evaluate / numpy | peak RSS pmirc / DuckDB / pandas MiB | "
          "CPU s pmirc / DuckDB / pandas | pmirc / DuckDB CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        b = r["best"]
        pm, dk, pd_ = (b.get(k, {}).get("wall_s") for k in ("pmirc", "duckdb", "pandas"))
        ip = r.get("inprocess", {})
        ev, npass = ip.get("evaluate_s"), ip.get("numpy_pass_s")

        def f(x: float | None, spec: str = ".2f") -> str:
            return "-" if x is None else format(x, spec)

        rss = " / ".join(f(b.get(k, {}).get("peak_rss_mib"), ".0f")
                         for k in ("pmirc", "duckdb", "pandas"))
        cpu = [b.get(k, {}).get("cpu_s") for k in ("pmirc", "duckdb", "pandas")]
        cpus = " / ".join(f(c, ".1f") for c in cpu)
        cpu_ratio = f(cpu[0] / cpu[1] if cpu[0] and cpu[1] else None)
        print(f"| {r['label']} | {r['rows']:,} | {f(pm)} | {f(dk)} | {f(pd_)} | "
              f"{f(pm / dk if pm and dk else None)}x | "
              f"{f(pm / pd_ if pm and pd_ else None)}x | {f(ev, '.3f')} | {f(npass, '.4f')} | "
              f"{f(ev / npass if ev and npass else None, '.0f')}x | {rss} | {cpus} | "
              f"{cpu_ratio}x |")


if __name__ == "__main__":
    sys.exit(main())
