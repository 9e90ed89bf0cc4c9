"""The terminal report as a reader meets it: fitted to 80 columns and files, never a cut figure,
filters, a page per provider, data printed literally, progress only on a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from rich.console import Console

from pmir_dsl.cli import main
from pmir_dsl.diagnostics import Diagnostic, Span, render
from pmir_dsl.pipeline import Evaluation, run_check
from pmir_dsl.report import terminal, view
from pmir_dsl.visible import visible
from tests.conftest import REPO

BUNDLED = sorted(p.stem for p in (REPO / "contracts").glob("*.pmir"))


@pytest.fixture(autouse=True)
def _in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)


@cache
def _ev(name: str) -> Evaluation:
    return run_check(f"contracts/{name}.pmir", f"examples/{name}")


def _report(ev: Evaluation, width: int, **filters: object) -> str:
    out = io.StringIO()
    terminal.render(ev, Console(file=out, width=width, color_system=None), **filters)  # type: ignore[arg-type]
    return out.getvalue()


def _check_fitted(text: str, width: int) -> None:
    assert "…" not in text
    long = [line for line in text.splitlines() if len(line) > width]
    assert not long, long[:3]


def test_there_are_bundled_contracts() -> None:
    assert {"atw_ha", "esf", "ipes", "ses", "work_programme"} <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_report_to_a_file_fits_80_columns_with_every_figure_whole(
        name: str, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    with out.open("w", encoding="utf-8") as f:  # not a terminal: rich's width is 80
        code = subprocess.run([sys.executable, "-m", "pmir_dsl.cli", "check",
                               f"contracts/{name}.pmir", f"examples/{name}"], stdout=f,
                              stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": ""}).returncode
    assert code in (0, 1)
    text = out.read_text(encoding="utf-8")
    _check_fitted(text, 80)
    assert "\x1b" not in text  # no colour codes in a file
    pack = view.build(_ev(name))
    whole = pack.group({})
    assert whole is not None
    for mv in whole.measures:  # each headline figure appears whole in the summary
        if mv.current is not None and mv.current.value is not None:
            assert re.search(rf"\b{re.escape(mv.measure)}\b.*{re.escape(mv.current.text)}",
                             text), (mv.measure, mv.current.text)


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("width", [40, 80, 120])
def test_every_bundled_report_fits_its_width(name: str, width: int) -> None:
    text = _report(_ev(name), width)
    _check_fitted(text, width)
    for g, mv in view.build(_ev(name)).failures():  # what failed is named, figure whole
        assert mv.current is not None and mv.current.text in text


def test_summary_comes_first_naming_what_failed_and_for_whom() -> None:
    text = _report(_ev("ipes"), 80)
    first = text.index("Failed this month")
    assert first < text.index("Summary: whole contract") < text.index("CSS1  Referrals")
    block = text[first:text.index("What follows")]
    assert re.search(r"CSS2\s+Provider C\s+80\.49%\s+≥ 95%\s+6\s+2024-11 \(11\)", block)
    follows = text[text.index("What follows"):text.index("Summary: whole contract")]
    assert "Provider C: level 4 Formal Action" in follows
    assert "£351,100.72 deferred" in follows  # 9.60-9.62: forfeitable, not forfeit


def test_columns_left_out_are_named_and_come_back_when_wider() -> None:
    narrow, wide = _report(_ev("ipes"), 80), _report(_ev("ipes"), 160)
    assert "left out at this width: Points, Band" in narrow
    assert "Points" in wide and "-14.51" in wide


def test_provider_page_shows_trend_since_and_what_follows() -> None:
    text = _report(_ev("ipes"), 100, groups={"provider": "Provider C"})
    _check_fitted(text, 100)
    assert "Provider C: 4 of 19 measures failed this month" in text
    assert re.search(r"CSS2\s+failed\s+80\.49%.*2024-11 \(11\)\s+✓✗✗✗✗✗✗✗✗✗✗✗", text)
    flat = " ".join(text.split())
    assert "level 4 Formal Action at the end of 2025-09, since 2025-02: CSS2 failed" in flat
    assert "£0.00 forfeited to date; £351,100.72 outstanding (in deferral)" in flat
    assert not re.search(r"Provider A\b", text) and "Summary: whole contract" not in text


def test_cli_provider_group_and_measure_filters(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "contracts/ipes.pmir", "examples/ipes", "--format", "json",
                   "--provider", "Provider A", "--measure", "CSS1", "CSS2"])
    d = json.loads(capsys.readouterr().out)
    full = json.loads(json.dumps(_full_json("ipes")))
    assert list(d) == list(full)  # every key kept
    assert {r["measure"] for r in d["results"]} == {"CSS1", "CSS2"}
    # the provider level and, since 9.05, the provider's contracts in each CPA
    assert all(r["group"].get("provider") == "Provider A" for r in d["results"])
    assert [m["measure"] for m in d["measures"]] == ["CSS1", "CSS2"]
    assert d["escalations"] and all(e["group"].get("provider") == "Provider A"
                                    for e in d["escalations"])
    assert status == (1 if any(r["met"] is False for r in d["results"]) else 0)
    main(["check", "contracts/esf.pmir", "examples/esf", "--format", "json", "--group",
          "lep_area=Black Country"])
    d = json.loads(capsys.readouterr().out)
    levels = {tuple(r["group"]) for r in d["results"]}
    assert levels == {("lep_area",), ("lep_area", "category_of_region")}


def _full_json(name: str) -> dict[str, object]:
    from pmir_dsl.report import json as json_report

    return json_report.to_dict(_ev(name))


@pytest.mark.parametrize(("args", "words"), [
    (["--provider", "Provider Z"], ["no provider 'Provider Z'", "did you mean 'Provider"]),
    (["--measure", "CSS22"], ["no measure 'CSS22'", "did you mean 'CSS2'"]),
    (["--group", "providr=Provider A"], ["no group key 'providr'", "did you mean 'provider'"]),
    (["--group", "provider"], ["KEY=VALUE"]),
    (["--width", "39"], ["--width", "40 columns or more"]),
    (["--width", "wide"], ["--width"]),
])
def test_cli_filter_and_width_mistakes_exit_2(args: list[str], words: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    try:
        status = main(["check", "contracts/ipes.pmir", "examples/ipes", *args])
    except SystemExit as e:  # argparse's usage errors
        status = e.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    for w in words:
        assert w in err


HOSTILE = ["[b]North[/b]", "[link=https://evil.example]click[/link]", "[/]", "[bold red",
           "Ev\x1b[31mil\x07", "Bidi\u202egnp.exe", "Title\x1b]0;pwned\x07", ":smile:"]


@pytest.fixture
def hostile_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree("examples/atw_ha", data)
    path = data / "referrals.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        name = HOSTILE[i % len(HOSTILE)]
        quoted = '"' + name.replace('"', '""') + '"'
        out.append(line.replace(",Central,", f",{quoted},", 1))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return data


@pytest.mark.parametrize("color", [None, "truecolor"])
def test_markup_and_control_characters_in_data_print_literally(
        hostile_data: Path, color: str | None) -> None:
    ev = run_check("contracts/atw_ha.pmir", hostile_data)
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=color, force_terminal=color is not None)
    terminal.render(ev, console)
    pages = io.StringIO()
    for name in HOSTILE:
        terminal.render(ev, Console(file=pages, width=120, color_system=color,
                                    force_terminal=color is not None),
                        groups={"provider": name})
    for text in (out.getvalue(), pages.getvalue()):
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text)  # rich's own colours, if any
        for name in HOSTILE:
            assert visible(name) in plain
        assert "\x1b" not in plain and "\x07" not in plain and "\u202e" not in plain
        assert "\x1b]8;" not in text  # no live hyperlink
        assert "\\x1b[31m" in plain and "\\u202e" in plain


def test_hostile_provider_through_the_cli(hostile_data: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "contracts/atw_ha.pmir", str(hostile_data), "--provider", "[/]"])
    out, err = capsys.readouterr()
    assert status in (0, 1) and "Traceback" not in err
    assert "[/]" in out
    status = main(["check", "contracts/atw_ha.pmir", str(hostile_data), "--provider",
                   "X\x1b[2J"])
    err = capsys.readouterr().err
    assert status == 2 and "\x1b" not in err and "X\\x1b[2J" in err


def test_echoed_source_lines_escape_control_characters_and_keep_the_caret() -> None:
    source = 'measure M "a\x1b[2Jb\u202e" { bogus }\n'
    col = source.index("bogus") + 1
    diag = Diagnostic("syntax", "unexpected 'bogus'", Span("x.pmir", 1, col, 1, col + 5))
    text = render(diag, {"x.pmir": source})
    assert "\x1b" not in text and "\u202e" not in text
    line = next(x for x in text.splitlines() if x.startswith("1 | "))
    caret = next(x for x in text.splitlines() if "^" in x)
    assert "\\x1b[2J" in line and "\\u202e" in line
    assert line.index("bogus") == caret.index("^") and caret.count("^") == 5


def test_a_contract_file_with_an_escape_sequence_is_echoed_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pmir"
    bad.write_text('contract "C\x1b]0;x\x07" { service start 2024-01-01 }\nmeasure \x1b[31m\n',
                   encoding="utf-8")
    status = main(["lint", str(bad)])
    err = capsys.readouterr().err
    assert status == 2 and "\x1b" not in err and "\x07" not in err


def test_no_progress_when_standard_error_is_not_a_terminal(
        capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "contracts/atw_ha.pmir", "examples/atw_ha"])
    err = capsys.readouterr().err
    assert err == ""
    assert not terminal.progress_wanted(io.StringIO(), "table")

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not terminal.progress_wanted(Tty(), "json")
    assert terminal.progress_wanted(Tty(), "table") == (not os.environ.get("CI")
                                                        and os.environ.get("TERM") != "dumb")


def test_progress_shows_on_a_terminal_and_leaves_stdout_alone() -> None:
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"TERM": "xterm"}
    done = subprocess.run([sys.executable, "-m", "pmir_dsl.cli", "check",
                           "contracts/atw_ha.pmir", "examples/atw_ha"], stdout=subprocess.PIPE,
                          stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert b"Reading 3 tables" in seen and b"Evaluating" in seen
    assert b"Reading" not in done.stdout and b"\x1b" not in done.stdout


def test_a_table_too_wide_for_its_kept_columns_becomes_lines_with_every_figure() -> None:
    from pmir_dsl.report.fit import Col, fitted

    cols = [Col("Measure"), Col("Outstanding", num=True), Col("Deferred", num=True),
            Col("Why", drop=1)]
    rows = [["KPI1", "£192,975,000.72", "£351,100,000.72", "CSS2 failed"]]
    out = io.StringIO()
    Console(file=out, width=40, color_system=None).print(fitted("Fees", cols, rows, 40))
    text = out.getvalue()
    _check_fitted(text, 40)
    assert "Outstanding: £192,975,000.72" in text and "Why: CSS2 failed" in text
    out = io.StringIO()
    Console(file=out, width=45, color_system=None).print(fitted("Fees", cols, rows, 45))
    assert "left out at this width: Why" in out.getvalue()
    assert "£351,100,000.72" in out.getvalue()
