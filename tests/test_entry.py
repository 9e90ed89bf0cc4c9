"""The ``pmirc`` console script's Ctrl-C while it imports (pmir_dsl/entry.py)."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from pmir_dsl import cli, entry


def _handlers(monkeypatch: pytest.MonkeyPatch, at_start: Any) -> tuple[list[Any], int]:
    """The SIGINT handlers entry.main sets, in order, in a process whose handler was
    ``at_start``, and its exit status (the command line itself stubbed)."""
    set_to: list[Any] = []
    monkeypatch.setattr(signal, "getsignal", lambda sig: at_start)
    monkeypatch.setattr(signal, "signal", lambda sig, handler: set_to.append(handler) or
                        at_start)
    monkeypatch.setattr(cli, "main", lambda: 0)
    with pytest.raises(SystemExit) as stop:
        entry.main()
    return set_to, stop.value.code


def test_ctrl_c_while_importing_is_handled_then_given_back(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    assert _handlers(monkeypatch, signal.default_int_handler) == (
        [entry._interrupted, signal.default_int_handler], 0)


def test_a_process_started_with_ctrl_c_ignored_keeps_ignoring_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """In the background (``nohup``, ``cmd &`` in a script) Ctrl-C stays ignored, imports
    included, as it is for the rest of the run."""
    assert _handlers(monkeypatch, signal.SIG_IGN) == ([signal.SIG_IGN], 0)
