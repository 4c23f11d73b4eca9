"""Small helpers for the language server tests."""

from __future__ import annotations

import asyncio
import itertools

from lsprotocol import types as lsp

_counter = itertools.count()


def new_uri(stem: str = "doc") -> str:
    return f"file:///tmp/btls-tests/{stem}-{next(_counter)}.bt"


def open_document(client, text: str, uri: str | None = None, version: int = 1) -> str:
    uri = uri or new_uri()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="bpftrace", version=version, text=text)
        )
    )
    return uri


def change_document(client, uri: str, version: int, text: str, range_: lsp.Range | None = None) -> None:
    """Replace `range_` (or the whole text) with `text`."""
    change = (
        lsp.TextDocumentContentChangePartial(range=range_, text=text)
        if range_ is not None
        else lsp.TextDocumentContentChangeWholeDocument(text=text)
    )
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change],
        )
    )


def pushes_diagnostics(client) -> bool:
    """Clients that pull diagnostics get no pushes (see btls/diagnostics.py)."""
    return client.profile != "neovim@v0.11.0"


async def diagnostics_for(client, uri: str, version: int | None = None, timeout: float = 10.0) -> list[lsp.Diagnostic]:
    """The diagnostics of `uri` (at `version`, when given): pushed ones, or
    pulled for clients that pull."""
    if not pushes_diagnostics(client):
        report = await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )
        return list(report.items)
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if uri in client.diagnostics and (version is None or client.diagnostic_versions.get(uri) == version):
            return list(client.diagnostics[uri])
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics for {uri} (version {version}) within {timeout}s: {client.diagnostics} {client.log_messages}")


def position_of(text: str, needle: str, *, delta: int = 0, occurrence: int = 0) -> lsp.Position:
    """The position of the `occurrence`th `needle` in `text`, moved `delta`
    characters right (ASCII text: characters are UTF-16 units)."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += delta
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return lsp.Position(line=line, character=column)


def doc_id(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


def text_of_range(text: str, range_: lsp.Range) -> str:
    lines = text.split("\n")

    def index(position: lsp.Position) -> int:
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    return text[index(range_.start) : index(range_.end)]
