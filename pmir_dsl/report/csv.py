"""The results table as CSV (``pmirc check --format csv``), and the flat rows the workbook
shares with it.

One row per result of output.md (measure x group x period x basis) with one column per group
key of the whole contract, so a spreadsheet can filter on ``provider`` or ``lep_area`` directly.
Cells that Excel would run as a formula are escaped exactly as ``pmirc audit`` does.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ..cli import escape_cell

#: The fixed columns after the group keys; the optional ones appear only when a result has them.
FIXED = ("period", "basis", "numerator", "denominator", "pending", "excluded", "value",
         "target", "met", "band")
OPTIONAL = ("expected", "variance", "against_target", "rank", "oldest_age_working_days")


def group_keys(results: list[dict[str, Any]]) -> list[str]:
    """Every group key in the results, in the order they first appear."""
    keys: dict[str, None] = {}
    for r in results:
        keys.update(dict.fromkeys(r["group"]))
    return list(keys)


def results_table(results: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows): measure, one column per group key (empty for the contract as a whole),
    the fixed columns, then the optional ones any result carries; values as in the JSON."""
    keys = group_keys(results)
    extra = [k for k in OPTIONAL if any(k in r for r in results)]
    buckets = list(dict.fromkeys(b for r in results for b in r.get("buckets", {})))
    header = ["measure", *keys, *FIXED, *extra, *(f"bucket_{b}" for b in buckets)]
    rows = [[r["measure"], *(r["group"].get(k) for k in keys), *(r.get(c) for c in FIXED),
             *(r.get(c) for c in extra), *(r.get("buckets", {}).get(b) for b in buckets)]
            for r in results]
    return header, rows


def cell(value: Any) -> str:
    """A CSV cell: ``true``/``false`` for verdicts, empty for null, repr for floats (exact,
    as in the JSON), Excel formula characters escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):  # a negative number is a number, not a formula
        return str(value)
    return escape_cell(value)


def render(results: list[dict[str, Any]]) -> str:
    """The whole CSV text, ``\\n`` line ends."""
    header, rows = results_table(results)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([escape_cell(h) for h in header])
    w.writerows([[cell(v) for v in row] for row in rows])
    return buf.getvalue()
