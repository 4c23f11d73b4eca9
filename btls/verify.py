"""Kernel verify from the editor: `btls.verify` (workspace/executeCommand),
and on save when the setting `verifyOnSave` is true.

    btls.verify [{"uri": URI}]   (or [URI])

compiles the document's current text (unsaved edits included) and loads it
into the kernel without attaching it: `btc --verify --diagnostics-format
json` as a child process (an argv list, no shell), with root the way
btls.run gets it (privileges.py). A rejection becomes a diagnostic with
source `verifier` on the code that produced the instruction the verifier
refused (btc reads that from the object's BTF line info: compiler/
cli_verify.py), the verifier's complaint as its message ("infinite loop
detected at insn 14", "R0 invalid mem access 'scalar'") and the relevant
part of its log in relatedInformation (in the message's tail for clients
without it). Errors btc finds that the editor's analysis does not (a
construct the backend does not lower) come back the same way, source `btc`.

They are published with the document's own diagnostics (pushed, or in the
next pull: btls/diagnostics.py keeps them with that version of the
document) and stay until the document changes. The command answers

    {"verified": BOOL, "programs": N, "diagnostics": [LSP diagnostics], "message": M}

or refuses, `{"verified": false, "reason": R, "message": M}`, for the
reasons btls.run has (`untrusted`, `errors` with `diagnostics`,
`no-probe`, `privilege`, `not-started`, `bad-arguments`), and `failed`
when btc ended without an answer (its last words are in the message).
Explicit commands also say how it went in window/showMessage; a verify on
save only logs a refusal.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import tempfile
from typing import Optional

from lsprotocol import types as lsp

from . import diagnostics as published
from .guard import report_failure
from .privileges import PrivilegeError, check, explain_exit, wrapper
from .run import run_root
from .runner import _die_with_server, prepare_child_setup

VERIFY = "btls.verify"
SOURCE = "verifier"
TIMEOUT = 180.0  # the verifier may walk a million instructions more than once
LAST_WORDS = 3  # lines of btc's stderr quoted when it gives no answer


class Verifier:
    """The server's verifications; the newest per document wins."""

    def __init__(self, server) -> None:
        self.server = server
        self._latest: dict[str, int] = {}  # uri -> number of its newest verification
        self._count = 0

    async def verify(self, arguments: tuple, explicit: bool = True) -> dict:
        ls = self.server
        uri = _uri(arguments)
        if uri is None:
            return self.refuse("bad-arguments", 'btls.verify takes one argument, {"uri": ...}', explicit)
        if not ls.settings.trusted:
            return self.refuse(
                "untrusted",
                "btls: this workspace is not trusted, so btls loads nothing into the kernel from it "
                "(the server was started with trusted: false). Checking and formatting still work.",
                explicit,
            )
        snapshot = ls.snapshot(uri)
        if not snapshot.program.probes:
            return self.refuse("no-probe", f"btls: {snapshot.name} has no probe to verify", explicit)
        errors = sorted((d for d in snapshot.analysis.diagnostics if d.is_error), key=lambda d: d.span.start)
        if errors:
            where = snapshot.converter.position(errors[0].span.start).line + 1
            return self.refuse(
                "errors",
                f"btls: {snapshot.name} has {len(errors)} error{'s' * (len(errors) != 1)}, so it was not verified "
                f"(line {where}: {errors[0].message})",
                explicit,
                diagnostics=[_plain(snapshot.converter.diagnostic(d)) for d in errors],
            )
        try:
            prefix = wrapper(ls.settings.run_privilege)
        except PrivilegeError as problem:
            return self.refuse("privilege", str(problem), explicit)
        problem = await check(prefix)
        if problem:
            return self.refuse("privilege", problem, explicit)

        self._count += 1
        number = self._latest[uri] = self._count
        path = _write_copy(uri, snapshot)
        argv = [*prefix, sys.executable, "-m", "compiler", "--verify", "--diagnostics-format", "json", path]
        answer, failure = await _run_btc(argv, prefix)
        if answer is None:
            return self.refuse("not-started" if failure.started is False else "failed", str(failure), explicit)

        # btc's own warnings are the editor's already; its errors are news
        # (a construct the backend does not lower, other kernel facts).
        found = [item for item in answer.get("diagnostics", ()) if isinstance(item, dict)
                 and (item.get("source") == SOURCE or item.get("severity") == "error")]  # fmt: skip
        items = [self._diagnostic(snapshot, item) for item in found]
        verified = bool(answer.get("verified"))
        programs = int(answer.get("programs") or 0)
        if verified:
            message = f"btls: {snapshot.name}: {programs} program{'s' * (programs != 1)} passed the kernel verifier"
        else:
            first = next((d for d in items if d.source == SOURCE), items[0] if items else None)
            line = f" (line {first.range.start.line + 1})" if first is not None else ""
            message = f"btls: {snapshot.name}: {first.message.splitlines()[0] if first else 'not verified'}{line}"
        # Only the newest verification of the document's current version shows.
        if self._latest.get(uri) == number and ls.documents.version(uri) == snapshot.version:
            published.set_extra(snapshot, items)
            self._show(snapshot.uri)
        if explicit:
            kind = lsp.MessageType.Info if verified else lsp.MessageType.Warning
            ls.window_show_message(lsp.ShowMessageParams(type=kind, message=message))
        return {
            "verified": verified, "programs": programs, "message": message,
            "diagnostics": [_plain(item) for item in items],
        }  # fmt: skip

    def _diagnostic(self, snapshot, item: dict) -> lsp.Diagnostic:
        """One of btc's JSON diagnostics as an LSP one on `snapshot`."""
        from compiler.source import Span

        ls = self.server
        converter = snapshot.converter
        span = item.get("span")
        size = len(snapshot.source.data)
        if isinstance(span, dict) and 0 <= span.get("start", -1) <= span.get("end", -1) <= size:
            where = Span(span["start"], span["end"])
        else:  # nothing says where: the first probe's header
            probe = snapshot.program.probes[0]
            where = _header(probe)
        source = SOURCE if item.get("source") == SOURCE else "btc"
        message = str(item.get("message") or item.get("detail") or "rejected")
        related = []
        probe = item.get("probe")
        header = _probe_header(snapshot, probe.get("line")) if isinstance(probe, dict) else None
        if header is not None and item.get("detail"):
            related.append(
                lsp.DiagnosticRelatedInformation(location=converter.location(header), message=item["detail"])
            )
        log = str(item.get("log") or "")
        if log:
            if _client_has_related_information(ls):
                related.append(lsp.DiagnosticRelatedInformation(
                    location=converter.location(where), message=f"the verifier's log:\n{log}",
                ))  # fmt: skip
            else:
                message += f"\n\nthe verifier's log:\n{log}"
        for hint in item.get("hints") or ():
            message += f"\nHINT: {hint}"
        severities = {"error": 1, "warning": 2, "info": 3, "hint": 4}
        data = {"instruction": item.get("instruction"), "log": log} if source == SOURCE else None
        return lsp.Diagnostic(
            range=converter.range(where), message=message,
            severity=lsp.DiagnosticSeverity(severities.get(item.get("severity"), 1)),
            code=str(item.get("code") or source), source=source,
            related_information=related or None, data=data,
        )  # fmt: skip

    def _show(self, uri: str) -> None:
        ls = self.server
        if not ls.client_pulls_diagnostics():
            published.publish(ls, uri)
            return
        # A pulling client asks again when told to (if it can be told).
        if ls._capability("workspace", "diagnostics", "refresh_support"):
            try:
                ls.workspace_diagnostic_refresh(None)
            except Exception:  # noqa: BLE001 - optional for clients
                pass

    def refuse(self, reason: str, message: str, explicit: bool, **extra) -> dict:
        ls = self.server
        if explicit:
            kind = lsp.MessageType.Error if reason in ("not-started", "failed") else lsp.MessageType.Warning
            ls.window_show_message(lsp.ShowMessageParams(type=kind, message=message))
        else:
            ls.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Log, message=f"verify on save: {message}"))
        return {"verified": False, "reason": reason, "message": message, **extra}


