"""Benchmark: the assurance reviews of contracts/ipes.pmir (PAT, 9.93-9.95) at scale.

Writes N random PAT reviews over N/10 providers (ratings, 0-2 reason codes, action plans mostly
due and mostly submitted near their agreed dates; seeded), loads them as ``pmirc check`` does,
then times the numpy engine's :func:`pmir_dsl.assurance.evaluate` and, up to 100,000 reviews,
the reference interpreter's reading of the same reviews, and checks the two give the same rows.
Random ratings trigger far more actions than real reviews do (a real table has a few dozen
rows a year): the time beyond the sorting and matching is spent writing the triggers' rows.

    python benchmarks/bench_assurance.py [--reviews 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from pmir_dsl import assurance
from pmir_dsl.check import check_file
from pmir_dsl.load import load_tables
from pmir_dsl.reference import Data
from pmir_dsl.reference_assurance import assurance_reference

CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "ipes.pmir"
CODES = ["governance", "claims", "supply_chain", "data_security", "service_delivery"]
RATINGS = ["weak", "limited", "reasonable", "strong"]
AS_OF = dt.date(2025, 9, 30)


def write_reviews(folder: Path, n: int, seed: int) -> None:
    """``pat_reviews.csv`` with ``n`` random reviews over ``n // 10`` providers."""
    rng = random.Random(seed)
    start = dt.date(2020, 1, 1)
    with open(folder / "pat_reviews.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["provider", "review_id", "completed_date", "rating", "reasons",
                    "action_plan_due_date", "action_plan_submitted_date"])
        for i in range(n):
            done = start + dt.timedelta(days=rng.randrange(2000))
            due = done + dt.timedelta(days=rng.randrange(30, 90)) if rng.random() < 0.7 else None
            sub = due + dt.timedelta(days=rng.randrange(-20, 10)) \
                if due is not None and rng.random() < 0.9 else None
            w.writerow([f"P{rng.randrange(max(1, n // 10))}", f"R{i:08d}", done,
                        rng.choice(RATINGS), ";".join(rng.sample(CODES, rng.randrange(3))),
                        due or "", sub or ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    contract = check_file(CONTRACT)
    a = contract.assurances[0]
    with tempfile.TemporaryDirectory() as tmp:
        write_reviews(Path(tmp), args.reviews, args.seed)
        tables = load_tables(tmp, [t for t in contract.used_tables() if t.name == a.table])
    table = tables[a.table]
    t0 = time.perf_counter()
    rows, _ = assurance.evaluate(a, table, np.datetime64(AS_OF))
    t1 = time.perf_counter()
    print(f"numpy: {args.reviews:,} reviews, {max(1, args.reviews // 10):,} providers: "
          f"{len(rows):,} actions in {t1 - t0:.2f} s")
    if args.reviews <= 100_000:
        t0 = time.perf_counter()
        ref, _ = assurance_reference(a, Data(tables, contract), table.rows, AS_OF)
        t1 = time.perf_counter()
        print(f"reference: {len(ref):,} actions in {t1 - t0:.2f} s; the same rows: {ref == rows}")


if __name__ == "__main__":
    main()
