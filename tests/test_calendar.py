"""Working days: hand-computed Excel WORKDAY values around 2020-2025 UK bank holidays."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmir_dsl.calendar import CalendarSpec, DaySpan, month_numbers, next_working_day, workday

EW = CalendarSpec().busdaycalendar(2019, 2027)

# (D, N, Excel WORKDAY(D, N)) with England and Wales bank holidays, each worked out by hand.
HAND_COMPUTED = [
    ("2022-06-01", 1, "2022-06-06"),  # Spring bank holiday Thu 2 June + Platinum Jubilee Fri 3 June
    ("2022-06-02", 1, "2022-06-06"),  # D itself a bank holiday
    ("2022-05-31", 2, "2022-06-06"),
    ("2022-09-16", 1, "2022-09-20"),  # State Funeral of Queen Elizabeth II, Mon 19 Sept 2022
    ("2022-09-17", 1, "2022-09-20"),  # a Saturday
    ("2023-05-05", 1, "2023-05-09"),  # Coronation of King Charles III, Mon 8 May 2023
    ("2023-05-05", 8, "2023-05-18"),
    ("2022-12-23", 1, "2022-12-28"),  # Boxing Day Mon 26, Christmas substitute Tue 27
    ("2021-12-24", 1, "2021-12-29"),  # Christmas and Boxing Day substitutes Mon 27, Tue 28
    ("2020-12-24", 1, "2020-12-29"),  # Christmas Fri 25, Boxing Day substitute Mon 28
    ("2022-12-30", 1, "2023-01-03"),  # New Year's Day substitute Mon 2 Jan 2023
    ("2021-12-31", 1, "2022-01-04"),  # New Year's Day substitute Mon 3 Jan 2022
    ("2024-03-28", 1, "2024-04-02"),  # Good Friday 29 March, Easter Monday 1 April 2024
    ("2024-03-28", 12, "2024-04-17"),
    ("2025-04-17", 2, "2025-04-23"),  # Good Friday 18 April, Easter Monday 21 April 2025
    ("2025-12-24", 1, "2025-12-29"),
    ("2024-06-01", 1, "2024-06-03"),  # Saturday + 1 working day = Monday
    ("2024-06-02", 0, "2024-06-02"),  # N = 0 is D itself, even on a Sunday
    ("2024-06-03", 0, "2024-06-03"),
    ("2024-06-03", 10, "2024-06-17"),
]


@pytest.mark.parametrize(("day", "n", "expected"), HAND_COMPUTED)
def test_workday_matches_excel(day: str, n: int, expected: str) -> None:
    got = workday(np.array([day], dtype="datetime64[D]"), n, EW)
    assert str(got[0]) == expected


def _busday(days: np.ndarray, n: np.ndarray) -> np.ndarray:
    """WORKDAY by numpy directly, date by date (NaT stays NaT)."""
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnat(days)
    out[ok] = np.where(n[ok] == 0, days[ok],
                       np.busday_offset(days[ok], n[ok], roll="backward", busdaycal=EW))
    return out


def test_months_and_deadlines_looked_up_over_the_span_equal_the_direct_ones() -> None:
    rng = np.random.default_rng(3)
    days = np.datetime64("2021-12-01") + rng.integers(0, 500, 5000).astype("timedelta64[D]")
    days[::7] = np.datetime64("NaT")
    span = DaySpan.of(days)
    assert (span.first, span.size) == (int(days[~np.isnat(days)].min().astype(np.int64)), 500)
    assert span.size * 3 <= len(days)  # the lookup paths, not the per-record ones
    direct = days.astype("datetime64[M]").astype(np.int64)
    assert np.array_equal(month_numbers(days, -7, span), np.where(np.isnat(days), -7, direct))
    per_record = rng.integers(0, 3, len(days))
    for n in (per_record, np.full(len(days), 2)):
        assert np.array_equal(workday(days, n, EW, span).view(np.int64),
                              _busday(days, n).view(np.int64))
    assert np.array_equal(workday(days, 2, EW, span).view(np.int64),
                          _busday(days, np.full(len(days), 2)).view(np.int64))


def test_months_of_a_span_longer_than_the_column_are_converted_directly() -> None:
    days = np.array(["1950-03-31", "NaT", "2150-01-01"], dtype="datetime64[D]")
    assert DaySpan.of(days).size > len(days)
    assert month_numbers(days, -1).tolist() == [(1950 - 1970) * 12 + 2, -1, (2150 - 1970) * 12]
    nothing = np.array(["NaT", "NaT"], dtype="datetime64[D]")
    assert month_numbers(nothing, -1).tolist() == [-1, -1]
    assert np.isnat(workday(nothing, 1, EW)).all()


def test_workday_vectorised_with_per_record_days_and_nat() -> None:
    days = np.array(["2022-06-01", "NaT", "2023-05-05"], dtype="datetime64[D]")
    got = workday(days, np.array([1, 3, 8]), EW)
    assert [str(x) for x in got] == ["2022-06-06", "NaT", "2023-05-18"]


def test_scotland_has_its_own_bank_holidays() -> None:
    sct = CalendarSpec("scotland").busdaycalendar(2024, 2025)
    d = np.array(["2024-01-01"], dtype="datetime64[D]")
    assert str(workday(d, 1, sct)[0]) == "2024-01-03"  # 2 January is a Scottish bank holiday
    assert str(workday(d, 1, EW)[0]) == "2024-01-02"
    assert str(workday(np.array(["2024-11-29"], dtype="datetime64[D]"), 1, sct)[0]) == "2024-12-03"


def test_added_and_removed_dates() -> None:
    spec = CalendarSpec(added=("2024-12-24",), removed=("2024-12-26",))
    cal = spec.busdaycalendar(2024, 2025)
    d = np.array(["2024-12-23"], dtype="datetime64[D]")
    assert str(workday(d, 1, cal)[0]) == "2024-12-26"  # 24th added, 25th holiday, 26th removed


@pytest.mark.parametrize(("day", "expected"), [
    ("2024-09-15", "2024-09-16"),  # Sunday
    ("2023-04-15", "2023-04-17"),  # Saturday
    ("2025-01-15", "2025-01-15"),  # a working day stays
    ("2022-06-02", "2022-06-06"),  # bank holidays roll on too
])
def test_next_working_day(day: str, expected: str) -> None:
    assert str(next_working_day(np.array([day], dtype="datetime64[D]"), EW)[0]) == expected


def _step(day: dt.date, n: int, holidays: set[dt.date]) -> dt.date:
    """WORKDAY by its definition: step one day at a time, counting working days."""
    d = day
    while n > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            n -= 1
    return d


@settings(max_examples=300, deadline=None)
@given(st.dates(dt.date(2020, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 40))
def test_workday_equals_stepping_day_by_day(day: dt.date, n: int) -> None:
    holidays = {d.item() for d in CalendarSpec().bank_holidays(2019, 2027)}
    got = workday(np.array([day], dtype="datetime64[D]"), n, EW)[0]
    assert got.item() == _step(day, n, holidays)


def test_add_months_is_excels_edate() -> None:
    """Within N calendar months (WP 8.30): the same day N months on, or that month's last day."""
    from pmir_dsl.calendar import add_months
    from pmir_dsl.reference import edate

    days = np.array(["2023-01-31", "2024-01-31", "2023-03-31", "2023-12-15", "NaT"],
                    dtype="datetime64[D]")
    got = add_months(days, 1).astype(str).tolist()
    assert got == ["2023-02-28", "2024-02-29", "2023-04-30", "2024-01-15", "NaT"]
    assert add_months(days[:1], 12)[0] == np.datetime64("2024-01-31")
    for day, want in zip(days[:4], got):
        assert str(edate(day.astype(object), 1)) == want  # the reference engine agrees
