"""Working days: UK bank holiday calendars and Excel ``WORKDAY`` arithmetic over date arrays.

A working day is Monday to Friday and not a bank holiday of the contract's calendar (semantics.md
section 1). Bank holidays come from the ``holidays`` package (substitute days and one-off days
such as the 2022 Platinum Jubilee, the 2022 State Funeral and the 2023 Coronation included), with
the contract's own ``add holiday`` / ``remove holiday`` changes applied on top.
"""

from __future__ import annotations

import functools

import attrs
import holidays
import numpy as np

#: The calendars a contract may name, and the ``holidays`` subdivision of the United Kingdom each uses.
REGIONS = {
    "england_and_wales": "ENG",
    "scotland": "SCT",
    "northern_ireland": "NIR",
}

#: Bank holidays are generated for this span of years at most (dates beyond have none).
FIRST_YEAR, LAST_YEAR = 1950, 2100


@attrs.frozen
class CalendarSpec:
    """A contract's calendar: a UK region and the dates it adds to or removes from it."""

    region: str = "england_and_wales"
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def bank_holidays(self, first_year: int, last_year: int) -> np.ndarray:
        """The calendar's bank holidays from ``first_year`` to ``last_year``, sorted, as dates."""
        days = set(_region_holidays(self.region, max(first_year, FIRST_YEAR),
                                    min(last_year, LAST_YEAR)))
        days |= {np.datetime64(d, "D") for d in self.added}
        days -= {np.datetime64(d, "D") for d in self.removed}
        return np.array(sorted(days), dtype="datetime64[D]")

    def busdaycalendar(self, first_year: int, last_year: int) -> np.busdaycalendar:
        """A numpy business-day calendar (Mon-Fri, less bank holidays) for the years given."""
        return np.busdaycalendar(weekmask="1111100",
                                 holidays=self.bank_holidays(first_year, last_year))


@functools.cache
def _region_holidays(region: str, first_year: int, last_year: int) -> tuple[np.datetime64, ...]:
    if first_year > last_year:
        return ()
    found = holidays.country_holidays("GB", subdiv=REGIONS[region],
                                      years=range(first_year, last_year + 1))
    return tuple(np.datetime64(d, "D") for d in sorted(found))


def workday(dates: np.ndarray, days: np.ndarray | int, cal: np.busdaycalendar) -> np.ndarray:
    """Excel ``WORKDAY(D, N)`` for each date: the N-th working day after D (N >= 0).

    D itself is not counted and may be a non-working day, so a Saturday plus one working day is
    the following Monday if that is a working day. N = 0 gives D unchanged. NaT stays NaT.
    Millions of records share a few hundred dates and a few values of N, so the offsets are
    worked out once per (date, N) on the span of dates and looked up.
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    days = np.broadcast_to(np.asarray(days, dtype=np.int64), dates.shape)
    ok = ~np.isnat(dates)
    out = np.full(dates.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    if not ok.any():
        return out
    d, n = dates[ok], days[ok]
    lo = d.min()
    span = int((d.max() - lo).astype(np.int64)) + 1
    values = np.flatnonzero(np.bincount(n)) if n.min() >= 0 and n.max() < 4096 else None
    if values is None or span * len(values) > len(d):
        out[ok] = _offset(d, n, cal)
        return out
    every = lo + np.arange(span)
    table = np.stack([_offset(every, np.full(span, v), cal) for v in values])
    row = np.zeros(int(values.max()) + 1, dtype=np.int64)
    row[values] = np.arange(len(values))
    out[ok] = table[row[n], (d - lo).astype(np.int64)]
    return out


def _offset(d: np.ndarray, n: np.ndarray, cal: np.busdaycalendar) -> np.ndarray:
    return np.where(n == 0, d, np.busday_offset(d, n, roll="backward", busdaycal=cal))


def next_working_day(dates: np.ndarray, cal: np.busdaycalendar) -> np.ndarray:
    """Each date if it is a working day, else the next working day after it. NaT stays NaT."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    ok = ~np.isnat(dates)
    out = dates.copy()
    out[ok] = np.busday_offset(dates[ok], 0, roll="forward", busdaycal=cal)
    return out
