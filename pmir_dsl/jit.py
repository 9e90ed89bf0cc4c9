"""Compiled loops for the passes numpy makes many times over (issue 12).

numpy evaluates a measure as a dozen whole-array operations, each one pass over the records; a
loop compiled by numba makes them in one. The loops are this package's own functions, written
in Python and compiled to machine code on first use (then cached on disk, beside the module or
in numba's per-user cache): nothing a ``.pmir`` file or a data file says is ever compiled or run.
Every loop has a numpy twin that gives the same integers; ``tests/test_jit.py`` holds them to it.

Whether the loops are used (:func:`wanted`):

* ``PMIRC_JIT=1``: always; ``PMIRC_JIT=0``: never (numpy only);
* otherwise when the largest table of the run has at least :data:`JIT_MIN_ROWS` rows: importing
  numba and loading the cached loops costs about 0.3 s, paid back only on large tables.

numba is imported only when a loop is first called, so ``pmirc lint`` and small checks never
load it.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: Rows of the largest table from which the compiled loops are used when PMIRC_JIT is not set.
JIT_MIN_ROWS = 2_000_000

_LOCK = threading.Lock()


def setting() -> bool | None:
    """PMIRC_JIT as a choice: True (``1``), False (``0``), None (unset or anything else: by size)."""
    value = os.environ.get("PMIRC_JIT", "").strip()
    return {"1": True, "0": False}.get(value)


def wanted(rows: int) -> bool:
    """Whether a run whose largest table has ``rows`` rows uses the compiled loops."""
    chosen = setting()
    return rows >= JIT_MIN_ROWS if chosen is None else chosen


def kernel(fn: F) -> F:
    """``fn`` compiled by numba (no Python objects, the GIL released, cached on disk) when it is
    first called; ``.py_func`` is the plain Python function (for tests on tiny inputs)."""
    compiled: list[Any] = []

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        if not compiled:
            with _LOCK:  # two threads' first calls compile it once
                if not compiled:
                    compiled.append(_compile(fn))
        return compiled[0](*args)

    call.py_func = fn  # type: ignore[attr-defined]
    call.compiled = compiled  # type: ignore[attr-defined]  # the dispatcher, once loaded
    return call  # type: ignore[return-value]


#: Functions the loops call (:func:`helper`), and whether numba has been told of them.
_HELPERS: list[Callable[..., Any]] = []
_HELPERS_REGISTERED: list[bool] = []


def helper(fn: F) -> F:
    """``fn`` callable from the loops as well as from Python (the loops' ``py_func``): numba
    compiles it into each loop that calls it (``numba.extending.register_jitable``, done when
    the first loop is compiled, so that importing a module of loops imports no numba)."""
    _HELPERS.append(fn)
    return fn


_PRELOADED: list[threading.Thread] = []


def _compile(fn: Callable[..., Any]) -> Any:
    """``fn`` compiled by numba, cached on disk where numba finds a folder it can write (beside
    the module, else its per-user cache); compiled afresh in each process where it finds none
    (a read-only installation and home), rather than failing the run. Called under
    ``_LOCK``."""
    import numba  # noqa: PLC0415  (lazy: only runs that use a loop pay for it)
    from numba.extending import register_jitable  # noqa: PLC0415

    if not _HELPERS_REGISTERED:
        for h in _HELPERS:
            register_jitable(h)
        _HELPERS_REGISTERED.append(True)
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(fn)


def preload() -> None:
    """Import numba and load a first loop from its cache, then load the bank-holiday tables
    every evaluation's calendar reads (:func:`pmir_dsl.calendar.load_holidays`), on another
    thread (while tables are read), once per process. The thread is not a daemon: a run that
    stops early waits for it to finish rather than leave the import half done at exit."""
    with _LOCK:
        if _PRELOADED:
            return
        _PRELOADED.append(threading.Thread(target=_import, name="pmirc-import-numba"))
    _PRELOADED[0].start()


def _import() -> None:
    try:
        import numba  # noqa: F401, PLC0415
    except ImportError:  # pragma: no cover - numba is a dependency; the first kernel says so
        pass
    else:
        _warm()
    from .calendar import load_holidays  # noqa: PLC0415

    try:
        load_holidays()
    except Exception:  # noqa: BLE001  # pragma: no cover - the evaluation's calendar reports it
        pass


def _warm() -> None:
    """Load one loop from numba's cache, with the argument types the evaluation passes it: the
    first loop a process loads sets up numba's code generation (about 0.2 s, more than the
    import's remainder), which then overlaps the read instead of delaying the evaluation. A
    failure here is left to the evaluation's own first call, which reports it."""
    import numpy as np  # noqa: PLC0415

    from . import kernels_eval  # noqa: PLC0415  (kernels_eval imports this module)

    try:
        kernels_eval.day_span(np.zeros(1, np.int64), np.empty(1, np.int32),
                              np.empty(1, np.bool_))
    except Exception:  # noqa: BLE001  # pragma: no cover - the evaluation's call reports it
        pass
