"""AtW HA KPI 1-5 computed without pmirc, by DuckDB SQL and by pandas, to cross-check and time.

Both baselines read the same data folder as ``pmirc check`` (``referrals.parquet``, or a folder
``referrals/`` of Parquet files, and ``returns`` for the as-of date) and produce, for every KPI,
group (the whole contract and each provider), month and basis (in month, rolling 3, rolling 12,
cumulative), the four figures pmirc reports: numerator (met), denominator (met + failed), pending
and excluded. :func:`pmirc_figures` picks the same figures out of pmirc's JSON report, and
:func:`differences` compares two sets of figures, so a benchmark can only time baselines that
give the same answer.

The rules are those of ``contracts/atw_ha.pmir`` and semantics.md, written again by hand:

* a record counts in the month of its anchor date (the referral date; KPI 4 the report date,
  KPI 5 the rework notification date) from the service start month (2024-04) to the as-of month;
  the as-of date is the latest date in the data (every date column of referrals and returns);
* "E within N working days of D" is ``E <= WORKDAY(D, N)``. With a calendar table holding, for
  every day, whether it is a working day and ``cum``, the working days up to and including it,
  ``WORKDAY(D, N)`` is the working day whose ``cum`` is ``cum(D) + N``, so ``E <= WORKDAY(D, N)``
  exactly when the working days strictly before E number fewer than ``cum(D) + N``: one join per
  date column, no per-record date arithmetic;
* an event before its anchor excludes the record (as does an anchor after the as-of date, missing,
  or before the service start); a record without its event is pending while its deadline is after
  the as-of date (fewer than ``cum(D) + N`` working days up to and including the as-of date),
  else failed;
* KPI 4 counts reports whose acceptability is recorded, met when acceptable; KPI 5 counts
  referrals with a rework notification.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

SERVICE_START = dt.date(2024, 4, 1)
BASES = ("in_month", "rolling_3", "rolling_12", "cumulative")
WINDOWS = {"in_month": 1, "rolling_3": 3, "rolling_12": 12, "cumulative": 10**6}
#: KPI -> (population column that must be present or None, anchor, event, working days by
#: assessment type or one number, met column for KPI 4).
KPIS: dict[str, dict[str, Any]] = {
    "KPI1": {"anchor": "referral_date", "event": "acknowledged_date", "days": 1},
    "KPI2": {"anchor": "referral_date", "event": "appointment_date", "days": 2},
    "KPI3": {"anchor": "referral_date", "event": "report_date",
             "days": {"virtual": 8, "face_to_face": 10, "enhanced": 12}},
    "KPI4": {"anchor": "report_date", "population": "report_acceptable",
             "met": "report_acceptable"},
    "KPI5": {"anchor": "rework_notified_date", "event": "rework_completed_date", "days": 1,
             "population": "rework_notified_date"},
}
DATE_COLUMNS = ("referral_date", "acknowledged_date", "appointment_date", "report_date",
                "rework_notified_date", "rework_completed_date")

#: (measure, provider or None for the whole contract, YYYY-MM, basis) -> (num, den, pending, excl)
Figures = dict[tuple[str, str | None, str, str], tuple[int, int, int, int]]


def parquet_files(folder: Path, table: str) -> list[str]:
    """The Parquet file(s) of one table in a data folder, as pmirc finds them."""
    single = folder / f"{table}.parquet"
    if single.is_file():
        return [str(single)]
    return [str(p) for p in sorted((folder / table).glob("*.parquet"))]


def bank_holidays(first_year: int, last_year: int) -> list[dt.date]:
    """England and Wales bank holidays (the contract's calendar), as the ``holidays`` package
    lists them: the calendar table's input, not a computation of the KPIs."""
    import holidays

    found = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return sorted(found)


def _month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _months(first: dt.date, last: dt.date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(_month_label(y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def spread_bases(monthly: dict[tuple[str, str | None], dict[str, list[int]]],
                 months: list[str]) -> Figures:
    """Every basis of every (measure, group) from its in-month counts over the month axis."""
    out: Figures = {}
    for (measure, group), by_month in monthly.items():
        series = [by_month.get(m, [0, 0, 0, 0]) for m in months]
        for basis in BASES:
            width = WINDOWS[basis]
            for i, label in enumerate(months):
                window = series[max(0, i - width + 1):i + 1]
                met, failed, pending, excluded = (sum(x[k] for x in window) for k in range(4))
                out[(measure, group, label, basis)] = (met, met + failed, pending, excluded)
    return out


# ---- DuckDB -------------------------------------------------------------------------------------


def _kpi_sql(name: str, kpi: dict[str, Any]) -> str:
    """One KPI's per-record status (M met, F failed, P pending, X excluded) and month, in SQL."""
    a = kpi["anchor"]
    checks = [f"r.{a} IS NULL", f"r.{a} < DATE '{SERVICE_START}'", f"r.{a} > p.as_of"]
    if "event" in kpi:
        e = kpi["event"]
        days = kpi["days"]
        n = (f"CASE r.assessment_type " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in
                                                    days.items()) + " END"
             if isinstance(days, dict) else str(days))
        limit = f"(ca.cum + {n})"
        decide = (f"WHEN r.{e} < r.{a} THEN 'X' "
                  f"WHEN r.{e} IS NOT NULL AND ce.cum - ce.working < {limit} THEN 'M' "
                  f"WHEN r.{e} IS NULL AND p.cum_as_of < {limit} THEN 'P' ELSE 'F'")
        joins = (f"LEFT JOIN cal ca ON ca.day = r.{a} LEFT JOIN cal ce ON ce.day = r.{e}")
    else:
        decide = f"WHEN r.{kpi['met']} THEN 'M' ELSE 'F'"
        joins = ""
    where = f"WHERE r.{kpi['population']} IS NOT NULL" if "population" in kpi else ""
    return (f"SELECT '{name}' AS measure, r.provider, strftime(r.{a}, '%Y-%m') AS month, "
            f"CASE WHEN {' OR '.join(checks)} THEN 'X' {decide} END AS status "
            f"FROM referrals r CROSS JOIN params p {joins} {where}")


def duckdb_figures(folder: Path, threads: int | None = None) -> tuple[Figures, str]:
    """KPI 1-5 figures by DuckDB SQL over the folder's Parquet, and the as-of date used."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    refs, rets = parquet_files(folder, "referrals"), parquet_files(folder, "returns")
    con.execute(f"CREATE VIEW referrals AS SELECT * FROM read_parquet({refs!r})")
    latest = ", ".join(f"max({c})" for c in DATE_COLUMNS)
    as_of = con.execute(f"SELECT greatest({latest}, (SELECT max(submitted_date) FROM "
                        f"read_parquet({rets!r}))) FROM referrals").fetchone()[0]
    first = con.execute(f"SELECT least({', '.join(f'min({c})' for c in DATE_COLUMNS)}) "
                        f"FROM referrals").fetchone()[0]
    y0, y1 = min(first.year, SERVICE_START.year), as_of.year + 1
    con.execute("CREATE TEMP TABLE hol (day DATE)")
    con.executemany("INSERT INTO hol VALUES (?)", [[d] for d in bank_holidays(y0, y1)])
    con.execute(f"""
        CREATE TEMP TABLE cal AS
        SELECT day, working, sum(working) OVER (ORDER BY day) AS cum FROM (
            SELECT CAST(range AS DATE) AS day,
                   CAST(isodow(range) <= 5 AND CAST(range AS DATE) NOT IN (SELECT day FROM hol)
                        AS INTEGER) AS working
            FROM range(DATE '{y0}-01-01', DATE '{y1 + 1}-01-01', INTERVAL 1 DAY))""")
    con.execute(f"""CREATE TEMP TABLE params AS SELECT DATE '{as_of}' AS as_of,
                    (SELECT cum FROM cal WHERE day = DATE '{as_of}') AS cum_as_of""")
    statuses = " UNION ALL ".join(_kpi_sql(k, v) for k, v in KPIS.items())
    start = SERVICE_START.strftime("%Y-%m")
    rows = con.execute(f"""
        SELECT measure, provider, month,
               count(*) FILTER (status = 'M'), count(*) FILTER (status = 'F'),
               count(*) FILTER (status = 'P'), count(*) FILTER (status = 'X')
        FROM ({statuses}) s
        WHERE month >= '{start}' AND month <= '{as_of:%Y-%m}'
        GROUP BY GROUPING SETS ((measure, provider, month), (measure, month))""").fetchall()
    monthly: dict[tuple[str, str | None], dict[str, list[int]]] = {}
    for measure, provider, month, *counts in rows:
        monthly.setdefault((measure, provider), {})[month] = [int(c) for c in counts]
    return spread_bases(monthly, _months(SERVICE_START, as_of)), str(as_of)


# ---- pandas -------------------------------------------------------------------------------------


def pandas_figures(folder: Path) -> tuple[Figures, str]:
    """KPI 1-5 figures by pandas over the folder's Parquet, and the as-of date used."""
    import numpy as np
    import pandas as pd

    refs = pd.concat([pd.read_parquet(f) for f in parquet_files(folder, "referrals")],
                     ignore_index=True)
    rets = pd.concat([pd.read_parquet(f) for f in parquet_files(folder, "returns")])
    for c in (*DATE_COLUMNS,):
        refs[c] = pd.to_datetime(refs[c])
    as_of = max(refs[c].max() for c in DATE_COLUMNS)
    as_of = max(as_of, pd.to_datetime(rets["submitted_date"]).max())
    first = min(refs[c].min() for c in DATE_COLUMNS)
    y0, y1 = min(first.year, SERVICE_START.year), as_of.year + 1
    days = pd.date_range(f"{y0}-01-01", f"{y1}-12-31", freq="D")
    hols = pd.to_datetime(pd.Series(bank_holidays(y0, y1)))
    working = pd.Series(((days.day_of_week < 5) & ~days.isin(hols)).astype(np.int64), index=days)
    cum = working.cumsum()
    before = cum - working
    cum_as_of = int(cum[as_of])
    start = pd.Timestamp(SERVICE_START)
    monthly: dict[tuple[str, str | None], dict[str, list[int]]] = {}
    codes = np.array(["M", "F", "P", "X"])
    for name, kpi in KPIS.items():
        df = refs if "population" not in kpi else refs[refs[kpi["population"]].notna()]
        anchor = df[kpi["anchor"]]
        excluded = anchor.isna() | (anchor < start) | (anchor > as_of)
        if "event" in kpi:
            event = df[kpi["event"]]
            days_n = kpi["days"]
            n = df["assessment_type"].map(days_n) if isinstance(days_n, dict) else days_n
            limit = anchor.map(cum) + n
            met = event.notna() & (event.map(before) < limit)
            pending = event.isna() & (cum_as_of < limit)
            excluded = excluded | (event < anchor)
        else:
            met = df[kpi["met"]].astype(bool)
            pending = pd.Series(False, index=df.index)
        status = np.where(excluded, 3, np.where(met, 0, np.where(pending, 2, 1)))
        frame = pd.DataFrame({"provider": df["provider"], "month": anchor.dt.strftime("%Y-%m"),
                              "status": codes[status]})
        frame = frame[(frame.month >= f"{start:%Y-%m}") & (frame.month <= f"{as_of:%Y-%m}")]
        for keys, group in ((["provider", "month"], True), (["month"], False)):
            table = frame.groupby([*keys, "status"]).size().unstack(fill_value=0)
            for index, row in table.iterrows():
                provider, month = index if group else (None, index)
                monthly.setdefault((name, provider), {})[month] = [
                    int(row.get(c, 0)) for c in codes]
    return spread_bases(monthly, _months(SERVICE_START, as_of.date())), str(as_of.date())


# ---- pmirc and comparing ------------------------------------------------------------------------


def pmirc_figures(report: dict[str, Any]) -> Figures:
    """The same figures from pmirc's JSON report."""
    out: Figures = {}
    for r in report["results"]:
        if r["measure"] in KPIS:
            key = (r["measure"], r["group"].get("provider"), r["period"], r["basis"])
            out[key] = (r["numerator"], r["denominator"], r["pending"], r["excluded"])
    return out


def differences(a: Figures, b: Figures, limit: int = 5) -> list[str]:
    """Up to ``limit`` lines naming keys whose figures differ (or are missing on one side)."""
    lines = []
    for key in sorted(set(a) | set(b), key=lambda k: tuple("" if x is None else x for x in k)):
        if a.get(key) != b.get(key):
            lines.append(f"{key}: {a.get(key)} != {b.get(key)}")
            if len(lines) >= limit:
                break
    return lines
