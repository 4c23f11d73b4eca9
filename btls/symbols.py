"""Document symbols (the outline) and workspace symbols.

The outline is a tree: probes (named by their attach points, with the
predicate as detail) holding the `$variables` of their blocks; macros and
fns holding their parameters and variables; the config block holding its
entries; maps (global, so at the top, at their `let` declaration or first
assignment); C definitions and imports.

Workspace symbols (probes, macros, fns, maps) come from every *.bt file
under the workspace folders, found and parsed on the first request. A
file is parsed again only when its size or modification time changed, and
an open document's current text is used instead of the disk's.
"""

from __future__ import annotations

import bisect
import os
import time
import weakref
from typing import Optional

from lsprotocol import types as lsp

from .guard import guarded

K = lsp.SymbolKind


def register(server) -> None:
    index = WorkspaceIndex()

    # Each snapshot's outline, while the snapshot lives: editors ask again
    # and again for the same version (outline view, breadcrumbs).
    outlines: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded(list)
    def document_symbol(ls, params: lsp.DocumentSymbolParams):
        snapshot = ls.snapshot(params.text_document.uri)
        tree = outlines.get(snapshot)
        if tree is None:
            tree = outlines[snapshot] = outline(snapshot)
        if _hierarchical(ls):
            return tree
        return flatten(tree, snapshot.uri)

    @server.feature(lsp.WORKSPACE_SYMBOL)
    @guarded(list)
    def workspace_symbol(ls, params: lsp.WorkspaceSymbolParams):
        return index.search(ls, params.query)


def _hierarchical(ls) -> bool:
    text_document = getattr(ls.client_capabilities, "text_document", None)
    symbols = getattr(text_document, "document_symbol", None)
    return bool(getattr(symbols, "hierarchical_document_symbol_support", False))


# ------------------------------------------------------------------ outline


def outline(snapshot) -> list[lsp.DocumentSymbol]:
    from compiler.source import Span
    from compiler.syntax import ast

    analysis, source, convert = snapshot.analysis, snapshot.source, snapshot.converter

    def symbol(name, kind, span, selection=None, detail=None, children=None) -> lsp.DocumentSymbol:
        whole = convert.range(span)
        return lsp.DocumentSymbol(
            name=name or "?", kind=kind, range=whole, selection_range=convert.range(selection) if selection else whole,
            detail=detail or None, children=children,
        )  # fmt: skip

    top: list[tuple[int, lsp.DocumentSymbol]] = []
    containers: dict[int, list] = {}  # id(item) -> its children
    declared_maps = {}
    for item in analysis.program.items:
        span = item.span
        if isinstance(item, ast.Probe):
            points = item.attach_points
            name = ", ".join(ap.raw for ap in points) or "probe"
            selection = Span(points[0].span.start, points[-1].span.end) if points else span
            detail = f"/{source.slice(item.predicate.span)}/" if item.predicate is not None else None
            entry = symbol(name, K.Event, span, selection, detail, [])
        elif isinstance(item, ast.Macro):
            params = ", ".join(source.slice(p.span) for p in item.params)
            entry = symbol(item.name.text, K.Function, span, item.name.span, f"macro({params})", [])
        elif isinstance(item, ast.Function):
            header = source.slice(Span(item.name.span.end, item.body.span.start)).strip()
            entry = symbol(item.name.text, K.Function, span, item.name.span, f"fn{header}", [])
        elif isinstance(item, ast.Config):
            entries = [
                symbol(e.key.text, K.Property, e.span, e.key.span, source.slice(e.value.span)) for e in item.entries
            ]
            entry = symbol("config", K.Namespace, span, Span(span.start, min(span.end, span.start + 6)), None, entries)
        elif isinstance(item, ast.MapDecl):
            declared_maps[item.map.name] = item  # the map's own entry (below) stands here
            continue
        elif isinstance(item, ast.CDefinition):
            entry = symbol(f"{item.kind} {item.name}" if item.name else item.kind, K.Struct, span)
        elif isinstance(item, ast.Import):
            entry = symbol(item.path.text, K.Module, span)
        else:
            continue
        top.append((span.start, entry))
        if entry.children is not None and not isinstance(item, ast.Config):
            containers[id(item)] = (item, entry.children)

    # Top-level items do not overlap: the one holding an offset is found by
    # bisection (a big file has a thousand probes and more variables).
    holders = sorted(containers.values(), key=lambda pair: pair[0].span.start)
    starts = [item.span.start for item, _ in holders]
    for sym in analysis.symbols:
        spans = _spans(sym)
        if not spans:
            continue
        if sym.kind == "map":
            decl = declared_maps.get(sym.name)
            if decl is not None:
                entry = symbol(sym.name, K.Object, decl.span, decl.map.span, _map_detail(sym, decl))
                top.append((decl.span.start, entry))
            else:
                first = sym.first_definition or spans[0]
                top.append((first.start, symbol(sym.name, K.Object, first, None, _map_detail(sym, None))))
        elif sym.kind in ("variable", "param"):
            where = getattr(sym, "origin", None) or sym.first_definition or spans[0]
            holder = _container(holders, starts, where.start)
            if holder is not None:
                detail = str(sym.type) if sym.type is not None else ("parameter" if sym.kind == "param" else None)
                holder.append(symbol(sym.name, K.Variable, where, None, detail))
    for _, children in containers.values():
        children.sort(key=lambda s: (s.range.start.line, s.range.start.character))
    return [entry for _, entry in sorted(top, key=lambda pair: pair[0])]


