"""Completion: providers and top-level keywords, attach-point parts from the
kernel facts (tracepoints, kernel and binary functions, events, units),
builtins filtered by probe type with snippets only for clients that take
them, variables in scope and maps, `args` and struct fields after `.`/`->`,
config keys and values, capped lists, and documentation filled in by
completionItem/resolve. Kernel facts are tests/fixtures/kernel.py's."""

from __future__ import annotations

import pytest
import pytest_lsp
from conftest import PROFILES, server_config, start_session
from helpers import doc_id, open_document, position_of, text_of_range
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

SNIPPET_PROFILES = ("visual-studio-code", "neovim@v0.11.0")


async def complete(client, text: str, needle: str | None = None, *, delta: int = 0, trigger: str | None = None):
    """Open `text` and complete at the end of `needle` (+ `delta`), or at the
    end of the text. Returns the CompletionList."""
    uri = open_document(client, text)
    if needle is None:
        lines = text.split("\n")
        position = lsp.Position(line=len(lines) - 1, character=len(lines[-1]))
    else:
        position = position_of(text, needle, delta=len(needle) + delta)
    context = (
        lsp.CompletionContext(trigger_kind=lsp.CompletionTriggerKind.TriggerCharacter, trigger_character=trigger)
        if trigger
        else lsp.CompletionContext(trigger_kind=lsp.CompletionTriggerKind.Invoked)
    )
    result = await client.text_document_completion_async(
        lsp.CompletionParams(text_document=doc_id(uri), position=position, context=context)
    )
    assert isinstance(result, lsp.CompletionList)
    return with_edits(result)


def with_edits(result: lsp.CompletionList) -> lsp.CompletionList:
    """Give every item its own text edit, as when the server sends one range
    for all (itemDefaults.editRange, to clients that declare it)."""
    defaults = result.item_defaults
    if defaults is not None and defaults.edit_range is not None:
        for item in result.items:
            assert item.text_edit is None
            item.text_edit = lsp.TextEdit(range=defaults.edit_range, new_text=item.text_edit_text or item.label)
    return result


def by_label(result) -> dict[str, lsp.CompletionItem]:
    return {item.label: item for item in result.items}


def labels(result) -> list[str]:
    return [item.label for item in result.items]


async def test_server_declares_triggers_and_resolve(client) -> None:
    options = client.initialize_result.capabilities.completion_provider
    assert sorted(options.trigger_characters) == sorted([":", ".", ">", "$", "@"])
    assert options.resolve_provider is True


async def test_one_edit_range_for_clients_that_take_item_defaults(client) -> None:
    text = "BEGIN {}\nfentry:vfs"
    uri = open_document(client, text)
    result = await client.text_document_completion_async(
        lsp.CompletionParams(text_document=doc_id(uri), position=lsp.Position(line=1, character=10))
    )
    replaced = lsp.Range(start=lsp.Position(line=1, character=7), end=lsp.Position(line=1, character=10))
    if client.profile == "neovim@v0.11.0":  # declares itemDefaults editRange
        assert result.item_defaults.edit_range == replaced
        assert [(i.label, i.text_edit, i.text_edit_text) for i in result.items] == [("vfs_read", None, None)]
    else:
        assert result.item_defaults is None
        assert [(i.label, i.text_edit) for i in result.items] == [("vfs_read", lsp.TextEdit(range=replaced, new_text="vfs_read"))]


# ------------------------------------------------------------ top level


async def test_providers_and_keywords_at_the_start_of_a_probe(client) -> None:
    text = "BEGIN { exit(); }\nkpr"
    result = await complete(client, text)
    items = by_label(result)
    assert {"kprobe", "k", "tracepoint", "t", "uprobe", "BEGIN", "END", "interval", "profile", "fentry"} <= set(items)
    assert {"config", "macro", "fn", "let", "import", "#include", "struct"} <= set(items)
    assert "asyncwatchpoint" not in items  # removed in 0.25
    kprobe = items["kprobe"]
    assert kprobe.kind == lsp.CompletionItemKind.Module
    assert kprobe.detail == "entry to (or an offset into) a kernel function"
    assert kprobe.text_edit.new_text == "kprobe:"
    assert kprobe.text_edit.range == lsp.Range(start=lsp.Position(line=1, character=0), end=lsp.Position(line=1, character=3))
    assert items["t"].detail.endswith("(alias of tracepoint)")
    assert items["BEGIN"].text_edit.new_text == "BEGIN"
    assert items["macro"].kind == lsp.CompletionItemKind.Keyword
    assert result.is_incomplete is False


