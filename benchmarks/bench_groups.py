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

    python benchmarks/bench_groups.py [--rows 1000000] [--groups 100000] [--months 84]
"""

from __future__ import annotations

import argparse
import json
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


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(Path(sys.argv[2]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--groups", type=int, default=100_000)
    p.add_argument("--months", type=int, default=84)
    args = p.parse_args()
    folder = (ROOT / "benchmarks" / "out" / "cache" / "data" /
              f"atw_ha-rows{args.rows}-groups{args.groups}-months{args.months}-parquet")
    generate(args.rows, args.groups, args.months, folder)
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
