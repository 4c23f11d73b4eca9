"""Diagnostics: pushed with the document's version after open and after
each change, pulled by clients that pull, with codes, ranges, related
information and hints."""

from __future__ import annotations

import pytest
from helpers import change_document, diagnostics_for, doc_id, open_document, position_of
from lsprotocol import types as lsp

# The module-scoped server lives on the module's event loop (conftest.py).
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_semantic_error_has_code_range_and_hint(client) -> None:
    text = 'BEGIN { prinft("x"); }\n'
    uri = open_document(client, text)
    diagnostics = await diagnostics_for(client, uri, version=1)
    assert len(diagnostics) == 1
    only = diagnostics[0]
    assert only.severity == lsp.DiagnosticSeverity.Error
    assert only.code == "unknown-function"
    assert only.source == "btls"
    assert only.range == lsp.Range(start=position_of(text, "prinft"), end=position_of(text, "prinft", delta=6))
    assert "HINT: did you mean" in only.message and "printf" in only.message


async def test_syntax_error_is_reported(client) -> None:
    text = "BEGIN { @x = ; }\n"
    uri = open_document(client, text)
    diagnostics = await diagnostics_for(client, uri, version=1)
    assert [d.code for d in diagnostics] == ["syntax"]
    assert diagnostics[0].range.start.line == 0


async def test_change_republishes_with_new_version(client) -> None:
    uri = open_document(client, "BEGIN { prinft(1); }\n")
    assert await diagnostics_for(client, uri, version=1)
    change_document(client, uri, 2, 'BEGIN { printf("%d\\n", 1); }\n')
    assert await diagnostics_for(client, uri, version=2) == []


async def test_incremental_edit_is_applied(client) -> None:
    text = "BEGIN { $x = 1; }\n"
    uri = open_document(client, text)
    first = await diagnostics_for(client, uri, version=1)
    assert [d.code for d in first] == ["unused"]
    assert list(first[0].tags) == [lsp.DiagnosticTag.Unnecessary]
    # Insert a use of $x before the closing brace.
    at = position_of(text, "}")
    change_document(client, uri, 2, "print($x); ", lsp.Range(start=at, end=at))
    assert await diagnostics_for(client, uri, version=2) == []


async def test_related_information_points_at_first_assignment(client) -> None:
    text = 'BEGIN { $x = 1; $x = "str"; }\n'
    uri = open_document(client, text)
    diagnostics = await diagnostics_for(client, uri, version=1)
    errors = [d for d in diagnostics if d.severity == lsp.DiagnosticSeverity.Error]
    assert errors, diagnostics
    related = errors[0].related_information
    assert related and related[0].location.uri == uri


async def test_pull_answers_every_client(client) -> None:
    uri = open_document(client, "BEGIN { exit(1, 2, 3); }\n")
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(text_document=doc_id(uri)))
    assert report.kind == "full"
    assert [d.code for d in report.items] == ["arguments"] or report.items[0].severity == lsp.DiagnosticSeverity.Error


async def test_close_clears_pushed_diagnostics(client) -> None:
    uri = open_document(client, "BEGIN { prinft(1); }\n")
    assert await diagnostics_for(client, uri, version=1)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=doc_id(uri)))
    if client.profile != "neovim@v0.11.0":
        import asyncio

        for _ in range(500):
            if not client.diagnostics[uri]:
                break
            await asyncio.sleep(0.01)
        assert list(client.diagnostics[uri]) == []
