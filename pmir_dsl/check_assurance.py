"""Check ``assurance`` declarations (IPES Provider Assurance Team reviews, 9.93-9.95).

An assurance names a table of reviews (one row each, with an id), the date each was completed,
a category column of ratings whose values it lists worst first, optionally a text column of
reasons, and the actions of 9.95 the reviews trigger. Every name is checked against the table,
every rating against the scale, and each clause that may appear once appears once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ast, ir
from .diagnostics import Span, did_you_mean
from .schema import ColumnSpec, ColumnType

Report = Callable[[str, str, "Span | None", "str | None"], None]

#: Clauses that may appear once, and how to write each (for a missing one).
ONCE = {"reviews": "reviews TABLE completed on COLUMN",
        "ratings": "ratings from COLUMN, worst first: weak, limited, reasonable, strong",
        "reasons": 'reasons from COLUMN separated by ";"'}
#: The rule kinds of the clauses, as reports name them.
RULE_KINDS = {"repeat": "same_or_worse", "run": "consecutive", "late": "action_plan_late"}


class AssuranceChecker:
    """Checks one ``assurance`` declaration against the contract's tables."""

    def __init__(self, error: Report, tables: dict[str, Any], keys: Callable[..., tuple[str, ...]],
                 sources: dict[str, str]):
        self.error = error
        self.tables = tables
        self.keys = keys
        self.sources = sources

    def check(self, decl: ast.AssuranceDecl) -> ir.Assurance | None:
        """The assurance's IR, or None when it has errors (each reported)."""
        once = self._once(decl)
        for kind in ("reviews", "ratings"):
            if kind not in once:
                self.error("missing-clause", f"assurance {decl.name.text} has no '{kind}' "
                           "clause", decl.name.span, f"add: {ONCE[kind]}")
        rules = [c for c in decl.clauses if isinstance(c, ast.AssuranceClause)
                 and c.kind in RULE_KINDS]
        if not rules:
            self.error("missing-clause", f"assurance {decl.name.text} triggers no action",
                       decl.name.span, "add e.g.: action when 3 consecutive ratings are weak "
                       "or limited")
        if "reviews" not in once or "ratings" not in once:
            return None
        found = self._table(once["reviews"])
        if found is None:
            return None
        table, completed, review_id = found
        keys = self.keys(decl.clauses, decl.span)
        ok = all(self._column(table, n, (ColumnType.TEXT, ColumnType.CATEGORY),
                              "text or a category") is not None
                 for n in self._key_names(decl, keys))
        scale = self._scale(table, once["ratings"])
        reasons = self._column(table, once["reasons"].values[0],  # type: ignore[arg-type]
                               (ColumnType.TEXT,), "text") if "reasons" in once else None
        out = [self._rule(c, table, scale[1] if scale else None, reasons is not None)
               for c in rules]
        if not ok or scale is None or None in out or ("reasons" in once and reasons is None):
            return None
        sep = once["reasons"].values[1].text if "reasons" in once else ";"  # type: ignore[attr-defined]
        cite = next((c.text.text for c in decl.clauses if isinstance(c, ast.Cite)), "")
        return ir.Assurance(decl.name.text, decl.title.text, cite, keys, table.name, review_id,
                            completed, scale[0], scale[1], reasons, sep,
                            tuple(r for r in out if r is not None))

    @staticmethod
    def _key_names(decl: ast.AssuranceDecl, keys: tuple[str, ...]) -> list[ast.Name]:
        """The group keys as written (for their spans)."""
        groups = [c for c in decl.clauses if isinstance(c, ast.GroupBy) and c.levels]
        return [n for n in groups[0].levels[0] if n.text in keys] if groups else []

    def _once(self, decl: ast.AssuranceDecl) -> dict[str, ast.AssuranceClause]:
        once: dict[str, ast.AssuranceClause] = {}
        for c in decl.clauses:
            if isinstance(c, ast.AssuranceClause) and c.kind in ONCE:
                if c.kind in once:
                    self.error("duplicate-clause", f"assurance {decl.name.text} says "
                               f"'{c.kind}' twice", c.span, "keep one")
                once.setdefault(c.kind, c)
        return once

    def _table(self, c: ast.AssuranceClause) -> tuple[Any, ColumnSpec, ColumnSpec] | None:
        """The reviews table, its completed-date column and its id column."""
        name, completed = c.values
        found = self.tables.get(name.text)  # type: ignore[attr-defined]
        if found is None:
            self.error("unknown-table", f"no table called '{name.text}'", name.span,  # type: ignore[attr-defined]
                       did_you_mean(name.text, self.tables))  # type: ignore[attr-defined]
            return None
        table = found[1]
        col = self._column(table, completed, (ColumnType.DATE,), "a date")  # type: ignore[arg-type]
        review_id = next((x for x in table.columns if x.type is ColumnType.ID), None)
        if review_id is None:
            self.error("type-mismatch", f"table '{table.name}' has no id column: each review "
                       "is named by its id", name.span,  # type: ignore[attr-defined]
                       "add a column such as: review_id: id")
        return None if col is None or review_id is None else (table, col, review_id)

    def _column(self, table: Any, name: ast.Name, types: tuple[ColumnType, ...], what: str
                ) -> ColumnSpec | None:
        col = table.column(name.text)
        if col is None:
            self.error("unknown-column", f"table '{table.name}' has no column '{name.text}'",
                       name.span, did_you_mean(name.text, [x.name for x in table.columns]))
            return None
        if col.type not in types or col.via is not None:
            self.error("type-mismatch", f"'{name.text}' of table '{table.name}' must be {what}",
                       name.span, None)
            return None
        return col

    def _scale(self, table: Any, c: ast.AssuranceClause
               ) -> tuple[ColumnSpec, tuple[str, ...]] | None:
        """The ratings column and its values worst first: every category, each once."""
        name, values = c.values
        col = self._column(table, name, (ColumnType.CATEGORY,), "a category of ratings")  # type: ignore[arg-type]
        if col is None:
            return None
        given = [v.text for v in values]  # type: ignore[attr-defined]
        ok = True
        for v in values:  # type: ignore[attr-defined]
            if v.text not in col.categories:
                self.error("unknown-category", f"'{v.text}' is not a rating of column "
                           f"'{col.name}' ({', '.join(col.categories)})", v.span,
                           did_you_mean(v.text, col.categories))
                ok = False
        missing = [x for x in col.categories if x not in given]
        if ok and (missing or len(set(given)) != len(given)):
            self.error("incomplete-cases", "list every rating once, worst first"
                       + (f": '{missing[0]}' is missing" if missing else ""), c.span,
                       f"write: ratings from {col.name}, worst first: "
                       + ", ".join(col.categories))
            ok = False
        return (col, tuple(given)) if ok else None

    def _rule(self, c: ast.AssuranceClause, table: Any, scale: tuple[str, ...] | None,
              has_reasons: bool) -> ir.AssuranceRule | None:
        """One action's IR (None on errors, each reported; ratings are checked against a
        ``scale`` only when it is itself right)."""
        from .assumptions import source_line

        text = source_line(c, self.sources)
        kind = RULE_KINDS[c.kind]
        if c.kind == "late":
            sub, due = (self._column(table, n, (ColumnType.DATE,), "a date")  # type: ignore[arg-type]
                        for n in c.values)
            return None if sub is None or due is None else \
                ir.AssuranceRule(kind, text, submitted=sub, due=due)
        first, names = c.values
        ratings = tuple(n.text for n in names)  # type: ignore[attr-defined]
        bad = [n for n in names if scale is not None and n.text not in scale]  # type: ignore[attr-defined]
        for n in bad:
            self.error("unknown-category", f"'{n.text}' is not one of the ratings "
                       f"({', '.join(scale)})", n.span, did_you_mean(n.text, scale))
        if c.kind == "run":
            if int(first) < 2:  # type: ignore[call-overload]
                self.error("bad-amount", "a run of consecutive ratings is 2 reviews or more",
                           c.span, None)
                return None
            return None if bad or scale is None else \
                ir.AssuranceRule(kind, text, ratings, count=int(first))  # type: ignore[call-overload]
        if not has_reasons:
            self.error("missing-clause", "'for the same reasons' needs the reviews' reasons",
                       c.span, f"add: {ONCE['reasons']}")
            return None
        return None if bad or scale is None else ir.AssuranceRule(kind, text, ratings,
                                                                  reading=str(first))
