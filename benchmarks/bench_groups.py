#!/usr/bin/env python
"""Benchmark: many groups over many months (issue 12): counting grows with the data.

Generates the AtW HA data (``pmir_dsl.synth.generate_atw_ha``, ``--rows`` referrals dated over
``--months`` months from the contract's service start) with the ``provider`` column spread
over ``--groups`` providers (referral i goes to provider ``i mod groups``), written as Parquet
and cached under ``benchmarks/out/cache/data/``. Then, in a fresh process:

* ``load``     ``load_tables`` of the contract's tables;
* ``counts``   every measure's per-(group, month) counts, every chunk merged: what
               ``pipeline.evaluate`` builds before it writes the result rows (the part of the
               evaluation whose memory was dense in groups x months);
* ``numpy``    one numpy pass over the same rows: a bincount of (provider, referral month);

with the process's peak RSS after each (``ru_maxrss``). The result rows themselves are not
built: output.md asks for one row per measure x group x period x basis, which at 100,000
providers x 84 months x 4 bases x 9 measures is about 300 million rows (tens of GB of JSON),
whatever the evaluation holds.

With ``--end-to-end``, the whole command instead: a fresh process running ``pmirc check
contracts/atw_ha.pmir DATA --format json -o FILE`` (and, with ``--provider P000001``, the same
filtered to one provider), timed, its peak RSS and CPU time from ``os.wait4``, the JSON's size
and rows; the JSON is deleted as soon as it is measured. The result rows are built as they are
written, so peak RSS stays near the counts' as groups x months grow (``--months 15`` or ``84``).

    python benchmarks/bench_groups.py [--rows 1000000] [--groups 100000] [--months 84]
    python benchmarks/bench_groups.py --end-to-end --groups 10000 --months 15 [--provider P000001]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "contracts" / "atw_ha.pmir"
START = "2024-04-01"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(rows: int, groups: int, months: int, folder: Path) -> None:
    """The data set, unless already cached in ``folder``."""
    import numpy as np
    import pyarrow as pa

    from pmir_dsl.synth import generate_atw_ha, write_tables

    if (folder / "done").is_file():
        return
    end = np.datetime64(START, "M") + np.timedelta64(months, "M")
    extract = str(end.astype("datetime64[D]") - np.timedelta64(1, "D"))
    tables = generate_atw_ha(rows, 1, START, extract)
    names = pa.array([f"P{i:06d}" for i in range(groups)])
    ref = tables["referrals"]
    provider = names.take(pa.array(np.arange(ref.num_rows) % groups))
    tables["referrals"] = ref.set_column(ref.schema.get_field_index("provider"), "provider",
                                         provider)
    folder.mkdir(parents=True, exist_ok=True)
    write_tables(tables, folder, "parquet")
    (folder / "done").write_text("")


def child(folder: Path) -> dict[str, Any]:
    """Load, count, and one numpy pass, timed, in this (fresh) process."""
    import numpy as np

    from pmir_dsl import pipeline
    from pmir_dsl.load import load_tables
    from pmir_dsl.memory import reuse_freed_memory

    reuse_freed_memory()  # the process allocates as pmirc's command line does (pmir_dsl/cli.py)
    plan = pipeline.compile_file(CONTRACT)
    out: dict[str, Any] = {}
    t = time.perf_counter()
    tables = load_tables(folder, plan.contract.used_tables())
    out["load_s"], out["load_peak_mib"] = time.perf_counter() - t, peak_mib()
    t = time.perf_counter()
    day, _ = pipeline.resolve_as_of(plan, tables, None)
    whole = pipeline.make_batch(plan, tables, day)
    total = pipeline._reduce_chunks(plan, whole, tables, None)
    out["counts_s"], out["counts_peak_mib"] = time.perf_counter() - t, peak_mib()
    out["cpu_s"] = time.process_time()  # the process's CPU time so far: imports, load, counts
    level = total.counts["KPI1"].levels[1]
    out["groups"], out["months"] = len(level), whole.last_month - whole.first_month + 1
    out["cells"] = int(len(level.cell)) if hasattr(level, "cell") else None
    ref = tables["referrals"]
    t = time.perf_counter()
    month = ref.columns["referral_date"].values.astype("datetime64[M]").astype(np.int64)
    key = ref.columns["provider"].values.astype(np.int64) * out["months"] + month - month.min()
    out["numpy_sum"] = int(np.bincount(key).max())
    out["numpy_s"] = time.perf_counter() - t
    return out


def end_to_end(folder: Path, provider: str | None, stream: bool, code: Path = ROOT
               ) -> dict[str, Any]:
    """``pmirc check`` over ``folder`` as a fresh process: wall and CPU seconds, peak RSS
    (``wait4``), the JSON's bytes and result rows (counted from its text, then deleted);
    ``code``: the checkout whose ``pmir_dsl`` runs (another one for a before/after)."""
    out = ROOT / "benchmarks" / "out" / f"groups-e2e-{os.getpid()}.json"
    cmd = [sys.executable, "-m", "pmir_dsl.cli", "check", str(CONTRACT), str(folder),
           "--format", "json", "-o", str(out), *(["--provider", provider] if provider else []),
           *(["--stream"] if stream else [])]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(err)
    size = out.stat().st_size
    rows = 0
    with open(out, "rb") as f:
        for line in f:
            rows += line.startswith(b'      "basis": ')  # a key of result rows alone
    out.unlink()
    return {"wall_s": took, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mib": usage.ru_maxrss / 1024, "json_bytes": size, "rows": rows}


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(Path(sys.argv[2]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--groups", type=int, default=100_000)
    p.add_argument("--months", type=int, default=84)
    p.add_argument("--end-to-end", action="store_true",
                   help="time `pmirc check ... --format json -o FILE` as a fresh process")
    p.add_argument("--provider", help="with --end-to-end: also a run filtered to this provider")
    p.add_argument("--only-provider", action="store_true",
                   help="with --provider: leave out the run over all providers (whose JSON at "
                   "100,000 providers x 84 months would be tens of GB)")
    p.add_argument("--stream", action="store_true", help="with --end-to-end: pass --stream")
    p.add_argument("--code", type=Path, default=ROOT,
                   help="with --end-to-end: the checkout whose pmir_dsl runs (default this one)")
    args = p.parse_args()
    folder = (ROOT / "benchmarks" / "out" / "cache" / "data" /
              f"atw_ha-rows{args.rows}-groups{args.groups}-months{args.months}-parquet")
    generate(args.rows, args.groups, args.months, folder)
    if args.end_to_end:
        runs = [] if args.only_provider and args.provider else [None]
        for provider in [*runs, *([args.provider] if args.provider else [])]:
            r = end_to_end(folder, provider, args.stream, args.code.resolve())
            what = f"--provider {provider}" if provider else "all providers"
            print(f"pmirc check --format json{' --stream' if args.stream else ''} ({what}; "
                  f"{args.code}), "
                  f"{args.rows:,} referrals over {args.groups:,} providers x {args.months} "
                  f"months: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, peak RSS "
                  f"{r['peak_mib']:.0f} MiB; JSON {r['json_bytes'] / 2**20:,.1f} MiB, "
                  f"{r['rows']:,} result rows")
        return 0
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    r = json.loads(proc.stdout)
    took = time.perf_counter() - started
    print(f"{args.rows:,} referrals, {r['groups']:,} providers x {r['months']} months "
          f"({r['cells']:,} (provider, month) cells of KPI1 held; process {took:.1f} s)")
    print(f"load {r['load_s']:.2f} s (peak RSS {r['load_peak_mib']:.0f} MiB); counts of all "
          f"9 measures {r['counts_s']:.2f} s (peak RSS {r['counts_peak_mib']:.0f} MiB); one numpy "
          f"pass {r['numpy_s']:.3f} s; counts / numpy pass {r['counts_s'] / r['numpy_s']:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
