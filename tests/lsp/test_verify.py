"""btls.verify: the document's text loaded into the kernel (never attached)
by `btc --verify`; a verifier rejection comes back as a diagnostic with
source "verifier" on the code that produced the refused instruction,
published with the document's own diagnostics until it changes; a clean
script verifies; an untrusted workspace, a script with errors and bad
arguments are refused; verifyOnSave verifies on didSave.

The rejected construct is real: `while (1) { }` compiles, and the verifier
refuses it ("infinite loop detected at insn N"). Loading programs needs
root (marker `bpf`).
"""

from __future__ import annotations

import asyncio
import os

import pytest
import pytest_lsp
from conftest import INIT_OPTIONS, PROFILES, server_config, start_session
from helpers import change_document, diagnostics_for, open_document, pushes_diagnostics, text_of_range
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root"),
]

# Line 6 (5 from 0) is the loop the verifier refuses; line 4's variable is
# never read, which the analysis warns about (a diagnostic of its own).
LOOPING = """// verify me
BEGIN
{
  $unused = 1;
  printf("starting\\n");
  while (1) {
  }
}
"""
CLEAN = 'BEGIN\n{\n  printf("%d\\n", 42);\n  exit();\n}\n'


async def verify(client, *arguments) -> dict:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="btls.verify", arguments=list(arguments))
    )


def of_verifier(items) -> list:
    return [d for d in items if d.source == "verifier"]


