"""Deterministic synthetic data sets for the bundled contracts (examples, tests and benchmarks)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import holidays
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from . import synth_ipes

__all__ = [
    "GENERATORS", "generate_atw_ha", "generate_esf", "generate_ipes", "generate_ses",
    "generate_work_programme", "write_tables",
]

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
    """A synthetic AtW HA data set: ``referrals`` (``rows`` rows), ``workforce``, ``returns``,
    and the MMIR's ``cancellations``, ``complaints`` and ``satisfaction``.

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
    from .synth_mmir import add_mmir  # 6.27 MMIR and 6.29-6.33 Customer Insight (own stream)
    mmir = add_mmir(referrals, seed, last, cal, ATW_PROVIDERS)
    return {
        "referrals": mmir["referrals"],
        "workforce": _workforce(side, first, last),
        "returns": _returns(side, first, last, cal),
        "cancellations": mmir["cancellations"],
        "complaints": mmir["complaints"],
        "satisfaction": mmir["satisfaction"],
    }


# --------------------------------------------------------------------------------------------
# ESF and SES: shared shape (PRaP referrals with a ramp-up, starts profiles, cohort outcomes)
# --------------------------------------------------------------------------------------------

#: Referral volume ramps up from this share of the full volume over the first RAMP_DAYS days.
RAMP_FLOOR = 0.25
RAMP_DAYS = 150
#: Shares of PRaP referral dates on weekends and on weekday bank holidays.
PRAP_WEEKEND_SHARE = 0.01
PRAP_HOLIDAY_SHARE = 0.003
#: Typical calendar days from referral to start: where a month's referrals land in the
#: starts profile.
START_LAG_DAYS = 14
#: Probabilities that an action is recorded on PRaP 0, 1, 2, 3 working days after it happened.
RECORD_LAG: tuple[float, ...] = (0.70, 0.18, 0.08, 0.04)
#: A late recording lands 21..45 working days after the referral, mostly soon after day 20.
LATE_RECORD = (21, 45)
#: Months between a first job outcome and the sustained one (ESF: "3-9 months after").
SUSTAIN_GAP = (3, 9)


def _period(start: str, extract: str, rows: int) -> tuple[np.datetime64, np.datetime64]:
    """The checked start and extract dates of a generator call."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    first, last = np.datetime64(start, "D"), np.datetime64(extract, "D")
    if last < first:
        raise ValueError(f"extract {extract} is before start {start}")
    return first, last


def _ramp_weights(
    start: np.datetime64, extract: np.datetime64, cal: np.busdaycalendar
) -> tuple[np.ndarray, np.ndarray]:
    """Every day start..extract and its expected share of the referrals.

    Volume ramps up linearly from ``RAMP_FLOOR`` over the first ``RAMP_DAYS`` days and then
    holds; about 1% of referrals fall on weekends and 0.3% on bank holidays.
    """
    days = np.arange(start, extract + DAY, dtype="datetime64[D]")
    age = (days - start).astype(np.int64)
    trend = np.minimum(1.0, RAMP_FLOOR + (1.0 - RAMP_FLOOR) * age / RAMP_DAYS)
    working = np.is_busday(days, busdaycal=cal)
    weekend = _weekday(days) >= 5
    holiday = ~working & ~weekend
    groups = [(working, 1.0 - PRAP_WEEKEND_SHARE - PRAP_HOLIDAY_SHARE),
              (weekend, PRAP_WEEKEND_SHARE), (holiday, PRAP_HOLIDAY_SHARE)]
    weights = np.zeros(len(days))
    for mask, share in groups:
        if mask.any():
            weights[mask] = trend[mask] / trend[mask].sum() * share
    return days, weights / weights.sum()


def _dates_from(
    rng: np.random.Generator, n: int, days: np.ndarray, weights: np.ndarray,
    extract: np.datetime64,
) -> np.ndarray:
    """n sorted dates drawn from ``days`` with ``weights``; the last one is the extract date."""
    dates = np.repeat(days, rng.multinomial(n, weights))
    dates[-1] = extract
    return dates


def _expected_by_month(
    days: np.ndarray, weights: np.ndarray, start: np.datetime64, extract: np.datetime64
) -> np.ndarray:
    """Expected share of the referrals starting in each month start..extract (a start is
    placed ``START_LAG_DAYS`` after its referral; later than the extract month: dropped)."""
    first = _month_number(start)
    count = _month_number(extract) - first + 1
    month = (days + START_LAG_DAYS).astype("datetime64[M]").astype(np.int64) - first
    keep = month < count
    return np.bincount(month[keep], weights=weights[keep], minlength=count)


def _record_dates(
    rng: np.random.Generator, ref: np.ndarray, event: np.ndarray, p_late: np.ndarray,
    cal: np.busdaycalendar, lag: np.ndarray | None = None,
) -> np.ndarray:
    """The day an action (a start, a did-not-start) is recorded on PRaP: ``lag`` working days
    after it (default: drawn from ``RECORD_LAG``, 0-3), or for the late ones 21-45 working days
    after the referral (never before the event)."""
    n = len(ref)
    late = rng.random(n) < p_late
    lo, hi = LATE_RECORD
    k_late = lo + np.minimum(rng.geometric(0.12, n) - 1, hi - lo)
    if lag is None:
        lag = _draw(rng, n, RECORD_LAG)
    recorded = _workday(np.where(late, ref, event), np.where(late, k_late, lag), cal)
    return np.maximum(recorded, event)


def _cdfs(shapes: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """Cumulative distributions of month shares given in ten-thousandths."""
    return [np.cumsum(np.asarray(s, dtype=np.float64)) / 10_000 for s in shapes]


def _months_from(
    rng: np.random.Generator, shape: np.ndarray, cdfs: Sequence[np.ndarray]
) -> np.ndarray:
    """Per row, a month 0.. drawn from the distribution ``cdfs[shape[row]]``."""
    u = rng.random(len(shape))
    out = np.zeros(len(shape), dtype=np.int64)
    for s, cdf in enumerate(cdfs):  # a loop over the few shapes, not over rows
        rows = shape == s
        out[rows] = np.minimum(np.searchsorted(cdf, u[rows], side="right"), len(cdf) - 1)
    return out


def _day_in_month(rng: np.random.Generator, base: np.ndarray, k: np.ndarray) -> np.ndarray:
    """A uniformly drawn day of the k-th calendar month after each ``base`` date's month."""
    month = base.astype("datetime64[M]") + k
    first = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    return first + (rng.random(len(base)) * length).astype(np.int64)


def _job_outcomes(
    rng: np.random.Generator, rows: np.ndarray, starts: np.ndarray, p_first: np.ndarray,
    p_second: np.ndarray, shape: np.ndarray, first_cdfs: Sequence[np.ndarray],
    second_cdfs: Sequence[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First (job) and second (sustained job) outcomes of started rows: (rows, dates) of each.

    A row gets a first outcome with probability ``p_first`` and a sustained one with
    ``p_second`` (<= ``p_first``, only when it has a first). The month since the start month is
    drawn from the row's profile shape; a sustained outcome's first outcome comes
    ``SUSTAIN_GAP`` months before it.
    """
    u = rng.random(len(rows))
    has = u < p_first
    second = (u < p_second)[has]
    rows, starts, shape = rows[has], starts[has], shape[has]
    k_first = _months_from(rng, shape, first_cdfs)
    k_second = _months_from(rng, shape, second_cdfs)
    lo, hi = SUSTAIN_GAP
    top = np.minimum(hi, k_second - 1)  # the shapes give no sustained outcome before lo + 1
    gap = lo + (rng.random(len(rows)) * (top - lo + 1)).astype(np.int64)
    k_first = np.where(second, k_second - gap, k_first)
    first_day = _day_in_month(rng, starts, k_first)
    second_day = _day_in_month(rng, starts, k_second)
    return rows, first_day, rows[second], second_day[second]


def _unknown_ids(
    rng: np.random.Generator, prefix: str, n: int, width: int, count: int
) -> list[str]:
    """``count`` ids of the form of ``_ids`` but numbered above n: no such referral."""
    numbers = n + 1 + np.sort(rng.choice(10 * count, size=count, replace=False))
    return [f"{prefix}{number:0{width}d}" for number in numbers.tolist()]


def _outcome_table(
    ids: pa.Array, unknown: list[str], kinds: Sequence[str],
    parts: Sequence[tuple[np.ndarray, np.ndarray]],
) -> pa.Table:
    """``referral_id, outcome, achieved_date`` from (row, date) arrays per outcome kind, rows
    numbered past the referrals meaning ``unknown[row - n]``; sorted by date, row, kind."""
    row = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), i, dtype=np.int8) for i, p in enumerate(parts)])
    day = np.concatenate([p[1] for p in parts]).astype("datetime64[D]")
    # one int64 sort key (day, row, kind): unique, so an unstable sort gives one order
    span = (int(row.max()) + 1) * len(parts) if len(row) else 1
    key = day.astype(np.int64) * span
    key += row.astype(np.int64) * len(parts) + kind
    order = np.argsort(key)
    del key
    all_ids = pa.concat_arrays([ids, pa.array(unknown, type=ids.type)])
    return pa.table({
        "referral_id": pc.take(all_ids, pa.array(row[order])),
        "outcome": _labels(kinds, kind[order]),
        "achieved_date": _dates(day[order]),
    })


def _outcome_errors(
    rng: np.random.Generator, n: int, first: np.datetime64, extract: np.datetime64,
    rows: np.ndarray, days: np.ndarray, starts: np.ndarray, avoid: np.ndarray, count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deliberate outcome errors: ``count`` first outcomes moved 1-20 days before their row's
    start, and ``ERROR_MIN``-or-more outcomes for unknown referrals (rows n, n+1 ...).

    ``starts`` is indexed by row; rows in ``avoid`` (already an error) are left alone. Returns
    the changed ``days``, and the unknown rows with their dates.
    """
    eligible = (starts[rows] >= first + 30) & ~avoid[rows]
    bad = _pick(rng, eligible, count)
    days = days.copy()
    days[bad] = starts[rows[bad]] - rng.integers(1, 21, len(bad)) * DAY
    unknown = max(ERROR_MIN, round(ERROR_SHARE * n))
    span = max(int((extract - first) / DAY) - 60, 1)
    unknown_days = first + 60 + np.sort(rng.integers(0, span + 1, unknown)) * DAY
    return days, n + np.arange(unknown), np.minimum(unknown_days, extract)


def _decimals(values: Sequence[int], places: int = 4) -> pa.Array:
    """Integers in units of 10**-places as exact decimals (3350 -> 0.3350)."""
    return pa.array([Decimal(int(v)).scaleb(-places) for v in values],
                    type=pa.decimal128(9, places))


def _round_shares(weights: Sequence[Fraction], total: int = 10_000) -> list[int]:
    """Integers proportional to ``weights`` that sum to exactly ``total`` (largest remainder,
    ties to the earlier month)."""
    whole = sum(weights, Fraction(0))
    exact = [w * total / whole for w in weights]
    floors = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for i in order[: total - sum(floors)]:
        floors[i] += 1
    return floors


# --------------------------------------------------------------------------------------------
# ESF 2014-2020 (seed 000, chapter 7)
# --------------------------------------------------------------------------------------------

ESF_PROVIDERS: tuple[str, ...] = ("Provider A", "Provider B", "Provider C")
ESF_LEPS: tuple[str, ...] = (
    "Black Country", "Cornwall and Isles of Scilly", "Greater Manchester", "Leeds City Region",
)
ESF_CORS: tuple[str, ...] = ("Less Developed", "More Developed", "Transition")
#: Delivery units, one per LEP area and Category of Region: (LEP, CoR, provider) codes.
ESF_UNITS: tuple[tuple[int, int, int], ...] = (
    (0, 1, 1),  # Black Country / More Developed / Provider B
    (1, 0, 1),  # Cornwall and Isles of Scilly / Less Developed / Provider B
    (2, 1, 2),  # Greater Manchester / More Developed / Provider C
    (2, 2, 2),  # Greater Manchester / Transition / Provider C: the weak performer
    (3, 1, 0),  # Leeds City Region / More Developed / Provider A
    (3, 2, 0),  # Leeds City Region / Transition / Provider A
)
ESF_UNIT_SHARES: tuple[float, ...] = (0.17, 0.11, 0.15, 0.15, 0.26, 0.16)
ESF_WEAK_UNIT = 3
#: The regime's story (7.4-7.15), one LEP area each: Leeds City Region meets every MPL and
#: stays on Level 1; Black Country records late over the winter (a spell of late recordings)
#: and recovers; Cornwall starts too few referrals for four months (a spell of a low start
#: rate), goes to Level 3 and recovers; Greater Manchester (Provider C: slow to act, and the
#: weak unit) keeps a cumulative backlog above 2% and starts too few referrals month after
#: month, and reaches Level 4. Spells are calendar months, whatever the start date.
#: Probability that a referral starts (else it does not start), per unit.
ESF_START: tuple[float, ...] = (0.92, 0.93, 0.84, 0.62, 0.92, 0.92)
#: The start rate behind each unit's starts profile (the tender); the weak unit over-promised.
ESF_TENDER_START: tuple[float, ...] = (0.80, 0.80, 0.80, 0.85, 0.81, 0.80)
#: Probability that the Start / Did not Start action is recorded late (after 20 WD).
ESF_LATE: tuple[float, ...] = (0.0, 0.0, 0.04, 0.09, 0.0, 0.0)
#: Spells (unit, first and last referral month, probability) that replace a unit's ESF_LATE
#: and ESF_START for the referrals of those months.
ESF_LATE_SPELLS: tuple[tuple[int, str, str, float], ...] = ((0, "2023-12", "2024-01", 0.25),)
ESF_START_SPELLS: tuple[tuple[int, str, str, float], ...] = ((1, "2024-02", "2024-05", 0.55),)
#: Units whose provider acts on a referral fast: the start (or did not start) on the day of the
#: referral or within 2 working days, recorded on PRaP the same day as a rule. The others start
#: 3..15 working days after the referral and record 0..3 working days after.
ESF_FAST: tuple[bool, ...] = (True, True, False, False, True, True)
#: Start 3..15 working days after the referral; did not start decided 1..10 working days after.
ESF_START_DAYS: tuple[float, ...] = (
    0.24, 0.22, 0.16, 0.11, 0.07, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01,
)
ESF_DNS_DAYS: tuple[float, ...] = (0.10, 0.16, 0.18, 0.15, 0.12, 0.09, 0.07, 0.06, 0.04, 0.03)
#: A fast unit's start 0..2 and did not start 0..1 working days after the referral, and its
#: recording 0..1 working days after the action.
ESF_FAST_START_DAYS: tuple[float, ...] = (0.75, 0.2, 0.05)
ESF_FAST_DNS_DAYS: tuple[float, ...] = (0.8, 0.2)
ESF_FAST_RECORD_LAG: tuple[float, ...] = (0.95, 0.05)
#: Never recorded (backlog), per unit: probability base + recent * exp(-age / scale), age in
#: working days at the extract date: a backlog of recent referrals being worked through and
#: (Greater Manchester) an old tail.
ESF_STUCK: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.06, 4.0), (0.0, 0.06, 4.0), (0.004, 0.06, 25.0), (0.006, 0.06, 25.0),
    (0.0, 0.06, 4.0), (0.0, 0.06, 4.0),
)
#: Achieved job outcome rates (share of starts), per unit.
ESF_SHORT: tuple[float, ...] = (0.555, 0.59, 0.35, 0.26, 0.59, 0.531)
ESF_SUSTAINED: tuple[float, ...] = (0.28, 0.26, 0.205, 0.12, 0.30, 0.25)
#: Tendered outcome rates, in ten-thousandths of the starts (ESF 7.3: one rate per cohort).
ESF_TENDER_SHORT: tuple[int, ...] = (3300, 3250, 3400, 3350, 3500, 3125)
ESF_TENDER_SUSTAINED: tuple[int, ...] = (1800, 1650, 1900, 1850, 2000, 1575)
#: Profile shapes (ten-thousandths of the rate per month since the start month, 0..11) and
#: which one each unit tendered: 0 standard, 1 slower.
ESF_SHORT_SHAPES: tuple[tuple[int, ...], ...] = (
    (0, 900, 1500, 1700, 1600, 1300, 1000, 800, 500, 300, 200, 200),
    (0, 500, 1100, 1500, 1600, 1500, 1200, 1000, 700, 400, 300, 200),
)
ESF_SUSTAINED_SHAPES: tuple[tuple[int, ...], ...] = (
    (0, 0, 0, 0, 600, 1000, 1400, 1600, 1600, 1500, 1300, 1000),
    (0, 0, 0, 0, 300, 700, 1100, 1400, 1600, 1700, 1700, 1500),
)
ESF_SHAPE: tuple[int, ...] = (0, 1, 0, 1, 0, 1)
ESF_OUTCOMES: tuple[str, ...] = ("short_job", "sustained_job")