async def test_after_a_comma_only_providers(client) -> None:
    result = await complete(client, "kprobe:vfs_read, kr")
    items = by_label(result)
    assert "kretprobe" in items and "kr" in items
    assert "config" not in items and "macro" not in items


async def test_keyword_snippets_only_for_snippet_clients(client) -> None:
    text = "\n#inc"
    include = by_label(await complete(client, text))["#include"]
    assert text_of_range(text, include.text_edit.range) == "#inc"
    if client.profile in SNIPPET_PROFILES:
        assert include.text_edit.new_text == "#include <${1:linux/sched.h}>"
        assert include.insert_text_format == lsp.InsertTextFormat.Snippet
    else:
        assert include.text_edit.new_text == "#include"
        assert include.insert_text_format in (None, lsp.InsertTextFormat.PlainText)


# -------------------------------------------------------- attach points


async def test_tracepoint_categories_then_events(client) -> None:
    result = await complete(client, "tracepoint:", trigger=":")
    assert labels(result) == ["block", "raw_syscalls", "sched", "syscalls"]
    assert by_label(result)["syscalls"].detail == "tracepoint category (4 events)"

    text = "t:syscalls:sys_en"
    result = await complete(client, text)
    assert labels(result) == ["sys_enter_openat", "sys_enter_read"]
    item = by_label(result)["sys_enter_read"]
    assert item.kind == lsp.CompletionItemKind.Event
    assert text_of_range(text, item.text_edit.range) == "sys_en"
    assert item.text_edit.new_text == "sys_enter_read"


async def test_kernel_functions_after_kprobe_and_fentry(client) -> None:
    result = await complete(client, "kprobe:", trigger=":")
    assert labels(result) == ["tcp_connect", "vfs_read"]
    assert all(item.kind == lsp.CompletionItemKind.Function for item in result.items)
    result = await complete(client, "BEGIN {}\nfentry:vfs")
    assert labels(result) == ["vfs_read"]
    assert result.items[0].text_edit.range.start == lsp.Position(line=1, character=7)


async def test_uprobe_binary_functions_and_events_and_units(client) -> None:
    assert labels(await complete(client, "uprobe:/bin/bash:", trigger=":")) == ["main", "readline"]
    assert labels(await complete(client, "uprobe:/no/such/binary:", trigger=":")) == []
    software = by_label(await complete(client, "software:", trigger=":"))
    assert {"page-faults", "cpu-clock", "context-switches"} <= set(software)
    assert software["page-faults"].detail == "software event, default count 100"
    units = await complete(client, "interval:", trigger=":")
    assert labels(units) == ["hz", "s", "ms", "us"]
    assert units.items[0].kind == lsp.CompletionItemKind.Unit


# ------------------------------------------------------------ builtins


async def test_builtin_function_snippet_or_plain_text_by_profile(client) -> None:
    text = "BEGIN { pri }"
    result = await complete(client, text, "pri")
    printf = by_label(result)["printf"]
    assert printf.kind == lsp.CompletionItemKind.Function
    assert printf.detail == "printf(string fmt, value...)"
    assert text_of_range(text, printf.text_edit.range) == "pri"
    count = by_label(result)["count"]
    if client.profile in SNIPPET_PROFILES:
        assert printf.text_edit.new_text == 'printf("${1:fmt}", ${2})'
        assert printf.insert_text_format == lsp.InsertTextFormat.Snippet
        assert count.text_edit.new_text == "count()$0"
    else:
        assert printf.text_edit.new_text == "printf"
        assert printf.insert_text_format in (None, lsp.InsertTextFormat.PlainText)
        assert count.text_edit.new_text == "count()"


async def test_builtin_variables_have_types(client) -> None:
    items = by_label(await complete(client, "BEGIN { @x = c }", "= c"))
    assert items["comm"].kind == lsp.CompletionItemKind.Variable
    assert items["comm"].detail == "string[16]"
    assert items["curtask"].detail == "struct task_struct *"
    assert items["comm"].text_edit.new_text == "comm"


