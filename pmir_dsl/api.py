"""The Python API, for notebooks: ``pmir_dsl.run_check(...)`` and typed results.

    >>> import pmir_dsl
    >>> checked = pmir_dsl.run_check("contracts/atw_ha.pmir", "examples/atw_ha")
    >>> checked.as_of
    '2025-06-30'
    >>> failed = [r for r in checked.results if r.met is False]
    >>> df = checked.to_pandas()                    # the results as a DataFrame
    >>> levels = checked.to_pandas("escalations")   # or remedies, notices, reviews, data_quality,
    ...                                               # assurance

The figures are those of ``pmirc check --format json`` (output.md), as frozen attrs classes.
``to_pandas`` / ``to_polars`` need the optional extra ``pip install 'pmirc[frames]'``; pandas and
polars are imported only when called. A contract or data that cannot be used raises
:class:`pmir_dsl.diagnostics.CompileError` or :class:`pmir_dsl.errors.DataError` (their
messages are those ``pmirc`` prints).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .pipeline import Evaluation

#: The tables ``to_pandas`` / ``to_polars`` can make, each from the field of that name.
TABLES = ("results", "escalations", "remedies", "notices", "reviews", "data_quality",
          "assurance")


@attrs.frozen
class Result:
    """One figure: a measure for a group (``{}``: the whole contract), period and basis.
    ``extra`` holds the keys some kinds add (``expected``, ``rank``, ``buckets``...)."""

    measure: str
    group: Mapping[str, Any]
    period: str
    basis: str
    numerator: int | float
    denominator: int | float
    pending: int
    excluded: int
    value: float | None
    target: float | int | None
    met: bool | None
    band: str | None
    extra: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen
class Escalation:
    """A group's level under a regime at a month end, whether it changed, why, and the notices
    running."""

    regime: str
    group: Mapping[str, Any]
    month: str
    level: int
    level_title: str
    changed: bool
    reasons: tuple[str, ...]
    notices: tuple[Mapping[str, Any], ...] = ()


@attrs.frozen
class FeeRow:
    """A group's fee under a remedy in one month, in integer pence, and why any was held."""

    remedy: str
    group: Mapping[str, Any]
    month: str
    fee_pence: int
    deferred_pence: int
    released_pence: int
    forfeited_pence: int
    outstanding_pence: int
    in_deferral: bool
    reasons: tuple[str, ...]


@attrs.frozen
class Notice:
    """A notice (e.g. a Work Programme PIN) raised by a review: when, on what, its target and
    status, and why."""

    remedy: str
    title: str
    review: str
    measure: str
    group: Mapping[str, Any]
    month: str
    issued: str | None
    action_plan_due: str | None
    remedy_period_end: str | None
    target: float | None
    status: str
    cancelled: str | None
    end_of_remedy: Mapping[str, Any] | None
    reasons: tuple[str, ...]


@attrs.frozen
class Review:
    """A formal review of a measure for a group at a quarter end: the figure required, the
    provisional and (once known) final results; ``extra`` holds the rest of the JSON row."""

    review: str
    measure: str
    group: Mapping[str, Any]
    period: str
    required: float
    provisional: Mapping[str, Any]
    final: Mapping[str, Any] | None
    extra: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen
class AssuranceAction:
    """An action an assurance's reviews trigger (docs/language.md 9.5): which, for whom, in
    which month, the reviews behind it (``review_ids``) and why; ``extra`` holds the rest."""

    assurance: str
    action: str
    group: Mapping[str, Any]
    month: str
    reason: str
    review_ids: tuple[str, ...] = ()
    extra: Mapping[str, Any] = attrs.Factory(dict)


@attrs.frozen
class QualityEntry:
    """Records a data-quality check excluded: table, check, how many, example ids."""

    table: str
    check: str
    count: int
    examples: tuple[str, ...]


