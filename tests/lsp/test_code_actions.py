"""Quick fixes: for each kind of fix, open a document with the problem, ask
for code actions on the diagnostic's range (passing the diagnostic, as a
client does), check the titles and kinds, apply the workspace edit, and
check that the fixed text no longer has that diagnostic."""

from __future__ import annotations

import pytest
from helpers import diagnostics_for, doc_id, open_document, position_of
from lsprotocol import types as lsp

# The module-scoped server lives on the module's event loop (conftest.py).
pytestmark = pytest.mark.asyncio(loop_scope="module")


def apply_edit(client, uri: str, text: str, edit: lsp.WorkspaceEdit) -> str:
    """The text after the edit, checking the shape each profile gets:
    versioned documentChanges for VS Code, plain changes for Neovim."""
    if client.profile == "visual-studio-code":
        assert edit.changes is None and len(edit.document_changes) == 1
        change = edit.document_changes[0]
        assert change.text_document.uri == uri and change.text_document.version == 1
        edits = change.edits
    else:
        assert edit.document_changes is None and list(edit.changes) == [uri]
        edits = edit.changes[uri]
    lines = text.split("\n")

    def offset(position: lsp.Position) -> int:  # the tests' texts are ASCII
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    for item in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(item.range.start)] + item.new_text + text[offset(item.range.end) :]
    return text


async def actions_for(client, text: str, code: str):
    """(uri, the diagnostic with `code`, the code actions for it)."""
    uri = open_document(client, text)
    diagnostics = await diagnostics_for(client, uri, version=1)
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, diagnostics
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=doc_id(uri), range=found[0].range, context=lsp.CodeActionContext(diagnostics=found)
        )
    )
    for action in actions:
        assert action.kind == lsp.CodeActionKind.QuickFix
        assert list(action.diagnostics) == found
    return uri, found[0], actions


async def codes_of(client, text: str) -> list[str]:
    uri = open_document(client, text)
    return [d.code for d in await diagnostics_for(client, uri, version=1)]


def preferred(client, action) -> bool:
    # Neovim 0.7 does not declare isPreferred, so it never gets it.
    if client.profile == "neovim@v0.7.0":
        assert action.is_preferred is None
        return True
    return action.is_preferred is True


# (text, diagnostic code, the action titles, the text after the first action)
RENAMES = [
    pytest.param(
        'BEGIN { $n = strlenn("abc"); print($n); }\n', "unknown-function", ["Change to 'strlen'"],
        'BEGIN { $n = strlen("abc"); print($n); }\n', id="function",
    ),
    pytest.param(
        'BEGIN { printf("%s\\n", comn); }\n', "unknown-identifier", ["Change to 'comm'"],
        'BEGIN { printf("%s\\n", comm); }\n', id="builtin",
    ),
    pytest.param(
        "kprobee:vfs_read { print(1); }\n", "probe-type", ["Change to 'kprobe'"],
        "kprobe:vfs_read { print(1); }\n", id="provider",
    ),
    pytest.param(
        "tracepoint:syscalls:sys_enter_opena { print(1); }\n", "missing-probe",
        ["Change to 'syscalls:sys_enter_openat'"],
        "tracepoint:syscalls:sys_enter_openat { print(1); }\n", id="tracepoint",
    ),
    pytest.param(
        "kprobe:vfs_read { print(curtask->comn); }\n", "field", ["Change to 'comm'"],
        "kprobe:vfs_read { print(curtask->comm); }\n", id="struct-field",
    ),
    pytest.param(
        'tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args.filenam)); }\n', "field",
        ["Change to 'filename'"],
        'tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args.filename)); }\n', id="args-field",
    ),
    pytest.param(
        "BEGIN { $count = 1; print($cuont); }\n", "undefined-variable", ["Change to '$count'"],
        "BEGIN { $count = 1; print($count); }\n", id="variable",
    ),
    pytest.param(
        "BEGIN { @reads[pid] = count(); }\nEND { print(@raeds[1]); }\n", "undefined-map", ["Change to '@reads'"],
        "BEGIN { @reads[pid] = count(); }\nEND { print(@reads[1]); }\n", id="map",
    ),
    pytest.param(
        "config = { max_strlenn = 64 }\nBEGIN { print(1); }\n", "config", ["Change to 'max_strlen'"],
        "config = { max_strlen = 64 }\nBEGIN { print(1); }\n", id="config-key",
    ),
]  # fmt: skip


@pytest.mark.parametrize("text, code, titles, fixed", RENAMES)
async def test_did_you_mean(client, text, code, titles, fixed) -> None:
    uri, diagnostic, actions = await actions_for(client, text, code)
    assert [a.title for a in actions] == titles
    assert preferred(client, actions[0])
    assert apply_edit(client, uri, text, actions[0].edit) == fixed
    assert code not in await codes_of(client, fixed)