async def test_builtins_follow_the_probe_type(client) -> None:
    begin = by_label(await complete(client, "BEGIN { a }", "{ a"))
    assert "args" not in begin and "arg0" not in begin and "retval" not in begin and "func" not in begin
    kprobe = by_label(await complete(client, "kprobe:vfs_read { a }", "{ a"))
    assert {"arg0", "arg5", "func"} <= set(kprobe) and "args" not in kprobe and "retval" not in kprobe
    assert kprobe["arg1"].detail == "uint64"
    kretprobe = by_label(await complete(client, "kretprobe:vfs_read { r }", "{ r"))
    assert "retval" in kretprobe and "arg0" not in kretprobe
    tracepoint = by_label(await complete(client, "tracepoint:syscalls:sys_enter_read { a }", "{ a"))
    assert "args" in tracepoint and "arg0" not in tracepoint
    # With two providers, only what both allow.
    both = by_label(await complete(client, "kprobe:vfs_read, kretprobe:vfs_read { r }", "{ r"))
    assert "retval" not in both and "arg0" not in both and "func" in both


async def test_predicate_is_code_of_its_probe(client) -> None:
    items = by_label(await complete(client, "kprobe:vfs_read /c", None))
    assert {"comm", "cpu", "arg0"} <= set(items)
    assert "kprobe" not in items


async def test_keywords_in_action_blocks(client) -> None:
    items = by_label(await complete(client, "BEGIN { i }", "{ i"))
    for word in ("if", "else", "while", "for", "unroll", "return", "break", "continue", "let"):
        assert items[word].kind == lsp.CompletionItemKind.Keyword
    if client.profile in SNIPPET_PROFILES:
        assert items["if"].text_edit.new_text == "if (${1:condition}) {\n\t$0\n}"
    else:
        assert items["if"].text_edit.new_text == "if"


# ------------------------------------------------- variables and maps


async def test_variables_in_scope_are_block_scoped(client) -> None:
    text = "BEGIN {\n  $x = 1;\n  if ($x) {\n    $y = \"s\";\n    $\n  }\n  $\n}\nEND { $ }\n"
    inner = await complete(client, text, '"s";\n    $', trigger="$")
    assert labels(inner) == ["$x", "$y"]
    assert by_label(inner)["$y"].detail == "string[2]"
    assert text_of_range(text, inner.items[0].text_edit.range) == "$"
    outer = await complete(client, text, "  }\n  $", trigger="$")
    assert labels(outer) == ["$x"]
    other_probe = await complete(client, text, "END { $", trigger="$")
    assert labels(other_probe) == []


async def test_maps_after_at_and_locals_after_a_word(client) -> None:
    text = "kprobe:vfs_read { @reads[tid] = count(); @last = nsecs; $n = 2; }\nEND { @ }\n"
    maps = await complete(client, text, "END { @", trigger="@")
    assert labels(maps) == ["@last", "@reads"] or labels(maps) == ["@reads", "@last"]
    items = by_label(maps)
    assert items["@reads"].detail == "map [uint32] count_t"
    assert items["@last"].detail == "map uint64"
    assert items["@reads"].kind == lsp.CompletionItemKind.Variable
    # A plain word also offers maps (and builtins), filtered without the '@'.
    word = by_label(await complete(client, "kprobe:vfs_read { @reads[tid] = count(); $n = 2; re }", "; re"))
    assert word["@reads"].filter_text == "reads" and word["@reads"].text_edit.new_text == "@reads"
    assert word["$n"].filter_text == "n"
    assert word["@reads"].sort_text < word["retval" if "retval" in word else "rand"].sort_text


async def test_macros_and_fns_are_offered_with_snippets(client) -> None:
    text = "macro add_one($v) { $v + 1 }\nfn twice($a: int64): int64 { return $a * 2; }\nBEGIN { a }\n"
    items = by_label(await complete(client, text, "BEGIN { a"))
    assert items["add_one"].detail == "macro add_one($v)"
    assert items["twice"].detail == "fn twice($a: int64): int64"
    if client.profile in SNIPPET_PROFILES:
        assert items["twice"].text_edit.new_text == "twice(${1:\\$a})"
    else:
        assert items["twice"].text_edit.new_text == "twice"


async def test_fn_parameters_and_macro_parameters(client) -> None:
    text = "fn f($a: int64, $b: string): int64 { $c = 1; return $ }\nmacro m($v, x, @q) { $ }\n"
    fn_scope = await complete(client, text, "return $", trigger="$")
    assert [(i.label, i.detail) for i in fn_scope.items] == [("$a", "int64"), ("$b", "string"), ("$c", "int8")]
    macro = await complete(client, text, "@q) { $", trigger="$")
    assert [(i.label, i.detail) for i in macro.items] == [("$v", "macro parameter")]
    words = by_label(await complete(client, "macro m($v, x, @q) { x }", "{ x"))
    assert words["x"].detail == "macro parameter" and words["@q"].filter_text == "q"


