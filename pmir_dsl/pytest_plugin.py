"""A pytest plugin (entry point ``pytest11``): run ``*.pmirtest`` rule tests under pytest, and a
fixture for syrupy snapshots of a contract's figures.

Collecting rule tests is opt-in (``pytest --pmir-tests``, or ``pmir_tests = true`` in the ini
file) so a project that already runs ``pmirc test`` from a test does not run them twice. Each
``test "..."`` block is one pytest item; a failure lists every expectation that did not hold,
with its file:line:column, as ``pmirc test`` prints them.

Snapshots: ``pmir_figures(contract, data_dir)`` gives each measure's figures as the text that
``pmirc test --snapshot`` stores, so ``assert pmir_figures(c, d)["KPI1"] == snapshot`` keeps
them in syrupy's own ``__snapshots__`` files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--pmir-tests`` and the ``pmir_tests`` ini option."""
    parser.addoption("--pmir-tests", action="store_true", default=False,
                     help="collect *.pmirtest rule tests of pmir contracts")
    parser.addini("pmir_tests", "collect *.pmirtest rule tests (true / false)", default="false")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("--pmir-tests")) or \
        str(config.getini("pmir_tests")).strip().lower() in ("1", "true", "yes")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A :class:`PmirTestFile` for each ``*.pmirtest`` file, when enabled."""
    if file_path.suffix == ".pmirtest" and _enabled(parent.config):
        return PmirTestFile.from_parent(parent, path=file_path)
    return None


class PmirTestFile(pytest.File):
    """A ``*.pmirtest`` file: one item per test block."""

    def collect(self) -> Iterator[pytest.Item]:
        from .testfile import TestFileError, read_test_file
        from .testing import render_error

        try:
            tf = read_test_file(self.path)
        except TestFileError as e:
            raise self.CollectError(render_error(e)) from None
        for case in tf.tests:
            yield PmirTestItem.from_parent(self, name=case.name, file=tf, case=case)


class PmirTestItem(pytest.Item):
    """One ``test "..."`` block of a test file."""

    def __init__(self, *, file: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file = file
        self.case = case

    def runtest(self) -> None:
        """Run the block; raise :class:`PmirTestFailure` listing what did not hold."""
        from .testing import check_names, load_plan, run_test
        from .testfile import TestFileError

        plan = load_plan(self.file, _PLANS)
        problems = check_names(self.file, plan)
        if problems:
            raise TestFileError(problems, {self.file.path: self.file.source})
        run = run_test(self.file, self.case, plan)
        if run.failures:
            raise PmirTestFailure("\n".join(f.render() for f in run.failures))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        """The failures (or diagnostics) as ``pmirc test`` prints them, without a traceback."""
        from .diagnostics import CompileError, render_all
        from .testfile import TestFileError
        from .testing import render_error

        e = excinfo.value
        if isinstance(e, PmirTestFailure):
            return str(e)
        if isinstance(e, TestFileError):
            return render_error(e)
        if isinstance(e, CompileError):
            return render_all(e.diagnostics, e.sources)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the test is: its file and line."""
        return self.path, self.case.span.line - 1, f"pmirtest: {self.case.name}"


class PmirTestFailure(AssertionError):
    """Expectations of a rule test that did not hold."""


#: Compiled contracts shared by the items of a session (compiling is the slow part).
_PLANS: dict[Path, Any] = {}


@pytest.fixture
def pmir_figures() -> Callable[..., dict[str, str]]:
    """``pmir_figures(contract, data_dir, as_of=None)``: snapshot name (a measure id, or
    ``level REGIME``) -> its figures, one per line, as ``pmirc test --snapshot`` stores them."""
    def figures(contract: str | Path, data_dir: str | Path,
                as_of: str | None = None) -> dict[str, str]:
        from .pipeline import run_check
        from .snapshot import snapshots

        snaps = snapshots(run_check(contract, data_dir, as_of))
        return {name: "\n".join(f"{k}: {v}" for k, v in lines.items())
                for name, lines in snaps.items()}
    return figures
