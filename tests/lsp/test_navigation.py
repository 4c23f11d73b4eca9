"""Navigation: definition, references, highlights and rename of maps,
variables, macros, fns and macro parameters, over every client profile."""

from __future__ import annotations

import pytest
from helpers import change_document, doc_id, open_document, position_of, text_of_range
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROGRAM = """\
macro add($x, y) { $x + y }
fn twice($v: int64): int64 { return $v * 2; }
let @hist = hash(64);
BEGIN { @count = 1; $a = 1; $b = add($a, 2); print(twice($b)); @hist[1] = 1; }
interval:s:1 { @count = @count + 1; $a = 5; print($a); }
END { print(@count); print(@hist); }
"""


def span_of(text: str, needle: str, occurrence: int = 0, delta: int = 0, length: int | None = None) -> lsp.Range:
    start = position_of(text, needle, delta=delta, occurrence=occurrence)
    size = len(needle) - delta if length is None else length
    return lsp.Range(start=start, end=lsp.Position(line=start.line, character=start.character + size))


def ranges(locations) -> list[lsp.Range]:
    return sorted((loc.range for loc in locations or []), key=lambda r: (r.start.line, r.start.character))


async def definition(client, uri, position):
    return await client.text_document_definition_async(lsp.DefinitionParams(text_document=doc_id(uri), position=position))


async def references(client, uri, position, include_declaration=True):
    return await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=doc_id(uri), position=position,
            context=lsp.ReferenceContext(include_declaration=include_declaration),
        )  # fmt: skip
    )


async def prepare(client, uri, position):
    return await client.text_document_prepare_rename_async(
        lsp.PrepareRenameParams(text_document=doc_id(uri), position=position)
    )


async def rename(client, uri, position, new_name):
    return await client.text_document_rename_async(
        lsp.RenameParams(text_document=doc_id(uri), position=position, new_name=new_name)
    )


def edits_of(client, edit: lsp.WorkspaceEdit, uri: str, version: int = 1) -> list[lsp.TextEdit]:
    """The edits for `uri`, checking the client gets the form it declared:
    versioned documentChanges for VS Code, plain changes for Neovim."""
    if client.profile == "visual-studio-code":
        assert edit.changes is None
        (change,) = edit.document_changes
        assert change.text_document.uri == uri and change.text_document.version == version
        return sorted(change.edits, key=lambda e: (e.range.start.line, e.range.start.character))
    assert edit.document_changes is None
    assert list(edit.changes) == [uri]
    return sorted(edit.changes[uri], key=lambda e: (e.range.start.line, e.range.start.character))


def apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    result = text
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        result = result[:start] + edit.new_text + result[end:]
    return result


# ----------------------------------------------------------------- definition


async def test_definition_of_map_used_in_another_probe(client) -> None:
    uri = open_document(client, PROGRAM)
    found = await definition(client, uri, position_of(PROGRAM, "@count);", delta=2))
    # Maps are global: every probe that assigns @count defines it.
    assert ranges(found) == [span_of(PROGRAM, "@count", 0), span_of(PROGRAM, "@count", 1)]
    assert all(loc.uri == uri for loc in found)


async def test_definition_of_declared_map_is_its_declaration(client) -> None:
    uri = open_document(client, PROGRAM)
    found = await definition(client, uri, position_of(PROGRAM, "@hist);"))
    assert ranges(found) == [span_of(PROGRAM, "@hist")]


async def test_definition_of_variable_stays_in_its_probe(client) -> None:
    uri = open_document(client, PROGRAM)
    found = await definition(client, uri, position_of(PROGRAM, "$a);", delta=1))
    # The interval probe's own $a, not BEGIN's.
    assert ranges(found) == [span_of(PROGRAM, "$a = 5", length=2)]


async def test_definition_of_macro_and_fn_from_calls(client) -> None:
    uri = open_document(client, PROGRAM)
    macro = await definition(client, uri, position_of(PROGRAM, "add($a", delta=1))
    assert ranges(macro) == [span_of(PROGRAM, "add")]
    fn = await definition(client, uri, position_of(PROGRAM, "twice($b"))
    assert ranges(fn) == [span_of(PROGRAM, "twice")]
    param = await definition(client, uri, position_of(PROGRAM, "$v * 2"))
    assert ranges(param) == [span_of(PROGRAM, "$v")]


