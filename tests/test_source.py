"""Offsets, lines and columns in every encoding the editors use."""

from __future__ import annotations

import pytest

from compiler.source import UTF8, UTF16, UTF32, SourceText, Span


def test_line_col_is_one_based_bytes() -> None:
    src = SourceText("ab\ncd\n")
    assert src.lines.line_col(0) == (1, 1)
    assert src.lines.line_col(3) == (2, 1)
    assert src.lines.line_col(5) == (2, 3)  # the newline itself
    assert src.lines.line_col(6) == (3, 1)  # end of input


def test_non_ascii_columns_per_encoding() -> None:
    # 'é' is 2 bytes in UTF-8, 1 UTF-16 unit; '😀' is 4 bytes, 2 UTF-16 units.
    src = SourceText('// é😀x\n$x')
    x = src.data.index(b"x")
    assert src.lines.position(x, UTF8) == (0, 9)
    assert src.lines.position(x, UTF16) == (0, 6)
    assert src.lines.position(x, UTF32) == (0, 5)
    for encoding in (UTF8, UTF16, UTF32):
        line, character = src.lines.position(x, encoding)
        assert src.lines.offset(line, character, encoding) == x


def test_offsets_clamp_to_the_line_and_document() -> None:
    src = SourceText("abc\nd")
    assert src.lines.offset(0, 99) == 3
    assert src.lines.offset(7, 0) == len(src.data)
    assert src.lines.offset(-1, 0) == 0
    assert src.lines.position(999) == (1, 1)


def test_crlf_lines_exclude_the_carriage_return() -> None:
    src = SourceText("ab\r\ncd")
    assert src.lines.line_text(0) == "ab"
    assert src.lines.line_span(1) == Span(4, 6)


def test_slice_decodes_utf8() -> None:
    src = SourceText('printf("héllo")')
    assert src.slice(Span(7, 15)) == '"héllo"'


def test_lone_surrogates_do_not_break_the_index() -> None:
    src = SourceText("a\ud800b")
    assert src.lines.position(len(src.data)) == (0, 3)


def test_span_rules() -> None:
    assert Span(2, 5).cover(Span(4, 9)) == Span(2, 9)
    assert Span(2, 5).contains(5) and not Span(2, 5).contains(6)
    with pytest.raises(ValueError):
        Span(3, 2)
