"""Errors for people: a data file that cannot be used, and a contract that cannot be compiled.

Neither carries a Python traceback to the user: the CLI catches them, renders them and exits 2.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class DataProblem:
    """What is wrong with a data file: which file and column, the first bad rows and how many.

    ``rows`` are spreadsheet row numbers (the header is row 1, the first record row 2), so a
    user can go straight to them in Excel. ``values`` are the offending values at those rows.
    """

    file: str
    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    values: tuple[str, ...] = ()
    count: int = 0
    hint: str | None = None

    def render(self) -> str:
        """A plain-text rendering, one problem per paragraph."""
        where = self.file if self.column is None else f"{self.file}, column '{self.column}'"
        lines = [f"error[bad-data]: {where}: {self.message}"]
        if self.count:
            shown = ", ".join(
                f"row {r} ({v!r})" if i < len(self.values) else f"row {r}"
                for i, (r, v) in enumerate(zip(self.rows, self.values + ("",) * len(self.rows)))
            )
            more = f" and {self.count - len(self.rows)} more" if self.count > len(self.rows) else ""
            lines.append(f"  {self.count} row{'s' if self.count != 1 else ''}: {shown}{more}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class DataError(Exception):
    """One or more problems that make the data unusable (exit status 2)."""

    def __init__(self, problems: list[DataProblem] | DataProblem):
        self.problems = [problems] if isinstance(problems, DataProblem) else list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))
