"""Tests of the Work Programme synthetic data generator (pmir_dsl.synth.generate_work_programme)
and its example.

The formal quarterly reviews (required and net job outcomes, provisional and final figures) and
the PINs they raise are recomputed here from the generated tables with plain numpy and exact
integer arithmetic (ten-thousandths of a job outcome), not with the generator's own helpers.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import (all_dates, assert_example_is_generated, assert_generator_deterministic,
                      dates, england_and_wales, row_numbers, texts)

from pmir_dsl.synth import GENERATORS, generate_work_programme

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "work_programme"
START = np.datetime64("2022-04-01")
EXTRACT = np.datetime64("2024-09-30")
MONTHS = np.arange(np.datetime64("2022-04"), np.datetime64("2024-10"))
PROVIDERS = ["Provider A", "Provider B", "Provider C", "Provider D"]
GROUPS = ["PG1", "PG2", "PG3", "PG4", "PG5", "PG6A", "PG6B", "PG7", "PG8", "PG9"]
MPGS = ["PG1", "PG2", "PG6A"]
QUARTER_ENDS = ["2023-03", "2023-06", "2023-09", "2023-12", "2024-03", "2024-06", "2024-09"]

#: The columns of shared spec data.md, in order.
COLUMNS = {
    "participants": ["participant_id", "provider", "cpa", "payment_group", "referral_date",
                     "attachment_date", "job_entry_date", "job_outcome_date", "completion_date",
                     "job_claim_date"],
    "sustainments": ["participant_id", "payment_date"],
    "exit_reports": ["participant_id", "requested_date", "returned_date"],
    "validation": ["round", "period_start", "period_end", "rate", "completed_date", "provider",
                   "cpa"],
    "mpl": ["payment_group", "from_month", "to_month", "rate"],
    "off_benefit_checks": ["provider", "month", "outcomes_claimed", "failures"],
    "cmo_visits": ["provider", "visit_date", "compliant_msos", "max_score"],
    "retention": ["months_after_outcome", "rate"],
    "cohort_mpl": ["payment_group", "months_on_programme", "rate"],
    "flight_paths": ["provider", "cpa", "month", "referrals", "job_entries", "job_outcomes"],
}
NULLABLE = {
    "participants": {"attachment_date", "job_entry_date", "job_outcome_date", "completion_date",
                     "job_claim_date"},
    "exit_reports": {"returned_date"},
    "validation": {"provider", "cpa"},
}
INTEGERS = {"round", "outcomes_claimed", "failures", "compliant_msos", "max_score",
            "months_after_outcome", "months_on_programme", "referrals", "job_entries",
            "job_outcomes"}

#: The intended story: (provider, MPG) -> the result of each review (provisional / final,
#: "-" where there is no final figure by the extract date). Every other provider and MPG
#: meets every review on both figures.
STORY = {
    ("Provider B", "PG1"): ["met/met", "met/met", "met/met", "failed/failed", "met/met",
                            "met/-", "met/-"],
    ("Provider C", "PG2"): ["met/met"] + ["failed/failed"] * 4 + ["failed/-"] * 2,
    ("Provider D", "PG6A"): ["met/met"] * 4 + ["failed/met", "met/-", "met/-"],
}
ALL_MET = ["met/met"] * 5 + ["met/-"] * 2
#: The PINs of the README's rules: (provider, MPG) -> [(quarter end raised, cancelled?)].
PINS = {
    ("Provider B", "PG1"): [("2023-12", False)],
    ("Provider C", "PG2"): [("2023-06", False), ("2024-03", False)],
    ("Provider D", "PG6A"): [("2024-03", True)],
}


@pytest.fixture(scope="module")
def wp() -> dict[str, pa.Table]:
    """The example data set: 6000 participants, seed 1."""
    return generate_work_programme(6000, seed=1)


@pytest.fixture(scope="module")
def bigger() -> dict[str, pa.Table]:
    """Another size and seed: the story does not depend on the example's draw."""
    return generate_work_programme(20000, seed=2)


CAL = england_and_wales(2021, 2026)


