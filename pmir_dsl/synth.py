"""Deterministic synthetic data sets for the bundled contracts (examples, tests and benchmarks)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Callable, Sequence

import holidays
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

__all__ = ["GENERATORS", "generate_atw_ha", "write_tables"]

# --------------------------------------------------------------------------------------------
# Access to Work Holistic Assessment (seed 001): the shape of the synthetic contract
# --------------------------------------------------------------------------------------------

#: Providers, in the order used for codes, and their shares of the referrals.
ATW_PROVIDERS: tuple[str, ...] = ("North", "Central", "South", "Wales and West")
ATW_PROVIDER_SHARES: tuple[float, ...] = (0.31, 0.26, 0.25, 0.18)

#: Assessment types, their shares and the KPI 3 report window in working days (para 6.17).
ATW_TYPES: tuple[str, ...] = ("virtual", "face_to_face", "enhanced")
ATW_TYPE_SHARES: tuple[float, ...] = (0.55, 0.35, 0.10)
ATW_REPORT_DAYS: tuple[int, ...] = (8, 10, 12)

#: Per-provider base probability (before the seasonal and trend factors) that an event is late
#: (``unacceptable``: that the report fails the Annex 4 standard). "Central" struggles.
ATW_LATE: dict[str, tuple[float, ...]] = {
    #              North   Central South  W&W
    "ack": (0.0030, 0.0160, 0.0050, 0.0070),  # KPI 1, 99% within 1 WD
    "appt": (0.0190, 0.0500, 0.0260, 0.0310),  # KPI 2, 96% within 2 WD (plus late acks)
    "report": (0.0190, 0.0470, 0.0280, 0.0320),  # KPI 3, 96% within 8/10/12 WD (plus chain)
    "unacceptable": (0.0040, 0.0160, 0.0060, 0.0080),  # KPI 4, 99% acceptable
    "rework": (0.0120, 0.0500, 0.0180, 0.0250),  # KPI 5, 96% within 1 WD of notification
}
#: Index of the struggling provider, whose late rates also follow a trend (worse early on).
ATW_WEAK_PROVIDER = 1
ATW_WEAK_TREND = (1.35, 0.75)  # factor at the start and at the extract date
#: Late-rate factor by calendar month of the referral (Christmas and the summer are harder).
ATW_SEASON: tuple[float, ...] = (
    # Jan  Feb   Mar   Apr   May   Jun   Jul   Aug   Sep   Oct   Nov   Dec
    1.40, 0.95, 0.90, 0.90, 0.90, 0.95, 1.05, 1.30, 0.95, 0.90, 1.00, 1.60,
)

#: On-time events: probabilities of finishing 0, 1, 2 ... working days before the deadline.
ATW_SLACK: dict[str, tuple[float, ...]] = {
    "ack": (0.45, 0.55),
    "appt": (0.30, 0.45, 0.25),
    "report": (0.30, 0.25, 0.18, 0.12, 0.09, 0.06),
    "rework": (0.60, 0.40),
}
ATW_QA_LAG = (1, 10)  # report quality-assessed (and rework notified) 1..10 WD after receipt

#: Shares of referral dates on weekends and on weekday bank holidays.
WEEKEND_SHARE = 0.03
HOLIDAY_SHARE = 0.005
#: Deliberate record-level data errors: share of rows per kind, and the minimum count per kind.
ERROR_SHARE = 0.0005
ERROR_MIN = 3

#: KPI 6 workforce: total FTE per provider and the disabled share around which it moves.
ATW_TOTAL_FTE: tuple[float, ...] = (430.0, 360.0, 390.0, 240.0)
ATW_DISABLED_SHARE: tuple[float, ...] = (0.034, 0.024, 0.0305, 0.037)
#: Returns: probability that a return is submitted late.
ATW_RETURN_LATE: tuple[float, ...] = (0.05, 0.25, 0.05, 0.08)

DAY = np.timedelta64(1, "D")


# --------------------------------------------------------------------------------------------
# Calendar helpers
# --------------------------------------------------------------------------------------------


def bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    """England and Wales bank holidays (substitute days included) as sorted ``datetime64[D]``."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(days.keys()), dtype="datetime64[D]")


def _calendar(start: np.datetime64, extract: np.datetime64) -> np.busdaycalendar:
    """A Monday-Friday calendar without the bank holidays, covering the data's years."""
    first = int(str(start)[:4]) - 1
    last = int(str(extract)[:4]) + 1
    return np.busdaycalendar(holidays=bank_holidays(first, last))


