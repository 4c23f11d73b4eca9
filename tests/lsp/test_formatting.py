"""Document and range formatting: small edits that make exactly what
`btc --fmt` makes, leaving unchanged lines alone; a range formats only its
lines; a broken document gets no edits."""

from __future__ import annotations

import pytest
from helpers import doc_id, open_document
from lsprotocol import types as lsp

from compiler.format import format_text
from compiler.source import UTF8, UTF16, SourceText

pytestmark = pytest.mark.asyncio(loop_scope="module")

# One style: the client's options are not consulted.
OPTIONS = lsp.FormattingOptions(tab_size=8, insert_spaces=False)

MESSY = """\
// Count reads and writes.
kprobe:vfs_read,kprobe:vfs_write /pid > 1/ {
    @io[comm, "é→"] = count();   // a trailing comment
  $n=1;
}

END
{
  print(@io);
}
"""


def _encoding(client) -> str:
    utf8 = client.initialize_result.capabilities.position_encoding == lsp.PositionEncodingKind.Utf8
    return UTF8 if utf8 else UTF16


def apply(client, text: str, edits: list[lsp.TextEdit]) -> str:
    """The text after the client applies `edits` (all relative to the text
    before any of them, as LSP says)."""
    source = SourceText(text)
    encoding = _encoding(client)
    spans = []
    for edit in edits:
        start = source.lines.offset(edit.range.start.line, edit.range.start.character, encoding)
        end = source.lines.offset(edit.range.end.line, edit.range.end.character, encoding)
        spans.append((start, end, edit.new_text.encode()))
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"edits overlap: {edits}"
    data = source.data
    for start, end, new in reversed(spans):
        data = data[:start] + new + data[end:]
    return data.decode()


async def format_document(client, text: str) -> list[lsp.TextEdit]:
    uri = open_document(client, text)
    params = lsp.DocumentFormattingParams(text_document=doc_id(uri), options=OPTIONS)
    return await client.text_document_formatting_async(params)


async def format_lines(client, text: str, first: int, last: int) -> list[lsp.TextEdit]:
    """Range formatting of lines first..last (0-based, inclusive), selected
    as an editor selects whole lines: up to the start of the next line."""
    uri = open_document(client, text)
    selection = lsp.Range(
        start=lsp.Position(line=first, character=0), end=lsp.Position(line=last + 1, character=0)
    )
    params = lsp.DocumentRangeFormattingParams(
        text_document=doc_id(uri), range=selection, options=OPTIONS
    )
    return await client.text_document_range_formatting_async(params)


def touched_lines(edits: list[lsp.TextEdit]) -> set[int]:
    return {line for e in edits for line in range(e.range.start.line, e.range.end.line + 1)}


async def test_formatting_is_advertised(client) -> None:
    capabilities = client.initialize_result.capabilities
    assert capabilities.document_formatting_provider
    assert capabilities.document_range_formatting_provider


async def test_edits_give_the_formatted_document(client) -> None:
    edits = await format_document(client, MESSY)
    assert apply(client, MESSY, edits) == format_text(MESSY)
    # Small edits (one per changed line), not one replacement of the whole document.
    assert len(edits) >= 3
    assert all(e.range.end.line - e.range.start.line <= 1 for e in edits)
    # The lines that were already right are not touched (0: the comment,
    # 6-10: END's probe).
    assert touched_lines(edits) <= {1, 2, 3, 4, 5}


async def test_only_changed_lines_are_edited(client) -> None:
    text = "BEGIN\n{\n  $a = 1;\n  $b  =  2;\n  $c = 3;\n    $d = 4;\n}\n"
    edits = await format_document(client, text)
    assert touched_lines(edits) == {3, 5}
    found = [(e.range.start.line, e.range.start.character, e.range.end.character, e.new_text)
             for e in edits]  # fmt: skip
    assert found == [
        (3, 5, 9, "= "),  # `$b  =  2` -> `$b = 2`
        (5, 2, 4, ""),  # four spaces of indentation -> two
    ]
    assert apply(client, text, edits) == format_text(text)


async def test_a_formatted_document_gets_no_edits(client) -> None:
    assert list(await format_document(client, format_text(MESSY))) == []


async def test_edit_positions_follow_the_encoding(client) -> None:
    # Non-ASCII before the edit on the same line: UTF-16 and UTF-8 columns differ.
    before = '  printf("é→ %d\\n", '
    text = "BEGIN\n{\n" + before + '  1);\n}\n'
    edits = await format_document(client, text)
    assert apply(client, text, edits) == format_text(text)
    if _encoding(client) == UTF8:
        column = len(before.encode())
    else:
        column = len(before.encode("utf-16-le")) // 2
    position = lambda p: (p.line, p.character)  # noqa: E731
    assert [(position(e.range.start), position(e.range.end), e.new_text) for e in edits] == [
        ((2, column), (2, column + 2), ""),  # two of the three blanks before `1` go
    ]


async def test_range_formatting_touches_only_the_range(client) -> None:
    # Lines 6-9 (END's probe) are formatted; the messy first probe is not.
    text = MESSY.replace("END\n{\n  print(@io);\n}", "END {   print(@io);\n\n}")
    lines = text.splitlines()
    end_line = lines.index("END {   print(@io);")
    edits = await format_lines(client, text, end_line, end_line + 2)
    assert edits
    assert touched_lines(edits) <= {end_line, end_line + 1, end_line + 2}
    result = apply(client, text, edits)
    assert result.splitlines()[:end_line] == lines[:end_line]
    assert result.endswith("END\n{\n  print(@io);\n}\n")


async def test_range_formatting_inside_a_probe(client) -> None:
    edits = await format_lines(client, MESSY, 3, 3)  # `  $n=1;`
    assert [(e.range.start.line, e.new_text) for e in edits] == [(3, " = ")]
    assert apply(client, MESSY, edits) == MESSY.replace("$n=1", "$n = 1")


async def test_a_broken_document_gets_no_edits(client) -> None:
    broken = "BEGIN {  $x = ;\n    printf( }\n"
    assert list(await format_document(client, broken)) == []
    assert list(await format_lines(client, broken, 0, 1)) == []
