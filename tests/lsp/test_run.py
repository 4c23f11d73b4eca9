"""btls.run and btls.stop: real btc runs streamed to the client, stopped by
cancelling their progress or by btls.stop (the final maps still arrive),
single probes, refusals (errors, a second run, an untrusted workspace, a
privilege that needs a password), the window/logMessage fallback, and the
user told when btc dies.

These load BPF programs into the running kernel: root only (marker `bpf`).
Every program is self-contained (interval probes), so nothing else on the
machine disturbs it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile

import pytest
import pytest_lsp
from conftest import INIT_OPTIONS, PROFILES, server_config, start_session
from helpers import open_document
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from btls.privileges import PrivilegeError, wrapper
from btls.run import probe_only_text

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="running btc needs root"),
]

OPTIONS = {"btls": {**INIT_OPTIONS["btls"], "outputNotification": True}}
TICKS = 'interval:ms:100 { @n++; printf("tick %d\\n", @n); }\n'
MULTI = """config = { max_strlen = 64 }
macro twice(x) { x * 2 }
let @seen = hash(16);
BEGIN { printf("begin\\n"); }
interval:ms:50 { @seen[1] = 1; printf("first %d\\n", twice(21)); exit(); }
interval:ms:50 { printf("second\\n"); exit(); }
"""


@pytest_lsp.fixture(params=PROFILES, scope="module", config=server_config())
async def client(lsp_client: LanguageClient, request):
    await start_session(lsp_client, request.param, options=OPTIONS)
    yield
    await lsp_client.shutdown_session()


async def run(client, **arguments) -> dict:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="btls.run", arguments=[arguments])
    )


async def stop(client, **arguments) -> dict:
    return await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="btls.stop", arguments=[arguments] if arguments else None)
    )


def output_of(client, run_id: int, stream: str | None = None) -> list:
    return [p for p in client.run_output if p.runId == run_id and (stream is None or p.stream == stream)]


def text_of(client, run_id: int) -> str:
    return "".join(p.text for p in output_of(client, run_id, "stdout"))


async def wait_until(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def ended(client, run_id: int, timeout: float = 30.0):
    await wait_until(lambda: output_of(client, run_id, "status")[1:], timeout, f"the end of run {run_id}")
    return output_of(client, run_id, "status")[-1]


async def test_run_streams_lines_and_cancelling_its_progress_prints_the_maps(client) -> None:
    uri = open_document(client, TICKS)
    result = await run(client, uri=uri)
    assert result["started"] is True and result["file"].endswith(".bt")
    run_id, token = result["runId"], result["progressToken"]
    # Lines arrive while it runs, each with its line break.
    await wait_until(lambda: "tick 3\n" in text_of(client, run_id), what="tick 3")
    first = output_of(client, run_id, "stdout")[0]
    assert first.uri == uri and first.text.endswith("\n")
    assert output_of(client, run_id, "status")[0].text.startswith(f"[btls] run {run_id}: btc ")
    # Every profile here declares window.workDoneProgress: a cancellable progress.
    assert token is not None
    begin = client.progress_reports[token][0]
    assert isinstance(begin, lsp.WorkDoneProgressBegin) and begin.cancellable is True
    client.window_work_done_progress_cancel(lsp.WorkDoneProgressCancelParams(token=token))
    status = await ended(client, run_id)
    assert status.exitCode == 0 and status.signal is None
    assert status.text == f"[btls] run {run_id} ended: exit status 0\n"
    # SIGINT, not a kill: the map printed at exit streams too, and it
    # counts every tick that was printed.
    text = text_of(client, run_id)
    last_tick = int(text.split("tick ")[-1].split("\n")[0])
    assert text.endswith(f"\n\n@n: {last_tick}\n"), text
    end = client.progress_reports[token][-1]
    assert isinstance(end, lsp.WorkDoneProgressEnd) and end.message == "exit status 0"
    assert not [m for m in client.messages if "btc" in m.message and "status" in m.message]


async def test_btls_stop_stops_the_run_and_the_maps_arrive(client) -> None:
    uri = open_document(client, TICKS)
    result = await run(client, uri=uri)
    run_id = result["runId"]
    await wait_until(lambda: "tick 1\n" in text_of(client, run_id), what="tick 1")
    assert await stop(client, runId=run_id + 1) == {"stopped": False, "message": "btls: no such run is active"}
    assert await stop(client, runId=run_id) == {"stopped": True, "runId": run_id}
    status = await ended(client, run_id)
    assert status.exitCode == 0
    assert "\n\n@n: " in text_of(client, run_id)
    # Nothing is left: a stop now finds no run.
    assert (await stop(client))["stopped"] is False


async def test_single_probe_runs_with_the_preamble_and_nothing_else(client) -> None:
    uri = open_document(client, MULTI)
    # `line` names the probe by any of its lines (here its only one, line 4).
    result = await run(client, uri=uri, line=4)
    assert result["started"] is True
    assert result["probe"] == "probe 2 (interval:ms:50, line 5)"
    status = await ended(client, result["runId"])
    assert status.exitCode == 0
    # The macro, config and map declaration came along; BEGIN and the other probe did not.
    text = text_of(client, result["runId"])
    assert text == "Attaching 1 probe...\nfirst 42\n\n\n@seen[1]: 1\n", text
    # By index among the probes: the third one.
    result = await run(client, uri=uri, probe=2)
    await ended(client, result["runId"])
    assert text_of(client, result["runId"]) == "Attaching 1 probe...\nsecond\n\n\n"


async def test_unsaved_text_is_what_runs(client) -> None:
    uri = open_document(client, 'BEGIN { printf("old\\n"); exit(); }\n')
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text='BEGIN { printf("new\\n"); exit(); }\n')],
        )
    )
    result = await run(client, uri=uri)
    await ended(client, result["runId"])
    assert text_of(client, result["runId"]) == "Attaching 1 probe...\nnew\n\n\n"


async def test_script_with_errors_returns_diagnostics_and_starts_nothing(client) -> None:
    uri = open_document(client, 'BEGIN { prinft("x"); }\ninterval:s:1 { @x = ; }\n')
    before = len(client.run_output)
    result = await run(client, uri=uri)
    assert result["started"] is False and result["reason"] == "errors"
    assert [d["code"] for d in result["diagnostics"]] == ["unknown-function", "syntax"]
    assert result["diagnostics"][0]["range"] == {
        "start": {"line": 0, "character": 8}, "end": {"line": 0, "character": 14},
    }  # fmt: skip
    assert result["message"].startswith("btls: doc-") and "2 errors, so it was not run (line 1:" in result["message"]
    assert len(client.run_output) == before
    await wait_until(lambda: any(m.message == result["message"] for m in client.messages), what="showMessage")
    # A single probe is checked as it would run: alone, its errors only.
    result = await run(client, uri=uri, probe=1)
    assert result["reason"] == "errors" and [d["code"] for d in result["diagnostics"]] == ["syntax"]


async def test_a_second_run_is_refused_while_one_is_active(client) -> None:
    uri = open_document(client, TICKS)
    # Two at once: exactly one starts, even though both arrive before either has launched.
    first, second = await asyncio.gather(run(client, uri=uri), run(client, uri=uri))
    started = [r for r in (first, second) if r["started"]]
    refused = [r for r in (first, second) if not r["started"]]
    assert len(started) == 1 and len(refused) == 1
    assert refused[0]["reason"] == "busy" and refused[0]["runId"] == started[0]["runId"]
    assert "one run at a time" in refused[0]["message"]
    assert (await stop(client, runId=started[0]["runId"]))["stopped"] is True
    await ended(client, started[0]["runId"])
    # Once it has ended, the next run starts.
    again = await run(client, uri=open_document(client, 'BEGIN { exit(); }\n'))
    assert again["started"] is True
    await ended(client, again["runId"])


async def test_the_user_is_told_when_btc_dies(client) -> None:
    result = await run(client, uri=open_document(client, TICKS))
    await wait_until(lambda: "tick 1\n" in text_of(client, result["runId"]), what="tick 1")
    os.kill(result["pid"], signal.SIGKILL)
    status = await ended(client, result["runId"])
    assert status.signal == "SIGKILL" and status.exitCode is None
    assert status.text == f"[btls] run {result['runId']} ended: killed by SIGKILL\n"
    await wait_until(lambda: any("was killed by SIGKILL" in m.message for m in client.messages), what="showMessage")
    message = next(m for m in client.messages if "was killed by SIGKILL" in m.message)
    assert message.type == lsp.MessageType.Error


async def test_bad_arguments_are_refused(client) -> None:
    result = await run(client, uri=open_document(client, TICKS), probe=-1)
    assert result["reason"] == "bad-arguments"
    result = await run(client, uri=open_document(client, TICKS), probe=5)
    assert result["reason"] == "no-probe" and "index 5" in result["message"]


# ------------------------------------------------- other server settings

UNTRUSTED = {"btls": {**INIT_OPTIONS["btls"], "trusted": False, "outputNotification": True}}


@pytest_lsp.fixture(scope="module", config=server_config())
async def untrusted(lsp_client: LanguageClient):
    await start_session(lsp_client, "neovim@v0.7.0", options=UNTRUSTED)
    yield
    await lsp_client.shutdown_session()


async def test_an_untrusted_workspace_runs_nothing(untrusted) -> None:
    uri = open_document(untrusted, TICKS)
    result = await run(untrusted, uri=uri)
    assert result["started"] is False and result["reason"] == "untrusted"
    assert "not trusted" in result["message"]
    # A configuration change cannot trust it again.
    untrusted.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"btls": {"trusted": True}})
    )
    await asyncio.sleep(0.2)
    assert (await run(untrusted, uri=uri))["reason"] == "untrusted"
    assert untrusted.run_output == []
    # Everything else still works.
    hover = await untrusted.text_document_hover_async(
        lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=20))
    )
    assert hover is not None and "@n" in str(hover.contents)


@pytest_lsp.fixture(scope="module", config=server_config())
async def logging_client(lsp_client: LanguageClient):
    # No outputNotification: the client did not say it handles btls/output.
    await start_session(lsp_client, "visual-studio-code")
    yield
    await lsp_client.shutdown_session()


async def test_clients_without_the_notification_get_log_messages(logging_client) -> None:
    result = await run(logging_client, uri=open_document(logging_client, 'BEGIN { printf("hello\\n"); exit(); }\n'))
    assert result["started"] is True
    run_id = result["runId"]
    await wait_until(lambda: any(f"[btls] run {run_id} ended" in m.message for m in logging_client.log_messages), what="end")
    prefix = f"[btc {run_id}] "
    messages = [m.message for m in logging_client.log_messages if m.message.startswith(prefix)]
    # Lines that arrive together share a message (`Attaching 1 probe...\nhello`).
    lines = [line for message in messages for line in message[len(prefix) :].split("\n")]
    assert "hello" in lines
    assert logging_client.run_output == []


def _fake_sudo_folder() -> str:
    """A folder whose `sudo` wants a password, as `sudo -n` says it."""
    folder = tempfile.mkdtemp(prefix="btls-fake-sudo-")
    sudo = os.path.join(folder, "sudo")
    with open(sudo, "w") as script:
        script.write("#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n")
    os.chmod(sudo, 0o755)
    return folder


def _sudo_server_config() -> ClientServerConfig:
    config = server_config()
    env = {**config.server_env, "PATH": f"{_fake_sudo_folder()}{os.pathsep}{os.environ.get('PATH', '')}"}
    return ClientServerConfig(server_command=config.server_command, server_env=env)


@pytest_lsp.fixture(scope="module", config=_sudo_server_config())
async def sudo_client(lsp_client: LanguageClient):
    options = {"btls": {**OPTIONS["btls"], "run": {"privilege": "sudo"}}}
    await start_session(lsp_client, "neovim@v0.7.0", options=options)
    yield
    await lsp_client.shutdown_session()


async def test_sudo_that_wants_a_password_is_a_clear_refusal(sudo_client) -> None:
    result = await run(sudo_client, uri=open_document(sudo_client, TICKS))
    assert result["started"] is False and result["reason"] == "privilege"
    message = result["message"]
    assert "sudo wants a password" in message and "(sudo said: sudo: a password is required)" in message
    assert 'set run.privilege to "pkexec"' in message
    assert sudo_client.run_output == []


async def test_privilege_wrappers() -> None:
    found = {"sudo": "/usr/bin/sudo", "pkexec": "/usr/bin/pkexec"}.get
    assert wrapper("auto", euid=0, which=found) == []
    assert wrapper("auto", euid=1000, which=found) == ["/usr/bin/sudo", "-n"]
    assert wrapper("none", euid=1000, which=found) == []
    assert wrapper("sudo", euid=0, which=found) == ["/usr/bin/sudo", "-n"]
    assert wrapper("pkexec", euid=1000, which=found) == ["/usr/bin/pkexec"]
    with pytest.raises(PrivilegeError, match="pkexec is not installed"):
        wrapper("pkexec", euid=1000, which=lambda name: None)
    with pytest.raises(PrivilegeError, match="sudo is not installed"):
        wrapper("auto", euid=1000, which=lambda name: None)


async def test_probe_only_text_keeps_offsets_and_lines() -> None:
    from compiler.syntax.parser import parse

    text = 'BEGIN { printf("é\\n"); }\n// note\ninterval:s:1 { exit(); }\n'
    program = parse(text).program
    kept = probe_only_text(text, program, program.probes[1])
    assert len(kept.encode()) == len(text.encode()) and kept.count("\n") == text.count("\n")
    assert kept.splitlines()[1:] == ["// note", "interval:s:1 { exit(); }"]
    assert kept.splitlines()[0].strip() == ""
