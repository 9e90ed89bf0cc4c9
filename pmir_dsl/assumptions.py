"""Assumptions: the numbers a contract uses that its guidance does not state (semantics.md 7).

A contract declares each one with ``assume "why"`` in the block that uses it. The clause qualifies
the clause just before it (a regime's rule, a remedy's line, a measure's clause), or its whole
block when it comes first. The checker collects them here into :class:`ir.Assumption` entries
(file and line, the block, the clause), puts their texts on the IR nodes they drive, and reports
show them beside the figures they decide: results of the measure, a regime's rows while the
level set by the rule holds, every row of a remedy (docs/language.md, decisions 130-).
"""

from __future__ import annotations

from typing import Any

import attrs

from . import ast, ir

BLOCKS = {ast.MeasureDecl: "measure", ast.RegimeDecl: "regime", ast.RemedyDecl: "remedy",
          ast.ReviewDecl: "review", ast.AssuranceDecl: "assurance",
          ast.ContractDecl: "contract"}

#: The owner of the contract header's assumptions (``service start`` and the like).
HEADER = "contract header"


def collect(items: list[object], sources: dict[str, str]) -> list[ir.Assumption]:
    """Every ``assume`` clause of the header, measures, regimes, remedies and reviews, in file
    order."""
    out: list[ir.Assumption] = []
    for item in items:
        kind = BLOCKS.get(type(item))
        if kind is not None:
            out += _block(_owner(kind, item), item.clauses, sources)  # type: ignore[attr-defined]
    return out


def _owner(kind: str, item: object) -> str:
    """The block an assumption is in: "measure KPI1", "regime PMIR", "contract header"."""
    if kind == "contract":
        return HEADER
    name = item.id.text if kind == "measure" else item.name.text  # type: ignore[attr-defined]
    return f"{kind} {name}"


def _block(owner: str, clauses: tuple[object, ...], sources: dict[str, str]
           ) -> list[ir.Assumption]:
    """The assumptions of one block, each with the clause before it (and its rule number)."""
    out, before, rules = [], None, -1
    for c in clauses:
        if isinstance(c, ast.Assume):
            span = c.span
            rule = rules if isinstance(before, ast.Rule) else None
            out.append(ir.Assumption(c.text.text, span.file if span else "",
                                     span.line if span else 0, owner,
                                     source_line(before, sources), rule))
            continue
        rules += isinstance(c, ast.Rule)
        before = c
    return out


def source_line(clause: object, sources: dict[str, str]) -> str:
    """The source text of the line a clause starts on, less any comment ('' for none)."""
    span = getattr(clause, "span", None)
    if span is None or span.file not in sources:
        return ""
    lines = sources[span.file].splitlines()
    text = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    return text.split(" assume ", 1)[0].split("#", 1)[0].strip()


def attach(contract: ir.Contract, found: list[ir.Assumption]) -> ir.Contract:
    """The contract with each assumption's text on the measure, regime, rule or remedy it
    drives, and the whole list on the contract."""
    def texts(owner: str, rule: int | None = None, any_rule: bool = False) -> tuple[str, ...]:
        return tuple(a.text for a in found if a.owner == owner and (any_rule or a.rule == rule))

    measures = tuple(attrs.evolve(m, assumptions=texts(f"measure {m.id}", any_rule=True))
                     for m in contract.measures)
    regimes = tuple(attrs.evolve(
        r, assumptions=texts(f"regime {r.name}"),
        rules=tuple(attrs.evolve(rule, assumptions=texts(f"regime {r.name}", i))
                    for i, rule in enumerate(r.rules))) for r in contract.regimes)
    remedies = tuple(attrs.evolve(r, assumptions=texts(f"remedy {r.name}", any_rule=True))
                     for r in contract.remedies)
    reviews = tuple(attrs.evolve(r, assumptions=texts(f"review {r.name}", any_rule=True))
                    for r in contract.reviews)
    assurances = tuple(attrs.evolve(a, assumptions=texts(f"assurance {a.name}", any_rule=True))
                       for a in getattr(contract, "assurances", ()))
    return attrs.evolve(contract, measures=measures, regimes=regimes, remedies=remedies,
                        reviews=reviews, assumptions=tuple(found), assurances=assurances)


def empty(found: list[ir.Assumption]) -> list[ir.Assumption]:
    """The assumptions that give no reason (an error: a reader must learn what was assumed)."""
    return [a for a in found if not a.text.strip()]


# ---- reports --------------------------------------------------------------------------------


def public(contract: Any) -> list[dict[str, Any]]:
    """The top-level JSON list: each assumption with where it is and what it qualifies."""
    return [{"assumption": a.text, "applies_to": a.owner, "clause": a.clause,
             "file": a.file, "line": a.line} for a in getattr(contract, "assumptions", ())]


def header(contract: Any) -> list[str]:
    """The texts of the header's assumptions (the service start and the like), in file order."""
    return [a.text for a in getattr(contract, "assumptions", ()) if a.owner == HEADER]


def with_header(contract: Any, head: dict[str, Any]) -> dict[str, Any]:
    """The JSON ``contract`` object, with an ``assumptions`` key when the header declares any."""
    found = header(contract)
    return {**head, "assumptions": found} if found else head


def with_results(contract: Any, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Result rows of measures that declare assumptions, with an ``assumptions`` key added."""
    by_measure = {m.id: list(m.assumptions) for m in contract.measures
                  if getattr(m, "assumptions", ())}
    if not by_measure:
        return results
    if hasattr(results, "with_notes"):  # lazy rows (pmir_dsl.evaluate.Results): added as built
        return results.with_notes(by_measure)  # type: ignore[no-any-return]
    return [{**r, "assumptions": by_measure[r["measure"]]} if r["measure"] in by_measure else r
            for r in results]


def with_reviews(contract: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Review rows and notices of reviews that declare assumptions, with them added."""
    by_review = {r.name: list(r.assumptions) for r in getattr(contract, "reviews", ())
                 if getattr(r, "assumptions", ())}
    if not by_review:
        return rows
    return [{**r, "assumptions": by_review[r["review"]]} if r.get("review") in by_review
            else r for r in rows]


def regime_row(regime: ir.Regime, rule: ir.Rule | None) -> list[str] | None:
    """What a regime row's level rests on: the regime's own assumptions and those of the rule
    that set the level (None when the regime declares none, so its rows get no key)."""
    if not regime.assumptions and not any(r.assumptions for r in regime.rules):
        return None
    return list(regime.assumptions) + (list(rule.assumptions) if rule is not None else [])


def lint_lines(contract: ir.Contract) -> list[str]:
    """``pmirc lint --assumptions``: one line per assumption, FILE:LINE first."""
    out = []
    for a in contract.assumptions:
        what = f"{a.owner}, {a.clause}" if a.clause else a.owner
        out.append(f"{a.file}:{a.line}: {what}: assume \"{a.text}\"")
    return out
