"""Run from the editor: `btls.run` and `btls.stop` (workspace/executeCommand).

    btls.run  [{"uri": URI, "probe"?: INDEX, "line"?: LINE, "args"?: [STR...]}]
    btls.stop [{"runId"?: ID}]

`btls.run` runs the document's current text (unsaved edits included) with
btc: the whole file, or one probe (`line`: any 0-based line of it, else
`probe`: its 0-based index among the probes) with everything of the file
that is not a probe (preamble, config, macros, fns, map declarations). It
answers at once, `{"started": true, "runId": N, "progressToken": T}`, and
the output follows as `btls/output` notifications (runner.py). It refuses,
with `{"started": false, "reason": R, "message": M}` and the same message
in window/showMessage, when:

| reason | why |
|---|---|
| `untrusted` | the workspace is not trusted (setting `trusted: false`) |
| `busy` | a run is active: one at a time per server; stop it first |
| `errors` | the text to run has errors; `diagnostics` holds them |
| `no-probe` | no probe to run (or none at that line or index) |
| `privilege` | no way to get root without a password (privileges.py) |
| `not-started` | btc could not be started |
| `bad-arguments` | the arguments are not as above |

Nothing runs except through this command: opening or changing a document
never starts anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Optional

from lsprotocol import types as lsp

from .documents import uri_to_path
from .guard import report_failure
from .privileges import PrivilegeError, check, wrapper
from .runner import Run, RunSpec, prepare_child_setup

RUN = "btls.run"
STOP = "btls.stop"
SHUTDOWN_WAIT = 3.0


class BadArguments(Exception):
    pass


@dataclass
class RunRequest:
    uri: str
    probe: Optional[int] = None
    line: Optional[int] = None
    args: list[str] = field(default_factory=list)


def parse_arguments(arguments: tuple) -> RunRequest:
    """`[{"uri", "probe"?, "line"?, "args"?}]`, or `[uri, probe?]` as a shorthand."""
    if len(arguments) == 1 and isinstance(arguments[0], dict):
        given = arguments[0]
    elif 1 <= len(arguments) <= 2 and isinstance(arguments[0], str):
        given = {"uri": arguments[0], "probe": arguments[1] if len(arguments) == 2 else None}
    else:
        raise BadArguments('btls.run takes one argument, {"uri": ..., "probe"?: N, "line"?: N}')
    uri = given.get("uri")
    if not isinstance(uri, str) or not uri:
        raise BadArguments("btls.run: `uri` must be the document's URI")
    numbers = {}
    for key in ("probe", "line"):
        value = given.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise BadArguments(f"btls.run: `{key}` must be a number from 0")
        numbers[key] = value
    args = given.get("args") or []
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise BadArguments("btls.run: `args` must be a list of strings ($1, $2, ...)")
    return RunRequest(uri, numbers["probe"], numbers["line"], list(args))


def choose_probe(snapshot, request: RunRequest):
    """(index, probe) of the probe the request names, or None."""
    probes = snapshot.program.probes
    if request.line is not None:
        for index, probe in enumerate(probes):
            first = snapshot.converter.position(probe.span.start).line
            last = snapshot.converter.position(probe.span.end).line
            if first <= request.line <= last:
                return index, probe
        return None
    if request.probe is not None and request.probe < len(probes):
        return request.probe, probes[request.probe]
    return None


def probe_only_text(text: str, program, keep) -> str:
    """`text` with every probe but `keep` blanked out byte for byte (line
    breaks stay), so offsets, lines and diagnostics match the document."""
    data = text.encode("utf-8")
    pieces, position = [], 0
    for probe in program.probes:
        if probe is keep:
            continue
        start, end = probe.span.start, probe.span.end
        pieces.append(data[position:start])
        pieces.append(re.sub(rb"[^\r\n]", b" ", data[start:end]))
        position = end
    pieces.append(data[position:])
    return b"".join(pieces).decode("utf-8")


class Runs:
    """The server's runs: at most one active."""

    def __init__(self, server) -> None:
        self.server = server
        self.active: Optional[Run] = None
        self._ids = itertools.count(1)
        self._release_task: Optional[asyncio.Task] = None

    # ----------------------------------------------------------- btls.run

    async def start(self, arguments: tuple) -> dict:
        ls = self.server
        try:
            request = parse_arguments(arguments)
        except BadArguments as problem:
            return self.refuse("bad-arguments", str(problem))
        if not ls.settings.trusted:
            return self.refuse(
                "untrusted",
                "btls: this workspace is not trusted, so btls runs nothing in it "
                "(the server was started with trusted: false). Checking and formatting still work.",
            )
        if self.active is not None:
            active = self.active
            return self.refuse(
                "busy",
                f"btls: run {active.id} ({active.spec.name if active.spec else 'starting'}) is still active; "
                "one run at a time. Stop it first (btls.stop, or cancel its progress).",
                runId=active.id,
            )
        # Claimed before the first await: a second btls.run that arrives
        # while this one starts is refused as busy.
        run = self.active = Run(ls, next(self._ids), request.uri)
        try:
            result = await self._prepare_and_launch(run, request)
        finally:
            if self.active is run and run.process is None:
                self.active = None
        if result.get("started"):
            self._release_task = asyncio.get_running_loop().create_task(self._release(run))
        return result

    async def _prepare_and_launch(self, run: Run, request: RunRequest) -> dict:
        ls = self.server
        snapshot = ls.snapshot(request.uri)
        if not snapshot.program.probes:
            return self.refuse("no-probe", f"btls: {snapshot.name} has no probe to run")
        text, label = snapshot.text, ""
        analysis = snapshot.analysis
        if request.probe is not None or request.line is not None:
            chosen = choose_probe(snapshot, request)
            if chosen is None:
                where = f"line {request.line + 1}" if request.line is not None else f"index {request.probe}"
                return self.refuse("no-probe", f"btls: no probe of {snapshot.name} at {where}")
            index, probe = chosen
            text = probe_only_text(snapshot.text, snapshot.program, probe)
            analysis = _analyse(ls, text, snapshot.name)
            header = snapshot.source.text[probe.span.start:probe.attach_points[-1].span.end] if probe.attach_points else ""
            line = snapshot.converter.position(probe.span.start).line + 1
            label = f"probe {index + 1} ({' '.join(header.split())}, line {line})"
        errors = sorted((d for d in analysis.diagnostics if d.is_error), key=lambda d: (d.span.start, d.span.end))
        if errors:
            diagnostics = [_plain(snapshot.converter.diagnostic(d)) for d in errors]
            first = errors[0]
            where = snapshot.converter.position(first.span.start).line + 1
            return self.refuse(
                "errors",
                f"btls: {snapshot.name} has {len(errors)} error{'s' * (len(errors) != 1)}, so it was not run "
                f"(line {where}: {first.message})",
                diagnostics=diagnostics,
            )
        try:
            prefix = wrapper(ls.settings.run_privilege)
        except PrivilegeError as problem:
            return self.refuse("privilege", str(problem))
        problem = await check(prefix)
        if problem:
            return self.refuse("privilege", problem)
        spec = _write_copy(request, snapshot, text, prefix, label)
        prepare_child_setup()
        failure = await run.launch(spec)
        if failure:
            return self.refuse("not-started", failure)
        return {
            "started": True, "runId": run.id, "progressToken": run.token, "pid": run.process.pid,
            "file": spec.name, "probe": label or None,
        }  # fmt: skip

    async def _release(self, run: Run) -> None:
        await run.finished.wait()
        if self.active is run:
            self.active = None

    def refuse(self, reason: str, message: str, **extra) -> dict:
        # btc failing to start is an error; the other refusals are the rules working.
        kind = lsp.MessageType.Error if reason == "not-started" else lsp.MessageType.Warning
        self.server.window_show_message(lsp.ShowMessageParams(type=kind, message=message))
        return {"started": False, "reason": reason, "message": message, **extra}

    # ---------------------------------------------------------- btls.stop

    def stop(self, arguments: tuple) -> dict:
        given = arguments[0] if len(arguments) == 1 and isinstance(arguments[0], dict) else {}
        wanted = given.get("runId")
        run = self.active
        if run is None or (wanted is not None and wanted != run.id):
            return {"stopped": False, "message": "btls: no such run is active"}
        if not run.stop("stopped"):
            return {"stopped": False, "message": f"btls: run {run.id} has already ended"}
        return {"stopped": True, "runId": run.id}

    async def shutdown(self) -> None:
        """The client is going away: stop the run and give btc a moment to detach."""
        run = self.active
        if run is not None and run.stop("server shutdown"):
            try:
                await asyncio.wait_for(run.finished.wait(), SHUTDOWN_WAIT)
            except Exception:  # noqa: BLE001 - escalation goes on in the background
                pass


