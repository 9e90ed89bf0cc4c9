"""Text in a contract that is not what it looks like: located warnings (issue 13)."""

from __future__ import annotations

import pytest

from pmir_dsl.check import check_source
from pmir_dsl.diagnostics import CompileError
from pmir_dsl.source_warnings import scan

HEAD = 'contract "C" {\n  service start 2023-04-01\n}\n'


def test_plain_text_has_no_warnings() -> None:
    source = HEAD + '# Café, Ŵyl, Ελλάδα, Москва\ntable t "Zoë\'s table" { a: id }\n'
    assert scan(source, "c") == []


@pytest.mark.parametrize("ch", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c"])
def test_bidi_controls_in_strings_and_comments(ch: str) -> None:
    source = HEAD + f'table t "a{ch}b" {{ a: id }}  # c{ch}d\n'
    found = scan(source, "c.pmir")
    assert [(d.code, d.span.line, d.span.column) for d in found] == [  # type: ignore[union-attr]
        ("hidden-character", 4, 11), ("hidden-character", 4, 29)]
    assert "bidi control" in found[0].message and found[0].severity == "warning"


@pytest.mark.parametrize("ch,name", [("\u200b", "ZERO WIDTH SPACE"),
                                     ("\ufeff", "ZERO WIDTH NO-BREAK"),
                                     ("\u00ad", "SOFT HYPHEN"), ("\u2060", "WORD JOINER")])
def test_invisible_characters(ch: str, name: str) -> None:
    [d] = scan(HEAD + f'table t "No{ch}rth" {{ a: id }}\n', "c.pmir")
    assert d.code == "hidden-character" and name in d.message and "invisible" in d.message


def test_mixed_scripts_point_at_the_odd_letter() -> None:
    source = HEAD + 'table t "N\u043erth and \u0421\u0435ntral" { a: id }\n'
    found = scan(source, "c.pmir")
    assert [(d.code, d.span.column) for d in found] == [  # type: ignore[union-attr]
        ("mixed-script", 11), ("mixed-script", 20)]
    assert "N\\u043erth" in found[0].message and "CYRILLIC SMALL LETTER O" in found[0].message


def test_mixed_scripts_in_comments_are_not_warned_of() -> None:
    assert scan(HEAD + "# N\u043erth\n", "c") == []


def test_a_contract_with_warnings_checks_and_carries_them() -> None:
    contract = check_source(HEAD + 'table t "N\u043erth" { a: id }\n', "c.pmir")
    [w] = contract.warnings
    assert w.startswith("warning[mixed-script]:") and "--> c.pmir:4:11" in w


def test_warnings_come_with_the_errors() -> None:
    with pytest.raises(CompileError) as info:
        check_source(HEAD + 'table t "N\u043erth" { a: idd }\n', "c.pmir")
    assert [d.severity for d in info.value.diagnostics] == ["error", "warning"]


def test_the_language_server_shows_a_clean_contracts_warnings() -> None:
    from pmir_dsl.lsp import check_text

    [d] = check_text(HEAD + 'table t "N\u043erth" { a: id }\n', "c.pmir")
    assert (d.code, d.severity) == ("mixed-script", "warning")