# ----------------------------------------------------------- members


async def test_args_fields_of_a_tracepoint(client) -> None:
    text = 'tracepoint:syscalls:sys_enter_openat { printf("%s", str(args.)); }\n'
    result = await complete(client, text, "args.", trigger=".")
    assert labels(result) == ["__syscall_nr", "dfd", "filename", "flags", "mode"]
    items = by_label(result)
    assert items["filename"].kind == lsp.CompletionItemKind.Field
    assert items["filename"].detail == "int8 *"
    assert items["mode"].detail == "uint64"
    assert items["dfd"].text_edit.range.start == position_of(text, "args.", delta=5)


async def test_fentry_args_and_field_chains(client) -> None:
    text = "fentry:vfs_read { $p = args.file->f_path.; }\n"
    result = await complete(client, text, "f_path.", trigger=".")
    assert labels(result) == ["mnt", "dentry"]
    assert by_label(result)["dentry"].detail == "struct dentry *"
    result = await complete(client, "fentry:vfs_read { args. }", "args.", trigger=".")
    assert labels(result) == ["file", "buf", "count"]


async def test_struct_fields_after_arrow(client) -> None:
    text = "kprobe:vfs_read { @p[curtask->] = count(); }\n"
    result = await complete(client, text, "curtask->", trigger=">")
    assert labels(result) == ["state", "pid", "tgid", "real_parent", "group_leader", "comm", "mm", "fs"]
    items = by_label(result)
    assert items["comm"].detail == "string[16]"
    assert items["real_parent"].detail == "struct task_struct *"
    # Through a variable and a pointer field, a cast, and a nested struct.
    text = "kprobe:vfs_read { $t = curtask; $a = $t->mm->; }\n"
    assert labels(await complete(client, text, "mm->", trigger=">")) == ["arg_start", "arg_end"]
    text = "kprobe:tcp_connect { $s = ((struct sock *)arg0)->__sk_common.; }\n"
    result = await complete(client, text, "__sk_common.", trigger=".")
    assert {"skc_daddr", "skc_dport", "skc_family"} <= set(labels(result))
    assert by_label(result)["skc_dport"].detail == "uint16"


async def test_trigger_characters_that_mean_nothing_there(client) -> None:
    assert labels(await complete(client, "BEGIN { $x = 1 > }", "1 >", trigger=">")) == []
    assert labels(await complete(client, "BEGIN { $x = 1 ? 2 : }", "2 :", trigger=":")) == []
    assert labels(await complete(client, "BEGIN { $x = 5; $x. }", "$x.", trigger=".")) == []


async def test_nothing_inside_strings_and_comments(client) -> None:
    assert labels(await complete(client, 'BEGIN { printf("pi") }', '("pi')) == []
    assert labels(await complete(client, "// kprobe:vfs", None)) == []
    assert labels(await complete(client, "BEGIN { /* $x @", None, trigger="@")) == []


async def test_braces_in_strings_and_comments_of_earlier_probes(client) -> None:
    text = 'BEGIN { printf("{{ %s\\n", "}"); /* { */ }\n// }\nkprobe:vfs_read { $n = 1; $ }\nkpr'
    assert labels(await complete(client, text, "; $", trigger="$")) == ["$n"]
    assert "kprobe" in labels(await complete(client, text))


# ------------------------------------------------------------- config


async def test_config_keys_and_values(client) -> None:
    text = "config = {\n  max_strlen = 64;\n  stack\n}\nBEGIN {}\n"
    keys = await complete(client, text, "  stack")
    items = by_label(keys)
    assert {"max_strlen", "stack_mode", "missing_probes", "print_maps_on_exit"} <= set(items)
    assert items["stack_mode"].kind == lsp.CompletionItemKind.Property
    assert text_of_range(text, items["stack_mode"].text_edit.range) == "stack"
    values = await complete(client, "config = { stack_mode = ", None)
    assert labels(values) == ["bpftrace", "perf", "raw", "build_id"]
    assert labels(await complete(client, "config = { print_maps_on_exit = ", None)) == ["true", "false"]


# -------------------------------------------------------------- resolve


async def resolve(client, item: lsp.CompletionItem) -> lsp.CompletionItem:
    resolved = await client.completion_item_resolve_async(item)
    assert resolved.label == item.label
    return resolved


