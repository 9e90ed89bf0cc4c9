"""Snapshot regressions of a contract's figures: ``pmirc test --snapshot DATA_DIR CONTRACT``.

The figures a contract gives on a reference data set are stored in an amber file (the format of
syrupy, the snapshot plugin the project's own tests use: ``# name:`` markers, two-space indented
data, ``# ---`` dividers), one file per contract, one snapshot per measure (and per regime), one
figure per line, in the results' sorted order, so a change to the contract shows in a plain diff
as the lines that moved. A later run compares and prints the figures that moved, old -> new,
grouped by measure; ``--update`` accepts them.

A figure's line holds what the contract decides from the data (counts, value, met, band, the
profiled figure), not the target itself: changing a target moves exactly the figures whose
verdict changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

#: The amber file's first line (syrupy's serializer version 1).
HEADER = "# serializer version: 1"
_QUOTES = "'''"


def figure_key(row: dict[str, Any]) -> str:
    """A result's identity within its measure: group, period and basis."""
    group = " ".join(f"{k}={v}" for k, v in row["group"].items()) or "(contract)"
    return f"{group} {row['period']} {row['basis']}"


def _num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def figure_text(row: dict[str, Any]) -> str:
    """What a result decides, in one line: counts, value, verdict and band."""
    met = {True: "met", False: "failed", None: "not assessed"}[row["met"]]
    parts = [f"{_num(row['numerator'])} of {_num(row['denominator'])}",
             f"value {_num(row['value'])}", met, f"band {row['band'] or '-'}"]
    if "expected" in row:
        parts.append(f"expected {_num(row['expected'])}")
    parts += [f"pending {row.get('pending', 0)}", f"excluded {row.get('excluded', 0)}"]
    return ", ".join(parts)


def level_key(row: dict[str, Any]) -> str:
    """A regime row's identity: group and month."""
    group = " ".join(f"{k}={v}" for k, v in row["group"].items()) or "(contract)"
    return f"{group} {row['month']}"


def snapshots(ev: Any) -> dict[str, dict[str, str]]:
    """Snapshot name -> (figure key -> figure text): one per measure, one per regime."""
    out: dict[str, dict[str, str]] = {mp.measure.id: {} for mp in ev.plan.measures}
    for row in ev.results:
        out[row["measure"]][figure_key(row)] = figure_text(row)
    for row in ev.escalations:
        out.setdefault(f"level {row['regime']}", {})[level_key(row)] = \
            f"level {row['level']} {row['level_title']}"
    return out


def render(snaps: dict[str, dict[str, str]]) -> str:
    """The amber text: snapshots in name order, each a multi-line string of its figures."""
    out = [HEADER]
    for name in sorted(snaps):
        out.append(f"# name: {name}")
        lines = [f"{k}: {v}" for k, v in snaps[name].items()]
        out += ["  " + _QUOTES, *(f"  {line}" for line in lines), "  " + _QUOTES, "# ---"]
    return "\n".join(out) + "\n"


def parse(text: str) -> dict[str, dict[str, str]]:
    """The snapshots of an amber file written by :func:`render`."""
    snaps: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.split("\n"):
        if line.startswith("# name: "):
            current = snaps.setdefault(line[len("# name: "):].strip(), {})
        elif line.startswith("# ---"):
            current = None
        elif current is not None and line.startswith("  ") and line.strip() != _QUOTES:
            key, _, value = line[2:].partition(": ")
            current[key] = value
    return snaps


@attrs.frozen
class Moved:
    """One snapshot's changes: figures that moved (key, old, new), appeared and went."""

    name: str
    moved: tuple[tuple[str, str, str], ...]
    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]

    def render(self) -> list[str]:
        """Lines for the terminal: the snapshot name, then each change, old -> new."""
        n = len(self.moved) + len(self.added) + len(self.removed)
        out = [f"{self.name}: {n} figure{'s' if n != 1 else ''} moved"]
        out += [f"  {k}: {old} -> {new}" for k, old, new in self.moved]
        out += [f"  {k}: (none) -> {new}" for k, new in self.added]
        out += [f"  {k}: {old} -> (none)" for k, old in self.removed]
        return out


def compare(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[Moved]:
    """The snapshots that differ, in name order."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, {}), new.get(name, {})
        moved = tuple((k, a[k], b[k]) for k in b if k in a and a[k] != b[k])
        added = tuple((k, b[k]) for k in b if k not in a)
        removed = tuple((k, a[k]) for k in a if k not in b)
        if moved or added or removed:
            out.append(Moved(name, moved, added, removed))
    return out


def snapshot_path(contract: str | Path, folder: str | Path | None) -> Path:
    """Where a contract's amber file lives: beside it, or in ``folder``."""
    c = Path(contract)
    return (Path(folder) if folder is not None else c.parent) / f"{c.stem}.ambr"


def run_snapshot(contract: str, data_dir: str, folder: str | None, update: bool,
                 as_of: str | None, out: Any) -> int:
    """Write or check the snapshot of ``contract`` on ``data_dir``: 0 unchanged (or written),
    1 when figures moved (unless ``update``)."""
    from .pipeline import run_check

    ev = run_check(contract, data_dir, as_of)
    path = snapshot_path(contract, folder)
    new = snapshots(ev)
    if not path.is_file() or update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(new), encoding="utf-8")
        count = sum(len(v) for v in new.values())
        print(f"{path}: {'updated' if update else 'written'}: {count} figures", file=out)
        return 0
    changes = compare(parse(path.read_text(encoding="utf-8")), new)
    for change in changes:
        print("\n".join(change.render()), file=out)
    if not changes:
        print(f"{path}: no figure moved", file=out)
        return 0
    print(f"{path}: figures moved; run again with --update to accept them", file=out)
    return 1