def _esf_spells(
    values: Sequence[float], spells: Sequence[tuple[int, str, str, float]], unit: np.ndarray,
    month: np.ndarray,
) -> np.ndarray:
    """Per row, its unit's value, or a spell's where the row's unit and month are in one."""
    out = np.asarray(values)[unit]
    for code, first, last, value in spells:  # a loop over the few spells, not over rows
        rows = (unit == code) & (month >= np.datetime64(first, "M"))
        out = np.where(rows & (month <= np.datetime64(last, "M")), value, out)
    return out


def _esf_referrals(
    rng: np.random.Generator, n: int, ref: np.ndarray, start: np.datetime64,
    extract: np.datetime64, cal: np.busdaycalendar,
) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``referrals`` table, plus per row: unit code, start date, started-and-recorded, and
    whether the row carries a deliberate error."""
    unit = _draw(rng, n, ESF_UNIT_SHARES).astype(np.int8)
    month = ref.astype("datetime64[M]")
    starts = rng.random(n) < _esf_spells(ESF_START, ESF_START_SPELLS, unit, month)
    fast = np.asarray(ESF_FAST)[unit]
    k_start = np.where(fast, _draw(rng, n, ESF_FAST_START_DAYS), 3 + _draw(rng, n, ESF_START_DAYS))
    k_dns = np.where(fast, _draw(rng, n, ESF_FAST_DNS_DAYS), 1 + _draw(rng, n, ESF_DNS_DAYS))
    event = _workday(ref, np.where(starts, k_start, k_dns), cal)
    del k_start, k_dns
    lag = np.where(fast, _draw(rng, n, ESF_FAST_RECORD_LAG), _draw(rng, n, RECORD_LAG))
    late = _esf_spells(ESF_LATE, ESF_LATE_SPELLS, unit, month)
    recorded = _record_dates(rng, ref, event, late, cal, lag)
    del fast, lag, late, month

    # backlog: never recorded (mostly recent referrals), or recorded after the extract date
    age = np.busday_count(ref, extract, busdaycal=cal)
    base, recent, scale = np.asarray(ESF_STUCK)[unit].T
    stuck = rng.random(n) < base + recent * np.exp(-age / scale)
    del age
    pending = stuck | (recorded > extract)

    # deliberate record-level data errors: a recorded date or a start date before the referral
    errors = max(ERROR_MIN, round(ERROR_SHARE * n))
    settled = (ref >= start + 7) & ~pending
    bad_rec = _pick(rng, settled, errors)
    settled[bad_rec] = False
    bad_start = _pick(rng, settled & starts, errors)
    recorded[bad_rec] = ref[bad_rec] - rng.integers(1, 6, len(bad_rec)) * DAY
    event[bad_start] = ref[bad_start] - rng.integers(1, 6, len(bad_start)) * DAY
    error_row = np.zeros(n, dtype=bool)
    error_row[bad_rec] = error_row[bad_start] = True

    units = np.asarray(ESF_UNITS, dtype=np.int8)[unit]
    width = max(7, len(str(n)))
    table = pa.table({
        "referral_id": _ids("E", n, width),
        "provider": _labels(ESF_PROVIDERS, units[:, 2]),
        "lep_area": _labels(ESF_LEPS, units[:, 0]),
        "category_of_region": _labels(ESF_CORS, units[:, 1]),
        "referral_date": _dates(ref),
        "start_date": _dates(event, pending | ~starts),
        "dns_date": _dates(event, pending | starts),
        "recorded_date": _dates(recorded, pending),
    })
    return table, unit, event, starts & ~pending, error_row


def _esf_starts_profile(
    n: int, days: np.ndarray, weights: np.ndarray, start: np.datetime64, extract: np.datetime64
) -> pa.Table:
    """Profiled starts per LEP area and CoR (and ``ALL``, their sum) for every month."""
    expected = _expected_by_month(days, weights, start, extract)
    shares = np.asarray(ESF_UNIT_SHARES) * np.asarray(ESF_TENDER_START)
    profile = np.rint(n * shares[:, None] * expected[None, :]).astype(np.int64)
    labels = [_month_label(m) for m in range(_month_number(start), _month_number(extract) + 1)]
    lep, cor, month, starts = [], [], [], []
    for code, name in enumerate(ESF_LEPS):
        units = sorted((u for u, spec in enumerate(ESF_UNITS) if spec[0] == code),
                       key=lambda u: ESF_CORS[ESF_UNITS[u][1]])
        for label, values in [("ALL", profile[units].sum(axis=0))] + [
            (ESF_CORS[ESF_UNITS[u][1]], profile[u]) for u in units
        ]:
            lep += [name] * len(labels)
            cor += [label] * len(labels)
            month += labels
            starts += values.tolist()
    return pa.table({
        "lep_area": pa.array(lep, type=pa.string()),
        "category_of_region": pa.array(cor, type=pa.string()),
        "month": pa.array(month, type=pa.string()),
        "profiled_starts": pa.array(starts, type=pa.int64()),
    })


def _esf_outcome_profiles() -> pa.Table:
    """Tendered rate and monthly shares per LEP area, CoR and outcome; the LEP's ``ALL`` rows
    are its CoRs' profiles weighted by their expected starts (rate rounded to 4 places, shares
    rounded to sum to exactly 1)."""
    lep, cor, outcome, rate, month, share = [], [], [], [], [], []
    specs = (("short_job", ESF_TENDER_SHORT, ESF_SHORT_SHAPES),
             ("sustained_job", ESF_TENDER_SUSTAINED, ESF_SUSTAINED_SHAPES))
    for code, name in enumerate(ESF_LEPS):
        units = sorted((u for u, spec in enumerate(ESF_UNITS) if spec[0] == code),
                       key=lambda u: ESF_CORS[ESF_UNITS[u][1]])
        weight = {u: Fraction(str(ESF_UNIT_SHARES[u])) * Fraction(str(ESF_TENDER_START[u]))
                  for u in units}
        for label, members in [("ALL", units)] + [(ESF_CORS[ESF_UNITS[u][1]], [u]) for u in units]:
            for kind, rates, shapes in specs:
                total = sum((weight[u] for u in members), Fraction(0))
                expected = sum((weight[u] * rates[u] for u in members), Fraction(0))
                months = len(shapes[0])
                by_month = [sum((weight[u] * rates[u] * shapes[ESF_SHAPE[u]][k] for u in members),
                                Fraction(0)) for k in range(months)]
                lep += [name] * months
                cor += [label] * months
                outcome += [kind] * months
                rate += [round(expected / total)] * months
                month += list(range(months))
                share += _round_shares(by_month)
    return pa.table({
        "lep_area": pa.array(lep, type=pa.string()),
        "category_of_region": pa.array(cor, type=pa.string()),
        "outcome": pa.array(outcome, type=pa.string()),
        "rate": _decimals(rate),
        "month": pa.array(month, type=pa.int64()),
        "share": _decimals(share),
    })


def generate_esf(
    rows: int, seed: int = 1, start: str = "2023-04-01", extract: str = "2024-09-30"
) -> dict[str, pa.Table]:
    """A synthetic ESF 2014-2020 data set: ``referrals`` (``rows`` rows), ``starts_profile``,
    ``outcomes`` and ``outcome_profiles``.

    Deterministic: the same arguments give identical tables. Referral dates run from ``start``
    to ``extract`` (one referral on ``extract`` itself), ramping up over the first months;
    anything that would happen after ``extract`` is null (pending) or absent. See
    ``examples/esf/README.md`` for what it contains.
    """
    first, last = _period(start, extract, rows)
    cal = _calendar(first, last)
    rng = np.random.Generator(np.random.PCG64(seed))
    days, weights = _ramp_weights(first, last, cal)
    ref = _dates_from(rng, rows, days, weights, last)
    referrals, unit, start_day, started, error_row = _esf_referrals(
        rng, rows, ref, first, last, cal
    )
    del ref
    rows_started = np.flatnonzero(started)
    del started
    u = unit[rows_started]
    shape = np.asarray(ESF_SHAPE, dtype=np.int8)[u]
    r1, d1, r2, d2 = _job_outcomes(
        rng, rows_started, start_day[rows_started], np.asarray(ESF_SHORT)[u],
        np.asarray(ESF_SUSTAINED)[u], shape, _cdfs(ESF_SHORT_SHAPES), _cdfs(ESF_SUSTAINED_SHAPES),
    )
    del rows_started, u, shape
    r1, d1 = r1[d1 <= last], d1[d1 <= last]
    r2, d2 = r2[d2 <= last], d2[d2 <= last]
    count = max(1, round(ERROR_SHARE * rows / 2))
    d1, r_unknown, d_unknown = _outcome_errors(
        rng, rows, first, last, r1, d1, start_day, error_row, count
    )
    width = max(7, len(str(rows)))
    unknown = _unknown_ids(rng, "E", rows, width, len(r_unknown))
    outcomes = _outcome_table(
        referrals["referral_id"].combine_chunks(), unknown, ESF_OUTCOMES,
        [(np.concatenate([r1, r_unknown]), np.concatenate([d1, d_unknown])), (r2, d2)],
    )
    return {
        "referrals": referrals,
        "starts_profile": _esf_starts_profile(rows, days, weights, first, last),
        "outcomes": outcomes,
        "outcome_profiles": _esf_outcome_profiles(),
    }


# --------------------------------------------------------------------------------------------
# Specialist Employability Support (seed 004, chapter 7)
# --------------------------------------------------------------------------------------------

SES_PROVIDERS: tuple[str, ...] = ("Provider A", "Provider B", "Provider C")
SES_PROVIDER_SHARES: tuple[float, ...] = (0.40, 0.35, 0.25)
#: Index of the weak provider: fewer starts, more late start recordings, fewer job outcomes.
SES_WEAK_PROVIDER = 1
#: Probability that a referral has an initial assessment, 2..10 working days after it.
SES_ASSESSED: tuple[float, ...] = (0.93, 0.90, 0.92)
SES_ASSESS_DAYS: tuple[float, ...] = (0.10, 0.16, 0.18, 0.16, 0.13, 0.10, 0.08, 0.05, 0.04)
#: Probability that an assessed referral starts, 0..10 working days after the assessment.
SES_START: tuple[float, ...] = (0.88, 0.78, 0.86)
SES_START_DAYS: tuple[float, ...] = (
    0.30, 0.15, 0.12, 0.10, 0.08, 0.07, 0.06, 0.05, 0.03, 0.02, 0.02,
)
#: Probability that the start is recorded on PRaP late (after 20 working days).
SES_LATE: tuple[float, ...] = (0.03, 0.11, 0.04)
#: Days on provision: at least SES_STAY_MIN, then gamma(shape, scale) days.
SES_STAY_MIN = 70
SES_STAY = (2.0, 100.0)
#: Achieved outcome rates (share of starts), per provider.
SES_JOB: tuple[float, ...] = (0.29, 0.19, 0.27)
SES_SUSTAINED: tuple[float, ...] = (0.19, 0.10, 0.17)
#: The tendered start rate behind the starts profile (starts per referral).
SES_TENDER_START = 0.75
SES_OUTCOMES: tuple[str, ...] = ("job_outcome", "sustained_job_outcome")
#: Start conversion rates (ten-thousandths) and shares per month since the start, 0..17.
SES_RATES: tuple[int, ...] = (2500, 1500)
SES_SHAPES: tuple[tuple[int, ...], ...] = (
    (0, 300, 700, 1000, 1100, 1100, 1000, 900, 800, 700, 600, 500, 400, 300, 250, 150, 100, 100),
    (0, 0, 0, 0, 0, 300, 500, 700, 900, 1000, 1100, 1100, 1000, 900, 800, 700, 600, 400),
)


def _ses_referrals(
    rng: np.random.Generator, n: int, ref: np.ndarray, start: np.datetime64,
    extract: np.datetime64, cal: np.busdaycalendar,
) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``referrals`` table, plus per row: provider code, start date, started-and-recorded,
    and whether the row carries a deliberate error."""
    provider = _draw(rng, n, SES_PROVIDER_SHARES).astype(np.int8)
    assessed = rng.random(n) < np.asarray(SES_ASSESSED)[provider]
    starts = assessed & (rng.random(n) < np.asarray(SES_START)[provider])
    assessment = _workday(ref, 2 + _draw(rng, n, SES_ASSESS_DAYS), cal)
    begin = _workday(assessment, _draw(rng, n, SES_START_DAYS), cal)
    recorded = _record_dates(rng, ref, begin, np.asarray(SES_LATE)[provider], cal)
    stay = SES_STAY_MIN + rng.gamma(SES_STAY[0], SES_STAY[1], n).astype(np.int64)
    leave = begin + stay

    no_assessment = ~assessed | (assessment > extract)
    no_start = no_assessment | ~starts | (recorded > extract)
    no_leave = no_start | (leave > extract)

    # deliberate record-level data errors: start recorded before the referral, leave before start
    errors = max(ERROR_MIN, round(ERROR_SHARE * n))
    settled = (ref >= start + 7) & ~no_start
    bad_rec = _pick(rng, settled, errors)
    settled[bad_rec] = False
    bad_leave = _pick(rng, settled & ~no_leave, errors)
    recorded[bad_rec] = ref[bad_rec] - rng.integers(1, 6, len(bad_rec)) * DAY
    leave[bad_leave] = begin[bad_leave] - rng.integers(1, 11, len(bad_leave)) * DAY
    error_row = np.zeros(n, dtype=bool)
    error_row[bad_rec] = error_row[bad_leave] = True

    width = max(7, len(str(n)))
    table = pa.table({
        "referral_id": _ids("S", n, width),
        "provider": _labels(SES_PROVIDERS, provider),
        "referral_date": _dates(ref),
        "initial_assessment_date": _dates(assessment, no_assessment),
        "start_date": _dates(begin, no_start),
        "start_recorded_date": _dates(recorded, no_start),
        "leave_date": _dates(leave, no_leave),
    })
    return table, provider, begin, ~no_start, error_row


