"""Benchmark: escalation over 100 providers x 84 months (IPES and the Work Programme).

Builds in-month results for the nine measured Customer Service Standards (each provider failing
now and then, at random but reproducibly), then times the month-by-month evaluation of the
contract's regime and remedy (contracts/ipes.pmir). Then, for contracts/work_programme.pmir,
builds monthly job outcomes, attachments and required outcomes for the three Measured Payment
Groups and half-yearly validation rounds, and times the formal quarterly reviews with their
PINs, and the PMR / EPR / PIN regime over rolling-12 results. Prints the seconds (best of
--repeat) and the ratio to a baseline measured in the same run: one plain Python pass over the
same results that counts the failed months per provider.

    python benchmarks/bench_escalation.py [--providers 100] [--months 84] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from pmir_dsl import reviews
from pmir_dsl.calendar import CalendarSpec
from pmir_dsl.check import check_file
from pmir_dsl.evaluate import Axis, MeasureCounts
from pmir_dsl.regimes import escalations, remedies
from pmir_dsl.schema import DECIMAL_SCALE, Column, ColumnSpec, ColumnType, Table

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


def wp_counts(contract: Any, providers: int, months: int, seed: int
              ) -> tuple[dict[str, MeasureCounts], dict[str, int]]:
    """Monthly job outcomes, attachments and required outcomes (MPL 25%) per provider, for each
    measure the formal review names; and each measure's provider level."""
    review = contract.reviews[0]
    rng = np.random.default_rng(seed)
    counts, levels = {}, {}
    for name in review.measures:
        m = next(x for x in contract.measures if x.id == name)
        level = [tuple(c.name for c in g) for g in m.groups].index(review.keys)
        arrays, required = {}, {}
        for p in range(providers):
            arr = np.zeros((months, 6), dtype=np.int64)
            arr[:, 5] = rng.integers(20, 40, months)  # attachments
            arr[:, 4] = rng.binomial(arr[:, 5], 0.26)  # job outcomes
            key = (f"P{p:03d}", f"CPA{p % 10}")  # 3.3: a contract is a provider in a CPA
            arrays[key] = arr
            required[key] = (arr[:, 5] * DECIMAL_SCALE // 4).reshape(-1, 1)
        empty: list[dict[Any, np.ndarray]] = [{} for _ in m.groups]
        lv, ex = list(empty), [dict(x) for x in empty]
        lv[level], ex[level] = arrays, required
        counts[name] = MeasureCounts(name, tuple(lv), np.zeros(6, dtype=np.int64), 0, (), (),
                                     tuple(ex))
        levels[name] = level
    return counts, levels


def validation(months: int) -> Table:
    """Half-yearly rounds (April-September, October-March), completed three months after."""
    firsts = np.arange(START, START + months, 6)
    start = firsts.astype("datetime64[M]").astype("datetime64[D]")
    end = (firsts + 6).astype("datetime64[M]").astype("datetime64[D]") - np.timedelta64(1, "D")
    done = end + np.timedelta64(80, "D")
    spec = {n: ColumnSpec(n, t) for n, t in (("period_start", ColumnType.DATE),
                                              ("period_end", ColumnType.DATE),
                                              ("rate", ColumnType.DECIMAL),
                                              ("completed_date", ColumnType.DATE))}
    cols = {"period_start": Column(spec["period_start"], start),
            "period_end": Column(spec["period_end"], end),
            "rate": Column(spec["rate"], np.full(len(firsts), 60_000)),
            "completed_date": Column(spec["completed_date"], done)}
    for name in ("provider", "cpa"):  # 8.32: empty, the rounds of every contract
        cols[name] = Column(ColumnSpec(name, ColumnType.TEXT, nullable=True),
                            np.full(len(firsts), -1, dtype=np.int32))
    return Table("validation", "validation", len(firsts), "", cols)


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

    wp = check_file("contracts/work_programme.pmir")
    counts, where = wp_counts(wp, args.providers, args.months, seed=2)
    as_of = np.datetime64(START + args.months, "M").astype("datetime64[D]") - np.timedelta64(1, "D")
    cal = CalendarSpec("england_and_wales").busdaycalendar(2020, 2040)
    rounds = validation(args.months)
    review = wp.reviews[0]

    def review_pass() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return reviews.evaluate(review, counts, where, axis, as_of, cal, rounds)

    found, pins = review_pass()
    rolling = [{"measure": name, "group": dict(zip(review.keys, g)), "basis": "rolling_12",
                "period": str(np.datetime64(START + i, "M")),
                "met": bool(arr[max(0, i - 11):i + 1, 4].sum() * DECIMAL_SCALE >=
                            counts[name].extra[where[name]][g][max(0, i - 11):i + 1].sum())}
               for name in review.measures for g, arr in counts[name].levels[where[name]].items()
               for i in range(args.months)]
    running = {"PIN": reviews.open_months(pins, "PIN", review.keys, axis, as_of)}
    reviewed = best(review_pass, args.repeat)
    wp_regime = best(lambda: escalations(wp.regimes[0], rolling, axis, running), args.repeat)
    wp_levels = escalations(wp.regimes[0], rolling, axis, running)
    print(f"Work Programme: {len(found):,} quarter-end reviews of {len(review.measures)} "
          f"measures, {len(pins):,} PINs; regime over {len(rolling):,} rolling-12 results")
    print(f"{'reviews and PINs':<22}{reviewed:>10.4f}{reviewed / base:>12.1f}")
    print(f"{'regime (PMR/EPR/PIN)':<22}{wp_regime:>10.4f}{wp_regime / base:>12.1f}")
    print(f"level changes: {sum(e['changed'] for e in wp_levels):,}")


if __name__ == "__main__":
    main()
