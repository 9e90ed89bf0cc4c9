"""The attack corpus (tests/attacks/, issue 13): hostile inputs, each with its expected outcome.

Each folder of tests/attacks/ holds a case's inputs and ``case.json``: the command (``args`` for
``pmirc``, or ``shell``: a bash line in which ``pmirc`` is the command), the exit status, texts
that standard error (and output) must contain, and for wrong-figure cases the figures of the JSON
report. ``setup`` makes what git cannot hold (FIFOs, symbolic links that loop, folders named like
files, a large synthetic data set); ``blowup`` cases run under a 2 GiB address-space limit and a
time bound; ``interrupt_after_s`` sends Ctrl-C (SIGINT) after that many seconds. In every case:
no Python traceback and no internal error (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
ATTACKS = REPO / "tests" / "attacks"
CASES = sorted(p.name for p in ATTACKS.iterdir() if (p / "case.json").is_file())
PMIRC = [sys.executable, "-m", "pmir_dsl.entry"]
#: The address space a blow-up case may use, and how long any case may take.
MEMORY_LIMIT = 2 << 30
TIME_LIMIT_S = 90


def _setup(folder: Path, setup: dict[str, Any]) -> None:
    """Make what git cannot hold: folders, FIFOs, symbolic links, a synthetic data set."""
    for path in setup.get("mkdir", []):
        (folder / path).mkdir(parents=True, exist_ok=True)
    for path in setup.get("fifo", []):
        os.mkfifo(folder / path)
    for link, target in setup.get("symlink", []):
        os.symlink(target, folder / link)
    if "synth" in setup:
        name, out, rows = setup["synth"]
        subprocess.run([*PMIRC, "synth", name, str(folder / out), "--rows", str(rows)],
                       check=True, capture_output=True)
    for path, mode in setup.get("chmod", []):
        os.chmod(folder / path, mode)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _as_in_a_terminal(spec: dict[str, Any]) -> None:
    """The case's process as a terminal starts it: Ctrl-C delivered (a test run started in the
    background, `cmd &`, hands its children SIGINT ignored, which pmirc then keeps ignoring),
    and the address space limited for a blow-up case."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if spec.get("blowup"):
        _limit_memory()


def _run(spec: dict[str, Any], folder: Path) -> tuple[int, str, str, float]:
    """(exit status, standard output, standard error, seconds) of the case's command."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PMIRC_DEBUG="")
    if "shell" in spec:
        command = ["bash", "-c", f'pmirc() {{ "{sys.executable}" -m pmir_dsl.entry "$@"; }}; '
                   + spec["shell"]]
    else:
        command = [*PMIRC, *spec["args"]]
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: _as_in_a_terminal(spec))
    if "interrupt_after_s" in spec:
        time.sleep(spec["interrupt_after_s"])
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=TIME_LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"still running after {TIME_LIMIT_S} s: {err[-2000:]}")
    return proc.returncode, out, err, time.perf_counter() - start


def _figure(report: dict[str, Any], measure: str, period: str, basis: str, field: str) -> Any:
    rows = [r for r in report["results"] if (r["measure"], r["period"], r["basis"]) ==
            (measure, period, basis) and r["group"] == {}]
    assert len(rows) == 1, (measure, period, basis, rows)
    return rows[0][field]


@pytest.mark.parametrize("case", CASES)
def test_attack(case: str, tmp_path: Path) -> None:
    spec = json.loads((ATTACKS / case / "case.json").read_text(encoding="utf-8"))
    if spec.get("skip_as_root") and os.geteuid() == 0:
        pytest.skip("permissions do not bind root")
    folder = tmp_path / case
    shutil.copytree(ATTACKS / case, folder, symlinks=True)
    _setup(folder, spec.get("setup", {}))
    try:
        status, out, err, _ = _run(spec, folder)
    finally:
        for path, _ in spec.get("setup", {}).get("chmod", []):
            os.chmod(folder / path, 0o755)  # so that pytest can remove it
    assert "Traceback" not in err and "internal error" not in err, err
    assert status == spec["exit"], err
    for text in spec.get("stderr", []):
        assert text in err, err
    for text in spec.get("no_stderr", []):
        assert text not in err, err
    for text in spec.get("stdout", []):
        assert text in out, out[:2000]
    if spec.get("figures"):
        report = json.loads(out)
        for measure, period, basis, field, value in spec["figures"]:
            assert _figure(report, measure, period, basis, field) == value, (measure, field)


def test_every_blowup_case_is_bounded() -> None:
    """The blow-ups of issue 13 are in the corpus, each run under the memory and time limit."""
    blowups = {c for c in CASES if json.loads((ATTACKS / c / "case.json").read_text()).get(
        "blowup")}
    assert {"data_9999_row", "as_of_9999", "extract_date_9999", "service_start_0001",
            "as_of_2199", "data_2199_row", "lint_dev_zero", "lint_fifo"} <= blowups


def test_the_memory_limit_binds() -> None:
    """The limit is real: a command that needs more than 2 GiB fails under it."""
    proc = subprocess.run([sys.executable, "-c", "bytearray(3 << 30)"], capture_output=True,
                          preexec_fn=_limit_memory, check=False)
    assert proc.returncode != 0 and b"MemoryError" in proc.stderr


# ---- fuzzing the data with magnitudes and far dates ----------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CONTRACT = (ATTACKS / "ratio_sum_near_int64" / "contract.pmir").read_text(encoding="utf-8")
_DATES = st.sampled_from(["2023-04-03", "2023-05-31", "", "9999-12-31", "0000-01-01",
                          "0001-01-01", "1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01",
                          "2043-05-01", "NaT", "2023-02-29"])
_DECIMALS = st.sampled_from(["", "1", "-1.5", "999999999999.999999", "-999999999999.999999",
                             "1000000000000", "0.0000001", "99999999999999999999", "1e3", "NaN"])
_INTEGERS = st.sampled_from(["", "0", "9223372036854775807", "-9223372036854775808",
                             "10000000000000", "99999999999999999999"])


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_DATES, _DATES, _DECIMALS, _DECIMALS, _INTEGERS), max_size=12),
       engine=st.sampled_from(["numpy", "reference"]))
def test_far_dates_and_magnitudes_never_crash(tmp_path: Path, rows: list[tuple[str, ...]],
                                              engine: str) -> None:
    """Any mix of far dates and huge numbers: figures, or data problems named; never a crash."""
    import contextlib
    import io

    from pmir_dsl.cli import main

    data = tmp_path / f"data{abs(hash((tuple(rows), engine)))}"
    data.mkdir()
    lines = ["referral_id,referral_date,end_date,cost,budget,n"]
    lines += [f"R{i},{','.join(r)}" for i, r in enumerate(rows)]
    (data / "referrals.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "c.pmir").write_text(_CONTRACT, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["check", str(tmp_path / "c.pmir"), str(data), "--format", "json",
                       "--engine", engine])
    assert status in (0, 1, 2), err.getvalue()
    assert "internal error" not in err.getvalue(), err.getvalue()
    if status == 2:
        assert "error[bad-data]" in err.getvalue(), err.getvalue()


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "\0x"])
def test_audit_csv_escapes_cells_a_spreadsheet_could_run(cell: str) -> None:
    from pmir_dsl.cli import escape_cell

    assert escape_cell(cell) == "'" + cell
    assert escape_cell("North") == "North"
