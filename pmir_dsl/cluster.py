"""``pmirc check --engine dask``: the batches of the streamed tables evaluated on a
dask.distributed cluster, their partials merged here, exactly as the numpy engine merges chunks.

This process reads the data (the first pass of :mod:`pmir_dsl.stream`: problems, repeated ids,
date spans, hashes) and sends each batch's raw Arrow columns to a worker, which parses them with
the loader's parsers and reduces them to a :class:`~pmir_dsl.evaluate.Partial`. The looked-up
tables and the compiled plan are sent to every worker once. Partials come back in batch order
and are merged in that order, a few batches in flight at a time (memory stays bounded), so the
JSON is byte-identical to ``--engine numpy``.

Workers need pmirc (the same version) importable; they read no files. The default cluster is a
:class:`distributed.LocalCluster` of threads in this process (``processes=False``): the machine's
cores without starting processes. ``--scheduler ADDRESS`` uses a running cluster instead.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from . import stream
from .compile import Batch, Plan
from .evaluate import Partial, merge, partials
from .load import _Source
from .pipeline import Evaluation, slice_table
from .schema import Table, TableSpec

#: Seconds to wait for the scheduler at ``--scheduler ADDRESS`` before giving up.
CONNECT_TIMEOUT = 10
#: Batches in flight per worker thread (each holds one batch's columns).
IN_FLIGHT = 2


class ClusterError(Exception):
    """The cluster could not be reached or a worker failed (a one-line message, exit 2)."""


def evaluate_dask(plan: Plan, opened: stream.Opened, as_of: str | None = None,
                  scheduler: str | None = None) -> Evaluation:
    """Evaluate on a dask cluster: a LocalCluster here, or the scheduler at ``scheduler``."""
    with _client(scheduler) as client:
        return stream.evaluate(plan, opened, as_of,
                               reduce=lambda p, o, whole: _reduce(client, p, o, whole))


@contextmanager
def _client(scheduler: str | None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("--engine dask needs dask.distributed: pip install 'pmirc[dask]'"
                           ) from None
    if scheduler is None:
        try:
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        except (OSError, RuntimeError, TimeoutError) as error:
            raise ClusterError(f"cannot start a local dask cluster: {_first_line(error)}"
                               ) from None
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(f"no dask scheduler at {scheduler}: {_first_line(error)}") from None
    with client:
        yield client


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@attrs.frozen
class Context:
    """What every batch shares, in a form that pickles (a busdaycalendar does not)."""

    as_of: np.datetime64
    weekmask: tuple[bool, ...]
    holidays: np.ndarray
    first_month: int
    last_month: int
    jit: bool = False

    @classmethod
    def of(cls, whole: Batch) -> Context:
        return cls(whole.as_of, tuple(bool(d) for d in whole.cal.weekmask), whole.cal.holidays,
                   whole.first_month, whole.last_month, whole.jit)

    def batch(self, tables: dict[str, Table], lookup: dict[str, Table]) -> Batch:
        cal = np.busdaycalendar(weekmask=list(self.weekmask), holidays=self.holidays)
        return Batch(tables, self.as_of, cal, self.first_month, self.last_month, lookup=lookup,
                     jit=self.jit)


def whole_partial(plan: Plan, context: Context, shared: dict[str, Any]) -> Partial:
    """The partial of the tables loaded whole, every streamed table empty (a task)."""
    tables = {n: shared["empty"].get(n, t) for n, t in shared["tables"].items()}
    return partials(plan, context.batch(tables, shared["lookup"]), 0)


def batch_partial(plan: Plan, context: Context, shared: dict[str, Any], name: str,
                  source: _Source, spec: TableSpec, raw: pa.Table, offset: int) -> Partial:
    """The partial of one raw batch of streamed table ``name`` (a task): parsed, then reduced
    with every other table empty and the looked-up tables whole."""
    table, _ = stream.parse(source, spec, raw, offset)
    tables = {n: table if n == name else shared["empty"].get(n) or slice_table(t, 0, 0)
              for n, t in shared["tables"].items()}
    return partials(plan, context.batch(tables, shared["lookup"]), offset)


def _reduce(client: Any, plan: Plan, opened: stream.Opened, whole: Batch) -> Partial:
    """Every batch's partial from the workers, merged in batch order."""
    context = Context.of(whole)
    lookup = stream.whole_tables(opened)
    shared = {"lookup": lookup, "empty": {n: s.empty for n, s in opened.streams.items()},
              "tables": {n: opened.streams[n].empty if n in opened.streams else t
                         for n, t in opened.tables.items()}}
    try:
        [plan_f, shared_f] = client.scatter([plan, shared], broadcast=True, hash=False)
        total = client.submit(whole_partial, plan_f, context, shared_f, pure=False).result()
        window = max(1, IN_FLIGHT * sum(client.nthreads().values()))
        pending: deque[Any] = deque()
        for name, s in opened.streams.items():
            offset = 0
            for raw in stream.raw_batches(s.source, s.spec, s.batch_rows):
                pending.append(client.submit(batch_partial, plan_f, context, shared_f, name,
                                             s.source, s.spec, raw, offset, pure=False))
                offset += raw.num_rows
                while len(pending) >= window:
                    total = merge(total, pending.popleft().result())
        while pending:
            total = merge(total, pending.popleft().result())
    except ClusterError:
        raise
    except Exception as error:  # noqa: BLE001 - a worker's failure, told in one line
        raise ClusterError(f"a dask worker failed: {type(error).__name__}: "
                           f"{_first_line(error)}") from None
    return total
