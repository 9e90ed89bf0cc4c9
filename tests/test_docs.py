"""Keep docs/language.md honest: every pmir example in it must check as the text says.

* A block fenced as ```pmir that is a whole file (it contains ``contract "``) must pass
  :func:`pmir_dsl.check.check_source`, with its quoted imports resolved in a folder holding the
  files of :data:`FOLDER_FILES` (the files the reference says sit beside the contract).
* Any other ```pmir block is a fragment (tables, band sets, measures): it is put after
  :data:`PRELUDE` (``import cabinet_office``, the AtW HA contract header and its three tables)
  and must check clean too. A fragment whose first line begins ``# ESF`` or ``# SES`` is put
  after :data:`ESF_PRELUDE` or :data:`SES_PRELUDE` instead (the header and tables of
  contracts/esf.pmir or contracts/ses.pmir), and one whose first line begins ``# IPES`` after
  :data:`IPES_PRELUDE` (contracts/ipes.pmir without its regime and remedy: its header, tables
  and measures, which the regimes and remedies of the reference name). A table, band set or
  measure the fragment declares itself replaces the prelude's one of the same name, so the
  reference can show them as they are.
* A block fenced as ```pmir-error names on its first line the diagnostic it must give
  (``# error: unknown-column``, or ``# warning: mixed-script`` for a warning, the only
  diagnostic of a file that otherwise checks clean); it is a whole file or a fragment by the
  same rule, or a whole
  file when that line ends with ``(whole file)``; a fragment goes after the ESF, SES or IPES
  prelude when that line ends with ``(ESF)``, ``(SES)`` or ``(IPES)``. It must fail with that
  code and no other.

The preludes' tables must be those of the bundled contracts, so that the reference's examples
stay modelled on the contracts as they are.

The reference must also list every diagnostic code of :data:`pmir_dsl.diagnostics.CODES` with
its description, and show an example of each.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pmir_dsl.check import check_file, check_source
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

#: The ESF 2014-2020 tables, as in contracts/esf.pmir.
ESF_TABLES = """\
table referrals "PRaP referrals, one row per referral" {
  referral_id: id
  provider: text
  lep_area: text
  category_of_region: text
  referral_date: date
  start_date: date?
  dns_date: date?
  recorded_date: date?
  start_date not before referral_date
}

table starts_profile "Profiled starts by LEP area and CoR (ALL: the LEP area overall)" {
  lep_area: text
  category_of_region: text
  month: month
  profiled_starts: integer
}

table outcomes "Job outcomes achieved, one row per outcome" {
  referral_id: ref(referrals)
  outcome: category(short_job, sustained_job)
  achieved_date: date
}

table outcome_profiles "Tendered job outcome rates and their profile over months since start" {
  lep_area: text
  category_of_region: text
  outcome: category(short_job, sustained_job)
  rate: decimal
  month: integer
  share: decimal
}
"""

#: What an ESF fragment is checked with: the stdlib tiers, the ESF header and tables.
ESF_PRELUDE = """\
import cabinet_office

contract "ESF 2014-2020 provision" {
  service start 2023-04-01
  calendar england_and_wales
  group by provider, lep_area, lep_area and category_of_region
}

""" + ESF_TABLES

#: The SES tables, as in contracts/ses.pmir.
SES_TABLES = """\
table referrals "PRaP referrals, one row per referral" {
  referral_id: id
  provider: text
  referral_date: date
  initial_assessment_date: date?
  start_date: date?
  start_recorded_date: date?
  leave_date: date?
  start_date not before referral_date
  leave_date not before start_date
}

table outcomes "Outcomes achieved, one row per outcome" {
  referral_id: ref(referrals)
  outcome: category(job_outcome, sustained_job_outcome)
  achieved_date: date
}

table profiles "Start conversion rate per outcome and its time-to-outcome profile (7.23)" {
  outcome: category(job_outcome, sustained_job_outcome)
  rate: decimal
  month: integer
  share: decimal
}

table starts_profile "Profiled number of starts (7.13)" {
  month: month
  profiled_starts: integer
}
"""

#: What an SES fragment is checked with: the stdlib tiers, the SES header and tables.
SES_PRELUDE = """\
import cabinet_office

contract "Specialist Employability Support" {
  service start 2023-04-01
  calendar england_and_wales
}

