"""The language server starts over stdio and answers the handshake, for
several editors' client capabilities."""

from __future__ import annotations

import sys

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


@pytest_lsp.fixture(
    params=["visual-studio-code", "neovim@v0.7.0"],
    config=ClientServerConfig(server_command=[sys.executable, "-m", "btls"]),
)
async def client(lsp_client: LanguageClient, request):
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(capabilities=client_capabilities(request.param))
    )
    lsp_client.initialize_result = result
    yield
    await lsp_client.shutdown_session()


async def test_initialize_names_the_server(client: LanguageClient) -> None:
    info = client.initialize_result.server_info
    assert info.name == "btls"
    assert info.version