async def test_definition_of_macro_parameter_inside_body(client) -> None:
    uri = open_document(client, PROGRAM)
    found = await definition(client, uri, position_of(PROGRAM, "$x + y"))
    assert ranges(found) == [span_of(PROGRAM, "$x")]
    ident = await definition(client, uri, position_of(PROGRAM, "y }"))
    assert ranges(ident) == [span_of(PROGRAM, "y)", length=1)]


async def test_definition_of_builtin_is_empty(client) -> None:
    uri = open_document(client, PROGRAM)
    assert not await definition(client, uri, position_of(PROGRAM, "print(@count"))
    assert not await definition(client, uri, position_of(PROGRAM, "interval"))


async def test_definition_follows_edits(client) -> None:
    text = "BEGIN { $old = 1; print($old); }\n"
    uri = open_document(client, text)
    new = "BEGIN { $n = 1;\n  $n = 2; print($n); }\n"
    change_document(client, uri, 2, new)
    found = await definition(client, uri, position_of(new, "$n)"))
    assert ranges(found) == [span_of(new, "$n")]


# ----------------------------------------------------------------- references


async def test_references_of_map_with_and_without_declaration(client) -> None:
    uri = open_document(client, PROGRAM)
    at = position_of(PROGRAM, "@count", occurrence=2)
    every = await references(client, uri, at, include_declaration=True)
    assert ranges(every) == [span_of(PROGRAM, "@count", i) for i in range(4)]
    reads = await references(client, uri, at, include_declaration=False)
    assert ranges(reads) == [span_of(PROGRAM, "@count", 2), span_of(PROGRAM, "@count", 3)]


async def test_references_of_variable_respect_scopes_and_macros(client) -> None:
    uri = open_document(client, PROGRAM)
    found = await references(client, uri, position_of(PROGRAM, "$a = 1"))
    # BEGIN's $a: its assignment and the macro argument. Not the `$x` in
    # the macro's body, not the interval probe's $a.
    assert ranges(found) == [span_of(PROGRAM, "$a", 0), span_of(PROGRAM, "$a", 1)]
    param = await references(client, uri, position_of(PROGRAM, "$x"), include_declaration=False)
    assert ranges(param) == [span_of(PROGRAM, "$x", 1)]


async def test_references_of_macro_and_fn(client) -> None:
    uri = open_document(client, PROGRAM)
    macro = await references(client, uri, position_of(PROGRAM, "add"))
    assert ranges(macro) == [span_of(PROGRAM, "add", 0), span_of(PROGRAM, "add", 1)]
    calls = await references(client, uri, position_of(PROGRAM, "twice"), include_declaration=False)
    assert ranges(calls) == [span_of(PROGRAM, "twice", 1)]


async def test_references_of_map_passed_to_macro(client) -> None:
    text = "macro bump(@m) { @m += 1; }\nBEGIN { @c = 0; bump(@c); }\nEND { print(@c); }\n"
    uri = open_document(client, text)
    found = await references(client, uri, position_of(text, "@c);", occurrence=0))
    assert ranges(found) == [span_of(text, "@c", i) for i in range(3)]
    inner = await references(client, uri, position_of(text, "@m +="))
    assert ranges(inner) == [span_of(text, "@m", 0), span_of(text, "@m", 1)]


# ----------------------------------------------------------------- highlights


async def test_highlights_have_read_and_write_kinds(client) -> None:
    uri = open_document(client, PROGRAM)
    found = await client.text_document_document_highlight_async(
        lsp.DocumentHighlightParams(text_document=doc_id(uri), position=position_of(PROGRAM, "@count"))
    )
    kinds = {(h.range.start.line, h.range.start.character): h.kind for h in found}
    W, R = lsp.DocumentHighlightKind.Write, lsp.DocumentHighlightKind.Read
    expected = [W, W, R, R]
    assert kinds == {
        (span_of(PROGRAM, "@count", i).start.line, span_of(PROGRAM, "@count", i).start.character): expected[i]
        for i in range(4)
    }
    variable = await client.text_document_document_highlight_async(
        lsp.DocumentHighlightParams(text_document=doc_id(uri), position=position_of(PROGRAM, "$a);", delta=1))
    )
    assert [(h.range, h.kind) for h in variable] == [(span_of(PROGRAM, "$a = 5", length=2), W), (span_of(PROGRAM, "$a);", length=2), R)]


