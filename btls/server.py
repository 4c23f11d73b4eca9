"""The pygls server object: documents, settings and kernel facts, and the
features, one module each, registered from `FEATURES`.

Nothing heavy happens on the start path: the frontend (lark, the analyser)
is imported when the first document needs it, and kernel facts when the
first analysis does.
"""

from __future__ import annotations

import importlib
from typing import Optional

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from . import __version__
from .convert import encoding_name
from .documents import DocumentStore, Snapshot
from .kernel import FactsProvider
from .protocol import BtlsProtocol
from .settings import Settings

# LSP's RequestFailed error code: a valid request the server declines.
REQUEST_FAILED = -32803

# Each module has `register(server)`, which adds its handlers.
FEATURES = (
    "lifecycle",
    "diagnostics",
    "completion",
    "tokens",
    "inlay",
    "structure",
    "hover",
    "signature",
    "navigation",
    "symbols",
    "code_actions",
    "run",
    "codelens",
    "verify",
    "formatting",
)


class BtlsServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "btls",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=BtlsProtocol,
        )
        self.settings = Settings()
        self.facts = FactsProvider(self.settings.kernel_facts)
        self.documents = DocumentStore(self._workspace_or_none, self.facts, self.position_encoding)

    # ------------------------------------------------------------ documents

    def snapshot(self, uri: str) -> Snapshot:
        return self.documents.get(uri)

    def position_encoding(self) -> str:
        workspace = self._workspace_or_none()
        return encoding_name(workspace.position_encoding if workspace is not None else None)

    def _workspace_or_none(self):
        try:
            return self.workspace
        except Exception:  # noqa: BLE001 - before initialize there is none
            return None

    # ------------------------------------------------------------- settings

    def apply_settings(self, options) -> bool:
        """Merge client options; True when kernel facts changed (documents
        must then be analysed again)."""
        self.settings = self.settings.updated(options)
        facts = self.settings.kernel_facts
        if not self.settings.trusted and facts not in ("live", "none"):
            # `module:function` imports code named by the workspace: never
            # for a workspace the user has not trusted.
            facts = "live"
        return self.facts.use(facts)

    # ----------------------------------------------------- client features

    def _capability(self, *path: str):
        value = self.client_capabilities if self._workspace_or_none() is not None else None
        for name in path:
            if value is None:
                return None
            value = getattr(value, name, None)
        return value

    def client_supports_markdown(self, *path: str) -> bool:
        formats = self._capability(*path)
        return bool(formats) and lsp.MarkupKind.Markdown in formats

    def client_supports_snippets(self) -> bool:
        return bool(self._capability("text_document", "completion", "completion_item", "snippet_support"))

    def client_pulls_diagnostics(self) -> bool:
        return self._capability("text_document", "diagnostic") is not None

    def client_has_configuration(self) -> bool:
        return bool(self._capability("workspace", "configuration"))

    def report_server_error(self, error: Exception, source) -> None:
        # A failed request was already answered with its error (and a
        # refused rename says why in its answer). Anything else goes to the
        # client's log, not to a pop-up.
        from pygls.exceptions import FeatureRequestError

        from .guard import report_failure

        if source is FeatureRequestError or getattr(error, "code", None) == REQUEST_FAILED:
            return
        report_failure(self, getattr(source, "__name__", str(source)), error)


def create_server(features: Optional[tuple[str, ...]] = None) -> BtlsServer:
    server = BtlsServer()
    for name in features if features is not None else FEATURES:
        importlib.import_module(f"{__package__}.{name}").register(server)
    return server