def _ses_profiles() -> pa.Table:
    """The tendered start conversion rate and monthly shares of each outcome."""
    months = len(SES_SHAPES[0])
    return pa.table({
        "outcome": pa.array([k for k in SES_OUTCOMES for _ in range(months)], type=pa.string()),
        "rate": _decimals([r for r in SES_RATES for _ in range(months)]),
        "month": pa.array(list(range(months)) * len(SES_OUTCOMES), type=pa.int64()),
        "share": _decimals([s for shape in SES_SHAPES for s in shape]),
    })


def _ses_starts_profile(
    n: int, days: np.ndarray, weights: np.ndarray, start: np.datetime64, extract: np.datetime64
) -> pa.Table:
    """Profiled starts of the contract for every month start..extract."""
    expected = _expected_by_month(days, weights, start, extract)
    profile = np.rint(n * SES_TENDER_START * expected).astype(np.int64)
    first = _month_number(start)
    return pa.table({
        "month": pa.array([_month_label(first + m) for m in range(len(profile))],
                          type=pa.string()),
        "profiled_starts": pa.array(profile, type=pa.int64()),
    })


def generate_ses(
    rows: int, seed: int = 1, start: str = "2023-04-01", extract: str = "2024-09-30"
) -> dict[str, pa.Table]:
    """A synthetic SES data set: ``referrals`` (``rows`` rows), ``outcomes``, ``profiles`` and
    ``starts_profile``.

    Deterministic: the same arguments give identical tables. Referral dates run from ``start``
    to ``extract`` (one referral on ``extract`` itself), ramping up over the first months;
    anything that would happen after ``extract`` is null (pending) or absent. See
    ``examples/ses/README.md`` for what it contains.
    """
    first, last = _period(start, extract, rows)
    cal = _calendar(first, last)
    rng = np.random.Generator(np.random.PCG64(seed))
    days, weights = _ramp_weights(first, last, cal)
    ref = _dates_from(rng, rows, days, weights, last)
    referrals, provider, start_day, started, error_row = _ses_referrals(
        rng, rows, ref, first, last, cal
    )
    del ref
    rows_started = np.flatnonzero(started)
    p = provider[rows_started]
    cdfs = _cdfs(SES_SHAPES)
    r1, d1, r2, d2 = _job_outcomes(
        rng, rows_started, start_day[rows_started], np.asarray(SES_JOB)[p],
        np.asarray(SES_SUSTAINED)[p], np.zeros(len(p), dtype=np.int8), cdfs[:1], cdfs[1:],
    )
    del rows_started, p
    r1, d1 = r1[d1 <= last], d1[d1 <= last]
    r2, d2 = r2[d2 <= last], d2[d2 <= last]
    count = max(1, round(ERROR_SHARE * rows / 2))
    d1, r_unknown, d_unknown = _outcome_errors(
        rng, rows, first, last, r1, d1, start_day, error_row, count
    )
    width = max(7, len(str(rows)))
    unknown = _unknown_ids(rng, "S", rows, width, len(r_unknown))
    outcomes = _outcome_table(
        referrals["referral_id"].combine_chunks(), unknown, SES_OUTCOMES,
        [(np.concatenate([r1, r_unknown]), np.concatenate([d1, d_unknown])), (r2, d2)],
    )
    return {
        "referrals": referrals,
        "outcomes": outcomes,
        "profiles": _ses_profiles(),
        "starts_profile": _ses_starts_profile(rows, days, weights, first, last),
    }


# --------------------------------------------------------------------------------------------
# IPES (seed 002, chapter 9): Customer Service Standards month by month, cohort profiles
# --------------------------------------------------------------------------------------------

IPES_PROVIDERS: tuple[str, ...] = ("Provider A", "Provider B", "Provider C", "Provider D")
IPES_PROVIDER_SHARES: tuple[float, ...] = (0.30, 0.25, 0.25, 0.20)
#: Contract package areas, and the one each provider delivers in.
IPES_CPAS: tuple[str, ...] = ("North East", "Wales")
IPES_PROVIDER_CPA: tuple[int, ...] = (0, 1, 0, 1)
#: Outcome of the initial meeting, and its probabilities.
IPES_MEETING_OUTCOMES: tuple[str, ...] = ("start", "did_not_start", "did_not_attend")
IPES_MEETING_SHARES: tuple[float, ...] = (0.78, 0.09, 0.13)
#: On-time working-day offsets: decision 0..2 WD after the referral (CSS1), initial meeting
#: 3..13 WD after it (CSS2: held and recorded within 15 WD), recorded 0..2 WD after the meeting,
#: service delivery standards 0..1 WD after the start (CSS3), exit report 1..10 WD after the end
#: (CSS8), warm handback 0..5 WD before the end (CSS10).
IPES_DECISION_DAYS: tuple[float, ...] = (0.30, 0.45, 0.25)
IPES_MEETING_DAYS: tuple[float, ...] = (
    0.06, 0.10, 0.13, 0.14, 0.13, 0.12, 0.10, 0.08, 0.06, 0.05, 0.03,
)
IPES_RECORD_DAYS: tuple[float, ...] = (0.70, 0.20, 0.10)
IPES_SDS_DAYS: tuple[float, ...] = (0.60, 0.40)
IPES_EXIT_DAYS: tuple[float, ...] = (0.04, 0.08, 0.12, 0.14, 0.14, 0.13, 0.11, 0.10, 0.08, 0.06)
IPES_HANDBACK_DAYS: tuple[float, ...] = (0.35, 0.25, 0.15, 0.10, 0.08, 0.07)
#: Days on provision (about 6-15 months), and the shares of starts needing an exit report
#: (CSS8) and a warm handback (CSS10).
IPES_STAY = (183, 456)
IPES_EXIT_REQUIRED = 0.75
IPES_HANDBACK_REQUIRED = 0.55
#: Days between meetings (CSS7: at least once every 4 weeks): 1-3 weeks, or 5-6 weeks when a
#: meeting is missed.
IPES_MEETING_GAPS: tuple[int, ...] = (7, 14, 21)
IPES_MISSED_GAPS: tuple[int, ...] = (35, 42)
#: Share of a provider-month's cases that miss a standard in a month that meets it: the CSSs
#: with a 100% target are perfect, CSS2 (95%) and CSS4 (97%) nearly so. A month's count is
#: rounded down, so a good month is never below 98.5%.
IPES_BASE_FAIL: dict[str, float] = {"css2": 0.015, "css4": 0.01}
#: The performance story: (standard, provider code, month, share of the month's cases that
#: miss it). Exactly that share (rounded, at least one case) misses it, among the cases whose
#: deadline has passed by the extract date; the failures of CSS1, CSS3 and CSS4 are also late
#: within the same month. CSS7's share is of the provider's participants with a missed 4-week
#: meeting due in that month.
IPES_STORY: tuple[tuple[str, int, str, float], ...] = (
    # Provider B: CSS1 in two months out of three in mid-2024, then never again.
    ("css1", 1, "2024-06", 0.15), ("css1", 1, "2024-08", 0.20),
    # Provider C: CSS2 from autumn 2024, two months out of three and then every month.
    ("css2", 2, "2024-09", 0.14), ("css2", 2, "2024-11", 0.12), ("css2", 2, "2024-12", 0.15),
    ("css2", 2, "2025-01", 0.11), ("css2", 2, "2025-02", 0.13), ("css2", 2, "2025-03", 0.16),
    ("css2", 2, "2025-04", 0.12), ("css2", 2, "2025-05", 0.10), ("css2", 2, "2025-06", 0.14),
    ("css2", 2, "2025-07", 0.12), ("css2", 2, "2025-08", 0.11), ("css2", 2, "2025-09", 0.13),
    # Provider D: a different standard now and then (CSS1 twice, three months apart) ...
    ("css3", 3, "2024-05", 0.12), ("css1", 3, "2024-07", 0.12), ("css2", 3, "2024-08", 0.12),
    ("css1", 3, "2024-10", 0.14), ("css8", 3, "2025-06", 0.15), ("css7", 3, "2025-07", 0.15),
    ("css10", 3, "2025-08", 0.15),
    # ... and a spell of CSS4 three months running.
    ("css4", 3, "2025-03", 0.10), ("css4", 3, "2025-04", 0.13), ("css4", 3, "2025-05", 0.09),
)
#: Late returns (CSS9 is the customer insight return): (return, provider code, period,
#: working days late). Every other return is on time.
IPES_LATE_RETURNS: tuple[tuple[str, int, str, int], ...] = (
    ("customer_insight", 3, "2024-12", 3), ("css11", 3, "2025-02", 2),
)
IPES_RETURNS: tuple[str, ...] = ("customer_insight", "css11")
#: Achieved outcome rates (share of starts) per provider: employed outcomes (lower threshold,
#: and the higher threshold among them) and self-employed ones (91 and 182 days trading).
IPES_LOWER: tuple[float, ...] = (0.33, 0.29, 0.25, 0.30)
IPES_HIGHER: tuple[float, ...] = (0.20, 0.17, 0.14, 0.18)
IPES_SE_LOWER: tuple[float, ...] = (0.050, 0.045, 0.040, 0.050)
IPES_SE_HIGHER: tuple[float, ...] = (0.034, 0.030, 0.025, 0.032)
#: Months from a lower to a higher threshold outcome.
IPES_HIGHER_GAP = (1, 4)
#: Self-employed outcome claims: 7..90 days after achievement; the late ones (this share of
#: them, at least ERROR_MIN, among those whose late claim is in the extract) 91..150 days.
IPES_CLAIM_LATE = 0.05
IPES_OUTCOMES: tuple[str, ...] = ("lower_threshold", "higher_threshold", "se_lower", "se_higher")
#: The tMPL cohort profiles (para 9.27): cumulative share of a cohort's starts, in
#: ten-thousandths, with each outcome by month 0..23 since the start month.
IPES_PROFILES: tuple[tuple[int, ...], ...] = (
    (0, 0, 60, 170, 330, 530, 770, 1020, 1270, 1500, 1720, 1910, 2080, 2230, 2370, 2490,
     2590, 2680, 2760, 2830, 2890, 2940, 2975, 3000),
    (0, 0, 0, 40, 110, 210, 330, 460, 600, 740, 880, 1010, 1130, 1240, 1340, 1430, 1510,
     1580, 1640, 1690, 1730, 1760, 1785, 1800),
    (0, 0, 0, 20, 60, 110, 160, 210, 255, 295, 330, 360, 385, 405, 420, 430, 438, 444, 448,
     450, 450, 450, 450, 450),
    (0, 0, 0, 0, 0, 0, 20, 50, 85, 120, 155, 185, 210, 232, 250, 265, 277, 286, 292, 296,
     298, 300, 300, 300),
)
#: Start rate behind the RNOs.
IPES_TENDER_START = 0.78
#: Earnings (para 9.22-9.23): first declared 14-120 days before the Lower Threshold Outcome
#: they lead to; a quarter as many again declare earnings without reaching it (yet). The
#: predicted Earnings PI is each provider's share of the lower threshold RNO two months later
#: times IPES_EARNINGS_PER_OUTCOME.
IPES_EARNINGS_LEAD = (14, 120)
IPES_EARNINGS_EXTRA = 0.25
IPES_EARNINGS_PER_OUTCOME = 1.25
#: Complaints (para 9.47): per provider and month on average, resolved 1-40 working days after
#: receipt (a tenth not yet at the extract), a tenth referred to DWP.
IPES_COMPLAINTS_PER_MONTH: tuple[float, ...] = (3.0, 2.0, 4.0, 2.5)
IPES_COMPLAINT_DAYS = (1, 40)
#: Monthly Service Fee per provider in pounds, uprated by IPES_FEE_UPRATE each April after
#: the first.
IPES_FEE_POUNDS: tuple[int, ...] = (86_500, 71_000, 63_250, 49_800)
IPES_FEE_UPRATE = 0.017


