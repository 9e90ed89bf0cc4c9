"""Containment: a contract reads only the stdlib and its own folder, runs no code, names no data
file; and every CSV pmirc writes is safe to open in Excel.

* Imports: ``../x.pmir``, an absolute path, a symlink (file or folder) inside the contract's
  folder that leads outside, are refused with ``import-outside`` even when the target exists
  and is a valid module; ``import "x.pmir"`` beside the contract (or in a sub-folder) works. An
  audit hook records every file Python opens while a contract is checked: all of them are in
  the contract's folder or the stdlib.
* Code: the package calls no ``eval``/``exec``/``pickle``/``subprocess``/``os.system``, and
  checking a contract raises no ``exec``, ``compile``, process or socket audit event.
* Data: a table is a NAME, found as ``DATA_DIR/NAME.csv`` (or ``.parquet`` or a folder) only;
  a path in its place is a syntax diagnostic.
* CSV: ``pmirc audit`` (standard output or ``-o``) writes cells beginning with ``=``, ``+``,
  ``-``, ``@``, tab or carriage return with a leading ``'``, so Excel shows them as text.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from pmir_dsl.check import check_file, check_source
from pmir_dsl.cli import escape_cell, main
from pmir_dsl.diagnostics import CompileError, render_all

REPO = Path(__file__).resolve().parent.parent
ATW = REPO / "contracts" / "atw_ha.pmir"
INJECTION = REPO / "tests" / "hostile" / "excel_injection"
STDLIB = Path(str(resources.files("pmir_dsl.stdlib"))).resolve()

#: A module that is valid on its own: a band set the contract below uses.
MODULE = """bands local_tiers(a, b) deciding {
  "Good" at least a passes
  "Poor" at least b
  "Bad" otherwise
}
"""

CONTRACT = """import {target}

contract "c" {{
  service start 2024-04-01
  calendar england_and_wales
}}

table referrals {{
  referral_id: id
  referral_date: date
  acknowledged_date: date?
}}

measure KPI1 "Acknowledging" {{
  population referrals
  month of referral_date
  met when acknowledged_date within 1 working day of referral_date
  target at least 99%
  bands local_tiers(99%, 95%)
}}
"""


def contract(target: str) -> str:
    return CONTRACT.format(target=target)


def pmirc(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def codes(path: Path) -> list[tuple[str, int]]:
    """(code, line) of each diagnostic of the contract at ``path``; [] if it checks."""
    try:
        check_file(path)
    except CompileError as e:
        render_all(e.diagnostics, e.sources)
        return [(d.code, d.span.line if d.span else 0) for d in e.diagnostics]
    return []


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/home/ (the contract's folder, with sub/ inside) and tmp/outside/, each with a valid
    module, so a refusal is a refusal and not a missing file."""
    home, outside = tmp_path / "home", tmp_path / "outside"
    (home / "sub").mkdir(parents=True)
    outside.mkdir()
    for folder in (home, home / "sub", outside):
        (folder / "x.pmir").write_text(MODULE, encoding="utf-8")
    return home


# ---------------------------------------------------------------------------------------------
# Imports


@pytest.mark.parametrize("target", ['"x.pmir"', '"sub/x.pmir"', '"./x.pmir"', "cabinet_office"])
def test_imports_inside_the_folder_or_the_stdlib_work(tree: Path, target: str) -> None:
    path = tree / "c.pmir"
    text = contract(target)
    if target == "cabinet_office":
        text = text.replace("bands local_tiers(99%, 95%)",
                            "bands cabinet_office_tiers(99%, 98%, 97%)")
    path.write_text(text, encoding="utf-8")
    assert codes(path) == []
    status, out, err = pmirc("lint", path)
    assert status == 0 and "ok: contract 'c', 1 measures" in out, err


@pytest.mark.parametrize("target", [
    '"../outside/x.pmir"', '"../../etc/passwd"', '"sub/../../outside/x.pmir"',
    '"sub/../x.pmir"',  # stays inside, but '..' is refused outright
    '"/etc/passwd"', '"{outside}/x.pmir"', '"//etc/passwd"',
])
def test_imports_outside_the_folder_are_refused(tree: Path, target: str) -> None:
    path = tree / "c.pmir"
    path.write_text(contract(target.format(outside=tree.parent / "outside")), encoding="utf-8")
    assert codes(path) == [("import-outside", 1)]
    status, _, err = pmirc("lint", path)
    assert status == 2 and "error[import-outside]" in err
    assert "copy the file next to the contract" in err
    assert "root:" not in err  # nothing of the target is shown


