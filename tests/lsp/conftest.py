"""pytest-lsp fixtures: a real btls server over stdio, driven by clients
with the capabilities of VS Code, Neovim 0.7 (Debian's) and Neovim 0.11.

Servers are module-scoped (each start costs about a second), so every test
opens its documents under its own URI (`helpers.open_document`). The server
gets the fixture kernel facts of tests/fixtures/kernel.py and no debounce.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

TESTS = Path(__file__).resolve().parent.parent
PROFILES = ["visual-studio-code", "neovim@v0.7.0", "neovim@v0.11.0"]
INIT_OPTIONS = {"btls": {"kernelFacts": "fixtures.kernel:fixture_facts", "debounceMs": 0}}


def server_config() -> ClientServerConfig:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    return ClientServerConfig(server_command=[sys.executable, "-m", "btls"], server_env=env)


async def start_session(lsp_client: LanguageClient, profile: str, options=None, capabilities=None):
    lsp_client.profile = profile
    lsp_client.run_output = []
    lsp_client.feature("btls/output")(lambda params: lsp_client.run_output.append(params))
    lsp_client.diagnostic_versions = {}

    def on_diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        lsp_client.diagnostics[params.uri] = params.diagnostics
        lsp_client.diagnostic_versions[params.uri] = params.version

    # Replaces pytest-lsp's own handler, which does not keep the version.
    lsp_client.protocol.fm.features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_diagnostics
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities or client_capabilities(profile),
            initialization_options=INIT_OPTIONS if options is None else options,
            root_uri=(TESTS / "corpus").as_uri(),
        )
    )
    lsp_client.initialize_result = result
    return result


@pytest_lsp.fixture(params=PROFILES, scope="module", config=server_config())
async def client(lsp_client: LanguageClient, request):
    await start_session(lsp_client, request.param)
    yield
    await lsp_client.shutdown_session()

