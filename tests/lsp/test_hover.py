"""Hover: builtins, providers and attach points (tracepoint formats, kernel
prototypes, wildcards), symbol and expression types, struct layouts, keywords;
markdown for clients that render it, plain text for the others, and the
range of what was described. Kernel facts are tests/fixtures/kernel.py's."""

from __future__ import annotations

import pytest
import pytest_lsp
from conftest import server_config, start_session
from helpers import doc_id, open_document, position_of, text_of_range
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, client_capabilities

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCHED = """\
tracepoint:sched:sched_switch {
  @names[args.prev_comm, pid] = count();
  $t = curtask;
  $c = (struct task_struct *)curtask;
  printf("%d %d %s\\n", $t->pid, $c->tgid, ntop(2, 1));
  @h = hist(pid + 1);
  if ($t != 0) { print(@names); }
}
"""

KERNEL = """\
kprobe:vfs_read { @reads[tid] = count(); }
fentry:tcp_connect { @[comm] = count(); }
tracepoint:syscalls:sys_enter_* { @calls[probe] = count(); }
kprobe:vfs_* { @any = count(); }
"""

SCRIPT = """\
config = { max_strlen = 100 }
macro add($a, b) { $a + b }
fn twice($x: int64): int64 { return $x * 2; }
kprobe:vfs_read {
  $v = 1;
  @s = add($v, 2);
  @t = twice(3);
  let $p: pid_t = 5;
  while ($v < 3) { $v++; }
  print(($p, TASK_RUNNING, sizeof(struct sock)));
}
"""


async def hover_on(client, text: str, needle: str, *, delta: int = 0, occurrence: int = 0):
    uri = open_document(client, text)
    position = position_of(text, needle, delta=delta, occurrence=occurrence)
    return await client.text_document_hover_async(lsp.HoverParams(text_document=doc_id(uri), position=position))


def markdown_of(hover) -> str:
    assert hover is not None
    assert hover.contents.kind == lsp.MarkupKind.Markdown
    return hover.contents.value


# ------------------------------------------------------------- builtins


async def test_builtin_function_shows_every_form(client) -> None:
    result = await hover_on(client, SCHED, "ntop(", delta=1)
    value = markdown_of(result)
    assert "ntop(int|uint8[4]|uint8[16] addr)\nntop(int af, int|uint8[4]|uint8[16] addr)" in value
    assert "*builtin function*" in value
    assert "- `af`: AF_INET (2) or AF_INET6 (10)" in value
    assert "This call gives `inet[20]`." in value
    assert text_of_range(SCHED, result.range) == "ntop"


async def test_builtin_variable_shows_type_and_doc(client) -> None:
    result = await hover_on(client, SCHED, "pid]")
    value = markdown_of(result)
    assert value.startswith("```bpftrace\npid: uint32\npid(ident namespace) → uint32\n```")
    assert "The process id" in value
    assert text_of_range(SCHED, result.range) == "pid"


async def test_cursor_at_end_of_word_still_hovers_it(client) -> None:
    result = await hover_on(client, SCHED, "curtask;", delta=len("curtask"))
    assert "curtask: struct task_struct *" in markdown_of(result)
    assert text_of_range(SCHED, result.range) == "curtask"


async def test_args_shows_this_probes_fields(client) -> None:
    result = await hover_on(client, SCHED, "args.")
    value = markdown_of(result)
    assert "Here, the args of `tracepoint:sched:sched_switch`:" in value
    assert "struct args {  // size 60" in value
    assert "    pid_t next_pid;      // offset 56, size 4" in value
    assert "_args_" not in value  # the analyser's internal record name
    assert text_of_range(SCHED, result.range) == "args"


# ------------------------------------------------------- attach points


async def test_provider_docs_and_aliases(client) -> None:
    result = await hover_on(client, SCHED, "tracepoint", delta=2)
    value = markdown_of(result)
    assert value.startswith("**tracepoint**: a kernel static tracepoint")
    assert "- `tracepoint:category:event`" in value
    assert "Aliases: `t`." in value
    assert text_of_range(SCHED, result.range) == "tracepoint"


async def test_tracepoint_format_has_field_types_offsets_and_sizes(client) -> None:
    result = await hover_on(client, SCHED, "sched_switch", delta=3)
    value = markdown_of(result)
    assert value.startswith("**tracepoint:sched:sched_switch**")
    assert "    char prev_comm[16];  // offset 8, size 16\n" in value
    assert "    pid_t prev_pid;      // offset 24, size 4\n" in value
    assert "    long prev_state;     // offset 32, size 8\n" in value
    assert text_of_range(SCHED, result.range) == "sched:sched_switch"


