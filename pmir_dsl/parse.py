"""Parse ``.pmir`` source text into the syntax tree of :mod:`pmir_dsl.ast`.

The grammar (``grammar/pmir.lark``, shipped in the wheel as ``pmir_dsl.grammar``) is parsed with
Lark's LALR parser and positions propagated to every node. A syntax error becomes a located
:class:`~pmir_dsl.diagnostics.Diagnostic` saying what was found and what was expected; to report
every broken declaration rather than only the first, a failed file is parsed again one top-level
declaration at a time, with the rest of the file blanked so that line and column stay true.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from fractions import Fraction
from importlib import resources

import attrs
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr

from . import ast
from .diagnostics import Diagnostic, Span, did_you_mean
from .visible import ascii_escaped

#: Human words for the grammar's named terminals, used in "expected ..." messages.
TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted "text"',
    "DATE": "a date (YYYY-MM-DD)",
    "INT": "a whole number",
    "PERCENT": "a percentage such as 96%",
    "DECIMAL": "a decimal number",
    "ORDINAL": "a day of the month such as 15th",
    "DAY_UNIT": "'working days' or 'calendar days'",
    "MONTH_UNIT": "'calendar months'",
    "ROLL": "'or the next working day'",
    "COMPARE": "a comparison (<, <=, =, !=, >=, >)",
    "NULLABLE": "'?' (the column may be empty)",
    "PASSES": "'passes'",
    "$END": "the end of the file",
}

#: What an unexpected token is called in "unexpected ..." messages, by terminal.
TOKEN_NOUNS = {
    "NAME": "word",
    "STRING": "text",
    "DATE": "date",
    "INT": "number",
    "PERCENT": "percentage",
    "DECIMAL": "number",
    "ORDINAL": "day of the month",
}

#: Blocks whose opening text leaves the parser expecting any of their clause keywords; when all
#: of them are expected they are said as one phrase, e.g. "a measure clause ('population', ...)".
CLAUSE_GROUPS = (
    ("a declaration", ""),
    ("a contract clause", 'contract "c" {'),
    ("a measure clause", 'measure M "m" {'),
)

#: Clause keywords shown with the word that must follow them.
KEYWORD_PHRASES = {
    "SERVICE": "service start", "ADD": "add holiday", "REMOVE": "remove holiday",
    "EXTRACT": "extract date", "MONTH": "month of", "QUARTER": "quarter of", "MET": "met when",
    "RATIO": "ratio", "LATENESS": "lateness buckets", "GROUP": "group by", "MINIMUM": "minimum denominator",
    "SHARE": "share in backlog", "EACH": "each month from", "DUE": "due when",
    "QUANTIFIER": "'any of' or 'all of'",
}

#: Hints for characters that no token can start with, by character.
CHARACTER_HINTS = {
    ";": "no ';' is needed: each clause ends at the end of its line",
    "/": "comments start with '#', not '//'",
    "'": 'text is written in double quotes, "like this"',
    "[": "lists are written in round brackets: (a, b, c)",
    "]": "lists are written in round brackets: (a, b, c)",
    "\u201c": 'use straight double quotes "like this" (a word processor may have curled them)',
    "\u201d": 'use straight double quotes "like this" (a word processor may have curled them)',
}

#: Lines that begin a top-level declaration (used to recover after a syntax error).
TOP_LEVEL = re.compile(r"^(import|contract|table|bands|measure|regime|remedy|review|assurance)\b",
                       re.MULTILINE)


@functools.cache
def parser() -> Lark:
    """The Lark parser for the language (built once per process; Lark caches the built LALR
    tables in the temporary folder, keyed by the grammar's hash, so a cold start loads them
    instead of building them: about 0.6 s saved on every ``pmirc`` run)."""
    text = resources.files("pmir_dsl.grammar").joinpath("pmir.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False,
                cache=True)


def parse(source: str, file: str) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse ``source`` (named ``file`` in diagnostics): the module, or None and diagnostics."""
    try:
        tree = parser().parse(source)
    except UnexpectedInput as first:
        return None, _long_numbers(source, file) or _all_syntax_errors(source, file, first)
    try:
        items = _ToAst(file).transform(tree).children
    except VisitError as e:  # a transformer bug, not the user's: re-raise the original
        if isinstance(e.orig_exc, RecursionError):
            return None, [too_deep({file: source})]
        raise e.orig_exc from None
    except RecursionError:
        return None, [too_deep({file: source})]
    return ast.Module(file, tuple(items)), []


