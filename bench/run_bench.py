"""Run from the editor against btc alone: how long from asking to seeing output.

    sudo .venv/bin/python bench/run_bench.py [--runs 11] [--period-ms 10]

Two timings of the same script, interleaved, medians reported:

- editor: the `workspace/executeCommand` `btls.run` request written to a
  running btls (document already open and analysed, as when a user clicks
  the lens) until the first `btls/output` notification holding the script's
  own output arrives;
- btc: spawning `python -m compiler FILE` until its stdout holds the
  script's first line.

Also the first output line of any kind ("Attaching 1 probe..."), for both.
The target is editor/btc ≤ 1.5 for the first line of the script's output.
Both use btc's object cache (warmed by an untimed run of each first), so
what is measured is start-up, attach and the first tick, plus, for the
editor, the server's work and the notification.

The client is a few lines of JSON-RPC over raw pipes, so no client library's
own latency is counted. Needs root (it loads BPF programs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5


def script(period_ms: int) -> str:
    return f'interval:ms:{period_ms} {{ @n++; printf("tick %d\\n", @n); }}\n'


class RawClient:
    """Just enough LSP over the server's stdin/stdout: requests, answers to
    the server's own requests, and notifications handed to a callback."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.on_notification = lambda method, params, at: None
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "btls",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        self._reader = asyncio.get_running_loop().create_task(self._read())
        capabilities = {"window": {"workDoneProgress": True}, "general": {"positionEncodings": ["utf-16"]}}
        options = {"btls": {"debounceMs": 0, "outputNotification": True}}
        await self.request("initialize", {"processId": os.getpid(), "rootUri": None,
                                          "capabilities": capabilities, "initializationOptions": options})  # fmt: skip
        self.notify("initialized", {})

    def _write(self, message: dict) -> None:
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def send_request(self, method: str, params) -> asyncio.Future:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self._write({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return future

    async def request(self, method: str, params):
        return await asyncio.wait_for(self.send_request(method, params), 60)

    async def _read(self) -> None:
        stream = self.process.stdout
        while True:
            headers = await stream.readuntil(b"\r\n\r\n")
            length = int(headers.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(await stream.readexactly(length))
            at = time.perf_counter()
            if "method" in message and "id" in message:  # the server asks: progress/create, configuration
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.on_notification(message["method"], message.get("params"), at)
            else:
                future = self.pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message.get("result"))

    async def stop(self) -> None:
        await self.request("shutdown", None)
        self.notify("exit", None)
        await asyncio.wait_for(self.process.wait(), 10)
        self._reader.cancel()


async def editor_run(client: RawClient, uri: str) -> tuple[float, float]:
    """ms from the btls.run request to the first output line, and to the
    first line of the script's own output."""
    first: dict[str, float] = {}
    ended = asyncio.get_running_loop().create_future()

    def on_notification(method: str, params, at: float) -> None:
        if method != "btls/output":
            return
        if params["stream"] == "stdout":
            first.setdefault("any", at)
            if "tick" in params["text"]:
                first.setdefault("tick", at)
                if not ended.done() and "stopping" not in first:
                    first["stopping"] = at
                    client.send_request("workspace/executeCommand", {"command": "btls.stop", "arguments": [{}]})
        if params["stream"] == "status" and "ended" in params["text"] and not ended.done():
            ended.set_result(params)

    client.on_notification = on_notification
    began = time.perf_counter()
    answer = await client.request("workspace/executeCommand", {"command": "btls.run", "arguments": [{"uri": uri}]})
    if not answer or not answer.get("started"):
        raise SystemExit(f"btls.run did not start: {answer}")
    status = await asyncio.wait_for(ended, 60)
    if status.get("exitCode") != 0:
        raise SystemExit(f"the editor's run ended badly: {status}")
    return (first["any"] - began) * 1000, (first["tick"] - began) * 1000


async def btc_run(path: str) -> tuple[float, float]:
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "compiler", path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    first_any = None
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line:
            raise SystemExit("btc ended before printing a tick")
        now = time.perf_counter()
        first_any = first_any or now
        if line.startswith(b"tick"):
            break
    process.send_signal(signal.SIGINT)
    await process.stdout.read()
    if await process.wait() != 0:
        raise SystemExit(f"btc exited with {process.returncode}")
    return (first_any - began) * 1000, (now - began) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--period-ms", type=int, default=10, help="the interval probe's period")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run_bench.py loads BPF programs: run it as root")

    directory = tempfile.mkdtemp(prefix="btls-run-bench-")
    path = os.path.join(directory, "ticks.bt")
    Path(path).write_text(script(args.period_ms))
    uri = Path(path).as_uri()

    client = RawClient()
    await client.start()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "bpftrace", "version": 1,
                                                            "text": script(args.period_ms)}})  # fmt: skip
    # Untimed: warms btc's object cache, the server's analysis, the page cache.
    await editor_run(client, uri)
    await btc_run(path)
    editor_any, editor_tick, btc_any, btc_tick = [], [], [], []
    for _ in range(args.runs):
        first, tick = await editor_run(client, uri)
        editor_any.append(first)
        editor_tick.append(tick)
        first, tick = await btc_run(path)
        btc_any.append(first)
        btc_tick.append(tick)
    await client.stop()

    rows = [
        ("first line of the script's output", statistics.median(editor_tick), statistics.median(btc_tick)),
        ("first output line of any kind", statistics.median(editor_any), statistics.median(btc_any)),
    ]
    print(f"script: {script(args.period_ms).strip()}   runs: {args.runs} each, interleaved, medians")
    print(f"{'':36} {'editor ms':>10} {'btc ms':>10} {'ratio':>7}  target")
    for name, editor, btc in rows:
        verdict = f"≤ {TARGET}  {'met' if editor / btc <= TARGET else 'MISSED'}" if name.startswith("first line") else ""
        print(f"{name:36} {editor:10.1f} {btc:10.1f} {editor / btc:7.2f}  {verdict}")
    print(f"editor samples (ms): {' '.join(f'{x:.0f}' for x in editor_tick)}")
    print(f"btc samples (ms):    {' '.join(f'{x:.0f}' for x in btc_tick)}")


if __name__ == "__main__":
    asyncio.run(main())
