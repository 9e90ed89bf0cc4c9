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
