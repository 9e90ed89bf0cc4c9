"""Sparse per-group arrays: the counts of a group level kept only where records fell.

A measure's counts at one group level were one dense array per group ([months, 6] counts, a
[months, months] cohort triangle, ...), so memory grew with groups x months whatever the data
held. :class:`Cells` keeps the groups' labels and, for each (group, position) cell that some
record touched, its values: memory grows with the data. It reads as a mapping from group values
to that group's dense array (built when asked for), which is what the finishing stages (results,
reviews, cohort triangles) read, one group at a time. Two batches' cells merge exactly
(:meth:`Cells.merge`: integer sums, or the minimum for the oldest backlog dates).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import numpy as np

#: Beyond this many possible cells the distinct ones are found by sorting, not counting.
DENSE_CELLS = 1 << 22

Group = tuple[Any, ...]


@attrs.frozen(eq=False)
class Cells(Mapping[Group, np.ndarray]):
    """Per-group arrays of one shape, held sparsely.

    ``labels`` are the groups' values (a group's slot is its position); ``cell`` the sorted,
    distinct numbers ``slot * lead + position`` of the cells held, ``position`` being the index
    into a group's array flattened over its leading ``shape[:len(shape) - tail]`` axes; ``values``
    the cells' values ([cells, *trailing axes]); everything else is ``fill``. Picklable.
    """

    labels: tuple[Group, ...]
    cell: np.ndarray
    values: np.ndarray
    shape: tuple[int, ...]
    tail: int = 0
    fill: int = 0
    index: dict[Group, int] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "index", {g: i for i, g in enumerate(self.labels)})

    @property
    def lead(self) -> int:
        """Cells per group: the product of the leading axes."""
        return int(np.prod(self.shape[:len(self.shape) - self.tail], dtype=np.int64))

    def __getitem__(self, group: Group) -> np.ndarray:
        slot = self.index[group]
        lead = self.lead
        lo, hi = np.searchsorted(self.cell, [slot * lead, (slot + 1) * lead])
        out = np.full((lead, *self.shape[len(self.shape) - self.tail:]), self.fill, np.int64)
        out[self.cell[lo:hi] - slot * lead] = self.values[lo:hi]
        return out.reshape(self.shape)

    def __iter__(self) -> Iterator[Group]:
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, group: object) -> bool:
        return group in self.index

    @classmethod
    def from_dense(cls, dense: np.ndarray, labels: list[Group], tail: int = 0,
                   fill: int = 0) -> Cells:
        """Cells of a dense [groups, *shape] array, keeping those not all ``fill``."""
        shape = dense.shape[1:]
        rows = dense.reshape(-1, *shape[len(shape) - tail:])
        keep = np.flatnonzero((rows != fill).any(axis=tuple(range(1, rows.ndim))))
        return cls(tuple(labels), keep.astype(np.int64), rows[keep], shape, tail, fill)

    def merge(self, other: Cells, combine: np.ufunc = np.add) -> Cells:
        """The cells of both: the groups of both sides, a cell held by both combined."""
        labels = self.labels + tuple(g for g in other.labels if g not in self.index)
        slot = {g: i for i, g in enumerate(labels)}
        remap = np.array([slot[g] for g in other.labels], dtype=np.int64)
        lead = self.lead
        moved = remap[other.cell // lead] * lead + other.cell % lead if len(other.cell) else \
            other.cell
        cell = np.concatenate([self.cell, moved])
        values = np.concatenate([self.values, other.values])
        order = np.argsort(cell, kind="stable")
        cell, values = cell[order], values[order]
        if len(cell):  # one entry per distinct cell, those held by both combined
            starts = np.flatnonzero(np.concatenate([[True], cell[1:] != cell[:-1]]))
            cell, values = cell[starts], combine.reduceat(values, starts, axis=0)
        return Cells(labels, cell, values, self.shape, self.tail, self.fill)


@attrs.frozen(eq=False)
class Keys:
    """The distinct cells among some integer keys (each below ``size``), and where each key
    falls among them: counted when the key space is small, sorted otherwise."""

    cells: np.ndarray
    lookup: np.ndarray | None

    @classmethod
    def of(cls, keys: list[np.ndarray], size: int) -> Keys:
        """The distinct cells of all of ``keys``."""
        every = np.concatenate([np.asarray(k, dtype=np.int64) for k in keys]) if keys else \
            np.zeros(0, dtype=np.int64)
        if size <= DENSE_CELLS:
            cells = np.flatnonzero(np.bincount(every, minlength=size))
            lookup = np.full(size, -1, dtype=np.int64)
            lookup[cells] = np.arange(len(cells))
            return cls(cells, lookup)
        every = np.sort(every)  # (np.unique hashes, many times slower on millions of keys)
        return cls(every[np.concatenate([[True], every[1:] != every[:-1]])], None)

    def at(self, keys: np.ndarray) -> np.ndarray:
        """Each key's position among the cells (every key must be one of them)."""
        if self.lookup is not None:
            return self.lookup[keys]
        return np.searchsorted(self.cells, keys)

    def __len__(self) -> int:
        return len(self.cells)
