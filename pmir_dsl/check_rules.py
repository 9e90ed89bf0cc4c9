"""Check regimes and remedies: rules over months that name measures, levels and fees.

A rule may name only measures the contract declares, that count by month with an in-month basis
and that are grouped like the regime, so that every month of every group has a figure to test.
Two rules that would send the same state to different levels, and a level above the lowest that
no rule can leave, are contradictions and reported as such.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ast, ir
from .diagnostics import Span, did_you_mean
from .schema import ColumnType

Report = Callable[[str, str, "Span | None", "str | None"], None]


class RuleChecker:
    """Checks the regimes and remedies of a contract against its measures and tables."""

    def __init__(self, error: Report, measures: tuple[ir.Measure, ...],
                 tables: dict[str, Any], date: Callable[[ast.DateLit], str | None],
                 declared: frozenset[str] = frozenset()):
        self.error = error
        self.measures = {m.id: m for m in measures}
        self.declared = declared  # every measure declared, those with errors too
        self.tables = tables
        self.date = date
        self.checked: set[tuple[str, tuple[str, ...], str]] = set()
        self.notices: dict[str, ir.Review] = {}

    # ---- shared ------------------------------------------------------------------------------

    def keys(self, clauses: tuple[object, ...], span: Span | None) -> tuple[str, ...]:
        """The single group level a regime or remedy is evaluated for."""
        groups = [c for c in clauses if isinstance(c, ast.GroupBy)]
        if not groups:
            return ()
        levels = groups[0].levels
        if not levels:  # group by contract only
            return ()
        if len(levels) != 1:
            self.error("rule-measure", "a regime or remedy is evaluated for one group level",
                       groups[0].span, "write e.g.: group by provider")
        return tuple(n.text for n in levels[0])

    def atoms(self, atoms: tuple[ast.RuleAtom | ast.NoticeAtom, ...], keys: tuple[str, ...]
              ) -> tuple[ir.Atom | ir.NoticeAtom, ...]:
        """The IR of rule atoms, checking each named measure and notice."""
        out: list[ir.Atom | ir.NoticeAtom] = []
        for a in atoms:
            if isinstance(a, ast.NoticeAtom):
                out.append(self.notice_atom(a, keys))
                continue
            basis = a.basis.text if a.basis is not None else "in_month"
            if basis == "quarter":
                self.error("unknown-basis", "rules test a figure every month; 'quarter' figures "
                           "are quarterly", a.basis.span, "use rolling_3 for the last 3 months")
            elif basis not in ir.BASES:
                self.error("unknown-basis", f"unknown basis '{basis}'", a.basis.span,
                           did_you_mean(basis, ir.BASES) or "bases are: " + ", ".join(ir.BASES))
            for name in a.measures:
                self.measure(name, keys, basis)
            if a.kind == "failed_k_of_n" and not 1 <= a.k <= a.n:
                self.error("bad-amount", f"'{a.k} of the last {a.n} months' needs at least 1 "
                           f"month and no more than {a.n}", a.span, None)
            elif a.k < 1:
                self.error("bad-amount", "a run of months needs at least 1 month", a.span, None)
            out.append(ir.Atom(a.kind, a.quantifier, tuple(n.text for n in a.measures), a.k, a.n,
                               basis))
        return tuple(out)

    def notice_atom(self, a: ast.NoticeAtom, keys: tuple[str, ...]) -> ir.NoticeAtom:
        """``PIN open``: a notice some review raises, for the same groups."""
        review = self.notices.get(a.notice.text)
        if review is None:
            self.error("unknown-measure", f"no review raises a notice called '{a.notice.text}'",
                       a.notice.span, did_you_mean(a.notice.text, self.notices) or
                       ("notices: " + ", ".join(self.notices) if self.notices else
                        "declare a review with: notice NAME \"title\" when failed"))
        elif review.keys != keys:
            self.error("rule-measure", f"notices {a.notice.text} are raised per "
                       f"{' and '.join(review.keys) or 'contract'}, not per "
                       f"{' and '.join(keys) or 'contract'}", a.notice.span, None)
        return ir.NoticeAtom(a.notice.text, a.open)

    def _unknown(self, name: ast.Name) -> None:
        """A rule names a measure that has no checked definition: an error, unless the measure
        is declared and its own errors are already reported (no second error for one mistake)."""
        if name.text not in self.declared:
            self.error("unknown-measure", f"no measure called '{name.text}'", name.span,
                       did_you_mean(name.text, self.measures) or
                       "measures: " + ", ".join(self.measures))

    def measure(self, name: ast.Name, keys: tuple[str, ...], basis: str = "in_month") -> None:
        """A measure a rule names: declared, monthly, with the basis, grouped by ``keys``."""
        if (name.text, keys, basis) in self.checked:
            return
        self.checked.add((name.text, keys, basis))
        m = self.measures.get(name.text)
        if m is None:
            self._unknown(name)
            return
        levels = {tuple(c.name for c in level) for level in m.groups}
        if m.target.op == "none":
            self.error("rule-measure", f"measure {m.id} has no target, so it is never met or "
                       "failed", name.span, f"give {m.id} a target, or leave it out of rules")
        elif m.period_unit != "month" or basis not in m.bases:
            words = "in-month" if basis == "in_month" else basis.replace("_", " ")
            self.error("rule-measure", f"measure {m.id} has no {words} figures for rules to "
                       "test month by month", name.span, f"give {m.id}: bases {basis}, ...")
        elif basis in m.information:
            self.error("rule-measure", f"measure {m.id}'s {basis.replace('_', ' ')} figures are "
                       "for information only, never met or failed", name.span,
                       f"test another basis: on {next(iter(set(m.bases) - set(m.information)))}")
        elif keys not in levels:
            self.error("rule-measure", f"measure {m.id} is not grouped by "
                       f"{' and '.join(keys) or 'the whole contract'}", name.span,
                       f"add to {m.id}: group by {', '.join(keys)}")

    # ---- regimes -----------------------------------------------------------------------------

    def regime(self, decl: ast.RegimeDecl) -> ir.Regime:
        """A regime's IR (errors reported as found)."""
        keys = self.keys(decl.clauses, decl.span)
        levels: dict[int, str] = {}
        for c in decl.clauses:
            if isinstance(c, ast.LevelDecl):
                if c.number in levels:
                    self.error("duplicate-name", f"level {c.number} is declared twice", c.span,
                               None)
                levels[c.number] = c.title.text
        if not levels:
            self.error("missing-clause", f"regime {decl.name.text} declares no levels",
                       decl.name.span, 'add e.g.: level 1 "Standard Action"')
        rules = []
        for c in decl.clauses:
            if isinstance(c, ast.Rule):
                for level in (c.level, c.from_level):
                    if level is not None and levels and level not in levels:
                        self.error("unknown-level", f"regime {decl.name.text} has no level "
                                   f"{level}", c.span, "levels: " + ", ".join(map(str, levels)))
                rules.append((c, ir.Rule(c.escalate, c.level, c.from_level,
                                         self.atoms(c.atoms, keys), c.at_allocation)))
        allocate = next((c for c in decl.clauses if isinstance(c, ast.Allocate)), None)
        reviews = []
        for c in decl.clauses:
            if isinstance(c, ast.LevelReview):
                if levels and c.level not in levels:
                    self.error("unknown-level", f"regime {decl.name.text} has no level "
                               f"{c.level}", c.span, "levels: " + ", ".join(map(str, levels)))
                if c.months < 1:
                    self.error("bad-amount", "a level is reviewed after 1 month at the earliest",
                               c.span, None)
                reviews.append((c.level, c.months))
        if allocate is not None and allocate.every < 1:
            self.error("bad-amount", "allocation comes every 1 month at the earliest",
                       allocate.span, None)
        if allocate is not None and not 1 <= int(allocate.first[5:]) <= 12:
            self.error("bad-date", f"there is no month {allocate.first[5:]} in "
                       f"'{allocate.first}'", allocate.span, "write the month as YYYY-MM")
        for node, rule in rules:
            if rule.at_allocation and allocate is None:
                self.error("missing-clause", "'at allocation' needs the regime to say when "
                           "allocation happens", node.span,
                           "add e.g.: allocate every 6 months from 2023-03")
        self.contradictions(rules)
        self.traps(decl, levels, [r for _, r in rules])
        cite = next((c.text.text for c in decl.clauses if isinstance(c, ast.Cite)), "")
        return ir.Regime(decl.name.text, decl.title.text, cite, keys,
                         tuple(sorted(levels.items())), tuple(r for _, r in rules),
                         (allocate.every, allocate.first) if allocate else None, tuple(reviews))

    def contradictions(self, rules: list[tuple[ast.Rule, ir.Rule]]) -> None:
        """Two rules with the same condition from the same level to different levels."""
        seen: dict[tuple[Any, ...], tuple[ast.Rule, ir.Rule]] = {}
        for node, rule in rules:
            key = (rule.from_level, rule.atoms, rule.at_allocation)
            if key in seen and seen[key][1].level != rule.level:
                first = seen[key][0]
                line = first.span.line if first.span else "?"
                self.error("contradictory-rules", f"this rule and the one on line {line} have "
                           f"the same condition but send it to levels {seen[key][1].level} and "
                           f"{rule.level}", node.span, "change one condition, or remove one rule")
            seen.setdefault(key, (node, rule))

    def traps(self, decl: ast.RegimeDecl, levels: dict[int, str], rules: list[ir.Rule]) -> None:
        """Every level above the lowest needs a rule that returns from it."""
        if not levels:
            return
        for level in sorted(levels)[1:]:
            if not any(not r.escalate and r.level < level and r.from_level in (None, level)
                       for r in rules):
                self.error("level-trap", f"no rule returns from level {level}, so a group that "
                           "reaches it stays there for ever", decl.name.span,
                           f"add e.g.: return to level 1 from level {level} when all of (...) "
                           "met for 3 consecutive months")

    # ---- remedies ----------------------------------------------------------------------------

    def remedy(self, decl: ast.RemedyDecl) -> ir.Remedy | None:
        """A remedy's IR, or None when it cannot be built."""
        keys = self.keys(decl.clauses, decl.span)
        clause = {type(c): c for c in reversed(decl.clauses)}
        fee, defer = clause.get(ast.FeeSource), clause.get(ast.DeferRule)
        release = clause.get(ast.ReleaseRule)
        for kind, word in ((ast.FeeSource, "fee COLUMN of TABLE"), (ast.DeferRule, "defer"),
                           (ast.ReleaseRule, "release when")):
            if kind not in clause:
                self.error("missing-clause", f"remedy {decl.name.text} has no '{word}' clause",
                           decl.name.span, None)
        if fee is None or defer is None or release is None:
            return None
        columns = self.fee_columns(fee, keys)
        if defer.share.kind != "percent" or not 0 < defer.share.value <= 1:
            self.error("bad-percentage", "the deferred share is a percentage above 0% and at "
                       "most 100%", defer.share.span, None)
        forfeit_after = clause.get(ast.ForfeitAfter)
        if forfeit_after is not None and forfeit_after.months < 1:
            self.error("bad-amount", "deferred amounts can be forfeit after 1 month at the "
                       "earliest", forfeit_after.span, None)
        forfeitable = clause.get(ast.ForfeitableAfter)
        if forfeitable is not None and forfeitable.months < 1:
            self.error("bad-amount", "deferred amounts can be forfeitable after 1 month at the "
                       "earliest", forfeitable.span, None)
        forfeit_at = clause.get(ast.ForfeitAt)
        at = self.date(forfeit_at.date) if forfeit_at else None
        cite = next((c.text.text for c in decl.clauses if isinstance(c, ast.Cite)), "")
        if columns is None:
            return None
        return ir.Remedy(decl.name.text, decl.title.text, cite, keys, fee.table.text, columns[0],
                         columns[1], defer.share.value, self.atoms(defer.atoms, keys),
                         self.atoms(release.atoms, keys),
                         forfeit_after.months if forfeit_after else None, at,
                         forfeitable_after=forfeitable.months if forfeitable else None)

    def fee_columns(self, fee: ast.FeeSource, keys: tuple[str, ...]):  # type: ignore[no-untyped-def]
        """(fee column, month column) of the fee table, which must hold the group keys too."""
        found = self.tables.get(fee.table.text)
        if found is None:
            self.error("unknown-table", f"no table called '{fee.table.text}'", fee.table.span,
                       did_you_mean(fee.table.text, self.tables))
            return None
        table = found[1]
        col = table.column(fee.column.text)
        if col is None or col.type is not ColumnType.INTEGER:
            self.error("type-mismatch", f"the fee must be an integer column of pence in "
                       f"'{table.name}'", fee.column.span,
                       did_you_mean(fee.column.text, [c.name for c in table.columns]))
            return None
        months = [c for c in table.columns if c.type is ColumnType.MONTH]
        missing = [k for k in keys if table.column(k) is None]
        if len(months) != 1 or missing:
            what = f"no column '{missing[0]}'" if missing else "not exactly one month column"
            self.error("type-mismatch", f"fee table '{table.name}' has {what}", fee.table.span,
                       None)
            return None
        return col, months[0]

    # ---- formal reviews ----------------------------------------------------------------------

    def review(self, decl: ast.ReviewDecl) -> ir.Review | None:
        """A formal review's IR (its notices become known to regimes), or None on errors."""
        keys = self.keys(decl.clauses, decl.span)
        clauses: dict[str, ast.ReviewClause] = {}
        for c in decl.clauses:
            if isinstance(c, ast.ReviewClause):
                if c.kind in clauses:
                    self.error("duplicate-clause", f"review {decl.name.text} says this twice",
                               c.span, "keep one")
                clauses.setdefault(c.kind, c)
        ok = True
        for kind, words in (("measures", "measures A, B"),
                            ("basis", "at each quarter end over rolling_12"),
                            ("remedy_period", "remedy period 6 months")):
            if kind not in clauses and (kind != "remedy_period" or "notice" in clauses):
                self.error("missing-clause", f"review {decl.name.text} has no '{words}' clause",
                           decl.name.span, None)
                ok = False
        basis = clauses["basis"].values[0] if "basis" in clauses else None
        if isinstance(basis, ast.Name) and basis.text not in ("rolling_12", "rolling_3",
                                                              "quarter", "year_to_date",
                                                              "cumulative"):
            self.error("unknown-basis", f"a quarterly review is over 'rolling_12', 'rolling_3', "
                       f"'quarter', 'year_to_date' or 'cumulative', not '{basis.text}'",
                       basis.span, did_you_mean(basis.text, ir.BASES))
            ok = False
        names = clauses["measures"].values if "measures" in clauses else ()
        for name in names:
            ok = self.review_measure(name, keys) and ok  # type: ignore[arg-type]
        validation = self.validation(clauses["validation"], keys) if "validation" in clauses \
            else None
        ok = ok and ("validation" not in clauses or validation is not None)
        lag = clauses["lag"].values[0] if "lag" in clauses else 0
        notice = clauses.get("notice")
        period = clauses["remedy_period"].values[0] if "remedy_period" in clauses else 0
        if notice is not None and (int(period) < 3 or int(period) % 3):  # type: ignore[call-overload]
            self.error("bad-amount", "a remedy period ends at a quarter end, so it is a whole "
                       "number of quarters: 3, 6, 9 ... months", clauses["remedy_period"].span,
                       None)
            ok = False
        for kind in ("no_repeat", "cancel", "action_plan"):
            if kind in clauses and notice is None:
                self.error("missing-clause", "this says what happens to notices, but the review "
                           "raises none", clauses[kind].span,
                           'add: notice NAME "title" when failed')
                ok = False
        plan = clauses.get("action_plan")
        cite = next((c.text.text for c in decl.clauses if isinstance(c, ast.Cite)), "")
        if not ok or not isinstance(basis, ast.Name):
            return None
        notice_name = notice.values[0].text if notice else None  # type: ignore[attr-defined]
        review = ir.Review(
            decl.name.text, decl.title.text, cite, keys, tuple(n.text for n in names),  # type: ignore[attr-defined]
            basis.text, int(lag), validation, notice_name,  # type: ignore[call-overload]
            notice.values[1].text if notice else "",  # type: ignore[attr-defined]
            int(period), "no_repeat" in clauses, "cancel" in clauses,  # type: ignore[call-overload]
            (int(plan.values[0]), bool(plan.values[1])) if plan else None)  # type: ignore[call-overload]
        if notice_name is not None:
            if notice_name in self.notices:
                self.error("duplicate-name", f"notice '{notice_name}' is raised by two reviews",
                           notice.values[0].span, None)  # type: ignore[union-attr, attr-defined]
            self.notices.setdefault(notice_name, review)
        return review

    def review_measure(self, name: ast.Name, keys: tuple[str, ...]) -> bool:
        """A reviewed measure: a count ratio against a looked-up target, grouped by ``keys``."""
        m = self.measures.get(name.text)
        if m is None:
            self._unknown(name)
            return False
        if m.kind != "count_ratio" or m.target.lookup is None:
            self.error("rule-measure", f"a formal review counts outcomes against the outcomes "
                       f"required, so {m.id} must be 'ratio count of A over count of B' with "
                       "'target at least RATE of TABLE for ...'", name.span, None)
            return False
        if keys not in {tuple(c.name for c in level) for level in m.groups}:
            self.error("rule-measure", f"measure {m.id} is not grouped by "
                       f"{' and '.join(keys) or 'the whole contract'}", name.span,
                       f"add to {m.id}: group by {', '.join(keys)}")
            return False
        return True

    def validation(self, c: ast.ReviewClause, keys: tuple[str, ...] = ()) -> ir.Validation | None:
        """``net of the RATE of TABLE for START to END, completed on COMPLETED``; the table's
        columns named like the review's group keys make a row one contract's own (WP 8.32)."""
        rate, table_name, start, end, completed = c.values
        found = self.tables.get(table_name.text)  # type: ignore[attr-defined]
        if found is None:
            self.error("unknown-table", f"no table called '{table_name.text}'",  # type: ignore[attr-defined]
                       table_name.span, did_you_mean(table_name.text, self.tables))  # type: ignore[attr-defined]
            return None
        table = found[1]
        cols = []
        for name, types, what in ((rate, (ColumnType.DECIMAL,), "a decimal failure rate"),
                                  (start, (ColumnType.DATE,), "a date"),
                                  (end, (ColumnType.DATE,), "a date"),
                                  (completed, (ColumnType.DATE,), "a date")):
            col = table.column(name.text)  # type: ignore[attr-defined]
            if col is None or col.type not in types:
                self.error("type-mismatch", f"'{name.text}' of table '{table.name}' must be "  # type: ignore[attr-defined]
                           f"{what}", name.span,  # type: ignore[attr-defined]
                           did_you_mean(name.text, [x.name for x in table.columns]))  # type: ignore[attr-defined]
                return None
            cols.append(col)
        own = tuple(col for col in (table.column(k) for k in keys)
                    if col is not None and col.type in (ColumnType.TEXT, ColumnType.CATEGORY))
        return ir.Validation(table.name, *cols, keys=own)