async def test_highlight_of_nothing_is_empty(client) -> None:
    uri = open_document(client, PROGRAM)
    found = await client.text_document_document_highlight_async(
        lsp.DocumentHighlightParams(text_document=doc_id(uri), position=position_of(PROGRAM, "64"))
    )
    assert not found


# --------------------------------------------------------------------- rename


async def test_prepare_rename_gives_the_name_range(client) -> None:
    uri = open_document(client, PROGRAM)
    for needle, occurrence, delta in (("@count", 2, 3), ("$b", 1, 1), ("add", 1, 0), ("twice", 1, 2), ("y }", 0, 0)):
        answer = await prepare(client, uri, position_of(PROGRAM, needle, occurrence=occurrence, delta=delta))
        name = needle.split()[0]
        assert answer.range == span_of(PROGRAM, needle, occurrence, length=len(name)), needle
        assert answer.placeholder == name


async def test_prepare_rename_refuses_builtins_args_and_positionals(client) -> None:
    text = "kprobe:vfs_read /pid > $1/ { @x[comm] = args.count; printf(\"%d\\n\", arg0); }\n"
    uri = open_document(client, text)
    for needle, reason in (("pid", "builtin"), ("comm", "builtin"), ("args", "args"), ("printf", "builtin"),
                           ("arg0", "builtin"), ("$1", "Positional")):  # fmt: skip
        with pytest.raises(JsonRpcException) as refused:
            await prepare(client, uri, position_of(text, needle, delta=1))
        assert reason in str(refused.value), (needle, refused.value)
    # Nothing nameable: no answer.
    assert await prepare(client, uri, position_of(text, "> ")) is None
    assert await prepare(client, uri, position_of(text, "count", delta=1)) is None  # a field


async def test_rename_map_everywhere(client) -> None:
    uri = open_document(client, PROGRAM)
    edit = await rename(client, uri, position_of(PROGRAM, "@count"), "@total")
    edits = edits_of(client, edit, uri)
    assert [e.range for e in edits] == [span_of(PROGRAM, "@count", i) for i in range(4)]
    assert {e.new_text for e in edits} == {"@total"}
    renamed = apply(PROGRAM, edits)
    assert "@count" not in renamed and renamed.count("@total") == 4


async def test_rename_variable_touches_one_scope(client) -> None:
    uri = open_document(client, PROGRAM)
    edit = await rename(client, uri, position_of(PROGRAM, "$a = 1"), "$first")
    renamed = apply(PROGRAM, edits_of(client, edit, uri))
    assert "$first = 1; $b = add($first, 2)" in renamed
    assert "macro add($x, y) { $x + y }" in renamed
    assert "$a = 5; print($a);" in renamed


async def test_rename_macro_fn_and_parameter(client) -> None:
    uri = open_document(client, PROGRAM)
    macro = apply(PROGRAM, edits_of(client, await rename(client, uri, position_of(PROGRAM, "add($a"), "plus"), uri))
    assert "macro plus($x, y)" in macro and "$b = plus($a, 2)" in macro
    fn = apply(PROGRAM, edits_of(client, await rename(client, uri, position_of(PROGRAM, "twice"), "double"), uri))
    assert "fn double($v" in fn and "print(double($b))" in fn
    param = apply(PROGRAM, edits_of(client, await rename(client, uri, position_of(PROGRAM, "$x + y"), "$value"), uri))
    assert "macro add($value, y) { $value + y }" in param and "add($a, 2)" in param
    fn_param = apply(PROGRAM, edits_of(client, await rename(client, uri, position_of(PROGRAM, "$v"), "$n"), uri))
    assert "fn twice($n: int64): int64 { return $n * 2; }" in fn_param


async def test_rename_edits_are_versioned(client) -> None:
    text = "BEGIN { @a = 1; }\n"
    uri = open_document(client, text)
    change_document(client, uri, 7, "BEGIN { @a = 1; print(@a); }\n")
    edit = await rename(client, uri, lsp.Position(line=0, character=9), "@b")
    edits = edits_of(client, edit, uri, version=7)
    assert len(edits) == 2


