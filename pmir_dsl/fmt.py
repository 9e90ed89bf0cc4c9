"""The canonical layout of a ``.pmir`` file: ``pmirc fmt``.

A token-stream formatter: each line is split into tokens (quoted text, comments, brackets and
punctuation, words) and only the whitespace between them is rewritten, so a formatted file has
the same tokens in the same order, comments included, and parses to the same syntax tree. The
layout it gives:

* two spaces of indentation per open ``{``; a line that continues the clause above it (indented
  deeper than that clause, and not beginning with a clause's first word or a column's
  ``name:``) is indented four more;
* one space between words; none before ``,`` ``)`` ``:`` ``?`` or after ``(``; one after ``,``;
* padding of two or more spaces is kept before a trailing comment (at least two), before a
  description text that ends the line and after a quoted label (so aligned columns stay
  aligned);
* no trailing spaces or tabs; at most one blank line in a row, none just inside a ``{ }``
  block and none at the start of the file; one newline at the end.

Only a file that parses is formatted (a broken one gets its diagnostics): the layout of text
that is not yet pmir is the author's.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#.*|[{}(),:?]|[^\s{}(),:?"#]+|"')
_NO_SPACE_BEFORE = {",", ")", ":", "?"}
INDENT = 2
CONTINUATION = 4
#: Words that begin a clause or declaration: a line beginning with one never continues the
#: line above, however deeply it is indented.
CLAUSE_WORDS = frozenset("""
    import contract table bands measure regime remedy review cite guidance service calendar add
    remove extract group population month each quarter met count ratio target bases basis
    expected share minimum due rank lateness level escalate return allocate fee defer release
    forfeit measures reviewed net notice cancel action assurance reviews ratings reasons
""".split())


def _tokens(line: str) -> list[tuple[int, str]]:
    """(start column, text) of each token of one line."""
    return [(m.start(), m.group()) for m in _TOKEN.finditer(line)]


def _join(tokens: list[tuple[int, str]], line: str) -> str:
    """The tokens of a line with canonical spaces between them."""
    out = tokens[0][1]
    for (start, text), (prev_start, prev) in zip(tokens[1:], tokens):
        gap = start - (prev_start + len(prev))
        out += " " * _gap(prev, text, gap, tokens[-1][1] == text or _ends_before_comment(
            tokens, start)) + text
    return out


def _ends_before_comment(tokens: list[tuple[int, str]], start: int) -> bool:
    """Whether the token at ``start`` is the last before a trailing comment."""
    rest = [t for s, t in tokens if s > start]
    return len(rest) == 1 and rest[0].startswith("#")


def _gap(prev: str, text: str, gap: int, last: bool) -> int:
    """Spaces between two tokens written ``gap`` spaces apart."""
    if text.startswith("#"):
        return max(2, gap)
    if text.startswith('"') and last and gap >= 2:
        return gap  # a column's description, aligned with its neighbours
    if prev.startswith('"') and gap >= 2:
        return gap  # after a band's label, aligned with the labels above and below
    if text in _NO_SPACE_BEFORE or prev == "(":
        return 0
    if prev == ",":
        return 1
    if text == "(":
        return 0 if gap == 0 else 1
    return 0 if gap == 0 and prev not in _NO_SPACE_BEFORE else 1


def format_source(source: str) -> str:
    """``source`` in the canonical layout (it must be a file that parses)."""
    out: list[str] = []
    depth = 0
    base_orig = 0  # original indentation of the last line that began a clause, in this block
    opened = True  # the previous code line opened a block (its next line begins a clause)
    for raw in source.split("\n"):
        line = raw.rstrip()  # a tab inside quoted text or a comment is kept as it is
        tokens = _tokens(line)
        if not tokens:
            if out and out[-1] != "" and not out[-1].endswith("{"):
                out.append("")
            continue
        indent_orig = len(line[:tokens[0][0]].expandtabs(4))
        text = tokens[0][1]
        closes = text == "}"
        level = depth - 1 if closes else depth
        if closes and out and out[-1] == "":
            out.pop()  # no blank line just before a closing brace
        comment_only = text.startswith("#")
        starts = text in CLAUSE_WORDS or (len(tokens) > 1 and tokens[1][1] == ":")
        continues = not (opened or closes or comment_only or starts) and indent_orig > base_orig
        if not continues and not comment_only:
            base_orig = indent_orig
        pad = INDENT * max(level, 0) + (CONTINUATION if continues else 0)
        out.append(" " * pad + _join(tokens, line))
        opens = sum(t == "{" for _, t in tokens) - sum(t == "}" for _, t in tokens)
        depth = max(0, depth + opens)
        if not comment_only:
            opened = tokens[-1][1] == "{" or (len(tokens) > 1 and tokens[-1][1].startswith("#")
                                              and tokens[-2][1] == "{")
            if opens:
                base_orig = INDENT * depth if opens > 0 else base_orig
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def format_file(path: str) -> tuple[str, str, list]:  # type: ignore[type-arg]
    """(the source, its canonical layout, diagnostics): the layout is the source unchanged when
    the file does not parse, and the diagnostics say why."""
    from .parse import parse

    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    module, diagnostics = parse(source, path)
    if module is None:
        return source, source, diagnostics
    return source, format_source(source), []