def _workday(anchor: np.ndarray, k: np.ndarray, cal: np.busdaycalendar) -> np.ndarray:
    """Excel ``WORKDAY(anchor, k)`` for k >= 0: the anchor itself when k == 0 (semantics 1)."""
    shifted = np.busday_offset(anchor, k, roll="backward", busdaycal=cal)
    return np.where(k == 0, anchor, shifted)


def _due_date(days: np.ndarray, cal: np.busdaycalendar) -> np.ndarray:
    """Move each date forward to the next working day if it is not one."""
    return np.busday_offset(days, 0, roll="forward", busdaycal=cal)


def _weekday(days: np.ndarray) -> np.ndarray:
    """Day of the week, Monday = 0 (1970-01-01 was a Thursday)."""
    return (days.astype(np.int64) + 3) % 7


# --------------------------------------------------------------------------------------------
# Column builders
# --------------------------------------------------------------------------------------------


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``PREFIX`` + zero-padded 1..n, built straight into Arrow buffers (no Python strings)."""
    number = np.arange(1, n + 1, dtype=np.uint32 if n < 2**32 else np.uint64)
    chars = np.empty((n, len(prefix) + width), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    ten = number.dtype.type(10)
    for column in range(chars.shape[1] - 1, len(prefix) - 1, -1):  # digits, last one first
        chars[:, column] = number % ten + ord("0")
        number //= ten
    size = chars.shape[1]
    string_type = pa.string() if n * size < 2**31 else pa.large_string()
    offset_type = np.int32 if string_type == pa.string() else np.int64
    offsets = np.arange(0, n * size + 1, size, dtype=offset_type)
    return pa.Array.from_buffers(
        string_type, n, [None, pa.py_buffer(offsets), pa.py_buffer(chars.reshape(-1))]
    )


def _labels(values: Sequence[str], codes: np.ndarray) -> pa.Array:
    """The strings ``values[codes]`` as a plain Arrow string array."""
    return pc.take(pa.array(list(values), type=pa.string()), pa.array(codes))


def _dates(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``datetime64[D]`` values as an Arrow ``date32`` array, null where ``null`` is True."""
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=null)


def _draw(rng: np.random.Generator, n: int, probs: Sequence[float]) -> np.ndarray:
    """n draws of 0..len(probs)-1 with the given probabilities (inverse CDF, int64)."""
    cdf = np.cumsum(np.asarray(probs, dtype=np.float64))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(probs) - 1)


def _offsets(
    rng: np.random.Generator, limit: np.ndarray | int, p_late: np.ndarray, slack: Sequence[float]
) -> np.ndarray:
    """Working-day offsets of an event with a deadline of ``limit`` working days.

    On-time events land ``slack`` working days before the deadline (0..limit); late ones
    ``limit + 1`` .. ``limit + 15``, mostly just after the deadline.
    """
    n = len(p_late)
    on_time = np.maximum(np.asarray(limit) - _draw(rng, n, slack), 0)
    late = rng.random(n) < p_late
    extra = np.minimum(rng.geometric(0.3, n) - 1, 14)
    return np.where(late, np.asarray(limit) + 1 + extra, on_time)


# --------------------------------------------------------------------------------------------
# AtW HA: referrals
# --------------------------------------------------------------------------------------------


def _referral_dates(
    rng: np.random.Generator, n: int, start: np.datetime64, extract: np.datetime64,
    cal: np.busdaycalendar,
) -> np.ndarray:
    """Sorted referral dates over start..extract, mostly working days, the last one = extract.

    Volume grows slowly over the period; about 3% fall on weekends and 0.5% on bank holidays.
    """
    days = np.arange(start, extract + DAY, dtype="datetime64[D]")
    working = np.is_busday(days, busdaycal=cal)
    weekend = _weekday(days) >= 5
    holiday = ~working & ~weekend
    trend = np.linspace(0.85, 1.15, len(days))
    groups = [(working, 1.0 - WEEKEND_SHARE - HOLIDAY_SHARE), (weekend, WEEKEND_SHARE),
              (holiday, HOLIDAY_SHARE)]
    weights = np.zeros(len(days))
    for mask, share in groups:
        if mask.any():
            weights[mask] = trend[mask] / trend[mask].sum() * share
    weights /= weights.sum()
    counts = rng.multinomial(n, weights)
    dates = np.repeat(days, counts)
    dates[-1] = extract  # the latest date in the data is the extract date
    return dates


