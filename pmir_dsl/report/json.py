"""The machine-readable results of output.md: one JSON object, byte-identical run to run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .. import __version__, assumptions
from ..compile import STATUS_NAMES
from ..evaluate import K_EXCLUDED, K_FAILED, K_MET, K_PENDING
from ..pipeline import Evaluation


def to_dict(ev: Evaluation) -> dict[str, Any]:
    """The evaluation as output.md's object (plus the extra keys it allows)."""
    c = ev.plan.contract
    return {
        "pmirc": __version__,
        "contract": {"name": c.name, "file": c.file, "sha256": c.sha256,
                     "service_start": c.service_start, "calendar": c.calendar.region},
        "as_of": ev.as_of,
        "as_of_source": ev.as_of_source,
        "tables": {n: {"rows": t.rows, "sha256": t.sha256, "path": t.path}
                   for n, t in sorted(ev.tables.items())},
        "measures": [measure_summary(ev, mp.measure.id) for mp in ev.plan.measures],
        "results": assumptions.with_results(c, ev.results),
        "cohorts": ev.cohorts(),
        "escalations": ev.escalations,
        "remedies": assumptions.with_reviews(c, ev.remedies),
        "reviews": assumptions.with_reviews(c, ev.reviews),
        "data_quality": [{"table": q.table, "check": q.check, "count": q.count,
                          "examples": list(q.examples)} for q in ev.quality],
        "assumptions": assumptions.public(c),
    }


def measure_summary(ev: Evaluation, measure_id: str) -> dict[str, Any]:
    """A measure's definition and its population accounting (met + failed + pending + excluded)."""
    m = ev.plan.measure(measure_id).measure
    counts = ev.partial.counts[measure_id]
    t = counts.totals
    return {
        "measure": m.id, "title": m.title, "cite": m.cite, "kind": m.kind, "table": m.table,
        "target": m.target.text, "period": m.period_unit, "bases": list(m.bases),
        "groups": [[c.name for c in level] for level in m.groups],
        "bands": m.bands.name if m.bands else None,
        "population": int(t[K_MET] + t[K_FAILED] + t[K_PENDING] + t[K_EXCLUDED]),
        STATUS_NAMES[0]: int(t[K_MET]), STATUS_NAMES[1]: int(t[K_FAILED]),
        STATUS_NAMES[2]: int(t[K_PENDING]), STATUS_NAMES[3]: int(t[K_EXCLUDED]),
        "outside_population": counts.outside,
        **({"assumptions": list(m.assumptions)} if getattr(m, "assumptions", ()) else {}),
    }


def render(ev: Evaluation) -> str:
    """The JSON text: keys in a fixed order, two-space indent, a trailing newline."""
    return json.dumps(to_dict(ev), indent=2, ensure_ascii=False) + "\n"


def pieces(ev: Evaluation) -> Iterator[str]:
    """The text of :func:`render` in pieces, to write a large report without holding its whole
    text (and the millions of small strings the encoder makes of it) in memory."""
    yield from json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(to_dict(ev))
    yield "\n"