def test_symlinked_file_leading_outside_is_refused(tree: Path) -> None:
    (tree / "link.pmir").symlink_to(tree.parent / "outside" / "x.pmir")
    path = tree / "c.pmir"
    path.write_text(contract('"link.pmir"'), encoding="utf-8")
    assert codes(path) == [("import-outside", 1)]


def test_symlink_to_a_system_file_is_refused(tree: Path) -> None:
    (tree / "passwd.pmir").symlink_to("/etc/passwd")
    path = tree / "c.pmir"
    path.write_text(contract('"passwd.pmir"'), encoding="utf-8")
    assert codes(path) == [("import-outside", 1)]
    _, _, err = pmirc("lint", path)
    assert "root:" not in err


def test_symlinked_folder_leading_outside_is_refused(tree: Path) -> None:
    (tree / "linked").symlink_to(tree.parent / "outside", target_is_directory=True)
    path = tree / "c.pmir"
    path.write_text(contract('"linked/x.pmir"'), encoding="utf-8")
    assert codes(path) == [("import-outside", 1)]


def test_symlink_inside_the_folder_is_followed(tree: Path) -> None:
    (tree / "alias.pmir").symlink_to(tree / "sub" / "x.pmir")
    path = tree / "c.pmir"
    path.write_text(contract('"alias.pmir"'), encoding="utf-8")
    assert codes(path) == []


def test_contract_reached_through_a_symlinked_folder(tree: Path, tmp_path: Path) -> None:
    """The folder is the contract's real folder: imports beside it work through the link."""
    (tmp_path / "door").symlink_to(tree, target_is_directory=True)
    (tree / "c.pmir").write_text(contract('"x.pmir"'), encoding="utf-8")
    assert codes(tmp_path / "door" / "c.pmir") == []


def test_a_module_cannot_import_outside_either(tree: Path) -> None:
    """The rule holds for imports inside imported modules too (the contract's folder counts)."""
    (tree / "sub" / "leaky.pmir").write_text('import "../../outside/x.pmir"\n' + MODULE,
                                             encoding="utf-8")
    path = tree / "c.pmir"
    path.write_text(contract('"sub/leaky.pmir"'), encoding="utf-8")
    found = codes(path)
    assert ("import-outside", 1) in found and all(c == "import-outside" for c, _ in found)


def test_source_without_a_folder_imports_only_the_stdlib() -> None:
    with pytest.raises(CompileError) as e:
        check_source(contract('"x.pmir"'), "c.pmir", None)
    assert [d.code for d in e.value.diagnostics] == ["import-outside"]


@pytest.mark.parametrize("name", ["os", "sys", "subprocess", "pmir_dsl.cli", "cabinet_office.x",
                                  "__init__"])
def test_stdlib_imports_are_pmir_modules_only(tree: Path, name: str) -> None:
    """A dotted import names a .pmir module of the stdlib, never a Python module."""
    path = tree / "c.pmir"
    path.write_text(contract(name), encoding="utf-8")
    assert ("import-not-found", 1) in codes(path)


@pytest.mark.parametrize("target", ['"~/.bashrc"', '"$HOME/x.pmir"', '"%APPDATA%/x.pmir"',
                                    '"C:\\\\x.pmir"', '"file:///etc/passwd"'])
def test_paths_are_not_expanded(tree: Path, target: str) -> None:
    """No home, variable or URL expansion: such a path is a (missing) file of the folder."""
    path = tree / "c.pmir"
    path.write_text(contract(target), encoding="utf-8")
    assert codes(path) in ([("import-not-found", 1)], [("import-outside", 1)])


# ---------------------------------------------------------------------------------------------
# What Python opens and runs while a contract is checked


_EVENTS: list[tuple[str, tuple[object, ...]]] | None = None


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _EVENTS is not None and not event.startswith(("object.", "sys._getframe", "builtins.id",
                                                    "code.new", "sys._current_frames")):
        _EVENTS.append((event, args))


sys.addaudithook(_hook)  # (an audit hook cannot be removed; it records only inside `recorded`)


