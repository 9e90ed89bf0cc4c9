"""Keep docs/language.md honest: every pmir example in it must check as the text says.

* A block fenced as ```pmir that is a whole file (it contains ``contract "``) must pass
  :func:`pmir_dsl.check.check_source`, with its quoted imports resolved in a folder holding the
  files of :data:`FOLDER_FILES` (the files the reference says sit beside the contract).
* Any other ```pmir block is a fragment (tables, band sets, measures): it is put after
  :data:`PRELUDE` (``import cabinet_office``, the AtW HA contract header and its three tables)
  and must check clean too. A table or band set the fragment declares itself replaces the
  prelude's one of the same name, so the reference can show the AtW tables as they are.
* A block fenced as ```pmir-error names on its first line the diagnostic it must give
  (``# error: unknown-column``); it is a whole file or a fragment by the same rule, or a whole
  file when that line ends with ``(whole file)``. It must fail with that code and no other.

The reference must also list every diagnostic code of :data:`pmir_dsl.diagnostics.CODES` with
its description, and show an example of each.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pmir_dsl.check import check_source
from pmir_dsl.diagnostics import CODES, CompileError, render_all

DOC = Path(__file__).resolve().parents[1] / "docs" / "language.md"

#: The AtW HA tables, as in contracts/atw_ha.pmir.
ATW_TABLES = """\
table referrals "PRaP referral extract, one row per referral" {
  referral_id: id
  provider: text
  referral_date: date
  acknowledged_date: date?
  appointment_date: date?
  assessment_type: category(virtual, face_to_face, enhanced)
  report_date: date?
  report_acceptable: bool?
  rework_notified_date: date?
  rework_completed_date: date?
}

table workforce "KPI 6 social value template, one row per provider and quarter" {
  cite "6.18"
  provider: text
  quarter: quarter
  disabled_fte: decimal
  total_fte: decimal
}

table returns "Returns sent to DWP: the KPI 6 template and the Customer Insight template" {
  cite "6.18-6.19, 6.29-6.33"
  provider: text
  return: category(kpi6, customer_insight)
  period: period
  submitted_date: date?
}
"""

#: What a fragment is checked with: the stdlib tiers, the AtW HA header and tables.
PRELUDE = """\
import cabinet_office

contract "Access to Work Holistic Assessment" {
  service start 2024-04-01
  calendar england_and_wales
  bases in_month, rolling_3, rolling_12, cumulative
  group by provider
}

""" + ATW_TABLES

#: Files beside the contract in the reference's import examples.
FOLDER_FILES = {
    "atw_tables.pmir": "# The AtW HA tables, shared by its contracts.\n\n" + ATW_TABLES,
    # two modules that import each other (the import-cycle example)
    "referral_tables.pmir": 'import "return_tables.pmir"\n\ntable referrals { referral_id: id }\n',
    "return_tables.pmir": 'import "referral_tables.pmir"\n\ntable returns { period: period }\n',
}

FENCE = re.compile(r"^```(pmir(?:-error)?)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ERROR_LINE = re.compile(r"^#\s*error:\s*([a-z-]+)\s*(\(whole file\))?\s*$")
DECLARES = re.compile(r"^(table|bands)\s+(\w+)", re.MULTILINE)  # top-level declarations only


def doc_blocks() -> list[tuple[str, int, str]]:
    """(fence tag, line number, text) of every pmir block of the reference."""
    text = DOC.read_text(encoding="utf-8")
    return [(m[1], text.count("\n", 0, m.start()) + 1, m[2]) for m in FENCE.finditer(text)]


def is_whole_file(src: str) -> bool:
    """Whether a block is a complete contract file rather than a fragment."""
    first = src.splitlines()[0] if src.strip() else ""
    m = ERROR_LINE.match(first)
    return 'contract "' in src or bool(m and m[2])


def with_prelude(fragment: str) -> str:
    """The fragment after the prelude, less any table or band set the fragment declares."""
    prelude = PRELUDE
    for kind, name in DECLARES.findall(fragment):
        if kind == "table":
            prelude = re.sub(rf"^table {name}\b.*?^\}}\n", "", prelude, flags=re.M | re.S)
        elif name == "cabinet_office_tiers":
            prelude = prelude.replace("import cabinet_office\n", "")
    return prelude + "\n" + fragment


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A contract folder holding the files the reference's examples import."""
    path = tmp_path_factory.mktemp("contract")
    for name, text in FOLDER_FILES.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def check(src: str, folder: Path) -> list[str]:
    """The diagnostic codes ``src`` gives (empty when it checks clean), for a block."""
    full = src if is_whole_file(src) else with_prelude(src)
    try:
        check_source(full, "doc.pmir", folder)
    except CompileError as e:
        return [d.code for d in e.diagnostics]
    return []


BLOCKS = doc_blocks()
GOOD = [(line, src) for tag, line, src in BLOCKS if tag == "pmir"]
BAD = [(line, src) for tag, line, src in BLOCKS if tag == "pmir-error"]


def test_the_reference_has_examples() -> None:
    assert len(GOOD) >= 20 and len(BAD) >= len(CODES)
    opened = re.findall(r"^```pmir", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(opened) == len(BLOCKS), "a ```pmir block is not closed by a ``` line of its own"


@pytest.mark.parametrize(("line", "src"), GOOD, ids=[f"line{n}" for n, _ in GOOD])
def test_example_checks_clean(line: int, src: str, folder: Path) -> None:
    full = src if is_whole_file(src) else with_prelude(src)
    try:
        check_source(full, "doc.pmir", folder)
    except CompileError as e:
        pytest.fail(f"docs/language.md line {line}:\n{render_all(e.diagnostics, e.sources)}")


@pytest.mark.parametrize(("line", "src"), BAD, ids=[f"line{n}" for n, _ in BAD])
def test_error_example_gives_its_code(line: int, src: str, folder: Path) -> None:
    m = ERROR_LINE.match(src.splitlines()[0])
    assert m, f"line {line}: a pmir-error block must begin with '# error: CODE'"
    assert m[1] in CODES, f"line {line}: '{m[1]}' is not a diagnostic code"
    codes = check(src, folder)
    assert codes, f"docs/language.md line {line}: expected error[{m[1]}], but it checks clean"
    assert set(codes) == {m[1]}, f"docs/language.md line {line}: expected only {m[1]}, got {codes}"


def test_every_code_is_listed_with_its_description() -> None:
    text = re.split(r"^## .*Diagnostic codes$", DOC.read_text(encoding="utf-8"), flags=re.M)[1]
    rows = dict(re.findall(r"^\|\s*`([a-z-]+)`\s*\|\s*(.*?)\s*\|", text, re.MULTILINE))
    for code, entry in CODES.items():
        assert rows.get(code) == entry.description, f"the code table's row for {code}"
    assert set(rows) <= set(CODES)


def test_every_code_has_an_example() -> None:
    shown = {ERROR_LINE.match(src.splitlines()[0])[1] for _, src in BAD}  # type: ignore[index]
    assert shown == set(CODES)
