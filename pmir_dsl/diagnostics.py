"""Diagnostics as data: stable error codes, source spans, and a renderer with a caret.

Every mistake in a ``.pmir`` file becomes a :class:`Diagnostic` with a code from :data:`CODES`
(stable: tests and users refer to them), a message saying what was found and what was expected,
the :class:`Span` it points at, and a hint. Rendering is a separate pure function, given the
source text, so diagnostics can be compared in tests without any colours or layout.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs

from .visible import ascii_escaped, visible


@attrs.frozen
class Span:
    """A region of a source file: 1-based line and column of its start and end."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@attrs.frozen
class ErrorCode:
    """A stable diagnostic code and a one-line description of what it checks."""

    code: str
    description: str


def _codes(*pairs: tuple[str, str]) -> dict[str, ErrorCode]:
    return {code: ErrorCode(code, text) for code, text in pairs}


#: Every diagnostic pmirc can give, by code. Codes are stable; never renumber or reuse one.
CODES: dict[str, ErrorCode] = _codes(
    ("syntax", "The text does not follow the grammar of the pmir language"),
    ("unterminated-string", "A quoted string is not closed on the same line"),
    ("unexpected-character", "A character that no pmir token can start with"),
    ("import-not-found", "An imported module is neither in the stdlib nor beside the contract"),
    ("import-outside", "An import reaches outside the stdlib and the contract's own folder"),
    ("import-cycle", "Modules import each other in a cycle"),
    ("no-contract", "The file has no contract header"),
    ("duplicate-contract", "More than one contract header"),
    ("missing-clause", "A required clause is missing"),
    ("duplicate-clause", "A clause that may appear once appears twice"),
    ("duplicate-name", "Two declarations of the same kind share a name"),
    ("unknown-table", "A name used as a table is not a declared table"),
    ("unknown-column", "A name used as a column is not a column of the table"),
    ("unknown-type", "A column type that the language does not have"),
    ("unknown-calendar", "A calendar that pmirc does not know"),
    ("unknown-basis", "A basis that is not one of the six bases"),
    ("unknown-bands", "A band set that is not declared or imported"),
    ("unknown-category", "A value that is not one of the column's categories"),
    ("type-mismatch", "A column or value of the wrong type for where it is used"),
    ("bad-date", "A date literal that is not a real calendar date"),
    ("bad-date-format", "A declared date format that pmirc cannot read dates with"),
    ("bad-percentage", "A percentage outside 0% to 100%"),
    ("bad-amount", "A number that does not fit where it is used"),
    ("long-name", "A table name too long to name its data file"),
    ("bands-order", "Band lower bounds must strictly decrease, ending in 'otherwise'"),
    ("bands-arguments", "A band set used with the wrong number of arguments"),
    ("incomplete-cases", "Category-dependent days that do not cover every category"),
    ("duplicate-case", "A category given two day counts"),
    ("measure-kind", "A measure must say exactly one of 'met when', 'count when', 'count records', "
                     "'ratio' or 'in backlog'"),
    ("window-placement", "A time window must be the whole 'met when' condition"),
    ("period-mismatch", "A basis that does not fit the measure's period"),
    ("target-kind", "A target of the wrong kind for the measure"),
    ("unknown-measure", "A rule or review names a measure (or notice) the contract does not declare"),
    ("unknown-level", "A rule moves to or from a level the regime does not declare"),
    ("contradictory-rules", "Two rules send the same state to different levels"),
    ("level-trap", "A level above the lowest that no rule ever leaves"),
    ("rule-measure", "A measure a rule or review uses does not fit it (its kind, period, target or groups)"),
    ("import-depth", "Imports nested more deeply than pmirc follows"),
    ("hidden-character", "Warning: a bidi control or invisible character in a string or comment"),
    ("mixed-script", "Warning: a word in a string mixing letters of different scripts"),
)


@attrs.frozen
class Diagnostic:
    """One problem found in a contract: code, severity, message, where, and a hint."""

    code: str
    message: str
    span: Span | None
    hint: str | None = None
    severity: str = "error"

    def __attrs_post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code!r}")


class CompileError(Exception):
    """A contract that cannot be used; carries every diagnostic found and the sources."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str]):
        self.diagnostics = diagnostics
        self.sources = sources
        super().__init__(f"{len(diagnostics)} error(s) in the contract")


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean ...?' hint for an unknown name, or None when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


#: Codes whose caret points at a printable character that looks like another: shown escaped.
_ESCAPED_UNDER_CARET = {"mixed-script": ascii_escaped, "unexpected-character": ascii_escaped}


def render(diag: Diagnostic, sources: dict[str, str]) -> str:
    """Render a diagnostic as text: header, location, the source line with a caret, the hint."""
    out = [f"{diag.severity}[{diag.code}]: {diag.message}"]
    span = diag.span
    if span is not None:
        out.append(f"  --> {span}")
        lines = sources.get(span.file, "").split("\n")  # as the parser counts lines
        if 1 <= span.line <= len(lines):
            text = lines[span.line - 1].removesuffix("\r").replace("\t", " ")  # CRLF files
            width = span.end_column - span.column if span.end_line == span.line else len(text)
            width = max(1, min(width, len(text) - span.column + 1))
            gutter = " " * len(str(span.line))
            # control characters echoed as escapes (never sent to the terminal), caret moved along;
            # a look-alike letter is escaped too, under its caret
            show = _ESCAPED_UNDER_CARET.get(diag.code, visible)
            start, stop = span.column - 1, span.column - 1 + width
            shown = [visible(text[:start]), show(text[start:stop]), visible(text[stop:])]
            out += [
                f"{gutter} |",
                f"{span.line} | {''.join(shown)}",
                f"{gutter} | {' ' * len(shown[0])}{'^' * len(shown[1])}",
            ]
    if diag.hint:
        out.append(f"  = hint: {diag.hint}")
    return "\n".join(out)


def render_all(diagnostics: list[Diagnostic], sources: dict[str, str]) -> str:
    """Render every diagnostic, blank-line separated, with a closing count."""
    body = "\n\n".join(render(d, sources) for d in diagnostics)
    n = sum(d.severity == "error" for d in diagnostics)
    return f"{body}\n\n{n} error{'s' if n != 1 else ''} found"