""" + SES_TABLES

#: Top-level regime, remedy and assurance declarations (their closing brace is at the start of
#: a line).
RULE_DECLS = re.compile(r"^(?:regime|remedy|assurance)\s+\w+.*?^\}[ \t]*\n",
                        re.MULTILINE | re.DOTALL)

#: What an IPES fragment is checked with: contracts/ipes.pmir itself, less its regime and remedy,
#: so that the reference's regimes and remedies name the contract's measures as they are.
IPES_PRELUDE = RULE_DECLS.sub("", (DOC.parents[1] / "contracts" / "ipes.pmir")
                              .read_text(encoding="utf-8"))

#: The prelude of a fragment, by the marker on its first line.
PRELUDES = {"": PRELUDE, "ESF": ESF_PRELUDE, "SES": SES_PRELUDE, "IPES": IPES_PRELUDE}

#: The bundled contract each prelude's tables are copied from.
CONTRACTS = {"": "atw_ha.pmir", "ESF": "esf.pmir", "SES": "ses.pmir", "IPES": "ipes.pmir"}

#: Files beside the contract in the reference's import examples.
FOLDER_FILES = {
    "atw_tables.pmir": "# The AtW HA tables, shared by its contracts.\n\n" + ATW_TABLES,
    # two modules that import each other (the import-cycle example)
    "referral_tables.pmir": 'import "return_tables.pmir"\n\ntable referrals { referral_id: id }\n',
    "return_tables.pmir": 'import "referral_tables.pmir"\n\ntable returns { period: period }\n',
    # a chain of modules 60 deep (the import-depth example)
    **{f"chain_{i}.pmir": f'import "chain_{i + 1}.pmir"\n' for i in range(1, 60)},
    "chain_60.pmir": "table chained { chained_id: id }\n",
}

FENCE = re.compile(r"^```(pmir(?:-error)?)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ERROR_LINE = re.compile(
    r"^#\s*(?:error|warning):\s*([a-z-]+)\s*(?:\((whole file|ESF|SES|IPES)\))?\s*$")
MARKER = re.compile(r"^#\s*(ESF|SES|IPES)\b")
DECLARES = re.compile(r"^(table|bands|measure)\s+(\w+)", re.MULTILINE)  # top-level only


def doc_blocks() -> list[tuple[str, int, str]]:
    """(fence tag, line number, text) of every pmir block of the reference."""
    text = DOC.read_text(encoding="utf-8")
    return [(m[1], text.count("\n", 0, m.start()) + 1, m[2]) for m in FENCE.finditer(text)]


def is_whole_file(src: str) -> bool:
    """Whether a block is a complete contract file rather than a fragment."""
    first = src.splitlines()[0] if src.strip() else ""
    m = ERROR_LINE.match(first)
    return 'contract "' in src or bool(m and m[2] == "whole file")


def prelude_of(fragment: str) -> str:
    """Which prelude a fragment goes after: '' (AtW HA), 'ESF', 'SES' or 'IPES'."""
    first = fragment.splitlines()[0] if fragment.strip() else ""
    m = ERROR_LINE.match(first)
    if m:
        return m[2] if m[2] in PRELUDES else ""
    marker = MARKER.match(first)
    return marker[1] if marker else ""


def with_prelude(fragment: str) -> str:
    """The fragment after its prelude, less any table, band set or measure the fragment
    declares."""
    prelude = PRELUDES[prelude_of(fragment)]
    for kind, name in DECLARES.findall(fragment):
        if kind in ("table", "measure"):
            prelude = re.sub(rf"^{kind} {name}\b.*?^\}}\n", "", prelude, flags=re.M | re.S)
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
        contract = check_source(full, "doc.pmir", folder)
    except CompileError as e:
        return [d.code for d in e.diagnostics]
    warned = (re.match(r"warning\[([a-z-]+)\]", w) for w in contract.warnings)
    return [m[1] for m in warned if m]


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


@pytest.mark.parametrize("which", sorted(PRELUDES))
def test_prelude_tables_are_the_contracts(which: str) -> None:
    contract = DOC.parents[1] / "contracts" / CONTRACTS[which]
    assert check_source(PRELUDES[which], "prelude.pmir").tables == check_file(contract).tables, \
        f"the {which or 'AtW HA'} prelude's tables differ from contracts/{CONTRACTS[which]}"


def test_every_code_is_listed_with_its_description() -> None:
    after = re.split(r"^## .*Diagnostic codes$", DOC.read_text(encoding="utf-8"), flags=re.M)[1]
    text = re.split(r"^## ", after, flags=re.M)[0]  # up to the next section
    rows = dict(re.findall(r"^\|\s*`([a-z-]+)`\s*\|\s*(.*?)\s*\|", text, re.MULTILINE))
    for code, entry in CODES.items():
        assert rows.get(code) == entry.description, f"the code table's row for {code}"
    assert set(rows) <= set(CODES)


def test_every_code_has_an_example() -> None:
    shown = {ERROR_LINE.match(src.splitlines()[0])[1] for _, src in BAD}  # type: ignore[index]
    assert shown == set(CODES)
