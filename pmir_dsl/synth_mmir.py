"""Synthetic AtW HA Monthly Management Information Return data (6.27) and Customer Insight
responses (6.29-6.33), beside the referrals of :func:`pmir_dsl.synth.generate_atw_ha`.

Drawn from their own random stream, so the referrals' existing columns are the same with or
without them. What they contain is described in ``examples/atw_ha/README.md``:

* ``referrals`` gains ``original_assessment_type`` (the type before a change between
  face-to-face and virtual) and ``recommended_solution`` (for referrals with a report);
* ``cancellations``: appointments cancelled by the provider or the customer, with a reason,
  contact attempts, appointments offered and, mostly, a re-booking date;
* ``complaints``: received, resolved (or not yet) and referred to DWP;
* ``satisfaction``: one answer to 6.30's question 1 per responding customer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Reasons for a cancellation (6.27 asks for them), by who cancelled.
CANCEL_REASONS = {
    "provider": ("assessor_unavailable", "reasonable_adjustment_needed", "system_issue"),
    "customer": ("customer_unwell", "work_commitment", "no_longer_needed", "no_contact"),
}
#: Recommended solutions (6.27 "top ten"), most common first: twelve, so the top ten is a choice.
SOLUTIONS = ("specialist_software", "ergonomic_chair", "travel_to_work", "support_worker",
             "screen_reader", "height_adjustable_desk", "job_coach", "bsl_interpreter",
             "hearing_loop", "mentoring", "dictation_software", "taxi_fares")
SOLUTION_WEIGHTS = (0.18, 0.15, 0.13, 0.11, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.025, 0.015)
ANSWERS = ("very_satisfied", "fairly_satisfied", "fairly_dissatisfied", "very_dissatisfied")
#: Answer shares per provider (North, Central, South, Wales and West): Central least satisfied.
ANSWER_SHARES = ((0.55, 0.33, 0.08, 0.04), (0.35, 0.35, 0.18, 0.12),
                 (0.48, 0.36, 0.10, 0.06), (0.50, 0.34, 0.10, 0.06))
CUSTOMER_GROUPS = ("new_customer", "existing_customer", "self_employed")
CANCEL_SHARE = 0.08     # of referrals with an appointment
COMPLAINT_SHARE = 0.025
RESPONSE_SHARE = 0.6    # of referrals with a report
TYPE_CHANGE_SHARE = 0.04
DAY = np.timedelta64(1, "D")


def add_mmir(referrals: pa.Table, seed: int, extract: np.datetime64,
             cal: np.busdaycalendar, providers: tuple[str, ...]) -> dict[str, pa.Table]:
    """``referrals`` with the two MMIR columns, and the three MMIR tables."""
    rng = np.random.Generator(np.random.PCG64([seed, 2]))
    ids = referrals.column("referral_id")
    ref = _days(referrals, "referral_date")
    appt = _days(referrals, "appointment_date")
    rep = _days(referrals, "report_date")
    prov = np.asarray(pc.index_in(referrals.column("provider"),
                                  value_set=pa.array(providers)).to_numpy(zero_copy_only=False))
    out = {"referrals": _with_columns(rng, referrals, rep)}
    out["cancellations"] = _cancellations(rng, ids, ref, appt, extract, cal)
    out["complaints"] = _complaints(rng, ref, prov, extract, cal, providers)
    out["satisfaction"] = _satisfaction(rng, rep, prov, extract, providers)
    return out


def _days(t: pa.Table, name: str) -> np.ndarray:
    """A date column as ``datetime64[D]`` (NaT for null)."""
    return np.asarray(t.column(name).to_numpy(zero_copy_only=False), dtype="datetime64[D]")


def _with_columns(rng: np.random.Generator, t: pa.Table, rep: np.ndarray) -> pa.Table:
    """The referrals with ``original_assessment_type`` and ``recommended_solution``."""
    n = t.num_rows
    kind = np.asarray(t.column("assessment_type").to_pylist(), dtype=object)
    changed = (rng.random(n) < TYPE_CHANGE_SHARE) & np.isin(kind, ["virtual", "face_to_face"])
    original = np.where(kind == "virtual", "face_to_face", "virtual")
    solution = rng.choice(len(SOLUTIONS), size=n, p=SOLUTION_WEIGHTS)
    t = t.append_column("original_assessment_type",
                        pa.array(original.astype(str), pa.string(), mask=~changed))
    names = np.asarray(SOLUTIONS, dtype=object)[solution]
    return t.append_column("recommended_solution",
                           pa.array(names.astype(str), pa.string(), mask=np.isnat(rep)))


def _cancellations(rng: np.random.Generator, ids: pa.ChunkedArray, ref: np.ndarray,
                   appt: np.ndarray, extract: np.datetime64, cal: np.busdaycalendar) -> pa.Table:
    """A cancelled appointment for some referrals with one, on or before the appointment."""
    rows = np.flatnonzero(~np.isnat(appt) & (rng.random(len(ref)) < CANCEL_SHARE))
    n = len(rows)
    by_provider = rng.random(n) < 0.35
    lo, hi = ref[rows], appt[rows]
    span = (hi - lo).astype(np.int64)
    cancelled = lo + (rng.random(n) * (span + 1)).astype(np.int64) * DAY
    rebooked = np.busday_offset(cancelled, rng.integers(1, 11, n), roll="forward", busdaycal=cal)
    not_rebooked = (rng.random(n) < 0.15) | (rebooked > extract)
    reasons = [CANCEL_REASONS["provider" if p else "customer"] for p in by_provider]
    reason = [r[int(rng.integers(0, len(r)))] for r in reasons]
    return pa.table({
        "referral_id": ids.take(pa.array(rows)),
        "cancelled_by": pa.array(np.where(by_provider, "provider", "customer").astype(str)),
        "reason": pa.array(reason, pa.string()),
        "cancelled_date": pa.array(cancelled, pa.date32()),
        "rebooked_date": pa.array(rebooked, pa.date32(), mask=not_rebooked),
        "contact_attempts": pa.array(rng.integers(1, 5, n), pa.int64()),
        "appointments_offered": pa.array(rng.integers(1, 4, n), pa.int64()),
    })


def _complaints(rng: np.random.Generator, ref: np.ndarray, prov: np.ndarray,
                extract: np.datetime64, cal: np.busdaycalendar,
                providers: tuple[str, ...]) -> pa.Table:
    """Complaints about some referrals: received after the referral, mostly resolved within
    20 working days, some referred to DWP, the recent ones not yet resolved."""
    rows = np.flatnonzero(rng.random(len(ref)) < COMPLAINT_SHARE)
    n = len(rows)
    received = np.minimum(ref[rows] + rng.integers(3, 40, n) * DAY, extract)
    slow = np.where(prov[rows] == providers.index("Central"), 2, 1).astype(np.int64)
    resolved = np.busday_offset(received, rng.integers(1, 15, n) * slow, roll="forward",
                                busdaycal=cal)
    order = np.argsort(received, kind="stable")
    rows, received, resolved = rows[order], received[order], resolved[order]
    return pa.table({
        "complaint_id": pa.array([f"C{i + 1:05d}" for i in range(n)], pa.string()),
        "provider": pa.array([providers[p] for p in prov[rows]], pa.string()),
        "received_date": pa.array(received, pa.date32()),
        "resolved_date": pa.array(resolved, pa.date32(), mask=resolved > extract),
        "referred_to_dwp": pa.array(rng.random(n) < 0.15, pa.bool_()),
    })


def _satisfaction(rng: np.random.Generator, rep: np.ndarray, prov: np.ndarray,
                  extract: np.datetime64, providers: tuple[str, ...]) -> pa.Table:
    """One answer to question 1 (6.30) for most customers with a report, within 10 days."""
    rows = np.flatnonzero(~np.isnat(rep) & (rng.random(len(rep)) < RESPONSE_SHARE))
    n = len(rows)
    day = rep[rows] + rng.integers(0, 11, n) * DAY
    keep = day <= extract
    rows, day = rows[keep], day[keep]
    n = len(rows)
    cdf = np.cumsum(np.asarray(ANSWER_SHARES), axis=1)[prov[rows]]
    answer = (rng.random(n)[:, None] > cdf).sum(axis=1).clip(0, len(ANSWERS) - 1)
    group = rng.integers(0, len(CUSTOMER_GROUPS), n)
    no_group = rng.random(n) < 0.1
    order = np.argsort(day, kind="stable")
    return pa.table({
        "provider": pa.array([providers[p] for p in prov[rows][order]], pa.string()),
        "customer_group": pa.array(np.asarray(CUSTOMER_GROUPS)[group][order], pa.string(),
                                   mask=no_group[order]),
        "response_date": pa.array(day[order], pa.date32()),
        "answer": pa.array(np.asarray(ANSWERS)[answer][order], pa.string()),
    })