#: A number of more digits than the grammar's numbers take, outside strings and comments.
_LONG_NUMBER = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|(?<![\w.])(\d{19,})')


def _long_numbers(source: str, file: str) -> list[Diagnostic]:
    """A diagnostic at the start of each number of 19 digits or more: the lexer would split it
    into pieces and report the second piece, in the middle of the number."""
    if not re.search(r"\d{19}", source):  # the usual case, found fast
        return []
    out = []
    for m in _LONG_NUMBER.finditer(source):
        if m.group(1) is None:
            continue
        line = source.count("\n", 0, m.start(1)) + 1
        col = m.start(1) - (source.rfind("\n", 0, m.start(1)) + 1) + 1
        n = len(m.group(1))
        out.append(Diagnostic("bad-amount", f"a number of {n:,} digits; numbers have at most 18",
                              Span(file, line, col, line, col + n),
                              "write it with at most 18 digits"))
    return out


def too_deep(sources: dict[str, str]) -> Diagnostic:
    """The diagnostic for conditions nested past what pmirc follows (a few hundred levels), at
    the start of the most deeply nested condition of the files read."""
    depth, index, file = max(((*_deepest(text), name) for name, text in sources.items()),
                             default=(0, 0, ""))
    text = sources.get(file, "")
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return Diagnostic("syntax", f"conditions are nested too deeply to follow ({depth:,} brackets "
                      "or 'not's inside each other from here)",
                      Span(file, line, column, line, column + 1),
                      "write the condition with fewer levels of brackets")