async def test_several_suggestions_are_several_actions_none_preferred(client) -> None:
    text = 'BEGIN { prinf("hello\\n"); }\n'
    uri, _, actions = await actions_for(client, text, "unknown-function")
    assert [a.title for a in actions] == ["Change to 'print'", "Change to 'printf'"]
    assert all(a.is_preferred is None for a in actions)
    results = [apply_edit(client, uri, text, a.edit) for a in actions]
    assert results == ['BEGIN { print("hello\\n"); }\n', 'BEGIN { printf("hello\\n"); }\n']
    for result in results:
        assert await codes_of(client, result) == []


SPECIFIERS = [
    pytest.param(
        'BEGIN { printf("%d\\n", "abc"); }\n', "Change '%d' to '%s'", 'BEGIN { printf("%s\\n", "abc"); }\n',
        id="d-with-string",
    ),
    pytest.param(
        'tracepoint:sched:sched_switch { printf("%-16ld|\\n", args.prev_comm); }\n', "Change '%-16ld' to '%-16s'",
        'tracepoint:sched:sched_switch { printf("%-16s|\\n", args.prev_comm); }\n', id="flags-and-width-kept",
    ),
    pytest.param(
        'BEGIN { printf("%r\\n", (uint32)7); }\n', "Change '%r' to '%u'", 'BEGIN { printf("%u\\n", (uint32)7); }\n',
        id="r-with-unsigned",
    ),
    pytest.param(
        'BEGIN { printf("%d\\n", buf("abc", 2)); }\n', "Change '%d' to '%r'",
        'BEGIN { printf("%r\\n", buf("abc", 2)); }\n', id="d-with-buffer",
    ),
    pytest.param(
        'BEGIN { debugf("%s\\n", (uint64)nsecs); }\n', "Change '%s' to '%lu'",
        'BEGIN { debugf("%lu\\n", (uint64)nsecs); }\n', id="debugf-s-with-u64",
    ),
]  # fmt: skip


@pytest.mark.parametrize("text, title, fixed", SPECIFIERS)
async def test_printf_specifier(client, text, title, fixed) -> None:
    uri, diagnostic, actions = await actions_for(client, text, "format")
    assert [a.title for a in actions] == [title]
    assert preferred(client, actions[0])
    assert apply_edit(client, uri, text, actions[0].edit) == fixed
    assert "format" not in await codes_of(client, fixed)


async def test_char_pointer_printed_with_s_is_wrapped_in_str(client) -> None:
    text = 'tracepoint:syscalls:sys_enter_openat { printf("%s\\n", args.filename); }\n'
    uri, diagnostic, actions = await actions_for(client, text, "format-pointer")
    assert diagnostic.severity == lsp.DiagnosticSeverity.Warning
    assert diagnostic.range.start == position_of(text, "args.filename")
    assert [a.title for a in actions] == ["Wrap in str()"]
    assert preferred(client, actions[0])
    fixed = apply_edit(client, uri, text, actions[0].edit)
    assert fixed == 'tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args.filename)); }\n'
    assert await codes_of(client, fixed) == []


async def test_variable_assigned_in_inner_block_is_declared_with_let(client) -> None:
    text = "BEGIN {\n  if (pid > 1) {\n    $x = 1;\n  } else {\n    $x = 2;\n  }\n  print($x);\n}\n"
    uri, diagnostic, actions = await actions_for(client, text, "scope")
    assert [a.title for a in actions] == ["Declare $x with let before the block that assigns it"]
    assert preferred(client, actions[0])
    fixed = apply_edit(client, uri, text, actions[0].edit)
    assert fixed == "BEGIN {\n  let $x;\n  if (pid > 1) {\n    $x = 1;\n  } else {\n    $x = 2;\n  }\n  print($x);\n}\n"
    assert await codes_of(client, fixed) == []


async def test_let_goes_before_the_outer_statement_when_read_in_a_nested_block(client) -> None:
    text = "BEGIN { if (pid > 1) { $x = 1; } if (pid > 2) { print($x); } }\n"
    uri, _, actions = await actions_for(client, text, "scope")
    fixed = apply_edit(client, uri, text, actions[0].edit)
    assert fixed == "BEGIN { let $x; if (pid > 1) { $x = 1; } if (pid > 2) { print($x); } }\n"
    assert await codes_of(client, fixed) == []


