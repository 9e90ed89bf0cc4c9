"""limits.py: the date spans remembered for the loader and the checks."""
from __future__ import annotations

import sys
import threading

import numpy as np

from pmir_dsl import limits


def test_date_spans_remembered_from_many_threads_at_once() -> None:
    """Chunks are evaluated on threads, each asking for (and remembering) date spans; forgetting
    the columns no longer alive must not trip over another thread's entry (it once raised
    'dictionary changed size during iteration' once 256 spans had been remembered)."""
    errors: list[BaseException] = []

    def ask() -> None:
        alive = []  # kept: more than 256 spans, so every new one looks for dead ones
        try:
            for i in range(1000):
                dates = np.array([i, i + 1], dtype="datetime64[D]")
                assert limits.date_span(dates) == (dates[0], dates[1])
                alive.append(dates)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
    threads = [threading.Thread(target=ask) for _ in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often: the race shows within a run
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[0]