@contextlib.contextmanager
def recorded() -> Iterator[list[tuple[str, tuple[object, ...]]]]:
    global _EVENTS
    _EVENTS = []
    try:
        yield _EVENTS
    finally:
        _EVENTS = None


HOSTILE_IMPORTS = ['"../outside/x.pmir"', '"/etc/passwd"', '"link.pmir"', '"linked/x.pmir"',
                   '"x.pmir"', '"sub/x.pmir"', "cabinet_office", "nowhere"]


@pytest.mark.parametrize("target", HOSTILE_IMPORTS)
def test_only_the_folder_and_the_stdlib_are_opened(tree: Path, target: str) -> None:
    (tree / "link.pmir").symlink_to(tree.parent / "outside" / "x.pmir")
    (tree / "linked").symlink_to(tree.parent / "outside", target_is_directory=True)
    path = tree / "c.pmir"
    path.write_text(contract(target), encoding="utf-8")
    codes(path)  # warm: lazy imports and the grammar happen once, outside the recording
    with recorded() as events:
        codes(path)
    opened = [Path(str(args[0])).resolve() for event, args in events if event == "open"
              and isinstance(args[0], (str, bytes, os.PathLike))]
    assert opened, events
    home = tree.resolve()
    for p in opened:
        assert home in p.parents or STDLIB in p.parents, f"opened {p}"
    ran = {e for e, _ in events} & {"exec", "compile", "subprocess.Popen", "os.system",
                                    "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                                    "socket.connect", "socket.getaddrinfo", "ctypes.dlopen",
                                    "import", "pickle.find_class", "marshal.loads"}
    assert not ran, ran


#: The one use of ctypes allowed, line for line: glibc's ``mallopt`` on the C library the
#: process already has loaded (``CDLL(None)``: no library path, no name from any text), called
#: with two constants by the command line before it reads data (pmir_dsl/memory.py).
ALLOWED = {("pmir_dsl/memory.py", "mallopt = ctypes.CDLL(None).mallopt"),
           ("pmir_dsl/memory.py",
            "mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int")}


