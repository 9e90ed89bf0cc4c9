"""Random compliance samples for a Provider Compliance Officer check: ``pmirc sample``.

AtW 6.46-6.48 and IPES 9.75-9.77: "the sample of records to be checked will be selected randomly
using a method chosen by DWP", and sent to the provider 12 days before the check. The sample is
drawn from a measure's population records (the rows ``pmirc audit`` lists for it), so each
sampled record comes with its period, verdict, deadline, reason and dates.

The draw is reproducible: the frame is sorted by record id (the input's row order does not
matter), each record is in it once (its first entry), and ``numpy.random.Generator(PCG64(seed))``
chooses without replacement. Stratified by a column, the strata are taken in sorted order of
their values and up to N records are drawn from each with the same generator, so the same
contract, data, as-of date, measure, N, seed and stratum column always give the same sample.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from .audit import audit_rows
from .pipeline import Evaluation


@attrs.frozen
class Sample:
    """The sampled rows (audit columns), and the method in words for the file's header."""

    header: list[str]
    rows: list[list[Any]]
    method: list[str]


class SampleError(ValueError):
    """A sample that cannot be drawn as asked (the message says why)."""


def draw_sample(ev: Evaluation, measure_id: str, n: int, seed: int,
                stratify: str | None = None, period: str | None = None) -> Sample:
    """Up to ``n`` records (``n`` per stratum) of the measure's population, drawn at random."""
    if n < 1:
        raise SampleError("--n must be at least 1")
    header, rows = audit_rows(ev, measure_id, period, None, {})
    frame = _frame(header, rows)
    if stratify is not None and stratify not in header[2:header.index("period")]:
        keys = header[2:header.index("period")]
        raise SampleError(f"measure {measure_id} has no group column '{stratify}' to stratify "
                          f"by" + (f" (it groups by: {', '.join(keys)})" if keys else
                                   " (it is not grouped)"))
    rng = np.random.Generator(np.random.PCG64(seed))
    strata = _strata(header, frame, stratify)
    picked: list[list[Any]] = []
    sizes = []
    for value, members in strata:
        take = min(n, len(members))
        chosen = sorted(rng.choice(len(members), size=take, replace=False).tolist())
        picked += [members[i] for i in chosen]
        sizes.append(f"{value}: {take} of {len(members)}")
    return Sample(header, picked, _method(ev, measure_id, n, seed, stratify, period, len(frame),
                                          sizes))


def _frame(header: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    """Each record once (its first entry), sorted by id: the sampling frame."""
    seen: dict[str, list[Any]] = {}
    for row in rows:
        seen.setdefault(str(row[1]), row)
    return [seen[k] for k in sorted(seen, key=_id_key)]


def _id_key(record_id: str) -> tuple[int, str]:
    """Ids in text order; 'row N' names (tables without an id column) by their number."""
    return (int(record_id[4:]), "") if record_id.startswith("row ") else (0, record_id)


def _strata(header: list[str], frame: list[list[Any]], column: str | None
            ) -> list[tuple[str, list[list[Any]]]]:
    """(value, records) per stratum, in sorted order of the value (one stratum: 'all')."""
    if column is None:
        return [("all", frame)]
    at = header.index(column)
    groups: dict[str, list[list[Any]]] = {}
    for row in frame:
        groups.setdefault(str(row[at]), []).append(row)
    return sorted(groups.items())


def _method(ev: Evaluation, measure_id: str, n: int, seed: int, stratify: str | None,
            period: str | None, frame: int, sizes: list[str]) -> list[str]:
    """The header comment lines: what was sampled from, how, and how many per stratum."""
    contract = ev.plan.contract
    how = f"up to {n} records from each value of {stratify}" if stratify else f"up to {n} records"
    return [
        f"pmirc sample of {measure_id} ({contract.name}), as of {ev.as_of}"
        + (f", records counting in {period}" if period else ""),
        f"method: simple random sample without replacement, {how}, from {frame} population "
        "records sorted by id (each record once)",
        f"generator: numpy PCG64, seed {seed}; the same contract, data, as-of date, measure, "
        "size, seed and strata give the same sample",
        "sampled: " + "; ".join(sizes),
    ]