def _late_factor(
    ref: np.ndarray, provider: np.ndarray, start: np.datetime64, extract: np.datetime64
) -> np.ndarray:
    """Per-row multiplier of the late rates: season of the referral month, and the weak
    provider's trend (worse at the start, better by the extract date)."""
    month = ref.astype("datetime64[M]").astype(np.int64) % 12
    factor = np.asarray(ATW_SEASON)[month]
    span = max(int((extract - start) / DAY), 1)
    t = (ref - start).astype(np.int64) / span
    first, last = ATW_WEAK_TREND
    weak = provider == ATW_WEAK_PROVIDER
    factor[weak] *= first + (last - first) * t[weak]
    return factor


def _pick(rng: np.random.Generator, eligible: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` distinct sorted row numbers among the True rows of ``eligible``."""
    rows = np.flatnonzero(eligible)
    if len(rows) == 0 or count <= 0:
        return rows[:0]
    return np.sort(rng.choice(rows, size=min(count, len(rows)), replace=False))


def _referrals(
    rng: np.random.Generator, n: int, start: np.datetime64, extract: np.datetime64,
    cal: np.busdaycalendar,
) -> pa.Table:
    """The ``referrals`` table: the event chain, censoring at the extract date, data errors."""
    ref = _referral_dates(rng, n, start, extract, cal)
    provider = _draw(rng, n, ATW_PROVIDER_SHARES).astype(np.int8)
    kind = _draw(rng, n, ATW_TYPE_SHARES).astype(np.int8)
    factor = _late_factor(ref, provider, start, extract)

    def p(name: str) -> np.ndarray:
        return np.asarray(ATW_LATE[name])[provider] * factor

    off_day = ~np.is_busday(ref, busdaycal=cal)

    def not_same_day(k: np.ndarray) -> np.ndarray:
        # a referral received on a non-working day is handled on the next working day at best
        return np.where(off_day & (k == 0), 1, k)

    k_ack = not_same_day(_offsets(rng, 1, p("ack"), ATW_SLACK["ack"]))
    k_appt = np.maximum(not_same_day(_offsets(rng, 2, p("appt"), ATW_SLACK["appt"])), k_ack)
    limit = np.asarray(ATW_REPORT_DAYS)[kind]
    k_rep = np.maximum(_offsets(rng, limit, p("report"), ATW_SLACK["report"]), k_appt + 1)
    ack, appt, rep = (_workday(ref, k, cal) for k in (k_ack, k_appt, k_rep))
    del k_ack, k_appt, k_rep, limit

    qa = _workday(rep, rng.integers(ATW_QA_LAG[0], ATW_QA_LAG[1] + 1, n), cal)
    unacceptable = rng.random(n) < p("unacceptable")
    done = _workday(qa, _offsets(rng, 1, p("rework"), ATW_SLACK["rework"]), cal)

    # censoring: an event after the extract has not happened yet, nor has anything after it
    no_ack = ack > extract
    no_appt = no_ack | (appt > extract)
    no_rep = no_appt | (rep > extract)
    no_qa = no_rep | (qa > extract)
    no_rework = no_qa | ~unacceptable
    no_done = no_rework | (done > extract)

    # deliberate record-level data errors: an event before its anchor
    errors = max(ERROR_MIN, round(ERROR_SHARE * n))
    settled = (ref >= start + 7) & ~no_ack
    bad_ack = _pick(rng, settled, errors)
    settled[bad_ack] = False
    bad_rep = _pick(rng, settled & ~no_rep, errors)
    settled[bad_rep] = False
    bad_done = _pick(rng, settled & ~no_done, errors)
    ack[bad_ack] = ref[bad_ack] - rng.integers(1, 4, len(bad_ack)) * DAY
    rep[bad_rep] = ref[bad_rep] - rng.integers(1, 6, len(bad_rep)) * DAY
    done[bad_done] = qa[bad_done] - rng.integers(1, 4, len(bad_done)) * DAY

    width = max(7, len(str(n)))
    return pa.table({
        "referral_id": _ids("R", n, width),
        "provider": _labels(ATW_PROVIDERS, provider),
        "referral_date": _dates(ref),
        "acknowledged_date": _dates(ack, no_ack),
        "appointment_date": _dates(appt, no_appt),
        "assessment_type": _labels(ATW_TYPES, kind),
        "report_date": _dates(rep, no_rep),
        "report_acceptable": pa.array(~unacceptable, type=pa.bool_(), mask=no_qa),
        "rework_notified_date": _dates(qa, no_rework),
        "rework_completed_date": _dates(done, no_done),
    })


# --------------------------------------------------------------------------------------------
# AtW HA: workforce (KPI 6) and returns (paras 6.18-6.19, 6.33)
# --------------------------------------------------------------------------------------------


def _month_number(day: np.datetime64) -> int:
    """Months since 1970-01 of a date."""
    return int(day.astype("datetime64[M]").astype(np.int64))


def _quarter_label(month: int) -> str:
    """``YYYY-Qn`` of a month number (months since 1970-01)."""
    return f"{1970 + month // 12}-Q{month % 12 // 3 + 1}"


def _month_label(month: int) -> str:
    """``YYYY-MM`` of a month number (months since 1970-01)."""
    return f"{1970 + month // 12}-{month % 12 + 1:02d}"


def _quarters(start: np.datetime64, extract: np.datetime64) -> np.ndarray:
    """First month numbers of the calendar quarters from start's quarter to extract's."""
    first = _month_number(start) // 3 * 3
    last = _month_number(extract) // 3 * 3
    return np.arange(first, last + 1, 3)


def _fte(values: np.ndarray, step: float) -> pa.Array:
    """FTE figures rounded to multiples of ``step`` (0.25, 0.5 ...) as exact decimals."""
    hundredths = np.round(values / step).astype(np.int64) * int(round(step * 100))
    return pa.array([Decimal(h).scaleb(-2) for h in hundredths.tolist()], type=pa.decimal128(9, 2))


def _workforce(
    rng: np.random.Generator, start: np.datetime64, extract: np.datetime64
) -> pa.Table:
    """One row per provider per quarter: total FTE growing slowly, disabled share near 3%."""
    quarters = _quarters(start, extract)
    n_prov, n_q = len(ATW_PROVIDERS), len(quarters)
    growth = 1.0 + 0.015 * np.arange(n_q)
    total = np.asarray(ATW_TOTAL_FTE)[:, None] * growth * rng.normal(1.0, 0.02, (n_prov, n_q))
    share = np.asarray(ATW_DISABLED_SHARE)[:, None] + rng.normal(0.0, 0.0025, (n_prov, n_q))
    total_fte = _fte(total.reshape(-1), 0.25)
    disabled = np.asarray(total_fte.cast(pa.float64())) * np.maximum(share.reshape(-1), 0.0)
    table = pa.table({
        "provider": pa.array(np.repeat(ATW_PROVIDERS, n_q).tolist(), type=pa.string()),
        "quarter": pa.array([_quarter_label(int(q)) for q in np.tile(quarters, n_prov)]),
        "disabled_fte": _fte(disabled, 0.5),
        "total_fte": total_fte,
    })
    return table.sort_by([("provider", "ascending"), ("quarter", "ascending")])


def _return_periods(
    start: np.datetime64, extract: np.datetime64
) -> list[tuple[str, str, np.datetime64, np.datetime64]]:
    """(return, period, period end, due date before moving to a working day) of every period
    that has ended by the extract date: quarters for ``kpi6``, months for ``customer_insight``."""
    last_month = _month_number(extract + DAY) - 1  # the last month whose final day <= extract
    out = []
    for name, first, step in (
        ("customer_insight", _month_number(start), 1),
        ("kpi6", _month_number(start) // 3 * 3, 3),
    ):
        label = _month_label if step == 1 else _quarter_label
        for month in range(first, last_month - step + 2, step):
            end = np.datetime64(_month_label(month + step), "M").astype("datetime64[D]") - DAY
            due = end + 15  # the 15th of the month after the period
            out.append((name, label(month), end, due))
    return out


def _returns(
    rng: np.random.Generator, start: np.datetime64, extract: np.datetime64,
    cal: np.busdaycalendar,
) -> pa.Table:
    """Returns per provider and period: mostly on time, some late, not-yet-due ones mostly
    missing, and one overdue return of the weak provider still missing at the extract date."""
    periods = _return_periods(start, extract)
    n_prov, n_per = len(ATW_PROVIDERS), len(periods)
    ends = np.array([p[2] for p in periods], dtype="datetime64[D]")
    due = _due_date(np.array([p[3] for p in periods], dtype="datetime64[D]"), cal)
    prov = np.repeat(np.arange(n_prov), n_per)
    ends, due = np.tile(ends, n_prov), np.tile(due, n_prov)
    n = len(prov)
    early = _due_date(ends + DAY, cal)
    on_time = np.maximum(
        np.busday_offset(due, -rng.integers(0, 7, n), roll="forward", busdaycal=cal), early
    )
    late = rng.random(n) < np.asarray(ATW_RETURN_LATE)[prov]
    late_day = np.busday_offset(due, rng.integers(1, 9, n), roll="forward", busdaycal=cal)
    submitted = np.where(late, late_day, on_time)
    missing = submitted > extract
    overdue = np.flatnonzero((prov == ATW_WEAK_PROVIDER) & (due <= extract))
    if len(overdue):
        missing[overdue[np.argmax(due[overdue])]] = True
    table = pa.table({
        "provider": pa.array([ATW_PROVIDERS[i] for i in prov.tolist()], type=pa.string()),
        "return": pa.array([periods[i % n_per][0] for i in range(n)], type=pa.string()),
        "period": pa.array([periods[i % n_per][1] for i in range(n)], type=pa.string()),
        "submitted_date": _dates(submitted, missing),
    })
    return table.sort_by([("provider", "ascending"), ("return", "ascending"),
                          ("period", "ascending")])


def generate_atw_ha(
    rows: int, seed: int = 1, start: str = "2024-04-01", extract: str = "2025-06-30"
) -> dict[str, pa.Table]:
    """A synthetic AtW HA data set: ``referrals`` (``rows`` rows), ``workforce``, ``returns``.

    Deterministic: the same arguments give identical tables. Referral dates run from ``start``
    to ``extract`` (one referral on ``extract`` itself); events that would fall after
    ``extract`` are null (pending). See ``examples/atw_ha/README.md`` for what it contains.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    first, last = np.datetime64(start, "D"), np.datetime64(extract, "D")
    if last < first:
        raise ValueError(f"extract {extract} is before start {start}")
    cal = _calendar(first, last)
    rng = np.random.Generator(np.random.PCG64(seed))
    referrals = _referrals(rng, rows, first, last, cal)
    side = np.random.Generator(np.random.PCG64([seed, 1]))  # independent of ``rows``
    return {
        "referrals": referrals,
        "workforce": _workforce(side, first, last),
        "returns": _returns(side, first, last, cal),
    }


#: Generator per bundled contract name.
GENERATORS: dict[str, Callable[..., dict[str, pa.Table]]] = {"atw_ha": generate_atw_ha}


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _csv_ready(table: pa.Table) -> pa.Table:
    """Decimal columns as their shortest exact text (``12.5``, ``431.25``, ``12``)."""
    columns = []
    for column in table.columns:
        if pa.types.is_decimal(column.type):
            text = pc.cast(column, pa.string())
            text = pc.replace_substring_regex(text, r"(\.[0-9]*[1-9])0+$", r"\1")
            column = pc.replace_substring_regex(text, r"\.0+$", "")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _write_csv(table: pa.Table, path: Path) -> None:
    """CSV with a plain header row, dates ``YYYY-MM-DD``, null = empty, ``true``/``false``.

    Values are written unquoted; a table with a comma, quote or newline in a value falls back
    to quoting its strings.
    """
    table = _csv_ready(table)
    header = ",".join(
        name if not any(c in name for c in ',"\r\n') else '"' + name.replace('"', '""') + '"'
        for name in table.column_names
    )
    for style in ("none", "needed"):
        with open(path, "wb") as out:
            out.write((header + "\n").encode("utf-8"))
            try:
                pa_csv.write_csv(
                    table, out, pa_csv.WriteOptions(include_header=False, quoting_style=style)
                )
                return
            except pa.ArrowInvalid:
                if style == "needed":
                    raise


def write_tables(tables: dict[str, pa.Table], out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write each table as ``out_dir/NAME.csv`` or ``out_dir/NAME.parquet``; return the paths."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}: expected 'csv' or 'parquet'")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            _write_csv(table, path)
        else:
            pq.write_table(table, path)
        paths.append(path)
    return paths
