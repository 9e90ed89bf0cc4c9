"""Text from data or source files made safe to print on a terminal.

A value read from a CSV file or a line echoed from a contract may hold control characters: ESC
starting a terminal escape sequence (colours, cursor moves, window titles, hyperlinks), BEL, a
carriage return that overprints what came before, or Unicode bidi overrides that make the text
read differently from what it is. :func:`visible` writes each of them as a Python escape
(``\\x1b``, ``\\u202e``) so that it is seen rather than acted on. Printable text, spaces
included, is left as it is.
"""

from __future__ import annotations

import unicodedata

#: Space separators other than the plain space are printable but easily confused; keep them.
_KEEP_CATEGORIES = ("Zs",)


def visible(text: str) -> str:
    """``text`` with every non-printable character (controls, format characters such as bidi
    overrides and zero-width joiners, line and paragraph separators, surrogates, unassigned
    code points) written as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or unicodedata.category(ch) in _KEEP_CATEGORIES
                   else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def ascii_escaped(text: str) -> str:
    """``text`` with every character outside printable ASCII written as an escape: for values
    that must be told apart from a look-alike (``'Cafe\\u0301'``, ``'N\\u043erth'``)."""
    return "".join(ch if " " <= ch <= "~" else _escape(ch) if ord(ch) >= 0x100
                   else f"\\u{ord(ch):04x}" for ch in text)


def visible_lines(text: str) -> str:
    """:func:`visible` applied line by line, keeping the line breaks of a multi-line message."""
    return "\n".join(visible(line) for line in text.split("\n"))
