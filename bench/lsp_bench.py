"""The language server's speed and memory, measured by driving the real
`btls` over stdio with a VS Code-like client (pytest-lsp's LanguageClient).

    .venv/bin/python bench/lsp_bench.py [--runs 60] [--tools DIR] [--facts live|none]

Reports, against the issue's targets:
- start to `initialized` (spawn, initialize, initialized) beside a bare
  `python -c "import pygls.lsp.server"` in a fresh process (≤ 1.2×);
- didChange to publishDiagnostics, p50/p95, debounce 0, while typing a
  statement into a probe character by character (the text is broken most
  of the time), on a generated 1000-line script (≤ 50 ms) and on an
  upstream-tool-sized one (≤ 15 ms);
- completion and hover, p50/p95 (≤ 20 ms);
- resident memory after opening every upstream tool with kernel facts
  loaded (≤ 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcMethodNotFound
from pytest_lsp import LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from parse_bench import generated  # noqa: E402

TYPED = "@typed_map[comm, pid] = count(); "


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def tool_files(directory: str | None) -> list[Path]:
    """The tools in `directory` (and its old/, as bpftrace's tools/ has:
    45 in all), else those the bpftrace package installs."""
    if directory:
        return sorted(Path(p) for p in glob.glob(f"{directory}/*.bt") + glob.glob(f"{directory}/old/*.bt"))
    for pattern in ["/usr/share/bpftrace/tools/*.bt", "/usr/sbin/*.bt"]:
        found = sorted(Path(p) for p in glob.glob(pattern))
        if found:
            return found
    return []


class Session:
    def __init__(self, facts: str) -> None:
        self.facts = facts
        self.client = LanguageClient()
        self.published: dict[tuple[str, int], float] = {}
        self.waiters: dict[tuple[str, int], asyncio.Future] = {}

        def on_publish(params: lsp.PublishDiagnosticsParams) -> None:
            key = (params.uri, params.version)
            self.published[key] = time.perf_counter()
            waiter = self.waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        self.client.protocol.fm.features[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_publish

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "btls", env={**os.environ, "PYTHONPATH": str(ROOT)})
        await self.client.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                initialization_options={"btls": {"debounceMs": 0, "kernelFacts": self.facts}},
            )
        )

    async def stop(self) -> None:
        await self.client.shutdown_session()

    def pid(self) -> int:
        return self.client._server.pid  # the server subprocess

    async def open(self, uri: str, text: str) -> float:
        return await self._until_published(uri, 1, lambda: self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="bpftrace", version=1, text=text))
        ))  # fmt: skip

    async def change(self, uri: str, version: int, at: lsp.Position, text: str) -> float:
        params = lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=at, end=at), text=text)],
        )
        return await self._until_published(uri, version, lambda: self.client.text_document_did_change(params))

    async def _until_published(self, uri: str, version: int, send) -> float:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[(uri, version)] = waiter
        began = time.perf_counter()
        send()
        await asyncio.wait_for(waiter, 60)
        return (self.published[(uri, version)] - began) * 1000


async def typing_latencies(session: Session, name: str, text: str, runs: int) -> list[float]:
    """Open `text`, then type TYPED into the body of a probe in its middle,
    one character per didChange; the latency of each."""
    uri = f"file:///tmp/btls-bench/{name}.bt"
    await session.open(uri, text)
    lines = text.split("\n")
    middle = len(lines) // 2
    line = next(i for i in range(middle, len(lines)) if lines[i].rstrip().endswith("{"))
    at_line = line + 1
    samples, version, column = [], 1, 0
    while len(samples) < runs:
        for char in TYPED:
            version += 1
            samples.append(await session.change(uri, version, lsp.Position(line=at_line, character=column), char))
            column += 1
            if len(samples) >= runs:
                break
        at_line, column = at_line, column
    return samples


async def request_latencies(session: Session, text: str, runs: int) -> tuple[list[float], list[float]]:
    uri = "file:///tmp/btls-bench/requests.bt"
    await session.open(uri, text)
    lines = text.split("\n")
    spots = [(i, line.index("printf")) for i, line in enumerate(lines) if "printf" in line][:20] or [(0, 0)]
    hovers, completions = [], []
    for n in range(runs):
        line, column = spots[n % len(spots)]
        began = time.perf_counter()
        await session.client.text_document_hover_async(
            lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=column + 2))
        )  # fmt: skip
        hovers.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        await session.client.text_document_completion_async(
            lsp.CompletionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=line, character=column + 2))
        )  # fmt: skip
        completions.append((time.perf_counter() - began) * 1000)
    return hovers, completions


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_frame(stream) -> dict:
    headers = b""
    while not headers.endswith(b"\r\n\r\n"):
        headers += stream.read(1)
    length = int(headers.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    return json.loads(stream.read(length))


def start_to_initialized() -> float:
    """Spawn the server and complete the handshake over raw pipes, so that
    no client library's own warm-up is counted."""
    began = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "btls"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                   "params": {"processId": None, "rootUri": None, "capabilities": {}}}))  # fmt: skip
        server.stdin.flush()
        _read_frame(server.stdout)
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        server.stdin.flush()
        return (time.perf_counter() - began) * 1000
    finally:
        server.kill()
        server.wait()


