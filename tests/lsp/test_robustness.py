"""The server survives what editors and users throw at it: malformed
requests, unknown documents, positions past the end, a 10 MB document, and
random edit sequences (hypothesis). A failing handler would answer with an
error or log "btls: ... failed"; neither may happen."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest
from helpers import diagnostics_for, doc_id, open_document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcMethodNotFound
from pytest_lsp import LanguageClient, client_capabilities

from conftest import INIT_OPTIONS, TESTS

pytestmark = pytest.mark.asyncio(loop_scope="module")


def failures(client) -> list[str]:
    return [m.message for m in client.log_messages if "failed" in m.message and m.message.startswith("btls:")]


_raw_ids = iter(range(1_000_000))


async def send_raw(client, method: str, params):
    """Send a request exactly as given (no typed serialisation)."""
    msg_id = f"raw-{next(_raw_ids)}"
    future = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(future, 30)


async def test_malformed_params_get_an_error_and_the_server_goes_on(client) -> None:
    with pytest.raises(JsonRpcException):
        await send_raw(client, "textDocument/diagnostic", {"textDocument": {}, "position": "x"})
    with pytest.raises(JsonRpcException):
        await send_raw(client, "textDocument/diagnostic", [1, 2, 3])
    with pytest.raises(JsonRpcException):
        await send_raw(client, "textDocument/noSuchMethod", {})
    uri = open_document(client, "BEGIN { prinft(1); }\n")
    assert [d.code for d in await diagnostics_for(client, uri, version=1)] == ["unknown-function"]


async def test_unknown_documents_answer_empty(client) -> None:
    uri = "file:///nonexistent/never-opened.bt"
    report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(text_document=doc_id(uri)))
    assert list(report.items) == []
    assert not failures(client)


async def test_positions_past_the_end_are_clamped(client) -> None:
    uri = open_document(client, "BEGIN { @x = 1; }\n")
    await diagnostics_for(client, uri, version=1)
    far = lsp.Position(line=10_000, character=10_000)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=far, end=far), text="\n// end")],
        )
    )
    assert await diagnostics_for(client, uri, version=2) == []
    assert not failures(client)


async def test_a_10_megabyte_document_is_refused_politely(client) -> None:
    text = "BEGIN { @x = 1; }\n" * (10 * 1024 * 1024 // 18 + 1)
    uri = open_document(client, text)
    diagnostics = await diagnostics_for(client, uri, version=1, timeout=60)
    assert [d.code for d in diagnostics] == ["too-large"]
    # ... and the server still answers about other documents.
    other = open_document(client, "BEGIN { prinft(1); }\n")
    assert [d.code for d in await diagnostics_for(client, other, version=1)] == ["unknown-function"]
    assert not failures(client)


# ------------------------------------------------------ random edit sequences


class ServerThread:
    """One server for all of hypothesis' examples: its client lives on an
    event loop in a background thread, and the (synchronous) test calls in."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = LanguageClient()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
        self.call(self.client.start_io(sys.executable, "-m", "btls", env=env))
        self.call(
            self.client.initialize_session(
                lsp.InitializeParams(
                    capabilities=client_capabilities("neovim@v0.11.0"), initialization_options=INIT_OPTIONS
                )
            )
        )

    def call(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.call(self.client.shutdown_session())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def server_thread():
    server = ServerThread()
    yield server
    server.close()


FRAGMENTS = ['kprobe:vfs_read { @[comm] = count(); }\n', "{", "}", "(", ")", ";", '"', "/*", "*/", "//", "\n",
             "$x = 1;", "@m[pid, comm] = hist(retval);", "printf(\"%s %d\\n\", comm, pid);", "args.", "->",
             "if ($x > 1) {", "é", "😀", "\t", "macro m($a) { $a + 1 }\n", "tracepoint:sched:", "ntop(2, ",
             "config = { max_map_keys = 1 }\n", "#include <linux/sched.h>\n", "struct S { int a; }\n", ""]  # fmt: skip
EDIT = st.tuples(st.integers(0, 40), st.integers(0, 90), st.integers(0, 3), st.integers(0, 30),
                 st.sampled_from(FRAGMENTS))  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(EDIT, min_size=1, max_size=8))
def test_random_edits_never_fail(server_thread, edits) -> None:
    server_thread.call(_random_session(server_thread.client, edits))


_documents = iter(range(1_000_000))


async def _random_session(client, edits) -> None:
    uri = f"file:///tmp/btls-random/{next(_documents)}.bt"
    text = 'tracepoint:sched:sched_switch { @[args.prev_comm] = count(); }\nBEGIN { $x = "é😀"; print($x); }\n'
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="bpftrace", version=1, text=text))
    )  # fmt: skip
    for version, (line, character, line_span, length, insert) in enumerate(edits, start=2):
        start = lsp.Position(line=line, character=character)
        end = lsp.Position(line=line + line_span, character=length)
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=start, end=end), text=insert)],
            )
        )  # fmt: skip
        position = lsp.Position(line=line // 2, character=character // 2)
        document = doc_id(uri)
        await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(text_document=document))
        for method, params in _requests(document, position):
            try:
                await send_raw(client, method, params)
            except JsonRpcMethodNotFound:
                pass  # a feature this server does not offer
            except JsonRpcException as refusal:
                # A deliberate refusal (renaming `args`) is RequestFailed;
                # an internal error would be -32603.
                assert refusal.code == int(lsp.LSPErrorCodes.RequestFailed), (method, refusal)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=doc_id(uri)))
    assert not failures(client), failures(client)[0]


def _requests(document, position):
    """Every position-based request the server has registered."""
    at = {"textDocument": {"uri": document.uri}, "position": {"line": position.line, "character": position.character}}
    whole = {"textDocument": {"uri": document.uri}}
    span = {"start": {"line": 0, "character": 0}, "end": {"line": position.line + 1, "character": 0}}
    return [
        ("textDocument/hover", at),
        ("textDocument/completion", at),
        ("textDocument/signatureHelp", at),
        ("textDocument/definition", at),
        ("textDocument/references", {**at, "context": {"includeDeclaration": True}}),
        ("textDocument/documentHighlight", at),
        ("textDocument/prepareRename", at),
        ("textDocument/documentSymbol", whole),
        ("textDocument/semanticTokens/full", whole),
        ("textDocument/semanticTokens/range", {**whole, "range": span}),
        ("textDocument/inlayHint", {**whole, "range": span}),
        ("textDocument/foldingRange", whole),
        ("textDocument/selectionRange", {**whole, "positions": [at["position"]]}),
        ("textDocument/documentLink", whole),
    ]


def test_untrusted_settings_cannot_import_modules() -> None:
    from btls.server import BtlsServer

    server = BtlsServer()
    server.apply_settings({"btls": {"trusted": False, "kernelFacts": "fixtures.kernel:fixture_facts"}})
    assert server.facts.setting == "live"
    trusted = BtlsServer()
    trusted.apply_settings({"btls": {"kernelFacts": "fixtures.kernel:fixture_facts"}})
    assert trusted.facts.setting == "fixtures.kernel:fixture_facts"
