"""``pmirc fmt``: canonical layout, comments kept, idempotent, the same syntax tree."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmir_dsl.cli import main
from pmir_dsl.fmt import _tokens, format_source
from pmir_dsl.parse import parse
from tests.test_fuzz import (delete_tokens, duplicate_token, insert_token, replace_token,
                             swap_adjacent, swap_tokens)

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "contracts").glob("*.pmir")) + sorted((REPO / "stdlib").glob("*.pmir"))
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in SOURCES}
COMMENT = re.compile(r"#[^\n]*")


def assert_formats_soundly(source: str) -> None:
    """fmt(fmt(x)) == fmt(x), fmt(x) parses to the same tree as x and keeps every comment."""
    before, _ = parse(source, "x.pmir")
    if before is None:
        return  # fmt leaves a file that does not parse as it is
    once = format_source(source)
    assert format_source(once) == once
    after, diagnostics = parse(once, "x.pmir")
    assert not diagnostics
    assert after == before
    assert [c.rstrip() for c in _comments(source)] == _comments(once)


def _comments(source: str) -> list[str]:
    """The comments of a file, in order (a '#' inside quoted text is not one)."""
    no_strings = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', source)
    return [c.rstrip() for c in COMMENT.findall(no_strings)]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_bundled_files_are_fixed_points(name: str) -> None:
    assert format_source(TEXTS[name]) == TEXTS[name]


def test_check_passes_on_the_bundled_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "--check", str(REPO / "contracts"), str(REPO / "stdlib")]) == 0
    assert capsys.readouterr().out == ""


def test_layout() -> None:
    messy = ('contract "x" {\n\tservice start 2024-04-01   \n\n\n  calendar   england_and_wales#c\n'
             '}\n\n\n\nmeasure M "m" {\n\n   population t where a is one of ( b ,c )\n'
             '   month of d\n  met when e within 2 working days\n        of d   # why\n'
             '  target at least 96%\n\n}\n\n')
    assert format_source(messy) == (
        'contract "x" {\n  service start 2024-04-01\n\n  calendar england_and_wales  #c\n}\n\n'
        'measure M "m" {\n  population t where a is one of (b, c)\n  month of d\n'
        '  met when e within 2 working days\n      of d   # why\n  target at least 96%\n}\n')


def test_fmt_writes_and_check_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.pmir"
    path.write_text(TEXTS["atw_ha.pmir"].replace("  population referrals\n",
                                                 "      population    referrals  \n"))
    assert main(["fmt", "--check", str(path)]) == 1
    assert "would reformat" in capsys.readouterr().out
    assert main(["fmt", str(path)]) == 0
    assert path.read_text() == TEXTS["atw_ha.pmir"]


def test_a_broken_file_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.pmir"
    path.write_text("measure {\n")
    assert main(["fmt", str(path)]) == 2
    assert "error[syntax]" in capsys.readouterr().err
    assert path.read_text() == "measure {\n"


GAPS = st.sampled_from([" ", "  ", "\t", "", "\n", "\n\n    ", "   \n  ", "      "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TEXTS)), seed=st.integers(0, 2**32 - 1), gaps=st.lists(GAPS,
       min_size=1, max_size=40))
def test_whitespace_mutations(name: str, seed: int, gaps: list[str]) -> None:
    """Any spacing between tokens (and any indentation) formats soundly."""
    source = TEXTS[name]
    rng = random.Random(seed)
    spots = _gaps(source)
    for (start, end), gap in sorted(zip(rng.sample(spots, min(len(gaps), len(spots))), gaps),
                                    reverse=True):
        source = source[:start] + (gap or " ") + source[end:]
    assert_formats_soundly(source)


def _gaps(source: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the spaces between two tokens (never inside quoted text or a
    comment, nor before a comment), and of each line's indentation."""
    out, offset = [], 0
    for line in source.split("\n"):
        tokens = _tokens(line)
        if tokens and tokens[0][0]:
            out.append((offset, offset + tokens[0][0]))
        for (s, t), (n, nxt) in zip(tokens, tokens[1:]):
            if n > s + len(t) and not nxt.startswith("#"):
                out.append((offset + s + len(t), offset + n))
        offset += len(line) + 1
    return out


MUTATORS = [delete_tokens, swap_tokens, swap_adjacent, duplicate_token, replace_token,
            insert_token]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(TEXTS)), seed=st.integers(0, 2**32 - 1),
       steps=st.integers(1, 4))
def test_fuzzed_sources(name: str, seed: int, steps: int) -> None:
    """Sources mutated by the fuzz tests' token mutators format soundly whenever they parse."""
    rng = random.Random(seed)
    source = TEXTS[name]
    for _ in range(steps):
        source = rng.choice(MUTATORS)(source, rng)
    assert_formats_soundly(source)
