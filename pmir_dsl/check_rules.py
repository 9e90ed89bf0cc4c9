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
                 tables: dict[str, Any], date: Callable[[ast.DateLit], str | None]):
        self.error = error
        self.measures = {m.id: m for m in measures}
        self.tables = tables
        self.date = date
        self.checked: set[tuple[str, tuple[str, ...]]] = set()

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

    def atoms(self, atoms: tuple[ast.RuleAtom, ...], keys: tuple[str, ...]) -> tuple[ir.Atom, ...]:
        """The IR of rule atoms, checking each named measure."""
        out = []
        for a in atoms:
            for name in a.measures:
                self.measure(name, keys)
            if a.kind == "failed_k_of_n" and not 1 <= a.k <= a.n:
                self.error("bad-amount", f"'{a.k} of the last {a.n} months' needs at least 1 "
                           f"month and no more than {a.n}", a.span, None)
            elif a.k < 1:
                self.error("bad-amount", "a run of months needs at least 1 month", a.span, None)
            out.append(ir.Atom(a.kind, a.quantifier, tuple(n.text for n in a.measures), a.k, a.n))
        return tuple(out)

    def measure(self, name: ast.Name, keys: tuple[str, ...]) -> None:
        """A measure a rule names: declared, monthly, in-month, grouped by ``keys``."""
        if (name.text, keys) in self.checked:
            return
        self.checked.add((name.text, keys))
        m = self.measures.get(name.text)
        if m is None:
            self.error("unknown-measure", f"no measure called '{name.text}'", name.span,
                       did_you_mean(name.text, self.measures) or
                       "measures: " + ", ".join(self.measures))
            return
        levels = {tuple(c.name for c in level) for level in m.groups}
        if m.period_unit != "month" or "in_month" not in m.bases:
            self.error("rule-measure", f"measure {m.id} has no in-month figures for rules to "
                       "test month by month", name.span, f"give {m.id}: bases in_month, ...")
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
                                         self.atoms(c.atoms, keys))))
        self.contradictions(rules)
        self.traps(decl, levels, [r for _, r in rules])
        cite = next((c.text.text for c in decl.clauses if isinstance(c, ast.Cite)), "")
        return ir.Regime(decl.name.text, decl.title.text, cite, keys,
                         tuple(sorted(levels.items())), tuple(r for _, r in rules))

    def contradictions(self, rules: list[tuple[ast.Rule, ir.Rule]]) -> None:
        """Two rules with the same condition from the same level to different levels."""
        seen: dict[tuple[Any, ...], tuple[ast.Rule, ir.Rule]] = {}
        for node, rule in rules:
            key = (rule.from_level, rule.atoms)
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
        forfeit_at = clause.get(ast.ForfeitAt)
        at = self.date(forfeit_at.date) if forfeit_at else None
        cite = next((c.text.text for c in decl.clauses if isinstance(c, ast.Cite)), "")
        if columns is None:
            return None
        return ir.Remedy(decl.name.text, decl.title.text, cite, keys, fee.table.text, columns[0],
                         columns[1], defer.share.value, self.atoms(defer.atoms, keys),
                         self.atoms(release.atoms, keys),
                         forfeit_after.months if forfeit_after else None, at)

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
