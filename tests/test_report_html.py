"""The HTML review pack (pmir_dsl/report/html.py): self-contained, escaped, deterministic, a page
per group with every measure; rendered by headless Chromium (Debian's chromium package) without
console errors, with a 1280 px screenshot of every bundled contract's pack.

Set PMIRC_SCREENSHOTS=1 to write the screenshots to docs/screenshots/ (the committed ones);
otherwise they go to a temporary folder. Without chromium the browser tests are skipped, except
under CI (CI=true), where .ci/run installs it and its absence is a failure.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import struct
import subprocess
from functools import cache
from pathlib import Path

import openpyxl
import pytest

from conftest import REPO, run_source, write_csv
from pmir_dsl.cli import main
from pmir_dsl.pipeline import Evaluation, run_check
from pmir_dsl.report import charts, html
from pmir_dsl.report.markup import colour_of, esc

BUNDLED = sorted(p.stem for p in (REPO / "contracts").glob("*.pmir"))


@cache
def evaluation(name: str) -> Evaluation:
    # paths relative to where pytest runs (the repository root): as a user types them
    return run_check(os.path.relpath(REPO / "contracts" / f"{name}.pmir"),
                     os.path.relpath(REPO / "examples" / name))


@cache
def pack(name: str) -> str:
    return html.render(evaluation(name))


# ---- the page itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUNDLED)
def test_pack_is_self_contained(name: str) -> None:
    text = pack(name)
    assert text.startswith("<!DOCTYPE html>")
    assert f'content="{html.CSP}"' in text  # the browser may fetch nothing at all
    for banned in ("<script", "<link", "<iframe", "<img", "@import", "@font-face"):
        assert banned not in text.lower(), banned
    # the only URLs are in-page anchors and SVG's namespace names (never fetched)
    refs = re.findall(r'(?:href|src)="([^"]*)"', text)
    assert refs and all(r.startswith("#") for r in refs), {r[:40] for r in refs if r[:1] != "#"}
    urls = set(re.findall(r"url\(([^)]*)\)", text))
    assert all(u.startswith("#") for u in urls), urls
    for url in set(re.findall(r'"(https?://[^"]*)"', text)):
        assert url.startswith(("http://www.w3.org/", "http://purl.org/dc/",
                               "http://creativecommons.org/ns")), url


@pytest.mark.parametrize("name", BUNDLED)
def test_pack_has_a_page_per_group_and_every_measure(name: str) -> None:
    ev, text = evaluation(name), pack(name)
    ids = set(re.findall(r'<section class="page" id="([^"]+)"', text))
    nav = re.findall(r'<nav>.*?</nav>', text, re.S)[0]
    links = re.findall(r'href="#([^"]+)"', nav)
    assert set(links) == ids and len(links) == len(ids)  # every page in the nav, once
    assert "contract" in ids and "data-quality" in ids
    every = re.findall(r'\bid="([^"]+)"', text)
    assert len(every) == len(set(every))  # charts' own ids are prefixed per chart
    groups = {tuple(r["group"].items()) for r in ev.results if r["group"]}
    for g in groups:
        title = " · ".join(f"{k.upper() if len(k) <= 3 else k.replace('_', ' ').capitalize()}: "
                           f"{'(none)' if v is None else v}" for k, v in g)
        assert f"<h2>{esc(title)}</h2>" in text, title
    for mp in ev.plan.measures:
        assert f'<div class="tid">{mp.measure.id} ' in text  # its RAG tile
        assert f"<h3>{mp.measure.id} <span>" in text  # its chart block


def test_pack_is_byte_identical_run_to_run() -> None:
    assert html.render(evaluation("atw_ha")) == pack("atw_ha")


def test_tiles_and_status_follow_the_view_model() -> None:
    text = pack("atw_ha")
    contract = text[text.index('id="contract"'):text.index('id="provider-central"')]
    # KPI1 met in month 2025-06 for the contract as a whole at 99.32% with no record to spare
    tile = re.search(r'<div class="tile t-(\w+)"><div class="tid">KPI1 .*?</div></div>',
                     contract).group(0)
    assert 't-green' in tile and "99.32%" in tile and "in month 2025-06" in tile
    assert "0 to spare, +0.32 points" in tile
    # and failed for Central, which the summary at the top says
    assert re.search(r"<li><strong>KPI1</strong>[^<]*\(in month 2025-06\): Provider: Central",
                     contract)


def test_near_target_is_amber_and_no_target_grey() -> None:
    ev = evaluation("atw_ha")
    kpi2 = ev.plan.measure("KPI2").measure
    kpi1 = ev.plan.measure("KPI1").measure
    assert colour_of(False, "Near Target", kpi2) == "amber"
    assert colour_of(False, "Needs Improvement", kpi2) == "red"
    assert colour_of(False, "Near Target", kpi1) == "red"  # KPI1 has no bands
    assert colour_of(True, "Good", kpi2) == "green"
    assert colour_of(None, None, kpi2) == "grey"


def test_work_programme_dashboard_pages() -> None:
    text = pack("work_programme")
    dash = text[text.index('id="dashboard"'):]
    dash = dash[:dash.index("</section>")]
    assert "Job outcomes against the MPL" in dash
    for mid in ("JO_VS_MPL_PG1", "EXIT_REPORTS_10WD", "OFF_BENEFIT_FAILURE_RATE", "CMO_SCORE"):
        assert mid in dash
    for head in ("Latest month", "Previous month", "Current quarter", "Previous quarter",
                 "Year to date", "Rolling 12", "Contract to date"):
        assert f"<th class=num>{head}</th>" in dash
    assert "Within 10" in dash and "21 plus" in dash and "Outstanding" in dash
    assert 'id="reviews"' in text and "target missed" in text  # the PINs and their outcome


def test_escalation_and_fee_timelines() -> None:
    text = pack("ipes")
    b = text[text.index('id="provider-provider-b"'):]
    b = b[:b.index("</section>")]
    assert "Level 2 Enhanced Action" in b  # the level now (B rose again in 2025-06, 9.14)
    assert "CSS1 failed in 2024-06 and 2024-08" in b  # the reason, on the provider's page
    assert "£35,500.00" in b  # the deferral of August 2024, in pounds from integer pence
    assert 'id="service-fee"' in text and 'id="pmir"' in text


HOSTILE = """
contract "Test <b>&" {
  service start 2024-01-01
  group by provider
}
table referrals {
  referral_id: id
  provider: text
  referral_date: date
  acknowledged_date: date?
}
measure KPI1 "Acknowledged <i>quickly</i>" {
  population referrals
  month of referral_date
  met when acknowledged_date within 1 working day of referral_date
  target at least 96%
  bases in_month
}
"""


def test_every_data_value_is_escaped(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>'
    write_csv(tmp_path, "referrals", ["referral_id", "provider", "referral_date",
                                      "acknowledged_date"],
              [["R1", evil, "2024-01-08", "2024-01-09"], ["R2", "A&B", "2024-01-08", None]])
    text = html.render(run_source(HOSTILE, tmp_path, as_of="2024-01-31"))
    assert "<script" not in text and "<b>" not in text and "<i>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "A&amp;B" in text and "Test &lt;b&gt;&amp;" in text
    assert "&lt;i&gt;quickly&lt;/i&gt;" in text


def test_cli_writes_html_xlsx_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    args = [os.path.relpath(REPO / "contracts" / "atw_ha.pmir"),  # as pack() names them
            os.path.relpath(REPO / "examples" / "atw_ha")]
    assert main(["check", *args, "--format", "html", "-o", str(tmp_path / "p.html")]) == 1
    assert (tmp_path / "p.html").read_text(encoding="utf-8") == pack("atw_ha")
    assert main(["check", *args, "--format", "xlsx"]) == 2  # a workbook needs a file name
    assert "-o pack.xlsx" in capsys.readouterr().err


def test_filters_narrow_every_pack_format(tmp_path: Path) -> None:
    """`--provider` makes a provider's pack in every format: only its groups' figures, regime
    levels, fees and assurance actions, as its filtered JSON holds them (docs/pack.md)."""
    args = [os.path.relpath(REPO / "contracts" / "ipes.pmir"),
            os.path.relpath(REPO / "examples" / "ipes"), "--provider", "Provider A"]
    for fmt in ("html", "csv", "json"):
        main(["check", *args, "--format", fmt, "-o", str(tmp_path / f"a.{fmt}")])
    html = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert "Provider A" in html and "Provider B" not in html and "Provider C" not in html
    assert "<strong>Filtered:</strong> only provider=Provider A (the rest" in html
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert {a["group"]["provider"] for a in doc["assurance"]} == {"Provider A"}
    with (tmp_path / "a.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(doc["results"]) and {r["provider"] for r in rows} == {"Provider A"}
    main(["check", *args[:2], "--format", "xlsx", "--measure", "CSS1", "-o",
          str(tmp_path / "m.xlsx")])
    wb = openpyxl.load_workbook(tmp_path / "m.xlsx")
    assert "CSS1" in wb.sheetnames and "CSS2" not in wb.sheetnames
    assert wb["Summary"]["A2"].value.endswith("; filtered: only measure CSS1")
    assert "Filtered:" not in pack("ipes")  # a whole pack says nothing of the sort


def test_charts_are_deterministic_svg() -> None:
    periods = ["2024-01", "2024-02", "2024-03"]
    a = charts.trend("s", "t", periods, [("in month", [0.9, None, 0.99])], [False, None, True],
                     [0.96] * 3, [("Near Target", 0.935)])
    assert a == charts.trend("s", "t", periods, [("in month", [0.9, None, 0.99])],
                             [False, None, True], [0.96] * 3, [("Near Target", 0.935)])
    assert a.startswith("<svg") and a.endswith("</svg>")
    assert "<dc:date>" not in a and "Matplotlib v" not in a
    other = charts.trend("t", "t", periods, [("in month", [0.9, None, 0.99])],
                         [False, None, True], [0.96] * 3)
    ids = set(re.findall(r'id="([^"]+)"', a)) & set(re.findall(r'id="([^"]+)"', other))
    assert not ids  # two charts on one page never share an id


# ---- in the browser ----------------------------------------------------------------------------


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


def browse(page: Path, *action: str) -> subprocess.CompletedProcess[str]:
    """Chromium headless on ``page`` with console messages logged to standard error."""
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", "--no-first-run", "--disable-extensions",
         *action, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=300, check=False)


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console (errors, CSP violations, failed loads)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_check_catches_a_page_that_fetches(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                    f'content="{html.CSP}"></head><body>'
                    '<img src="http://example.invalid/x.png"></body></html>', encoding="utf-8")
    run = browse(page, "--dump-dom")
    assert any("example.invalid" in m for m in console_messages(run.stderr))


@pytest.mark.parametrize("name", BUNDLED)
def test_pack_renders_in_chromium(name: str, tmp_path: Path) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(pack(name), encoding="utf-8")
    run = browse(page, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_messages(run.stderr) == []
    dom = run.stdout
    assert "</main>" in dom and dom.count("<svg") >= len(evaluation(name).plan.measures)
    for mp in evaluation(name).plan.measures:
        assert f'<div class="tid">{mp.measure.id} ' in dom


SCREENSHOT_HEIGHT = 2000


def compress(png: Path) -> None:
    """Chromium's PNG to a 256-colour palette, undithered (a page of flat colours and text
    loses nothing visible), so that a committed screenshot stays well under 400 KB."""
    from PIL import Image

    with Image.open(png) as img:
        small = img.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    small.save(png, optimize=True)


@pytest.mark.parametrize("name", BUNDLED)
def test_pack_screenshot_at_1280(name: str, tmp_path: Path) -> None:
    out = REPO / "docs" / "screenshots" if os.environ.get("PMIRC_SCREENSHOTS") else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = tmp_path / f"{name}.html"
    page.write_text(pack(name), encoding="utf-8")
    png = out / f"{name}.png"
    run = browse(page, f"--screenshot={png}", f"--window-size=1280,{SCREENSHOT_HEIGHT}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_messages(run.stderr) == []
    compress(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, SCREENSHOT_HEIGHT)
    assert 20_000 < len(data) < 400_000  # not blank, and small enough to commit
