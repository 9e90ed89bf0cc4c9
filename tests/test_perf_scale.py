"""Scale without timed tests (issue 12): what ``pmirc lint`` imports, and evaluation whose memory
grows with the data, not with the number of groups times months."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Modules a lint must not import: each costs tenths of a second of cold start.
HEAVY = ("numpy", "pyarrow", "rich", "matplotlib", "holidays", "pandas")


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_lint_imports_no_numpy_pyarrow_rich_or_holidays() -> None:
    out = _run("import sys, contextlib, io\nfrom pmir_dsl.cli import main\n"
               "buf = io.StringIO()\n"
               "with contextlib.redirect_stdout(buf):\n"
               "    status = main(['lint', 'contracts/esf.pmir', 'contracts/ipes.pmir'])\n"
               f"print(status, buf.getvalue().count(': ok:'), "
               f"[m for m in {HEAVY!r} if m in sys.modules])")
    assert out.strip() == "0 2 []"


def test_lint_still_refuses_bad_and_far_dates_without_numpy(tmp_path: Path) -> None:
    """The checker's date checks (calendar dates, the span) no longer go through numpy."""
    src = (REPO / "contracts" / "atw_ha.pmir").read_text(encoding="utf-8")
    cases = {"2024-02-30": "is not a calendar date", "0000-01-01": "outside the dates pmirc",
             "2200-01-01": "outside the dates pmirc", "2024-02-29": None}
    for day, message in cases.items():
        path = tmp_path / f"c{day}.pmir"
        path.write_text(src.replace("service start 2024-04-01", f"service start {day}"),
                        encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "pmir_dsl.entry", "lint", str(path)],
                              cwd=REPO, capture_output=True, text=True, check=False)
        if message is None:
            assert proc.returncode == 0, proc.stderr
        else:
            assert proc.returncode == 2 and message in proc.stderr, (day, proc.stderr)


#: 20,000 providers over 237 months: dense per-(group, month) counts would need 20,000 x 237 x 6
#: int64 (228 MB) per measure and level, about 2 GB for the contract's nine measures.
SPARSE_GROUPS = """
import csv, resource, shutil, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
import numpy as np
from pmir_dsl import pipeline
from pmir_dsl.evaluate import K_MET, merge, partials
from pmir_dsl.load import load_tables

out = Path(sys.argv[1])
shutil.copytree("examples/atw_ha", out)
rows = list(csv.reader(open(out / "referrals.csv", encoding="utf-8")))
head, body = rows[0], rows[1:]
at = head.index("provider")
with open(out / "referrals.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(head)
    for i in range({groups}):
        r = list(body[i % len(body)])
        r[0], r[at] = f"R{{i:08d}}", f"P{{i % {groups}:06d}}"
        w.writerow(r)
plan = pipeline.compile_file("contracts/atw_ha.pmir")
tables = load_tables(out, plan.contract.used_tables())
whole = pipeline.make_batch(plan, tables, np.datetime64("2043-12-31"))
half = tables["referrals"].rows // 2
parts = [partials(plan, pipeline.attrs.evolve(whole, tables={{n: pipeline.slice_table(t, a, b)
         for n, t in tables.items()}}, memo={{}}, lookup=tables), a)
         for a, b in ((0, half), (half, 1 << 40))]
total = merge(*parts)
kpi1 = total.counts["KPI1"]
level = kpi1.levels[1]
arrays = [level[g] for g in list(level)[:50]]
print(len(level), whole.last_month - whole.first_month + 1, arrays[0].shape,
      int(sum(a[:, K_MET].sum() for a in (level[g] for g in level))) == int(kpi1.totals[K_MET]) or
      "met differs")
"""


def test_many_groups_count_in_memory_that_grows_with_the_data(tmp_path: Path) -> None:
    """20,000 providers x 237 months evaluate to counts under a 2 GiB address-space bound,
    split in two batches and merged; every met record is in its provider's cells."""
    out = _run(SPARSE_GROUPS.format(limit=2 << 30, groups=20_000) .replace(
        "sys.argv[1]", repr(str(tmp_path / "data"))))
    assert out.split() == ["20000", "237", "(237,", "6)", "True"]