async def test_resolve_fills_builtin_documentation(client) -> None:
    printf = by_label(await complete(client, "BEGIN { pr }", "{ pr"))["printf"]
    assert printf.documentation is None
    resolved = await resolve(client, printf)
    assert resolved.documentation.kind == lsp.MarkupKind.Markdown
    assert resolved.documentation.value.startswith("```\nprintf(string fmt, value...)\n```")
    assert "C-style" in resolved.documentation.value
    retval = by_label(await complete(client, "kretprobe:vfs_read { r }", "{ r"))["retval"]
    assert "Only in fexit, kretprobe, uretprobe probes." in (await resolve(client, retval)).documentation.value


async def test_resolve_tracepoint_format_and_kernel_prototype(client) -> None:
    event = by_label(await complete(client, "tracepoint:syscalls:", trigger=":"))["sys_enter_openat"]
    resolved = await resolve(client, event)
    assert resolved.detail == "tracepoint:syscalls:sys_enter_openat"
    assert "    char *filename;\n" in resolved.documentation.value
    assert "    unsigned long mode;\n" in resolved.documentation.value
    function = by_label(await complete(client, "fentry:", trigger=":"))["vfs_read"]
    resolved = await resolve(client, function)
    assert resolved.detail == "long vfs_read(struct file *file, char *buf, unsigned long count)"


async def test_resolve_providers_keywords_and_config(client) -> None:
    items = by_label(await complete(client, ""))
    assert (await resolve(client, items["kprobe"])).documentation.value.startswith("**kprobe**: entry to")
    assert "declares a `$variable`" in (await resolve(client, items["let"])).documentation.value.lower()
    loop = by_label(await complete(client, "BEGIN { f }", "{ f"))["for"]
    assert "`for ($kv : @m)`" in (await resolve(client, loop)).documentation.value
    key = by_label(await complete(client, "config = { stack_m", None))["stack_mode"]
    assert (await resolve(client, key)).documentation.value == (
        "`stack_mode`: a config option. Takes ident or string: `bpftrace`, `perf`, `raw`, `build_id`."
    )
    # Items without a key resolve to themselves.
    field = (await complete(client, "kprobe:f { curtask-> }", "->", trigger=">")).items[0]
    assert (await resolve(client, field)).documentation is None


# ------------------------------------------------------------ encodings


async def test_ranges_use_the_negotiated_encoding(client) -> None:
    text = 'BEGIN { printf("é€"); $x = 1; $ }'
    encoding = client.initialize_result.capabilities.position_encoding or lsp.PositionEncodingKind.Utf16

    def units(prefix: str) -> int:
        return len(prefix.encode("utf-8")) if encoding == lsp.PositionEncodingKind.Utf8 else len(prefix)

    cursor = text.index("1; $") + 4
    uri = open_document(client, text)
    result = with_edits(await client.text_document_completion_async(
        lsp.CompletionParams(text_document=doc_id(uri), position=lsp.Position(line=0, character=units(text[:cursor])))
    ))
    assert labels(result) == ["$x"]
    assert result.items[0].text_edit.range == lsp.Range(
        start=lsp.Position(line=0, character=units(text[: cursor - 1])),
        end=lsp.Position(line=0, character=units(text[:cursor])),
    )


# ------------------------------------------------ capped (long) lists


@pytest_lsp.fixture(params=PROFILES, scope="module", config=server_config())
async def limited(lsp_client: LanguageClient, request):
    options = {"btls": {"kernelFacts": "fixtures.kernel:fixture_facts", "debounceMs": 0, "completionLimit": 3}}
    await start_session(lsp_client, request.param, options)
    yield
    await lsp_client.shutdown_session()


async def test_long_lists_are_capped_and_incomplete(limited) -> None:
    result = await complete(limited, "tracepoint:syscalls:", trigger=":")
    assert result.is_incomplete is True
    assert labels(result) == ["sys_enter_openat", "sys_enter_read", "sys_exit_openat"]
    # Typing more narrows the list below the cap: complete again.
    result = await complete(limited, "tracepoint:syscalls:sys_exit")
    assert result.is_incomplete is False
    assert labels(result) == ["sys_exit_openat", "sys_exit_read"]
    # In code, the typed prefix filters before the cap.
    result = await complete(limited, "BEGIN { str }", "{ str")
    assert result.is_incomplete is True
    assert labels(result) == ["str", "str_concat", "strcap"]
