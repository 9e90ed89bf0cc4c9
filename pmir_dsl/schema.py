"""Table and column declarations, and the typed in-memory columns the loader produces.

A contract declares its tables (``table referrals { referral_id: id ... }``); the checker turns
those declarations into :class:`TableSpec` values, the loader reads files against them and hands
back :class:`Table` values whose columns are numpy arrays in one fixed representation per type:

========== ============================== ==================================================
type        ``Column.values``              null
========== ============================== ==================================================
id          ``pyarrow.StringArray``       never null; unique within the table
text        int32 codes into ``dictionary``  code -1 (dictionary sorted, so row order is irrelevant)
category    int32 codes into the declared values, in declaration order; -1 is null
date        ``datetime64[D]``              ``NaT``
bool        ``int8`` 0 / 1                 -1
integer     ``int64``                      ``valid`` is False
decimal     ``int64`` in millionths        ``valid`` is False (exact: at most 6 decimal places)
month       ``int32`` months since 1970-01 ``valid`` is False
quarter     ``int32`` months since 1970-01 of the quarter's first month; ``valid`` False
ref         ``pyarrow.StringArray`` of ids of another table (``ref(referrals)``); null allowed
period      a month or a quarter (``YYYY-MM`` or ``YYYY-Qn``): ``int32`` first month as for
            quarter, and ``months`` (int8: 1 or 3) the period's length; ``valid`` False
========== ============================== ==================================================
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # imported where used: checking a contract (pmirc lint) needs no numpy
    import numpy as np

#: Decimal columns are held as integers in units of 10**-DECIMAL_PLACES, so sums are exact.
DECIMAL_PLACES = 6
DECIMAL_SCALE = 10**DECIMAL_PLACES


class ColumnType(enum.Enum):
    """The types a table column can be declared with."""

    ID = "id"
    TEXT = "text"
    CATEGORY = "category"
    DATE = "date"
    BOOL = "bool"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONTH = "month"
    QUARTER = "quarter"
    PERIOD = "period"
    REF = "ref"


@attrs.frozen
class ColumnSpec:
    """One declared column: its name, type, whether it may be null and (categories) its values.

    ``references`` names the table a ``ref`` column's ids belong to. ``via`` is set on a column
    reached through a ``ref`` column of the measure's table (the ref column's name): such a column
    is read from the referenced table, row by row through the reference. ``date_format`` is a
    date column's declared format (:mod:`.date_formats`), None for ``YYYY-MM-DD``.
    """

    name: str
    type: ColumnType
    nullable: bool = False
    categories: tuple[str, ...] = ()
    references: str | None = None
    via: str | None = None
    date_format: str | None = None  # a date column's declared format, e.g. "DD/MM/YYYY"

    @property
    def label(self) -> str:
        """How the column is named in messages: ``referral_id.lep_area`` for a joined column."""
        return f"{self.via}.{self.name}" if self.via else self.name


@attrs.frozen
class TableSpec:
    """One declared table and the columns the contract uses from it."""

    name: str
    columns: tuple[ColumnSpec, ...]
    orders: tuple[tuple[str, str], ...] = ()  # (later, earlier): 'LATER not before EARLIER'

    def column(self, name: str) -> ColumnSpec | None:
        """The declared column called ``name``, or None."""
        return next((c for c in self.columns if c.name == name), None)


@attrs.frozen(eq=False)
class Column:
    """A loaded column in the representation of its type (see the module docstring)."""

    spec: ColumnSpec
    values: np.ndarray
    valid: np.ndarray | None = None
    dictionary: tuple[str, ...] = ()
    months: np.ndarray | None = None

    def take_strings(self, rows: np.ndarray) -> list[str]:
        """The values at ``rows`` as strings (ids, text, categories, bools as true / false), for
        messages, audits and matching keys by value."""
        t = self.spec.type
        if t in (ColumnType.ID, ColumnType.REF):
            return ["" if v is None else str(v) for v in self.values.take(rows).to_pylist()]
        if t in (ColumnType.TEXT, ColumnType.CATEGORY):
            names = self.dictionary if t is ColumnType.TEXT else self.spec.categories
            return [names[c] if c >= 0 else "" for c in self.values[rows]]
        if t is ColumnType.BOOL:  # as groups and conditions name them
            return [("", "false", "true")[int(c) + 1] for c in self.values[rows]]
        return [str(v) for v in self.values[rows]]

    def present(self) -> np.ndarray:
        """Boolean mask of the rows where this column has a value."""
        import numpy as np

        t = self.spec.type
        if t is ColumnType.DATE:
            return ~np.isnat(self.values)
        if t is ColumnType.ID:
            return np.ones(len(self.values), dtype=bool)
        if t is ColumnType.REF:
            return self.values.is_valid().to_numpy(zero_copy_only=False)
        if t in (ColumnType.TEXT, ColumnType.CATEGORY, ColumnType.BOOL):
            return self.values >= 0
        if self.valid is None:
            return np.ones(len(self.values), dtype=bool)
        return self.valid


@attrs.frozen(eq=False)
class Table:
    """A loaded table: where it came from, its row count, content hash and typed columns."""

    name: str
    path: str
    rows: int
    sha256: str
    columns: dict[str, Column]
