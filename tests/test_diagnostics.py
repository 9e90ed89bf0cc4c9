"""Diagnostics: every mistake in tests/cases/diagnostics/ gets located, explained, stable errors.

Each case file is a trimmed copy of the AtW HA contract (of the IPES contract, for the mistakes in
regimes and remedies) with one deliberate mistake (a few have several, to show that every error
in a file is reported, not only the first). For each case the
test pins the exact (code, line, column) of every diagnostic, so a moved caret is caught, and
snapshots the rendered text (tests/__snapshots__/test_diagnostics/, one text file per case) so a
change of wording is reviewed. Regenerate with ``pytest tests/test_diagnostics.py
--snapshot-update`` and read the changed files before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from pmir_dsl.check import check_file
from pmir_dsl.cli import main
from pmir_dsl.diagnostics import CODES, CompileError, render_all

REPO = Path(__file__).resolve().parent.parent
CASES = Path("tests/cases/diagnostics")  # relative to REPO, so no absolute path is rendered
CONTRACTS = sorted((REPO / "contracts").glob("*.pmir"))

#: Every diagnostic of each case, in the order reported: (code, line, column).
EXPECTED: dict[str, list[tuple[str, int, int]]] = {
    # ---- syntax
    "syntax_misspelt_keyword": [("syntax", 30, 3)],
    "syntax_missing_brace": [("syntax", 30, 21)],
    "syntax_missing_brace_at_end": [("syntax", 39, 45)],
    "syntax_several": [("syntax", 10, 18), ("syntax", 21, 15), ("syntax", 30, 13)],
    "unterminated_string": [("unterminated-string", 25, 14)],
    "unexpected_character_semicolon": [("unexpected-character", 30, 22)],
    "unexpected_character_slash": [("unexpected-character", 9, 32)],
    # ---- imports
    "import_unknown_stdlib": [("import-not-found", 4, 1)],
    "import_parent_folder": [("import-outside", 5, 1)],
    "import_absolute_path": [("import-outside", 5, 1)],
    "import_missing_file": [("import-not-found", 5, 1)],
    "import_cycle": [("import-cycle", 2, 1)],  # in modules/cycle_b.pmir
    "import_cycle_back_to_contract": [("import-cycle", 2, 1)],  # in modules/
    "import_declares_contract": [("duplicate-contract", 5, 1)],
    # ---- the contract header
    "no_contract": [("no-contract", 1, 1)],
    "duplicate_contract": [("duplicate-contract", 14, 1)],
    "missing_service_start": [("missing-clause", 6, 1)],
    "unknown_calendar": [("unknown-calendar", 9, 12)],
    "bad_date": [("bad-date", 8, 17)],
    "duplicate_contract_clause": [("duplicate-clause", 10, 3)],
    "unknown_basis": [("unknown-basis", 10, 19)],
    # ---- tables
    "duplicate_column": [("duplicate-name", 22, 3)],
    "unknown_type": [("unknown-type", 17, 18)],
    "duplicate_table": [("duplicate-name", 42, 7)],
    "long_table_name": [("long-name", 7, 7)],
    "bad_date_format": [("bad-date-format", 14, 69)],
    "format_not_date": [("type-mismatch", 16, 18)],
    # ---- measures: structure
    "duplicate_measure": [("duplicate-name", 33, 9)],
    "missing_population": [("missing-clause", 25, 9)],
    "missing_target": [("missing-clause", 25, 9)],
    "missing_period": [("missing-clause", 25, 9)],
    "measure_kind": [("measure-kind", 30, 3)],
    "measure_kind_none": [("measure-kind", 25, 9)],
    "duplicate_clause": [("duplicate-clause", 31, 3)],
    # ---- measures: names
    "unknown_table": [("unknown-table", 27, 14)],
    "unknown_column": [("unknown-column", 29, 12)],
    "unknown_column_no_match": [("unknown-column", 27, 30)],
    "unknown_category_is": [("unknown-category", 27, 49)],
    "unknown_category_by": [("unknown-category", 46, 80)],
    "incomplete_cases": [("incomplete-cases", 46, 31)],
    "duplicate_case": [("duplicate-case", 46, 80)],
    # ---- measures: types and amounts
    "type_mismatch_month_of_bool": [("type-mismatch", 28, 12)],
    "type_mismatch_compare": [("type-mismatch", 27, 30)],
    "type_mismatch_flag": [("type-mismatch", 27, 30)],
    "window_placement": [("window-placement", 29, 12)],
    "bad_percentage": [("bad-percentage", 30, 19)],
    "target_kind": [("target-kind", 30, 19)],
    "bad_deadline_day": [("bad-amount", 52, 40)],
    "period_mismatch": [("period-mismatch", 55, 18)],
    # ---- band sets
    "unknown_bands": [("unknown-bands", 39, 9)],
    "bands_order": [("bands-order", 39, 3)],
    "bands_arguments": [("bands-arguments", 39, 3)],
    "bands_no_otherwise": [("bands-order", 9, 3)],
    "bands_otherwise_not_last": [("bands-order", 8, 3)],
    "bands_unknown_parameter": [("unknown-bands", 8, 32)],
    # ---- regimes and remedies (trimmed copies of the IPES contract)
    "unknown_measure": [("unknown-measure", 76, 36)],
    "unknown_level": [("unknown-level", 58, 3)],
    "contradictory_rules": [("contradictory-rules", 61, 3)],
    "level_trap": [("level-trap", 51, 8)],
    "rule_measure": [("rule-measure", 85, 54)],
    # ---- several mistakes in one file: all are reported, in file order
    "several_in_one_measure": [("unknown-basis", 10, 19), ("unknown-column", 28, 12),
                               ("target-kind", 30, 19)],
    "several_across_file": [("unknown-calendar", 9, 12), ("unknown-type", 21, 16),
                            ("target-kind", 30, 19), ("unknown-table", 35, 14)],
}

#: Codes that no case exercises, each with the reason. Keep this empty where possible: a new code
#: needs a case file above, or an entry here saying why it cannot have one.
UNTESTED_CODES: dict[str, str] = {
    "import-depth": "needs a chain of 51 modules: the attack cases import_chain_1000_deep and "
                    "the docs example (tests/test_docs.py) give it",
    "hidden-character": "a warning: a file with only warnings checks clean (tests/test_source_"
                        "warnings.py and the attack cases pmir_bidi_*)",
    "mixed-script": "a warning: a file with only warnings checks clean (tests/test_source_"
                    "warnings.py and the attack case pmir_mixed_script)",
}

#: Codes whose diagnostics name something unknown, and so must come with a hint.
UNKNOWN_NAME_CODES = {"unknown-table", "unknown-column", "unknown-type", "unknown-calendar",
                      "unknown-basis", "unknown-bands", "unknown-category", "import-not-found",
                      "unknown-measure", "unknown-level"}


class TextSnapshot(SingleFileSnapshotExtension):
    """One readable .txt file per snapshot."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def text_snapshot(snapshot):  # type: ignore[no-untyped-def]
    return snapshot.use_extension(TextSnapshot)


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with the repository as working folder, so case paths are short and relative."""
    monkeypatch.chdir(REPO)


def _compile_error(path: Path) -> CompileError:
    with pytest.raises(CompileError) as info:
        check_file(path)
    return info.value


def test_every_case_file_has_expectations() -> None:
    on_disk = {p.stem for p in (REPO / CASES).glob("*.pmir")}
    assert on_disk == set(EXPECTED)


@pytest.mark.usefixtures("at_repo_root")
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case(case: str, text_snapshot) -> None:  # type: ignore[no-untyped-def]
    error = _compile_error(CASES / f"{case}.pmir")
    diags = error.diagnostics
    assert [(d.code, d.span.line, d.span.column) for d in diags if d.span] == EXPECTED[case]
    for d in diags:
        assert d.span is not None, d
        assert d.span.end_line > d.span.line or d.span.end_column > d.span.column, d
        assert d.message and not d.message.endswith("."), d
        if d.code in UNKNOWN_NAME_CODES:
            assert d.hint, d
    text = render_all(diags, error.sources)
    assert str(REPO) not in text and "/work/" not in text
    assert "Traceback" not in text
    assert text == text_snapshot


def test_every_code_is_exercised_or_explained() -> None:
    exercised = {code for found in EXPECTED.values() for code, _, _ in found}
    assert not set(UNTESTED_CODES) - set(CODES), "allow-list names a code that does not exist"
    assert not set(UNTESTED_CODES) & exercised, "allow-listed code is exercised: drop the entry"
    untested = set(CODES) - exercised - set(UNTESTED_CODES)
    assert not untested, f"codes with no case file and no reason in UNTESTED_CODES: {untested}"


@pytest.mark.usefixtures("at_repo_root")
def test_several_syntax_errors_are_all_reported() -> None:
    error = _compile_error(CASES / "syntax_several.pmir")
    assert len({d.span.line for d in error.diagnostics if d.span}) == 3


@pytest.mark.usefixtures("at_repo_root")
@pytest.mark.parametrize("case", ["syntax_misspelt_keyword", "unknown_column", "unknown_table",
                                  "unknown_bands", "unknown_type", "unknown_basis",
                                  "unknown_category_is", "unknown_category_by",
                                  "unknown_measure"])
def test_misspellings_get_did_you_mean(case: str) -> None:
    (d,) = _compile_error(CASES / f"{case}.pmir").diagnostics
    assert d.hint is not None and d.hint.startswith("did you mean '")


@pytest.mark.usefixtures("at_repo_root")
def test_lint_reports_with_location_and_caret(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CASES / "several_in_one_measure.pmir")
    assert main(["lint", path]) == 2
    err = capsys.readouterr().err
    assert f"--> {path}:28:12" in err
    assert any(line.strip(" |^") == "" and "^" in line for line in err.splitlines())
    assert "3 errors found" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("at_repo_root")
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_lint_exits_2_without_traceback(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(CASES / f"{case}.pmir")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{CASES / case}.pmir:" in captured.err or "modules" in captured.err
    assert "Traceback" not in captured.err and "internal error" not in captured.err


@pytest.mark.usefixtures("at_repo_root")
@pytest.mark.parametrize("source", [
    "",                                     # an empty file
    "# only a comment\n",
    'contract "x" {\n  extract 2024-01-01\n}\n',   # a keyword missing before a date
    "measure\n",                            # a declaration cut short at the end of the file
    'contract "x" { service start 2024-04-01 }\ngarbage here\nmeasure M "m" { }\n',
    'contract \u201cx\u201d {}\n',          # curly quotes from a word processor
    "\x00\x01",
])
def test_odd_files_get_diagnostics_not_tracebacks(source: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "odd.pmir"
    path.write_text(source, encoding="utf-8")
    assert main(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error[" in err and "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_bundled_contracts_lint_clean(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(path)]) == 0
    assert capsys.readouterr().err == ""
