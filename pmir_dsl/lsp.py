"""A language server for ``.pmir`` files: ``pmirc lsp`` (needs the ``lsp`` extra: pygls).

Over standard input and output it gives an editor:

* live diagnostics: the checker's diagnostics for the text being edited (saved or not), on
  every open and change, as ``pmirc lint`` would report them for that file;
* hover on a measure's id: its title and cite;
* go to definition: a name of a table, a column (of any table declaring it) or a band set (in
  the file, or in the stdlib module it is imported from).

The analysis functions take source text and give plain data, so they are tested without a
client; :func:`serve` wires them to pygls.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from . import ast
from .diagnostics import CompileError, Span

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def uri_path(uri: str) -> str:
    """The file path of a ``file://`` URI (the URI itself for any other scheme)."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def check_text(source: str, path: str) -> list[Any]:
    """The checker's diagnostics for ``source`` that are in this file (none when it is fine).
    A module without a contract header (a band set to import) is not told it lacks one."""
    from .check import check_source
    from .source_warnings import scan

    try:
        check_source(source, path, Path(path).resolve().parent)
    except CompileError as e:
        return [d for d in e.diagnostics if d.span is None or d.span.file == path
                if d.code != "no-contract"]
    return scan(source, path)  # a clean contract's warnings (text not as it looks)


def word_at(source: str, line: int, character: int) -> str | None:
    """The name under a 0-based (line, character) position, if any."""
    lines = source.split("\n")
    if not 0 <= line < len(lines):
        return None
    for m in _WORD.finditer(lines[line]):
        if m.start() <= character <= m.end():
            return m.group()
    return None


def _module(source: str, path: str) -> ast.Module | None:
    from .parse import parse

    module, _ = parse(source, path)
    return module


def hover_text(source: str, path: str, name: str) -> str | None:
    """Markdown for a hover on ``name``: a measure's id, title and cite."""
    module = _module(source, path)
    for item in module.items if module else ():
        if isinstance(item, ast.MeasureDecl) and item.id.text == name:
            cites = [c.text.text for c in item.clauses if isinstance(c, ast.Cite)]
            body = f"**{name}** {item.title.text}"
            return body + "".join(f"\n\n{c}" for c in cites)
    return None


def definitions(source: str, path: str, name: str) -> list[Span]:
    """Where ``name`` is declared: a table, the columns of that name, or a band set."""
    module = _module(source, path)
    found: list[Span] = []
    for item in module.items if module else ():
        if isinstance(item, ast.TableDecl):
            if item.name.text == name and item.name.span:
                found.append(item.name.span)
            found += [c.name.span for c in item.clauses if isinstance(c, ast.ColumnDecl)
                      and c.name.text == name and c.name.span]
        elif isinstance(item, ast.BandsDecl) and item.name.text == name and item.name.span:
            found.append(item.name.span)
    if not found and module is not None:
        found = _imported_bands(module, name)
    return found


def _imported_bands(module: ast.Module, name: str) -> list[Span]:
    """A band set declared in a stdlib module the file imports."""
    out: list[Span] = []
    for imp in (i for i in module.items if isinstance(i, ast.Import) and not i.is_path):
        entry = resources.files("pmir_dsl.stdlib").joinpath(f"{imp.module}.pmir")
        if not entry.is_file():
            continue
        lib = _module(entry.read_text(encoding="utf-8"), str(entry))
        out += [b.name.span for b in (lib.items if lib else ())
                if isinstance(b, ast.BandsDecl) and b.name.text == name and b.name.span]
    return out


def serve() -> None:
    """Run the server over standard input and output until the client exits."""
    from lsprotocol import types as lsp
    from pygls.lsp.server import LanguageServer

    from . import __version__

    server = LanguageServer("pmirc", __version__)

    def to_range(span: Span) -> Any:
        return lsp.Range(lsp.Position(span.line - 1, span.column - 1),
                         lsp.Position(span.end_line - 1, span.end_column - 1))

    def publish(uri: str) -> None:
        doc = server.workspace.get_text_document(uri)
        found = [lsp.Diagnostic(
            range=to_range(d.span) if d.span else lsp.Range(lsp.Position(0, 0),
                                                            lsp.Position(0, 1)),
            message=d.message + (f"\nhint: {d.hint}" if d.hint else ""), code=d.code,
            source="pmirc", severity=lsp.DiagnosticSeverity.Error if d.severity == "error"
            else lsp.DiagnosticSeverity.Warning) for d in check_text(doc.source, uri_path(uri))]
        server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=found))

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: Any) -> None:
        publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: Any) -> None:
        publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(params: Any) -> Any:
        doc = server.workspace.get_text_document(params.text_document.uri)
        name = word_at(doc.source, params.position.line, params.position.character)
        text = hover_text(doc.source, uri_path(doc.uri), name) if name else None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text)) if text else None

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(params: Any) -> Any:
        doc = server.workspace.get_text_document(params.text_document.uri)
        name = word_at(doc.source, params.position.line, params.position.character)
        spans = definitions(doc.source, uri_path(doc.uri), name) if name else []
        return [lsp.Location(uri=doc.uri if s.file == uri_path(doc.uri) else
                             Path(s.file).resolve().as_uri(), range=to_range(s)) for s in spans]

    server.start_io()
