"""Declared date formats: ``table referrals dates "DD/MM/YYYY" { ... }`` and
``referral_date: date("D/M/YYYY")`` (docs/language.md section 4, decision 280).

A format is written with the letters people see in Excel's "Format Cells" box: ``YYYY`` (four
digits), ``MM`` / ``DD`` (two digits), ``M`` / ``D`` (one or two digits), ``MMM`` (an English
month abbreviation such as ``Jan``, any letter case), separated by ``/``, ``-``, ``.`` or a space.
The letters may be written in either case (``dd/mm/yyyy``). Two-digit years are refused: ``24``
could be 1924 or 2024.

:func:`compile_format` turns a format into a :class:`DateFormat`: an anchored regular expression
for the shape of a value (so ``DD`` means exactly two digits), with a named group for its day,
and the ``strptime`` format that pyarrow parses it with. A value is a date when it has the shape,
strptime reads it, and the day it reads is the day written (strptime rolls 31/02 on to 02/03).
"""

from __future__ import annotations

import functools
import re

import attrs

#: The format every date is read with unless the contract declares another.
ISO = "YYYY-MM-DD"

#: Each token of a format: (the shape of its text, its strptime directive, what it is).
_TOKENS: dict[str, tuple[str, str, str]] = {
    "YYYY": (r"\d{4}", "%Y", "year"),
    "MMM": (r"[A-Za-z]{3}", "%b", "month"),
    "MM": (r"\d{2}", "%m", "month"),
    "M": (r"\d{1,2}", "%m", "month"),
    "DD": (r"(?P<day>\d{2})", "%d", "day"),
    "D": (r"(?P<day>\d{1,2})", "%d", "day"),
}
_SEPARATORS = "/-. "
_TOKEN = re.compile(r"YYYY|MMM|MM|M|DD|D|YY|Y|[/\-. ]|.", re.IGNORECASE)
#: Tokens of one or two digits: next to another such token nobody can tell where one ends.
_VARIABLE = ("M", "D")


@attrs.frozen
class DateFormat:
    """A declared format, ready to read values with."""

    text: str  # as declared, e.g. "DD/MM/YYYY"
    shape: str  # anchored regex; its group 'day' holds the day's digits
    strptime: str  # e.g. "%d/%m/%Y"
    example: str  # 2024-03-31 written in this format


class FormatError(ValueError):
    """Why a declared format cannot be used (the message completes "the date format ...")."""


def compile_format(text: str) -> DateFormat:
    """The :class:`DateFormat` of ``text``, or :class:`FormatError` saying what is wrong."""
    written = [m.group() for m in _TOKEN.finditer(text)]
    tokens = [t.upper() for t in written]
    if not tokens:
        raise FormatError("is empty")
    for t, w in zip(tokens, written):
        if t in ("YY", "Y"):
            raise FormatError("has a two-digit year: write YYYY (24 could be 1924 or 2024)")
        if t not in _TOKENS and t not in _SEPARATORS:
            raise FormatError(f"has {w!r}, which is not YYYY, MM, M, MMM, DD, D or a separator "
                              "(/ - . or a space): a date format has no time of day")
    parts = [_TOKENS[t][2] for t in tokens if t in _TOKENS]
    for part in ("year", "month", "day"):
        if parts.count(part) != 1:
            raise FormatError(f"needs one {part} ({_WRITTEN[part]}); it has {parts.count(part)}")
    for a, b in zip(tokens, tokens[1:]):
        if a in _TOKENS and b in _TOKENS and (a in _VARIABLE or b in _VARIABLE):
            raise FormatError(f"has {a} next to {b}: put a separator between them, or write "
                              "two-digit MM and DD")
    shape = "".join(_TOKENS[t][0] if t in _TOKENS else re.escape(t) for t in tokens)
    directives = "".join(_TOKENS[t][1] if t in _TOKENS else t for t in tokens)
    example = "".join(_EXAMPLE.get(t, t) for t in tokens)
    return DateFormat(text, f"^{shape}$", directives, example)


@functools.lru_cache(maxsize=64)
def compiled_format(text: str) -> DateFormat:
    """:func:`compile_format`, once per format (the checker has refused a bad one)."""
    return compile_format(text)


_WRITTEN = {"year": "YYYY", "month": "MM, M or MMM", "day": "DD or D"}
_EXAMPLE = {"YYYY": "2024", "MMM": "Mar", "MM": "03", "M": "3", "DD": "31", "D": "31"}
#: A value that looks like a day-first or month-first date (for a hint when none is declared).
SLASHED = r"^\d{1,2}[/.]\d{1,2}[/.]\d{4}$"
