"""Tests of the ESF and SES synthetic data generators (pmir_dsl.synth) and their examples."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from conftest import all_dates, dates, england_and_wales

from pmir_dsl.synth import GENERATORS, generate_esf, generate_ses, write_tables

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
START = np.datetime64("2023-04-01")
EXTRACT = np.datetime64("2024-09-30")
MONTHS = [str(m) for m in np.arange(np.datetime64("2023-04"), np.datetime64("2024-10"))]
PROVIDERS = {"Provider A", "Provider B", "Provider C"}

#: The columns of shared spec data.md, in order.
ESF_COLUMNS = {
    "referrals": ["referral_id", "provider", "lep_area", "category_of_region", "referral_date",
                  "start_date", "dns_date", "recorded_date"],
    "starts_profile": ["lep_area", "category_of_region", "month", "profiled_starts"],
    "outcomes": ["referral_id", "outcome", "achieved_date"],
    "outcome_profiles": ["lep_area", "category_of_region", "outcome", "rate", "month", "share"],
}
SES_COLUMNS = {
    "referrals": ["referral_id", "provider", "referral_date", "initial_assessment_date",
                  "start_date", "start_recorded_date", "leave_date"],
    "outcomes": ["referral_id", "outcome", "achieved_date"],
    "profiles": ["outcome", "rate", "month", "share"],
    "starts_profile": ["month", "profiled_starts"],
}
ESF_CORS = {
    "Black Country": {"More Developed"},
    "Cornwall and Isles of Scilly": {"Less Developed"},
    "Greater Manchester": {"More Developed", "Transition"},
    "Leeds City Region": {"More Developed", "Transition"},
}
WEAK_UNIT = ("Greater Manchester", "Transition")


@pytest.fixture(scope="module")
def esf() -> dict[str, pa.Table]:
    """The ESF example data set: 3000 referrals, seed 1."""
    return generate_esf(3000, seed=1)


@pytest.fixture(scope="module")
def ses() -> dict[str, pa.Table]:
    """The SES example data set: 1500 referrals, seed 1."""
    return generate_ses(1500, seed=1)


def texts(table: pa.Table, column: str) -> np.ndarray:
    """A string column as a numpy object array."""
    return np.array(table[column].to_pylist(), dtype=object)


def workday(days: np.ndarray, k: int) -> np.ndarray:
    """Excel WORKDAY(days, k) for k >= 1 (semantics 1)."""
    return np.busday_offset(days, k, roll="backward", busdaycal=calendar())


def calendar() -> np.busdaycalendar:
    """England and Wales working days, built independently of the generator."""
    return england_and_wales(2022, 2025)


# ------------------------------------------------------------------------ determinism


def test_registry() -> None:
    assert GENERATORS["esf"] is generate_esf
    assert GENERATORS["ses"] is generate_ses
    assert "atw_ha" in GENERATORS


@pytest.mark.parametrize("generate", [generate_esf, generate_ses])
def test_same_arguments_give_identical_tables(generate) -> None:
    first, second = generate(800, seed=4), generate(800, seed=4)
    assert list(first) == list(second)
    for name, table in first.items():
        assert second[name].equals(table), name


@pytest.mark.parametrize("generate", [generate_esf, generate_ses])
def test_written_csv_is_byte_identical(tmp_path: Path, generate) -> None:
    first = write_tables(generate(700, seed=9), tmp_path / "a")
    second = write_tables(generate(700, seed=9), tmp_path / "b")
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize("generate", [generate_esf, generate_ses])
def test_seed_changes_the_data(generate) -> None:
    assert not generate(500, seed=1)["referrals"].equals(generate(500, seed=2)["referrals"])


@pytest.mark.parametrize("name, generate, rows", [("esf", generate_esf, 3000),
                                                  ("ses", generate_ses, 1500)])
def test_example_matches_a_fresh_generation(tmp_path: Path, name, generate, rows) -> None:
    """The committed examples can never drift from the generators."""
    fresh = write_tables(generate(rows, seed=1), tmp_path)
    folder = EXAMPLES / name
    assert sorted(p.name for p in folder.glob("*.csv")) == sorted(p.name for p in fresh)
    for path in fresh:
        assert (folder / path.name).read_bytes() == path.read_bytes(), path.name
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"pmirc synth {name} examples/{name} --rows {rows} --seed 1" in readme


# ------------------------------------------------------------------------ shape


def test_esf_columns(esf: dict[str, pa.Table]) -> None:
    assert {name: t.column_names for name, t in esf.items()} == ESF_COLUMNS


def test_ses_columns(ses: dict[str, pa.Table]) -> None:
    assert {name: t.column_names for name, t in ses.items()} == SES_COLUMNS


@pytest.mark.parametrize("which", ["esf", "ses"])
def test_column_types(request, which: str) -> None:
    tables = request.getfixturevalue(which)
    for table in tables.values():
        for field in table.schema:
            if field.name.endswith("_date"):
                assert field.type == pa.date32(), field.name
            elif field.name in ("rate", "share"):
                assert pa.types.is_decimal(field.type) and field.type.scale == 4, field.name
            elif field.name == "profiled_starts" or (field.name == "month"
                                                     and "share" in table.column_names):
                assert pa.types.is_integer(field.type), field.name
            else:
                assert field.type == pa.string(), field.name


@pytest.mark.parametrize("which", ["esf", "ses"])
def test_required_columns_have_no_nulls(request, which: str) -> None:
    tables = request.getfixturevalue(which)
    for name, table in tables.items():
        for column in table.column_names:
            nullable = column.endswith("_date") and not (
                column == "referral_date" or column == "achieved_date")
            if not nullable:
                assert table[column].null_count == 0, (name, column)


@pytest.mark.parametrize("which, prefix, rows", [("esf", "E", 3000), ("ses", "S", 1500)])
def test_referral_ids(request, which: str, prefix: str, rows: int) -> None:
    ids = request.getfixturevalue(which)["referrals"]["referral_id"].to_pylist()
    assert len(ids) == rows and ids[0] == f"{prefix}0000001" and ids[-1] == f"{prefix}{rows:07d}"
    assert ids == sorted(set(ids))
    assert all(re.fullmatch(prefix + r"\d{7}", i) for i in ids)


@pytest.mark.parametrize("generate", [generate_esf, generate_ses])
def test_tiny_and_invalid_sizes(generate) -> None:
    one = generate(1)
    assert one["referrals"].num_rows == 1
    assert one["referrals"]["referral_date"][0].as_py().isoformat() == "2024-09-30"
    with pytest.raises(ValueError):
        generate(0)
    with pytest.raises(ValueError):
        generate(10, start="2024-01-01", extract="2023-12-31")


def test_esf_categories(esf: dict[str, pa.Table]) -> None:
    r = esf["referrals"]
    assert set(r["provider"].to_pylist()) == PROVIDERS
    pairs = defaultdict(set)
    for lep, cor in zip(r["lep_area"].to_pylist(), r["category_of_region"].to_pylist()):
        pairs[lep].add(cor)
    assert pairs == ESF_CORS
    assert sum(len(c) == 2 for c in pairs.values()) >= 2
    for name in ("starts_profile", "outcome_profiles"):
        t = esf[name]
        found = defaultdict(set)
        for lep, cor in zip(t["lep_area"].to_pylist(), t["category_of_region"].to_pylist()):
            found[lep].add(cor)
        assert found == {lep: cors | {"ALL"} for lep, cors in ESF_CORS.items()}, name
    assert set(esf["outcomes"]["outcome"].to_pylist()) == {"short_job", "sustained_job"}
    # one provider per LEP area and CoR
    units = defaultdict(set)
    for p, lep, cor in zip(r["provider"].to_pylist(), r["lep_area"].to_pylist(),
                           r["category_of_region"].to_pylist()):
        units[(lep, cor)].add(p)
    assert all(len(p) == 1 for p in units.values())


def test_ses_categories(ses: dict[str, pa.Table]) -> None:
    assert set(ses["referrals"]["provider"].to_pylist()) == PROVIDERS
    assert set(ses["outcomes"]["outcome"].to_pylist()) == {"job_outcome",
                                                           "sustained_job_outcome"}
    assert set(ses["profiles"]["outcome"].to_pylist()) == {"job_outcome",
                                                           "sustained_job_outcome"}


# ------------------------------------------------------------------------ dates


@pytest.mark.parametrize("which", ["esf", "ses"])
def test_no_date_after_extract_and_one_on_it(request, which: str) -> None:
    tables = request.getfixturevalue(which)
    values = all_dates(tables)
    assert values.max() == EXTRACT
    assert dates(tables["referrals"], "referral_date").max() == EXTRACT
    assert dates(tables["referrals"], "referral_date").min() >= START


@pytest.mark.parametrize("generate", [generate_esf, generate_ses])
def test_no_date_after_a_custom_extract(generate) -> None:
    data = generate(4000, seed=3, start="2022-01-01", extract="2022-12-20")
    values = all_dates(data)
    assert values.max() == np.datetime64("2022-12-20")
    assert dates(data["referrals"], "referral_date").min() >= np.datetime64("2022-01-01")
    months = [str(m) for m in np.arange(np.datetime64("2022-01"), np.datetime64("2023-01"))]
    assert sorted(set(data["starts_profile"]["month"].to_pylist())) == months


@pytest.mark.parametrize("which", ["esf", "ses"])
def test_referral_dates_ramp_up_on_working_days(request, which: str) -> None:
    ref = dates(request.getfixturevalue(which)["referrals"], "referral_date")
    assert (np.diff(ref.astype(np.int64)) >= 0).all()
    assert np.is_busday(ref, busdaycal=calendar()).mean() > 0.97
    first_month = (ref < np.datetime64("2023-05-01")).sum()
    last_month = (ref >= np.datetime64("2024-09-01")).sum()
    assert first_month < 0.5 * last_month


def test_esf_event_chain(esf: dict[str, pa.Table]) -> None:
    """Start xor did-not-start; recorded exactly when decided; working-day windows."""
    r = esf["referrals"]
    ref, start, dns, rec = (dates(r, c) for c in ("referral_date", "start_date", "dns_date",
                                                   "recorded_date"))
    has_start, has_dns, has_rec = ~np.isnat(start), ~np.isnat(dns), ~np.isnat(rec)
    assert not (has_start & has_dns).any()
    assert ((has_start | has_dns) == has_rec).all()
    event = np.where(has_start, start, dns)
    ok = has_rec & (rec >= ref) & (event >= ref)  # rows without a deliberate error
    assert (rec[ok] >= event[ok]).all()
    # Provider C (Greater Manchester) starts 3-15 and decides a did-not-start 1-10 working
    # days after the referral; the other, fast, providers act on the day or within 2 (1)
    slow = texts(r, "lep_area") == "Greater Manchester"
    for rows, (lo, hi) in ((ok & has_start & slow, (3, 15)), (ok & has_start & ~slow, (0, 2)),
                           (ok & has_dns & slow, (1, 10)), (ok & has_dns & ~slow, (0, 1))):
        assert (event[rows] >= workday(ref[rows], lo)).all()
        assert (event[rows] <= workday(ref[rows], hi)).all()
    fast = ok & ~slow & (rec <= workday(ref, 20))
    assert (rec[fast] <= workday(event[fast], 1)).all()
    late = ok & (rec > workday(ref, 20))
    assert 0.02 < late.sum() / has_rec.sum() < 0.08
    assert (rec[late] <= workday(ref[late], 45)).all()
    assert 0.78 < has_start.mean() < 0.86


def test_esf_late_recording(esf: dict[str, pa.Table]) -> None:
    """Late recordings (after 20 working days) are Provider C's, and Black Country's in its
    spell of December 2023 and January 2024 only; Leeds and Cornwall record every one on time."""
    r = esf["referrals"]
    ref, rec = dates(r, "referral_date"), dates(r, "recorded_date")
    late = ~np.isnat(rec) & (rec > workday(ref, 20))
    lep = texts(r, "lep_area")
    month = ref.astype("datetime64[M]").astype(str)
    assert set(lep[late].tolist()) == {"Greater Manchester", "Black Country"}
    assert set(month[late & (lep == "Black Country")].tolist()) == {"2023-12", "2024-01"}


def test_esf_backlog_tail(esf: dict[str, pa.Table]) -> None:
    """Recent referrals are pending; a handful of old ones were never recorded."""
    r = esf["referrals"]
    ref, rec = dates(r, "referral_date"), dates(r, "recorded_date")
    missing = np.isnat(rec)
    assert missing[ref > EXTRACT - 7].mean() > 0.2
    old = missing & (workday(ref, 40) < EXTRACT)
    ids = texts(r, "referral_id")[old].tolist()
    assert ids == ["E0000271", "E0000458", "E0000502", "E0000575", "E0001048", "E0001123",
                   "E0002138", "E0002288", "E0002418", "E0002601"]
    assert set(texts(r, "lep_area")[old].tolist()) == {"Greater Manchester"}
    assert 0.01 < missing.mean() < 0.04


def test_ses_event_chain(ses: dict[str, pa.Table]) -> None:
    r = ses["referrals"]
    ref, ia, start, rec, leave = (dates(r, c) for c in SES_COLUMNS["referrals"][2:])
    has_ia, has_start, has_rec, has_leave = (~np.isnat(x) for x in (ia, start, rec, leave))
    assert (has_start == has_rec).all()
    assert not (has_start & ~has_ia).any()
    assert not (has_leave & ~has_start).any()
    assert (ia[has_ia] >= workday(ref[has_ia], 2)).all()
    ok = has_start & (rec >= ref)
    assert (start[ok] >= ia[ok]).all() and (rec[ok] >= start[ok]).all()
    assert ((rec[ok] <= workday(ref[ok], 20)).mean()) > 0.9
    assert (rec[ok] <= workday(ref[ok], 45)).all()
    assert (leave[has_leave & (leave >= start)] >= start[has_leave & (leave >= start)] + 70).all()
    assert 0.65 < has_start.mean() < 0.85


@pytest.mark.parametrize("which", ["esf", "ses"])
def test_outcomes_follow_their_starts(request, which: str) -> None:
    """Outcomes belong to started referrals, a sustained one follows its first one by 3+
    months, and each referral has at most one of each (bar the deliberate errors)."""
    tables = request.getfixturevalue(which)
    r, o = tables["referrals"], tables["outcomes"]
    index = {rid: i for i, rid in enumerate(r["referral_id"].to_pylist())}
    start = dates(r, "start_date")
    first_kind, second_kind = sorted(set(o["outcome"].to_pylist()))
    seen: dict[tuple[str, str], np.datetime64] = {}
    day = dates(o, "achieved_date")
    assert (np.diff(day.astype(np.int64)) >= 0).all()  # sorted by date
    for rid, kind, achieved in zip(o["referral_id"].to_pylist(), o["outcome"].to_pylist(), day):
        if rid not in index:
            continue
        assert not np.isnat(start[index[rid]]), rid
        assert (rid, kind) not in seen
        seen[(rid, kind)] = achieved
    for (rid, kind), achieved in seen.items():
        if kind == second_kind:
            assert (rid, first_kind) in seen, rid
            assert achieved >= seen[(rid, first_kind)] + 59, rid


# ------------------------------------------------------------------------ profiles


def csv_decimals(path: Path, column: str) -> list[Decimal]:
    """A CSV column read as text and parsed as exact decimals."""
    table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(
        column_types={column: pa.string()}))
    return [Decimal(v) for v in table[column].to_pylist()]


def test_esf_outcome_profile_shares_sum_to_one(esf: dict[str, pa.Table],
                                               tmp_path: Path) -> None:
    p = esf["outcome_profiles"]
    sums: dict[tuple, Fraction] = defaultdict(Fraction)
    months: dict[tuple, list[int]] = defaultdict(list)
    rates: dict[tuple, set] = defaultdict(set)
    for row in p.to_pylist():
        key = (row["lep_area"], row["category_of_region"], row["outcome"])
        sums[key] += Fraction(row["share"])
        months[key].append(row["month"])
        rates[key].add(row["rate"])
        assert row["share"] == row["share"].quantize(Decimal("0.0001"))
    assert len(sums) == 2 * (4 + 6)
    assert all(total == 1 for total in sums.values()), sums
    assert all(m == list(range(12)) for m in months.values())
    assert all(len(r) == 1 for r in rates.values())
    for (lep, cor, outcome), (rate,) in rates.items():
        low, high = {"short_job": ("0.30", "0.40"), "sustained_job": ("0.15", "0.22")}[outcome]
        assert Decimal(low) <= rate <= Decimal(high)
    # the written CSV keeps the exact values
    (path,) = [q for q in write_tables(esf, tmp_path) if q.stem == "outcome_profiles"]
    shares, table = csv_decimals(path, "share"), pa_csv.read_csv(path)
    text_sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for share, lep, cor, outcome in zip(shares, table["lep_area"].to_pylist(),
                                        table["category_of_region"].to_pylist(),
                                        table["outcome"].to_pylist()):
        text_sums[(lep, cor, outcome)] += share
    assert set(text_sums.values()) == {Decimal(1)}


def test_esf_all_profile_lies_between_its_cors(esf: dict[str, pa.Table]) -> None:
    rates = {(r["lep_area"], r["category_of_region"], r["outcome"]): r["rate"]
             for r in esf["outcome_profiles"].to_pylist()}
    for lep, cors in ESF_CORS.items():
        for outcome in ("short_job", "sustained_job"):
            parts = [rates[(lep, c, outcome)] for c in cors]
            assert min(parts) <= rates[(lep, "ALL", outcome)] <= max(parts)


def test_ses_profile_shares_sum_to_one(ses: dict[str, pa.Table]) -> None:
    sums: dict[str, Fraction] = defaultdict(Fraction)
    months: dict[str, list[int]] = defaultdict(list)
    for row in ses["profiles"].to_pylist():
        sums[row["outcome"]] += Fraction(row["share"])
        months[row["outcome"]].append(row["month"])
    assert sums == {"job_outcome": 1, "sustained_job_outcome": 1}
    assert all(m == list(range(18)) for m in months.values())


def test_esf_starts_profile_cors_sum_to_all(esf: dict[str, pa.Table]) -> None:
    profile: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in esf["starts_profile"].to_pylist():
        profile[(row["lep_area"], row["category_of_region"])][row["month"]] = (
            row["profiled_starts"])
    assert all(sorted(m) == MONTHS for m in profile.values())
    for lep, cors in ESF_CORS.items():
        for month in MONTHS:
            assert profile[(lep, "ALL")][month] == sum(profile[(lep, c)][month] for c in cors)
    assert all(v >= 0 for m in profile.values() for v in m.values())


def test_ses_starts_profile(ses: dict[str, pa.Table]) -> None:
    p = ses["starts_profile"]
    assert p["month"].to_pylist() == MONTHS
    starts = p["profiled_starts"].to_pylist()
    assert starts[0] < starts[-1] and min(starts) > 0


# ------------------------------------------------------------------------ performance story


def cumulative_by_month(values: np.ndarray, mask: np.ndarray) -> list[int]:
    """Cumulative count of ``mask`` rows whose date falls in each month of MONTHS or before."""
    month = values.astype("datetime64[M]")
    return [int((mask & (month <= np.datetime64(m))).sum()) for m in MONTHS]


def test_esf_weak_performer(esf: dict[str, pa.Table]) -> None:
    """Greater Manchester Transition (Provider C) starts under 80% of its referrals and falls
    below 85% of its cumulative starts profile; the other units do not."""
    r = esf["referrals"]
    lep, cor = texts(r, "lep_area"), texts(r, "category_of_region")
    start = dates(r, "start_date")
    profile: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in esf["starts_profile"].to_pylist():
        profile[(row["lep_area"], row["category_of_region"])].append(row["profiled_starts"])
    below: dict[tuple[str, str], int] = {}
    for key in list(profile):
        unit = (lep == key[0]) & ((cor == key[1]) | (key[1] == "ALL"))
        rate = Fraction(int((unit & ~np.isnat(start)).sum()), int(unit.sum()))
        actual = cumulative_by_month(start, unit & ~np.isnat(start))
        expected = np.cumsum(profile[key]).tolist()
        below[key] = sum(Fraction(a) < Fraction(85, 100) * e for a, e in zip(actual, expected))
        if key == WEAK_UNIT or key == ("Greater Manchester", "ALL"):
            assert rate < Fraction(80, 100), key
            assert actual[-1] < expected[-1], key
        else:
            assert rate >= Fraction(80, 100), key
            assert actual[-1] >= expected[-1], key
    assert below[WEAK_UNIT] >= 6
    assert below[("Greater Manchester", "ALL")] == 1  # its first month, 2023-04
    assert sum(v for k, v in below.items() if k != WEAK_UNIT) <= 1


def test_ses_weak_provider(ses: dict[str, pa.Table]) -> None:
    r = ses["referrals"]
    provider = texts(r, "provider")
    ref, start = dates(r, "referral_date"), dates(r, "start_date")
    rec = dates(r, "start_recorded_date")
    late = ~np.isnat(rec) & (rec > workday(ref, 20))
    start_rate = {p: (~np.isnat(start[provider == p])).mean() for p in PROVIDERS}
    late_rate = {p: late[provider == p].sum() / (~np.isnat(rec[provider == p])).sum()
                 for p in PROVIDERS}
    assert min(start_rate, key=start_rate.get) == "Provider B"
    assert max(late_rate, key=late_rate.get) == "Provider B"
    # overall, starts stay at or above the profile from the third month on
    expected = np.cumsum(ses["starts_profile"]["profiled_starts"].to_pylist())
    actual = cumulative_by_month(start, ~np.isnat(start))
    assert all(a >= e for a, e in zip(actual[2:], expected[2:]))


# ------------------------------------------------------------------------ deliberate errors


def test_esf_deliberate_errors(esf: dict[str, pa.Table]) -> None:
    r, o = esf["referrals"], esf["outcomes"]
    ids = texts(r, "referral_id")
    ref, start, dns, rec = (dates(r, c) for c in ("referral_date", "start_date", "dns_date",
                                                   "recorded_date"))
    assert ids[rec < ref].tolist() == ["E0001816", "E0002645", "E0002775"]
    assert ids[start < ref].tolist() == ["E0001824", "E0002125", "E0002264"]
    assert not (dns < ref).any()
    known = set(ids.tolist())
    unknown = [i for i in o["referral_id"].to_pylist() if i not in known]
    assert unknown == ["E0003018", "E0003024", "E0003025"]
    assert before_start(r, o) == ["E0000897"]


def test_ses_deliberate_errors(ses: dict[str, pa.Table]) -> None:
    r, o = ses["referrals"], ses["outcomes"]
    ids = texts(r, "referral_id")
    ref, ia, start, rec, leave = (dates(r, c) for c in SES_COLUMNS["referrals"][2:])
    assert ids[rec < ref].tolist() == ["S0000312", "S0000595", "S0000699"]
    assert ids[leave < start].tolist() == ["S0000442", "S0000688", "S0000797"]
    assert not (ia < ref).any() and not (start < ref).any()
    known = set(ids.tolist())
    unknown = [i for i in o["referral_id"].to_pylist() if i not in known]
    assert unknown == ["S0001506", "S0001515", "S0001520"]
    assert before_start(r, o) == ["S0000389"]


def before_start(referrals: pa.Table, outcomes: pa.Table) -> list[str]:
    """Ids of outcomes achieved before their referral's start date."""
    index = {rid: i for i, rid in enumerate(referrals["referral_id"].to_pylist())}
    start = dates(referrals, "start_date")
    return [rid for rid, day in zip(outcomes["referral_id"].to_pylist(),
                                    dates(outcomes, "achieved_date"))
            if rid in index and day < start[index[rid]]]


def test_error_counts_scale_with_rows() -> None:
    data = generate_esf(40_000, seed=5)
    r, o = data["referrals"], data["outcomes"]
    ref = dates(r, "referral_date")
    assert int((dates(r, "recorded_date") < ref).sum()) == 20  # 0.05% of 40,000
    assert int((dates(r, "start_date") < ref).sum()) == 20
    known = set(r["referral_id"].to_pylist())
    assert sum(i not in known for i in o["referral_id"].to_pylist()) == 20
    assert len(before_start(r, o)) == 10