async def test_rename_refuses_invalid_and_clashing_names(client) -> None:
    uri = open_document(client, PROGRAM)
    cases = (
        ("@count", "total", "@name"),  # a map keeps its @
        ("@count", "@to tal", "@name"),
        ("$b", "@b", "$name"),
        ("$b", "$1", "$name"),
        ("add", "$add", "name"),
        ("add", "printf", "builtin"),
        ("twice", "if", "keyword"),
        ("@count", "@hist", "already exists"),
        ("$b", "$a", "already exists"),
        ("add", "twice", "already exists"),
    )
    for needle, new_name, reason in cases:
        with pytest.raises(JsonRpcException) as refused:
            await rename(client, uri, position_of(PROGRAM, needle, occurrence=0), new_name)
        assert reason in str(refused.value), (needle, new_name, refused.value)


async def test_rename_builtin_is_refused(client) -> None:
    text = "BEGIN { print(nsecs); }\n"
    uri = open_document(client, text)
    with pytest.raises(JsonRpcException) as refused:
        await rename(client, uri, position_of(text, "nsecs"), "$t")
    assert "builtin" in str(refused.value)


async def test_positions_in_negotiated_encoding(client) -> None:
    # "é" is one UTF-16 unit but two UTF-8 bytes: the map's column depends
    # on the encoding the client and server agreed on.
    text = 'BEGIN { printf("é"); @m = 1; print(@m); }\n'
    uri = open_document(client, text)
    utf8 = client.initialize_result.capabilities.position_encoding == lsp.PositionEncodingKind.Utf8
    column = text.index("@m") + (1 if utf8 else 0)
    found = await definition(client, uri, lsp.Position(line=0, character=column + (text.index("@m)") - text.index("@m"))))
    assert ranges(found) == [lsp.Range(start=lsp.Position(line=0, character=column), end=lsp.Position(line=0, character=column + 2))]
    assert text_of_range(text, lsp.Range(start=lsp.Position(line=0, character=text.index("@m")), end=lsp.Position(line=0, character=text.index("@m") + 2))) == "@m"


async def test_nested_macros_keep_each_level_apart(client) -> None:
    text = (
        "macro inner($p) { $p = $p + 1; $p }\n"
        "macro outer($q) { inner($q) * 2 }\n"
        "BEGIN { $a = 1; print(outer($a)); print($a); }\n"
    )
    uri = open_document(client, text)
    caller = await references(client, uri, position_of(text, "$a"))
    assert ranges(caller) == [span_of(text, "$a", i) for i in range(3)]
    middle = await references(client, uri, position_of(text, "$q"))
    assert ranges(middle) == [span_of(text, "$q", 0), span_of(text, "$q", 1)]
    inner = await client.text_document_document_highlight_async(
        lsp.DocumentHighlightParams(text_document=doc_id(uri), position=position_of(text, "$p"))
    )
    W, R = lsp.DocumentHighlightKind.Write, lsp.DocumentHighlightKind.Read
    assert [(h.range, h.kind) for h in inner] == [
        (span_of(text, "$p", 0), W), (span_of(text, "$p", 1), W), (span_of(text, "$p", 2), R), (span_of(text, "$p", 3), R),
    ]  # fmt: skip


async def test_loop_and_block_variables(client) -> None:
    text = (
        "BEGIN { @m[1] = 2; for ($kv : @m) { print($kv.0); } for ($kv : @m) { print($kv.1); } }\n"
        "END { $x = 1; if ($x) { $x = 2; } print($x); }\n"
    )
    uri = open_document(client, text)
    first = await references(client, uri, position_of(text, "$kv.0"))
    assert ranges(first) == [span_of(text, "$kv", 0), span_of(text, "$kv", 1)]
    second = await definition(client, uri, position_of(text, "$kv.1"))
    assert ranges(second) == [span_of(text, "$kv", 2)]
    # The inner block assigns the outer $x: one symbol.
    outer = await references(client, uri, position_of(text, "$x);"))
    assert ranges(outer) == [span_of(text, "$x", i) for i in range(4)]