def test_json_encoder_writes_what_the_standard_library_writes() -> None:
    """report.json's own indented encoder (used for speed on millions of rows) gives json.dumps'
    bytes: empty and nested containers, escapes, non-ASCII text, NaN and infinities, big ints,
    and keys that are not strings (handed to the standard library)."""
    import json

    from pmir_dsl.report.json import encode

    cases = [{}, [], {"a": []}, {"a": {}}, {"a": [{}]}, {"group": {}, "value": None},
             [1, 2.5, None, True, False, "é\n\"x\u2028\\", float("nan"), float("inf"),
              -float("inf"), 1e300, -0.0, 10**30, 0.1 + 0.2],
             {"x": {"y": [1, [2, [3, {}]]], "z": "ü"}}, {1: 2, None: 3, True: 4},
             ({"k": (1, 2)},), {"big": -(2**70)}]
    for case in cases:
        for level in (0, 1, 2, 9):
            expected = json.dumps(case, indent=2, ensure_ascii=False)
            assert encode(case, level) == expected.replace("\n", "\n" + "  " * level), case


def test_ids_in_ascending_order_skip_the_sort_but_repeats_are_still_found() -> None:
    """load._maybe_repeats: ids of one length in strictly ascending byte order cannot repeat
    (the common extract, checked in one pass); any repeat or disorder goes on to the sort."""
    import pyarrow as pa

    from pmir_dsl.load import _maybe_repeats

    def ids(*values: str) -> pa.Array:
        return pa.array(values, pa.string())

    assert not _maybe_repeats(ids("R000000009", "R000000010", "S000000000"))  # 2 words each
    assert not _maybe_repeats(ids("A1", "A2", "B0"))
    assert _maybe_repeats(ids("R000000010", "R000000010", "R000000011"))  # a repeat
    assert _maybe_repeats(ids("B2", "A1", "B2"))  # out of order, with a repeat
    assert not _maybe_repeats(ids("B2", "A1", "C3"))  # out of order, no repeat: sorted
    assert _maybe_repeats(ids("R00000000A", "R00000000B", "R00000000A"))
    assert not _maybe_repeats(ids("A\x00", "A\x01", "B\x00"))  # NUL bytes at the end
    assert _maybe_repeats(ids("A\x00", "A\x00"))


def test_latest_dates_match_a_sort_of_every_date() -> None:
    """pipeline.latest_dates (windows over each column's last dates) gives what sorting all the
    distinct dates gives: dense recent dates, sparse ones years apart, NaT, empty columns."""
    import numpy as np

    from pmir_dsl.pipeline import latest_dates

    rng = np.random.default_rng(7)
    day = np.datetime64("2024-01-01", "D")
    columns = [
        day + rng.integers(0, 500, 10_000).astype("timedelta64[D]"),
        np.array(["1950-03-01", "NaT", "2199-12-31", "2001-06-30", "1990-01-01"], "datetime64[D]"),
        np.array(["NaT", "NaT"], "datetime64[D]"),
        np.array([], "datetime64[D]"),
        np.array(["2024-05-01", "2024-05-01", "2030-01-01"], "datetime64[D]"),
    ]
    for k in (1, 3, 6, 50):
        for chosen in ([0], [1], [2, 3], [0, 1, 4], [4], list(range(5))):
            cols = [columns[i] for i in chosen]
            every = np.concatenate([c[~np.isnat(c)] for c in cols] + [columns[3]])
            assert list(latest_dates(cols, k)) == list(np.unique(every)[-k:]), (k, chosen)


def test_partials_pickle_and_merge_exactly() -> None:
    """A partial (sparse cells included) survives pickling, as a process pool or a cluster
    needs, and two pickled halves merge to the counts of the whole (every bundled contract's
    example whose main table splits)."""
    import pickle

    import attrs
    import numpy as np

    from pmir_dsl import pipeline
    from pmir_dsl.evaluate import merge, partials
    from pmir_dsl.load import load_tables

    for name in ("esf", "atw_ha", "ipes"):
        plan = pipeline.compile_file(REPO / "contracts" / f"{name}.pmir")
        tables = load_tables(REPO / "examples" / name, plan.contract.used_tables())
        day, _ = pipeline.resolve_as_of(plan, tables, None)
        whole = pipeline.make_batch(plan, tables, day)
        longest = max(t.rows for t in tables.values())

        def part(a: int, b: int):  # type: ignore[no-untyped-def]
            chunk = {n: pipeline.slice_table(t, a, b) for n, t in tables.items()}
            return partials(plan, attrs.evolve(whole, tables=chunk, memo={}, lookup=tables), a)

        one = part(0, longest)
        halves = [pickle.loads(pickle.dumps(part(a, b))) for a, b in
                  ((0, longest // 3), (longest // 3, longest))]
        two = merge(*halves)
        for mid, counts in one.counts.items():
            other = two.counts[mid]
            for kind in ("levels", "cohorts", "oldest", "extra"):
                for la, lb in zip(getattr(counts, kind), getattr(other, kind)):
                    assert set(la) == set(lb), (name, mid, kind)
                    for g in la:
                        assert np.array_equal(la[g], lb[g]), (name, mid, kind, g)
