"""The one place where compiler values become LSP values and back.

The compiler speaks UTF-8 byte offsets (`Span`); LSP speaks 0-based lines
and characters in the negotiated encoding (UTF-16 unless the client offered
UTF-8 or UTF-32). A `Converter` is bound to one snapshot of a document.
"""

from __future__ import annotations

from typing import Optional

from lsprotocol import types as lsp

from compiler.diagnostics import Diagnostic
from compiler.source import UTF8, UTF16, UTF32, SourceText, Span

_ENCODINGS = {
    lsp.PositionEncodingKind.Utf8: UTF8,
    lsp.PositionEncodingKind.Utf16: UTF16,
    lsp.PositionEncodingKind.Utf32: UTF32,
    "utf-8": UTF8,
    "utf-16": UTF16,
    "utf-32": UTF32,
}

# Diagnostic codes whose squiggle means "this does nothing": editors fade them.
_UNNECESSARY = {"unused", "unreachable", "discarded"}


def encoding_name(kind) -> str:
    """Our encoding name for pygls' negotiated PositionEncodingKind (or None)."""
    return _ENCODINGS.get(kind, UTF16)


class Converter:
    def __init__(self, source: SourceText, uri: str, encoding: str = UTF16) -> None:
        self.source = source
        self.uri = uri
        self.encoding = encoding

    # ---------------------------------------------------------- positions

    def position(self, offset: int) -> lsp.Position:
        line, character = self.source.lines.position(offset, self.encoding)
        return lsp.Position(line=line, character=character)

    def range(self, span: Span) -> lsp.Range:
        return lsp.Range(start=self.position(span.start), end=self.position(span.end))

    def offset(self, position: lsp.Position) -> int:
        """The byte offset of a client position; positions past the end clamp."""
        return self.source.lines.offset(position.line, position.character, self.encoding)

    def span(self, range_: lsp.Range) -> Span:
        start, end = self.offset(range_.start), self.offset(range_.end)
        return Span(min(start, end), max(start, end))

    def location(self, span: Span) -> lsp.Location:
        return lsp.Location(uri=self.uri, range=self.range(span))

    # -------------------------------------------------------- diagnostics

    def diagnostic(self, diagnostic: Diagnostic, source: str = "btls") -> lsp.Diagnostic:
        message = diagnostic.message
        if diagnostic.hints:
            message += "".join(f"\nHINT: {hint}" for hint in diagnostic.hints)
        related = [
            lsp.DiagnosticRelatedInformation(location=self.location(item.span), message=item.message)
            for item in diagnostic.related
        ]
        tags = [lsp.DiagnosticTag.Unnecessary] if diagnostic.code in _UNNECESSARY else None
        return lsp.Diagnostic(
            range=self.range(diagnostic.span),
            message=message,
            severity=lsp.DiagnosticSeverity(int(diagnostic.severity)),
            code=diagnostic.code,
            source=source,
            related_information=related or None,
            tags=tags,
            data=self.diagnostic_data(diagnostic),
        )

    def diagnostic_data(self, diagnostic: Diagnostic) -> Optional[dict]:
        """The hints and fixes, as structured data a client keeps with the
        diagnostic (quick fixes are served from the analysis, not from this;
        it is for clients and tools that read it)."""
        data: dict = {}
        if diagnostic.hints:
            data["hints"] = list(diagnostic.hints)
        if diagnostic.fixes:
            data["fixes"] = [
                {
                    "title": fix.title,
                    "edits": [{"range": self.range_json(e.span), "newText": e.text} for e in fix.edits],
                }
                for fix in diagnostic.fixes
            ]
        return data or None

    def range_json(self, span: Span) -> dict:
        """A range as plain JSON (what `data` may hold)."""
        start, end = self.position(span.start), self.position(span.end)
        return {
            "start": {"line": start.line, "character": start.character},
            "end": {"line": end.line, "character": end.character},
        }

    def text_edit(self, span: Span, text: str) -> lsp.TextEdit:
        return lsp.TextEdit(range=self.range(span), new_text=text)


def markdown(text: str, client_markdown: bool = True) -> lsp.MarkupContent:
    kind = lsp.MarkupKind.Markdown if client_markdown else lsp.MarkupKind.PlainText
    return lsp.MarkupContent(kind=kind, value=text)
