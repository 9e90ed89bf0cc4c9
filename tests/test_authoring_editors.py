"""Editor support: the TextMate grammar, the Pygments lexer and the language server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lark.lexer import PatternStr
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name, Text

from pmir_dsl.lsp import check_text, definitions, hover_text, word_at
from pmir_dsl.parse import parser
from pmir_dsl.pygments_lexer import DECLARATIONS, KEYWORDS

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "contracts").glob("*.pmir")) + sorted((REPO / "stdlib").glob("*.pmir"))
TM = json.loads((REPO / "editors" / "pmir.tmLanguage.json").read_text())


def grammar_words() -> set[str]:
    """The literal words of grammar/pmir.lark."""
    return {t.pattern.value for t in parser().terminals
            if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier()}


def test_lexer_words_are_the_grammars() -> None:
    assert set(DECLARATIONS) | (set(KEYWORDS) & grammar_words()) == grammar_words()


def test_lexer_is_registered() -> None:
    assert get_lexer_by_name("pmir").name == "pmir"
    assert get_lexer_for_filename("x.pmir").name == "pmir"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_lexer_tokenises_bundled_files(path: Path) -> None:
    tokens = list(get_lexer_by_name("pmir").get_tokens(path.read_text()))
    assert not [v for t, v in tokens if t in Error]
    assert not [v for t, v in tokens if t is Text and v.strip()]  # every character recognised
    assert ("measure" in [v for t, v in tokens if t in Keyword.Declaration]) == \
        ("measure " in path.read_text())
    assert any(t in Name.Class for t, _ in tokens)


def test_textmate_grammar() -> None:
    assert TM["scopeName"] == "source.pmir" and TM["fileTypes"] == ["pmir"]
    keyword = TM["repository"]["keyword"]["match"]
    words = set(re.fullmatch(r"\\b\(\?:(.*)\)\\b", keyword)[1].split("|"))  # type: ignore[index]
    assert words == set(KEYWORDS)
    declaration = TM["repository"]["declaration"]["match"]
    assert all(d in declaration for d in DECLARATIONS)
    for include in TM["patterns"]:
        assert include["include"][1:] in TM["repository"]


def _regexes(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k in ("match", "begin", "end")] + \
            [r for v in node.values() for r in _regexes(v)]
    if isinstance(node, list):
        return [r for v in node for r in _regexes(v)]
    return []


def test_textmate_regexes_compile_and_match() -> None:
    compiled = [re.compile(r) for r in _regexes(TM["repository"])]
    assert len(compiled) >= 10
    date = re.compile(TM["repository"]["number"]["patterns"][0]["match"])
    assert date.search("service start 2024-04-01")


# ---- language server ----------------------------------------------------------------------------

BROKEN = 'contract "x" {\n  service start 2024-04-01\n}\nmeasure M "m" {\n  population nope\n}\n'


def test_check_text_gives_located_diagnostics(tmp_path: Path) -> None:
    path = str(tmp_path / "c.pmir")
    diags = check_text(BROKEN, path)
    assert diags and all(d.span.file == path for d in diags if d.span)
    assert any(d.code == "unknown-table" and d.span.line == 5 for d in diags)
    atw = (REPO / "contracts" / "atw_ha.pmir")
    assert check_text(atw.read_text(), str(atw)) == []


def test_hover_and_definitions() -> None:
    atw = REPO / "contracts" / "atw_ha.pmir"
    text = atw.read_text()
    hover = hover_text(text, str(atw), "KPI2")
    assert hover is not None and hover.startswith("**KPI2** Arranging the Holistic Assessment")
    assert "6.17 KPI 2" in hover
    assert hover_text(text, str(atw), "referrals") is None
    (table,) = definitions(text, str(atw), "referrals")
    assert text.split("\n")[table.line - 1].startswith("table referrals")
    cols = definitions(text, str(atw), "provider")
    assert len(cols) == 3  # referrals, workforce and returns each declare one
    (bands,) = definitions(text, str(atw), "cabinet_office_tiers")
    assert bands.file.endswith("cabinet_office.pmir")
    line = next(i for i, t in enumerate(text.split("\n")) if "population referrals" in t)
    assert word_at(text, line, text.split("\n")[line].index("referrals") + 3) == "referrals"


def _send(proc: subprocess.Popen, message: dict) -> None:  # type: ignore[type-arg]
    body = json.dumps(message).encode()
    assert proc.stdin is not None
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def _receive(proc: subprocess.Popen) -> dict:  # type: ignore[type-arg]
    assert proc.stdout is not None
    length = 0
    while (line := proc.stdout.readline().strip()):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))  # type: ignore[no-any-return]


def _until(proc: subprocess.Popen, test) -> dict:  # type: ignore[no-untyped-def, type-arg]
    for _ in range(50):
        message = _receive(proc)
        if test(message):
            return message
    raise AssertionError("no such message from the server")


def test_server_over_stdio_publishes_diagnostics(tmp_path: Path) -> None:
    uri = (tmp_path / "c.pmir").as_uri()
    proc = subprocess.Popen([sys.executable, "-m", "pmir_dsl.cli", "lsp"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        _send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                     "params": {"processId": None, "rootUri": None, "capabilities": {}}})
        init = _until(proc, lambda m: m.get("id") == 1)
        caps = init["result"]["capabilities"]
        assert caps.get("hoverProvider") and caps.get("definitionProvider")
        _send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        _send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "pmir", "version": 1, "text": BROKEN}}})
        note = _until(proc, lambda m: m.get("method") == "textDocument/publishDiagnostics")
        assert note["params"]["uri"] == uri
        (diag,) = [d for d in note["params"]["diagnostics"] if d["code"] == "unknown-table"]
        assert diag["range"]["start"]["line"] == 4 and diag["source"] == "pmirc"
        _send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": BROKEN.replace("population nope", "cite \"1.1\"")}]}})
        note = _until(proc, lambda m: m.get("method") == "textDocument/publishDiagnostics")
        assert all(d["code"] != "unknown-table" for d in note["params"]["diagnostics"])
        _send(proc, {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": 3, "character": 8}}})
        hover = _until(proc, lambda m: m.get("id") == 2)
        assert hover["result"]["contents"]["value"].startswith("**M** m")
        _send(proc, {"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        _until(proc, lambda m: m.get("id") == 3)
        _send(proc, {"jsonrpc": "2.0", "method": "exit"})
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_textmate_file_is_the_generators_output() -> None:
    import runpy

    made = runpy.run_path(str(REPO / "editors" / "make_tmlanguage.py"))["grammar"]()
    assert made == TM
