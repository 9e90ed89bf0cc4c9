"""A Pygments lexer for the pmir language, registered as the ``pmir`` lexer through the
``pygments.lexers`` entry point, so documentation tools (Sphinx, MkDocs) highlight ``.pmir``
blocks. The keyword list is the grammar's own words (a test keeps the two in step), and every
character of a valid contract gets a token type: nothing is an Error token.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String,
                            Text, Whitespace)

#: Words that begin a top-level declaration (followed by the declared name).
DECLARATIONS = ("import", "contract", "table", "bands", "measure", "regime", "remedy", "review",
                "assurance")

#: Every other literal word of grammar/pmir.lark.
KEYWORDS = (
    "above", "action", "add", "after", "all", "allocate", "and", "apart", "assume", "at",
    "average", "backlog", "breaches", "information", "may", "monthly",
    "bases", "basis", "before", "below", "buckets", "by", "calendar", "cancel", "category",
    "cite", "cohorts", "completed", "consecutive", "count", "date", "dates", "day", "deciding",
    "defer", "deferrals", "denominator", "due", "each", "end", "escalate", "every", "expected",
    "extract", "failed", "fee", "figures", "first", "for", "forfeit", "from", "further", "group",
    "guidance", "holiday", "in", "is", "last", "lateness", "least", "level", "measures", "meet",
    "met", "minimum", "missing", "month", "months", "most", "net", "no", "not", "notice", "of",
    "on", "one", "only", "open", "or", "otherwise", "over", "passes", "period", "plan",
    "population", "present", "quarter", "rank", "ratio", "records", "ref", "release", "remove",
    "reporting", "return", "reviewed", "service", "share", "start", "sum", "target", "the",
    "times", "to", "until", "up", "validated", "when", "where", "while", "within",
    "are", "common", "followed", "ratings", "reasons", "reviews", "same", "separated", "them",
    "worse", "worst",
    # words inside the grammar's multi-word terminals
    "highest", "lowest", "allocation", "any", "working", "calendar", "days", "next",
)


class PmirLexer(RegexLexer):
    """Lexer for pmir contract rule files (``*.pmir``)."""

    name = "pmir"
    aliases = ["pmir"]
    filenames = ["*.pmir"]
    mimetypes = ["text/x-pmir"]
    url = "https://example.invalid/pmirc"  # the project has no public site; docs/language.md

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r'"[^\n]*', String.Double),  # unterminated: still text, never an Error token
            (r"(%s)(\s+)([A-Za-z_][A-Za-z0-9_]*)" % "|".join(DECLARATIONS),
             bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (words(DECLARATIONS, suffix=r"\b"), Keyword.Declaration),
            (r"\d{4}-\d{2}-\d{2}", Number.Other),            # dates
            (r"\d{4}-\d{2}(?![-\d])", Number.Other),         # months
            (r"\d{1,18}(\.\d{1,18})?%", Number.Float),       # percentages
            (r"\d{1,4}(st|nd|rd|th)\b", Number.Integer),     # the 15th
            (r"\d+\.\d+", Number.Float),
            (r"\d+", Number.Integer),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (r"(true|false)\b", Keyword.Constant),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"<=|>=|!=|<|>|=", Operator),
            (r"[{}(),:?.]", Punctuation),
            (r".", Text),  # anything else (a stray character) is shown plainly
        ],
    }
