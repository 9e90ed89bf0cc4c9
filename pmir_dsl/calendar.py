"""Working days: UK bank holiday calendars and Excel ``WORKDAY`` arithmetic over date arrays.

A working day is Monday to Friday and not a bank holiday of the contract's calendar (semantics.md
section 1). Bank holidays come from the ``holidays`` package (substitute days and one-off days
such as the 2022 Platinum Jubilee, the 2022 State Funeral and the 2023 Coronation included), with
the contract's own ``add holiday`` / ``remove holiday`` changes applied on top.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import numpy as np

# numpy and holidays are imported where used: checking a contract (``pmirc lint``) needs
# CalendarSpec and REGIONS only, and importing them costs a quarter of a second

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
        import numpy as np

        days = set(_region_holidays(self.region, max(first_year, FIRST_YEAR),
                                    min(last_year, LAST_YEAR)))
        days |= {np.datetime64(d, "D") for d in self.added}
        days -= {np.datetime64(d, "D") for d in self.removed}
        return np.array(sorted(days), dtype="datetime64[D]")

    def busdaycalendar(self, first_year: int, last_year: int) -> np.busdaycalendar:
        """A numpy business-day calendar (Mon-Fri, less bank holidays) for the years given."""
        import numpy as np

        return np.busdaycalendar(weekmask="1111100",
                                 holidays=self.bank_holidays(first_year, last_year))


def load_holidays() -> None:
    """Import ``holidays`` and its United Kingdom tables (loaded on their first use), the
    0.1-0.3 s the first calendar of a process would otherwise spend in ``make_batch`` before
    any chunk starts: :func:`pmir_dsl.jit.preload` does it while large tables are read."""
    import holidays

    holidays.country_holidays("GB")


@functools.cache
def _region_holidays(region: str, first_year: int, last_year: int) -> tuple[np.datetime64, ...]:
    if first_year > last_year:
        return ()
    import holidays
    import numpy as np

    found = holidays.country_holidays("GB", subdiv=REGIONS[region],
                                      years=range(first_year, last_year + 1))
    return tuple(np.datetime64(d, "D") for d in sorted(found))


@attrs.frozen(eq=False)
class DaySpan:
    """A date column as offsets into the span of its dates, to look values of each date up in a
    table built once over the span (millions of records share a few hundred dates).

    ``at`` is each record's days after ``first`` (int32), ``size`` for NaT: a table of
    ``size + 1`` entries, the last one NaT's, is read with ``table[at]``.
    """

    first: int
    size: int
    at: np.ndarray
    ok: np.ndarray  # not NaT

    @classmethod
    def of(cls, dates: np.ndarray, compiled: bool = False) -> DaySpan:
        """The span of ``dates`` (datetime64[D]) and each date's offset in it (``compiled``: by
        a compiled loop, pmir_dsl/kernels_eval.py, the same integers)."""
        import numpy as np

        day = np.asarray(dates, dtype="datetime64[D]").view(np.int64)
        if compiled and len(day):
            from . import kernels_eval  # here: numba only where the loops are used

            day = np.ascontiguousarray(day)
            at, ok = np.empty(len(day), dtype=np.int32), np.empty(len(day), dtype=np.bool_)
            lo, size = kernels_eval.day_span(day, at, ok)
            if size >= 0:
                return cls(int(lo) if size else 0, int(size), at, ok)
        ok = day != np.iinfo(np.int64).min  # NaT
        if not ok.any():
            return cls(0, 0, np.zeros(len(day), dtype=np.int32), ok)
        lo = int(day.min(where=ok, initial=np.iinfo(np.int64).max))
        size = int(day.max()) - lo + 1
        kind = np.int32 if size < 2**31 - 1 else np.int64
        return cls(lo, size, np.where(ok, day - lo, size).astype(kind), ok)

    def days(self) -> np.ndarray:
        """Every date of the span, as datetime64[D]."""
        import numpy as np

        return np.arange(self.first, self.first + self.size).astype("datetime64[D]")

    def months(self, missing: int) -> np.ndarray:
        """Months since 1970-01 of each date (``missing`` for NaT), by looking them up."""
        import numpy as np

        table = np.empty(self.size + 1, dtype=np.int64)
        table[:-1] = self.days().astype("datetime64[M]").astype(np.int64)
        table[-1] = missing
        return table[self.at]


def month_numbers(dates: np.ndarray, missing: int, span: DaySpan | None = None) -> np.ndarray:
    """Months since 1970-01 of each date (``missing`` for NaT): ``datetime64[D]`` to ``[M]``,
    looked up over the dates' span when that is shorter than the column (a calendar conversion
    per record is several times slower than a lookup)."""
    import numpy as np

    span = span if span is not None else DaySpan.of(dates)
    if span.size <= max(len(dates), 1):
        return span.months(missing)
    months = np.asarray(dates, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
    months[~span.ok] = missing
    return months


def workday(dates: np.ndarray, days: np.ndarray | int, cal: np.busdaycalendar,
            span: DaySpan | None = None) -> np.ndarray:
    """Excel ``WORKDAY(D, N)`` for each date: the N-th working day after D (N >= 0).

    D itself is not counted and may be a non-working day, so a Saturday plus one working day is
    the following Monday if that is a working day. N = 0 gives D unchanged. NaT stays NaT.
    Millions of records share a few hundred dates and a few values of N, so the offsets are
    worked out once per (date, N) on the span of dates and looked up (``span``: the dates'
    :class:`DaySpan`, if the caller has it already).
    """
    import numpy as np

    dates = np.asarray(dates, dtype="datetime64[D]")
    n = np.asarray(days, dtype=np.int64)
    span = span if span is not None else DaySpan.of(dates)
    ok = span.ok
    if not span.size:
        return dates.copy()
    values = np.arange(1) + int(n) if n.ndim == 0 else _small_values(n[ok])
    if values is None or span.size * len(values) > len(dates):
        out = np.full(dates.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        out[ok] = _offset(dates[ok], np.broadcast_to(n, dates.shape)[ok], cal)
        return out
    every = span.days()
    table = np.stack([_offset(every, np.full(span.size, v), cal) for v in values]).view(np.int64)
    table = np.concatenate([table, np.full((len(values), 1), np.iinfo(np.int64).min)], axis=1)
    if n.ndim == 0:  # NaT looks up the NaT column
        return table[0][span.at].view("datetime64[D]")
    row = np.zeros(int(values.max()) + 1, dtype=np.int64)
    row[values] = np.arange(len(values)) * (span.size + 1)
    return table.reshape(-1)[row[np.where(ok, n, values[0])] + span.at].view("datetime64[D]")


def span_table(span: DaySpan, values: Sequence[int], step: Callable[[np.ndarray, int], np.ndarray]
               ) -> np.ndarray:
    """``step(every date of the span, v)`` for each of ``values`` as day numbers (int64), one
    row of ``span.size + 1`` per value, the last entry of each NaT's (NaT): a date's result is
    ``table[row * (span.size + 1) + span.at]``, flattened. The compiled loops read deadlines
    from it (pmir_dsl/kernels_eval.py)."""
    import numpy as np

    every = span.days()
    table = np.full((len(values), span.size + 1), np.iinfo(np.int64).min, dtype=np.int64)
    for i, v in enumerate(values):
        table[i, :-1] = np.asarray(step(every, v), dtype="datetime64[D]").view(np.int64)
    return table.reshape(-1)


def working_step(cal: np.busdaycalendar) -> Callable[[np.ndarray, int], np.ndarray]:
    """:func:`workday` of dates and one N, for :func:`span_table`."""
    import numpy as np

    return lambda d, v: _offset(d, np.full(len(d), v), cal)


def _small_values(n: np.ndarray) -> np.ndarray | None:
    """The distinct values of N when they are few small non-negative numbers, else None."""
    import numpy as np

    if not len(n) or n.min() < 0 or n.max() >= 4096:
        return None
    return np.flatnonzero(np.bincount(n))


def _offset(d: np.ndarray, n: np.ndarray, cal: np.busdaycalendar) -> np.ndarray:
    import numpy as np

    return np.where(n == 0, d, np.busday_offset(d, n, roll="backward", busdaycal=cal))


def next_working_day(dates: np.ndarray, cal: np.busdaycalendar) -> np.ndarray:
    """Each date if it is a working day, else the next working day after it. NaT stays NaT."""
    import numpy as np

    dates = np.asarray(dates, dtype="datetime64[D]")
    ok = ~np.isnat(dates)
    out = dates.copy()
    out[ok] = np.busday_offset(dates[ok], 0, roll="forward", busdaycal=cal)
    return out


def add_months(dates: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Excel's ``EDATE``: the same day ``months`` calendar months after each date, or the last
    day of that month where it is shorter (31 January + 1 month = 28 or 29 February). NaT stays
    NaT."""
    import numpy as np

    first = dates.astype("datetime64[M]")
    target = first + np.asarray(months, dtype=np.int64)
    offset = dates - first.astype("datetime64[D]")
    last = (target + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    return np.minimum(target.astype("datetime64[D]") + offset, last)