def test_the_package_runs_no_code_from_text() -> None:
    """No call that could run code or a program from a contract's or a data file's text."""
    banned = re.compile(r"\b(eval|exec|__import__|import_module|pickle|marshal|subprocess|"
                        r"os\.system|os\.popen|os\.exec\w*|shell=True|ctypes)\b\s*[.(]")
    found, allowed = [], set()
    for path in sorted((REPO / "pmir_dsl").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if banned.search(code) and not code.lstrip().startswith(('"', "'")):
                where = (path.relative_to(REPO).as_posix(), line.strip())
                if where in ALLOWED:
                    allowed.add(where)
                else:
                    found.append(f"{where[0]}:{number}: {where[1]}")
    assert not found, "\n".join(found)
    assert allowed == ALLOWED  # an allowance no longer needed is removed, not left open


def test_importing_a_fifo_is_refused_not_hung(tree: Path) -> None:
    os.mkfifo(tree / "pipe.pmir")
    path = tree / "c.pmir"
    path.write_text(contract('"pipe.pmir"'), encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-m", "pmir_dsl.cli", "lint", str(path)],
                              timeout=60, capture_output=True, text=True)
    except subprocess.TimeoutExpired:  # a hang never ends; 60 s is only a loaded machine's start-up
        raise AssertionError("pmirc lint did not finish in 60 s") from None
    assert done.returncode == 2 and "import-not-found" in done.stderr


# ---------------------------------------------------------------------------------------------
# Data files are found by table name only


@pytest.mark.parametrize("declaration", [
    'table ../../etc/passwd {\n  x: id\n}',
    'table "../../etc/passwd" {\n  x: id\n}',
    'table /etc/passwd {\n  x: id\n}',
    'table etc.passwd {\n  x: id\n}',
    'table referrals.csv {\n  x: id\n}',
    'table C:\\\\data {\n  x: id\n}',
])
def test_a_table_cannot_name_a_path(declaration: str) -> None:
    source = contract("cabinet_office").replace(
        "table referrals {", declaration + "\n\ntable referrals {")
    with pytest.raises(CompileError) as e:
        check_source(source, "c.pmir", None)
    diagnostics = e.value.diagnostics
    assert diagnostics and {d.code for d in diagnostics} <= {"syntax", "unexpected-character",
                                                            "unterminated-string"}
    assert diagnostics[0].span is not None and diagnostics[0].span.line == 8


def test_population_cannot_name_a_path() -> None:
    source = contract("cabinet_office").replace("population referrals",
                                                'population "../../etc/passwd"')
    with pytest.raises(CompileError) as e:
        check_source(source, "c.pmir", None)
    assert [d.code for d in e.value.diagnostics] == ["syntax"]


def test_tables_are_read_only_from_the_data_folder(tmp_path: Path) -> None:
    """The files read are DATA_DIR/NAME.csv for the tables the contract uses, nothing else."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "tests" / "hostile" / "base", data)
    pmirc("check", ATW, data, "--format", "json")  # warm
    with recorded() as events:
        status, _, err = pmirc("check", ATW, data, "--format", "json")
    assert status in (0, 1), err
    opened = {Path(str(a[0])).resolve() for e, a in events if e == "open"
              and isinstance(a[0], (str, bytes, os.PathLike))}
    expected = {data.resolve() / f"{t}.csv" for t in ("referrals", "workforce", "returns")}
    assert expected <= opened
    for p in opened - expected:
        assert p == ATW.resolve() or STDLIB in p.parents, f"opened {p}"


# ---------------------------------------------------------------------------------------------
# CSV written for Excel


DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _assert_excel_safe(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(DANGEROUS), f"unescaped cell {cell!r} in {row}"


@pytest.mark.parametrize("measure", ["KPI1", "KPI3", "KPI4", "KPI5"])
def test_audit_csv_escapes_formula_cells(measure: str) -> None:
    status, out, err = pmirc("audit", ATW, INJECTION, "--measure", measure)
    assert status == 0, err
    rows = _cells(out)
    assert rows[0][:2] == ["measure", "id"] and len(rows) > 1
    _assert_excel_safe(rows)
    cells = {c for row in rows for c in row}
    if measure in ("KPI1", "KPI3"):  # every referral is in these populations
        assert {"'=HYPERLINK(\"http://x.invalid\",\"click\")", "'+SUM(1,2)", "'-2+3",
                "'@SUM(A1:A2)", "'\tTab", "'=1+1"} <= cells
        assert {"'=cmd|' /C calc'!A0", "'-R0000007", "'@R0000008", "'+R0000009"} <= cells


def test_audit_csv_file_escapes_formula_cells(tmp_path: Path) -> None:
    out = tmp_path / "audit.csv"
    status, stdout, err = pmirc("audit", ATW, INJECTION, "--measure", "KPI1", "-o", out)
    assert status == 0 and stdout == "", err
    rows = _cells(out.read_text(encoding="utf-8"))
    _assert_excel_safe(rows)
    assert any(r[1] == "'=cmd|' /C calc'!A0" for r in rows)


def test_audit_group_filter_on_a_formula_value() -> None:
    """--group provider==1+1 finds the provider '=1+1', and shows it escaped."""
    status, out, err = pmirc("audit", ATW, INJECTION, "--measure", "KPI1",
                             "--group", "provider==1+1")
    assert status == 0, err
    rows = _cells(out)[1:]
    assert rows and all(r[2] == "'=1+1" for r in rows)


@pytest.mark.parametrize("value", ["=1", "+1", "-1", "@x", "\t=1", "\r=1", "=", "-", "'=1",
                                   " =1", "\n=1", "\ufeff=1", "\uff1d1"])
def test_escape_cell_never_leaves_a_formula_first(value: str) -> None:
    escaped = escape_cell(value)
    assert not escaped.startswith(DANGEROUS)
    assert escaped.endswith(value)


def test_synthetic_data_has_no_formula_cells(tmp_path: Path) -> None:
    """``pmirc synth`` writes data files (not escaped, as they are read back); none of their
    cells begins with a formula character."""
    from pmir_dsl.synth import GENERATORS

    for name in sorted(GENERATORS):
        status, _, err = pmirc("synth", name, tmp_path / name, "--rows", "200")
        assert status == 0, err
        for path in sorted((tmp_path / name).glob("*.csv")):
            rows = _cells(path.read_text(encoding="utf-8"))
            for row in rows:
                for cell in row:
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), (path, cell)
                    assert not cell.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", cell), (
                        path, cell)
