"""Semantic tokens: the data decoded back into (line, character, length,
type, modifiers) and checked token by token, in the encoding each client
negotiated."""

from __future__ import annotations

import pytest
from helpers import doc_id, open_document, position_of
from lsprotocol import types as lsp

pytestmark = pytest.mark.asyncio(loop_scope="module")

SAMPLE = """\
#include <linux/sched.h>
config = { max_map_keys = 100 }
macro add($x, y) { $x + y }
/* two
   lines */
kprobe:vfs_read /pid == $1/ {
  $x = 1;
  @count[comm] = count();
  $t = (struct task_struct *)curtask;
  printf("%d %d\\n", $t->pid, $#);
  $y = add($x, 2);
  print(($y, TASK_RUNNING));
}
tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args.filename)); }
"""


def legend(client) -> lsp.SemanticTokensLegend:
    return client.initialize_result.capabilities.semantic_tokens_provider.legend


def decode(client, data: list[int]) -> list[tuple[int, int, int, str, frozenset]]:
    """(line, character, length, type, modifiers) of every token."""
    types, modifiers = legend(client).token_types, legend(client).token_modifiers
    tokens, line, char = [], 0, 0
    for index in range(0, len(data), 5):
        delta_line, delta_char, length, kind, bits = data[index : index + 5]
        line += delta_line
        char = char + delta_char if delta_line == 0 else delta_char
        names = frozenset(name for bit, name in enumerate(modifiers) if bits >> bit & 1)
        tokens.append((line, char, length, types[kind], names))
    return tokens


def by_text(text: str, tokens) -> dict[tuple[int, str], tuple[str, frozenset]]:
    """{(line, token text): (type, modifiers)} for an ASCII text; the first
    token with that text on its line."""
    lines = text.split("\n")
    seen: dict = {}
    for line, char, length, kind, mods in tokens:
        seen.setdefault((line, lines[line][char : char + length]), (kind, mods))
    return seen


def token_at(tokens, position: lsp.Position) -> tuple[str, frozenset]:
    for line, char, _, kind, mods in tokens:
        if (line, char) == (position.line, position.character):
            return kind, mods
    raise AssertionError(f"no token at {position}: {tokens}")


async def full_tokens(client, text: str):
    uri = open_document(client, text)
    result = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(text_document=doc_id(uri)))
    return uri, decode(client, result.data)


async def test_capability_has_legend_full_and_range(client) -> None:
    provider = client.initialize_result.capabilities.semantic_tokens_provider
    assert provider.full and provider.range
    assert {"namespace", "function", "variable", "parameter", "property", "type", "macro"} <= set(
        provider.legend.token_types
    )
    assert {"static", "readonly", "defaultLibrary", "declaration"} <= set(provider.legend.token_modifiers)


async def test_probe_header_tokens(client) -> None:
    _, tokens = await full_tokens(client, SAMPLE)
    seen = by_text(SAMPLE, tokens)
    assert seen[(5, "kprobe")] == ("namespace", frozenset())
    assert seen[(5, "vfs_read")] == ("function", frozenset())
    assert seen[(13, "tracepoint")][0] == "namespace"
    assert seen[(13, "syscalls")][0] == "function"
    assert seen[(13, "sys_enter_openat")][0] == "function"
    assert seen[(5, "pid")] == ("variable", frozenset({"defaultLibrary"}))
    assert seen[(5, "$1")] == ("parameter", frozenset({"readonly"}))


async def test_variables_maps_and_builtins(client) -> None:
    _, tokens = await full_tokens(client, SAMPLE)
    seen = by_text(SAMPLE, tokens)
    assert seen[(6, "$x")] == ("variable", frozenset({"declaration"}))
    assert seen[(7, "@count")] == ("variable", frozenset({"static", "declaration"}))
    assert seen[(7, "comm")] == ("variable", frozenset({"defaultLibrary"}))
    assert seen[(7, "count")] == ("function", frozenset({"defaultLibrary"}))
    assert seen[(9, "printf")] == ("function", frozenset({"defaultLibrary"}))
    assert seen[(9, "$t")] == ("variable", frozenset())
    assert seen[(9, "pid")] == ("property", frozenset())
    assert seen[(9, "$#")] == ("parameter", frozenset({"readonly"}))
    assert seen[(13, "args")] == ("parameter", frozenset({"readonly", "defaultLibrary"}))
    assert seen[(13, "filename")] == ("property", frozenset())


async def test_types_enums_macros_and_keywords(client) -> None:
    _, tokens = await full_tokens(client, SAMPLE)
    seen = by_text(SAMPLE, tokens)
    assert seen[(8, "struct")][0] == "keyword"
    assert seen[(8, "task_struct")][0] == "type"
    assert seen[(8, "curtask")] == ("variable", frozenset({"defaultLibrary"}))
    assert seen[(11, "TASK_RUNNING")][0] == "enumMember"
    assert seen[(2, "macro")][0] == "keyword"
    assert seen[(2, "add")] == ("macro", frozenset({"declaration"}))
    assert seen[(2, "$x")] == ("parameter", frozenset({"declaration"}))
    assert seen[(2, "y")] == ("parameter", frozenset({"declaration"}))
    assert token_at(tokens, position_of(SAMPLE, "$x", occurrence=1)) == ("parameter", frozenset())
    assert token_at(tokens, position_of(SAMPLE, "y }")) == ("parameter", frozenset())
    assert seen[(10, "add")] == ("macro", frozenset())
    assert seen[(1, "config")][0] == "keyword"
    assert seen[(1, "max_map_keys")][0] == "property"
    assert seen[(0, "#include")][0] == "keyword"


