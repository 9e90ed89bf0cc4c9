"""Text in a contract that may not be what it looks like (issue 13): located warnings.

A contract is read by people who approve it, so its text must read as it is. Two things can
make it read otherwise, and pmirc warns of each at its line and column, the source line shown
with the character escaped (``\\u202e``) and a caret under it:

* ``hidden-character``: a bidi control (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C)
  or another invisible format character (a zero-width space, a byte order mark inside the text,
  a soft hyphen: Unicode category Cf) in a quoted string or a comment. A bidi override can make
  a line show its words in another order than the parser reads them ("Trojan Source"); a
  zero-width space makes ``"North"`` a different value from the ``North`` in the data.
* ``mixed-script``: a word in a quoted string whose letters come from more than one script, such
  as ``"Nоrth"`` with a Cyrillic ``о``: it looks like the Latin word and matches none of its
  values. A word of one script only (Welsh, Greek, Cyrillic text) is not warned of.

Names, keywords and numbers are ASCII in the grammar, so such a character outside a string or
comment is already an ``unexpected-character`` error. Warnings do not stop the contract.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from .diagnostics import Diagnostic, Span
from .visible import ascii_escaped

_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
_WORD = re.compile(r"[^\W\d_]+")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def scan(source: str, file: str) -> list[Diagnostic]:
    """The warnings of ``source`` (named ``file``), in file order."""
    if source.isascii():  # the usual case, found fast
        return []
    out: list[Diagnostic] = []
    for m in _STRING_OR_COMMENT.finditer(source):
        text, where = m.group(), "a comment" if m.group().startswith("#") else "a string"
        for offset, ch in _hidden(text):
            out.append(_hidden_warning(ch, where, _span(source, file, m.start() + offset)))
        if where == "a string":
            for offset, word, ch in _mixed(text):
                out.append(_mixed_warning(word, ch, _span(source, file, m.start() + offset)))
    return sorted(out, key=lambda d: (d.span.line, d.span.column) if d.span else (0, 0))


def _hidden(text: str) -> Iterator[tuple[int, str]]:
    """(offset, character) of each invisible format character of ``text``."""
    for i, ch in enumerate(text):
        if not ch.isascii() and unicodedata.category(ch) == "Cf":
            yield i, ch


def _mixed(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset, word, character) of the first letter of each word of ``text`` whose script is
    not the script of most of the word's letters."""
    for w in _WORD.finditer(text):
        scripts = [_script(ch) for ch in w.group()]
        if len(set(scripts)) < 2:
            continue
        usual = max(set(scripts), key=lambda s: (scripts.count(s), s == "LATIN"))
        i = next(i for i, s in enumerate(scripts) if s != usual)
        yield w.start() + i, w.group(), w.group()[i]


def _script(ch: str) -> str:
    """The script of a letter, as the first word of its Unicode name (LATIN, CYRILLIC, ...)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def _span(source: str, file: str, index: int) -> Span:
    """The one-character span at ``index`` of ``source`` (lines and columns from 1)."""
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return Span(file, line, column, line, column + 1)


def _hidden_warning(ch: str, where: str, span: Span) -> Diagnostic:
    name = unicodedata.name(ch, "a format character")
    if ch in _BIDI:
        message = (f"a bidi control U+{ord(ch):04X} ({name}) in {where}: the line may show its "
                   "text in another order than pmirc reads it")
    else:
        message = (f"an invisible character U+{ord(ch):04X} ({name}) in {where}: the text is "
                   "not what it looks like")
    return Diagnostic("hidden-character", message, span, "delete it (retype the text around it)",
                      severity="warning")


def _mixed_warning(word: str, ch: str, span: Span) -> Diagnostic:
    scripts = sorted({_script(c) for c in word}, key=lambda s: (s != "LATIN", s))
    message = (f"the word '{ascii_escaped(word)}' mixes {' and '.join(s.title() for s in scripts)} "
               f"letters: U+{ord(ch):04X} ({unicodedata.name(ch, '?')}) looks like another "
               "letter")
    return Diagnostic("mixed-script", message, span, "retype the word in one alphabet",
                      severity="warning")
