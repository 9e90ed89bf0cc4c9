"""Benchmark: ``pmirc lint`` cold start and compile time on the bundled contracts.

Prints, for each bundled contract, the wall time of ``pmirc lint CONTRACT`` in a fresh process
(best and median of --repeat), beside a fresh ``python -c pass`` measured in the same run (the
interpreter's own start), and the time to check and compile the contract in a warm process
(``check_file`` + ``compile_contract``, best of --repeat, after one untimed run). Also lists
the heavy modules a lint imports (it should import none: numpy, pyarrow, rich, matplotlib,
holidays, pandas are loaded only by the commands that need them). Targets (issue 12): cold
start <= 0.25 s, compile <= 50 ms.

    python benchmarks/bench_lint.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTRACTS = sorted((REPO / "contracts").glob("*.pmir"))
HEAVY = ("numpy", "pyarrow", "rich", "matplotlib", "holidays", "pandas")
LINT = "import sys; from pmir_dsl.entry import main; sys.argv = ['pmirc', 'lint', {path!r}]; main()"
IMPORTED = ("import sys, contextlib, io\nfrom pmir_dsl.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['lint', {path!r}])\n"
            "print(' '.join(m for m in {heavy!r} if m in sys.modules))")


def wall(command: list[str], repeat: int) -> list[float]:
    """Wall seconds of ``command`` in a fresh process, ``repeat`` times."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
        out.append(time.perf_counter() - start)
    return out


def compile_seconds(path: Path, repeat: int) -> float:
    """Best time to check and compile ``path`` in this (warm) process."""
    from pmir_dsl.check import check_file
    from pmir_dsl.compile import compile_contract

    compile_contract(check_file(path))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        compile_contract(check_file(path))
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args()
    bare = wall([sys.executable, "-c", "pass"], args.repeat)
    print(f"python -c pass: best {min(bare):.3f} s, median {statistics.median(bare):.3f} s")
    print(f"{'contract':<26} {'lint best s':>11} {'median s':>9} {'compile ms':>10}  heavy modules")
    for path in CONTRACTS:
        rel = str(path.relative_to(REPO))
        times = wall([sys.executable, "-c", LINT.format(path=rel)], args.repeat)
        heavy = subprocess.run([sys.executable, "-c", IMPORTED.format(path=rel, heavy=HEAVY)],
                               check=True, capture_output=True, text=True, cwd=REPO).stdout
        ms = compile_seconds(path, args.repeat) * 1000
        print(f"{rel:<26} {min(times):>11.3f} {statistics.median(times):>9.3f} {ms:>10.1f}  "
              f"{heavy.strip() or '(none)'}")


if __name__ == "__main__":
    main()
