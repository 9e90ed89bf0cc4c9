#!/usr/bin/env bash
# The issue 12 table (benchmarks/README.md) in one run: the five benchmarks one after the other,
# each one's output kept in OUT (default benchmarks/out/table), with the load average and the
# time between them. Run from a quiet machine: `bash benchmarks/issue12_table.sh [OUT]`.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-benchmarks/out/table}
CACHE=benchmarks/out/cache7
mkdir -p "$OUT"
stamp() { { date -u; uptime; } >> "$OUT/times"; }
: > "$OUT/times"; git rev-parse --short HEAD >> "$OUT/times"; stamp
run() {  # NAME ARGS...: one benchmark, its output in OUT/NAME.out and .err
  local name=$1; shift
  "$PY" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || echo "$name failed: see $OUT/$name.err"
  stamp
}
run vs benchmarks/bench_vs.py --rows 1000000 10000000 --workdir "$CACHE"
run atw benchmarks/bench_atw.py --contract atw_ha --rows 10000000 --format parquet --repeat 3 --workdir "$CACHE"
run esf benchmarks/bench_atw.py --contract esf --rows 10000000 --format parquet --repeat 3 --workdir "$CACHE"
run stream benchmarks/bench_stream.py --rows 100000000 --parts 10 --duckdb --compare-rows 10000000
run groups benchmarks/bench_groups.py --rows 1000000 --groups 100000 --months 84 --end-to-end --provider P000001 --only-provider
echo "done: $OUT"