async def until_verifier_diagnostics(client, uri: str, present: bool, timeout: float = 10.0) -> list:
    """The document's diagnostics once they do (or do not) hold the verifier's."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        items = await diagnostics_for(client, uri)
        if bool(of_verifier(items)) == present:
            return items
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"verifier diagnostics {'missing' if present else 'still there'}: {items}")
        await asyncio.sleep(0.05)


@pytest_lsp.fixture(params=PROFILES, scope="module", config=server_config())
async def client(lsp_client: LanguageClient, request):
    await start_session(lsp_client, request.param)
    yield
    await lsp_client.shutdown_session()


async def test_a_rejection_is_a_diagnostic_on_the_line_that_caused_it(client) -> None:
    uri = open_document(client, LOOPING)
    result = await verify(client, {"uri": uri})
    assert result["verified"] is False and result["programs"] == 1
    (returned,) = [d for d in result["diagnostics"] if d["source"] == "verifier"]
    assert returned["message"].startswith("infinite loop detected at insn ")
    assert returned["range"] == {"start": {"line": 5, "character": 2}, "end": {"line": 5, "character": 13}}
    assert "line 6" in result["message"]

    # Published (or pulled) together with the analysis's own diagnostics.
    items = await until_verifier_diagnostics(client, uri, present=True)
    (found,) = of_verifier(items)
    assert text_of_range(LOOPING, found.range) == "while (1) {"
    assert found.severity == lsp.DiagnosticSeverity.Error and found.code == "verifier"
    assert found.message.splitlines()[0] == returned["message"]
    assert any(d.source == "btls" and "$unused" in d.message for d in items)
    # The probe and the verifier's log, as related information.
    notes = {info.message.splitlines()[0]: info for info in found.related_information}
    probe = notes["the probe at line 2 (BEGIN) was rejected by the BPF verifier: "
                  f"{returned['message']} (at line 6)"]  # fmt: skip
    assert probe.location.uri == uri and probe.location.range.start == lsp.Position(line=1, character=0)
    log = notes["the verifier's log:"]
    assert "; while (1) { @ " in log.message and returned["message"] in log.message
    assert found.data["instruction"] == int(returned["message"].rsplit(" ", 1)[1])
    assert any(m.type == lsp.MessageType.Warning and "infinite loop" in m.message for m in client.messages)


async def test_verifier_diagnostics_stay_until_the_document_changes(client) -> None:
    uri = open_document(client, LOOPING)
    await verify(client, {"uri": uri})
    await until_verifier_diagnostics(client, uri, present=True)
    change_document(client, uri, 2, LOOPING + "// edited\n")
    items = await until_verifier_diagnostics(client, uri, present=False)
    assert any("$unused" in d.message for d in items)  # the document's own remain


async def test_a_clean_script_verifies_with_no_verifier_diagnostics(client) -> None:
    uri = open_document(client, CLEAN)
    result = await verify(client, uri)  # the shorthand: the uri alone
    assert result == {
        "verified": True, "programs": 1, "diagnostics": [],
        "message": f"btls: {uri.rsplit('/', 1)[1]}: 1 program passed the kernel verifier",
    }  # fmt: skip
    assert of_verifier(await diagnostics_for(client, uri)) == []
    assert client.messages[-1].type == lsp.MessageType.Info


async def test_unsaved_text_is_what_is_verified(client) -> None:
    uri = open_document(client, CLEAN)
    change_document(client, uri, 2, LOOPING)
    result = await verify(client, {"uri": uri})
    assert result["verified"] is False
    assert [d["range"]["start"]["line"] for d in result["diagnostics"]] == [5]


async def test_a_script_with_errors_is_refused_with_its_diagnostics(client) -> None:
    uri = open_document(client, "BEGIN {\n  nosuch();\n}\n")
    result = await verify(client, {"uri": uri})
    assert result["verified"] is False and result["reason"] == "errors"
    assert "not verified" in result["message"] and "line 2" in result["message"]
    assert result["diagnostics"][0]["range"]["start"]["line"] == 1


async def test_bad_arguments_and_documents_without_probes_are_refused(client) -> None:
    assert (await verify(client, {"uri": 7}))["reason"] == "bad-arguments"
    assert (await verify(client))["reason"] == "bad-arguments"
    uri = open_document(client, "// nothing to verify\n")
    assert (await verify(client, {"uri": uri}))["reason"] == "no-probe"


async def test_the_server_offers_the_command(client) -> None:
    provider = client.initialize_result.capabilities.execute_command_provider
    assert "btls.verify" in provider.commands


# -- an untrusted workspace ------------------------------------------------------------

UNTRUSTED = {"btls": {**INIT_OPTIONS["btls"], "trusted": False}}


@pytest_lsp.fixture(scope="module", config=server_config())
async def untrusted(lsp_client: LanguageClient):
    await start_session(lsp_client, "visual-studio-code", options=UNTRUSTED)
    yield
    await lsp_client.shutdown_session()


async def test_an_untrusted_workspace_verifies_nothing(untrusted) -> None:
    uri = open_document(untrusted, LOOPING)
    result = await verify(untrusted, {"uri": uri})
    assert result["verified"] is False and result["reason"] == "untrusted"
    assert "not trusted" in result["message"]
    items = await diagnostics_for(untrusted, uri)
    assert of_verifier(items) == []


# -- verifyOnSave ------------------------------------------------------------------------

ON_SAVE = {"btls": {**INIT_OPTIONS["btls"], "verifyOnSave": True}}


@pytest_lsp.fixture(params=PROFILES, scope="module", config=server_config())
async def saving(lsp_client: LanguageClient, request):
    await start_session(lsp_client, request.param, options=ON_SAVE)
    yield
    await lsp_client.shutdown_session()


async def test_saving_verifies_when_asked_to(saving) -> None:
    sync = saving.initialize_result.capabilities.text_document_sync
    assert sync.save is not None  # the server asks for didSave
    uri = open_document(saving, LOOPING)
    await diagnostics_for(saving, uri)
    saving.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    items = await until_verifier_diagnostics(saving, uri, present=True, timeout=30)
    (found,) = of_verifier(items)
    assert found.range.start == lsp.Position(line=5, character=2)
    # A verify on save shows no message box.
    assert not any("infinite loop" in m.message for m in saving.messages)
    if pushes_diagnostics(saving):
        assert saving.diagnostic_versions[uri] == 1
