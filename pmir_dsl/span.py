"""The span of dates pmirc evaluates, without numpy: the checker and the command line's
argument checks read it before (or without) loading data, and ``pmirc lint`` imports no numpy.

:mod:`pmir_dsl.limits` holds the same span as numpy dates for the data checks.
"""

from __future__ import annotations

import datetime as dt
import re

#: The first and last dates pmirc evaluates (docs/reliability.md), written YYYY-MM-DD.
FIRST_DAY, LAST_DAY = "1900-01-01", "2199-12-31"
SPAN_TEXT = f"{FIRST_DAY} to {LAST_DAY}"

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def in_span(day: object) -> bool:
    """Whether a date (``YYYY-MM-DD`` text, a ``datetime.date`` or a numpy day) lies within
    the span: ISO dates of four-digit years compare as their text does."""
    text = str(day)
    return bool(_ISO.fullmatch(text)) and FIRST_DAY <= text <= LAST_DAY


def calendar_date(text: str) -> bool:
    """Whether ``text`` is a real calendar date written YYYY-MM-DD (year 0000 included, as
    numpy's proleptic calendar has it: a leap year)."""
    m = _ISO.fullmatch(text)
    if m is None:
        return False
    year = int(m.group(1)) or 2000  # year 0 is a leap year, like 2000
    try:
        dt.date(year, int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True
