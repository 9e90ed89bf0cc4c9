"""Coverage-guided fuzzing of the parser and checker with atheris (optional; see README.md).

Each input is taken as a contract: decoded as UTF-8 (bad bytes replaced) and checked with the
oracle of tests/test_fuzz.py (no traceback, registered codes, spans inside the source, rendering
that works, a time limit), and its raw bytes are linted as a file with ``pmirc lint``. Failures
that are already reported bugs (tests/test_fuzz.py ``KNOWN_BUGS``) are not crashes unless
FUZZ_STRICT=1.

    .venv/bin/python fuzz/fuzz_check.py fuzz/corpus -max_total_time=300
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

with atheris.instrument_imports(include=["pmir_dsl", "lark"]):
    import pmir_dsl.check  # noqa: F401  (instrumented before test_fuzz imports it)
    import pmir_dsl.compile  # noqa: F401
    import pmir_dsl.parse  # noqa: F401

import test_fuzz  # noqa: E402  (the oracle and the known bugs)

WORKSPACE = test_fuzz.make_workspace(Path(tempfile.mkdtemp(prefix="pmirc-atheris-")))
FOLDER = WORKSPACE / "contracts"


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    source = data.decode("utf-8", "replace")
    problem = test_fuzz.probe(source, FOLDER)
    if problem is not None and not test_fuzz.known_bug(source, problem):
        raise RuntimeError(f"pmirc misbehaved on this input: {problem}")
    path = FOLDER / "fuzz.pmir"
    path.write_bytes(data)
    problem = test_fuzz.lint_file(path)
    if problem is not None and not test_fuzz.known_bug(source, problem):
        raise RuntimeError(f"pmirc lint misbehaved on this input: {problem}")


def main() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
