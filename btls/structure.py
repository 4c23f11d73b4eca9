"""The shape of a document: folding ranges, selection ranges, and links
from `#include` and `import` to the files they name.

Folding and selection come from the AST and the comment list; links look
at the file system (the only feature here that does), resolving a header
as a compiler would: the document's own directory for `"x.h"`, then the
system and kernel header directories.
"""

from __future__ import annotations

import os
import platform
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

from lsprotocol import types as lsp

from .documents import uri_to_path
from .guard import guarded

_INCLUDE = re.compile(rb'\s*#\s*include\s*(<[^>\n]*>|"[^"\n]*")')
_PREPROCESSOR_LINE = re.compile(rb"\s*#\s*(include|define)\b")


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
    @guarded(list)
    def folding_ranges(ls, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange]:
        result = folds(ls.snapshot(params.text_document.uri))
        limit = _folding_limit(ls)
        return result[:limit] if limit else result

    @server.feature(lsp.TEXT_DOCUMENT_SELECTION_RANGE)
    @guarded(list)
    def selection_ranges(ls, params: lsp.SelectionRangeParams) -> list[lsp.SelectionRange]:
        snapshot = ls.snapshot(params.text_document.uri)
        return [selection(snapshot, position) for position in params.positions]

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_LINK)
    @guarded(list)
    def document_links(ls, params: lsp.DocumentLinkParams) -> list[lsp.DocumentLink]:
        return links(ls.snapshot(params.text_document.uri), tooltips=_client_shows_link_tooltips(ls))


def _folding_limit(ls) -> int:
    """The most folding ranges the client wants (VS Code says 5000)."""
    try:
        capability = ls.client_capabilities.text_document.folding_range
    except AttributeError:
        return 0
    return (capability.range_limit or 0) if capability else 0


def _client_shows_link_tooltips(ls) -> bool:
    try:
        capability = ls.client_capabilities.text_document.document_link
    except AttributeError:
        return False
    return bool(capability and capability.tooltip_support)


# ------------------------------------------------------------------ folding


def folds(snapshot) -> list[lsp.FoldingRange]:
    from compiler.syntax import ast

    lines = snapshot.source.lines
    data = snapshot.source.data
    program = snapshot.program
    found: dict[tuple[int, int], Optional[str]] = {}

    def fold(start_line: int, end_line: int, kind: Optional[str] = None) -> None:
        if end_line > start_line and (start_line, end_line) not in found:
            found[(start_line, end_line)] = kind

    def closing_line(span) -> int:
        """The last line to hide for a span ending in a bracket: the line
        before a bracket that starts its line stays visible with it."""
        last = lines.line_of(max(span.start, span.end - 1))
        before = data[lines.line_starts[last] : span.end - 1]
        return last - 1 if not before.strip() else last

    for node in ast.walk(program):
        if isinstance(node, (ast.Block, ast.Config)):
            fold(lines.line_of(node.span.start), closing_line(node.span))
        elif isinstance(node, ast.CDefinition):
            fold(lines.line_of(node.span.start), closing_line(_without_semicolon(data, node.span)))
        elif isinstance(node, (ast.Call, ast.Tuple, ast.Record)):
            # A call written over several lines (a long printf).
            fold(lines.line_of(node.span.start), closing_line(node.span))

    comment_run: list[int] = []  # lines of consecutive // comments
    for comment in program.comments:
        first, last = lines.line_of(comment.span.start), lines.line_of(comment.span.end - 1)
        if comment.block:
            fold(first, last, lsp.FoldingRangeKind.Comment)
            continue
        if comment_run and first == comment_run[-1] + 1 and _starts_line(data, lines, comment.span.start):
            comment_run.append(first)
            continue
        if len(comment_run) > 1:
            fold(comment_run[0], comment_run[-1], lsp.FoldingRangeKind.Comment)
        comment_run = [first] if _starts_line(data, lines, comment.span.start) else []
    if len(comment_run) > 1:
        fold(comment_run[0], comment_run[-1], lsp.FoldingRangeKind.Comment)

    for first, last in _preamble_runs(program, lines, data):
        fold(first, last, lsp.FoldingRangeKind.Imports)

    return [
        lsp.FoldingRange(start_line=start, end_line=end, kind=kind)
        for (start, end), kind in sorted(found.items())
    ]


def _preamble_runs(program, lines, data):
    """(first, last) lines of runs of consecutive `#include`, `#define`
    and `import` lines."""
    from compiler.syntax import ast

    runs: list[list[int]] = []
    for item in program.items:
        if not (
            isinstance(item, ast.Import)
            or (isinstance(item, ast.CPreprocessor) and _PREPROCESSOR_LINE.match(data, item.span.start, item.span.end))
        ):
            continue
        first, last = lines.line_of(item.span.start), lines.line_of(max(item.span.start, item.span.end - 1))
        if runs and first == runs[-1][1] + 1:
            runs[-1][1] = last
        else:
            runs.append([first, last])
    return [(first, last) for first, last in runs if last > first]