def units(value: Decimal) -> int:
    """A rate as a whole number of ten-thousandths (exact)."""
    scaled = value * 10_000
    assert scaled == scaled.to_integral_value()
    return int(scaled)


# ------------------------------------------------------------------------ the review


def by_month(tables: dict[str, pa.Table], column: str) -> dict[tuple[str, str], np.ndarray]:
    """(provider, group) -> the participants' count per month of ``MONTHS`` by ``column``."""
    p = tables["participants"]
    provider, group = texts(p, "provider"), texts(p, "payment_group")
    month = dates(p, column).astype("datetime64[M]")
    out = {}
    for name in PROVIDERS:
        for g in GROUPS:
            m = month[(provider == name) & (group == g) & ~np.isnat(month)]
            out[(name, g)] = np.array([(m == x).sum() for x in MONTHS], dtype=np.int64)
    return out


def mpl_by_month(tables: dict[str, pa.Table]) -> dict[str, np.ndarray]:
    """group -> the MPL (ten-thousandths) of each month of ``MONTHS``."""
    out = {g: np.full(len(MONTHS), -1, dtype=np.int64) for g in GROUPS}
    for row in tables["mpl"].to_pylist():
        span = ((MONTHS >= np.datetime64(row["from_month"]))
                & (MONTHS <= np.datetime64(row["to_month"])))
        out[row["payment_group"]][span] = units(row["rate"])
    assert all((v >= 0).all() for v in out.values())
    return out


def round_rates(rounds: list[dict], months: np.ndarray) -> np.ndarray:
    """The failure rate (ten-thousandths) of the round holding each month; -1 for none."""
    out = np.full(len(months), -1, dtype=np.int64)
    for r in rounds:
        span = ((months >= np.datetime64(r["period_start"], "M"))
                & (months <= np.datetime64(r["period_end"], "M")))
        out[span] = units(r["rate"])
    return out


def reviews(tables: dict[str, pa.Table]) -> dict[tuple[str, str, str], dict]:
    """(provider, MPG, quarter end) -> the review's jobs, attachments, required and net
    job outcomes (provisional, and final or None), in ten-thousandths."""
    jobs, att = by_month(tables, "job_outcome_date"), by_month(tables, "attachment_date")
    mpl = mpl_by_month(tables)
    rounds = tables["validation"].to_pylist()
    out = {}
    for label in QUARTER_ENDS:
        end = np.datetime64(label)
        window = (MONTHS > end - 12) & (MONTHS <= end)
        review_day = min((end + 2).astype("datetime64[D]") - 1, EXTRACT)
        done = [r for r in rounds if np.datetime64(r["completed_date"]) <= review_day]
        last = units(done[-1]["rate"]) if done else 0
        provisional = round_rates(done, MONTHS[window])
        provisional[provisional < 0] = last
        final = round_rates(rounds, MONTHS[window])
        for name in PROVIDERS:
            for g in MPGS:
                j, a = jobs[(name, g)][window], att[(name, g)][window]
                out[(name, g, label)] = {
                    "jobs": int(j.sum()), "attachments": int(a.sum()),
                    "required": int((a * mpl[g][window]).sum()),
                    "provisional": int((j * (10_000 - provisional)).sum()),
                    "final": None if (final < 0).any() else int((j * (10_000 - final)).sum()),
                }
    return out


def results(tables: dict[str, pa.Table]) -> dict[tuple[str, str], list[str]]:
    """(provider, MPG) -> 'met/failed' provisional / final (or '-') at each quarter end."""
    def word(net: int | None, need: int) -> str:
        return "-" if net is None else "met" if net >= need else "failed"

    def both(f: dict) -> str:
        return word(f["provisional"], f["required"]) + "/" + word(f["final"], f["required"])

    figures = reviews(tables)
    return {(name, g): [both(figures[(name, g, q)]) for q in QUARTER_ENDS]
            for name in PROVIDERS for g in MPGS}