class _NoAnswer(str):
    """Why btc gave no answer; `started` is False when it could not even start."""

    started = True


async def _run_btc(argv: list[str], prefix: list[str]) -> tuple[Optional[dict], Optional[_NoAnswer]]:
    """(btc's JSON answer, None), or (None, why there is none)."""
    prepare_child_setup()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, preexec_fn=None if prefix else _die_with_server,
        )  # fmt: skip
    except OSError as failure:
        why = _NoAnswer(f"btls: btc could not be started ({argv[0]}): {failure.strerror or failure}")
        why.started = False
        return None, why
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except asyncio.TimeoutError:
        try:
            os.killpg(process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        await process.wait()
        return None, _NoAnswer(f"btls: btc --verify did not finish within {TIMEOUT:.0f} s and was stopped")
    try:
        answer = json.loads(out.decode("utf-8", "replace"))
        if isinstance(answer, dict):
            return answer, None
    except ValueError:
        pass
    said = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()][-LAST_WORDS:]
    explained = explain_exit(prefix, process.returncode)
    detail = "; ".join(said) or f"exit status {process.returncode}"
    return None, _NoAnswer(f"btls: btc --verify gave no answer ({detail}){' ' + explained if explained else ''}")


def _uri(arguments: tuple) -> Optional[str]:
    given = arguments[0] if len(arguments) == 1 else None
    if isinstance(given, dict):
        given = given.get("uri")
    return given if isinstance(given, str) and given else None


