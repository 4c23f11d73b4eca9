"""Position encodings: UTF-16 unless the client offers UTF-8, and every
range in the negotiated units (a line with é and an emoji before the
error tells them apart)."""

from __future__ import annotations

import pytest
import pytest_lsp
from helpers import diagnostics_for, open_document
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from conftest import server_config, start_session

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEXT = 'BEGIN { $s = "é😀"; prinft($s); }\n'


@pytest_lsp.fixture(params=["utf-8", "utf-16"], scope="module", config=server_config())
async def encoded_client(lsp_client: LanguageClient, request):
    from pytest_lsp import client_capabilities

    capabilities = client_capabilities("visual-studio-code")
    capabilities.general = lsp.GeneralClientCapabilities(position_encodings=[request.param, "utf-16"])
    await start_session(lsp_client, "visual-studio-code", capabilities=capabilities)
    lsp_client.encoding = request.param
    yield
    await lsp_client.shutdown_session()


async def test_ranges_use_the_negotiated_encoding(encoded_client) -> None:
    assert encoded_client.initialize_result.capabilities.position_encoding == encoded_client.encoding
    uri = open_document(encoded_client, TEXT)
    [diagnostic] = await diagnostics_for(encoded_client, uri, version=1)
    prefix = TEXT[: TEXT.index("prinft")]
    if encoded_client.encoding == "utf-8":
        start = len(prefix.encode("utf-8"))
    else:
        start = len(prefix.encode("utf-16-le")) // 2
    assert diagnostic.range.start == lsp.Position(line=0, character=start)
    assert diagnostic.range.end == lsp.Position(line=0, character=start + 6)
