"""Inlay hints: inferred types at first assignments and builtin parameter
names, their labels and positions, the requested range and the settings."""

from __future__ import annotations

import asyncio

import pytest
from helpers import doc_id, open_document, position_of
from lsprotocol import types as lsp

pytestmark = pytest.mark.asyncio(loop_scope="module")

WHOLE = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=10_000, character=0))


async def hints_for(client, text: str, range_: lsp.Range = WHOLE, uri: str | None = None):
    uri = uri or open_document(client, text)
    result = await client.text_document_inlay_hint_async(lsp.InlayHintParams(text_document=doc_id(uri), range=range_))
    return [(hint.position, hint.label, hint.kind) for hint in result or []]


def at(text: str, needle: str, **kwargs) -> lsp.Position:
    return position_of(text, needle, **kwargs)


async def test_variable_type_at_first_assignment_only(client) -> None:
    text = 'BEGIN { $s = "hi"; $s = "yo"; $n = 1 + 2; print(($s, $n)); }\n'
    hints = await hints_for(client, text)
    types = [(position, label) for position, label, kind in hints if kind == lsp.InlayHintKind.Type]
    assert types == [
        (at(text, "$s", delta=2), ": string[3]"),
        (at(text, "$n", delta=2), ": int64"),
    ]


async def test_map_value_kind_and_key_in_tooltip(client) -> None:
    text = "kprobe:vfs_read { @calls[comm] = count(); @calls[comm] = count(); @lat = hist(arg2); }\n"
    uri = open_document(client, text)
    result = await client.text_document_inlay_hint_async(lsp.InlayHintParams(text_document=doc_id(uri), range=WHOLE))
    types = [hint for hint in result if hint.kind == lsp.InlayHintKind.Type]
    assert [(hint.position, hint.label) for hint in types] == [
        (at(text, "@calls[comm]", delta=12), ": count_t"),
        (at(text, "@lat", delta=4), ": hist_t"),
    ]
    assert types[0].tooltip == "@calls[string[16]]: count_t"
    assert types[1].tooltip == "@lat: hist_t"


async def test_lhist_parameter_names(client) -> None:
    text = "kprobe:vfs_read { @h = lhist(arg2, 0, 100, 10); }\n"
    hints = await hints_for(client, text)
    params = [(position, label) for position, label, kind in hints if kind == lsp.InlayHintKind.Parameter]
    # The value being aggregated needs no name: lhist says what it is.
    assert params == [
        (at(text, "0,"), "min:"),
        (at(text, "100"), "max:"),
        (at(text, "10)"), "step:"),
    ]


async def test_no_name_when_argument_already_says_it(client) -> None:
    text = "kprobe:vfs_read { $length = 8; printf(\"%s\", str(arg1, $length)); print(str(arg1, 16)); }\n"
    hints = await hints_for(client, text)
    params = [(position, label) for position, label, kind in hints if kind == lsp.InlayHintKind.Parameter]
    assert params == [(at(text, "16"), "length:")]


async def test_single_argument_and_choice_words_get_no_names(client) -> None:
    text = "kprobe:vfs_read { printf(\"%d\\n\", 1); @s[kstack(perf, 3)] = count(); }\n"
    hints = await hints_for(client, text)
    params = [(position, label) for position, label, kind in hints if kind == lsp.InlayHintKind.Parameter]
    assert params == [(at(text, "3)"), "limit:")]


async def test_written_types_are_not_repeated(client) -> None:
    text = "BEGIN { let $a: int32 = 5; $t = (struct task_struct *)curtask; $u = nsecs; print(($a, $t, $u)); }\n"
    hints = await hints_for(client, text)
    assert [(position, label) for position, label, _ in hints] == [(at(text, "$u", delta=2), ": uint64")]


async def test_loop_variable_gets_its_type(client) -> None:
    text = "BEGIN { @m[pid] = nsecs; for ($kv : @m) { print($kv); } }\n"
    hints = await hints_for(client, text)
    labels = {label for position, label, _ in hints if position == at(text, "$kv", delta=3)}
    assert labels == {": (uint32,uint64)"}


async def test_only_hints_in_the_requested_range(client) -> None:
    text = "BEGIN {\n  $a = 1;\n  $b = nsecs;\n  @h = lhist($b, 0, 10, 1);\n  print(($a, $b));\n}\n"
    window = lsp.Range(start=lsp.Position(line=2, character=0), end=lsp.Position(line=2, character=10))
    hints = await hints_for(client, text, window)
    assert [(position, label) for position, label, _ in hints] == [(at(text, "$b", delta=2), ": uint64")]


async def test_settings_turn_kinds_off(client) -> None:
    text = "kprobe:vfs_read { $v = 1; @h = lhist($v, 0, 10, 1); }\n"
    uri = open_document(client, text)

    async def kinds_after(settings: dict) -> set:
        client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"btls": settings}))
        kinds: set = set()
        for _ in range(100):  # the notification is handled asynchronously
            kinds = {kind for _, _, kind in await hints_for(client, text, uri=uri)}
            if kinds == expected:
                break
            await asyncio.sleep(0.02)
        return kinds

    try:
        expected = {lsp.InlayHintKind.Parameter}
        assert await kinds_after({"inlayHints": {"types": False}}) == expected
        expected = {lsp.InlayHintKind.Type}
        assert await kinds_after({"inlayHints": {"types": True, "parameters": False}}) == expected
    finally:
        expected = {lsp.InlayHintKind.Type, lsp.InlayHintKind.Parameter}
        assert await kinds_after({"inlayHints": {"types": True, "parameters": True}}) == expected


async def test_unknown_types_give_no_hint(client) -> None:
    text = "BEGIN { $x = nosuchthing; print($x); }\n"
    assert await hints_for(client, text) == []
