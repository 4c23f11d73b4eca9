"""Diagnostics: pushed after open and (debounced) after each change, with
the document's version; served on request to clients that pull them.

A client that declares pull diagnostics gets no pushes (it would show every
problem twice). A change cancels the pending analysis of the same document,
and a result whose version is no longer current is dropped.

Other features may add diagnostics to one version of a document
(`set_extra`: the verifier's, btls/verify.py); they are served with the
analysis's until the document changes, since a new version is a new
snapshot.
"""

from __future__ import annotations

import asyncio
import weakref

from lsprotocol import types as lsp

from .guard import guarded, report_failure

_pending: dict[str, asyncio.TimerHandle] = {}
_extra: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Snapshot -> [lsp.Diagnostic]


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls, params: lsp.DidOpenTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, delay=0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls, params: lsp.DidChangeTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri, delay=ls.settings.debounce_ms / 1000)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(ls, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        handle = _pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        ls.documents.forget(uri)
        if not ls.client_pulls_diagnostics():
            ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(identifier="btls", inter_file_dependencies=False, workspace_diagnostics=False),
    )
    @guarded(lambda: lsp.RelatedFullDocumentDiagnosticReport(items=[]))
    def pull(ls, params: lsp.DocumentDiagnosticParams):
        return lsp.RelatedFullDocumentDiagnosticReport(items=to_lsp(ls.snapshot(params.text_document.uri)))


def to_lsp(snapshot) -> list[lsp.Diagnostic]:
    convert = snapshot.converter.diagnostic
    return [convert(item) for item in snapshot.analysis.diagnostics] + _extra.get(snapshot, [])


def set_extra(snapshot, items: list[lsp.Diagnostic]) -> None:
    """Serve `items` with `snapshot`'s own diagnostics (replacing what was
    set before); call publish() to push them."""
    _extra[snapshot] = list(items)


def schedule(ls, uri: str, delay: float) -> None:
    """Publish `uri`'s diagnostics after `delay` seconds, unless another
    change comes first."""
    if ls.client_pulls_diagnostics():
        return
    handle = _pending.pop(uri, None)
    if handle is not None:
        handle.cancel()
    loop = asyncio.get_running_loop()
    _pending[uri] = loop.call_later(delay, publish, ls, uri)


def publish(ls, uri: str) -> None:
    _pending.pop(uri, None)
    try:
        if not ls.documents.is_open(uri):
            return
        snapshot = ls.snapshot(uri)
        items = to_lsp(snapshot)
        if ls.documents.version(uri) != snapshot.version:
            return  # edited meanwhile: the next publish will have it
        ls.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=snapshot.version)
        )
    except Exception as failure:  # noqa: BLE001 - keep serving
        report_failure(ls, "publish diagnostics", failure)


def refresh_all(ls) -> None:
    """Settings changed what analysis knows: analyse open documents again."""
    for uri in list(ls.workspace.text_documents):
        ls.documents.forget(uri)
        schedule(ls, uri, delay=0)
    if ls.client_pulls_diagnostics():
        try:
            ls.workspace_diagnostic_refresh(None)
        except Exception:  # noqa: BLE001 - optional for clients
            pass
