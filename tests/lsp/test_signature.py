"""Signature help: every call form of a builtin (or the script's macros and
fns), the form that fits the arguments, and the parameter being typed,
also in unfinished calls the parser cannot read."""

from __future__ import annotations

import pytest
import pytest_lsp
from conftest import server_config, start_session
from helpers import doc_id, open_document, position_of
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, client_capabilities

pytestmark = pytest.mark.asyncio(loop_scope="module")

NTOP_FORMS = ["ntop(int|uint8[4]|uint8[16] addr)", "ntop(int af, int|uint8[4]|uint8[16] addr)"]


async def help_at(client, text: str, marker: str = "|"):
    """Signature help with the cursor where `marker` is (removed from the text)."""
    index = text.index(marker)
    text = text[:index] + text[index + len(marker) :]
    uri = open_document(client, text)
    line = text.count("\n", 0, index)
    character = index - (text.rfind("\n", 0, index) + 1)
    return await client.text_document_signature_help_async(
        lsp.SignatureHelpParams(text_document=doc_id(uri), position=lsp.Position(line=line, character=character))
    )


def labels(result) -> list[str]:
    return [s.label for s in result.signatures]


def active(result) -> tuple[str, int]:
    """The active signature's label and its active parameter's label."""
    signature = result.signatures[result.active_signature]
    start, end = signature.parameters[result.active_parameter].label
    return signature.label, signature.label[start:end]


async def test_server_declares_trigger_characters(client) -> None:
    options = client.initialize_result.capabilities.signature_help_provider
    assert list(options.trigger_characters) == ["(", ","]
    assert list(options.retrigger_characters) == [")"]


async def test_empty_call_picks_the_first_form_that_takes_an_argument(client) -> None:
    result = await help_at(client, "BEGIN { $a = ntop(|); }")
    assert labels(result) == NTOP_FORMS
    assert result.active_signature == 0 and result.active_parameter == 0
    assert active(result) == (NTOP_FORMS[0], "int|uint8[4]|uint8[16] addr")


async def test_second_argument_switches_to_the_two_argument_form(client) -> None:
    result = await help_at(client, "BEGIN { $a = ntop(2, |); }")
    assert result.active_signature == 1 and result.active_parameter == 1
    assert active(result) == (NTOP_FORMS[1], "int|uint8[4]|uint8[16] addr")
    assert result.signatures[1].active_parameter == 1


async def test_closed_call_is_matched_by_all_its_arguments(client) -> None:
    # On the first argument of ntop(2, 1): the two-argument form, at `af`.
    result = await help_at(client, "BEGIN { $a = ntop(|2, 1); }")
    assert active(result) == (NTOP_FORMS[1], "int af")
    assert result.active_parameter == 0


async def test_unfinished_printf_is_read_from_the_text(client) -> None:
    result = await help_at(client, 'BEGIN { printf("%d", |\n}\n')
    assert labels(result) == ["printf(string fmt, value...)"]
    assert active(result) == ("printf(string fmt, value...)", "value...")
    assert result.active_parameter == 1


async def test_commas_and_parens_inside_strings_do_not_count(client) -> None:
    result = await help_at(client, 'BEGIN { printf("a, (b), c %d %d", 1, |); }')
    assert result.active_parameter == 1
    # Past the fixed parameters, the repeating one stays active.
    result = await help_at(client, 'BEGIN { printf("%d %d %d", 1, 2, |); }')
    assert result.active_parameter == 1
    assert result.signatures[0].active_parameter == 1


async def test_cursor_inside_the_format_string(client) -> None:
    result = await help_at(client, 'BEGIN { printf("%d, (|%s", 1, "x"); }')
    assert active(result) == ("printf(string fmt, value...)", "string fmt")


async def test_innermost_call_wins(client) -> None:
    result = await help_at(client, 'kprobe:vfs_read { printf("%s", str(arg1, |)); }')
    assert labels(result) == ["str(string|int|pointer data)", "str(string|int|pointer data, int length)"]
    assert active(result) == ("str(string|int|pointer data, int length)", "int length")


async def test_nested_call_without_forms_falls_back_to_the_outer_call(client) -> None:
    result = await help_at(client, 'BEGIN { printf("%d %d", 1, sizeof(|)); }')
    assert active(result) == ("printf(string fmt, value...)", "value...")