def bare_pygls_import(runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pygls.lsp.server"], check=True)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def row(label: str, samples: list[float], target: str, ok: bool) -> None:
    print(f"  {label:<52} p50 {statistics.median(samples):7.1f} ms   p95 {percentile(samples, 0.95):7.1f} ms   "
          f"target {target:<10} {'met' if ok else 'NOT MET'}")  # fmt: skip


async def main_async(options) -> None:
    # Bytecode as a real install leaves it (scripts/install.sh compiles it):
    # with PYTHONDONTWRITEBYTECODE set, stale .pyc files would be compiled
    # again by every server start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "btls"), str(ROOT / "compiler")],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    tools = tool_files(options.tools)
    tool_text = max((p.read_text() for p in tools), key=len) if tools else generated(110)
    print(f"btls language server, driven over stdio (kernel facts: {options.facts})")

    starts = [start_to_initialized() for _ in range(options.start_runs)]
    bare = bare_pygls_import(options.start_runs)
    ratio = statistics.median(starts) / statistics.median(bare)
    print(f"  start to initialized: {statistics.median(starts):.0f} ms; bare `import pygls.lsp.server`: "
          f"{statistics.median(bare):.0f} ms; ratio {ratio:.2f} (target ≤ 1.20: {'met' if ratio <= 1.2 else 'NOT MET'})")  # fmt: skip

    session = Session(options.facts)
    await session.start()
    big = await typing_latencies(session, "generated-1000", generated(1000), options.runs)
    row("didChange → publishDiagnostics, 1000 lines", big, "≤ 50 ms", percentile(big, 0.95) <= 50)
    small = await typing_latencies(session, "tool-sized", tool_text, options.runs)
    row(f"didChange → publishDiagnostics, tool-sized ({tool_text.count(chr(10))} lines)", small, "≤ 15 ms",
        percentile(small, 0.95) <= 15)  # fmt: skip
    try:
        hovers, completions = await request_latencies(session, tool_text, options.runs)
        row("hover", hovers, "≤ 20 ms", percentile(hovers, 0.95) <= 20)
        row("completion", completions, "≤ 20 ms", percentile(completions, 0.95) <= 20)
    except JsonRpcMethodNotFound as missing:
        print(f"  hover/completion: not served ({missing})")
    await session.stop()

    if tools:
        session = Session(options.facts)
        await session.start()
        for path in tools:
            await session.open(path.as_uri(), path.read_text())
        rss = rss_mb(session.pid())
        print(f"  resident memory after opening {len(tools)} upstream tools: {rss:.0f} MB "
              f"(target ≤ 150 MB: {'met' if rss <= 150 else 'NOT MET'})")  # fmt: skip
        await session.stop()
    else:
        print("  memory: no upstream tools found (pass --tools DIR)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=60, help="samples per latency row")
    parser.add_argument("--start-runs", type=int, default=5)
    parser.add_argument("--tools", help="a directory of upstream tools (*.bt); default: the bpftrace package's")
    parser.add_argument("--facts", default="live", help="kernelFacts setting: live (default) or none")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