def pins(tables: dict[str, pa.Table]) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    """The README's PIN rules: raised where the provisional figure fails, unless an earlier PIN
    on the same MPG has a remedy period (to the second quarter end after its review) that runs
    to this quarter end or later; cancelled when that review's final figure meets."""
    figures = reviews(tables)
    out: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for name in PROVIDERS:
        for g in MPGS:
            open_until = None
            for q in QUARTER_ENDS:
                f = figures[(name, g, q)]
                if f["provisional"] >= f["required"]:
                    continue
                if open_until is not None and np.datetime64(q) <= open_until:
                    continue
                cancelled = f["final"] is not None and f["final"] >= f["required"]
                out.setdefault((name, g), []).append((q, cancelled))
                open_until = np.datetime64(q) + 6
    return out


# ------------------------------------------------------------------------ determinism


def test_registry() -> None:
    assert GENERATORS["work_programme"] is generate_work_programme
    assert {"atw_ha", "esf", "ses", "ipes"} <= set(GENERATORS)


def test_same_arguments_give_identical_tables(tmp_path: Path) -> None:
    assert list(generate_work_programme(300, seed=4)) == list(COLUMNS)
    assert_generator_deterministic(generate_work_programme, 1500, tmp_path, ["participants", "cmo_visits"])


def test_example_matches_a_fresh_generation(tmp_path: Path) -> None:
    """The committed example can never drift from the generator."""
    assert_example_is_generated(generate_work_programme, 6000, EXAMPLE, tmp_path,
                                "pmirc synth work_programme examples/work_programme --rows 6000 --seed 1")


