"""The machine-readable results of output.md: one JSON object, byte-identical run to run."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from .. import __version__, assumptions
from ..compile import STATUS_NAMES
from ..evaluate import (K_EXCLUDED, K_FAILED, K_MET, K_PENDING, LazyRows,
                        Results)
from ..pipeline import Evaluation


def to_dict(ev: Evaluation) -> dict[str, Any]:
    """The evaluation as output.md's object (plus the extra keys it allows)."""
    return {k: list(v) if isinstance(v, (Results, LazyRows)) else v for k, v in _doc(ev).items()}


def _doc(ev: Evaluation) -> dict[str, Any]:
    """:func:`to_dict`, but its result rows (:class:`~pmir_dsl.evaluate.Results`) and
    escalations lazy: built as they are read."""
    c = ev.plan.contract
    return {
        "pmirc": __version__,
        "contract": assumptions.with_header(c, {
            "name": c.name, "file": c.file, "sha256": c.sha256,
            "service_start": c.service_start, "calendar": c.calendar.region}),
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
        **({"assurance": ev.assurance} if getattr(c, "assurances", ()) else {}),
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
    """The JSON text: keys in a fixed order, two-space indent, a trailing newline (what
    ``json.dumps(to_dict(ev), indent=2, ensure_ascii=False)`` gives, byte for byte)."""
    return "".join(pieces(ev))


def pieces(ev: Evaluation, groups: Mapping[str, str] | None = None,
           measures: Sequence[str] | None = None) -> Iterator[str]:
    """The text of :func:`render` in pieces, one per list item at the top of the object, to
    write a large report without holding its whole text (or its result rows) in memory: the
    rows are built as they are written. ``groups`` and ``measures`` filter the lists as
    :func:`pmir_dsl.report.filters.filter_json` does, before the rows are built."""
    doc = _doc(ev)
    if groups or measures is not None:
        from .filters import filter_lists

        doc = filter_lists(doc, ev, groups or {}, measures)
    yield "{"
    for i, (key, value) in enumerate(doc.items()):
        head = f"{',' if i else ''}\n  {encode_basestring(key)}: "
        if isinstance(value, (list, Results, LazyRows)):
            first = True
            for item in value:
                yield (head + "[" if first else ",") + "\n    " + encode(item, 2)
                first = False
            yield head + "[]" if first else "\n  ]"
        else:
            yield head + encode(value, 1)
    yield "\n}\n"


def encode(value: Any, level: int) -> str:
    """``value`` as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it when nested
    ``level`` deep. Several times faster than the standard library's pure-Python indented
    encoder, which is what a report of millions of result rows spends its time in; what this
    does not know (a key that is not a string, a type of its own) goes to the standard library."""
    scalar = _SCALARS.get(type(value))
    if scalar is not None:
        return scalar(value)
    if type(value) is dict and all(type(k) is str for k in value):
        if not value:
            return "{}"
        parts = []
        for k, v in value.items():
            scalar = _SCALARS.get(type(v))
            parts.append(encode_basestring(k) + ": " +
                         (scalar(v) if scalar is not None else encode(v, level + 1)))
        gap = _GAPS[level + 1] if level + 1 < len(_GAPS) else "\n" + "  " * (level + 1)
        return "{" + gap + ("," + gap).join(parts) + gap[:-2] + "}"
    if type(value) in (list, tuple):
        if not value:
            return "[]"
        gap = "\n" + "  " * (level + 1)
        return "[" + gap + ("," + gap).join([encode(v, level + 1) for v in value]) + gap[:-2] + "]"
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * level)  # JSON strings hold no raw newline


def _float(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _null(_: None) -> str:
    return "null"


_SCALARS: dict[type, Any] = {str: encode_basestring, int: int.__repr__, float: _float,
                             bool: _bool, type(None): _null}
_GAPS = tuple("\n" + "  " * i for i in range(8))
