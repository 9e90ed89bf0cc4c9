#!/usr/bin/env python
"""Benchmark: a fresh process's first evaluation, and where its page faults are.

``pmirc check`` evaluates once per process, so what a first evaluation costs beyond a warm one
(pages faulted in afresh, compiled loops loaded from numba's cache) is what a user waits for.
Each run is a fresh child process that sets memory as ``pmirc`` does
(``memory.reuse_freed_memory``), loads the contract's tables, waits for ``jit.preload``'s
thread, then evaluates ``--evaluations`` times. For each evaluation it prints the wall time,
the CPU time of the process (user, system), its minor page faults, and the faults and time of
the parts made once over whole tables (the reference joins, a cohort measure's packed
starts, the referenced tables' finest group codes), counted on the thread that made them
(``RUSAGE_THREAD``, Linux).

Usage: python benchmarks/bench_first.py DATA_FOLDER [--contract esf] [--runs 3]
           [--evaluations 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The whole-table parts timed on their own thread: (module, function).
PARTS = (("compile", "join_ids"), ("compile", "packed_starts"), ("evaluate", "referenced_code"))


def child(contract: str, folder: str, evaluations: int) -> list[dict[str, Any]]:
    """The figures of each evaluation in this (fresh) process."""
    import resource
    import threading
    import time

    from pmir_dsl.memory import reuse_freed_memory

    reuse_freed_memory()
    from pmir_dsl import compile as compile_mod
    from pmir_dsl import evaluate as evaluate_mod
    from pmir_dsl import jit, pipeline
    from pmir_dsl.load import load_tables

    plan = pipeline.compile_file(ROOT / "contracts" / f"{contract}.pmir")
    tables = load_tables(folder, plan.contract.used_tables())
    for thread in jit._PRELOADED:  # numba imported and the first loop loaded while reading
        thread.join()
    parts: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def timed(module: Any, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: Any) -> Any:
            faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
            start = time.perf_counter()
            try:
                return real(*args)
            finally:
                with lock:
                    parts.append((name, time.perf_counter() - start,
                                  resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults))
        setattr(module, name, wrapper)
    modules = {"compile": compile_mod, "evaluate": evaluate_mod}
    for module, name in PARTS:
        timed(modules[module], name)
    pipeline.join_ids = compile_mod.join_ids  # type: ignore[attr-defined]
    out = []
    for _ in range(evaluations):
        parts.clear()
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        pipeline.evaluate(plan, tables)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        totals: dict[str, list[float]] = {}
        for name, seconds, faults in parts:
            entry = totals.setdefault(name, [0.0, 0])
            entry[0] += seconds
            entry[1] += faults
        out.append({"wall_s": wall, "user_s": after.ru_utime - before.ru_utime,
                    "system_s": after.ru_stime - before.ru_stime,
                    "faults": after.ru_minflt - before.ru_minflt,
                    "parts": {k: {"s": v[0], "faults": v[1]} for k, v in totals.items()}})
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1], argv[2], int(argv[3]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path)
    p.add_argument("--contract", default="esf")
    p.add_argument("--runs", type=int, default=3, help="fresh processes")
    p.add_argument("--evaluations", type=int, default=2, help="evaluations per process")
    args = p.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    print(f"{args.contract} over {args.data}; load average {os.getloadavg()[0]:.2f}")
    print(f"{'run':>3} {'eval':>4} {'wall s':>7} {'user s':>7} {'sys s':>6} {'faults':>8}  "
          "whole-table parts (s / faults on their thread)")
    for run in range(args.runs):
        proc = subprocess.run([sys.executable, __file__, "--child", args.contract,
                               str(args.data), str(args.evaluations)],
                              capture_output=True, text=True, check=True, env=env)
        for k, e in enumerate(json.loads(proc.stdout.splitlines()[-1]), 1):
            parts = ", ".join(f"{name} {v['s']:.3f} / {v['faults']:,}"
                              for name, v in sorted(e["parts"].items()))
            print(f"{run + 1:>3} {k:>4} {e['wall_s']:7.3f} {e['user_s']:7.3f} "
                  f"{e['system_s']:6.3f} {e['faults']:8,}  {parts}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