async def test_macro_parameter_shadows_builtin(client) -> None:
    text = "macro twice(pid) { pid * 2 }\nBEGIN { print(twice(3)); print(pid); }\n"
    _, tokens = await full_tokens(client, text)
    # In the body `pid` is the macro's parameter; in BEGIN it is the builtin.
    assert token_at(tokens, position_of(text, "pid")) == ("parameter", frozenset({"declaration"}))
    assert token_at(tokens, position_of(text, "pid", occurrence=1)) == ("parameter", frozenset())
    assert token_at(tokens, position_of(text, "pid", occurrence=2)) == ("variable", frozenset({"defaultLibrary"}))


async def test_fn_names_and_parameters(client) -> None:
    text = "fn double($v: int64): int64 { return $v * 2; }\nBEGIN { print(double(4)); }\n"
    _, tokens = await full_tokens(client, text)
    seen = by_text(text, tokens)
    assert seen[(0, "fn")][0] == "keyword"
    assert seen[(0, "double")] == ("function", frozenset({"declaration"}))
    assert seen[(0, "$v")] == ("parameter", frozenset({"declaration"}))
    assert seen[(0, "int64")] == ("type", frozenset({"defaultLibrary"}))
    assert seen[(0, "return")][0] == "keyword"
    assert token_at(tokens, position_of(text, "$v", occurrence=1)) == ("parameter", frozenset())
    assert seen[(1, "double")] == ("function", frozenset())  # a user fn: no defaultLibrary


async def test_multiline_comment_is_split_per_line(client) -> None:
    _, tokens = await full_tokens(client, SAMPLE)
    comments = [(line, char, length) for line, char, length, kind, _ in tokens if kind == "comment"]
    assert comments == [(3, 0, 6), (4, 0, 11)]


async def test_tokens_are_sorted_disjoint_and_single_line(client) -> None:
    _, tokens = await full_tokens(client, SAMPLE)
    lines = SAMPLE.split("\n")
    previous = (-1, 0, 0)
    for line, char, length, _, _ in tokens:
        assert length > 0 and char + length <= len(lines[line])
        if line == previous[0]:
            assert char >= previous[1] + previous[2], (line, char)
        else:
            assert line > previous[0]
        previous = (line, char, length)


async def test_range_is_a_subset_of_full(client) -> None:
    uri, full = await full_tokens(client, SAMPLE)
    window = lsp.Range(start=lsp.Position(line=6, character=0), end=lsp.Position(line=8, character=0))
    result = await client.text_document_semantic_tokens_range_async(
        lsp.SemanticTokensRangeParams(text_document=doc_id(uri), range=window)
    )
    ranged = decode(client, result.data)
    assert ranged and set(ranged) <= set(full)
    assert {line for line, *_ in ranged} == {6, 7}
    assert ranged == [token for token in full if token[0] in (6, 7)]


async def test_positions_use_the_negotiated_encoding(client) -> None:
    # 'é' is 2 UTF-8 bytes but 1 UTF-16 unit; '😀' is 4 bytes, 2 units.
    text = 'BEGIN { /* é😀 */ @m = 1; }\n'
    _, tokens = await full_tokens(client, text)
    utf8 = client.initialize_result.capabilities.position_encoding == lsp.PositionEncodingKind.Utf8
    comment = next(t for t in tokens if t[3] == "comment")
    the_map = next(t for t in tokens if t[3] == "variable")
    if utf8:
        assert comment[1:3] == (8, 12) and the_map[1:3] == (21, 2)
    else:
        assert comment[1:3] == (8, 9) and the_map[1:3] == (18, 2)


async def test_broken_document_still_has_tokens(client) -> None:
    text = "kprobe:vfs_read { @x = count(; $y = pid; }\n"
    _, tokens = await full_tokens(client, text)
    seen = by_text(text, tokens)
    assert seen[(0, "kprobe")][0] == "namespace"
    assert seen[(0, "pid")] == ("variable", frozenset({"defaultLibrary"}))


async def test_shebang_is_a_comment(client) -> None:
    text = "#!/usr/bin/env bpftrace\nBEGIN { exit(); }\n"
    _, tokens = await full_tokens(client, text)
    assert tokens[0] == (0, 0, 23, "comment", frozenset())
    assert tokens[1] == (1, 0, 5, "namespace", frozenset())


async def test_empty_document_has_no_tokens(client) -> None:
    _, tokens = await full_tokens(client, "")
    assert tokens == []
