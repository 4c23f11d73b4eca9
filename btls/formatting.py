"""Document and range formatting, with compiler/format's one canonical style.

The client's FormattingOptions (tab size, spaces) are not consulted: there
is one style, as with `btc --fmt`, so a file formats the same in every
editor and in CI. A document with syntax errors is not formatted (no
edits): a half-typed line is not rearranged.

The answer is small edits, not a new document: the formatter only rewrites
the blanks between tokens, and each changed line becomes one edit, so the
client's cursor, marks and undo history stay where the text did not
change. Range formatting keeps the edits that lie inside the lines of the
range; any subset of them is still the same program.
"""

from __future__ import annotations

from typing import Optional

from lsprotocol import types as lsp

from .guard import guarded


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    @guarded(list)
    def formatting(ls, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
        return format_edits(ls.snapshot(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_RANGE_FORMATTING)
    @guarded(list)
    def range_formatting(ls, params: lsp.DocumentRangeFormattingParams) -> list[lsp.TextEdit]:
        return format_edits(ls.snapshot(params.text_document.uri), params.range)


def format_edits(snapshot, range_: Optional[lsp.Range] = None) -> list[lsp.TextEdit]:
    from compiler.format import format_edits as compute

    start, end = 0, None
    if range_ is not None:
        start, end = _whole_lines(snapshot, range_)
    edits = compute(snapshot.text, snapshot.parsed, start, end)
    if not edits:
        return []
    from compiler.source import Span

    converter = snapshot.converter
    return [converter.text_edit(Span(edit.start, edit.end), edit.text) for edit in edits]


def _whole_lines(snapshot, range_: lsp.Range) -> tuple[int, int]:
    """The byte range of the lines the range touches. A range that ends at
    the start of a line (a selection of whole lines) leaves that line out."""
    converter = snapshot.converter
    first, last = sorted((range_.start, range_.end), key=lambda p: (p.line, p.character))
    last_line = last.line
    if last.character == 0 and last_line > first.line:
        last_line -= 1
    start = converter.offset(lsp.Position(line=first.line, character=0))
    line_start = converter.offset(lsp.Position(line=last_line, character=0))
    data = snapshot.source.data
    newline = data.find(b"\n", line_start)
    end = len(data) if newline < 0 else newline
    return start, end
