"""Synthetic IPES Provider Assurance Team reviews (9.93-9.95) and CSS 9 Participant Responses
(Table 4 CSS 9), beside the tables of :func:`pmir_dsl.synth.generate_ipes`.

The PAT reviews are a fixed story (:data:`PAT_STORY`), the same at any size and seed: each
provider's reviews are written so that one of them triggers each action of 9.95, and one
meets none. The Participant Responses are drawn from their own random stream, a share of
the participants' meetings, so the other IPES tables are the same with or without them. What
they contain is described in ``examples/ipes/README.md``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

#: The answers to CSS 9's question, best first (Table 4 CSS 9).
ANSWERS = ("very_satisfied", "fairly_satisfied", "fairly_dissatisfied", "very_dissatisfied")
#: Answer shares per provider (A to D): Provider C's participants are the least satisfied.
ANSWER_SHARES = ((0.52, 0.34, 0.09, 0.05), (0.47, 0.36, 0.11, 0.06),
                 (0.33, 0.35, 0.19, 0.13), (0.50, 0.33, 0.11, 0.06))
#: Customer groups: "further information on the manner of differentiating different customer
#: groups will be provided in due course" (CSS 9), so these names are the example's own.
CUSTOMER_GROUPS = ("disability", "health_condition", "other")
#: Share of meetings after which the participant records a response.
RESPONSE_SHARE = 0.06
#: Share of responses whose customer group was not recorded.
NO_GROUP_SHARE = 0.05

#: The PAT reviews: (provider, review id, completed, rating, reasons, action plan due, action
#: plan submitted). Reasons are codes of 9.91's key areas (and 9.95's data security).
#: - Provider A: limited (governance; claims), then weak (claims; supply_chain): the same or a
#:   worse rating for a reason in common, claims (9.95 first limb); then reasonable.
#: - Provider B: weak, then limited for another reason (better, and not the same reasons),
#:   then limited for a third reason: a consecutive third weak or limited rating, whatever the
#:   reasons (9.95 first limb, second part).
#: - Provider C: reasonable, then limited with its action plan submitted after the agreed date
#:   (9.95 second limb); the last review's plan is due on the extract date itself and not in
#:   the extract: late too, as a window's deadline on the as-of date is (decision 11).
#: - Provider D: strong, then limited with its action plan not submitted and the agreed date
#:   passed by the extract date (9.95 second limb). Provider A's first plan is submitted on the
#:   agreed date itself: on time.
PAT_STORY: tuple[tuple[str, str, str, str, str, str | None, str | None], ...] = (
    ("Provider A", "PAT-A-1", "2024-07-15", "limited", "governance;claims",
     "2024-09-30", "2024-09-30"),
    ("Provider A", "PAT-A-2", "2025-01-20", "weak", "claims;supply_chain",
     "2025-03-31", "2025-03-14"),
    ("Provider A", "PAT-A-3", "2025-07-21", "reasonable", "", None, None),
    ("Provider B", "PAT-B-1", "2024-06-17", "weak", "service_delivery",
     "2024-08-30", "2024-08-22"),
    ("Provider B", "PAT-B-2", "2024-12-09", "limited", "data_security",
     "2025-02-28", "2025-02-20"),
    ("Provider B", "PAT-B-3", "2025-06-16", "limited", "governance",
     "2025-08-29", "2025-08-27"),
    ("Provider C", "PAT-C-1", "2024-08-12", "reasonable", "supply_chain",
     "2024-10-31", "2024-10-25"),
    ("Provider C", "PAT-C-2", "2025-02-17", "limited", "claims",
     "2025-04-15", "2025-05-02"),
    ("Provider C", "PAT-C-3", "2025-08-18", "reasonable", "claims",
     "2025-09-30", None),
    ("Provider D", "PAT-D-1", "2024-09-16", "strong", "", None, None),
    ("Provider D", "PAT-D-2", "2025-05-19", "limited", "supply_chain",
     "2025-07-31", None),
)

DAY = np.timedelta64(1, "D")


def pat_reviews(extract: np.datetime64) -> pa.Table:
    """The story's PAT reviews completed by ``extract``, in provider and date order; an action
    plan submitted after ``extract`` is not yet in the extract (its agreed date is)."""
    rows = [r for r in PAT_STORY if np.datetime64(r[2]) <= extract]

    def dates(i: int, events: bool = False) -> pa.Array:
        return pa.array([None if r[i] is None or (events and np.datetime64(r[i]) > extract)
                         else dt.date.fromisoformat(r[i]) for r in rows], pa.date32())

    return pa.table({
        "provider": pa.array([r[0] for r in rows], pa.string()),
        "review_id": pa.array([r[1] for r in rows], pa.string()),
        "completed_date": dates(2),
        "rating": pa.array([r[3] for r in rows], pa.string()),
        "reasons": pa.array([r[4] or None for r in rows], pa.string()),
        "action_plan_due_date": dates(5),
        "action_plan_submitted_date": dates(6, events=True),
    })


def satisfaction(rng: np.random.Generator, provider: np.ndarray, day: np.ndarray,
                 providers: tuple[str, ...], extract: np.datetime64) -> pa.Table:
    """Participant Responses (CSS 9): after a share of the meetings (``provider`` codes and
    ``day`` of each), one answer, given 0-6 days later (none after ``extract``), in date order."""
    n = len(day)
    rows = np.flatnonzero(rng.random(n) < RESPONSE_SHARE)
    when = day[rows] + rng.integers(0, 7, len(rows)) * DAY
    keep = when <= extract
    rows, when = rows[keep], when[keep]
    m = len(rows)
    prov = provider[rows].astype(np.int64)
    cdf = np.cumsum(np.asarray(ANSWER_SHARES), axis=1)[prov]
    answer = (rng.random(m)[:, None] > cdf).sum(axis=1).clip(0, len(ANSWERS) - 1)
    group = rng.integers(0, len(CUSTOMER_GROUPS), m)
    no_group = rng.random(m) < NO_GROUP_SHARE
    order = np.lexsort((prov, when))
    return pa.table({
        "provider": pa.array(np.asarray(providers)[prov][order], pa.string()),
        "customer_group": pa.array(np.asarray(CUSTOMER_GROUPS)[group][order], pa.string(),
                                   mask=no_group[order]),
        "response_date": pa.array(when[order], pa.date32()),
        "answer": pa.array(np.asarray(ANSWERS)[answer][order], pa.string()),
    })
