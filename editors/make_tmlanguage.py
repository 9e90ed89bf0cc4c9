"""Write editors/pmir.tmLanguage.json from the Pygments lexer's word lists.

Run it after a grammar change adds words (tests/test_authoring_editors.py says when):
    python editors/make_tmlanguage.py
"""

from __future__ import annotations

import json
from pathlib import Path

from pmir_dsl.pygments_lexer import DECLARATIONS, KEYWORDS


def grammar() -> dict:  # type: ignore[type-arg]
    """The TextMate grammar (scope source.pmir)."""
    kw = "|".join(sorted(set(KEYWORDS), key=lambda w: (-len(w), w)))
    name = "[A-Za-z_][A-Za-z0-9_]*"
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "pmir",
        "scopeName": "source.pmir",
        "fileTypes": ["pmir"],
        "comment": "pmir contract rules (grammar/pmir.lark), written by editors/make_tmlanguage.py",
        "patterns": [{"include": f"#{k}"} for k in (
            "comment", "string", "declaration", "number", "keyword", "constant", "operator",
            "punctuation")],
        "repository": {
            "comment": {"name": "comment.line.number-sign.pmir", "match": "#.*$"},
            "string": {"name": "string.quoted.double.pmir", "begin": "\"", "end": "\"|$",
                       "patterns": [{"name": "constant.character.escape.pmir", "match": "\\\\."}]},
            "declaration": {"match": f"\\b({'|'.join(DECLARATIONS)})\\b(?:\\s+({name}))?",
                            "captures": {"1": {"name": "keyword.declaration.pmir"},
                                         "2": {"name": "entity.name.type.pmir"}}},
            "number": {"patterns": [
                {"name": "constant.numeric.date.pmir", "match": "\\b\\d{4}-\\d{2}-\\d{2}\\b"},
                {"name": "constant.numeric.month.pmir", "match": "\\b\\d{4}-\\d{2}(?![-\\d])"},
                {"name": "constant.numeric.percentage.pmir",
                 "match": "\\b\\d{1,18}(?:\\.\\d{1,18})?%"},
                {"name": "constant.numeric.ordinal.pmir", "match": "\\b\\d{1,4}(?:st|nd|rd|th)\\b"},
                {"name": "constant.numeric.pmir", "match": "\\b\\d+(?:\\.\\d+)?\\b"}]},
            "keyword": {"name": "keyword.other.pmir", "match": f"\\b(?:{kw})\\b"},
            "constant": {"name": "constant.language.pmir", "match": "\\b(?:true|false)\\b"},
            "operator": {"name": "keyword.operator.comparison.pmir", "match": "<=|>=|!=|<|>|="},
            "punctuation": {"name": "punctuation.pmir", "match": "[{}(),:?]"},
        },
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("pmir.tmLanguage.json")
    out.write_text(json.dumps(grammar(), indent=2) + "\n", encoding="utf-8")
    print(out)
