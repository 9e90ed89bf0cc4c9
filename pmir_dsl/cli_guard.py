"""What keeps the command line safe to use: checked arguments, output to a closed pipe, Ctrl-C.

* Arguments are checked where argparse reads them, so a mistake is a usage error (exit 2) that
  names the option: ``--as-of`` must be a real ``YYYY-MM-DD`` date within the span pmirc
  evaluates (limits.py), counts such as ``--chunk-rows`` and ``--width`` must be positive.
* Output to a pipe that closes early (``pmirc lint bad.pmir | head -1``) is dropped quietly and
  the command still finishes and exits with its real status; no traceback.
* A far ``--as-of`` (more than a month after every date in the data, or before all of them) is
  probably a typing mistake: :func:`as_of_warnings` says so on standard error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from .span import SPAN_TEXT, in_span

#: An --as-of this many days after the latest date in the data gets a warning.
LATE_AS_OF_DAYS = 31


def as_of_date(text: str) -> str:
    """argparse type of ``--as-of``: a real calendar date written YYYY-MM-DD, within the span."""
    try:
        day = dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date written YYYY-MM-DD")
    if not in_span(day):
        raise argparse.ArgumentTypeError(f"'{text}' is outside the dates pmirc evaluates "
                                         f"({SPAN_TEXT})")
    return text


def at_least(least: int) -> Callable[[str], int]:
    """argparse type of a whole-number option that must be ``least`` or more."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
        return value
    parse.__name__ = f"whole number of at least {least}"
    return parse


def as_of_warnings(tables: dict[str, Any], as_of: str, spans: Any = ()) -> list[str]:
    """Warnings when a given --as-of is far after every date in the data, or before them all
    (``spans``: the earliest and latest dates of streamed tables' date columns)."""
    from .pipeline import date_spans
    import numpy as np

    found = [(lo, hi) for lo, hi in date_spans(tables, spans) if lo is not None]
    if not found:
        return []
    first = min(lo for lo, _ in found)
    last = max(hi for _, hi in found)
    day = np.datetime64(as_of, "D")
    if day > last + np.timedelta64(LATE_AS_OF_DAYS, "D"):
        return [f"warning[far-as-of]: --as-of {as_of} is more than a month after every date in "
                f"the data (the latest is {last}): is it the extract's date?"]
    if day < first:
        return [f"warning[far-as-of]: --as-of {as_of} is before every date in the data (the "
                f"earliest is {first}): nothing in it has happened yet"]
    return []


class PipeSafe:
    """A text stream that drops what it cannot write once its reader has gone (a closed pipe),
    so that a command still finishes and returns its real exit status."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        """Point the file descriptor at /dev/null: Python's own flush at exit must not fail."""
        self.closed_pipe = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Make standard output and standard error safe to write to a pipe that closes early."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, PipeSafe) and stream is not None:
            setattr(sys, name, PipeSafe(stream))