def _container(holders: list, starts: list[int], offset: int) -> Optional[list]:
    index = bisect.bisect_right(starts, offset) - 1
    if index >= 0:
        item, children = holders[index]
        if offset < item.span.end:
            return children
    return None


def _spans(sym) -> list:
    from .query import symbol_spans

    return symbol_spans(sym)


def _map_detail(sym, decl) -> Optional[str]:
    """`hash(10)`, then the key and value types when known:
    `[int64] count_t`."""
    from compiler.semantic import types as T

    parts = []
    if decl is not None:
        parts.append(f"{decl.kind.text}({decl.max_entries.value})")
    key = getattr(sym, "key", None)
    if key is not None and key != T.VOID:
        parts.append(f"[{key}]")
    if sym.type is not None:
        parts.append(str(sym.type))
    return " ".join(parts) or None


def flatten(tree: list[lsp.DocumentSymbol], uri: str, container: Optional[str] = None) -> list[lsp.SymbolInformation]:
    """The outline as a flat list, for clients without hierarchical support."""
    flat = []
    for entry in tree:
        flat.append(
            lsp.SymbolInformation(
                name=entry.name, kind=entry.kind, location=lsp.Location(uri=uri, range=entry.range),
                container_name=container,
            )  # fmt: skip
        )
        flat.extend(flatten(entry.children or [], uri, entry.name))
    return flat


# --------------------------------------------------------- workspace symbols

MAX_FILE_BYTES = 1024 * 1024  # the parser reads nothing bigger anyway
MAX_FILES = 5000
MAX_RESULTS = 500
RESCAN_SECONDS = 30.0  # how long a list of the folders' files is trusted
_SKIPPED_DIRS = {"node_modules", "__pycache__", "build", "target", "venv"}


