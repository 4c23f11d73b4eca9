"""Source text, spans and the line index.

Every position in the compiler is a UTF-8 byte offset into the source, as in
bpftrace (its columns count bytes). `Span` is a half-open byte range.
`LineIndex` converts offsets to 1-based line/column pairs for terminal
output, and to 0-based line/character pairs in UTF-8, UTF-16 or UTF-32 code
units for the language server, and back.

The parser runs lark over `SourceText.lark_text`: the UTF-8 bytes decoded as
Latin-1, one character per byte, so lark's character offsets *are* byte
offsets and no conversion table is needed. Only literal values (strings,
comments, attach points) are decoded back to real text, with `decode()`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

# Position encodings, named as in the LSP specification.
UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

# The largest program the frontend reads; larger input is refused whole.
MAX_SOURCE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range [start, end) of UTF-8 byte offsets."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"span start {self.start} is after its end {self.end}")

    def __len__(self) -> int:
        return self.end - self.start

    def contains(self, offset: int) -> bool:
        """True when `offset` is inside the span or at its end (a cursor there)."""
        return self.start <= offset <= self.end

    def cover(self, other: Span) -> Span:
        """The smallest span that covers both spans."""
        return Span(min(self.start, other.start), max(self.end, other.end))

    @staticmethod
    def empty_at(offset: int) -> Span:
        return Span(offset, offset)


def decode(latin: str) -> str:
    """Turn a slice of `SourceText.lark_text` back into the text it encodes."""
    if latin.isascii():
        return latin
    return _utf8(latin.encode("latin-1"))


def _utf8(data: bytes) -> str:
    # The bytes came from `str.encode("utf-8", "surrogatepass")`, so this
    # only fails on a slice that cuts a character in two.
    try:
        return data.decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


class SourceText:
    """One document: its text, its bytes, and its line index."""

    def __init__(self, text: str, name: str = "stdin") -> None:
        self.text = text
        self.name = name
        # Lone surrogates can arrive from JSON (LSP); keep them round-trippable.
        self.data = text.encode("utf-8", errors="surrogatepass")
        self.lark_text = self.data.decode("latin-1")
        self.lines = LineIndex(self.data)

    def slice(self, span: Span) -> str:
        """The text a span covers."""
        return decode(self.lark_text[span.start : span.end])


class LineIndex:
    """Offset <-> position conversion for one document's UTF-8 bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        starts = [0]
        find = data.find
        pos = find(b"\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find(b"\n", pos + 1)
        self.line_starts = starts
        self.is_ascii = data.isascii()

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        """0-based line containing `offset` (clamped to the document)."""
        offset = max(0, min(offset, len(self.data)))
        return bisect.bisect_right(self.line_starts, offset) - 1

    def line_span(self, line: int) -> Span:
        """The bytes of a 0-based line, without its line terminator."""
        start = self.line_starts[line]
        if line + 1 < len(self.line_starts):
            end = self.line_starts[line + 1] - 1
        else:
            end = len(self.data)
        if end > start and self.data[end - 1 : end] == b"\r":
            end -= 1
        return Span(start, end)

    def line_text(self, line: int) -> str:
        span = self.line_span(line)
        return _utf8(self.data[span.start : span.end])

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and 1-based byte column, as bpftrace prints them."""
        line = self.line_of(offset)
        return line + 1, max(0, min(offset, len(self.data))) - self.line_starts[line] + 1

    def position(self, offset: int, encoding: str = UTF16) -> tuple[int, int]:
        """0-based (line, character) in the given encoding's code units."""
        offset = max(0, min(offset, len(self.data)))
        line = self.line_of(offset)
        start = self.line_starts[line]
        if self.is_ascii or encoding == UTF8:
            return line, offset - start
        prefix = _utf8(self.data[start:offset])
        return line, _code_units(prefix, encoding)

    def offset(self, line: int, character: int, encoding: str = UTF16) -> int:
        """Byte offset of a 0-based (line, character); clamped to the line."""
        if line < 0:
            return 0
        if line >= len(self.line_starts):
            return len(self.data)
        span = self.line_span(line)
        if self.is_ascii or encoding == UTF8:
            return min(span.start + max(0, character), span.end)
        text = _utf8(self.data[span.start : span.end])
        units = 0
        consumed = 0
        for char in text:
            if units >= character:
                break
            units += _code_units(char, encoding)
            consumed += len(char.encode("utf-8", errors="surrogatepass"))
        return span.start + consumed


def _code_units(text: str, encoding: str) -> int:
    if encoding == UTF32:
        return len(text)
    # UTF-16: characters outside the basic plane take two units.
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
