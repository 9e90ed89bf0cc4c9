"""Text values that print alike but group apart (issue 13, decision 285).

``Café`` written with one code point (NFC) and with ``e`` and a combining accent (NFD), ``North``
with a byte order mark or a zero-width space inside the cell, ``St Helens`` with a no-break space:
each pair looks like one value in a spreadsheet and in pmirc's reports, yet the values differ, so
they are two groups, and a condition ``provider is "North"`` matches only one of them.

pmirc keeps them apart (values are taken exactly as written, as every other text is) and says so:
each set of look-alike values of a ``text`` column is a data-quality entry naming the column,
each value with its unseen characters escaped, and how many records hold each; its count is the
records that hold any of them, its examples their smallest ids. The records are not excluded.

Two values print alike when they are equal once put in Unicode's composed form (NFC), with the
invisible format characters (Unicode category Cf: byte order marks, zero-width spaces and
joiners, bidi controls, soft hyphens) removed and every space separator made a plain space.
Only values with a character outside ASCII can differ from their printed form, so only those
are normalised: a column of plain ASCII text costs one pass of ``str.isascii``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import numpy as np

from .schema import Column, ColumnType, Table
from .visible import ascii_escaped

#: How many look-alike sets of one column are reported (each with its own entry).
MAX_SETS = 10


def printed(value: str) -> str:
    """``value`` as it prints: composed (NFC), without format characters, spaces plain."""
    kept = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in value
                   if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFC", kept)


def lookalike_sets(dictionary: tuple[str, ...]) -> list[list[int]]:
    """The codes of each set of two or more values of ``dictionary`` that print alike, each set
    in code order, the sets in order of their first code."""
    odd = [i for i, v in enumerate(dictionary) if not v.isascii()]
    if not odd:
        return []
    sets: dict[str, list[int]] = {}
    for i in odd:
        sets.setdefault(printed(dictionary[i]), []).append(i)
    for i, v in enumerate(dictionary):  # a plain value that some other value prints as
        if v.isascii() and v in sets:
            sets[v].append(i)
    return sorted((sorted(codes) for codes in sets.values() if len(codes) > 1),
                  key=lambda codes: codes[0])


def checks(table: Table) -> Iterator[tuple[str, np.ndarray]]:
    """(check text, mask of the records holding one of the values) for each look-alike set of
    each text column of ``table``."""
    for column in table.columns.values():
        if column.spec.type is ColumnType.TEXT and column.dictionary:
            yield from _column_checks(column)


def _column_checks(column: Column) -> Iterator[tuple[str, np.ndarray]]:
    codes = column.values
    counts = np.bincount(codes[codes >= 0], minlength=len(column.dictionary))
    for found in lookalike_sets(column.dictionary)[:MAX_SETS]:
        shown = ", ".join(f"'{ascii_escaped(column.dictionary[c])}' ({int(counts[c]):,})"
                          for c in found)
        check = (f"{column.spec.name}: {len(found)} values print alike but are kept apart: "
                 f"{shown}")
        yield check, np.isin(codes, np.array(found, codes.dtype))
