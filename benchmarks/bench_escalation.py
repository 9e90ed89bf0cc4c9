"""Benchmark: the IPES regime and Service Fee remedy over 100 providers x 84 months.

Builds in-month results for the nine measured Customer Service Standards (each provider failing
now and then, at random but reproducibly), then times the month-by-month evaluation of the
contract's regime and remedy (contracts/ipes.pmir). Prints the seconds (best of --repeat) and
the ratio to a baseline measured in the same run: one plain Python pass over the same results
that counts the failed months per provider.

    python benchmarks/bench_escalation.py [--providers 100] [--months 84] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from pmir_dsl.check import check_file
from pmir_dsl.evaluate import Axis
from pmir_dsl.regimes import escalations, remedies
from pmir_dsl.schema import Column, ColumnSpec, ColumnType, Table

START = int(np.datetime64("2024-04", "M").astype(np.int64))


def results(contract: Any, providers: int, months: int, seed: int) -> list[dict[str, Any]]:
    """In-month results of every measure the regime names, per provider and month."""
    names = sorted({m for r in contract.regimes[0].rules for a in r.atoms for m in a.measures})
    rng = np.random.default_rng(seed)
    met = rng.random((len(names), providers, months)) > 0.04
    out = []
    for i, name in enumerate(names):
        for p in range(providers):
            for m in range(months):
                out.append({"measure": name, "group": {"provider": f"P{p:03d}"},
                            "basis": "in_month", "met": bool(met[i, p, m]),
                            "period": str(np.datetime64(START + m, "M"))})
    return out


def fees(providers: int, months: int) -> Table:
    """A fee table: 5,000,000 pence per provider per month."""
    n = providers * months
    spec = {name: ColumnSpec(name, kind) for name, kind in (
        ("provider", ColumnType.TEXT), ("month", ColumnType.MONTH),
        ("service_fee_pence", ColumnType.INTEGER))}
    names = tuple(f"P{p:03d}" for p in range(providers))
    cols = {"provider": Column(spec["provider"], np.repeat(np.arange(providers), months)
                               .astype(np.int32), None, names),
            "month": Column(spec["month"], (START + np.tile(np.arange(months), providers))
                            .astype(np.int32)),
            "service_fee_pence": Column(spec["service_fee_pence"], np.full(n, 5_000_000))}
    return Table("fees", "fees", n, "", cols)


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--providers", type=int, default=100)
    p.add_argument("--months", type=int, default=84)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    contract = check_file("contracts/ipes.pmir")
    rows = results(contract, args.providers, args.months, seed=1)
    axis = Axis(START, START + args.months - 1)
    table = fees(args.providers, args.months)

    def baseline() -> None:
        failed: dict[str, int] = {}
        for r in rows:
            if r["met"] is False:
                key = r["group"]["provider"]
                failed[key] = failed.get(key, 0) + 1

    base = best(baseline, args.repeat)
    regime = best(lambda: escalations(contract.regimes[0], rows, axis), args.repeat)
    money = best(lambda: remedies(contract.remedies[0], rows, axis, table), args.repeat)
    levels = escalations(contract.regimes[0], rows, axis)
    print(f"providers x months: {args.providers} x {args.months} "
          f"({len(rows):,} in-month results of {len(rows) // args.providers // args.months} "
          "measures)")
    print(f"{'phase':<22}{'seconds':>10}{'x baseline':>12}")
    print(f"{'baseline (one pass)':<22}{base:>10.4f}{1:>12.1f}")
    print(f"{'regime (levels)':<22}{regime:>10.4f}{regime / base:>12.1f}")
    print(f"{'remedy (fees)':<22}{money:>10.4f}{money / base:>12.1f}")
    print(f"level changes: {sum(e['changed'] for e in levels):,}")


if __name__ == "__main__":
    main()
