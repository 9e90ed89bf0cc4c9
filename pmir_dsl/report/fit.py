"""Tables that fit the width they are printed at, and text that is printed as it is.

Rich shortens a cell that does not fit to ``9…``, which in a performance report turns a figure
into a lie. Here a column is either a *number* column (never wrapped, never shortened: it gets
the width of its widest cell) or a *text* column (wrapped at spaces, a word too long for it
folded onto the next line). When the columns cannot all fit, whole columns are left out, the
least important first (highest ``drop`` first), and a line under the table names them.

Every cell, title and header goes through :func:`safe`: data is never read as Rich markup
(``[b]North[/b]`` prints as typed) and control characters are written as escapes
(:func:`pmir_dsl.visible.visible`).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..visible import visible_lines

#: Characters between two columns: a cell's right padding and the (blank) rule.
GAP = 2

#: A text column is never squeezed narrower than its longest word or this, whichever is less.
TEXT_MIN = 24


#: Identifier columns (measure ids) are kept whole up to this many characters.
ID_MIN = 40

#: Text columns are first each widened up to this (names, labels), then the rest shared out.
SHORT_TEXT = 16


@attrs.frozen
class Col:
    """A column: header, ``num`` (kept whole) or not (wraps), justification, and ``drop``: 0
    for a column that is always kept, else the higher, the sooner it is left out."""

    header: str
    num: bool = False
    justify: str = "left"
    drop: int = 0
    min: int = 0  # a text column kept at least this wide (or its widest cell, if narrower)


def safe(value: object, style: str = "") -> Text:
    """A data value as Rich text: shown literally (no markup), control characters escaped."""
    if isinstance(value, Text):
        return value
    return Text(visible_lines("" if value is None else str(value)), style=style)


def fitted(title: str | Text | None, cols: Sequence[Col], rows: Sequence[Sequence[object]],
           width: int) -> RenderableType:
    """A table of ``rows`` (cells: str or :class:`Text`) fitted into ``width`` columns."""
    cells = [[safe(c) for c in row] for row in rows]
    keep = _columns_that_fit(cols, cells, width)
    if keep is None:
        return _as_records(title, cols, cells)
    t = Table(title=safe(title) if title is not None else None, title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    widths = _widths([cols[i] for i in keep], [[r[i] for r in cells] for i in keep], width)
    for i, w in zip(keep, widths):
        c = cols[i]
        t.add_column(safe(c.header), justify=c.justify, overflow="fold",  # type: ignore[arg-type]
                     width=w)  # a number column is as wide as its widest cell: never wraps
    for row in cells:
        t.add_row(*(row[i] for i in keep))
    left_out = [cols[i].header for i in range(len(cols)) if i not in keep]
    if not left_out:
        return t
    note = Text(f"(left out at this width: {', '.join(left_out)}; a wider --width shows them)",
                style="dim")
    return Group(t, note)


def _need(c: Col, column: Sequence[Text]) -> int:
    """The width a column cannot go below: a number column's widest cell (and its header's
    longest word); a text column's longest word, at most :data:`TEXT_MIN`."""
    head = max((cell_len(w) for w in c.header.split()), default=1)
    if c.num:
        return max([head, *(max((cell_len(x) for x in t.plain.split("\n")), default=0)
                             for t in column)])
    words = max((cell_len(w) for t in column for w in t.plain.split()), default=1)
    return max(1, min(max(words, head), TEXT_MIN), min(c.min, _natural(c, column)))


def _natural(c: Col, column: Sequence[Text]) -> int:
    """The width a column would take with room to spare: its longest line (header included)."""
    lines = [c.header, *(line for t in column for line in t.plain.split("\n"))]
    return max(cell_len(x) for x in lines)


def _widths(cols: Sequence[Col], columns: Sequence[Sequence[Text]], width: int) -> list[int]:
    """Every column's width: numbers their widest cell; text columns start at their minimum
    and are widened up to :data:`SHORT_TEXT`, the one nearest its natural width first (a name
    whole before a long reason), then share the room left evenly."""
    widths = [_need(c, col) for c, col in zip(cols, columns)]
    natural = [w if c.num else max(w, _natural(c, col))
               for c, w, col in zip(cols, widths, columns)]
    room = width - sum(widths) - GAP * (len(cols) - 1)
    for i in sorted(range(len(cols)), key=lambda j: natural[j] - widths[j]):
        give = max(0, min(room, min(natural[i], SHORT_TEXT) - widths[i]))
        widths[i] += give
        room -= give
    short = [i for i in range(len(cols)) if widths[i] < natural[i]]
    while room > 0 and short:  # then a character at a time to each column still short of room
        for i in short[:room]:
            widths[i] += 1
        room -= len(short[:room])
        short = [i for i in short if widths[i] < natural[i]]
    return widths


def _columns_that_fit(cols: Sequence[Col], cells: list[list[Text]], width: int
                      ) -> list[int] | None:
    """The indexes of the columns kept: all of them, or without the most droppable ones;
    ``None`` when even the columns always kept cannot fit."""
    need = [_need(c, [r[i] for r in cells]) for i, c in enumerate(cols)]
    keep = list(range(len(cols)))
    order = sorted((i for i, c in enumerate(cols) if c.drop), key=lambda i: (-cols[i].drop, -i))
    while sum(need[i] for i in keep) + GAP * (len(keep) - 1) > width and order:
        keep.remove(order.pop(0))
    if sum(need[i] for i in keep) + GAP * (len(keep) - 1) > width:
        return None
    return keep


def _as_records(title: str | Text | None, cols: Sequence[Col], cells: list[list[Text]]
                ) -> RenderableType:
    """Too narrow for a table: each row as lines of ``header: value``, every column kept."""
    out = Text()
    if title is not None:
        out.append_text(safe(title))
        out.append("\n")
    for row in cells:
        for i, (c, cell) in enumerate(zip(cols, row)):
            out.append("  " if i else "- ")
            out.append(f"{c.header}: ", style="bold")
            out.append_text(cell)
            out.append("\n")
    out.rstrip()
    return out