async def test_map_index_inside_call(client) -> None:
    result = await help_at(client, "BEGIN { @m[1, 2] = 1; print(@m[1, |]); }")
    assert result.signatures[result.active_signature].label.startswith("print(")
    assert result.active_parameter == 0


async def test_lhist_parameters(client) -> None:
    result = await help_at(client, "BEGIN { @h = lhist(5, 0, 100, |); }")
    assert active(result) == ("lhist(int value, int min, int max, int step)", "int step")


async def test_kstack_forms_and_docs(client) -> None:
    result = await help_at(client, "profile:hz:99 { @[kstack(perf, |)] = count(); }")
    assert labels(result) == ["kstack() → kstack", "kstack(ident|int mode_or_limit)", "kstack(ident mode, int limit)"]
    assert active(result) == ("kstack(ident mode, int limit)", "int limit")
    signature = result.signatures[2]
    assert signature.documentation.kind == lsp.MarkupKind.Markdown
    assert "The kernel stack of the current task" in signature.documentation.value


async def test_parameter_docs_come_from_the_table(client) -> None:
    result = await help_at(client, "BEGIN { @h = hist(1, |); }")
    signature = result.signatures[result.active_signature]
    assert signature.label == "hist(int value, int bits)"
    bits = signature.parameters[1]
    assert bits.documentation.kind == lsp.MarkupKind.Markdown
    assert bits.documentation.value == "0 to 5: 2^bits buckets per power of two; a literal"


async def test_print_forms_by_argument_count(client) -> None:
    result = await help_at(client, "BEGIN { @m[1] = 1; print(@m, 10, |); }")
    assert active(result) == ("print(map|any map, int top, int div)", "int div")


async def test_user_macro_and_fn(client) -> None:
    text = "macro add($a, b) { $a + b }\nfn twice($x: int64): int64 { return $x * 2; }\n"
    macro = await help_at(client, text + "BEGIN { $v = 1; $w = add($v, |); }\n")
    assert active(macro) == ("macro add($a, b)", "b")
    fn = await help_at(client, text + "BEGIN { $w = twice(|); }\n")
    assert active(fn) == ("fn twice($x: int64): int64", "$x: int64")


async def test_call_spanning_lines(client) -> None:
    result = await help_at(client, 'BEGIN {\n  printf("%d %s\\n",\n         pid,\n         |comm);\n}\n')
    assert result.active_parameter == 1
    assert result.signatures[0].active_parameter == 1


async def test_no_help_outside_calls(client) -> None:
    assert await help_at(client, "BEGIN { $a = ntop(1)|; }") is None
    assert await help_at(client, "BEGIN { $a = |1; }") is None
    assert await help_at(client, "BEGIN { if (|pid) { } }") is None
    # A comment mentioning a call is not a call.
    assert await help_at(client, "BEGIN { // printf(|\n}") is None


async def test_statement_end_closes_an_unfinished_call(client) -> None:
    # `ntop(` was never closed, but the `;` ended it: the cursor is in str().
    result = await help_at(client, "kprobe:vfs_read { $a = ntop(1; $b = str(|); }")
    assert labels(result)[0].startswith("str(")


# -------------------------------------------------- plain-text clients


def plain_capabilities() -> lsp.ClientCapabilities:
    capabilities = client_capabilities("neovim@v0.7.0")
    information = capabilities.text_document.signature_help.signature_information
    information.documentation_format = [lsp.MarkupKind.PlainText]
    information.parameter_information.label_offset_support = False
    information.active_parameter_support = False
    return capabilities


@pytest_lsp.fixture(scope="module", config=server_config())
async def plain_client(lsp_client: LanguageClient):
    await start_session(lsp_client, "plaintext", capabilities=plain_capabilities())
    yield
    await lsp_client.shutdown_session()


async def test_plain_client_gets_string_labels_and_plain_docs(plain_client) -> None:
    result = await help_at(plain_client, "BEGIN { $a = ntop(2, |); }")
    signature = result.signatures[result.active_signature]
    assert [p.label for p in signature.parameters] == ["int af", "int|uint8[4]|uint8[16] addr"]
    assert signature.active_parameter is None
    assert result.active_parameter == 1
    assert isinstance(signature.documentation, str)
    assert "`" not in signature.documentation and "```" not in signature.documentation
    assert signature.parameters[0].documentation == "AF_INET (2) or AF_INET6 (10)"
