"""Folding ranges (lines and kinds), selection range chains, and document
links from `#include` and `import` to files that exist."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import doc_id, open_document, position_of, text_of_range
from lsprotocol import types as lsp

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCRIPT = """\
#include <linux/sched.h>
#include <linux/fs.h>
#define LIMIT 10
struct sample {
  int a;
};
config = {
  max_map_keys = 100
}
/* a comment
   over three
   lines */
macro twice(x) {
  x * 2
}
// two line
// comments
kprobe:vfs_read
{
  if (pid > 1) {
    @reads[comm] = count();
  } else {
    @others = count();
  }
  printf("%d %s\\n",
         pid, comm);
}
"""


async def folds_of(client, text: str) -> list[tuple[int, int, object]]:
    uri = open_document(client, text)
    result = await client.text_document_folding_range_async(lsp.FoldingRangeParams(text_document=doc_id(uri)))
    return [(fold.start_line, fold.end_line, fold.kind) for fold in result]


async def test_folding_ranges_of_a_script(client) -> None:
    folds = await folds_of(client, SCRIPT)
    assert folds == [
        (0, 2, lsp.FoldingRangeKind.Imports),  # the #include/#define run
        (3, 4, None),  # struct sample { ... }; its closing line stays visible
        (6, 7, None),  # config
        (9, 11, lsp.FoldingRangeKind.Comment),
        (12, 13, None),  # macro body
        (15, 16, lsp.FoldingRangeKind.Comment),  # consecutive // lines
        (18, 25, None),  # probe body
        (19, 20, None),  # then-block, up to the line before `} else {`
        (21, 22, None),  # else-block
        (24, 25, None),  # printf over two lines
    ]


async def test_single_line_blocks_do_not_fold(client) -> None:
    text = "BEGIN { if (1) { print(1); } }\n// one comment\nEND { exit(); }\n"
    assert await folds_of(client, text) == []


async def test_block_closing_on_a_statement_line_folds_to_it(client) -> None:
    text = "BEGIN {\n  print(1);\n  print(2); }\n"
    assert await folds_of(client, text) == [(0, 2, None)]


async def test_folding_survives_a_syntax_error(client) -> None:
    text = "BEGIN {\n  @x = ;\n  print(1);\n}\n"
    assert (0, 2, None) in await folds_of(client, text)


async def selection_chain(client, text: str, *needles: tuple[str, int]):
    uri = open_document(client, text)
    positions = [position_of(text, needle, delta=delta) for needle, delta in needles]
    result = await client.text_document_selection_range_async(
        lsp.SelectionRangeParams(text_document=doc_id(uri), positions=positions)
    )
    chains = []
    for selection in result:
        chain = []
        while selection is not None:
            chain.append(selection.range)
            selection = selection.parent
        chains.append(chain)
    return chains


def contains(outer: lsp.Range, inner: lsp.Range) -> bool:
    def key(position: lsp.Position):
        return (position.line, position.character)

    return key(outer.start) <= key(inner.start) and key(inner.end) <= key(outer.end) and outer != inner


async def test_selection_from_field_to_program(client) -> None:
    text = 'kprobe:vfs_read {\n  $t = curtask;\n  printf("%d\\n", $t->pid + 1);\n}\n'
    [chain] = await selection_chain(client, text, ("pid +", 1))
    assert [text_of_range(text, r) for r in chain] == [
        "pid",
        "$t->pid",
        "$t->pid + 1",
        'printf("%d\\n", $t->pid + 1)',
        '{\n  $t = curtask;\n  printf("%d\\n", $t->pid + 1);\n}',
        text.rstrip("\n"),
        text,
    ]
    for inner, outer in zip(chain, chain[1:]):
        assert contains(outer, inner)


async def test_one_chain_per_position(client) -> None:
    text = "BEGIN { @a = 1; }\nEND { print(@a); }\n"
    chains = await selection_chain(client, text, ("@a = 1", 1), ("print", 2))
    assert len(chains) == 2
    assert [text_of_range(text, r) for r in chains[0][:3]] == ["@a", "@a = 1", "{ @a = 1; }"]
    assert [text_of_range(text, r) for r in chains[1][:3]] == ["print", "print(@a)", "{ print(@a); }"]


async def test_selection_inside_a_comment(client) -> None:
    text = "// leading note\nBEGIN { exit(); }\n"
    [chain] = await selection_chain(client, text, ("note", 1))
    assert [text_of_range(text, r) for r in chain] == ["// leading note", text]


async def links_of(client, text: str, uri: str):
    open_document(client, text, uri=uri)
    result = await client.text_document_document_link_async(lsp.DocumentLinkParams(text_document=doc_id(uri)))
    client.last_links = result
    return [(link.range, link.target) for link in result]


async def test_quoted_include_next_to_the_document(client, tmp_path: Path) -> None:
    header = tmp_path / "local.h"
    header.write_text("struct local { int x; };\n")
    text = '#include "local.h"\n#include "missing_header_xyz.h"\nBEGIN { exit(); }\n'
    links = await links_of(client, text, (tmp_path / "script.bt").as_uri())
    assert links == [
        (lsp.Range(start=position_of(text, '"local.h"'), end=position_of(text, '"local.h"', delta=9)), header.as_uri())
    ]
    # A tooltip only for clients that show them (the VS Code profile).
    tooltip = client.last_links[0].tooltip
    assert tooltip == (str(header) if client.profile == "visual-studio-code" else None)


async def test_import_relative_to_the_document(client, tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    library = tmp_path / "lib" / "common.bt"
    library.write_text("macro one() { 1 }\n")
    text = 'import "lib/common.bt";\nimport "lib/nothing.bt";\nBEGIN { exit(); }\n'
    links = await links_of(client, text, (tmp_path / "main.bt").as_uri())
    start = position_of(text, '"lib/common.bt"')
    assert links == [(lsp.Range(start=start, end=position_of(text, '"lib/common.bt"', delta=15)), library.as_uri())]


@pytest.mark.skipif(not os.path.isfile("/usr/include/linux/sched.h"), reason="no kernel UAPI headers here")
async def test_angle_include_resolves_to_system_headers(client, tmp_path: Path) -> None:
    text = "#include <linux/sched.h>\n#include <no/such/header.h>\nBEGIN { exit(); }\n"
    links = await links_of(client, text, (tmp_path / "sys.bt").as_uri())
    assert len(links) == 1
    range_, target = links[0]
    assert text_of_range(text, range_) == "<linux/sched.h>"
    assert target.startswith("file:///") and target.endswith("/linux/sched.h")