class WorkspaceIndex:
    """The workspace's symbols, file by file, parsed once per file version."""

    def __init__(self) -> None:
        self._paths: list[str] = []
        self._scanned: Optional[tuple[tuple[str, ...], float]] = None  # (folders, when)
        self._files: dict[str, tuple[object, list[lsp.SymbolInformation]]] = {}  # uri -> (stamp, symbols)

    def search(self, ls, query: str) -> list[lsp.SymbolInformation]:
        matches = []
        for symbols in self._all_symbols(ls):
            for entry in symbols:
                rank = _match(query, entry.name)
                if rank is not None:
                    matches.append((rank, entry.name, entry.location.uri, entry))
        matches.sort(key=lambda m: (m[0], m[1], m[2], m[3].location.range.start.line))
        return [entry for *_, entry in matches[:MAX_RESULTS]]

    def _all_symbols(self, ls):
        from .documents import path_to_uri, uri_to_path

        open_documents = ls.workspace.text_documents
        seen = set()
        for uri, document in list(open_documents.items()):
            if uri.endswith(".bt") or getattr(document, "language_id", None) == "bpftrace":
                seen.add(uri_to_path(uri))
                yield self._symbols_of_open(ls, uri)
        for path in self._folder_files(ls):
            if path not in seen:
                symbols = self._symbols_of_file(ls, path_to_uri(path), path)
                if symbols:
                    yield symbols

    def _symbols_of_open(self, ls, uri: str):
        snapshot = ls.snapshot(uri)
        stamp = ("open", snapshot.version, len(snapshot.text))
        cached = self._files.get(uri)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        symbols = file_symbols(snapshot.program, snapshot.converter)
        self._files[uri] = (stamp, symbols)
        return symbols

    def _symbols_of_file(self, ls, uri: str, path: str):
        try:
            info = os.stat(path)
        except OSError:
            return []
        stamp = (info.st_mtime_ns, info.st_size)
        cached = self._files.get(uri)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        symbols = []
        if info.st_size <= MAX_FILE_BYTES:
            from compiler.syntax.parser import parse

            from .convert import Converter
            from .documents import read_text_file

            parsed = parse(read_text_file(path), os.path.basename(path))
            symbols = file_symbols(parsed.program, Converter(parsed.source, uri, ls.position_encoding()))
        self._files[uri] = (stamp, symbols)
        return symbols

    def _folder_files(self, ls) -> list[str]:
        folders = tuple(sorted(_folder_paths(ls)))
        now = time.monotonic()
        if self._scanned is None or self._scanned[0] != folders or now - self._scanned[1] > RESCAN_SECONDS:
            self._paths = _find_bt_files(folders)
            self._scanned = (folders, now)
        return self._paths


def _folder_paths(ls) -> list[str]:
    from .documents import uri_to_path

    workspace = ls.workspace
    uris = [folder.uri for folder in workspace.folders.values()] or [workspace.root_uri]
    return [path for path in (uri_to_path(uri) for uri in uris if uri) if path and os.path.isdir(path)]


def _find_bt_files(folders) -> list[str]:
    found: list[str] = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
            for name in sorted(files):
                if name.endswith(".bt"):
                    found.append(os.path.join(root, name))
                    if len(found) >= MAX_FILES:
                        return found
    return found


def file_symbols(program, convert) -> list[lsp.SymbolInformation]:
    """A file's probes, macros, fns and maps (from its syntax alone: no
    analysis, so no kernel facts are needed to index a workspace)."""
    from compiler.source import Span
    from compiler.syntax import ast

    symbols = []

    def add(name: str, kind, span, container=None) -> None:
        symbols.append(lsp.SymbolInformation(name=name, kind=kind, location=convert.location(span), container_name=container))

    maps: dict[str, tuple[int, object]] = {}  # name -> (rank, span): a declaration, else a write, else a use
    for item in program.items:
        if isinstance(item, ast.Probe) and item.attach_points:
            span = Span(item.attach_points[0].span.start, item.attach_points[-1].span.end)
            add(", ".join(ap.raw for ap in item.attach_points), K.Event, span)
        elif isinstance(item, ast.Macro):
            add(item.name.text, K.Function, item.name.span, "macro")
        elif isinstance(item, ast.Function):
            add(item.name.text, K.Function, item.name.span, "fn")
        elif isinstance(item, ast.MapDecl):
            if maps.get(item.map.name, (3, None))[0] > 0:
                maps[item.map.name] = (0, item.map.span)
            continue
        for node in ast.walk(item):
            target = node.target if isinstance(node, ast.Assign) else None
            if isinstance(target, ast.MapAccess):
                target = target.map
            if isinstance(target, ast.MapRef) and target.name != "@":
                if maps.get(target.name, (3, None))[0] > 1:
                    maps[target.name] = (1, target.span)
            elif isinstance(node, ast.MapRef) and node.name != "@" and node.name not in maps:
                maps[node.name] = (2, node.span)
    for name, (_, span) in maps.items():
        add(name, K.Object, span, "map")
    return symbols


def _match(query: str, name: str) -> Optional[int]:
    """How well `name` matches `query` (lower is better), None if not at
    all: a prefix, then a substring, then the query's characters in order
    (`@rq` finds `@read_queue`). Case does not matter."""
    query, name = query.lower(), name.lower()
    if not query or name.startswith(query):
        return 0
    if query in name:
        return 1
    position = 0
    for char in query:
        position = name.find(char, position) + 1
        if position == 0:
            return None
    return 2