def _analyse(ls, text: str, name: str):
    from compiler.semantic.analysis import analyse

    return analyse(text, ls.facts(), name=name)


def _plain(diagnostic: lsp.Diagnostic) -> dict:
    """A diagnostic as the JSON the client gets (results are not typed)."""
    from lsprotocol.converters import get_converter

    return get_converter().unstructure(diagnostic)


def run_root() -> str:
    """Where the copies that run live: private to this user."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "btls", "run")


def _write_copy(request: RunRequest, snapshot, text: str, prefix: list[str], label: str) -> RunSpec:
    """The text to run, saved under the document's own base name (btc's
    messages then name the right file) in a directory kept per document:
    btc's object cache is keyed by the path too, so the same text run again
    starts from the cache instead of compiling."""
    name = snapshot.name if snapshot.name != "stdin" else "untitled.bt"
    digest = hashlib.sha256(request.uri.encode("utf-8")).hexdigest()[:16]
    directory = os.path.join(run_root(), digest)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, name)
    # Written aside and renamed: another server running the same document
    # never sees half a file.
    descriptor, staging = tempfile.mkstemp(dir=directory, prefix=".staging-")
    with os.fdopen(descriptor, "w", encoding="utf-8") as copy:
        copy.write(text)
    os.replace(staging, path)
    document = uri_to_path(request.uri)
    folder = os.path.dirname(document) if document else None
    return RunSpec(
        uri=request.uri, name=name, path=path,
        cwd=folder if folder and os.path.isdir(folder) else directory,
        prefix=prefix, arguments=request.args, label=label,
    )  # fmt: skip


def register(server) -> None:
    runs = Runs(server)

    @server.command(RUN)
    async def run_command(ls, *arguments):
        try:
            return await runs.start(arguments)
        except Exception as failure:  # noqa: BLE001 - the command must answer
            report_failure(ls, RUN, failure)
            return runs.refuse("not-started", f"btls: btls.run failed: {failure}")

    @server.command(STOP)
    def stop_command(ls, *arguments):
        return runs.stop(arguments)

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls, params) -> None:
        await runs.shutdown()
