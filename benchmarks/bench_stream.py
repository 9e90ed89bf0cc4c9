#!/usr/bin/env python
"""Benchmark: ``pmirc check --stream`` (out of core) over AtW data larger than memory allows.

The AtW HA referrals are generated in ``--parts`` parts of ``rows / parts`` records (part i with
seed i + 1, its ids prefixed ``Pii-`` so that they stay unique) and written as a partitioned
Parquet folder ``referrals/part-ii.parquet``, with part 0's ``workforce`` and ``returns``, under
``WORKDIR/atw_ha-rows{N}-parts{P}`` (kept and reused). Then, each in a fresh process timed from
start to exit with its peak RSS from ``wait4`` (data is generated and sliced in child processes,
since a process inherits its parent's peak RSS):

* ``stream``   ``pmirc check contracts/atw_ha.pmir DATA --format json --stream``;
* ``duckdb``   (``--duckdb``) KPI 1-5 by DuckDB SQL over the same folder (atw_baselines.py),
               whose figures must equal pmirc's (numerator, denominator, pending and excluded
               of every group, month and basis), or the script stops;
* ``compare``  (``--compare-rows N``) the first N referrals (part 0 must hold them) checked
               in memory and streamed: the two JSON outputs must be byte-identical.

Usage: python benchmarks/bench_stream.py [--rows 100000000] [--parts 10] [--workdir DIR]
           [--batch-rows N] [--duckdb] [--compare-rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vs import CONTRACT, OUT, PMIRC, timed  # noqa: E402


def generate(folder: Path, rows: int, parts: int) -> None:
    """Write the partitioned data set (skipped when its files are there)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from pmir_dsl.synth import generate_atw_ha

    (folder / "referrals").mkdir(parents=True, exist_ok=True)
    size = rows // parts
    for i in range(parts):
        path = folder / "referrals" / f"part-{i:02d}.parquet"
        if path.is_file():
            continue
        started = time.perf_counter()
        tables = generate_atw_ha(size if i < parts - 1 else rows - size * (parts - 1), i + 1)
        refs = tables["referrals"]
        ids = pc.binary_join_element_wise(f"P{i:02d}-", refs["referral_id"], "")
        refs = refs.set_column(refs.schema.get_field_index("referral_id"), "referral_id", ids)
        pq.write_table(refs, str(path) + ".tmp")
        os.replace(str(path) + ".tmp", path)
        if i == 0:
            for name in ("workforce", "returns"):
                pq.write_table(tables[name], folder / f"{name}.parquet")
        del tables, refs, ids
        print(f"[bench_stream] part {i}: {time.perf_counter() - started:.1f} s", file=sys.stderr,
              flush=True)


def child(*args: str) -> None:
    """Run a step that holds much data in a child process: a process started by this one
    inherits its peak RSS (Linux keeps it across fork and exec), so this one stays small."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], check=True)


def duckdb_child(folder: Path, out: Path) -> None:
    import atw_baselines as baselines

    figures, as_of = baselines.duckdb_figures(folder)
    out.write_text(json.dumps({"as_of": as_of, "figures": [[*k, *v] for k, v in figures.items()]}))


def check_duckdb(folder: Path, report_path: Path, work: Path) -> dict[str, float]:
    import atw_baselines as baselines

    me = [sys.executable, str(Path(__file__).resolve()), "--duckdb-child", str(folder)]
    run = timed([*me, str(work / "duckdb.json")], work / "duckdb.stdout")
    data = json.loads((work / "duckdb.json").read_text())
    figures = {tuple(f[:4]): tuple(f[4:]) for f in data["figures"]}
    report = json.loads(report_path.read_text())
    expected = baselines.pmirc_figures(report)
    wrong = baselines.differences(expected, figures)  # type: ignore[arg-type]
    if wrong or data["as_of"] != report["as_of"]:
        raise SystemExit("DuckDB disagrees with pmirc --stream:\n" + "\n".join(wrong))
    return {**run, "figures_checked": len(expected)}


def first_rows(folder: Path, rows: int, small: Path) -> None:
    """A data folder of the first ``rows`` referrals of part 0 (in a child process)."""
    import pyarrow.parquet as pq

    small.mkdir(parents=True, exist_ok=True)
    part = pq.read_table(folder / "referrals" / "part-00.parquet")
    pq.write_table(part.slice(0, rows), small / "referrals.parquet")
    for name in ("workforce", "returns"):
        (small / f"{name}.parquet").write_bytes((folder / f"{name}.parquet").read_bytes())


def compare(folder: Path, rows: int, work: Path, batch: list[str]) -> dict[str, object]:
    """The first ``rows`` referrals in memory and streamed: byte-identical JSON."""
    small = work / f"compare-{rows}"
    if not (small / "referrals.parquet").is_file():
        child("--first-rows-child", str(folder), str(rows), str(small))
    base = [str(PMIRC), "check", str(CONTRACT), str(small), "--format", "json"]
    whole = timed([*base, "--no-stream"], work / "whole.json")
    streamed = timed([*base, "--stream", *batch], work / "streamed.json")
    same = (work / "whole.json").read_bytes() == (work / "streamed.json").read_bytes()
    if not same:
        raise SystemExit(f"in-memory and streamed JSON differ over {rows} rows")
    return {"rows": rows, "in_memory": whole, "stream": streamed, "identical": same}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--duckdb-child"]:
        duckdb_child(Path(argv[1]), Path(argv[2]))
        return 0
    if argv[:1] == ["--generate-child"]:
        generate(Path(argv[1]), int(argv[2]), int(argv[3]))
        return 0
    if argv[:1] == ["--first-rows-child"]:
        first_rows(Path(argv[1]), int(argv[2]), Path(argv[3]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=100_000_000)
    p.add_argument("--parts", type=int, default=10)
    p.add_argument("--workdir", type=Path, default=OUT / "stream")
    p.add_argument("--batch-rows", type=int, default=None)
    p.add_argument("--duckdb", action="store_true")
    p.add_argument("--compare-rows", type=int, default=None)
    args = p.parse_args(argv)
    folder = args.workdir / f"atw_ha-rows{args.rows}-parts{args.parts}"
    started = time.perf_counter()
    child("--generate-child", str(folder), str(args.rows), str(args.parts))
    generated = time.perf_counter() - started
    size = sum(f.stat().st_size for f in folder.rglob("*.parquet"))
    work = args.workdir / "runs"
    work.mkdir(parents=True, exist_ok=True)
    batch = ["--batch-rows", str(args.batch_rows)] if args.batch_rows else []
    result: dict[str, object] = {"rows": args.rows, "parts": args.parts,
                                 "parquet_mib": round(size / 2**20), "generate_s": generated}
    if args.compare_rows:
        result["compare"] = compare(folder, args.compare_rows, work, batch)
        print(json.dumps(result["compare"]), file=sys.stderr, flush=True)
    command = [str(PMIRC), "check", str(CONTRACT), str(folder), "--format", "json", "--stream",
               *batch]
    result["stream"] = timed(command, work / "stream.json")
    print(json.dumps(result["stream"]), file=sys.stderr, flush=True)
    if args.duckdb:
        result["duckdb"] = check_duckdb(folder, work / "stream.json", work)
    print(json.dumps(result, indent=2))
    (args.workdir / "results.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