async def test_kprobe_function_prototype_from_btf(client) -> None:
    result = await hover_on(client, KERNEL, "vfs_read")
    value = markdown_of(result)
    assert "```c\nlong vfs_read(struct file *file, char *buf, unsigned long count);\n```" in value
    assert "`arg0` = file, `arg1` = buf, `arg2` = count" in value
    assert text_of_range(KERNEL, result.range) == "vfs_read"


async def test_fentry_function_names_its_args(client) -> None:
    result = await hover_on(client, KERNEL, "tcp_connect", delta=4)
    value = markdown_of(result)
    assert "int tcp_connect(struct sock *sk);" in value
    assert "Arguments: `args.sk`." in value
    assert text_of_range(KERNEL, result.range) == "tcp_connect"


async def test_wildcards_say_what_they_match(client) -> None:
    tracepoints = markdown_of(await hover_on(client, KERNEL, "sys_enter_*"))
    assert tracepoints.startswith("`tracepoint:syscalls:sys_enter_*` matches 2 tracepoints:")
    assert "- `syscalls:sys_enter_openat`\n- `syscalls:sys_enter_read`" in tracepoints
    functions = await hover_on(client, KERNEL, "vfs_*")
    assert markdown_of(functions).startswith("`vfs_*` matches 1 kernel function:")
    assert text_of_range(KERNEL, functions.range) == "vfs_*"


# ------------------------------------------------------------- symbols


async def test_scratch_variable_type(client) -> None:
    result = await hover_on(client, SCHED, "$t =")
    value = markdown_of(result)
    assert value == "```bpftrace\n$t: struct task_struct *\n```\n\n*scratch variable*"
    assert text_of_range(SCHED, result.range) == "$t"


async def test_map_key_and_value_types(client) -> None:
    keyed = await hover_on(client, SCHED, "@names", occurrence=1)
    assert markdown_of(keyed).startswith("```bpftrace\n@names[string[16], uint32]: count_t\n```")
    assert text_of_range(SCHED, keyed.range) == "@names"
    scalar = markdown_of(await hover_on(client, SCHED, "@h"))
    assert scalar == "```bpftrace\n@h: hist_t\n```\n\n*map*, scalar (no key)"


async def test_any_expression_shows_its_type(client) -> None:
    result = await hover_on(client, SCHED, "+ 1")
    assert markdown_of(result) == "```bpftrace\npid + 1: uint64\n```"
    assert text_of_range(SCHED, result.range) == "pid + 1"


async def test_macro_and_fn_calls_show_their_headers(client) -> None:
    macro = await hover_on(client, SCRIPT, "add(", occurrence=1)
    assert markdown_of(macro).startswith("```bpftrace\nmacro add($a, b)\n```\n\n*macro*")
    assert text_of_range(SCRIPT, macro.range) == "add"
    fn = await hover_on(client, SCRIPT, "twice(3)")
    value = markdown_of(fn)
    assert value.startswith("```bpftrace\nfn twice($x: int64): int64\n```\n\n*function*")
    assert "Here it gives `int64`." in value


async def test_fn_parameter_and_macro_parameter(client) -> None:
    param = markdown_of(await hover_on(client, SCRIPT, "$x *"))
    assert param == "```bpftrace\n$x: int64\n```\n\n*fn parameter*"
    plain_param = await hover_on(client, SCRIPT, "b }")
    assert markdown_of(plain_param) == "```bpftrace\nb\n```\n\n*macro parameter*"
    assert text_of_range(SCRIPT, plain_param.range) == "b"
    text = "macro tally(@dist, $v) { @dist[$v] = count(); }\nBEGIN { $x = 1; tally(@d, $x); }\n"
    for needle in ("@dist[", "$v]"):
        result = await hover_on(client, text, needle)
        assert markdown_of(result).endswith("*macro parameter*")
        assert text_of_range(text, result.range) == needle[:-1]


# ------------------------------------------------------------- C types


async def test_struct_field_through_pointer(client) -> None:
    result = await hover_on(client, SCHED, "pid,", occurrence=0)
    value = markdown_of(result)
    assert value.startswith("```bpftrace\n$t->pid: int32\n```")
    assert "`pid_t pid` in `struct task_struct`, offset 1000, size 4" in value
    assert text_of_range(SCHED, result.range) == "pid"


async def test_tracepoint_field(client) -> None:
    result = await hover_on(client, SCHED, "prev_comm", delta=2)
    value = markdown_of(result)
    assert value.startswith("```bpftrace\nargs.prev_comm: string[16]\n```")
    assert "`char prev_comm[16]` in the args of `tracepoint:sched:sched_switch`, offset 8, size 16" in value
    assert text_of_range(SCHED, result.range) == "prev_comm"


