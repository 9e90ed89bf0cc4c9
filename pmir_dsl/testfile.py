"""Parse a ``*.pmirtest`` file (grammar/pmirtest.lark) into rule tests: frozen nodes with spans.

A test file sits beside a contract and says, in words a policy reader can check against the
guidance, what the contract must make of a few records: their verdicts, the figures, regime levels
and fee rows. This module only reads the file; :mod:`pmir_dsl.testing` runs it. A mistake in the
file is a :class:`TestDiagnostic` (file:line:column, the line with a caret, a hint), rendered by
:func:`pmir_dsl.diagnostics.render` like a contract's diagnostics.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path

import attrs
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .diagnostics import Span

#: Diagnostic codes of test files (kept apart from the contract's codes in diagnostics.CODES).
TEST_CODES = {
    "test-syntax": "The test file does not follow grammar/pmirtest.lark",
    "test-table": "A table of records in a test is malformed or names an unknown column",
    "test-name": "A test names a measure, table, basis, regime, remedy or field the contract lacks",
    "test-data": "A value in a test's table is not valid data for its column (as in a CSV file)",
    "test-contract": "The contract a test file tests cannot be found",
}


@attrs.frozen
class TestDiagnostic:
    """A located problem in a test file; renders with :func:`pmir_dsl.diagnostics.render`."""

    code: str
    message: str
    span: Span | None
    hint: str | None = None
    severity: str = "error"

    def __attrs_post_init__(self) -> None:
        if self.code not in TEST_CODES:
            raise ValueError(f"unregistered test diagnostic code {self.code!r}")


class TestFileError(Exception):
    """A test file that cannot be run: its diagnostics and the sources to render them with."""

    def __init__(self, diagnostics: list[TestDiagnostic], sources: dict[str, str]):
        self.diagnostics = diagnostics
        self.sources = sources
        super().__init__(f"{len(diagnostics)} error(s) in the test file")


@attrs.frozen
class Cell:
    """One cell of a table row: its text (None when empty, as an empty CSV cell) and span."""

    text: str | None
    span: Span


@attrs.frozen
class InlineTable:
    """A table of records written as rows: the header cells, then one tuple of cells per row."""

    name: str
    span: Span
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]


@attrs.frozen
class Literal:
    """A value written in an expectation: ``kind`` is text, date, number, percent, money, bool
    or none; ``value`` is str, Decimal (numbers and percents as written), int pence, bool or
    None; ``raw`` is the text as written (shown back in failures)."""

    kind: str
    value: object
    raw: str


@attrs.frozen
class Check:
    """One thing an expectation checks: a verdict word (met, failed, pending, excluded), 'not
    assessed', 'N of M', a field's value, or a list field containing a text."""

    kind: str  # 'word' | 'not_assessed' | 'fraction' | 'field' | 'contains'
    field: str
    value: Literal | None
    span: Span
    second: Literal | None = None  # the denominator of 'N of M'


@attrs.frozen
class Expect:
    """``expect SUBJECT: CHECK, ...``. ``kind`` is record, figure, level or remedy; ``name`` the
    measure, regime or remedy; ``period`` a month or quarter; ``basis`` a figure's basis;
    ``group`` (key, value) pairs; ``record`` ('id', text) or ('row', n) for a record."""

    kind: str
    name: str
    name_span: Span
    period: str | None
    basis: str | None
    basis_span: Span | None
    group: tuple[tuple[str, str], ...]
    group_spans: tuple[Span, ...]
    record: tuple[str, object] | None
    checks: tuple[Check, ...]
    span: Span


@attrs.frozen
class TestCase:
    """One ``test "name" { ... }`` block."""

    name: str
    span: Span
    cite: str | None
    as_of: str | None
    tables: tuple[InlineTable, ...]
    expects: tuple[Expect, ...]


@attrs.frozen
class TestFile:
    """A parsed test file: the contract it tests, tables shared by its tests, and the tests."""

    path: str
    source: str
    contract: str
    contract_span: Span | None
    tables: tuple[InlineTable, ...]
    tests: tuple[TestCase, ...]


@functools.cache
def parser() -> Lark:
    """The Lark parser for test files (built once)."""
    text = resources.files("pmir_dsl.grammar").joinpath("pmirtest.lark").read_text("utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def read_test_file(path: str | Path) -> TestFile:
    """Parse the test file at ``path``; raises :class:`TestFileError` for any mistake in it."""
    file = str(path)
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TestFileError([TestDiagnostic("test-syntax", f"cannot read the test file ({e})",
                                            None)], {}) from None
    return parse_test_file(source, file)


def parse_test_file(source: str, file: str) -> TestFile:
    """Parse ``source`` (named ``file`` in diagnostics) into a :class:`TestFile`."""
    try:
        tree = parser().parse(source)
    except UnexpectedInput as e:
        raise TestFileError([_syntax(e, source, file)], {file: source}) from None
    builder = _Builder(file)
    problems: list[TestDiagnostic] = []
    contract, contract_span = None, None
    tables, tests = [], []
    for item in tree.children:
        try:
            if item.data == "contract_line":
                contract, contract_span = _unquote(item.children[0]), builder.tok(item.children[0])
            elif item.data == "table_block":
                tables.append(builder.table(item))
            else:
                tests.append(builder.test(item))
        except TestFileError as e:
            problems += e.diagnostics
    if problems:
        raise TestFileError(problems, {file: source})
    default = Path(file).with_suffix(".pmir").name
    return TestFile(file, source, contract or default, contract_span, tuple(tables), tuple(tests))


# ---- syntax errors ----------------------------------------------------------------------------

_WORDS = {
    "NAME": "a name", "STRING": 'a quoted "text"', "DATE": "a date (YYYY-MM-DD)",
    "PERIOD": "a month (YYYY-MM) or quarter (YYYY-Qn)", "INT": "a whole number",
    "SIGNED_INT": "a number", "DECIMAL": "a decimal number", "PERCENT": "a percentage",
    "MONEY": "an amount such as £1,250.00", "ROW": "a row of cells (| a | b |)",
    "$END": "the end of the file", "COLON": "':'", "COMMA": "','", "LBRACE": "'{'",
    "RBRACE": "'}'",
}


def _syntax(e: UnexpectedInput, source: str, file: str) -> TestDiagnostic:
    """A located diagnostic for a syntax error, in plain words."""
    interactive = getattr(e, "interactive_parser", None)
    accepts = set(interactive.accepts()) if interactive is not None else set(
        getattr(e, "expected", None) or getattr(e, "allowed", None) or ())
    words = sorted({_word(t) for t in accepts})
    expected = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else \
        (words[0] if words else "nothing more")
    if isinstance(e, UnexpectedCharacters):
        span = Span(file, e.line, e.column, e.line, e.column + 1)
        hint = 'close the text with " on the same line' if e.char == '"' else None
        return TestDiagnostic("test-syntax", f"unexpected character {e.char!r}; expected "
                              f"{expected}", span, hint)
    assert isinstance(e, UnexpectedToken)
    tok = e.token
    if tok.type == "$END":
        lines = source.rstrip().split("\n")
        span = Span(file, len(lines), max(1, len(lines[-1])), len(lines), len(lines[-1]) + 1)
        return TestDiagnostic("test-syntax", f"the file ends too soon; expected {expected}", span,
                              "is a closing '}' missing?" if "RBRACE" in accepts else None)
    hint = "rows of a table are written | a | b |, one per line" if "ROW" in accepts else None
    return TestDiagnostic("test-syntax", f"unexpected '{tok}'; expected {expected}",
                          _span(tok, file), hint)


def _word(terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    for t in parser().terminals:
        if t.name == terminal and t.pattern.type == "str":
            return f"'{t.pattern.value}'"
    return terminal.lower()


# ---- tree -> nodes ----------------------------------------------------------------------------


def _span(tok: Token, file: str) -> Span:
    line, col = tok.line or 1, tok.column or 1
    return Span(file, line, col, tok.end_line or line, tok.end_column or col + len(str(tok)))


def _unquote(tok: Token) -> str:
    return re.sub(r"\\(.)", r"\1", str(tok)[1:-1])


@attrs.frozen
class _Builder:
    """Turns the Lark tree of one file into nodes, with spans in ``file``."""

    file: str

    def tok(self, tok: Token) -> Span:
        return _span(tok, self.file)

    def meta(self, tree: Tree) -> Span:  # type: ignore[type-arg]
        m = tree.meta
        return Span(self.file, m.line, m.column, m.end_line, m.end_column)

    def test(self, tree: Tree) -> TestCase:  # type: ignore[type-arg]
        name, *clauses = tree.children
        cite = as_of = None
        tables, expects = [], []
        for c in clauses:
            if c.data == "cite_clause":
                cite = _unquote(c.children[0])
            elif c.data == "as_of":
                as_of = str(c.children[0])
            elif c.data == "table_block":
                tables.append(self.table(c))
            else:
                expects.append(self.expect(c))
        return TestCase(_unquote(name), self.tok(name), cite, as_of, tuple(tables), tuple(expects))

    def table(self, tree: Tree) -> InlineTable:  # type: ignore[type-arg]
        name, *rows = tree.children
        cells = [split_row(str(r), self.file, r.line, r.column) for r in rows]
        cells = [c for c in cells if not _is_rule(c)]
        if not cells:
            raise TestFileError([TestDiagnostic(
                "test-table", f"table {name} has no header row", self.tok(name),
                "write the column names first: | referral_id | referral_date |")], {})
        header, body = cells[0], cells[1:]
        self._check_widths(str(name), header, body)
        return InlineTable(str(name), self.tok(name), header, tuple(body))

    def _check_widths(self, name: str, header: tuple[Cell, ...],
                      body: list[tuple[Cell, ...]]) -> None:
        bad = [TestDiagnostic("test-table", f"this row of table {name} has {len(row)} cells; the "
                              f"header has {len(header)}", row[-1].span if row else None,
                              "every row needs one cell per column (an empty cell is | |)")
               for row in body if len(row) != len(header)]
        blank = [TestDiagnostic("test-table", "a column with no name in the header", c.span)
                 for c in header if c.text is None]
        if bad or blank:
            raise TestFileError(blank + bad, {})

    def expect(self, tree: Tree) -> Expect:  # type: ignore[type-arg]
        subject, *checks = tree.children
        kind = subject.data.removesuffix("_subject")
        parts = list(subject.children)
        group = parts.pop() if parts and isinstance(parts[-1], Tree) and \
            parts[-1].data == "group" else None
        record = parts.pop(0) if kind == "record" else None
        name = parts[0]
        period = str(parts[1]) if len(parts) > 1 else None
        basis = parts[2] if kind == "figure" else None
        pairs = [(str(p.children[0]), _group_value(p.children[1]), self.meta(p))
                 for p in (group.children if group is not None else [])]
        return Expect(kind, str(name), self.tok(name), period,
                      str(basis) if basis is not None else None,
                      self.tok(basis) if basis is not None else None,
                      tuple((k, v) for k, v, _ in pairs), tuple(s for _, _, s in pairs),
                      self._record(record) if record is not None else None,
                      tuple(self.check(c) for c in checks), self.meta(tree))

    def _record(self, tree: Tree) -> tuple[str, object]:  # type: ignore[type-arg]
        if tree.data == "record_row":
            return "row", int(str(tree.children[0]))
        return "id", str(literal(tree.children[0]).value)

    def check(self, tree: Tree) -> Check:  # type: ignore[type-arg]
        span = self.meta(tree)
        ch = tree.children
        if tree.data == "word_check":
            return Check("word", str(ch[0]), None, span)
        if tree.data == "not_assessed":
            return Check("not_assessed", "met", None, span)
        if tree.data == "fraction_check":
            return Check("fraction", "numerator", Literal("number", Decimal(str(ch[0])),
                                                          str(ch[0])), span, literal(ch[1]))
        if tree.data == "contains_check":
            return Check("contains", str(ch[0]), Literal("text", _unquote(ch[1]), str(ch[1])),
                         span)
        return Check("field", str(ch[0]), literal(ch[1]), span)


def _group_value(tok: Token) -> str:
    return _unquote(tok) if tok.type == "STRING" else str(tok)


def literal(tree: Tree) -> Literal:  # type: ignore[type-arg]
    """The value of a ``value`` subtree."""
    kind = tree.data
    if kind in ("true", "false"):
        return Literal("bool", kind == "true", kind)
    if kind == "none":
        return Literal("none", None, "none")
    tok = tree.children[0]
    raw = str(tok)
    if kind == "text":
        return Literal("text", _unquote(tok) if tok.type == "STRING" else raw, raw)
    if kind == "date":
        return Literal("date", raw, raw)
    if kind == "percent":
        return Literal("percent", Decimal(raw[:-1]), raw)
    if kind == "money":
        pounds = Decimal(raw.replace("£", "").replace(",", ""))
        return Literal("money", int(pounds * 100), raw)
    return Literal("number", Decimal(raw), raw)


# ---- table rows -------------------------------------------------------------------------------

_CELL = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^|]*?)\s*\|')


def split_row(text: str, file: str, line: int, column: int) -> tuple[Cell, ...]:
    """The cells of a ``| a | b |`` row: trimmed; empty is None; a quoted cell as written."""
    cells = []
    pos = 1  # after the opening '|'
    while pos < len(text):
        m = _CELL.match(text, pos)
        if m is None:  # an unclosed quote: the rest of the line is one cell
            rest = text[pos:-1].strip()
            m_start = text.index(rest[:1], pos) if rest else pos
            cells.append(Cell(rest or None, Span(file, line, column + m_start, line,
                                                 column + m_start + max(1, len(rest)))))
            break
        raw = m.group(1)
        start = m.start(1)
        value: str | None = raw
        if raw.startswith('"') and raw.endswith('"') and len(raw) > 1:
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        cells.append(Cell(value or None, Span(file, line, column + start, line,
                                              column + start + max(1, len(raw)))))
        pos = m.end()
    return tuple(cells)


def _is_rule(cells: tuple[Cell, ...]) -> bool:
    """A markdown separator row, | --- | :--- |, which holds no record."""
    return bool(cells) and all(c.text is not None and re.fullmatch(r":?-{3,}:?", c.text)
                               for c in cells)
