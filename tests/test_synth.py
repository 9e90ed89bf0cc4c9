"""Tests of the synthetic data generator (pmir_dsl.synth) and the bundled AtW HA example."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import all_dates, dates, england_and_wales

from pmir_dsl.synth import GENERATORS, _csv_ready, _ids, generate_atw_ha, write_tables

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "atw_ha"
EXTRACT = np.datetime64("2025-06-30")
START = np.datetime64("2024-04-01")
PROVIDERS = {"North", "Central", "South", "Wales and West"}

COLUMNS = {
    "referrals": [
        "referral_id", "provider", "referral_date", "acknowledged_date", "appointment_date",
        "assessment_type", "report_date", "report_acceptable", "rework_notified_date",
        "rework_completed_date", "original_assessment_type", "recommended_solution",
    ],
    "workforce": ["provider", "quarter", "disabled_fte", "total_fte"],
    "returns": ["provider", "return", "period", "submitted_date"],
    "cancellations": ["referral_id", "cancelled_by", "reason", "cancelled_date", "rebooked_date",
                      "contact_attempts", "appointments_offered"],
    "complaints": ["complaint_id", "provider", "received_date", "resolved_date",
                   "referred_to_dwp"],
    "satisfaction": ["provider", "customer_group", "response_date", "answer"],
}
FILES = ["referrals", "workforce", "returns", "cancellations", "complaints", "satisfaction"]


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    """The example data set: 2000 referrals, seed 1."""
    return generate_atw_ha(2000, seed=1)


def calendar() -> np.busdaycalendar:
    """England and Wales working days, built independently of the generator."""
    return england_and_wales(2023, 2026)


# ------------------------------------------------------------------------ determinism


def test_registry() -> None:
    assert GENERATORS["atw_ha"] is generate_atw_ha


def test_same_arguments_give_identical_tables(tables: dict[str, pa.Table]) -> None:
    again = generate_atw_ha(2000, seed=1)
    assert list(again) == list(tables)
    for name, table in tables.items():
        assert again[name].equals(table), name


def test_written_csv_is_byte_identical(tmp_path: Path) -> None:
    first = write_tables(generate_atw_ha(500, seed=7), tmp_path / "a")
    second = write_tables(generate_atw_ha(500, seed=7), tmp_path / "b")
    assert [p.name for p in first] == [f"{name}.csv" for name in FILES]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_seed_changes_the_data() -> None:
    a, b = generate_atw_ha(500, seed=1), generate_atw_ha(500, seed=2)
    assert not a["referrals"].equals(b["referrals"])


def test_example_matches_a_fresh_generation(tmp_path: Path) -> None:
    """The committed example can never drift from the generator."""
    fresh = write_tables(generate_atw_ha(2000, seed=1), tmp_path)
    committed = sorted(p.name for p in EXAMPLE.glob("*.csv"))
    assert committed == sorted(p.name for p in fresh)
    for path in fresh:
        assert (EXAMPLE / path.name).read_bytes() == path.read_bytes(), path.name


# ------------------------------------------------------------------------ shape


def test_row_counts(tables: dict[str, pa.Table]) -> None:
    assert tables["referrals"].num_rows == 2000
    assert tables["workforce"].num_rows == 4 * 5  # 2024-Q2 .. 2025-Q2
    assert tables["returns"].num_rows == 4 * (15 + 5)  # 15 months, 5 quarters ended by extract


def test_column_names(tables: dict[str, pa.Table]) -> None:
    assert {name: t.column_names for name, t in tables.items()} == COLUMNS


def test_column_types(tables: dict[str, pa.Table]) -> None:
    r = tables["referrals"]
    for column in COLUMNS["referrals"]:
        if column.endswith("_date"):
            assert r.schema.field(column).type == pa.date32(), column
    assert r.schema.field("report_acceptable").type == pa.bool_()
    w = tables["workforce"]
    assert pa.types.is_decimal(w.schema.field("total_fte").type)
    assert w.schema.field("disabled_fte").type.scale == 2


def test_required_columns_have_no_nulls(tables: dict[str, pa.Table]) -> None:
    r = tables["referrals"]
    for column in ("referral_id", "provider", "referral_date", "assessment_type"):
        assert r[column].null_count == 0, column
    for name in ("workforce", "returns"):
        t = tables[name]
        assert all(t[c].null_count == 0 for c in t.column_names if c != "submitted_date"), name


def test_referral_ids_unique_sorted_and_padded(tables: dict[str, pa.Table]) -> None:
    ids = tables["referrals"]["referral_id"].to_pylist()
    assert ids[0] == "R0000001" and ids[-1] == "R0002000"
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(re.fullmatch(r"R\d{7}", i) for i in ids)


def test_ids_widen_to_fit_rows() -> None:
    assert _ids("R", 12, 7).to_pylist()[-1] == "R0000012"
    assert _ids("R", 123, 9).to_pylist()[:2] == ["R000000001", "R000000002"]


def test_tiny_and_invalid_sizes() -> None:
    one = generate_atw_ha(1)["referrals"]
    assert one.num_rows == 1 and one["referral_date"][0].as_py().isoformat() == "2025-06-30"
    with pytest.raises(ValueError):
        generate_atw_ha(0)


def test_categories(tables: dict[str, pa.Table]) -> None:
    r = tables["referrals"]
    assert set(r["assessment_type"].to_pylist()) == {"virtual", "face_to_face", "enhanced"}
    for name in ("referrals", "workforce", "returns"):
        assert set(tables[name]["provider"].to_pylist()) == PROVIDERS
    assert set(tables["returns"]["return"].to_pylist()) == {"kpi6", "customer_insight"}
    shares = {p: r["provider"].to_pylist().count(p) / r.num_rows for p in PROVIDERS}
    assert len({round(s, 2) for s in shares.values()}) == 4  # unequal shares


def test_periods(tables: dict[str, pa.Table]) -> None:
    q = tables["workforce"]["quarter"].to_pylist()
    assert sorted(set(q)) == ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
    ret = tables["returns"].to_pylist()
    for row in ret:
        pattern = r"\d{4}-Q[1-4]" if row["return"] == "kpi6" else r"\d{4}-(0[1-9]|1[0-2])"
        assert re.fullmatch(pattern, row["period"]), row
    months = sorted({r["period"] for r in ret if r["return"] == "customer_insight"})
    assert months[0] == "2024-04" and months[-1] == "2025-06" and len(months) == 15


# ------------------------------------------------------------------------ dates


def test_no_date_after_extract_and_one_on_it(tables: dict[str, pa.Table]) -> None:
    values = all_dates(tables)
    assert values.max() == EXTRACT
    assert (values == EXTRACT).any()
    assert dates(tables["referrals"], "referral_date").max() == EXTRACT


def test_no_date_after_a_custom_extract() -> None:
    data = generate_atw_ha(3000, seed=3, start="2023-01-01", extract="2023-12-20")
    values = all_dates(data)
    assert values.max() == np.datetime64("2023-12-20")
    ref = dates(data["referrals"], "referral_date")
    assert ref.min() >= np.datetime64("2023-01-01")


def test_referral_dates_sorted_with_some_off_days(tables: dict[str, pa.Table]) -> None:
    ref = dates(tables["referrals"], "referral_date")
    assert (np.diff(ref.astype(np.int64)) >= 0).all()
    assert ref.min() >= START
    weekday = (ref.astype(np.int64) + 3) % 7
    weekend = weekday >= 5
    bank_holiday = ~np.is_busday(ref, busdaycal=calendar()) & ~weekend
    assert 0.01 < weekend.mean() < 0.05
    assert bank_holiday.sum() >= 3


def test_censoring_chain(tables: dict[str, pa.Table]) -> None:
    """A missing event implies every later event of the chain is missing too."""
    r = tables["referrals"]
    chain = ["acknowledged_date", "appointment_date", "report_date", "report_acceptable",
             "rework_notified_date", "rework_completed_date"]
    valid = {c: r[c].is_valid().to_numpy(zero_copy_only=False) for c in chain}
    for earlier, later in zip(chain, chain[1:]):
        assert not (valid[later] & ~valid[earlier]).any(), (earlier, later)
    # the most recent referrals are pending
    for c in ("acknowledged_date", "report_date"):
        assert r[c].null_count > 0, c


def test_rework_only_for_unacceptable_reports(tables: dict[str, pa.Table]) -> None:
    r = tables["referrals"]
    acceptable = r["report_acceptable"].to_pylist()
    notified = r["rework_notified_date"].is_valid().to_pylist()
    assert notified == [a is False for a in acceptable]
    assert acceptable.count(False) >= 3
    assert acceptable.count(True) > 0.9 * r.num_rows


def test_deliberate_data_errors(tables: dict[str, pa.Table]) -> None:
    r = tables["referrals"]
    ref = dates(r, "referral_date")
    pairs = [
        (ref, dates(r, "acknowledged_date")),
        (ref, dates(r, "report_date")),
        (dates(r, "rework_notified_date"), dates(r, "rework_completed_date")),
    ]
    counts = [int((event < anchor).sum()) for anchor, event in pairs]  # NaT compares False
    assert all(c >= 3 for c in counts), counts
    # no other kind of "event before anchor" sneaks in
    assert not (dates(r, "appointment_date") < ref).any()
    assert not (dates(r, "rework_notified_date") < dates(r, "report_date")).any()


def test_error_share_scales_with_rows() -> None:
    r = generate_atw_ha(40_000, seed=5)["referrals"]
    ref = dates(r, "referral_date")
    assert int((dates(r, "acknowledged_date") < ref).sum()) == 20  # 0.05% of 40,000


def test_kpi_windows_mostly_met(tables: dict[str, pa.Table]) -> None:
    """Late events exist but are rare: whole-contract rates near the targets."""
    r = tables["referrals"]
    cal = calendar()
    ref = dates(r, "referral_date")
    ack = dates(r, "acknowledged_date")
    deadline = np.busday_offset(ref, 1, roll="backward", busdaycal=cal)
    has = ~np.isnat(ack) & (ack >= ref)
    on_time = (ack[has] <= deadline[has]).mean()
    assert 0.97 < on_time < 1.0


# ------------------------------------------------------------------------ workforce, returns


def test_workforce_shares(tables: dict[str, pa.Table]) -> None:
    w = tables["workforce"]
    disabled = np.array(w["disabled_fte"].cast(pa.float64()))
    total = np.array(w["total_fte"].cast(pa.float64()))
    share = disabled / total
    assert ((share > 0.015) & (share < 0.05)).all()
    assert (share >= 0.03).any() and (share < 0.03).any()


def test_returns_due_dates(tables: dict[str, pa.Table]) -> None:
    """Not-yet-due returns are missing; exactly one due return is overdue and missing."""
    cal = calendar()
    rows = tables["returns"].to_pylist()
    overdue_missing = 0
    for row in rows:
        period = row["period"]
        if row["return"] == "kpi6":
            year, q = int(period[:4]), int(period[-1])
            end_month = np.datetime64(f"{year}-{3 * q:02d}", "M")
        else:
            end_month = np.datetime64(period, "M")
        due = np.busday_offset(
            (end_month + 1).astype("datetime64[D]") + 14, 0, roll="forward", busdaycal=cal
        )
        submitted = row["submitted_date"]
        if submitted is None:
            overdue_missing += due <= EXTRACT
        else:
            assert np.datetime64(submitted) > (end_month + 1).astype("datetime64[D]") - 1
        if due > EXTRACT:
            assert submitted is None, row
    assert overdue_missing == 1


# ------------------------------------------------------------------------ writing


def test_csv_format(tmp_path: Path) -> None:
    paths = write_tables(generate_atw_ha(2000, seed=1), tmp_path)
    referrals, workforce, returns = (p.read_text(encoding="utf-8") for p in paths[:3])
    lines = referrals.splitlines()
    assert lines[0] == ",".join(COLUMNS["referrals"])
    assert '"' not in referrals + workforce + returns
    values = {cell for line in lines[1:] for cell in line.split(",")[7:8]}
    assert values == {"true", "false", ""}
    date = re.compile(r"\d{4}-\d{2}-\d{2}")
    for line in lines[1:]:
        cells = line.split(",")
        assert len(cells) == 12
        assert all(date.fullmatch(cells[i]) or cells[i] == "" for i in (3, 4, 6, 8, 9))
    assert ",Wales and West," in referrals
    for line in workforce.splitlines()[1:]:
        for cell in line.split(",")[2:]:
            assert re.fullmatch(r"\d+(\.\d?[1-9])?", cell), cell
    assert workforce.splitlines()[0] == "provider,quarter,disabled_fte,total_fte"
    assert returns.splitlines()[0] == "provider,return,period,submitted_date"
    assert referrals.endswith("\n") and "\r" not in referrals


def test_parquet_round_trip(tmp_path: Path, tables: dict[str, pa.Table]) -> None:
    paths = write_tables(tables, tmp_path, fmt="parquet")
    assert [p.name for p in paths] == [f"{name}.parquet" for name in FILES]
    for path in paths:
        assert pq.read_table(path).equals(tables[path.stem]), path.name


def test_unknown_format(tmp_path: Path, tables: dict[str, pa.Table]) -> None:
    with pytest.raises(ValueError):
        write_tables(tables, tmp_path, fmt="xlsx")


def test_values_needing_quotes_fall_back_to_quoting(tmp_path: Path) -> None:
    table = pa.table({"a": ["x,y", "plain"], "b": pa.array([1.5, None])})
    (path,) = write_tables({"t": table}, tmp_path)
    assert path.read_text() == 'a,b\n"x,y",1.5\n"plain",\n'


def test_decimals_written_shortest() -> None:
    column = pa.array([Decimal("12.50"), Decimal("431.25"), Decimal("100.00"), None],
                      type=pa.decimal128(9, 2))
    out = _csv_ready(pa.table({"d": column}))["d"]
    assert out.to_pylist() == ["12.5", "431.25", "100", None]