def test_example_csv_format() -> None:
    lines = (EXAMPLE / "participants.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS["participants"])
    assert re.fullmatch(r"W0000001,Provider [ABCD],(East Midlands|West Yorkshire),PG\w+,"
                        r"2022-04-\d\d,.*", lines[1])
    assert (EXAMPLE / "mpl.csv").read_text(encoding="utf-8").splitlines()[1] == (
        "PG1,2022-04,2023-03,0.055")
    assert (EXAMPLE / "validation.csv").read_text(encoding="utf-8").splitlines()[1] == (
        "1,2022-04-01,2022-09-30,0.052,2022-12-16,,")


# ------------------------------------------------------------------------ shape


def test_columns(wp: dict[str, pa.Table]) -> None:
    assert {name: t.column_names for name, t in wp.items()} == COLUMNS


def test_column_types(wp: dict[str, pa.Table]) -> None:
    for name, table in wp.items():
        for field in table.schema:
            if field.name.endswith("_date") or field.name.startswith("period_"):
                assert field.type == pa.date32(), (name, field.name)
            elif field.name == "rate":
                assert pa.types.is_decimal(field.type) and field.type.scale == 4
            elif field.name in INTEGERS:
                assert field.type == pa.int64(), (name, field.name)
            else:
                assert field.type == pa.string(), (name, field.name)


def test_required_columns_have_no_nulls(wp: dict[str, pa.Table]) -> None:
    for name, table in wp.items():
        for column in table.column_names:
            if column not in NULLABLE.get(name, set()):
                assert table[column].null_count == 0, (name, column)


def test_ids_and_categories(wp: dict[str, pa.Table]) -> None:
    p = wp["participants"]
    ids = p["participant_id"].to_pylist()
    assert ids[0] == "W0000001" and ids[-1] == "W0006000" and ids == sorted(set(ids))
    assert all(re.fullmatch(r"W\d{7}", i) for i in ids)
    assert sorted(set(p["provider"].to_pylist())) == PROVIDERS
    pairs = set(zip(p["provider"].to_pylist(), p["cpa"].to_pylist()))
    assert len(pairs) == 4 and {c for _, c in pairs} == {"East Midlands", "West Yorkshire"}
    group = texts(p, "payment_group")
    assert sorted(set(group)) == sorted(GROUPS)
    count = {g: int((group == g).sum()) for g in GROUPS}
    others = max(v for g, v in count.items() if g not in ("PG1", "PG2"))
    assert count["PG2"] > count["PG1"] > others and count["PG1"] > 0.15 * len(group)
    assert count["PG8"] < 0.01 * len(group)  # referrals to PG8 have all but ceased


def test_tiny_and_invalid_sizes() -> None:
    one = generate_work_programme(1)
    assert one["participants"].num_rows == 1
    assert one["participants"]["referral_date"][0].as_py().isoformat() == "2024-09-30"
    with pytest.raises(ValueError):
        generate_work_programme(0)
    with pytest.raises(ValueError):
        generate_work_programme(10, start="2024-01-01", extract="2023-12-31")


# ------------------------------------------------------------------------ dates


def test_no_date_after_extract_and_one_on_it(wp: dict[str, pa.Table]) -> None:
    values = all_dates(wp)
    assert values.max() == EXTRACT
    ref = dates(wp["participants"], "referral_date")
    assert ref.max() == EXTRACT and ref.min() >= START
    assert (np.diff(ref.astype(np.int64)) >= 0).all()
    months = [str(m) for m in MONTHS]
    assert sorted(set(wp["off_benefit_checks"]["month"].to_pylist())) == months


def test_no_date_after_a_custom_extract() -> None:
    data = generate_work_programme(3000, seed=3, start="2021-04-01", extract="2023-01-15")
    assert all_dates(data).max() <= np.datetime64("2023-01-15")
    v = data["validation"]
    assert v["round"].to_pylist() == [1, 2, 3]  # October 2022-March 2023 has not ended
    assert dates(v, "period_end").max() == np.datetime64("2022-09-30")
    mpl = data["mpl"]
    assert sorted(set(zip(mpl["from_month"].to_pylist(), mpl["to_month"].to_pylist()))) == [
        ("2021-04", "2022-03"), ("2022-04", "2023-03")]
    months = sorted(set(data["off_benefit_checks"]["month"].to_pylist()))
    assert months[0] == "2021-04" and months[-1] == "2023-01" and len(months) == 22


def test_participant_chain(wp: dict[str, pa.Table]) -> None:
    p = wp["participants"]
    group = texts(p, "payment_group")
    ref, att, entry, outcome, done = (dates(p, c) for c in (
        "referral_date", "attachment_date", "job_entry_date", "job_outcome_date",
        "completion_date"))
    attached = ~np.isnat(att)
    assert 0.9 < attached.mean() < 0.96
    wd = np.busday_count(ref[attached], att[attached], busdaycal=CAL)
    assert wd.min() >= 0 and wd.max() <= 10 and (att[attached] > ref[attached]).all()
    assert np.is_busday(att[attached], busdaycal=CAL).all()
    for column in (entry, outcome, done):
        assert np.isnat(column[~attached]).all()
    ended = ~np.isnat(done)
    assert ((done - att)[ended] == np.timedelta64(728, "D")).all()
    assert np.isnat(done[attached & (att + 728 <= EXTRACT) & np.isnat(done)]).sum() == 0
    has = ~np.isnat(outcome)
    assert not np.isnat(entry[has]).any()
    weeks = np.where(np.isin(group, ["PG1", "PG2", "PG3", "PG9"]), 182, 91)
    assert ((outcome - entry)[has].astype(np.int64) == weeks[has]).all()
    assert (entry[has] > att[has]).all()
    assert (outcome[has] <= att[has] + 728).all()
    assert (~np.isnat(entry) & ~has).sum() > 0.2 * attached.sum()  # entries without outcome
    assert 0.15 < has.sum() / attached.sum() < 0.3


def test_job_claims(wp: dict[str, pa.Table]) -> None:
    """8.28-8.30: every job outcome is claimed on or after it, unless the claim would fall after
    the extract date; Provider C claims latest (README)."""
    p = wp["participants"]
    outcome, claim = dates(p, "job_outcome_date"), dates(p, "job_claim_date")
    assert (np.isnat(outcome) <= np.isnat(claim)).all()  # no claim without a job outcome
    made = ~np.isnat(claim)
    assert (claim[made] >= outcome[made]).all() and (claim[made] <= EXTRACT).all()
    late = ~np.isnat(outcome) & ~made
    assert (outcome[late] > EXTRACT - 365).all()  # unclaimed ones are recent
    days = (claim - outcome)[made].astype(np.int64)
    provider = texts(p, "provider")[made]
    mean = {name: days[provider == name].mean() for name in PROVIDERS}
    assert max(mean, key=mean.get) == "Provider C" and min(mean, key=mean.get) == "Provider A"


def test_sustainments(wp: dict[str, pa.Table]) -> None:
    p, s = wp["participants"], wp["sustainments"]
    outcome = dates(p, "job_outcome_date")
    group = texts(p, "payment_group")
    row = row_numbers(s["participant_id"])
    day = dates(s, "payment_date")
    assert (np.diff(day.astype(np.int64)) >= 0).all()  # in date order
    assert not np.isnat(outcome[row]).any()  # only after a job outcome
    gap = (day - outcome[row]).astype(np.int64)
    assert (gap > 0).all() and (gap % 28 == 0).all() and day.max() <= EXTRACT
    order = np.lexsort((day, row))
    r, k = row[order], gap[order] // 28
    first = np.r_[True, r[1:] != r[:-1]]
    assert (k[first] == 1).all() and (np.diff(k)[~first[1:]] == 1).all()  # 1, 2, 3 ... in turn
    most = {"PG1": 13, "PG2": 20, "PG3": 20, "PG9": 20}
    limit = np.array([most.get(g, 26) for g in group])
    assert (k <= limit[r]).all()


def test_exit_reports(wp: dict[str, pa.Table]) -> None:
    p, e = wp["participants"], wp["exit_reports"]
    done = dates(p, "completion_date")
    row = row_numbers(e["participant_id"])
    requested, returned = dates(e, "requested_date"), dates(e, "returned_date")
    assert (np.diff(requested.astype(np.int64)) >= 0).all()
    assert len(set(row)) == len(row) and not np.isnat(done[row]).any()  # one per completion
    settled = ~np.isnat(done) & (np.busday_offset(done, 3, roll="backward", busdaycal=CAL)
                                 <= EXTRACT)
    assert set(np.flatnonzero(settled)) <= set(row)  # requested by the extract date
    lag = np.busday_count(done[row], requested, busdaycal=CAL)
    assert lag.min() >= 0 and lag.max() <= 3 and requested.max() <= EXTRACT
    error = ~np.isnat(returned) & (returned < requested)
    assert texts(e, "participant_id")[error].tolist() == ["W0000018", "W0000048", "W0000401"]
    assert (np.flatnonzero(error) + 2).tolist() == [18, 42, 376]  # lines of the CSV
    provider = texts(p, "provider")[row]
    ok = ~np.isnat(returned) & ~error
    wd = np.full(len(row), -1)
    wd[ok] = np.busday_count(requested[ok], returned[ok], busdaycal=CAL)
    due = np.busday_offset(requested, 10, roll="backward", busdaycal=CAL) <= EXTRACT
    table = {}
    for name in PROVIDERS:
        m = (provider == name) & ~error
        table[name] = (int(m.sum()), int((m & ok & (wd <= 10)).sum()),
                       int((m & (wd > 10) & (wd <= 20)).sum()), int((m & (wd > 20)).sum()),
                       int((m & np.isnat(returned)).sum()),
                       int((m & np.isnat(returned) & ~due).sum()))
    assert table == {  # the README's table
        "Provider A": (198, 178, 7, 1, 12, 11), "Provider B": (187, 147, 11, 6, 23, 19),
        "Provider C": (200, 136, 19, 17, 28, 14), "Provider D": (181, 155, 10, 3, 13, 10),
    }


def test_validation_rounds(wp: dict[str, pa.Table]) -> None:
    v = wp["validation"]
    begin, end, completed = (dates(v, c) for c in ("period_start", "period_end",
                                                  "completed_date"))
    assert v["round"].to_pylist() == [1, 2, 3, 4]
    assert begin[0] == START and (begin[1:] == end[:-1] + 1).all()  # consecutive, no overlap
    assert ((end.astype("datetime64[M]") - begin.astype("datetime64[M]")).astype(int) == 5).all()
    assert ((end + 1).astype("datetime64[M]").astype("datetime64[D]") == end + 1).all()
    assert (np.diff(completed.astype(np.int64)) > 0).all() and completed.max() <= EXTRACT
    after = (completed - end).astype(np.int64)
    assert after.min() >= 70 and after.max() <= 90
    assert ((completed.astype("datetime64[M]") - end.astype("datetime64[M]")).astype(int)
            == 3).all()  # in June or December
    assert np.is_busday(completed, busdaycal=CAL).all()
    rates = [units(r) for r in v["rate"].to_pylist()]
    assert rates == [520, 560, 790, 310] and all(300 <= r <= 800 for r in rates)
    assert end.max() == np.datetime64("2024-03-31")  # April-September 2024 not yet validated


def test_mpl_table(wp: dict[str, pa.Table]) -> None:
    m = wp["mpl"]
    keys = list(zip(m["payment_group"].to_pylist(), m["from_month"].to_pylist(),
                    m["to_month"].to_pylist()))
    years = [("2022-04", "2023-03"), ("2023-04", "2024-03"), ("2024-04", "2025-03")]
    assert keys == [(g, a, b) for g in GROUPS for a, b in years]
    rate = {(g, a): units(r) for (g, a, _), r in zip(keys, m["rate"].to_pylist())}
    assert [rate[("PG1", a)] for a, _ in years] == [550, 2800, 3300]
    assert [rate[("PG2", a)] for a, _ in years] == [550, 2600, 3100]
    assert [rate[("PG6A", a)] for a, _ in years] == [300, 1400, 1650]
    for g in GROUPS:  # rising each contract year
        assert rate[(g, "2022-04")] < rate[(g, "2023-04")] <= rate[(g, "2024-04")]


def test_off_benefit_checks(wp: dict[str, pa.Table]) -> None:
    o = wp["off_benefit_checks"]
    keys = list(zip(o["provider"].to_pylist(), o["month"].to_pylist()))
    assert keys == [(p, str(m)) for p in PROVIDERS for m in MONTHS]
    claimed, failures = o["outcomes_claimed"].to_numpy(), o["failures"].to_numpy()
    assert (failures >= 0).all() and (failures <= claimed).all()
    jobs = by_month(wp, "job_outcome_date")
    for i, name in enumerate(PROVIDERS):
        per_month = sum(jobs[(name, g)] for g in GROUPS)
        assert (claimed[i * len(MONTHS):(i + 1) * len(MONTHS)] == per_month).all()
    totals = claimed.reshape(4, -1).sum(axis=1), failures.reshape(4, -1).sum(axis=1)
    assert totals[0].tolist() == [339, 287, 257, 289] and totals[1].tolist() == [4, 3, 12, 6]


def test_cmo_visits(wp: dict[str, pa.Table]) -> None:
    c = wp["cmo_visits"]
    provider, day = texts(c, "provider"), dates(c, "visit_date")
    score, top = c["compliant_msos"].to_numpy(), c["max_score"].to_numpy()
    assert set(top) <= {20, 24, 28, 32} and (score >= 0).all() and (score <= top).all()
    assert np.is_busday(day, busdaycal=CAL).all() and day.min() >= START and day.max() <= EXTRACT
    for name in PROVIDERS:
        d = day[provider == name]
        assert (np.diff(d.astype(np.int64)) > 0).all()
        assert np.diff(d.astype(np.int64)).max() <= 72  # every 5-10 weeks
    share = {n: score[provider == n].sum() / top[provider == n].sum() for n in PROVIDERS}
    assert min(share, key=share.get) == "Provider C"
    assert max(share, key=share.get) == "Provider A"


# ------------------------------------------------------------------------ the story


@pytest.mark.parametrize("which", ["wp", "bigger"])
def test_every_review(request, which: str) -> None:
    """Each provider and MPG meets or fails exactly the intended reviews, on both figures."""
    got = results(request.getfixturevalue(which))
    for key, row in got.items():
        assert row == STORY.get(key, ALL_MET), key


@pytest.mark.parametrize("which", ["wp", "bigger"])
def test_pins(request, which: str) -> None:
    """B: one PIN, its remedy met; C: a PIN, none inside its remedy period, a second after
    it; D: a PIN cancelled by the validated figure; A: none."""
    assert pins(request.getfixturevalue(which)) == PINS


def test_provider_a_comfortably_above(wp: dict[str, pa.Table], bigger) -> None:
    for tables in (wp, bigger):
        for (name, _, _), f in reviews(tables).items():
            if name == "Provider A":
                net = min(f["provisional"], f["final"] or f["provisional"])
                assert net >= 1.1 * f["required"]


def test_example_story_figures(wp: dict[str, pa.Table]) -> None:
    """The figures the README quotes, exactly (ten-thousandths of a job outcome)."""
    f = reviews(wp)

    def row(name: str, g: str, q: str) -> tuple:
        x = f[(name, g, q)]
        return x["jobs"], x["attachments"], x["required"], x["provisional"], x["final"]

    assert row("Provider A", "PG1", "2023-03") == (8, 104, 57200, 75840, 75520)
    assert row("Provider A", "PG1", "2024-09") == (55, 136, 414300, 532950, None)
    assert row("Provider B", "PG1", "2023-09") == (31, 122, 231350, 292640, 286890)
    assert row("Provider B", "PG1", "2023-12") == (31, 131, 317300, 286200, 287640)
    assert row("Provider B", "PG1", "2024-06") == (51, 138, 402900, 486990, None)
    assert row("Provider C", "PG2", "2023-06") == (19, 187, 207400, 179360, 177520)
    assert row("Provider C", "PG2", "2023-12") == (41, 215, 442150, 379910, 385670)
    assert row("Provider C", "PG2", "2024-03") == (43, 218, 566800, 396030, 407550)
    assert row("Provider C", "PG2", "2024-09") == (48, 211, 596100, 465120, None)
    assert row("Provider D", "PG6A", "2023-12") == (16, 128, 144000, 147590, 149990)
    assert row("Provider D", "PG6A", "2024-03") == (18, 119, 166600, 165780, 169620)
    # D's 2024-03 window: 10 job outcomes in April-September 2023, 8 in October-March
    jobs = by_month(wp, "job_outcome_date")[("Provider D", "PG6A")]
    year = (MONTHS >= np.datetime64("2023-04")) & (MONTHS <= np.datetime64("2024-03"))
    assert jobs[year][:6].sum() == 10 and jobs[year][6:].sum() == 8


def test_retention_is_the_generators_own_payment_rule() -> None:
    """retention.csv: about one payment per job outcome a month after it, falling as people
    leave work (8% each 4 weeks) and reach their group's maximum; nothing after 24 months."""
    r = generate_work_programme(300, seed=4)["retention"]
    rate = [float(x) for x in r["rate"].to_pylist()]
    assert r["months_after_outcome"].to_pylist() == list(range(25))
    assert rate[1] == pytest.approx(1.0, abs=0.01) and rate[0] < 0.1
    assert all(b <= a for a, b in zip(rate[1:], rate[2:]))


def test_flight_paths_project_each_contracts_actual_figures(tmp_path: Path) -> None:
    wp = generate_work_programme(6000, seed=1)
    fp = wp["flight_paths"].to_pydict()
    outcomes = Counter((p, d[:7]) for p, d in zip(wp["participants"]["provider"].to_pylist(),
                                                  [str(x) if x else "" for x in
                                                   wp["participants"]["job_outcome_date"]
                                                   .to_pylist()]) if d)
    for provider, uplift in zip(("Provider A", "Provider C"), (1.0, 1.35)):
        projected = sum(n for p, n in zip(fp["provider"], fp["job_outcomes"]) if p == provider)
        actual = sum(n for (p, _), n in outcomes.items() if p == provider)
        assert projected == pytest.approx(actual * uplift, rel=0.05)
    assert set(zip(fp["provider"], fp["cpa"])) == {
        ("Provider A", "East Midlands"), ("Provider B", "East Midlands"),
        ("Provider C", "West Yorkshire"), ("Provider D", "West Yorkshire")}
