"""Text values that print alike but group apart (issue 13, decision 285).

``Café`` written with one code point (NFC) and with ``e`` and a combining accent (NFD), ``North``
with a byte order mark or a zero-width space inside the cell, ``St Helens`` with a no-break space:
each pair looks like one value in a spreadsheet and in pmirc's reports, yet the values differ, so
they are two groups, and a condition ``provider is "North"`` matches only one of them.

pmirc keeps them apart (values are taken exactly as written, as every other text is) and says so:
each set of look-alike values of a ``text`` column is a data-quality entry naming the column,
each value with its unseen characters escaped, and how many records hold each; its count is the
records that hold any of them, its examples their smallest ids. The records are not excluded.

A value a condition names (``provider is "Café"``) that no record holds, where the data holds
one that prints alike, is warned of by ``pmirc check`` (``warning[look-alike-value]``): the
condition matches none of those records, though a reader sees the same word.

Two values print alike when they are equal once put in Unicode's composed form (NFC), with the
invisible format characters (Unicode category Cf: byte order marks, zero-width spaces and
joiners, bidi controls, soft hyphens; those of the Basic Multilingual Plane and the tag
characters) removed and every space separator made a plain space.
Only values with a character outside ASCII can differ from their printed form, so only those
are normalised: a column of plain ASCII text costs one pass of ``str.isascii``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

import attrs
import numpy as np

from . import ir
from .schema import Column, ColumnSpec, ColumnType, Table
from .visible import ascii_escaped

#: How many look-alike sets of one column are reported (each with its own entry).
MAX_SETS = 10


def printed(value: str) -> str:
    """``value`` as it prints: composed (NFC), without format characters, spaces plain."""
    unseen, spaces = _unseen()
    if unseen.search(value):
        value = unseen.sub("", value)
    if spaces.search(value):
        value = spaces.sub(" ", value)
    return unicodedata.normalize("NFC", value)


@functools.cache
def _unseen() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns of the format characters (dropped) and space separators (made plain spaces) of
    the Basic Multilingual Plane and the tag characters (U+E0000-U+E007F), found once, when
    first needed (about 0.02 s)."""
    found: dict[str, list[str]] = {"Cf": [], "Zs": []}
    for code in (*range(0x80, 0x10000), *range(0xE0000, 0xE0080)):
        found.get(unicodedata.category(chr(code)), []).append(chr(code))
    return tuple(re.compile("[" + re.escape("".join(found[k])) + "]") for k in ("Cf", "Zs"))


def lookalike_sets(dictionary: tuple[str, ...]) -> list[list[int]]:
    """The codes of each set of two or more values of ``dictionary`` that print alike, each set
    in code order, the sets in order of their first code."""
    sets: dict[str, list[int]] = {}  # by printed form: the values that print so but differ
    for i, v in enumerate(dictionary):
        if not v.isascii() and (key := printed(v)) != v:
            sets.setdefault(key, []).append(i)
    if not sets:  # values that print as themselves are distinct, so alike only to these
        return []
    for i, v in enumerate(dictionary):  # a value that some other value prints as
        if v in sets:
            sets[v].append(i)
    return sorted((sorted(codes) for codes in sets.values() if len(codes) > 1),
                  key=lambda codes: codes[0])


@attrs.frozen(eq=False)
class Values:
    """A text column's distinct values, sorted (as the loader codes them), and how many records
    hold each: all the look-alike checks read. A loaded column gives it at once
    (:meth:`of`); a streamed table's first pass adds it up batch by batch (pmir_dsl/stream.py)."""

    spec: ColumnSpec
    dictionary: tuple[str, ...]
    counts: np.ndarray

    @classmethod
    def of(cls, column: Column) -> Values:
        codes = column.values
        return cls(column.spec, column.dictionary,
                   np.bincount(codes[codes >= 0], minlength=len(column.dictionary)))