def _write_copy(uri: str, snapshot) -> str:
    """The text to verify, under the document's own base name (the
    verifier's log then names it) in a directory private to this user,
    kept per document; written aside and renamed, so a btc reading it
    never sees half a file."""
    name = snapshot.name if snapshot.name != "stdin" else "untitled.bt"
    directory = os.path.join(run_root(), "verify", hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16])
    os.makedirs(directory, mode=0o700, exist_ok=True)
    descriptor, staging = tempfile.mkstemp(dir=directory, prefix=".staging-")
    with os.fdopen(descriptor, "w", encoding="utf-8", errors="surrogatepass") as copy:
        copy.write(snapshot.text)
    path = os.path.join(directory, name)
    os.replace(staging, path)
    return path


def _header(probe):
    from compiler.source import Span

    end = probe.attach_points[-1].span.end if probe.attach_points else probe.span.start
    return Span(probe.span.start, max(end, probe.span.start))


def _probe_header(snapshot, line) -> Optional[object]:
    """The attach points of the probe that starts on `line` (from 1)."""
    if not isinstance(line, int):
        return None
    for probe in snapshot.program.probes:
        if snapshot.source.lines.line_of(probe.span.start) + 1 == line:
            return _header(probe)
    return None


def _client_has_related_information(ls) -> bool:
    return bool(
        ls._capability("text_document", "publish_diagnostics", "related_information")
        or ls._capability("text_document", "diagnostic", "related_information")
    )


def _plain(diagnostic: lsp.Diagnostic) -> dict:
    """A diagnostic as the JSON the client gets (results are not typed)."""
    from lsprotocol.converters import get_converter

    return get_converter().unstructure(diagnostic)


def register(server) -> None:
    verifier = Verifier(server)

    @server.command(VERIFY)
    async def verify_command(ls, *arguments):
        try:
            return await verifier.verify(arguments)
        except Exception as failure:  # noqa: BLE001 - the command must answer
            report_failure(ls, VERIFY, failure)
            return verifier.refuse("failed", f"btls: btls.verify failed: {failure}", True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
    async def did_save(ls, params: lsp.DidSaveTextDocumentParams) -> None:
        if not ls.settings.verify_on_save:
            return
        try:
            await verifier.verify(({"uri": params.text_document.uri},), explicit=False)
        except Exception as failure:  # noqa: BLE001 - keep serving
            report_failure(ls, "verify on save", failure)
