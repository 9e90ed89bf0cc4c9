"""Event-log gaps (IPES CSS 7: at least one meeting every 4 weeks) against a per-participant loop."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import pick, run_source, write_csv
from pmir_dsl.report.terminal import pounds

CONTRACT = """
contract "Gaps" { service start 2024-01-01 }
table referrals { referral_id: id  start_date: date?  end_date: date? }
table meetings { referral_id: ref(referrals)  meeting_date: date }
measure CSS7 "Met every 4 weeks" {
  population referrals where start_date is present
  month of start_date
  met when meetings at most 28 calendar days apart from start_date until end_date
  target at least 100%
}
"""
AS_OF = dt.date(2024, 12, 31)


def largest_gap(start: dt.date, end: dt.date | None, meetings: list[dt.date]) -> int:
    """The definition, one participant at a time."""
    stop = min(end, AS_OF) if end else AS_OF
    points = [start] + sorted(m for m in meetings if start <= m <= stop) + [stop]
    return max((b - a).days for a, b in zip(points, points[1:]))


participant = st.tuples(st.integers(0, 200), st.one_of(st.none(), st.integers(0, 200)),
                        st.lists(st.integers(-10, 400), max_size=8))


@settings(max_examples=40, deadline=None)
@given(st.lists(participant, min_size=1, max_size=6))
def test_css7_matches_a_loop_over_participants(tmp_path_factory: pytest.TempPathFactory,
                                               people: list[tuple[int, int | None, list[int]]]
                                               ) -> None:
    tmp = tmp_path_factory.mktemp("gaps")
    base = dt.date(2024, 1, 1)
    refs, meets, expected = [], [], {"met": 0, "failed": 0, "pending": 0}
    for i, (s, length, days) in enumerate(people):
        start = base + dt.timedelta(days=s)
        end = start + dt.timedelta(days=length) if length is not None else None
        dates = [start + dt.timedelta(days=d) for d in days]
        refs.append([f"R{i}", start.isoformat(), end.isoformat() if end else None])
        meets += [[f"R{i}", d.isoformat()] for d in dates]
        over = largest_gap(start, end, dates) > 28
        ended = end is not None and end <= AS_OF
        expected["failed" if over else "met" if ended else "pending"] += 1
    write_csv(tmp, "referrals", ["referral_id", "start_date", "end_date"], refs)
    write_csv(tmp, "meetings", ["referral_id", "meeting_date"], meets)
    ev = run_source(CONTRACT, tmp, as_of=AS_OF.isoformat())
    t = ev.partial.counts["CSS7"].totals
    assert {"met": int(t[0]), "failed": int(t[1]), "pending": int(t[2])} == expected


def test_css7_by_hand(tmp_path: Path) -> None:
    write_csv(tmp_path, "referrals", ["referral_id", "start_date", "end_date"], [
        ["R1", "2024-01-01", "2024-03-01"],   # meetings every 4 weeks exactly: met
        ["R2", "2024-01-01", "2024-03-01"],   # a 29-day gap: failed
        ["R3", "2024-01-01", None],           # still on provision, no long gap yet: pending
    ])
    write_csv(tmp_path, "meetings", ["referral_id", "meeting_date"], [
        ["R1", "2024-01-29"], ["R1", "2024-02-26"],
        ["R2", "2024-01-30"], ["R2", "2024-02-20"],
        ["R3", "2024-01-20"], ["R9", "2024-01-20"],  # R9 is nobody: ignored
    ])
    ev = run_source(CONTRACT, tmp_path, as_of="2024-02-10")
    r = pick(ev, "CSS7", "2024-01")
    assert (r["numerator"], r["denominator"], r["pending"]) == (0, 1, 2)
    ev = run_source(CONTRACT, tmp_path, as_of="2024-03-31")
    r = pick(ev, "CSS7", "2024-01")
    assert (r["numerator"], r["denominator"]) == (1, 3)  # R3: 20 Jan to 31 Mar is over 28 days


def test_each_month_a_participant_runs(tmp_path: Path) -> None:
    source = CONTRACT.replace("month of start_date",
                              "each month from start_date until end_date")
    write_csv(tmp_path, "referrals", ["referral_id", "start_date", "end_date"], [
        ["R1", "2024-01-15", "2024-03-10"],   # January, February, March
        ["R2", "2024-02-01", None],           # February, March, April (to the as-of date)
    ])
    write_csv(tmp_path, "meetings", ["referral_id", "meeting_date"], [
        ["R1", "2024-02-05"], ["R1", "2024-03-01"],
        ["R2", "2024-02-20"],                 # then nothing: 28 days run out on 19 March
    ])
    ev = run_source(source, tmp_path, as_of="2024-04-15")
    got = [(pick(ev, "CSS7", p)["numerator"], pick(ev, "CSS7", p)["denominator"])
           for p in ("2024-01", "2024-02", "2024-03", "2024-04")]
    # R2's gap runs out in March and is still open in April: it fails both (semantics.md 7)
    assert got == [(1, 1), (2, 2), (1, 2), (0, 1)]


@pytest.mark.parametrize(("pence", "text"), [(0, "£0.00"), (250000050, "£2,500,000.50"),
                                             (-5, "-£0.05"), (99, "£0.99")])
def test_pounds(pence: int, text: str) -> None:
    assert pounds(pence) == text