def checks(table: Table) -> Iterator[tuple[str, np.ndarray]]:
    """(check text, mask of the records holding one of the values) for each look-alike set of
    each text column of ``table``. The sets are found from the column's dictionary alone; the
    records holding each value are counted (a pass over the column) only where there is a set,
    so a column without look-alikes costs no pass over its records."""
    for column in table.columns.values():
        if column.spec.type is not ColumnType.TEXT or not column.dictionary:
            continue
        found = lookalike_sets(column.dictionary)
        if found:
            for check, codes in sets(Values.of(column), found):
                yield check, np.isin(column.values, np.array(codes, column.values.dtype))


def sets(values: Values, found: list[list[int]] | None = None
         ) -> Iterator[tuple[str, list[int]]]:
    """(check text, codes of its values) for each look-alike set of a column's values (at most
    :data:`MAX_SETS`), in the order of their first value; ``found``: the sets, where already
    worked out (:func:`lookalike_sets` of the values' dictionary)."""
    if found is None:
        found = lookalike_sets(values.dictionary)
    for codes in found[:MAX_SETS]:
        shown = ", ".join(f"'{ascii_escaped(values.dictionary[c])}' ({int(values.counts[c]):,})"
                          for c in codes)
        yield (f"{values.spec.name}: {len(codes)} values print alike but are kept apart: "
               f"{shown}"), codes


# ---- a contract's quoted values against the data -------------------------------------------------


def literal_warnings(contract: ir.Contract, tables: dict[str, Table],
                     streamed: dict[str, dict[str, Values]] | None = None) -> list[str]:
    """A warning for each text value a measure's condition names (``provider is "Café"``) that
    no record holds, where the data holds a value that prints alike (``Cafe\\u0301``): the
    condition matches none of those records, though a reader sees the same word. ``streamed``
    gives the text columns' values of the streamed tables (which hold no columns)."""
    out: dict[str, None] = {}
    found: dict[tuple[str | None, str], Values | None] = {}
    for m in contract.measures:
        for node in _in_values(m):
            table = _table_of(contract, m.table, node.column)
            key = (table, node.column.name)
            if key not in found:
                found[key] = _values(tables, streamed or {}, *key)
            values = found[key]
            if values is None:
                continue
            for value in node.values:
                out.update(dict.fromkeys(_literal_warning(m.id, values, value)))
    return list(out)


def _literal_warning(measure: str, values: Values, value: str) -> Iterator[str]:
    dictionary, counts = values.dictionary, values.counts
    if value in dictionary:
        return
    alike = [i for i, v in enumerate(dictionary) if not v.isascii() or not value.isascii()
             if printed(v) == printed(value)]
    if not alike:
        return
    shown = ", ".join(f"'{ascii_escaped(dictionary[i])}' ({int(counts[i]):,} record"
                      f"{'s' * int(counts[i] != 1)})" for i in alike)
    yield (f"warning[look-alike-value]: measure {measure}: no record's {values.spec.label} is "
           f"'{ascii_escaped(value)}', as a condition names it, but the data has {shown}, which "
           "prints alike\n  hint: make the contract's text and the data's the same characters "
           "(retype one of them)")


def _table_of(contract: ir.Contract, table: str, spec: ColumnSpec) -> str | None:
    """The table whose column a condition reads: its measure's, or the one its ref column
    names (from the declarations: a streamed table's shell holds no columns)."""
    if spec.via is None:
        return table
    ref = contract.table(table).column(spec.via)
    return ref.references if ref is not None else None


def _values(tables: dict[str, Table], streamed: dict[str, dict[str, Values]],
            table: str | None, name: str) -> Values | None:
    """The values of a text column, loaded or streamed (None for any other column)."""
    if table in streamed:
        return streamed[table].get(name)
    t = tables.get(table or "")
    column = t.columns.get(name) if t is not None else None
    if column is None or column.spec.type is not ColumnType.TEXT:
        return None
    return Values.of(column)


def _in_values(node: object) -> Iterator[ir.InValues]:
    """Every ``is`` / ``is one of`` condition inside an IR node, however deep."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ir.InValues):
            yield item
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif attrs.has(type(item)) and not isinstance(item, ColumnSpec):
            stack.extend(getattr(item, f.name) for f in attrs.fields(type(item)))