@attrs.frozen
class CheckResults:
    """Everything ``pmirc check`` reports, typed. ``evaluation`` is the engine's own object
    (for :func:`pmir_dsl.report.view.build` or the terminal report)."""

    contract: str
    contract_file: str
    as_of: str
    as_of_source: str
    results: tuple[Result, ...]
    escalations: tuple[Escalation, ...]
    remedies: tuple[FeeRow, ...]
    notices: tuple[Notice, ...]
    reviews: tuple[Review, ...]
    data_quality: tuple[QualityEntry, ...]
    evaluation: Evaluation = attrs.field(repr=False, eq=False)
    assurance: tuple[AssuranceAction, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether any assessed target failed (``pmirc check`` would exit 1)."""
        return any(r.met is False for r in self.results)

    def records(self, table: str = "results") -> list[dict[str, Any]]:
        """Rows of one of :data:`TABLES` as flat dicts: group keys become columns of their own
        (``provider``...; ``group_<key>`` if the name is taken), plus ``group_level`` (the
        keys joined by ``+``, ``contract`` for the whole contract); ``extra`` is spread out."""
        if table not in TABLES:
            raise ValueError(f"no table '{table}' (have: {', '.join(TABLES)})")
        rows = [_flat(attrs.asdict(x, recurse=False)) for x in getattr(self, table)]
        keys = list(dict.fromkeys(k for r in rows for k in r))
        return [{k: r.get(k) for k in keys} for r in rows]

    def to_pandas(self, table: str = "results") -> Any:
        """One of :data:`TABLES` as a pandas DataFrame (needs the ``frames`` extra)."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records(table))

    def to_polars(self, table: str = "results") -> Any:
        """One of :data:`TABLES` as a polars DataFrame (needs the ``frames`` extra)."""
        import polars as pl

        rows = self.records(table)
        return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    group = row.pop("group", None)
    extra = row.pop("extra", None) or {}
    out = dict(row)
    for k, v in extra.items():
        out.setdefault(k, v)
    if group is not None:
        out["group_level"] = "+".join(group) or "contract"
        for k, v in group.items():
            out["group_" + k if k in out else k] = v
    for k, v in out.items():
        if isinstance(v, tuple):
            out[k] = list(v)
    return out


def run_check(contract_path: str | Path, data_dir: str | Path, as_of: str | None = None, *,
              chunk_rows: int | None = None, engine: str = "numpy") -> CheckResults:
    """Check and compile ``contract_path``, load its tables from ``data_dir``, evaluate as of
    ``as_of`` (YYYY-MM-DD; default as ``pmirc check``: the extract date, else the latest date
    in the data) and return the typed results. ``engine="reference"`` uses the slow reference
    interpreter instead of numpy."""
    from .pipeline import compile_file, evaluate
    from .load import load_tables

    plan = compile_file(contract_path)
    tables = load_tables(data_dir, plan.contract.used_tables())
    if engine == "reference":
        from .reference import evaluate_reference

        ev = evaluate_reference(plan, tables, as_of)
    elif engine == "numpy":
        ev = evaluate(plan, tables, as_of, chunk_rows)
    else:
        raise ValueError(f"engine is 'numpy' or 'reference', not {engine!r}")
    return from_evaluation(ev)


def from_evaluation(ev: Evaluation) -> CheckResults:
    """The typed results of an evaluation already made."""
    from . import assumptions

    c = ev.plan.contract
    remedies = assumptions.with_reviews(c, ev.remedies)  # the rows as the JSON has them
    return CheckResults(
        c.name, c.file, ev.as_of, ev.as_of_source,
        tuple(_result(r) for r in assumptions.with_results(c, ev.results)),
        tuple(_escalation(e) for e in ev.escalations),
        tuple(_fee(r) for r in remedies if "fee_pence" in r),
        tuple(_notice(r) for r in remedies if "issued" in r),
        tuple(_review(r) for r in assumptions.with_reviews(c, ev.reviews)),
        tuple(QualityEntry(q.table, q.check, q.count, tuple(q.examples)) for q in ev.quality),
        ev, tuple(_assurance(r) for r in getattr(ev, "assurance", ())))


def _pick(cls: type, row: Mapping[str, Any]) -> dict[str, Any]:
    names = [f.name for f in attrs.fields(cls)]
    out = {k: row[k] for k in names if k in row}
    if "extra" in names:
        out["extra"] = {k: v for k, v in row.items() if k not in names and not k.startswith("_")}
    return out


def _result(r: Mapping[str, Any]) -> Result:
    return Result(**_pick(Result, r))


def _escalation(e: Mapping[str, Any]) -> Escalation:
    d = _pick(Escalation, e)
    d["reasons"], d["notices"] = tuple(d["reasons"]), tuple(d.get("notices") or ())
    return Escalation(**d)


def _fee(r: Mapping[str, Any]) -> FeeRow:
    d = _pick(FeeRow, r)
    d["reasons"] = tuple(d["reasons"])
    return FeeRow(**d)


def _notice(r: Mapping[str, Any]) -> Notice:
    d = {f.name: r.get(f.name) for f in attrs.fields(Notice)}
    d["reasons"] = tuple(d["reasons"] or ())
    return Notice(**d)


def _review(r: Mapping[str, Any]) -> Review:
    return Review(**_pick(Review, r))


def _assurance(r: Mapping[str, Any]) -> AssuranceAction:
    d = _pick(AssuranceAction, r)
    d["review_ids"] = tuple(v["review_id"] for v in r["reviews"])
    return AssuranceAction(**d)
