"""One run of btc started by `btls.run`: the child process, its progress in
the client, its output streamed as it comes, stopping it, and telling the
user how it ended.

The child is `[wrapper...] python -m compiler FILE`: an argv list, no shell,
the very interpreter (and so the very install) the server runs on. It gets a
session of its own, so only btls signals it, and (when not wrapped by sudo
or pkexec, which drop it) it gets SIGTERM if the server dies first.

Stopping sends SIGINT: btc then ends its event loop, prints the maps and
exits, and that output streams like the rest. If it has not ended after
STOP_GRACE seconds it gets SIGTERM, and KILL_GRACE seconds later SIGKILL.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Optional

from lsprotocol import types as lsp

from .privileges import explain_exit

OUTPUT = "btls/output"
STOP_GRACE = 5.0
KILL_GRACE = 3.0
# A piece of output without a line break is held this long for the rest
# of its line, then sent as it is (a prompt, a printf without "\n").
HOLD_SECONDS = 0.1
CHUNK = 64 * 1024
PROGRESS_EVERY = 0.5


@dataclass
class RunSpec:
    """What to run: prepared by run.py, launched here."""

    uri: str
    name: str  # the script's base name, for messages
    path: str  # the copy of the text that runs (run.py: a stable path per document)
    cwd: Optional[str]
    prefix: list[str]  # the privilege wrapper
    arguments: list[str] = field(default_factory=list)  # $1, $2, ...
    label: str = ""  # "probe 2 (interval:ms:100, line 5)" for a single probe

    def argv(self) -> list[str]:
        return [*self.prefix, sys.executable, "-m", "compiler", self.path, *self.arguments]


class Run:
    def __init__(self, server, run_id: int, uri: str) -> None:
        self.server = server
        self.id = run_id
        self.uri = uri
        self.spec: Optional[RunSpec] = None
        self.process: Optional[asyncio.subprocess.Process] = None
        self.token: Optional[str] = None
        self.stop_reason: Optional[str] = None
        self.killed = False
        self.finished = asyncio.Event()
        self.lines = 0
        self._escalation: Optional[asyncio.Task] = None
        self._last_report = 0.0
        self._errors_tail: collections.deque[str] = collections.deque(maxlen=3)
        self._told_no_signal = False
        self._stream_task: Optional[asyncio.Task] = None
        self.ending = "ended"

    # ---------------------------------------------------------- starting

    async def launch(self, spec: RunSpec) -> Optional[str]:
        """Start the child and stream it in the background; the reason when
        it could not be started (nothing is left running then)."""
        self.spec = spec
        try:
            self.process = await asyncio.create_subprocess_exec(
                *spec.argv(),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                cwd=spec.cwd, start_new_session=True,
                preexec_fn=None if spec.prefix else _die_with_server,
            )  # fmt: skip
        except OSError as failure:
            self.finished.set()
            return f"btls: btc could not be started ({spec.argv()[0]}): {failure.strerror or failure}"
        title = f"[btls] run {self.id}: btc {spec.name}{', ' + spec.label if spec.label else ''}\n"
        self.send(title, "status")
        self._stream_task = asyncio.get_running_loop().create_task(self._stream())
        # The progress after the start: its round trip to the client is not
        # on the way to btc's first output.
        await self._begin_progress()
        return None

    async def _begin_progress(self) -> None:
        if not _client_has_progress(self.server):
            return
        token = f"btls-run-{os.getpid()}-{self.id}"
        progress = self.server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(token), 5)
        except Exception:  # noqa: BLE001 - a client may refuse; the run goes on without progress
            return
        self.token = token
        progress.begin(token, lsp.WorkDoneProgressBegin(title=f"btc {self.spec.name}", message="running", cancellable=True))
        if self.finished.is_set():  # it ended while the client created the progress
            self._end_progress(self.ending)
            return
        loop = asyncio.get_running_loop()
        # The client's window/workDoneProgress/cancel cancels this future.
        progress.tokens[token].add_done_callback(lambda _: loop.call_soon_threadsafe(self.stop, "cancelled"))

    def _report(self, message: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.token is None or (not force and now - self._last_report < PROGRESS_EVERY):
            return
        self._last_report = now
        self.server.work_done_progress.report(self.token, lsp.WorkDoneProgressReport(message=message, cancellable=True))

    def _end_progress(self, message: str) -> None:
        if self.token is None:
            return
        self.server.work_done_progress.end(self.token, lsp.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(self.token, None)
        self.token = None

    # --------------------------------------------------------- streaming

    def send(self, text: str, stream: str, **extra) -> None:
        if self.server.settings.output_notification:
            params = {"uri": self.uri, "runId": self.id, "text": text, "stream": stream, **extra}
            self.server.protocol.notify(OUTPUT, params)
            return
        # Clients that do not handle btls/output still see it, in their log.
        kind = lsp.MessageType.Warning if stream == "stderr" else lsp.MessageType.Info
        message = f"[btc {self.id}{' stderr' if stream == 'stderr' else ''}] {text.rstrip(chr(10))}"
        self.server.window_log_message(lsp.LogMessageParams(type=kind, message=message))

    async def _stream(self) -> None:
        try:
            await asyncio.gather(self._pump(self.process.stdout, "stdout"), self._pump(self.process.stderr, "stderr"))
            status = await self.process.wait()
            self._finish(status)
        finally:
            if self._escalation is not None:
                self._escalation.cancel()
            self.finished.set()

    async def _pump(self, reader: asyncio.StreamReader, stream: str) -> None:
        """Whole lines as they come; a piece without a line break after
        HOLD_SECONDS of silence, or at the end."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(CHUNK), HOLD_SECONDS if pending else None)
            except asyncio.TimeoutError:
                self._emit(pending, stream)
                pending = ""
                continue
            if not chunk:
                break
            pending += decoder.decode(chunk)
            cut = pending.rfind("\n") + 1
            if cut:
                self._emit(pending[:cut], stream)
                pending = pending[cut:]
        pending += decoder.decode(b"", final=True)
        if pending:
            self._emit(pending, stream)

    def _emit(self, text: str, stream: str) -> None:
        self.lines += text.count("\n")
        if stream == "stderr":
            self._errors_tail.extend(line for line in text.splitlines() if line.strip())
        self.send(text, stream)
        self._report(f"{self.lines} line{'s' * (self.lines != 1)} of output")

    # ---------------------------------------------------------- stopping

    def stop(self, reason: str = "stopped") -> bool:
        """Ask btc to stop (SIGINT: it prints its maps); False when it has ended."""
        if self.finished.is_set() or (self.process is not None and self.process.returncode is not None):
            return False
        if self.stop_reason is None:
            self.stop_reason = reason
            if self.process is not None:
                self._report("stopping: SIGINT sent, waiting for the maps", force=True)
                self._signal(signal.SIGINT)
                self._escalation = asyncio.get_running_loop().create_task(self._escalate())
        return True

    async def _escalate(self) -> None:
        await asyncio.sleep(STOP_GRACE)
        if self.process.returncode is None:
            self._signal(signal.SIGTERM)
            await asyncio.sleep(KILL_GRACE)
        if self.process.returncode is None:
            self.killed = True
            self._signal(signal.SIGKILL, group=True)

    def _signal(self, number: int, group: bool = False) -> None:
        try:
            if group:
                os.killpg(self.process.pid, number)
            else:
                os.kill(self.process.pid, number)
        except ProcessLookupError:
            pass  # it has just ended
        except PermissionError:
            # pkexec's child runs as root, beyond what this user may signal.
            if not self._told_no_signal:
                self._told_no_signal = True
                self._show(
                    lsp.MessageType.Error,
                    f"btls: cannot signal btc (pid {self.process.pid}): it runs as root under "
                    f"{os.path.basename(self.spec.prefix[0]) if self.spec.prefix else 'another user'}. "
                    f"Stop it from a root shell: kill -INT {self.process.pid}",
                )

    # ------------------------------------------------------------ ending

    def _finish(self, status: int) -> None:
        signal_name = _signal_name(-status) if status < 0 else None
        stopped_early = self.stop_reason is not None and not self.killed and (
            status in (-signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT)
        )  # fmt: skip
        if signal_name:
            ending = f"killed by {signal_name}" + (" (it did not stop within "
                                                   f"{STOP_GRACE + KILL_GRACE:.0f} s)" if self.killed else "")
        else:
            ending = f"exit status {status}"
        self.ending = ending
        self.send(
            f"[btls] run {self.id} ended: {ending}\n", "status",
            exitCode=status if status >= 0 else None, signal=signal_name,
        )  # fmt: skip
        self._end_progress(ending)
        if status == 0 or stopped_early:
            return
        why = explain_exit(self.spec.prefix, status)
        tail = " | ".join(self._errors_tail)
        message = f"btls: btc {self.spec.name} {'was ' if signal_name else ''}{ending}"
        if tail:
            message += f": {tail}"
        if why:
            message += f" {why}"
        self._show(lsp.MessageType.Error, message)

    def _show(self, kind: lsp.MessageType, message: str) -> None:
        self.server.window_show_message(lsp.ShowMessageParams(type=kind, message=message))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _client_has_progress(server) -> bool:
    try:
        return bool(server.client_capabilities.window.work_done_progress)
    except AttributeError:
        return False


# prctl(PR_SET_PDEATHSIG, SIGTERM) in the child between fork and exec: the
# libc handle is made here, in the parent, since importing after fork in a
# threaded process could deadlock.
_PR_SET_PDEATHSIG = 1
_libc = None


def _die_with_server() -> None:
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def prepare_child_setup() -> None:
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        import ctypes

        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = None