def _ipes_story(css: str, first: int, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Per provider and month (months since ``first``): the share of cases that miss ``css``,
    and whether the month is one of the story's failing months."""
    share = np.full((len(IPES_PROVIDERS), months), IPES_BASE_FAIL.get(css, 0.0))
    fail = np.zeros((len(IPES_PROVIDERS), months), dtype=bool)
    for name, provider, label, value in IPES_STORY:
        month = _month_number(np.datetime64(label, "M")) - first
        if name == css and 0 <= month < months:
            share[provider, month] = value
            fail[provider, month] = True
    return share, fail


class _DayTable:
    """Working-day arithmetic by table look-up for dates lo..hi: the same answers as
    ``np.busday_offset`` on ``cal``, without its per-element cost (IPES has tens of millions
    of meeting dates)."""

    def __init__(self, cal: np.busdaycalendar, lo: np.datetime64, hi: np.datetime64) -> None:
        days = np.arange(lo, hi + DAY, dtype="datetime64[D]")
        self.base = int(lo.astype(np.int64))
        self.work = np.is_busday(days, busdaycal=cal)
        self.last = np.cumsum(self.work) - 1  # index of the last working day <= each day
        self.workdays = days[self.work]
        self.month = days.astype("datetime64[M]").astype(np.int64)
        #: per day (days since ``base``): the next working day on or after it, the same way
        self.next = (self.workdays[self.last + ~self.work].astype(np.int64)
                     - self.base).astype(np.int32)

    def _index(self, days: np.ndarray) -> np.ndarray:
        return days.astype("datetime64[D]").astype(np.int64) - self.base

    def workday(self, anchor: np.ndarray, k: np.ndarray) -> np.ndarray:
        """``_workday``: Excel ``WORKDAY(anchor, k)``, the anchor itself when k == 0; k < 0
        counts back from the last working day on or before the anchor."""
        shifted = self.workdays[self.last[self._index(anchor)] + k]
        return np.where(k == 0, anchor, shifted)

    def forward(self, days: np.ndarray) -> np.ndarray:
        """``_due_date``: each date moved forward to the next working day if it is not one."""
        i = self._index(days)
        return self.workdays[self.last[i] + ~self.work[i]]

    def months(self, days: np.ndarray) -> np.ndarray:
        """Months since 1970-01 of each date."""
        return self.month[self._index(days)]

    def working(self, days: np.ndarray) -> np.ndarray:
        """Whether each date is a working day."""
        return self.work[self._index(days)]


def _exact_misses(
    rng: np.random.Generator, css: str, provider: np.ndarray, month: np.ndarray,
    counted: np.ndarray, eligible: np.ndarray, first: int, months: int,
) -> np.ndarray:
    """Which rows miss ``css``: in each provider-month cell of the ``counted`` rows (``month``:
    months since 1970-01), exactly its share of them, rounded (at least one) in a failing month,
    and otherwise its share of the ``eligible`` ones rounded down, drawn at random among the
    cell's ``eligible`` rows."""
    share, fail = _ipes_story(css, first, months)
    month = month - first
    valid = counted & (month >= 0) & (month < months)
    cell = np.where(valid, provider.astype(np.int64) * months + month, -1)
    n_cells = len(IPES_PROVIDERS) * months
    counts = np.bincount(cell[valid], minlength=n_cells)
    counts_eligible = np.bincount(cell[valid & eligible], minlength=n_cells)
    share, fail = share.reshape(-1), fail.reshape(-1)
    quota = np.where(fail, np.maximum(np.rint(share * counts), counts > 0),
                     np.floor(share * counts_eligible)).astype(np.int64)
    key = rng.integers(0, 2**32, len(provider), dtype=np.int64)
    rows = np.flatnonzero(valid & eligible & (quota[np.maximum(cell, 0)] > 0))
    rows = rows[np.argsort((cell[rows] << 32) | key[rows])]  # by cell, then at random
    c = cell[rows]
    rank = np.arange(len(rows)) - np.searchsorted(c, np.arange(n_cells))[c]
    out = np.zeros(len(provider), dtype=bool)
    out[rows[rank < quota[c]]] = True
    return out


def _late_days(rng: np.random.Generator, n: int, lo: int, hi: int, p: float) -> np.ndarray:
    """Working-day offsets lo..hi of late events, mostly just after lo."""
    return lo + np.minimum(rng.geometric(p, n) - 1, hi - lo)


def _ipes_referrals(
    rng: np.random.Generator, n: int, ref: np.ndarray, start: np.datetime64,
    extract: np.datetime64, days: _DayTable,
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """The ``referrals`` table, and per row: provider, start and (uncensored) end dates and
    whether the start is in the extract."""
    first = _month_number(start)
    months = _month_number(extract) - first + 1
    provider = _draw(rng, n, IPES_PROVIDER_SHARES).astype(np.int8)
    everyone = np.ones(n, dtype=bool)
    workday, month = days.workday, days.months

    def misses(css: str, when: np.ndarray, counted: np.ndarray, eligible: np.ndarray):
        return _exact_misses(rng, css, provider, month(when), counted, eligible, first, months)

    def due(anchor: np.ndarray, k: int) -> np.ndarray:
        return workday(anchor, np.full(n, k)) <= extract

    # CSS1: accepted or rejected on PRaP within 2 working days
    ref_month = month(ref)
    k_dec = _draw(rng, n, IPES_DECISION_DAYS)
    k_dec = np.where(~days.working(ref) & (k_dec == 0), 1, k_dec)
    k_late = _late_days(rng, n, 3, 8, 0.35)
    late = misses("css1", ref, everyone,
                  (month(workday(ref, k_late)) == ref_month) & due(ref, 2))
    k_dec = np.where(late, k_late, k_dec)
    decision = workday(ref, k_dec)
    late_decision = late

    # CSS2: initial meeting held and recorded within 15 working days of the referral
    k_meet = np.maximum(3 + _draw(rng, n, IPES_MEETING_DAYS), k_dec + 1)
    lag = _draw(rng, n, IPES_RECORD_DAYS)
    k_late = _late_days(rng, n, 16, 25, 0.25)
    late = misses("css2", ref, everyone, due(ref, 15))
    meeting_late = late & (rng.random(n) < 0.5)
    meeting = workday(ref, np.where(meeting_late, k_late, k_meet))
    recorded = np.where(late & ~meeting_late, workday(ref, k_late), workday(meeting, lag))
    del k_dec, k_meet, lag, k_late, meeting_late, ref_month
    outcome = _draw(rng, n, IPES_MEETING_SHARES).astype(np.int8)
    no_decision = decision > extract
    no_meeting = recorded > extract
    started = (outcome == 0) & ~no_meeting

    # CSS3: service delivery standards within 1 working day of the start
    start_month = month(meeting)
    k_late = _late_days(rng, n, 2, 6, 0.35)
    late = misses("css3", meeting, started,
                  (month(workday(meeting, k_late)) == start_month) & due(meeting, 1))
    sds = workday(meeting, np.where(late, k_late, _draw(rng, n, IPES_SDS_DAYS)))
    # CSS4: action plan agreed on the day of the initial meeting
    k_late = _late_days(rng, n, 1, 5, 0.35)
    late = misses("css4", meeting, started, month(workday(meeting, k_late)) == start_month)
    plan = np.where(late, workday(meeting, k_late), meeting)
    del start_month

    # the end of provision; CSS8 exit report within 10 WD of it; CSS10 warm handback
    end = days.forward(meeting + rng.integers(IPES_STAY[0], IPES_STAY[1] + 1, n))
    ended = started & (end <= extract)
    exit_required = started & (rng.random(n) < IPES_EXIT_REQUIRED)
    handback_required = started & (rng.random(n) < IPES_HANDBACK_REQUIRED)
    k_late = _late_days(rng, n, 11, 25, 0.2)
    late = misses("css8", end, ended & exit_required, due(end, 10))
    exit_report = workday(end, np.where(late, k_late, 1 + _draw(rng, n, IPES_EXIT_DAYS)))
    missed = misses("css10", end, ended & handback_required, everyone)
    handback = workday(end, -_draw(rng, n, IPES_HANDBACK_DAYS))
    del k_late, late

    # deliberate record-level data errors: a decision recorded before the referral
    errors = max(ERROR_MIN, round(ERROR_SHARE * n))
    bad = _pick(rng, (ref >= start + 7) & ~no_decision & ~late_decision, errors)
    decision[bad] = ref[bad] - rng.integers(1, 4, len(bad)) * DAY

    width = max(7, len(str(n)))
    table = pa.table({
        "referral_id": _ids("I", n, width),
        "provider": _labels(IPES_PROVIDERS, provider),
        "cpa": _labels(IPES_CPAS, np.asarray(IPES_PROVIDER_CPA, dtype=np.int8)[provider]),
        "referral_date": _dates(ref),
        "decision_date": _dates(decision, no_decision),
        "initial_meeting_date": _dates(meeting, no_meeting),
        "initial_meeting_recorded_date": _dates(recorded, no_meeting),
        "initial_meeting_outcome": pc.if_else(
            pa.array(no_meeting), pa.scalar(None, pa.string()),
            _labels(IPES_MEETING_OUTCOMES, outcome)),
        "start_date": _dates(meeting, ~started),
        "sds_issued_date": _dates(sds, ~started | (sds > extract)),
        "action_plan_date": _dates(plan, ~started | (plan > extract)),
        "end_date": _dates(end, ~ended),
        "exit_report_required": pa.array(exit_required, type=pa.bool_()),
        "exit_report_date": _dates(exit_report,
                                   ~(ended & exit_required) | (exit_report > extract)),
        "handback_required": pa.array(handback_required, type=pa.bool_()),
        "handback_date": _dates(handback, ~(ended & handback_required) | missed),
    })
    return table, {"provider": provider, "start": meeting, "end": end, "started": started}


#: Days between meetings by random byte (0..255): 115 of the 256 values give one week, 102 two
#: weeks and 39 three weeks (shares of 45%, 40% and 15%).
IPES_GAP_BYTES = np.repeat(np.asarray(IPES_MEETING_GAPS, dtype=np.int32), (115, 102, 39))


def _ipes_meetings(
    rng: np.random.Generator, rows: np.ndarray, provider: np.ndarray, begin: np.ndarray,
    stop: np.ndarray, days: _DayTable,
) -> tuple[np.ndarray, np.ndarray]:
    """Meetings of the started ``rows`` from their start (the initial meeting) to ``stop``:
    every 1-3 weeks, moved to the next working day; in the story's CSS7 months some of the
    provider's participants miss a meeting (a 5-6 week gap whose 4-week limit falls between
    the 3rd and the 26th of the month). Returns (row, date) of each meeting, in row and date
    order.

    Day numbers are int32 days since ``days.base``; each participant gets as many gaps as the
    shortest (weekly) schedule needs, and one running sum over all of them gives the dates:
    each participant's first slot holds the step from the previous participant's last date
    to its own start.
    """
    start = (begin.astype(np.int64) - days.base).astype(np.int32)
    end = (stop.astype(np.int64) - days.base).astype(np.int32)
    count = (end - start).astype(np.int64) // 7 + 1  # gaps are 7 days or more
    head = np.cumsum(count) - count
    total = int(count.sum())
    step = IPES_GAP_BYTES[np.frombuffer(rng.bytes(total), dtype=np.uint8)]
    step[head] = 0
    if len(head):
        last = start + np.add.reduceat(step, head, dtype=np.int32)  # each one's last date
        step[head] = start - np.r_[np.int32(0), last[:-1]]
    day = np.cumsum(step, dtype=np.int32)
    step[head] = 0  # back to the gaps

    # CSS7 misses: in each story month, one missed meeting for a share of the participants,
    # pushing their later meetings back
    for css, code, label, share in IPES_STORY:  # a loop over the story, not over rows
        if css != "css7":
            continue
        month = int(np.datetime64(label, "M").astype("datetime64[D]").astype(np.int64))
        month -= days.base
        limit = day - step
        cand = np.flatnonzero((limit >= month + 2 - 28) & (limit <= month + 25 - 28)
                              & (step > 0))
        del limit
        owner = np.searchsorted(head, cand, side="right") - 1
        ok = (provider[owner] == code) & (
            day[cand] - step[cand] + IPES_MISSED_GAPS[-1] <= end[owner])
        cand, owner = cand[ok], owner[ok]
        order = np.lexsort((rng.random(len(cand)), owner))
        cand, owner = cand[order], owner[order]
        one = np.r_[True, owner[1:] != owner[:-1]] if len(cand) else np.zeros(0, dtype=bool)
        cand, owner = cand[one], owner[one]
        chosen = rng.random(len(cand)) < share
        cand, owner = cand[chosen], owner[chosen]
        delta = (np.asarray(IPES_MISSED_GAPS)[rng.integers(0, 2, len(cand))]
                 - step[cand]).astype(np.int32)
        length = head[owner] + count[owner] - cand  # this meeting and the later ones
        offset = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
        day[np.repeat(cand, length) + offset] += np.repeat(delta, length)
    del step
    keep = day <= np.repeat(end, count)
    owner = np.repeat(np.arange(len(rows)),
                      np.add.reduceat(keep, head, dtype=np.int64) if len(head) else 0)
    day = days.next[day[keep]]
    keep = day <= end[owner]  # a meeting moved past an extract date that is no working day
    dates = (day[keep].astype(np.int64) + days.base).astype("datetime64[D]")
    return rows[owner[keep]], dates


def _ipes_outcomes(
    rng: np.random.Generator, rows: np.ndarray, provider: np.ndarray, begin: np.ndarray,
    end: np.ndarray, extract: np.datetime64,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, dates) of each outcome of the started ``rows``: employed outcomes (a higher
    threshold one 1-4 months after its lower one) and self-employed ones while on provision (the
    182-day one 91 days after the 91-day one). Nothing after ``extract``; last, the lower
    threshold outcomes that come after it (for the earnings that lead to them)."""
    cum = np.asarray(IPES_PROFILES, dtype=np.float64)
    cdfs = [c / c[-1] for c in cum]
    u = rng.random(len(rows))
    p_low, p_high = np.asarray(IPES_LOWER)[provider], np.asarray(IPES_HIGHER)[provider]
    p_se_low = p_low + np.asarray(IPES_SE_LOWER)[provider]
    p_se_high = p_low + np.asarray(IPES_SE_HIGHER)[provider]
    zero = np.zeros(len(rows), dtype=np.int8)

    k_low = _months_from(rng, zero, cdfs[:1])
    k_high = _months_from(rng, zero, cdfs[1:2])
    lo, hi = IPES_HIGHER_GAP
    gap = lo + (rng.random(len(rows)) * (np.minimum(hi, k_high - 2) - lo + 1)).astype(np.int64)
    higher = u < p_high
    k_low = np.where(higher, k_high - gap, k_low)
    day_low = _day_in_month(rng, begin, k_low)
    day_high = _day_in_month(rng, begin, k_high)

    k_se_low = _months_from(rng, zero, cdfs[2:3])
    k_se_high = _months_from(rng, zero, cdfs[3:4])
    se_higher = (u >= p_low) & (u < p_se_high)
    day_se_high = np.maximum(_day_in_month(rng, begin, k_se_high), begin + 182)
    day_se_low = np.where(se_higher, day_se_high - 91,
                          np.maximum(_day_in_month(rng, begin, k_se_low), begin + 91))

    parts = [(u < p_low, day_low), (higher, day_high),
             ((u >= p_low) & (u < p_se_low), day_se_low), (se_higher, day_se_high)]
    out = []
    for kind, (has, day) in enumerate(parts):  # a loop over the four outcomes, not over rows
        keep = has & (day <= extract)
        if kind >= 2:
            keep &= day <= end  # self-employed outcomes are achieved on provision
        out.append((rows[keep], day[keep]))
    later = (u < p_low) & (day_low > extract)  # earnings may be declared before the extract
    return [*out, (rows[later], day_low[later])]


def _ipes_outcome_table(
    rng: np.random.Generator, ids: pa.Array, parts: Sequence[tuple[np.ndarray, np.ndarray]],
    extract: np.datetime64,
) -> pa.Table:
    """``referral_id, outcome, achieved_date, claim_date`` sorted by date, row and outcome; the
    self-employed outcomes' claims mostly within 90 days, a few later, none after ``extract``
    (pending)."""
    table = _outcome_table(ids, [], IPES_OUTCOMES, parts)
    kind = np.concatenate([np.full(len(p[0]), i, dtype=np.int8) for i, p in enumerate(parts)])
    row = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts]).astype("datetime64[D]")
    span = (int(row.max()) + 1) * len(parts) if len(row) else 1
    order = np.argsort(day.astype(np.int64) * span + row.astype(np.int64) * len(parts) + kind)
    kind, day = kind[order], day[order]
    n = len(kind)
    self_employed = kind >= 2
    count = max(ERROR_MIN, round(IPES_CLAIM_LATE * int(self_employed.sum())))
    late = np.zeros(n, dtype=bool)
    late[_pick(rng, self_employed & (day + 150 <= extract), count)] = True
    lag = np.where(late, rng.integers(91, 151, n), 7 + np.minimum(rng.geometric(0.04, n) - 1, 83))
    claim = day + lag * DAY
    return table.append_column(
        "claim_date", _dates(claim, (kind < 2) | (claim > extract)))


def _ipes_profiles() -> pa.Table:
    """The tMPL cohort profiles: cumulative rate by month since the start month."""
    months = len(IPES_PROFILES[0])
    return pa.table({
        "outcome": pa.array([k for k in IPES_OUTCOMES for _ in range(months)], type=pa.string()),
        "month": pa.array(list(range(months)) * len(IPES_OUTCOMES), type=pa.int64()),
        "rate": _decimals([r for profile in IPES_PROFILES for r in profile]),
    })


def _ipes_expected_starts(
    n: int, days: np.ndarray, weights: np.ndarray, start: np.datetime64, extract: np.datetime64
) -> np.ndarray:
    """Expected starts of the contract in each month start..extract."""
    return n * IPES_TENDER_START * _expected_by_month(days, weights, start, extract)


def _ipes_rnos(starts: np.ndarray, start: np.datetime64) -> pa.Table:
    """Required numbers of outcomes per outcome and month: each month's expected starts
    achieving each outcome on the cohort profile, summed over the cohorts."""
    cum = np.asarray(IPES_PROFILES, dtype=np.float64) / 10_000
    step = np.diff(cum, axis=1, prepend=0.0)
    months = len(starts)
    required = np.zeros((len(IPES_OUTCOMES), months))
    for k in range(min(months, step.shape[1])):  # a loop over months since the start
        required[:, k:] += step[:, k : k + 1] * starts[None, : months - k]
    first = _month_number(start)
    labels = [_month_label(first + m) for m in range(months)]
    return pa.table({
        "outcome": pa.array([k for k in IPES_OUTCOMES for _ in range(months)], type=pa.string()),
        "period": pa.array(labels * len(IPES_OUTCOMES), type=pa.string()),
        "required": pa.array(np.rint(required).astype(np.int64).reshape(-1), type=pa.int64()),
    })


def _ipes_earnings_pi(required_lower: np.ndarray, start: np.datetime64) -> pa.Table:
    """Predicted participants whose earnings are first declared, per provider and month (para
    9.23): the provider's share of the lower threshold RNO two months later (earnings come
    before the outcome), times IPES_EARNINGS_PER_OUTCOME."""
    months = len(required_lower)
    ahead = required_lower[np.minimum(np.arange(months) + 2, months - 1)]
    shares = np.asarray(IPES_PROVIDER_SHARES) * IPES_EARNINGS_PER_OUTCOME
    predicted = np.rint(shares[:, None] * ahead[None, :]).astype(np.int64)
    first = _month_number(start)
    return pa.table({
        "provider": pa.array([p for p in IPES_PROVIDERS for _ in range(months)],
                             type=pa.string()),
        "month": pa.array([_month_label(first + m) for m in range(months)]
                          * len(IPES_PROVIDERS), type=pa.string()),
        "predicted": pa.array(predicted.reshape(-1), type=pa.int64()),
    })


def _ipes_complaints(rng: np.random.Generator, first: np.datetime64, last: np.datetime64,
                     cal: np.busdaycalendar) -> pa.Table:
    """``complaint_id, provider, received_date, resolved_date, referred_to_dwp`` (para 9.47),
    in date order: a Poisson number per provider and month, received on working days."""
    months = np.arange(first.astype("datetime64[M]"), last.astype("datetime64[M]") + 1)
    counts = rng.poisson(np.asarray(IPES_COMPLAINTS_PER_MONTH)[:, None], (len(IPES_PROVIDERS),
                                                                        len(months)))
    provider = np.repeat(np.repeat(np.arange(len(IPES_PROVIDERS)), len(months)),
                         counts.reshape(-1))
    month = np.repeat(np.tile(months, len(IPES_PROVIDERS)), counts.reshape(-1))
    begin = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - begin) / DAY
    day = begin + (rng.random(len(month)) * length).astype(np.int64) * DAY
    day = np.minimum(np.busday_offset(day, 0, roll="forward", busdaycal=cal), last)
    lo, hi = IPES_COMPLAINT_DAYS
    resolved = np.busday_offset(day, rng.integers(lo, hi + 1, len(day)), roll="forward",
                                busdaycal=cal)
    open_ = (resolved > last) | (rng.random(len(day)) < 0.1)
    order = np.lexsort((provider, day))
    day, provider, resolved, open_ = day[order], provider[order], resolved[order], open_[order]
    return pa.table({
        "complaint_id": pa.array([f"C{i + 1:05d}" for i in range(len(day))], type=pa.string()),
        "provider": pa.array(np.asarray(IPES_PROVIDERS)[provider].tolist(), type=pa.string()),
        "received_date": _dates(day),
        "resolved_date": _dates(resolved, open_),
        "referred_to_dwp": pa.array(rng.random(len(day)) < 0.1, type=pa.bool_()),
    })


def _ipes_earnings(
    rng: np.random.Generator, ids: pa.Array, started: np.ndarray, begin: np.ndarray,
    end: np.ndarray, parts: Sequence[tuple[np.ndarray, np.ndarray]], extract: np.datetime64,
) -> pa.Table:
    """``referral_id, first_declared_date, lower_reached_date, higher_reached_date`` (para
    9.22): every participant with a Lower Threshold Outcome declared earnings 14-120 days
    before it (on provision at the earliest), and some others declared earnings on provision
    without reaching it. Sorted by date and row; nothing after ``extract``."""
    (low_rows, low_days), (high_rows, high_days), after = parts[0], parts[1], parts[-1]
    higher = np.full(len(ids), np.datetime64("NaT", "D"))
    higher[high_rows] = high_days
    reached = len(low_rows)
    low_rows, low_days = np.concatenate([low_rows, after[0]]), np.concatenate([low_days, after[1]])
    lo, hi = IPES_EARNINGS_LEAD
    at = np.searchsorted(started, low_rows)
    first = np.maximum(begin[at], low_days - rng.integers(lo, hi + 1, len(low_rows)) * DAY)
    soon = first <= extract  # declared by the extract date; the outcome may come after it
    low_days = np.where(np.arange(len(low_rows)) < reached, low_days, np.datetime64("NaT"))
    low_rows, low_days, first, at = low_rows[soon], low_days[soon], first[soon], at[soon]
    others = np.setdiff1d(np.arange(len(started)), at)
    pick = np.sort(rng.choice(others, min(len(others), round(IPES_EARNINGS_EXTRA
                                                             * reached)), replace=False))
    stop = np.minimum(end[pick], extract)
    length = np.maximum((stop - begin[pick]) / DAY, 0).astype(np.int64)
    extra = begin[pick] + (rng.random(len(pick)) * (length + 1)).astype(np.int64) * DAY
    keep = extra <= extract
    rows = np.concatenate([low_rows, started[pick][keep]])
    day = np.concatenate([first, extra[keep]]).astype("datetime64[D]")
    lower = np.concatenate([low_days.astype("datetime64[D]"),
                            np.full(int(keep.sum()), np.datetime64("NaT", "D"))])
    order = np.lexsort((rows, day))
    rows, day, lower = rows[order], day[order], lower[order]
    return pa.table({
        "referral_id": pc.take(ids, pa.array(rows)),
        "first_declared_date": _dates(day),
        "lower_reached_date": _dates(lower, np.isnat(lower)),
        "higher_reached_date": _dates(higher[rows], np.isnat(higher[rows])),
    })


def _ipes_fees(start: np.datetime64, extract: np.datetime64) -> pa.Table:
    """The monthly Service Fee of every provider, in pence, uprated every April after the
    first month."""
    first = _month_number(start)
    month = np.arange(first, _month_number(extract) + 1)
    aprils = (month - 3) // 12 - (first - 3) // 12  # Aprils passed since the first month
    pounds = np.asarray(IPES_FEE_POUNDS, dtype=np.float64)[:, None]
    pence = np.rint(pounds * 100 * (1 + IPES_FEE_UPRATE) ** aprils[None, :]).astype(np.int64)
    return pa.table({
        "provider": pa.array([p for p in IPES_PROVIDERS for _ in month], type=pa.string()),
        "month": pa.array([_month_label(int(m)) for m in month] * len(IPES_PROVIDERS),
                          type=pa.string()),
        "service_fee_pence": pa.array(pence.reshape(-1), type=pa.int64()),
    })


def _ipes_returns(
    rng: np.random.Generator, start: np.datetime64, extract: np.datetime64,
    cal: np.busdaycalendar,
) -> pa.Table:
    """The monthly customer insight (CSS9) and CSS11 returns of every provider for every month
    that has ended by the extract date: on time (due the 15th of the next month, moved to the
    next working day) bar the story's late ones; those not yet submitted by the extract are
    empty."""
    first = _month_number(start)
    last = _month_number(extract + DAY) - 1
    month = np.arange(first, last + 1)
    n_prov, n_ret, n_per = len(IPES_PROVIDERS), len(IPES_RETURNS), len(month)
    prov = np.repeat(np.arange(n_prov), n_ret * n_per)
    ret = np.tile(np.repeat(np.arange(n_ret), n_per), n_prov)
    per = np.tile(month, n_prov * n_ret)
    ends = (per + 1).astype("datetime64[M]").astype("datetime64[D]") - DAY
    due = _due_date(ends + 15, cal)
    n = len(per)
    early = _due_date(ends + DAY, cal)
    on_time = np.maximum(
        np.busday_offset(due, -rng.integers(0, 7, n), roll="forward", busdaycal=cal), early)
    late = np.zeros(n, dtype=np.int64)
    for name, provider, label, days in IPES_LATE_RETURNS:
        hit = ((prov == provider) & (ret == IPES_RETURNS.index(name))
               & (per == _month_number(np.datetime64(label, "M"))))
        late[hit] = days
    submitted = np.where(late > 0, np.busday_offset(due, late, busdaycal=cal), on_time)
    table = pa.table({
        "provider": _labels(IPES_PROVIDERS, prov),
        "return": _labels(IPES_RETURNS, ret),
        "period": pa.array([_month_label(int(m)) for m in per], type=pa.string()),
        "submitted_date": _dates(submitted, submitted > extract),
    })
    return table.sort_by([("provider", "ascending"), ("return", "ascending"),
                          ("period", "ascending")])


def generate_ipes(
    rows: int, seed: int = 1, start: str = "2024-04-01", extract: str = "2025-09-30"
) -> dict[str, pa.Table]:
    """A synthetic IPES data set: ``referrals`` (``rows`` rows), ``meetings``, ``outcomes``,
    ``earnings``, ``complaints``, ``profiles``, ``rnos``, ``earnings_pi``, ``fees``, ``returns``,
    ``pat_reviews`` and ``satisfaction`` (:mod:`pmir_dsl.synth_ipes`).

    Deterministic: the same arguments give identical tables. Referral dates run from ``start``
    to ``extract`` (one referral on ``extract`` itself), ramping up over the first months;
    anything that would happen after ``extract`` is null (pending) or absent. The Customer
    Service Standards follow ``IPES_STORY`` month by month. See ``examples/ipes/README.md``.
    """
    first, last = _period(start, extract, rows)
    cal = _calendar(first, last)
    table = _DayTable(cal, first - 60, last + 730)
    rng = np.random.Generator(np.random.PCG64(seed))
    days, weights = _ramp_weights(first, last, cal)
    ref = _dates_from(rng, rows, days, weights, last)
    referrals, info = _ipes_referrals(rng, rows, ref, first, last, table)
    del ref
    started = np.flatnonzero(info["started"])
    provider = info["provider"][started]
    begin, end = info["start"][started], info["end"][started]
    del info
    row, day = _ipes_meetings(rng, started, provider, begin, np.minimum(end, last), table)
    width = max(7, len(str(rows)))
    ids = referrals["referral_id"].combine_chunks()
    unknown = max(2, round(ERROR_SHARE * rows / 2))
    unknown_ids = _unknown_ids(rng, "I", rows, width, unknown)
    span = max(int((last - first) / DAY) - 30, 1)
    unknown_days = table.forward(first + 30 + np.sort(rng.integers(0, span + 1, unknown)) * DAY)
    meetings = pa.table({
        "referral_id": pc.take(pa.concat_arrays([ids, pa.array(unknown_ids, type=ids.type)]),
                               pa.array(np.concatenate([row, rows + np.arange(unknown)]))),
        "meeting_date": _dates(np.concatenate([day, np.minimum(unknown_days, last)])),
    })
    responses = synth_ipes.satisfaction(np.random.Generator(np.random.PCG64([seed, 4])),
                                        provider[np.searchsorted(started, row)], day,
                                        IPES_PROVIDERS, last)
    del row, day
    *parts, after = _ipes_outcomes(rng, started, provider, begin, end, last)
    starts = _ipes_expected_starts(rows, days, weights, first, last)
    side = np.random.Generator(np.random.PCG64([seed, 1]))  # independent of ``rows``
    later = np.random.Generator(np.random.PCG64([seed, 2]))  # the tables added for issue 9
    rnos = _ipes_rnos(starts, first)
    return {
        "referrals": referrals,
        "meetings": meetings,
        "outcomes": _ipes_outcome_table(rng, ids, parts, last),
        "earnings": _ipes_earnings(later, ids, started, begin, end, [*parts, after], last),
        "complaints": _ipes_complaints(np.random.Generator(np.random.PCG64([seed, 3])), first,
                                       last, cal),
        "profiles": _ipes_profiles(),
        "rnos": rnos,
        "earnings_pi": _ipes_earnings_pi(rnos["required"].to_numpy()[:len(starts)], first),
        "fees": _ipes_fees(first, last),
        "returns": _ipes_returns(side, first, last, cal),
        "pat_reviews": synth_ipes.pat_reviews(last),
        "satisfaction": responses,
    }


# --------------------------------------------------------------------------------------------
# Work Programme (seed 003): the formal quarterly review of 12-month rolling job outcomes
# against the Minimum Performance Level (chapter 3) and the performance dashboard (chapter 8)
# --------------------------------------------------------------------------------------------

WP_PROVIDERS: tuple[str, ...] = ("Provider A", "Provider B", "Provider C", "Provider D")
WP_PROVIDER_SHARES: tuple[float, ...] = (0.26, 0.25, 0.25, 0.24)
#: Contract package areas, and the one each provider delivers in (two primes compete in each).
WP_CPAS: tuple[str, ...] = ("East Midlands", "West Yorkshire")
WP_PROVIDER_CPA: tuple[int, ...] = (0, 0, 1, 1)
#: Payment groups and their shares of each CPA's referrals. Referrals to PG8 have all but
#: ceased (para 8.8); West Yorkshire has more new ESA claimants (PG6A).
WP_GROUPS: tuple[str, ...] = (
    "PG1", "PG2", "PG3", "PG4", "PG5", "PG6A", "PG6B", "PG7", "PG8", "PG9",
)
WP_GROUP_SHARES: tuple[tuple[float, ...], ...] = (
    (0.21, 0.40, 0.06, 0.03, 0.02, 0.11, 0.06, 0.04, 0.005, 0.065),
    (0.18, 0.35, 0.05, 0.03, 0.02, 0.19, 0.08, 0.04, 0.005, 0.055),
)
#: The Measured Payment Groups of the formal quarterly review (para 3.2).
WP_MPGS: tuple[str, ...] = ("PG1", "PG2", "PG6A")
#: Probability that a referral is attached, 1..10 working days after the referral.
WP_ATTACHED = 0.93
WP_ATTACH_DAYS: tuple[float, ...] = (0.08, 0.16, 0.18, 0.15, 0.12, 0.10, 0.08, 0.06, 0.04, 0.03)
#: Calendar days from attachment to a participant's (candidate) job entry: at least the first
#: number, plus a gamma(shape, scale) draw.
WP_ENTRY_LAG = (7, 1.2, 80.0)
#: Days in work for a job outcome: 26 weeks for the JSA groups (PG1-3, PG9), 13 for the others.
WP_OUTCOME_DAYS: tuple[int, ...] = (182, 182, 182, 91, 91, 91, 91, 91, 91, 182)
#: Participants complete the programme 104 weeks after attachment.
WP_STAY_DAYS = 728
#: At most this share (rounded up) of a quarter's candidates (participants whose job outcome
#: would fall in it) get their job outcome.
WP_POOL_CAP = 0.85
#: Share of the other participants whose job entry is recorded (in work without an outcome:
#: they left work, or have not yet done their 26 or 13 weeks).
WP_ENTRY_ONLY = 0.45
#: The MPL (job outcomes / attachments) per payment group, in ten-thousandths, for the first,
#: second and later contract years (April to March). The first year's is low: a job outcome
#: needs 13 or 26 weeks in work.
WP_MPL: tuple[tuple[int, ...], ...] = (
    (550, 550, 550, 350, 250, 300, 400, 150, 150, 450),
    (2800, 2600, 2600, 1200, 800, 1400, 1600, 600, 500, 2000),
    (3300, 3100, 3000, 1500, 1000, 1650, 1850, 800, 600, 2400),
)
#: Net performance against the MPL (net job outcomes / the MPL's job outcomes) of each
#: provider in every payment group and month, bar the story's.
WP_PERFORMANCE: tuple[float, ...] = (1.25, 1.15, 1.15, 1.15)
#: The performance story: (provider code, payment group, first month, last month, net
#: performance against the MPL in those months). Whether a review is meant to meet follows
#: from these on the expected attachments; the job outcomes of each review's newest quarter
#: are then set so that the actual figures agree, whatever the draw (see ``_wp_enforce``).
WP_STORY: tuple[tuple[int, str, str, str, float], ...] = (
    # Provider B: a bad quarter on PG1 at the end of 2023, then a strong recovery
    (1, "PG1", "2023-10", "2023-12", 0.25), (1, "PG1", "2024-01", "2024-06", 1.60),
    # Provider C: well below on PG2 from April 2023 to the end
    (2, "PG2", "2023-04", "2023-06", 0.60), (2, "PG2", "2023-07", "2024-09", 0.75),
    # Provider D: close to the line on PG6A for the 2023-24 contract year (WP_BORDERLINE)
    (3, "PG6A", "2023-04", "2024-03", 1.01),
)
#: (provider code, payment group, quarter end) whose review fails on the provisional figure and
#: meets on the validated one (para 3.15: the PIN is cancelled). The job outcomes of its
#: window's quarters and the ones either side are changed as little as it takes (and a few of
#: the last quarter's attachments dropped) to make it so exactly, while every other review of
#: that provider and group meets on both figures.
WP_BORDERLINE = (3, "PG6A", "2024-03")
WP_MARGIN = 50  # ten-thousandths of a job outcome: how clearly a review meets or fails
#: Validation failure rate assumed when planning job outcomes (ten-thousandths).
WP_NOMINAL_FAILURE = 600
#: Post-payment validation failure rate of each six-monthly round, in ten-thousandths (rounds
#: after the last one repeat the list), and the days from its period's end to its completion.
WP_VALIDATION_RATES: tuple[int, ...] = (520, 560, 790, 310, 450, 500)
WP_VALIDATION_LAG = (70, 84)
#: Sustainment payments every 4 weeks after a job outcome, at most this many per group; each
#: month the participant leaves work with probability WP_SUSTAIN_STOP.
WP_SUSTAIN_MAX: tuple[int, ...] = (13, 20, 20, 26, 26, 26, 26, 26, 26, 20)
WP_SUSTAIN_STOP = 0.08
WP_SUSTAIN_DAYS = 28
#: Flight Paths (4.14-4.16): each provider's projected in-month referrals, job entries and job
#: outcomes over its actual ones (Provider C projects a recovery of job outcomes that does not
#: come), and the spread of the projections around that (a normal draw, as a share).
WP_FLIGHT_UPLIFT: tuple[tuple[float, float, float], ...] = (
    (1.0, 1.0, 1.0), (1.0, 1.05, 1.05), (1.0, 1.10, 1.35), (1.0, 1.0, 1.05),
)
WP_FLIGHT_NOISE = 0.06
#: Exit reports: requested 1..3 working days after completion; per provider the shares
#: returned within 10 working days, in 11-20, in 21+, and never. On-time ones come 1..10 WD
#: after the request.
WP_EXIT_REQUEST_DAYS: tuple[float, ...] = (0.5, 0.3, 0.2)
WP_EXIT_BUCKETS: tuple[tuple[float, ...], ...] = (
    (0.94, 0.04, 0.015, 0.005), (0.86, 0.09, 0.035, 0.015),
    (0.76, 0.13, 0.07, 0.04), (0.89, 0.07, 0.03, 0.01),
)
WP_EXIT_DAYS: tuple[float, ...] = (0.04, 0.08, 0.12, 0.14, 0.15, 0.14, 0.12, 0.09, 0.07, 0.05)
#: Pre-payment off-benefit check: probability that a claimed job outcome fails it.
WP_OFF_BENEFIT_FAIL: tuple[float, ...] = (0.012, 0.030, 0.045, 0.020)
#: CMO visits: every 35..70 days per provider; the maximum score of a visit, and the
#: probability that each Minimum Service Offer checked is compliant.
WP_CMO_GAP = (35, 70)
WP_CMO_MAX: tuple[int, ...] = (20, 24, 28, 32)
WP_CMO_COMPLIANT: tuple[float, ...] = (0.95, 0.90, 0.82, 0.91)
#: Job qualification to claim (8.28-8.30): calendar days from a job outcome to its claim, per
#: provider a gamma(shape, scale) draw (Provider C claims late), from a separate random draw.
WP_CLAIM_LAG: tuple[tuple[float, float], ...] = ((1.5, 8.0), (1.5, 14.0), (1.2, 40.0), (1.5, 10.0))


def _wp_people(
    rng: np.random.Generator, n: int, ref: np.ndarray, extract: np.datetime64, days: _DayTable,
) -> dict[str, np.ndarray]:
    """Per referral: provider, CPA and payment group codes, attachment (and whether attached
    by the extract date), a candidate job entry and the job outcome it would give, completion."""
    provider = _draw(rng, n, WP_PROVIDER_SHARES).astype(np.int8)
    cpa = np.asarray(WP_PROVIDER_CPA, dtype=np.int8)[provider]
    cdfs = [np.cumsum(s) / np.sum(s) for s in WP_GROUP_SHARES]
    group = _months_from(rng, cpa, cdfs).astype(np.int8)
    attach = days.workday(ref, 1 + _draw(rng, n, WP_ATTACH_DAYS))
    attached = (rng.random(n) < WP_ATTACHED) & (attach <= extract)
    low, shape, scale = WP_ENTRY_LAG
    lag = np.minimum(low + rng.gamma(shape, scale, n).astype(np.int64), WP_STAY_DAYS)
    entry = attach + lag * DAY
    outcome = entry + np.asarray(WP_OUTCOME_DAYS)[group] * DAY
    return {"provider": provider, "cpa": cpa, "group": group, "attach": attach,
            "attached": attached, "entry": entry, "outcome": outcome,
            "complete": attach + WP_STAY_DAYS * DAY}


def _wp_half_start(month: int) -> int:
    """The April or October (month number) on or before ``month``: validation periods."""
    return month - (month - 3) % 6


def _wp_rounds(
    rng: np.random.Generator, start: np.datetime64, extract: np.datetime64, days: _DayTable,
) -> dict[str, np.ndarray]:
    """The six-monthly post-payment validation rounds (April-September, October-March) from
    the one holding ``start``, each completed 70-84 days after its period ends (in June or
    December, para 3.7); rounds not completed by ``extract`` are left out."""
    first = _wp_half_start(_month_number(start))
    count = (_month_number(extract) - first) // 6 + 1
    begin = first + 6 * np.arange(count)
    period_end = (begin + 6).astype("datetime64[M]").astype("datetime64[D]") - DAY
    lo, hi = WP_VALIDATION_LAG
    completed = days.forward(period_end + rng.integers(lo, hi + 1, count) * DAY)
    keep = completed <= extract
    rate = np.asarray(WP_VALIDATION_RATES, dtype=np.int64)[np.arange(count) % len(
        WP_VALIDATION_RATES)]
    return {"round": np.arange(1, count + 1)[keep],
            "period_start": begin.astype("datetime64[M]").astype("datetime64[D]")[keep],
            "period_end": period_end[keep], "rate": rate[keep], "completed": completed[keep]}


def _wp_reviews(
    first_q: int, n_q: int, extract: np.datetime64, rounds: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The formal quarterly reviews (paras 3.6-3.7) of every quarter end with a full 12-month window
    by the extract date, as matrices over the quarters ``first_q`` + 3k: ``window`` (the four
    quarters), ``provisional`` and ``final`` (the factor, in ten-thousandths, that turns a
    quarter's job outcomes into net ones), ``has_final`` and the review's ``quarter`` end month.

    A review is made at the end of the month after the quarter (or at the extract date): a
    quarter whose validation round is complete by then counts at that round's rate, the others
    at the last completed round's. The final figure uses each quarter's own round, once every
    round of the window is complete."""
    quarters = first_q + 3 * np.arange(n_q)
    half = (quarters - _wp_half_start(first_q)) // 6  # the round of each quarter
    done = len(rounds["rate"])
    rates = np.r_[rounds["rate"], np.zeros(max(int(half.max()) + 1 - done, 0), dtype=np.int64)]
    ends = (quarters + 3).astype("datetime64[M]").astype("datetime64[D]") - DAY
    review = np.flatnonzero((np.arange(n_q) >= 3) & (ends <= extract))
    as_of = np.minimum((quarters[review] + 4).astype("datetime64[M]").astype("datetime64[D]")
                       - DAY, extract)
    completed = np.searchsorted(rounds["completed"], as_of, side="right")  # rounds done by then
    q = np.arange(n_q)
    window = (q[None, :] <= review[:, None]) & (q[None, :] > review[:, None] - 4)
    validated = half[None, :] < completed[:, None]
    last = np.where(completed > 0, rates[np.maximum(completed - 1, 0)], 0)
    provisional = np.where(validated, 10_000 - rates[half][None, :], 10_000 - last[:, None])
    has_final = (np.where(window, half[None, :], -1).max(axis=1) < done)
    final = np.where(has_final[:, None], 10_000 - rates[half][None, :], 0)
    return {"quarter": quarters[review] + 2, "window": window,
            "provisional": provisional * window, "final": final * window,
            "has_final": has_final}


def _wp_cells(info: dict[str, np.ndarray]) -> np.ndarray:
    """Provider x payment group cell of each row."""
    return info["provider"].astype(np.int64) * len(WP_GROUPS) + info["group"]


def _wp_required(
    info: dict[str, np.ndarray], first: int, months: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Attachments per cell and month (months since ``first``), and the MPL's job outcomes of
    each (in ten-thousandths): attachments times the MPL of the month's contract year."""
    cells = len(WP_PROVIDERS) * len(WP_GROUPS)
    month = info["attach"].astype("datetime64[M]").astype(np.int64) - first
    ok = info["attached"]
    att = np.bincount(_wp_cells(info)[ok] * months + month[ok],
                      minlength=cells * months).reshape(cells, months)
    return att, att * np.tile(_wp_mpl_by_month(first, months), (len(WP_PROVIDERS), 1))


def _wp_performance(first: int, months: int) -> np.ndarray:
    """Net performance against the MPL per cell and month (``WP_PERFORMANCE``, ``WP_STORY``)."""
    perf = np.repeat(np.asarray(WP_PERFORMANCE), len(WP_GROUPS))[:, None] * np.ones(months)
    month = first + np.arange(months)
    for provider, group, lo, hi, value in WP_STORY:  # a loop over the story, not over rows
        span = ((month >= _month_number(np.datetime64(lo, "M")))
                & (month <= _month_number(np.datetime64(hi, "M"))))
        perf[provider * len(WP_GROUPS) + WP_GROUPS.index(group), span] = value
    return perf


def _by_quarter(values: np.ndarray, first: int, first_q: int, n_q: int) -> np.ndarray:
    """Sums of monthly columns (months since ``first``) per quarter (``first_q`` + 3k)."""
    quarter = (first + np.arange(values.shape[1]) - first_q) // 3
    out = np.zeros((values.shape[0], n_q), dtype=values.dtype)
    np.add.at(out.T, quarter, values.T)
    return out


def _wp_mpl_by_month(first: int, months: int) -> np.ndarray:
    """The MPL (ten-thousandths) per payment group and month since ``first``."""
    year = (first + np.arange(months) - 3) // 12 - (first - 3) // 12
    return np.asarray(WP_MPL, dtype=np.int64)[np.minimum(year, len(WP_MPL) - 1)].T


def _wp_plan(
    required: np.ndarray, perf: np.ndarray, cap: np.ndarray, first: int, first_q: int,
) -> np.ndarray:
    """Job outcomes per cell and quarter: the MPL's (``required``, per month, in
    ten-thousandths) times the performance, grossed up for validation, summed and rounded
    cumulatively, so that any run of quarters is within one of its plan; at most ``cap`` in a
    quarter, any shortfall carried into the next (the first year's candidates are few)."""
    n_q = cap.shape[1]
    gross = _by_quarter(required * perf, first, first_q, n_q) / (10_000 - WP_NOMINAL_FAILURE)
    want = np.rint(np.cumsum(gross, axis=1)).astype(np.int64)
    plan = np.zeros_like(cap)
    done = np.zeros(len(cap), dtype=np.int64)
    for q in range(n_q):  # a loop over quarters, not over rows
        plan[:, q] = np.clip(want[:, q] - done, 0, cap[:, q])
        done += plan[:, q]
    return plan


def _wp_intended(
    shares: np.ndarray, perf: np.ndarray, first: int, first_q: int,
    reviews: dict[str, np.ndarray],
) -> np.ndarray:
    """Whether each cell is meant to meet each review (cells x reviews): its planned net job
    outcomes over the window at least the MPL's, on the expected attachments (``shares``: the
    expected share of the referrals in each month), not on the ones drawn."""
    n_q = reviews["window"].shape[1]
    expected = np.tile(_wp_mpl_by_month(first, len(shares)) * shares, (len(WP_PROVIDERS), 1))
    window = reviews["window"].T.astype(np.float64)
    planned = _by_quarter(expected * perf, first, first_q, n_q) @ window
    return planned >= _by_quarter(expected, first, first_q, n_q) @ window


def _wp_figures(plan: np.ndarray, reviews: dict[str, np.ndarray], r: int) -> np.ndarray:
    """Net job outcomes (ten-thousandths) of review ``r`` per cell: its provisional figure,
    and its final one if it has one (figures x cells)."""
    figures = [reviews["provisional"][r]] + [reviews["final"][r]] * int(reviews["has_final"][r])
    return np.stack([plan @ f for f in figures])


def _wp_slack(
    plan: np.ndarray, required: np.ndarray, intended: np.ndarray, reviews: dict[str, np.ndarray],
    r: int,
) -> np.ndarray:
    """How far each cell's review ``r`` is on its intended side of the line, less the margin
    (negative: on the wrong side); unbounded where it is left as planned (``intended`` -1)."""
    net = _wp_figures(plan, reviews, r)
    need = required @ reviews["window"][r].astype(np.int64)
    meet = net.min(axis=0) - need - WP_MARGIN
    fail = need - WP_MARGIN - net.max(axis=0)
    return np.select([intended[:, r] == 1, intended[:, r] == 0], [meet, fail], 2**62)


def _wp_enforce(
    plan: np.ndarray, required: np.ndarray, intended: np.ndarray, cap: np.ndarray,
    reviews: dict[str, np.ndarray],
) -> np.ndarray:
    """Job outcomes per cell and quarter, changed review by review (in order) as little as it
    takes for each review to meet (``intended`` 1) or fail (0) on both its provisional and
    final figures by ``WP_MARGIN`` (-1: left as planned), so that an unlucky draw
    of attachments never turns a review. The change goes to the window's newest quarter first,
    then to older ones, and never so far that an earlier review turns."""
    plan = plan.copy()
    window = reviews["window"]
    for r in range(len(window)):  # a loop over reviews and their quarters, not over rows
        for q in np.flatnonzero(window[r])[::-1]:
            mults = [reviews["provisional"][r][q]] + [reviews["final"][r][q]] * int(
                reviews["has_final"][r])
            gap = -_wp_slack(plan, required, intended, reviews, r)
            add = np.clip(-(-gap // min(mults)), 0, cap[:, q] - plan[:, q])
            cut = np.clip(-(-gap // max(mults)), 0, plan[:, q])
            for e in np.flatnonzero(window[:r, q]):  # earlier reviews holding the quarter
                room = _wp_slack(plan, required, intended, reviews, e) // max(
                    reviews["provisional"][e][q], reviews["final"][e][q])
                add = np.where(intended[:, e] == 0, np.clip(room, 0, add), add)
                cut = np.where(intended[:, e] == 1, np.clip(room, 0, cut), cut)
            plan[:, q] += np.select([intended[:, r] == 1, intended[:, r] == 0], [add, -cut], 0)
    return plan


def _wp_borderline(
    plan: np.ndarray, required: np.ndarray, cap: np.ndarray, reviews: dict[str, np.ndarray],
    target: int, per_drop: int, max_drop: int,
) -> tuple[np.ndarray, int]:
    """One cell's job outcomes per quarter, changed as little as possible so that review
    ``target`` fails on its provisional figure and meets on its final one while every other
    review meets on both; and how many attachments of the window's last quarter to drop (each
    ``per_drop`` ten-thousandths of the MPL's job outcomes, at most ``max_drop``). Unchanged if
    no change of up to 3 outcomes a quarter (and 8 attachments) does it."""
    window = np.flatnonzero(reviews["window"][target])
    spread = [np.arange(-3, 4)] * len(window)
    pads = [q for q in (window[0] - 1, window[-1] + 1) if 0 <= q < len(plan)]
    drops = np.arange(min(max_drop, 8) + 1)
    grids = np.meshgrid(*spread, *([np.arange(3)] * len(pads)), drops, indexing="ij")
    flat = [g.reshape(-1) for g in grids]
    delta = np.zeros((len(flat[0]), len(plan)), dtype=np.int64)
    for i, q in enumerate(list(window) + pads):  # a loop over at most six quarters
        delta[:, q] = flat[i]
    drop = flat[-1]
    jobs = plan[None, :] + delta
    need_q = np.repeat(required[None, :], len(drop), axis=0)
    need_q[:, window[-1]] -= drop * per_drop
    need = need_q @ reviews["window"].T.astype(np.int64)
    margin = WP_MARGIN
    meets_p = jobs @ reviews["provisional"].T >= need + margin
    meets_f = (jobs @ reviews["final"].T >= need + margin) | ~reviews["has_final"][None, :]
    fails_p = jobs @ reviews["provisional"].T <= need - margin
    other = np.arange(len(reviews["quarter"])) != target
    ok = ((jobs >= 0) & (jobs <= cap[None, :])).all(axis=1) & (need_q >= 0).all(axis=1)
    ok &= (meets_p | ~other).all(axis=1) & (meets_f | ~other).all(axis=1)
    ok &= fails_p[:, target] & meets_f[:, target] & reviews["has_final"][target]
    if not ok.any():
        return plan, 0
    cost = np.abs(delta).sum(axis=1) + drop
    best = np.flatnonzero(ok)[np.argmin(cost[ok])]
    return jobs[best], int(drop[best])


def _wp_pick_per_cell(
    rng: np.random.Generator, slot: np.ndarray, eligible: np.ndarray, quota: np.ndarray,
) -> np.ndarray:
    """Whether each row is chosen: exactly ``quota[slot]`` of each slot's eligible rows (or
    all of them, if fewer), drawn at random."""
    key = rng.integers(0, 2**32, len(slot), dtype=np.int64)
    rows = np.flatnonzero(eligible)
    rows = rows[np.argsort((slot[rows] << 32) | key[rows], kind="stable")]
    s = slot[rows]
    rank = np.arange(len(rows)) - np.searchsorted(s, np.arange(len(quota)))[s]
    out = np.zeros(len(slot), dtype=bool)
    out[rows[rank < quota[s]]] = True
    return out


def _wp_job_outcomes(
    rng: np.random.Generator, info: dict[str, np.ndarray], reviews: dict[str, np.ndarray],
    shares: np.ndarray, start: np.datetime64, extract: np.datetime64,
) -> np.ndarray:
    """Which participants get their job outcome: exactly the planned number per provider,
    payment group and quarter of the outcome, among the candidates (attached, outcome by the
    extract date and before completion). Drops the attachments the borderline review needs."""
    first, last = _month_number(start), _month_number(extract)
    first_q = first // 3 * 3
    n_q = (last // 3 * 3 - first_q) // 3 + 1
    cells = len(WP_PROVIDERS) * len(WP_GROUPS)
    cell = _wp_cells(info)
    quarter = (info["outcome"].astype("datetime64[M]").astype(np.int64) - first_q) // 3
    candidate = (info["attached"] & (info["outcome"] <= extract)
                 & (info["outcome"] <= info["complete"]))
    slot = np.where(candidate, cell * n_q + quarter, 0)
    pool = np.bincount(slot[candidate], minlength=cells * n_q).reshape(cells, n_q)
    cap = np.ceil(WP_POOL_CAP * pool).astype(np.int64)
    att, required = _wp_required(info, first, last - first + 1)
    perf = _wp_performance(first, last - first + 1)
    plan = _wp_plan(required, perf, cap, first, first_q)
    att, required = (_by_quarter(a, first, first_q, n_q) for a in (att, required))
    provider, group, label = WP_BORDERLINE
    b_cell = provider * len(WP_GROUPS) + WP_GROUPS.index(group)
    b_review = np.flatnonzero(reviews["quarter"] == _month_number(np.datetime64(label, "M")))
    intended = _wp_intended(shares, perf, first, first_q, reviews).astype(np.int8)
    intended[b_cell, b_review] = -1  # left to ``_wp_borderline``
    plan = _wp_enforce(plan, required, intended, cap, reviews)
    if len(b_review):
        q = int(np.flatnonzero(reviews["window"][b_review[0]])[-1])
        per_drop = int(required[b_cell, q] // max(att[b_cell, q], 1))
        plan[b_cell], drop = _wp_borderline(plan[b_cell], required[b_cell], cap[b_cell], reviews,
                                            int(b_review[0]), per_drop, int(att[b_cell, q]))
        attach_q = (info["attach"].astype("datetime64[M]").astype(np.int64) - first_q) // 3
        in_q = info["attached"] & (cell == b_cell) & (attach_q == q)
        info["attached"][_pick(rng, in_q, drop)] = False
        candidate &= info["attached"]
    return _wp_pick_per_cell(rng, slot, candidate, plan.reshape(-1))


def _wp_participants(
    rng: np.random.Generator, ref: np.ndarray, info: dict[str, np.ndarray], chosen: np.ndarray,
    extract: np.datetime64,
) -> pa.Table:
    """The ``participants`` table: a job entry for every participant with a job outcome and for
    some of the other attached ones; completion 104 weeks after attachment. Nothing after
    ``extract``."""
    n = len(ref)
    attached = info["attached"]
    entry_only = attached & ~chosen & (rng.random(n) < WP_ENTRY_ONLY)
    has_entry = (chosen | entry_only) & (info["entry"] <= np.minimum(info["complete"], extract))
    width = max(7, len(str(n)))
    return pa.table({
        "participant_id": _ids("W", n, width),
        "provider": _labels(WP_PROVIDERS, info["provider"]),
        "cpa": _labels(WP_CPAS, info["cpa"]),
        "payment_group": _labels(WP_GROUPS, info["group"]),
        "referral_date": _dates(ref),
        "attachment_date": _dates(info["attach"], ~attached),
        "job_entry_date": _dates(info["entry"], ~has_entry),
        "job_outcome_date": _dates(info["outcome"], ~chosen),
        "completion_date": _dates(info["complete"], ~attached | (info["complete"] > extract)),
    })


def _wp_claims(rng: np.random.Generator, participants: pa.Table, info: dict[str, np.ndarray],
               extract: np.datetime64) -> pa.Table:
    """``participants`` with ``job_claim_date``: each job outcome claimed ``WP_CLAIM_LAG`` days
    after it; a claim after ``extract`` not yet made."""
    outcome = participants["job_outcome_date"].to_numpy(zero_copy_only=False).astype(
        "datetime64[D]")
    shape, scale = np.asarray(WP_CLAIM_LAG).T[:, info["provider"]]
    claim = outcome + rng.gamma(shape, scale).astype(np.int64) * DAY
    pending = np.isnat(claim) | (claim > extract)
    return participants.append_column("job_claim_date", _dates(claim, pending))


def _wp_sustainments(
    rng: np.random.Generator, ids: pa.Array, info: dict[str, np.ndarray], chosen: np.ndarray,
    extract: np.datetime64,
) -> pa.Table:
    """Sustainment payments every 4 weeks after each job outcome, while the participant stays
    in work (up to the group's maximum); those after ``extract`` not yet paid. In date order."""
    rows = np.flatnonzero(chosen)
    stay = rng.geometric(WP_SUSTAIN_STOP, len(rows)) - 1
    count = np.minimum(stay, np.asarray(WP_SUSTAIN_MAX)[info["group"][rows]])
    owner = np.repeat(rows, count)
    step = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count) + 1
    day = info["outcome"][owner] + step * WP_SUSTAIN_DAYS * DAY
    keep = day <= extract
    owner, day = owner[keep], day[keep]
    order = np.argsort(day.astype(np.int64) * len(chosen) + owner, kind="stable")
    return pa.table({
        "participant_id": pc.take(ids, pa.array(owner[order])),
        "payment_date": _dates(day[order]),
    })


def _wp_exit_reports(
    rng: np.random.Generator, ids: pa.Array, info: dict[str, np.ndarray],
    start: np.datetime64, extract: np.datetime64, days: _DayTable,
) -> pa.Table:
    """Exit reports requested by JCP 1-3 working days after each completion: returned within
    10 working days, in 11-20, in 21+ or never, at the provider's rates; returns after
    ``extract`` are outstanding (empty). A few returns are dated before their request (data
    errors). In request date order."""
    rows = np.flatnonzero(info["attached"] & (info["complete"] <= extract))
    requested = days.workday(info["complete"][rows],
                             1 + _draw(rng, len(rows), WP_EXIT_REQUEST_DAYS))
    keep = requested <= extract
    rows, requested = rows[keep], requested[keep]
    n = len(rows)
    u = rng.random(n)
    cdf = np.cumsum(np.asarray(WP_EXIT_BUCKETS), axis=1)[info["provider"][rows]]
    bucket = (u[:, None] >= cdf[:, :-1]).sum(axis=1)
    k = np.select(
        [bucket == 0, bucket == 1],
        [1 + _draw(rng, n, WP_EXIT_DAYS), 11 + rng.integers(0, 10, n)],
        21 + np.minimum(rng.geometric(0.15, n) - 1, 24))
    returned = days.workday(requested, k)
    errors = max(ERROR_MIN, round(ERROR_SHARE * n))
    bad = _pick(rng, (bucket < 3) & (returned <= extract) & (requested >= start + 7), errors)
    returned[bad] = requested[bad] - rng.integers(1, 6, len(bad)) * DAY
    order = np.argsort(requested.astype(np.int64) * len(info["attach"]) + rows, kind="stable")
    return pa.table({
        "participant_id": pc.take(ids, pa.array(rows[order])),
        "requested_date": _dates(requested[order]),
        "returned_date": _dates(returned[order], ((bucket == 3) | (returned > extract))[order]),
    })


def _wp_validation(rounds: dict[str, np.ndarray]) -> pa.Table:
    """The ``validation`` table: one row per completed round."""
    return pa.table({
        "round": pa.array(rounds["round"], type=pa.int64()),
        "period_start": _dates(rounds["period_start"]),
        "period_end": _dates(rounds["period_end"]),
        "rate": _decimals(rounds["rate"].tolist()),
        "completed_date": _dates(rounds["completed"]),
        # 8.32: a contract's own rate would name it; these rounds apply to every contract
        "provider": pa.nulls(len(rounds["round"]), type=pa.string()),
        "cpa": pa.nulls(len(rounds["round"]), type=pa.string()),
    })


def _wp_mpl(start: np.datetime64, extract: np.datetime64) -> pa.Table:
    """The MPL of every payment group in every contract year (April to March) from the one
    holding ``start`` to the one holding ``extract``."""
    first = (_month_number(start) - 3) // 12
    years = np.arange(first, (_month_number(extract) - 3) // 12 + 1)
    rates = np.asarray(WP_MPL)[np.minimum(years - first, len(WP_MPL) - 1)]  # (years, groups)
    n_g = len(WP_GROUPS)
    return pa.table({
        "payment_group": pa.array([g for g in WP_GROUPS for _ in years], type=pa.string()),
        "from_month": pa.array([_month_label(int(y) * 12 + 3) for y in years] * n_g,
                               type=pa.string()),
        "to_month": pa.array([_month_label(int(y) * 12 + 14) for y in years] * n_g,
                             type=pa.string()),
        "rate": _decimals(rates.T.reshape(-1).tolist()),
    })


def _wp_retention() -> pa.Table:
    """The ``retention`` table (8.22): sustainment payments expected per job outcome in each
    month after the job outcome's month. Payment k comes 4k weeks after the job outcome while
    the participant is still in work ((1 - WP_SUSTAIN_STOP)^k) and within its group's maximum
    (the groups weighted by their shares of referrals); the job outcome may fall on any day of
    its month."""
    share = np.mean(np.asarray(WP_GROUP_SHARES), axis=0)
    most = np.asarray(WP_SUSTAIN_MAX)
    k = np.arange(1, int(most.max()) + 1)
    paid = (1 - WP_SUSTAIN_STOP) ** k * np.array([share[most >= j].sum() for j in k])
    day = np.arange(30) + 0.5
    offset = np.floor((day[:, None] + k[None, :] * WP_SUSTAIN_DAYS) / (365.25 / 12)).astype(int)
    rate = np.zeros(int(offset.max()) + 1)
    np.add.at(rate, offset, np.broadcast_to(paid / len(day), offset.shape))
    return pa.table({
        "months_after_outcome": pa.array(np.arange(len(rate)), type=pa.int64()),
        "rate": _decimals(np.round(rate * 10_000).astype(np.int64).tolist()),
    })


def _wp_cohort_mpl() -> pa.Table:
    """The ``cohort_mpl`` table (8.38): per payment group and month on the programme 0..32, the
    cumulative share of a cohort expected to have a job outcome. None before the 13 or 26 weeks
    of work a job outcome needs (3 or 6 months); then rising evenly to the group's latest MPL
    at 24 months, and by 2% of it a month after that."""
    k = np.arange(33)
    rows = []
    for g, days in enumerate(WP_OUTCOME_DAYS):
        lag = 3 if days < 120 else 6
        top = WP_MPL[-1][g]
        ramp = np.clip((k - lag + 1) / (24 - lag + 1), 0, 1) * top
        rows.append(np.round(ramp * (1 + 0.02 * np.maximum(k - 24, 0))).astype(np.int64))
    return pa.table({
        "payment_group": pa.array([g for g in WP_GROUPS for _ in k], type=pa.string()),
        "months_on_programme": pa.array(np.tile(k, len(WP_GROUPS)), type=pa.int64()),
        "rate": _decimals(np.concatenate(rows).tolist()),
    })


def _wp_flight_paths(
    rng: np.random.Generator, participants: pa.Table, info: dict[str, np.ndarray],
    start: np.datetime64, extract: np.datetime64,
) -> pa.Table:
    """The ``flight_paths`` table (4.14-4.16): per contract (provider and CPA) and month, the
    projected in-month referrals, job entries and job outcomes: the actual ones times the
    provider's WP_FLIGHT_UPLIFT, give or take WP_FLIGHT_NOISE."""
    first = _month_number(start)
    months = _month_number(extract) - first + 1
    n_prov = len(WP_PROVIDERS)
    out = {}
    for i, column in enumerate(("referral_date", "job_entry_date", "job_outcome_date")):
        day = pc.fill_null(pc.cast(participants[column], pa.int32()), -(10**6)).to_numpy()
        month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - first
        ok = (day > -(10**6)) & (month >= 0) & (month < months)
        actual = np.bincount(info["provider"][ok].astype(np.int64) * months + month[ok],
                             minlength=n_prov * months)
        uplift = np.repeat(np.asarray(WP_FLIGHT_UPLIFT)[:, i], months)
        spread = 1 + WP_FLIGHT_NOISE * rng.standard_normal(n_prov * months)
        out[column] = np.maximum(0, np.round(actual * uplift * spread)).astype(np.int64)
    provider = np.repeat(np.arange(n_prov), months)
    return pa.table({
        "provider": _labels(WP_PROVIDERS, provider),
        "cpa": _labels(WP_CPAS, np.asarray(WP_PROVIDER_CPA)[provider]),
        "month": pa.array([_month_label(first + m) for m in range(months)] * n_prov,
                          type=pa.string()),
        "referrals": pa.array(out["referral_date"], type=pa.int64()),
        "job_entries": pa.array(out["job_entry_date"], type=pa.int64()),
        "job_outcomes": pa.array(out["job_outcome_date"], type=pa.int64()),
    })


def _wp_off_benefit(
    rng: np.random.Generator, info: dict[str, np.ndarray], chosen: np.ndarray,
    start: np.datetime64, extract: np.datetime64,
) -> pa.Table:
    """Per provider and month: the job outcomes claimed (those achieved that month) and how
    many failed the pre-payment off-benefit check."""
    first = _month_number(start)
    months = _month_number(extract) - first + 1
    month = info["outcome"][chosen].astype("datetime64[M]").astype(np.int64) - first
    claimed = np.bincount(info["provider"][chosen].astype(np.int64) * months + month,
                          minlength=len(WP_PROVIDERS) * months)
    p = np.repeat(np.asarray(WP_OFF_BENEFIT_FAIL), months)
    return pa.table({
        "provider": pa.array([p for p in WP_PROVIDERS for _ in range(months)], type=pa.string()),
        "month": pa.array([_month_label(first + m) for m in range(months)] * len(WP_PROVIDERS),
                          type=pa.string()),
        "outcomes_claimed": pa.array(claimed, type=pa.int64()),
        "failures": pa.array(rng.binomial(claimed, p), type=pa.int64()),
    })


def _wp_cmo_visits(
    rng: np.random.Generator, start: np.datetime64, extract: np.datetime64, days: _DayTable,
) -> pa.Table:
    """CMO visits to each provider every 5-10 weeks, on working days, with the number of
    compliant Minimum Service Offers out of the visit's maximum score."""
    lo, hi = WP_CMO_GAP
    n_prov = len(WP_PROVIDERS)
    slots = int((extract - start) / DAY) // lo + 1
    gaps = rng.integers(lo, hi + 1, (n_prov, slots))
    gaps[:, 0] = rng.integers(0, lo, n_prov)
    visit = days.forward(start + np.cumsum(gaps, axis=1).reshape(-1) * DAY)
    provider = np.repeat(np.arange(n_prov), slots)
    top = np.asarray(WP_CMO_MAX)[rng.integers(0, len(WP_CMO_MAX), len(visit))]
    compliant = rng.binomial(top, np.asarray(WP_CMO_COMPLIANT)[provider])
    keep = visit <= extract
    return pa.table({
        "provider": _labels(WP_PROVIDERS, provider[keep]),
        "visit_date": _dates(visit[keep]),
        "compliant_msos": pa.array(compliant[keep], type=pa.int64()),
        "max_score": pa.array(top[keep], type=pa.int64()),
    })


def generate_work_programme(
    rows: int, seed: int = 1, start: str = "2022-04-01", extract: str = "2024-09-30"
) -> dict[str, pa.Table]:
    """A synthetic Work Programme data set: ``participants`` (``rows`` rows), ``sustainments``,
    ``exit_reports``, ``validation``, ``mpl``, ``off_benefit_checks``, ``cmo_visits``,
    ``retention``, ``cohort_mpl`` and ``flight_paths`` (the last drawn apart, so that the new
    tables change nothing else; so is ``participants.job_claim_date``).

    Deterministic: the same arguments give identical tables. Referral dates run from ``start``
    to ``extract`` (one referral on ``extract`` itself), ramping up over the first months;
    anything that would happen after ``extract`` is null (pending) or absent, and validation
    rounds not completed by then are left out. Job outcomes follow ``WP_STORY`` quarter by
    quarter, so that the formal quarterly reviews of ``WP_MPGS`` tell the story of
    ``examples/work_programme/README.md``.
    """
    first, last = _period(start, extract, rows)
    cal = _calendar(first, last)
    days = _DayTable(cal, first - 200, last + 800)
    rng = np.random.Generator(np.random.PCG64(seed))
    side = np.random.Generator(np.random.PCG64([seed, 1]))  # independent of ``rows``
    day_list, weights = _ramp_weights(first, last, cal)
    ref = _dates_from(rng, rows, day_list, weights, last)
    info = _wp_people(rng, rows, ref, last, days)
    rounds = _wp_rounds(side, first, last, days)
    first_q = _month_number(first) // 3 * 3
    n_q = (_month_number(last) // 3 * 3 - first_q) // 3 + 1
    reviews = _wp_reviews(first_q, n_q, last, rounds)
    month = day_list.astype("datetime64[M]").astype(np.int64) - _month_number(first)
    chosen = _wp_job_outcomes(rng, info, reviews, np.bincount(month, weights=weights), first,
                              last)
    participants = _wp_participants(rng, ref, info, chosen, last)
    ids = participants["participant_id"].combine_chunks()
    return {
        "participants": _wp_claims(np.random.Generator(np.random.PCG64([seed, 3])), participants,
                                   info, last),
        "sustainments": _wp_sustainments(rng, ids, info, chosen, last),
        "exit_reports": _wp_exit_reports(rng, ids, info, first, last, days),
        "validation": _wp_validation(rounds),
        "mpl": _wp_mpl(first, last),
        "off_benefit_checks": _wp_off_benefit(rng, info, chosen, first, last),
        "cmo_visits": _wp_cmo_visits(side, first, last, days),
        "retention": _wp_retention(),
        "cohort_mpl": _wp_cohort_mpl(),
        "flight_paths": _wp_flight_paths(np.random.Generator(np.random.PCG64([seed, 2])),
                                         participants, info, first, last),
    }


#: Generator per bundled contract name.
GENERATORS: dict[str, Callable[..., dict[str, pa.Table]]] = {
    "atw_ha": generate_atw_ha, "esf": generate_esf, "ses": generate_ses, "ipes": generate_ipes,
    "work_programme": generate_work_programme,
}


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