async def test_cast_shows_struct_layout(client) -> None:
    result = await hover_on(client, SCHED, "task_struct *", delta=3)
    value = markdown_of(result)
    assert value.startswith("```c\nstruct task_struct {  // size 9000\n")
    assert "    struct task_struct *real_parent;   // offset 1008, size 8\n" in value
    assert "    char comm[16];                     // offset 1500, size 16\n" in value
    assert text_of_range(SCHED, result.range) == "struct task_struct"


async def test_sizeof_struct_typedef_and_enumerator(client) -> None:
    sock = await hover_on(client, SCRIPT, "sock")
    assert "struct sock_common __sk_common;  // offset 0, size 136" in markdown_of(sock)
    typedef = markdown_of(await hover_on(client, SCRIPT, "pid_t"))
    assert typedef == "**pid_t** (typedef)\n\nIn bpftrace: `int32`, 4 bytes."
    enum = await hover_on(client, SCRIPT, "TASK_RUNNING")
    assert markdown_of(enum) == "```bpftrace\nTASK_RUNNING = 0\n```\n\n*enum task_state*"


# ------------------------------------------------------------ keywords


@pytest.mark.parametrize("word", ["while", "let", "macro", "config", "sizeof"])
async def test_keywords(client, word: str) -> None:
    result = await hover_on(client, SCRIPT, word)
    assert markdown_of(result).startswith(f"**{word}** (keyword)\n\n")
    assert text_of_range(SCRIPT, result.range) == word


async def test_config_option_type(client) -> None:
    result = await hover_on(client, SCRIPT, "max_strlen")
    assert markdown_of(result) == "```bpftrace\nmax_strlen: uint64\n```\n\n*config option*"


async def test_nothing_to_say_is_null(client) -> None:
    text = "// just a comment\nBEGIN {  }\n"
    assert await hover_on(client, text, "just") is None
    assert await hover_on(client, text, "{ ", delta=1) is None


async def test_range_is_in_the_negotiated_encoding(client) -> None:
    text = 'BEGIN { printf("héllo 😀 %d\\n", pid); }\n'
    uri = open_document(client, text)
    encoding = client.initialize_result.capabilities.position_encoding or lsp.PositionEncodingKind.Utf16
    prefix = text[: text.index("pid")]
    if encoding == lsp.PositionEncodingKind.Utf8:
        start = len(prefix.encode("utf-8"))
    else:
        start = len(prefix.encode("utf-16-le")) // 2
    position = lsp.Position(line=0, character=start + 1)
    result = await client.text_document_hover_async(lsp.HoverParams(text_document=doc_id(uri), position=position))
    assert "pid: uint32" in markdown_of(result)
    assert result.range == lsp.Range(start=lsp.Position(line=0, character=start), end=lsp.Position(line=0, character=start + 3))


# -------------------------------------------------- plain-text clients


def plaintext_capabilities() -> lsp.ClientCapabilities:
    capabilities = client_capabilities("neovim@v0.7.0")
    capabilities.text_document.hover.content_format = [lsp.MarkupKind.PlainText]
    return capabilities


@pytest_lsp.fixture(scope="module", config=server_config())
async def plain_client(lsp_client: LanguageClient):
    await start_session(lsp_client, "plaintext", capabilities=plaintext_capabilities())
    yield
    await lsp_client.shutdown_session()


async def test_plaintext_client_gets_plain_text(plain_client) -> None:
    result = await hover_on(plain_client, SCHED, "ntop(", delta=1)
    assert result.contents.kind == lsp.MarkupKind.PlainText
    value = result.contents.value
    assert value.startswith("ntop(int|uint8[4]|uint8[16] addr)\nntop(int af, int|uint8[4]|uint8[16] addr)\n")
    assert "```" not in value and "`" not in value and "*builtin" not in value
    assert "- af: AF_INET (2) or AF_INET6 (10)" in value
    assert text_of_range(SCHED, result.range) == "ntop"


async def test_plaintext_keeps_code_verbatim(plain_client) -> None:
    result = await hover_on(plain_client, SCHED, "task_struct *", delta=3)
    assert result.contents.kind == lsp.MarkupKind.PlainText
    value = result.contents.value
    assert value.startswith("struct task_struct {  // size 9000\n    unsigned int state;")
    # Pointer stars on consecutive lines are not taken for emphasis.
    assert "    struct task_struct *real_parent;   // offset 1008, size 8\n" in value
    assert "    struct task_struct *group_leader;  // offset 1016, size 8\n" in value
    prototype = await hover_on(plain_client, KERNEL, "vfs_read")
    assert "long vfs_read(struct file *file, char *buf, unsigned long count);" in prototype.contents.value
    assert prototype.contents.value.startswith("vfs_read (kernel function)")
