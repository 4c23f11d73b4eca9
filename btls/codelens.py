"""Code lenses: "▶ Run" and "✓ Verify" above the first probe (the whole
file), and "▶ Run probe" above each probe when there are several (with
one probe it would do what "▶ Run" does).

Each lens carries its command and arguments, so no codeLens/resolve is
needed and any client can run it with workspace/executeCommand:

    ▶ Run        btls.run    [{"uri": URI}]
    ✓ Verify     btls.verify [{"uri": URI}]
    ▶ Run probe  btls.run    [{"uri": URI, "probe": INDEX, "line": LINE}]

A lens spans its probe's attach points. A workspace that is not trusted
gets no run lenses (running is refused there anyway).
"""

from __future__ import annotations

from lsprotocol import types as lsp

from .guard import guarded

RUN_TITLE = "▶ Run"
RUN_PROBE_TITLE = "▶ Run probe"
VERIFY_TITLE = "✓ Verify"
RUN = "btls.run"
VERIFY = "btls.verify"  # implemented by the verify feature


def lenses(snapshot, trusted: bool = True) -> list[lsp.CodeLens]:
    probes = snapshot.program.probes
    if not probes:
        return []
    converter = snapshot.converter
    uri = snapshot.uri

    def header(probe) -> lsp.Range:
        end = probe.attach_points[-1].span.end if probe.attach_points else probe.span.start
        return converter.range(_span(probe.span.start, max(end, probe.span.start)))

    def lens(probe, title: str, command: str, argument: dict) -> lsp.CodeLens:
        return lsp.CodeLens(range=header(probe), command=lsp.Command(title=title, command=command, arguments=[argument]))

    first = probes[0]
    result = []
    if trusted:
        result.append(lens(first, RUN_TITLE, RUN, {"uri": uri}))
    result.append(lens(first, VERIFY_TITLE, VERIFY, {"uri": uri}))
    if trusted and len(probes) > 1:
        for index, probe in enumerate(probes):
            line = converter.position(probe.span.start).line
            result.append(lens(probe, RUN_PROBE_TITLE, RUN, {"uri": uri, "probe": index, "line": line}))
    return result


def _span(start: int, end: int):
    from compiler.source import Span

    return Span(start, end)


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
    @guarded(list)
    def code_lens(ls, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        return lenses(ls.snapshot(params.text_document.uri), ls.settings.trusted)
