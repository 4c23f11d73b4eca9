"""Document symbols (the outline tree) and workspace symbols across the
workspace's .bt files, over every client profile."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from conftest import PROFILES, TESTS, server_config, start_session
from helpers import change_document, doc_id, open_document, position_of
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

K = lsp.SymbolKind

PROGRAM = """\
config = { max_strlen = 64 }
let @seen = hash(128);
macro add($x, y) { $x + y }
fn twice($v: int64): int64 { return $v * 2; }
kprobe:vfs_read, kprobe:vfs_write /pid > 1/ {
  $bytes = arg2;
  if ($bytes > 0) { $big = 1; print($big); }
  @seen[pid] = 1;
  print($bytes);
}
END { $bytes = 2; @total = add($bytes, 1); print(@total); }
"""


def line_range(text: str, needle: str, length: int | None = None, occurrence: int = 0) -> lsp.Range:
    start = position_of(text, needle, occurrence=occurrence)
    return lsp.Range(start=start, end=lsp.Position(line=start.line, character=start.character + (length or len(needle))))


async def outline(client, uri):
    return await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=doc_id(uri)))


def shape(symbols) -> list:
    return [(s.name, s.kind, shape(s.children or [])) for s in symbols]


async def test_outline_tree_shape(client) -> None:
    uri = open_document(client, PROGRAM)
    tree = await outline(client, uri)
    assert shape(tree) == [
        ("config", K.Namespace, [("max_strlen", K.Property, [])]),
        ("@seen", K.Object, []),
        ("add", K.Function, [("$x", K.Variable, []), ("y", K.Variable, [])]),
        ("twice", K.Function, [("$v", K.Variable, [])]),
        ("kprobe:vfs_read, kprobe:vfs_write", K.Event, [("$bytes", K.Variable, []), ("$big", K.Variable, [])]),
        ("END", K.Event, [("$bytes", K.Variable, [])]),
        ("@total", K.Object, []),
    ]


async def test_outline_details_and_ranges(client) -> None:
    uri = open_document(client, PROGRAM)
    config, seen, add, twice, probe, end, total = await outline(client, uri)
    assert probe.detail == "/pid > 1/"
    assert probe.selection_range == line_range(PROGRAM, "kprobe:vfs_read, kprobe:vfs_write")
    assert probe.range.start == position_of(PROGRAM, "kprobe:vfs_read")
    assert probe.range.end == lsp.Position(line=9, character=1)
    assert end.detail is None
    assert add.detail == "macro($x, y)" and add.selection_range == line_range(PROGRAM, "add")
    assert twice.detail == "fn($v: int64): int64"
    assert config.children[0].detail == "64"
    # The declared map stands at its declaration, with its kind and types.
    assert seen.range == line_range(PROGRAM, "let @seen = hash(128);")
    assert seen.selection_range == line_range(PROGRAM, "@seen")
    assert seen.detail.startswith("hash(128)")
    assert total.selection_range == line_range(PROGRAM, "@total")
    bytes_, big = probe.children
    assert bytes_.range == line_range(PROGRAM, "$bytes") and bytes_.detail == "uint64"
    assert big.range == line_range(PROGRAM, "$big")
    # END's own $bytes, not the probe's.
    assert end.children[0].range == line_range(PROGRAM, "$bytes", occurrence=3)


async def test_outline_follows_edits(client) -> None:
    uri = open_document(client, "BEGIN { @a = 1; }\n")
    change_document(client, uri, 2, "BEGIN { @a = 1; }\ntracepoint:sched:sched_switch { @b = 2; }\n")
    tree = await outline(client, uri)
    assert [s.name for s in tree] == ["BEGIN", "@a", "tracepoint:sched:sched_switch", "@b"]


async def test_outline_of_broken_document_keeps_what_parsed(client) -> None:
    text = "BEGIN { $x = ; }\nmacro m() { 1 }\nEND { @done = 1; }\n"
    uri = open_document(client, text)
    tree = await outline(client, uri)
    assert [s.name for s in tree] == ["BEGIN", "m", "END", "@done"]


async def test_outline_of_empty_document(client) -> None:
    uri = open_document(client, "")
    assert await outline(client, uri) == []


async def test_workspace_symbols_index_the_root(client) -> None:
    # The shared fixture's root is tests/corpus: its files are indexed.
    corpus = sorted((TESTS / "corpus").glob("*.bt"))
    macro_file = next(p for p in corpus if "macro " in p.read_text())
    name = macro_file.read_text().split("macro ", 1)[1].split("(", 1)[0].strip()
    found = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=name))
    hits = [s for s in found if s.name == name and s.kind == K.Function]
    assert hits and hits[0].location.uri == macro_file.resolve().as_uri()


# ---------------------------------------------------------- a temp workspace

FILES = {
    "tools/io.bt": "macro kb(x) { x / 1024 }\nkprobe:vfs_read { @read_bytes[comm] = kb(arg2); }\n",
    "tools/net/tcp.bt": "let @conns = hash(1024);\nfn port($p: int64): int64 { return $p; }\n"
    "kprobe:tcp_connect { @conns[tid] = port(1); @read_bytes[1] = 1; }\n",
    "sched.bt": "tracepoint:sched:sched_switch { @switches = count(); }\nEND { print(@switches); }\n",
    ".hidden/secret.bt": "BEGIN { @hidden = 1; }\n",
    "notes.txt": "BEGIN { @not_bt = 1; }\n",
}


@pytest_lsp.fixture(params=PROFILES, scope="module", config=server_config())
async def workspace(lsp_client: LanguageClient, request, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # Bigger than the index reads: skipped.
    (root / "huge.bt").write_text("BEGIN { @huge = 1; }\n" + "// padding\n" * 120_000)
    await start_session(lsp_client, request.param)
    # The workspace becomes the temp folder (instead of the fixture's root).
    lsp_client.workspace_did_change_workspace_folders(
        lsp.DidChangeWorkspaceFoldersParams(
            event=lsp.WorkspaceFoldersChangeEvent(added=[lsp.WorkspaceFolder(uri=root.as_uri(), name="tmp")], removed=[])
        )
    )
    lsp_client.root = root
    yield lsp_client
    await lsp_client.shutdown_session()


async def search(client, query: str) -> list[tuple[str, str, int]]:
    found = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query=query))
    root = client.root.as_uri()
    return sorted(
        (s.name, s.location.uri.removeprefix(root + "/"), s.kind) for s in found if s.location.uri.startswith(root)
    )


async def test_workspace_symbols_everything(workspace) -> None:
    names = await search(workspace, "")
    assert names == sorted([
        ("kb", "tools/io.bt", K.Function),
        ("kprobe:vfs_read", "tools/io.bt", K.Event),
        ("@read_bytes", "tools/io.bt", K.Object),
        ("@conns", "tools/net/tcp.bt", K.Object),
        ("port", "tools/net/tcp.bt", K.Function),
        ("kprobe:tcp_connect", "tools/net/tcp.bt", K.Event),
        ("@read_bytes", "tools/net/tcp.bt", K.Object),
        ("tracepoint:sched:sched_switch", "sched.bt", K.Event),
        ("END", "sched.bt", K.Event),
        ("@switches", "sched.bt", K.Object),
    ])  # fmt: skip


async def test_workspace_symbols_filter_by_query(workspace) -> None:
    assert await search(workspace, "@read") == [
        ("@read_bytes", "tools/io.bt", K.Object),
        ("@read_bytes", "tools/net/tcp.bt", K.Object),
    ]
    # Case-insensitive, and the query's letters in order.
    assert await search(workspace, "SWTCH") == [
        ("@switches", "sched.bt", K.Object),
        ("tracepoint:sched:sched_switch", "sched.bt", K.Event),
    ]
    assert await search(workspace, "kprobe:") == [
        ("kprobe:tcp_connect", "tools/net/tcp.bt", K.Event),
        ("kprobe:vfs_read", "tools/io.bt", K.Event),
    ]
    assert await search(workspace, "nothing-like-this") == []


async def test_workspace_symbol_locations(workspace) -> None:
    found = await workspace.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="@conns"))
    (conns,) = [s for s in found if s.name == "@conns"]
    text = FILES["tools/net/tcp.bt"]
    assert conns.location.uri == (workspace.root / "tools/net/tcp.bt").as_uri()
    assert conns.location.range == line_range(text, "@conns")
    (port,) = [s for s in await workspace.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="port")) if s.name == "port"]
    assert port.location.range == line_range(text, "port")
    assert port.container_name == "fn"


async def test_workspace_symbols_prefer_open_text(workspace) -> None:
    uri = (workspace.root / "sched.bt").as_uri()
    text = "tracepoint:sched:sched_wakeup { @wakeups = count(); }\n"
    open_document(workspace, text, uri=uri)
    names = await search(workspace, "sched")
    assert ("tracepoint:sched:sched_wakeup", "sched.bt", K.Event) in names
    assert ("tracepoint:sched:sched_switch", "sched.bt", K.Event) not in names
    change_document(workspace, uri, 2, "END { @after_edit = 1; }\n")
    assert await search(workspace, "@after") == [("@after_edit", "sched.bt", K.Object)]
    workspace.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=doc_id(uri)))
    assert await search(workspace, "@after") == []
    assert ("@switches", "sched.bt", K.Object) in await search(workspace, "@sw")


async def test_workspace_symbols_see_new_files(workspace) -> None:
    # A file changed on disk is parsed again (its size and mtime changed).
    path: Path = workspace.root / "tools/io.bt"
    path.write_text("BEGIN { @renamed_on_disk = 1; }\n")
    assert await search(workspace, "@renamed") == [("@renamed_on_disk", "tools/io.bt", K.Object)]


async def test_flat_symbols_for_clients_without_hierarchy() -> None:
    # No shipped profile lacks hierarchical support, so the fallback is
    # checked on the server's own functions.
    from btls.documents import Snapshot
    from btls.symbols import flatten, outline

    from compiler.kernel.facts import NoFacts

    snapshot = Snapshot("file:///tmp/flat.bt", 1, PROGRAM, "utf-16", NoFacts)
    flat = flatten(outline(snapshot), snapshot.uri)
    assert [(s.name, s.container_name) for s in flat] == [
        ("config", None), ("max_strlen", "config"), ("@seen", None), ("add", None), ("$x", "add"), ("y", "add"),
        ("twice", None), ("$v", "twice"), ("kprobe:vfs_read, kprobe:vfs_write", None),
        ("$bytes", "kprobe:vfs_read, kprobe:vfs_write"), ("$big", "kprobe:vfs_read, kprobe:vfs_write"),
        ("END", None), ("$bytes", "END"), ("@total", None),
    ]  # fmt: skip
    assert all(s.location.uri == snapshot.uri for s in flat)
    assert flat[2].location.range == line_range(PROGRAM, "let @seen = hash(128);")