KPROBES = [
    pytest.param(
        'kprobe:do_sys_openat2 /arg0 > 0/ { printf("%s\\n", str(arg1)); }\n',
        "tracepoint:syscalls:sys_enter_openat",
        'tracepoint:syscalls:sys_enter_openat /args.dfd > 0/ { printf("%s\\n", str(args.filename)); }\n',
        id="known-function-with-arguments",
    ),
    pytest.param(
        "kretprobe:do_sys_openat2 { @ret = hist(retval); }\n", "tracepoint:syscalls:sys_exit_openat",
        "tracepoint:syscalls:sys_exit_openat { @ret = hist(args.ret); }\n", id="return-value",
    ),
    pytest.param(
        "kprobe:__x64_sys_read { @reads[comm] = count(); }\n", "tracepoint:syscalls:sys_enter_read",
        "tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }\n", id="syscall-wrapper",
    ),
]  # fmt: skip


@pytest.mark.parametrize("text, tracepoint, fixed", KPROBES)
async def test_kprobe_becomes_tracepoint(client, text, tracepoint, fixed) -> None:
    uri, diagnostic, actions = await actions_for(client, text, "kprobe-tracepoint")
    assert diagnostic.severity == lsp.DiagnosticSeverity.Hint
    assert diagnostic.range.start == lsp.Position(line=0, character=0)
    assert diagnostic.message.endswith(f"has a stable tracepoint: {tracepoint}")
    assert [a.title for a in actions] == [f"Use {tracepoint}"]
    assert preferred(client, actions[0])
    assert apply_edit(client, uri, text, actions[0].edit) == fixed
    assert await codes_of(client, fixed) == []


async def test_kprobe_reading_an_argument_without_a_field_gets_the_hint_but_no_fix(client) -> None:
    # __x64_sys_read's arg0 is a struct pt_regs pointer: no field matches it.
    _, diagnostic, actions = await actions_for(client, "kprobe:__x64_sys_read { @fd = arg0; }\n", "kprobe-tracepoint")
    assert list(actions) == []
    assert "fixes" not in (diagnostic.data or {})


async def test_fixes_travel_in_diagnostic_data(client) -> None:
    text = 'BEGIN { $n = strlenn("abc"); print($n); }\n'
    _, diagnostic, _ = await actions_for(client, text, "unknown-function")
    start = position_of(text, "strlenn")
    end = position_of(text, "strlenn", delta=7)
    assert diagnostic.data["hints"] == ["did you mean 'strlen'?"]
    assert diagnostic.data["fixes"] == [
        {
            "title": "Change to 'strlen'",
            "edits": [
                {
                    "range": {
                        "start": {"line": start.line, "character": start.character},
                        "end": {"line": end.line, "character": end.character},
                    },
                    "newText": "strlen",
                }
            ],
        }
    ]


async def test_without_context_diagnostics_the_cursor_picks_the_fix(client) -> None:
    text = "BEGIN { $count = 1; print($cuont); }\n"
    uri = open_document(client, text)
    await diagnostics_for(client, uri, version=1)
    cursor = position_of(text, "$cuont", delta=3)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=doc_id(uri), range=lsp.Range(start=cursor, end=cursor),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )  # fmt: skip
    assert [a.title for a in actions] == ["Change to '$count'"]
    assert actions[0].diagnostics[0].code == "undefined-variable"
    # Elsewhere on the line there is nothing to fix.
    away = position_of(text, "BEGIN")
    elsewhere = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=doc_id(uri), range=lsp.Range(start=away, end=away),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )  # fmt: skip
    assert list(elsewhere) == []


async def test_only_other_kinds_get_no_quick_fixes(client) -> None:
    text = 'BEGIN { $n = strlenn("abc"); print($n); }\n'
    uri, diagnostic, _ = await actions_for(client, text, "unknown-function")

    async def ask(only):
        return await client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=doc_id(uri), range=diagnostic.range,
                context=lsp.CodeActionContext(diagnostics=[diagnostic], only=only),
            )
        )  # fmt: skip

    assert list(await ask([lsp.CodeActionKind.Refactor])) == []
    assert [a.title for a in await ask([lsp.CodeActionKind.QuickFix])] == ["Change to 'strlen'"]


async def test_a_diagnostic_that_no_longer_matches_gets_nothing(client) -> None:
    text = 'BEGIN { $n = strlenn("abc"); print($n); }\n'
    uri, diagnostic, _ = await actions_for(client, text, "unknown-function")
    moved = lsp.Diagnostic(
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=5)),
        message=diagnostic.message, code=diagnostic.code, source="btls",
    )  # fmt: skip
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=doc_id(uri), range=moved.range, context=lsp.CodeActionContext(diagnostics=[moved])
        )
    )
    assert list(actions) == []


async def test_server_declares_quick_fixes(client) -> None:
    provider = client.initialize_result.capabilities.code_action_provider
    assert list(provider.code_action_kinds) == [lsp.CodeActionKind.QuickFix]
