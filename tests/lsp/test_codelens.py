"""Code lenses: Run and Verify above the first probe, Run probe above each
probe of a multi-probe file, with their commands, arguments and ranges."""

from __future__ import annotations

import pytest
import pytest_lsp
from conftest import INIT_OPTIONS, server_config, start_session
from helpers import doc_id, open_document, position_of
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEXT = """#include <linux/sched.h>
config = { max_strlen = 64 }
macro twice(x) { x * 2 }

BEGIN { printf("begin\\n"); }

// every 100 ms
interval:ms:100,
interval:ms:200
{
  @n++;
}
"""


async def lenses_of(client, uri: str) -> list[lsp.CodeLens]:
    return list(await client.text_document_code_lens_async(lsp.CodeLensParams(text_document=doc_id(uri))))


def summary(lenses: list[lsp.CodeLens]) -> list[tuple]:
    return [(lens.range.start.line, lens.command.title, lens.command.command, list(lens.command.arguments)) for lens in lenses]


async def test_lenses_for_the_file_and_each_probe(client) -> None:
    uri = open_document(client, TEXT)
    lenses = await lenses_of(client, uri)
    assert summary(lenses) == [
        (4, "▶ Run", "btls.run", [{"uri": uri}]),
        (4, "✓ Verify", "btls.verify", [{"uri": uri}]),
        (4, "▶ Run probe", "btls.run", [{"uri": uri, "probe": 0, "line": 4}]),
        (7, "▶ Run probe", "btls.run", [{"uri": uri, "probe": 1, "line": 7}]),
    ]
    # A lens spans its probe's attach points (both lines of the second one).
    assert lenses[0].range == lsp.Range(start=position_of(TEXT, "BEGIN"), end=position_of(TEXT, "BEGIN", delta=5))
    assert lenses[3].range == lsp.Range(
        start=position_of(TEXT, "interval:ms:100"), end=position_of(TEXT, "interval:ms:200", delta=15)
    )
    assert all(lens.data is None for lens in lenses)  # complete: nothing to resolve


async def test_one_probe_has_no_separate_probe_lens(client) -> None:
    text = "interval:s:1 { @n++; }\n"
    uri = open_document(client, text)
    assert summary(await lenses_of(client, uri)) == [
        (0, "▶ Run", "btls.run", [{"uri": uri}]),
        (0, "✓ Verify", "btls.verify", [{"uri": uri}]),
    ]


async def test_no_probes_no_lenses(client) -> None:
    uri = open_document(client, "macro twice(x) { x * 2 }\n// nothing to run\n")
    assert await lenses_of(client, uri) == []


async def test_lenses_follow_edits_and_broken_text(client) -> None:
    # A probe with a syntax error still gets its lens (running it reports the error).
    text = "BEGIN { @x = ; }\n\n\ntracepoint:sched:sched_switch { @s = count(); }\n"
    uri = open_document(client, text)
    lines = [(lens.range.start.line, lens.command.title) for lens in await lenses_of(client, uri)]
    assert lines == [(0, "▶ Run"), (0, "✓ Verify"), (0, "▶ Run probe"), (3, "▶ Run probe")]


async def test_server_advertises_lenses_and_commands(client) -> None:
    capabilities = client.initialize_result.capabilities
    assert capabilities.code_lens_provider is not None
    assert capabilities.code_lens_provider.resolve_provider is False
    assert {"btls.run", "btls.stop"} <= set(capabilities.execute_command_provider.commands)


@pytest_lsp.fixture(scope="module", config=server_config())
async def untrusted(lsp_client: LanguageClient):
    await start_session(lsp_client, "neovim@v0.11.0", options={"btls": {**INIT_OPTIONS["btls"], "trusted": False}})
    yield
    await lsp_client.shutdown_session()


async def test_untrusted_workspace_gets_no_run_lenses(untrusted) -> None:
    uri = open_document(untrusted, TEXT)
    assert [lens.command.title for lens in await lenses_of(untrusted, uri)] == ["✓ Verify"]