def _starts_line(data: bytes, lines, offset: int) -> bool:
    start = lines.line_starts[lines.line_of(offset)]
    return not data[start:offset].strip()


def _without_semicolon(data: bytes, span):
    from compiler.source import Span

    end = span.end
    while end > span.start and data[end - 1 : end] in (b";", b" ", b"\t", b"\n", b"\r"):
        end -= 1
    return Span(span.start, end)


# ---------------------------------------------------------------- selection


def selection(snapshot, position: lsp.Position) -> lsp.SelectionRange:
    """The chain of ever larger ranges around a position: the name, its
    expression, statement, block, probe and the whole program."""
    from compiler.source import Span

    from .query import path_at

    converter = snapshot.converter
    offset = converter.offset(position)
    program = snapshot.program
    # Outermost first; the whole text stands for the program, whose own
    # span leaves out comments and blank lines around it.
    spans = [Span(0, len(snapshot.source.data))]
    spans += [node.span for node in path_at(program, offset)[1:]]
    for comment in program.comments:
        if comment.span.start <= offset < comment.span.end:
            spans.append(comment.span)

    chain: Optional[lsp.SelectionRange] = None
    outer: Optional[Span] = None
    for span in spans:
        # Each range must strictly contain the next, smaller one.
        if outer is not None and not (outer.start <= span.start and span.end <= outer.end and span != outer):
            continue
        chain = lsp.SelectionRange(range=converter.range(span), parent=chain)
        outer = span
    if chain is None:
        chain = lsp.SelectionRange(range=lsp.Range(start=position, end=position))
    return chain


# -------------------------------------------------------------------- links


def links(snapshot, *, tooltips: bool = True) -> list[lsp.DocumentLink]:
    from compiler.syntax import ast

    path = uri_to_path(snapshot.uri)
    here = os.path.dirname(path) if path else None
    data = snapshot.source.data
    converter = snapshot.converter
    result = []
    for node in ast.walk(snapshot.program):
        if isinstance(node, ast.CPreprocessor):
            found = _INCLUDE.match(data, node.span.start, node.span.end)
            if not found:
                continue
            written = found.group(1).decode("utf-8", errors="replace")
            target = resolve_header(written[1:-1], quoted=written[0] == '"', here=here)
            span = _span(found.start(1), found.end(1))
        elif isinstance(node, ast.Import) and node.path is not None:
            target = resolve_import(node.path.text, here)
            span = node.path.span
        else:
            continue
        if target is not None:
            result.append(
                lsp.DocumentLink(
                    range=converter.range(span), target=Path(target).as_uri(), tooltip=target if tooltips else None
                )
            )
    return result


def resolve_header(name: str, *, quoted: bool, here: Optional[str]) -> Optional[str]:
    """The file `#include` would read, or None."""
    if not name or "\0" in name:
        return None
    if os.path.isabs(name):
        return name if os.path.isfile(name) else None
    directories = ([here] if here else []) + list(header_directories())
    if not quoted and here:
        # `<x.h>` looks in the system directories first.
        directories = directories[1:] + directories[:1]
    for directory in directories:
        candidate = os.path.normpath(os.path.join(directory, name))
        if os.path.isfile(candidate):
            return candidate
    return None


def resolve_import(name: str, here: Optional[str]) -> Optional[str]:
    if not name or "\0" in name:
        return None
    if not os.path.isabs(name):
        if not here:
            return None
        name = os.path.join(here, name)
    candidate = os.path.normpath(name)
    return candidate if os.path.exists(candidate) else None


@lru_cache(maxsize=1)
def header_directories() -> tuple[str, ...]:
    """Where bpftrace's clang looks for headers on this machine: the
    kernel's build tree for the running kernel, then the system's."""
    release = platform.release()
    machine = platform.machine()
    arch = {"x86_64": "x86", "aarch64": "arm64", "ppc64le": "powerpc", "s390x": "s390"}.get(machine, machine)
    build = f"/lib/modules/{release}/build"
    candidates = [
        f"{build}/include",
        f"{build}/arch/{arch}/include",
        f"{build}/include/uapi",
        f"{build}/arch/{arch}/include/uapi",
        f"{build}/arch/{arch}/include/generated",
        "/usr/local/include",
        f"/usr/include/{machine}-linux-gnu",
        "/usr/include",
    ]
    return tuple(directory for directory in candidates if os.path.isdir(directory))


def _span(start: int, end: int):
    from compiler.source import Span

    return Span(start, end)