_NESTING = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[()]|\bnot\b|[^\s()"#]+')


def _deepest(text: str) -> tuple[int, int]:
    """(depth, index where it starts) of the most deeply nested condition of ``text``: brackets
    open, plus the 'not's in a row (each applies to all that follows it)."""
    best, brackets, nots, start = (0, 0), 0, 0, 0
    for m in _NESTING.finditer(text):
        token = m.group()
        if brackets + nots == 0:
            start = m.start()
        if token == "(":
            brackets += 1
        elif token == ")":
            brackets, nots = max(0, brackets - 1), 0
        elif token == "not":
            nots += 1
        elif token[0] not in "\"#":
            nots = 0
        best = max(best, (brackets + nots, -start))
    return best[0], -best[1]


# ---- syntax errors ----------------------------------------------------------------------------


def _all_syntax_errors(source: str, file: str, first: UnexpectedInput) -> list[Diagnostic]:
    """The first syntax error of each top-level declaration (at least the first overall)."""
    starts = [m.start() for m in TOP_LEVEL.finditer(source)]
    if len(starts) < 2:
        return [_syntax_diagnostic(first, source, file, len(source))]
    found: list[Diagnostic] = []
    line = 0  # newlines before the chunk: a chunk starts a line, so columns need no padding
    bounds = list(zip([0, *starts[1:]], [*starts[1:], len(source)]))
    # the first chunk also holds anything written before the first declaration
    for i, (begin, end) in enumerate(bounds):
        if i:
            line += source.count("\n", bounds[i - 1][0], begin)
        try:
            parser().parse("\n" * line + source[begin:end])
        except UnexpectedInput as e:
            found.append(_syntax_diagnostic(e, source, file, end))
    return found or [_syntax_diagnostic(first, source, file, len(source))]


def _syntax_diagnostic(e: UnexpectedInput, source: str, file: str, chunk_end: int) -> Diagnostic:
    """Turn a Lark exception into a diagnostic with a plain-words 'expected' list and hint."""
    expected = _expected(e)
    if isinstance(e, UnexpectedCharacters):
        return _bad_character(e, source, file, expected)
    assert isinstance(e, UnexpectedToken)
    words = _join_or(_expected_words(expected))
    token = e.token
    if token.type == "$END":
        return _early_end(source, file, chunk_end, expected, words)
    return Diagnostic("syntax", f"unexpected {_describe_token(token)}; expected {words}",
                      _token_span(token, file), _token_hint(token, source, expected))


def _expected(e: UnexpectedInput) -> set[str]:
    """The terminals the parser would accept where it stopped (exactly, asking the parser)."""
    interactive = getattr(e, "interactive_parser", None)
    if interactive is not None:
        return set(interactive.accepts())
    return set(getattr(e, "expected", None) or getattr(e, "allowed", None) or ())


def _expected_words(terminals: set[str]) -> list[str]:
    """Plain words for expected terminals; a whole group of clause keywords said as one phrase."""
    rest = set(terminals)
    phrases = []
    for name, members in _clause_groups():
        if rest.issuperset(members):
            listing = _join_or([f"'{_phrase(t)}'" for t in members], limit=None)
            phrases.append(f"{name} ({listing})")
            rest -= set(members)
    return phrases + sorted({_word(t) for t in rest})


@functools.cache
def _clause_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(phrase, keyword terminals in grammar order) for each of :data:`CLAUSE_GROUPS`."""
    order = {t.name: i for i, t in enumerate(parser().terminals)}
    groups = []
    for name, opening in CLAUSE_GROUPS:
        interactive = parser().parse_interactive(opening)
        interactive.exhaust_lexer()
        keywords = set(interactive.accepts()) - {"RBRACE", "$END"}
        # the clauses that say what the block is come before 'bands', 'cite' and 'guidance'
        key = (lambda t: (t in ("BANDS", "CITE", "GUIDANCE"), order[t]))
        groups.append((name, tuple(sorted(keywords, key=key))))
    return tuple(groups)


def _phrase(terminal: str) -> str:
    return KEYWORD_PHRASES.get(terminal) or _terminal_patterns().get(terminal, terminal.lower())


def _early_end(source: str, file: str, chunk_end: int, expected: set[str],
               words: str) -> Diagnostic:
    """A declaration cut short: by the end of the file, or by the start of the next one."""
    span = _end_span(source, file, chunk_end)
    hint = "is a closing '}' missing after this line?" if "RBRACE" in expected else None
    nxt = TOP_LEVEL.match(source, chunk_end)
    if nxt is None:
        return Diagnostic("syntax", f"the file ends too soon; expected {words}", span, hint)
    line = source.count("\n", 0, chunk_end) + 1
    return Diagnostic("syntax", f"this declaration is not finished when the next one ('{nxt[1]}' "
                      f"on line {line}) begins; expected {words}", span, hint)


def _token_hint(token: Token, source: str, expected: set[str]) -> str | None:
    """A hint for an unexpected token: a misspelt keyword, a missing ',' or a missing '}'."""
    if token.type == "NAME":
        keywords = [p for t in expected if (p := _terminal_patterns().get(t, "")).isidentifier()]
        close = did_you_mean(str(token), keywords)
        if close:
            return close
    lines = source.split("\n")
    before = lines[token.line - 1][:token.column - 1] if token.line <= len(lines) else ""
    # a column's ':' stays the likely fix beside a table's 'LATER not before EARLIER'
    punct = next((p for p in ("COMMA", "COLON") if p in expected), None)
    if before.strip() and (punct or len(expected) == 1):
        missing = punct or next(iter(expected))
        literal = _terminal_patterns().get(missing)
        if literal is not None:
            what = "the word" if literal.isidentifier() else "a"
            return f"is {what} '{literal}' missing before '{token}'?"
    if "RBRACE" in expected and TOP_LEVEL.match(str(token)) and not before.strip():
        return "is a closing '}' missing before this line?"
    return None


def _bad_character(e: UnexpectedCharacters, source: str, file: str,
                   expected: set[str]) -> Diagnostic:
    lines = source.split("\n")
    line_text = lines[e.line - 1] if e.line <= len(lines) else ""
    span = Span(file, e.line, e.column, e.line, e.column + 1)
    if e.char == '"':
        end = len(line_text) + 1
        return Diagnostic("unterminated-string",
                          'this text has no closing " before the end of the line',
                          Span(file, e.line, e.column, e.line, end),
                          'close it with a matching " on the same line')
    words = _join_or(_expected_words(expected)) if expected else "a declaration"
    shown = f"'{ascii_escaped(e.char)}'" if unicodedata.category(e.char).startswith("L") \
        else repr(e.char)  # a look-alike letter is named by its code point
    return Diagnostic("unexpected-character", f"unexpected character {shown}; expected {words}",
                      span, _character_hint(e.char))


def _character_hint(ch: str) -> str | None:
    """The hint for an unexpected character: a known slip, an invisible character (a second
    byte order mark), or a letter outside ASCII that looks like one of a name's letters."""
    if ch in CHARACTER_HINTS:
        return CHARACTER_HINTS[ch]
    name = unicodedata.name(ch, "")
    if ch == "\ufeff":
        return ("a byte order mark (U+FEFF) inside the file: it was saved as UTF-8 twice, or "
                "pasted with one; delete it")
    if unicodedata.category(ch) == "Cf":
        return f"an invisible character U+{ord(ch):04X} ({name}): delete it"
    if unicodedata.category(ch).startswith("L") and not ch.isascii():
        return (f"U+{ord(ch):04X} ({name}) is not a letter a name may have: names are ASCII "
                "letters, digits and '_' (a look-alike letter may have been pasted)")
    return None


@functools.cache
def _terminal_patterns() -> dict[str, str]:
    return {t.name: t.pattern.value for t in parser().terminals if isinstance(t.pattern, PatternStr)}


def _word(terminal: str) -> str:
    if terminal in TERMINAL_WORDS:
        return TERMINAL_WORDS[terminal]
    literal = _terminal_patterns().get(terminal)
    return f"'{literal}'" if literal is not None else terminal.lower()


def _join_or(words: list[str], limit: int | None = 12) -> str:
    if not words:
        return "nothing more here"
    if limit is not None and len(words) > limit:
        words = words[:limit] + ["..."]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe_token(token: Token) -> str:
    noun = TOKEN_NOUNS.get(token.type)
    if noun is None:
        return f"'{token}'"
    return f"{noun} {token}" if token.type == "STRING" else f"{noun} '{token}'"


def _token_span(token: Token, file: str) -> Span:
    line, col = token.line or 1, token.column or 1
    end_line = token.end_line or line
    end_col = token.end_column or col + max(1, len(str(token)))
    return Span(file, line, col, end_line, end_col)


def _end_span(source: str, file: str, end: int) -> Span:
    """A span on the last visible character before ``end`` (where a '}' would have gone)."""
    text = source[:end].rstrip()
    start = text.rfind("\n") + 1  # a comment can only end the last line: strip it there
    hash_at = text.find("#", start)
    text = text[:hash_at].rstrip() if hash_at >= 0 else text
    line = text.count("\n") + 1
    col = len(text) - (text.rfind("\n") + 1)
    return Span(file, line, max(col, 1), line, max(col, 1) + 1)


# ---- tree -> AST --------------------------------------------------------------------------------


def _span_of(meta: object, file: str) -> Span | None:
    if getattr(meta, "empty", True):
        return None
    m = meta
    return Span(file, m.line, m.column, m.end_line, m.end_column)  # type: ignore[attr-defined]


def _unquote(token: Token) -> str:
    return re.sub(r"\\(.)", r"\1", str(token)[1:-1])


@v_args(meta=True)
class _ToAst(Transformer):  # type: ignore[type-arg]
    """Build AST nodes from the Lark tree; every node gets the span of its rule."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _s(self, meta: object) -> Span | None:
        return _span_of(meta, self.file)

    def _tok(self, token: Token) -> Span:
        return _token_span(token, self.file)

    def _name(self, token: Token) -> ast.Name:
        return ast.Name(str(token), self._tok(token))

    def _text(self, token: Token) -> ast.Text:
        return ast.Text(_unquote(token), self._tok(token))

    def _date(self, token: Token) -> ast.DateLit:
        return ast.DateLit(str(token), self._tok(token))

    # -- shared pieces
    def name_list(self, meta, ch):  # type: ignore[no-untyped-def]
        return tuple(self._name(t) for t in ch)

    def dotted_name(self, meta, ch):  # type: ignore[no-untyped-def]
        return ".".join(str(t) for t in ch)

    def percent(self, meta, ch):  # type: ignore[no-untyped-def]
        (t,) = ch
        return ast.Amount("percent", Fraction(str(t)[:-1]) / 100, str(t), self._tok(t))

    def count(self, meta, ch):  # type: ignore[no-untyped-def]
        (t,) = ch
        return ast.Amount("count", Fraction(int(t)), str(t), self._tok(t))

    def decimal(self, meta, ch):  # type: ignore[no-untyped-def]
        (t,) = ch
        return ast.Amount("decimal", Fraction(str(t)), str(t), self._tok(t))

    # -- declarations
    def start(self, meta, ch):  # type: ignore[no-untyped-def]
        return _Items(ch)

    def import_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        (x,) = ch
        if isinstance(x, Token):
            return ast.Import(_unquote(x), True, self._s(meta))
        return ast.Import(x, False, self._s(meta))

    def contract_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ContractDecl(self._text(ch[0]), tuple(ch[1:]), self._s(meta))

    def cite_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Cite(self._text(ch[0]), self._s(meta))

    def assume_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Assume(self._text(ch[0]), self._s(meta))

    def service_start(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ServiceStart(self._date(ch[0]), self._s(meta))

    def calendar_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.CalendarClause(self._name(ch[0]), self._s(meta))

    def _holiday(self, meta, ch, add):  # type: ignore[no-untyped-def]
        label = self._text(ch[1]) if len(ch) > 1 else None
        return ast.HolidayChange(self._date(ch[0]), add, label, self._s(meta))

    def holiday_add(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._holiday(meta, ch, True)

    def holiday_remove(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._holiday(meta, ch, False)

    def extract_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ExtractDate(self._date(ch[0]), self._s(meta))

    def group_level(self, meta, ch):  # type: ignore[no-untyped-def]
        return tuple(self._name(t) for t in ch)

    def group_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.GroupBy(tuple(ch), self._s(meta))

    def group_none(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.GroupBy((), self._s(meta))

    def bases_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Bases(ch[0], self._s(meta))

    def average_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        unit, start, end = ch
        return ast.Average(str(unit).startswith("working"), self._name(start), self._name(end),
                           self._s(meta))

    def average_count(self, meta, ch):  # type: ignore[no-untyped-def]
        table, date = ch
        return ast.AverageCount(self._name(table), self._name(date), self._s(meta))

    def mature_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Mature(int(ch[0]), self._s(meta))

    def information_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.InformationBases(ch[0], self._s(meta))

    def table_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        has_desc = len(ch) > 1 and isinstance(ch[1], Token) and ch[1].type == "STRING"
        desc = self._text(ch[1]) if has_desc else None
        rest = ch[2:] if has_desc else ch[1:]
        dates = rest.pop(0).text if rest and isinstance(rest[0], _TableDates) else None
        return ast.TableDecl(self._name(ch[0]), desc, tuple(rest), self._s(meta), dates)

    def table_dates(self, meta, ch):  # type: ignore[no-untyped-def]
        return _TableDates(self._text(ch[0]))

    def formatted_type(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.TypeRef(self._name(ch[0]), (), None, self._s(meta), self._text(ch[1]))

    def simple_type(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.TypeRef(self._name(ch[0]), (), None, self._s(meta))

    def category_type(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.TypeRef(ast.Name("category", self._s(meta)), ch[0], None, self._s(meta))

    def ref_type(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.TypeRef(ast.Name("ref", self._s(meta)), (), self._name(ch[0]), self._s(meta))

    def order_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.OrderDecl(self._name(ch[0]), self._name(ch[1]), self._s(meta))

    def column_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        name, typ, *rest = ch
        nullable = any(isinstance(t, Token) and t.type == "NULLABLE" for t in rest)
        desc = next((self._text(t) for t in rest if isinstance(t, Token) and t.type == "STRING"),
                    None)
        return ast.ColumnDecl(self._name(name), typ, nullable, desc, self._s(meta))

    # -- bands
    def bands_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        name, *rest = ch
        params = rest.pop(0) if rest and isinstance(rest[0], tuple) else ()
        mode, *lines = rest
        return ast.BandsDecl(self._name(name), params, mode, tuple(lines), self._s(meta))

    def band_params(self, meta, ch):  # type: ignore[no-untyped-def]
        return ch[0]

    def reporting_only(self, meta, ch):  # type: ignore[no-untyped-def]
        return False

    def deciding(self, meta, ch):  # type: ignore[no-untyped-def]
        return True

    def param_ref(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._name(ch[0])

    def band_from(self, meta, ch):  # type: ignore[no-untyped-def]
        passes = len(ch) > 2
        return ast.BandLine(self._text(ch[0]), ch[1], passes, self._s(meta))

    def band_otherwise(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.BandLine(self._text(ch[0]), None, len(ch) > 1, self._s(meta))

    # -- measures
    def measure_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.MeasureDecl(self._name(ch[0]), self._text(ch[1]), tuple(ch[2:]), self._s(meta))

    def population_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        where = ch[1] if len(ch) > 1 else None
        return ast.Population(self._name(ch[0]), where, self._s(meta))

    def month_of(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.PeriodOf("month", self._name(ch[0]), None, self._s(meta))

    def each_month(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.PeriodOf("month", self._name(ch[0]), self._name(ch[1]), self._s(meta))

    def quarter_of(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.PeriodOf("quarter", self._name(ch[0]), None, self._s(meta))

    def met_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.MetWhen(ch[0], self._s(meta))

    def count_when(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.CountWhen(ch[0], self._s(meta))

    def count_records(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.CountRecords(self._s(meta))

    def expected_direct(self, meta, ch):  # type: ignore[no-untyped-def]
        where = ch[2] if len(ch) > 2 else None
        return ast.ExpectedDirect(self._name(ch[0]), self._name(ch[1]), where, self._s(meta))

    def gap_window(self, meta, ch):  # type: ignore[no-untyped-def]
        log, days, unit, start, until = ch
        kind = "working" if str(unit).startswith("working") else "calendar"
        return ast.GapWindow(self._name(log), int(days), kind, self._name(start),
                             self._name(until), self._s(meta))

    def expected_cohort(self, meta, ch):  # type: ignore[no-untyped-def]
        where = ch[3] if len(ch) > 3 else None
        return ast.ExpectedCohort(self._name(ch[0]), self._name(ch[1]), self._name(ch[2]), where,
                                  self._s(meta))

    def expected_cohort_monthly(self, meta, ch):  # type: ignore[no-untyped-def]
        return attrs.evolve(self.expected_cohort(meta, ch), monthly=True)

    def backlog_share(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Backlog(True, self._name(ch[0]), None, True, self._s(meta))

    def backlog_count(self, meta, ch):  # type: ignore[no-untyped-def]
        days = int(ch[1]) if len(ch) > 1 else None
        working = len(ch) < 3 or str(ch[2]).startswith("working")
        return ast.Backlog(False, self._name(ch[0]), days, working, self._s(meta))

    def backlog_breach(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Backlog(False, self._name(ch[0]), int(ch[1]), str(ch[2]).startswith("working"),
                           self._s(meta), breach=True)

    def due_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        event, days, unit, anchor = ch
        kind = "working" if str(unit).startswith("working") else "calendar"
        return ast.DueWhen(self._name(event), int(days), kind, self._name(anchor), self._s(meta))

    def min_denominator(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.MinDenominator(int(ch[0]), self._s(meta))

    def ratio_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Ratio(self._name(ch[0]), self._name(ch[1]), self._s(meta))

    def count_ratio_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.CountRatio(self._name(ch[0]), self._name(ch[1]), self._s(meta))

    def target_lookup(self, meta, ch):  # type: ignore[no-untyped-def]
        value, table, keys, date = ch
        return ast.TargetLookup(self._name(value), self._name(table), tuple(keys),
                                self._name(date), self._s(meta))

    def target_none(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Target("none", None, False, self._s(meta))

    def rank_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        within = self._name(ch[1]) if len(ch) > 1 else None
        return ast.Rank(str(ch[0]) == "highest", self._s(meta), within)

    def buckets_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        *bounds, unit = ch
        return ast.Buckets(tuple(int(b) for b in bounds), str(unit).startswith("working"),
                           self._s(meta), unit.type == "MONTH_UNIT")

    def target_at_least(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Target("at_least", ch[0], False, self._s(meta))

    def target_at_most(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Target("at_most", ch[0], False, self._s(meta))

    def target_of_expected(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Target("at_least", ch[0], True, self._s(meta))

    def target_below(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Target("below", ch[0], False, self._s(meta))

    def target_above(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Target("above", ch[0], False, self._s(meta))

    def bands_use(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.BandsUse(self._name(ch[0]), tuple(ch[1:]), self._s(meta))

    # -- conditions
    def any_of(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Any(tuple(ch), self._s(meta))

    def all_of(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.All(tuple(ch), self._s(meta))

    def negation(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Not(ch[0], self._s(meta))

    def flag(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Flag(self._name(ch[0]), self._s(meta))

    def is_present(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Presence(self._name(ch[0]), True, self._s(meta))

    def is_missing(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Presence(self._name(ch[0]), False, self._s(meta))

    def _is(self, meta, column, values, negate):  # type: ignore[no-untyped-def]
        names = tuple(ast.Name(_unquote(v), self._tok(v)) if v.type == "STRING" else
                      self._name(v) for v in values)
        return ast.IsValue(self._name(column), names, negate, self._s(meta))

    def is_value(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._is(meta, ch[0], [ch[1]], False)

    def is_not_value(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._is(meta, ch[0], [ch[1]], True)

    def is_one_of(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._is(meta, ch[0], ch[1], False)

    def is_not_one_of(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._is(meta, ch[0], ch[1], True)

    def value_list(self, meta, ch):  # type: ignore[no-untyped-def]
        return list(ch)

    def column_ref(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Operand("column", str(ch[0]), self._tok(ch[0]))

    def int_literal(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Operand("int", str(ch[0]), self._tok(ch[0]))

    def date_literal(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Operand("date", str(ch[0]), self._tok(ch[0]))

    def compare(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Compare(str(ch[1]), ch[0], ch[2], self._s(meta))

    def within(self, meta, ch):  # type: ignore[no-untyped-def]
        event, days, unit, anchor = ch
        kind = "working" if str(unit).startswith("working") else \
            "months" if unit.type == "MONTH_UNIT" else "calendar"
        return ast.Within(self._name(event), days, kind, self._name(anchor), self._s(meta))

    def same_day(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Within(self._name(ch[0]), 0, "working", self._name(ch[1]), self._s(meta))

    def by_deadline(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ByDeadline(self._name(ch[0]), ch[1], self._s(meta))

    def deadline(self, meta, ch):  # type: ignore[no-untyped-def]
        day = int(re.match(r"\d+", str(ch[0])).group())  # type: ignore[union-attr]
        return ast.Deadline(day, self._name(ch[1]), len(ch) > 2, self._s(meta))

    def days_fixed(self, meta, ch):  # type: ignore[no-untyped-def]
        return int(ch[0])

    def days_by(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.DaysBy(self._name(ch[0]), tuple(ch[1:]), self._s(meta))

    def day_case(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.DayCase(self._name(ch[0]), int(ch[1]), self._s(meta))

    def day_otherwise(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.DayCase(None, int(ch[0]), self._s(meta))

    # -- regimes and remedies
    def _atom(self, meta, ch, kind, k, n):  # type: ignore[no-untyped-def]
        quantifier = str(ch[0]).split()[0]
        basis = ch[-1] if isinstance(ch[-1], ast.Name) else None
        return ast.RuleAtom(kind, quantifier, ch[1], k, n, basis, self._s(meta))

    def atom_basis(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._name(ch[0])

    def notice_open(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.NoticeAtom(self._name(ch[0]), True, self._s(meta))

    def notice_none(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.NoticeAtom(self._name(ch[0]), False, self._s(meta))

    def allocate_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.Allocate(int(ch[0]), str(ch[1]), self._s(meta))

    def level_review_clause(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.LevelReview(int(ch[0]), int(ch[1]), self._s(meta))

    # -- assurance reviews (IPES PAT, 9.93-9.95)
    def assurance_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.AssuranceDecl(self._name(ch[0]), self._text(ch[1]), tuple(ch[2:]),
                                 self._s(meta))

    def _assurance(self, meta, kind, *values):  # type: ignore[no-untyped-def]
        return ast.AssuranceClause(kind, tuple(values), self._s(meta))

    def assurance_reviews(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._assurance(meta, "reviews", self._name(ch[0]), self._name(ch[1]))

    def assurance_ratings(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._assurance(meta, "ratings", self._name(ch[0]), ch[1])

    def assurance_reasons(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._assurance(meta, "reasons", self._name(ch[0]), self._text(ch[1]))

    def assurance_repeat_any(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._assurance(meta, "repeat", "any", tuple(self._name(t) for t in ch))

    def assurance_repeat_all(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._assurance(meta, "repeat", "all", tuple(self._name(t) for t in ch))

    def assurance_run(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._assurance(meta, "run", int(ch[0]), tuple(self._name(t) for t in ch[1:]))

    def assurance_late(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._assurance(meta, "late", self._name(ch[0]), self._name(ch[1]))

    # -- formal reviews
    def review_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ReviewDecl(self._name(ch[0]), self._text(ch[1]), tuple(ch[2:]), self._s(meta))

    def _review(self, meta, kind, *values):  # type: ignore[no-untyped-def]
        return ast.ReviewClause(kind, tuple(values), self._s(meta))

    def review_measures(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "measures", *ch[0])

    def review_basis(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "basis", self._name(ch[0]))

    def review_lag(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "lag", int(ch[0]))

    def review_validation(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "validation", *(self._name(t) for t in ch))

    def review_notice(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "notice", self._name(ch[0]), self._text(ch[1]))

    def review_remedy_period(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "remedy_period", int(ch[0]))

    def review_no_repeat(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "no_repeat")

    def review_cancel(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "cancel")

    def review_action_plan(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._review(meta, "action_plan", int(ch[0]), str(ch[1]).startswith("working"))

    def failed_k_of_n(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._atom(meta, ch, "failed_k_of_n", int(ch[2]), int(ch[3]))

    def failed_run(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._atom(meta, ch, "failed_run", int(ch[2]), int(ch[2]))

    def met_run(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._atom(meta, ch, "met_run", int(ch[2]), int(ch[2]))

    def failed_now(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._atom(meta, ch, "failed_run", 1, 1)

    def met_now(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._atom(meta, ch, "met_run", 1, 1)

    def rule_cond(self, meta, ch):  # type: ignore[no-untyped-def]
        return tuple(ch)

    def rule_from(self, meta, ch):  # type: ignore[no-untyped-def]
        return int(ch[0])

    def _rule(self, meta, ch, escalate):  # type: ignore[no-untyped-def]
        level, *rest = ch
        at_allocation = any(isinstance(t, Token) and t.type == "AT_ALLOCATION" for t in rest)
        rest = [t for t in rest if not (isinstance(t, Token) and t.type == "AT_ALLOCATION")]
        from_level = rest[0] if len(rest) == 2 else None
        return ast.Rule(escalate, int(level), from_level, rest[-1], at_allocation, self._s(meta))

    def escalate_rule(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._rule(meta, ch, True)

    def return_rule(self, meta, ch):  # type: ignore[no-untyped-def]
        return self._rule(meta, ch, False)

    def level_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.LevelDecl(int(ch[0]), self._text(ch[1]), self._s(meta))

    def regime_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.RegimeDecl(self._name(ch[0]), self._text(ch[1]), tuple(ch[2:]), self._s(meta))

    def remedy_decl(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.RemedyDecl(self._name(ch[0]), self._text(ch[1]), tuple(ch[2:]), self._s(meta))

    def fee_source(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.FeeSource(self._name(ch[0]), self._name(ch[1]), self._s(meta))

    def defer_rule(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.DeferRule(ch[0], ch[1], self._s(meta))

    def release_rule(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ReleaseRule(ch[0], self._s(meta))

    def forfeit_after(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ForfeitAfter(int(ch[0]), self._s(meta))

    def forfeitable_after(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ForfeitableAfter(int(ch[0]), self._s(meta))

    def forfeit_at(self, meta, ch):  # type: ignore[no-untyped-def]
        return ast.ForfeitAt(self._date(ch[0]), self._s(meta))


class _Items:
    """The transformed start rule: the module's items."""

    def __init__(self, children: list[object]):
        self.children = children


@attrs.frozen
class _TableDates:
    """A table's ``dates "FORMAT"``, on its way into its :class:`ast.TableDecl`."""

    text: ast.Text
