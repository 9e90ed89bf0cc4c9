"""Escalation and remedies over hand-written month sequences (semantics.md 7)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from pmir_dsl import ir
from pmir_dsl.check import check_source
from pmir_dsl.diagnostics import CompileError
from pmir_dsl.errors import DataError
from pmir_dsl.evaluate import Axis
from pmir_dsl.regimes import escalations, remedies
from pmir_dsl.schema import Column, ColumnSpec, ColumnType, Table

JAN_2024 = int(np.datetime64("2024-01", "M").astype(np.int64))
F, M, N = False, True, None  # failed, met, not assessed


def results(**measures: list[bool | None]) -> list[dict[str, Any]]:
    """In-month results for provider P of each measure, month by month from January 2024."""
    return [{"measure": name, "group": {"provider": "P"}, "basis": "in_month",
             "period": str(np.datetime64(JAN_2024 + i, "M")), "met": met}
            for name, months in measures.items() for i, met in enumerate(months)]


def axis(months: int) -> Axis:
    return Axis(JAN_2024, JAN_2024 + months - 1)


def atom(kind: str, quantifier: str, measures: tuple[str, ...], k: int, n: int) -> ir.Atom:
    return ir.Atom(kind, quantifier, measures, k, n)


TWO_OF_THREE = atom("failed_k_of_n", "any", ("A", "B"), 2, 3)
REGIME = ir.Regime("pmir", "PMIR", "", ("provider",), ((1, "Standard"), (2, "Enhanced"),
                                                       (3, "Informal"), (4, "Formal")), (
    ir.Rule(True, 4, None, (atom("failed_run", "any", ("A", "B"), 6, 6),)),
    ir.Rule(True, 3, 2, (atom("failed_run", "any", ("A", "B"), 3, 3),)),
    ir.Rule(True, 2, None, (TWO_OF_THREE,)),
    ir.Rule(False, 1, None, (atom("met_run", "all", ("A", "B"), 3, 3),)),
))


def levels(**measures: list[bool | None]) -> list[int]:
    n = len(next(iter(measures.values())))
    return [e["level"] for e in escalations(REGIME, results(**measures), axis(n))]


def test_two_of_three_months_counts_assessed_failures_only() -> None:
    assert levels(A=[F, N, F, M], B=[M, M, M, M]) == [1, 1, 2, 2]
    assert levels(A=[F, N, N, F], B=[M, M, M, M]) == [1, 1, 1, 1]  # window Feb-Apr: 1 failure
    # the same measure must fail twice: one failure each of A and B is not 2 of 3
    assert levels(A=[F, M, M], B=[M, F, M]) == [1, 1, 1]


def test_consecutive_months_and_not_assessed_breaks_the_run() -> None:
    # 2 of 3 puts P on level 2 in February; three consecutive failures from level 2 -> 3
    assert levels(A=[F, F, F, M, M, M], B=[M] * 6) == [1, 2, 3, 3, 3, 1]
    assert levels(A=[F, F, N, F, F, M], B=[M] * 6) == [1, 2, 2, 2, 2, 2]


def test_direct_entry_to_level_4() -> None:
    got = levels(A=[F] * 7, B=[M] * 7)
    assert got[:6] == [1, 2, 3, 3, 3, 4]  # six consecutive failures: formal action directly
    entries = escalations(REGIME, results(A=[F] * 6, B=[M] * 6), axis(6))
    assert entries[5]["reasons"] == ["A failed 2024-01 to 2024-06 (6 consecutive months)"]
    assert entries[5]["changed"] and entries[4]["changed"] is False
    jump = ir.Regime("r", "R", "", ("provider",), ((1, "a"), (4, "d")), (
        ir.Rule(True, 4, None, (atom("failed_run", "any", ("A",), 1, 1),)),
        ir.Rule(False, 1, None, (atom("met_run", "all", ("A",), 1, 1),))))
    assert [e["level"] for e in escalations(jump, results(A=[M, F, M]), axis(3))] == [1, 4, 1]


def test_reasons_name_measures_and_months() -> None:
    entries = escalations(REGIME, results(A=[F, M, F], B=[M, M, M]), axis(3))
    assert entries[2]["reasons"] == ["A failed in 2024-01 and 2024-03"]
    back = escalations(REGIME, results(A=[F, F, M, M, M], B=[M] * 5), axis(5))
    assert back[4]["reasons"] == ["A, B met 2024-03 to 2024-05 (3 consecutive months)"]


FEE = 5_000_001  # an odd number of pence: half is rounded down


def fee_table(months: int, fee: int = FEE, skip: int | None = None) -> Table:
    rows = [i for i in range(months) if i != skip]
    spec = {n: ColumnSpec(n, t) for n, t in (("provider", ColumnType.TEXT),
                                              ("month", ColumnType.MONTH),
                                              ("service_fee_pence", ColumnType.INTEGER))}
    cols = {"provider": Column(spec["provider"], np.zeros(len(rows), np.int32), None, ("P",)),
            "month": Column(spec["month"], np.array([JAN_2024 + i for i in rows], np.int32)),
            "service_fee_pence": Column(spec["service_fee_pence"],
                                        np.full(len(rows), fee, np.int64))}
    return Table("fees", "fees.csv", len(rows), "", cols)


def remedy(forfeit_at: str | None = None) -> ir.Remedy:
    return ir.Remedy("FEE", "Service Fee", "", ("provider",), "fees",
                     ColumnSpec("service_fee_pence", ColumnType.INTEGER),
                     ColumnSpec("month", ColumnType.MONTH), Fraction(1, 2), (TWO_OF_THREE,),
                     (atom("met_run", "all", ("A", "B"), 1, 1),), 6, forfeit_at)


def money(a: list[bool | None], forfeit_at: str | None = None,
          b: list[bool | None] | None = None) -> list[dict[str, Any]]:
    b = b if b is not None else [M] * len(a)
    return remedies(remedy(forfeit_at), results(A=a, B=b), axis(len(a)), fee_table(len(a)))


def test_deferral_then_release() -> None:
    rows = money([F, F, F, M, M])
    half = FEE // 2
    assert [r["deferred_pence"] for r in rows] == [0, half, half, 0, 0]
    assert [r["released_pence"] for r in rows] == [0, 0, 0, 2 * half, 0]
    assert [r["in_deferral"] for r in rows] == [False, True, True, False, False]
    assert rows[1]["reasons"] == ["A failed in 2024-01 and 2024-02"]
    assert sum(r["forfeited_pence"] for r in rows) == 0


def test_deferral_then_forfeit_after_6_months() -> None:
    rows = money([F, F] + [N] * 8, b=[M, M] + [N] * 8)  # nothing assessed: nothing met
    half = FEE // 2
    assert [r["deferred_pence"] for r in rows] == [0] + [half] * 9
    # the amount deferred in February (month 1) is forfeit in August (month 7), and so on
    assert [r["forfeited_pence"] for r in rows] == [0] * 7 + [half] * 3
    assert rows[-1]["outstanding_pence"] == 6 * half


def test_a_standard_with_nothing_to_assess_does_not_block_release() -> None:
    rows = money([F, F, N, M], b=[M, M, M, M])  # March: A not assessed, B met -> release
    assert [r["released_pence"] for r in rows] == [0, 0, FEE // 2, 0]


def test_everything_outstanding_is_forfeit_at_the_end_of_the_referral_period() -> None:
    rows = money([F, F, F, F], forfeit_at="2024-03-31")
    half = FEE // 2
    assert [r["forfeited_pence"] for r in rows] == [0, 0, 2 * half, half]
    assert rows[-1]["outstanding_pence"] == 0


def test_fees_missing_a_month_or_negative_are_data_errors() -> None:
    with pytest.raises(DataError, match="fees missing for provider P in 1 month"):
        remedies(remedy(), results(A=[M] * 3, B=[M] * 3), axis(3), fee_table(3, skip=1))
    with pytest.raises(DataError, match="negative fees"):
        remedies(remedy(), results(A=[M] * 3, B=[M] * 3), axis(3), fee_table(3, fee=-5))


CONTRACT = """
contract "C" { service start 2024-01-01 }
table referrals { referral_id: id  provider: text  referral_date: date  decision_date: date? }
measure A "Decided" {
  population referrals
  month of referral_date
  met when decision_date within 2 working days of referral_date
  target at least 100%
  group by provider
}
"""


@pytest.mark.parametrize(("regime", "code"), [
    ("""regime r "R" { group by provider  level 1 "a"  level 2 "b"
        escalate to level 2 when any of (A) failed }""", "level-trap"),
    ("""regime r "R" { group by provider  level 1 "a"  level 2 "b"  level 3 "c"
        escalate to level 2 when any of (A) failed
        escalate to level 3 when any of (A) failed
        return to level 1 when all of (A) met }""", "contradictory-rules"),
    ("""regime r "R" { group by provider  level 1 "a"  level 2 "b"
        escalate to level 2 when any of (AA) failed
        return to level 1 when all of (A) met }""", "unknown-measure"),
    ("""regime r "R" { group by provider  level 1 "a"  level 2 "b"
        escalate to level 5 when any of (A) failed
        return to level 1 when all of (A) met }""", "unknown-level"),
    ("""regime r "R" { group by cpa  level 1 "a"  level 2 "b"
        escalate to level 2 when any of (A) failed
        return to level 1 when all of (A) met }""", "rule-measure"),
])
def test_rule_set_mistakes_are_diagnosed(regime: str, code: str) -> None:
    with pytest.raises(CompileError) as e:
        check_source(CONTRACT + regime, "c.pmir")
    assert [d.code for d in e.value.diagnostics] == [code]
    assert all(d.span is not None for d in e.value.diagnostics)


def test_a_good_rule_set_checks() -> None:
    c = check_source(CONTRACT + """regime r "R" { group by provider  level 1 "a"  level 2 "b"
        escalate to level 2 when any of (A) failed in 2 of the last 3 months
        return to level 1 when all of (A) met for 3 consecutive months }""", "c.pmir")
    assert c.regimes[0].rules[0].atoms[0] == atom("failed_k_of_n", "any", ("A",), 2, 3)
