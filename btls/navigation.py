"""Navigation: go to definition, find references, document highlights and
rename, for maps, `$variables`, macros, fns and macro parameters.

Everything reads the symbols the analyser recorded (compiler/semantic/
scopes.py): each symbol's definitions and uses are the exact spans of its
name, and a `$var` belongs to one block scope, so two probes' `$x` are two
symbols. What may be renamed, and to what, is decided by `renamable_at`
and `check_rename` at the end of this module.
"""

from __future__ import annotations

from typing import Optional

from lsprotocol import types as lsp

from .guard import guarded
from .server import REQUEST_FAILED



class Refusal(Exception):
    """A rename the server declines, with the reason shown to the user."""


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    @guarded(None)
    def definition(ls, params: lsp.DefinitionParams):
        found = _symbol(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        snapshot, symbol = found
        return [snapshot.converter.location(span) for span in definition_spans(symbol)] or None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    @guarded(None)
    def references(ls, params: lsp.ReferenceParams):
        found = _symbol(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        snapshot, symbol = found
        spans = reference_spans(symbol, include_declaration=params.context.include_declaration)
        return [snapshot.converter.location(span) for span in spans]

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    @guarded(None)
    def highlight(ls, params: lsp.DocumentHighlightParams):
        found = _symbol(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        snapshot, symbol = found
        writes = {(s.start, s.end) for s in symbol.definitions}
        return [
            lsp.DocumentHighlight(
                range=snapshot.converter.range(span),
                kind=lsp.DocumentHighlightKind.Write if (span.start, span.end) in writes else lsp.DocumentHighlightKind.Read,
            )
            for span in _spans(symbol)
        ]

    # Refusals are answered as errors with the reason (editors show it);
    # the guard only wraps the work, so that a refusal is not logged as a
    # failure of the server.
    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls, params: lsp.PrepareRenameParams):
        return _answer(_prepare_rename(ls, params))

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def rename(ls, params: lsp.RenameParams):
        return _answer(_rename(ls, params))


# ------------------------------------------------------------------ handlers


@guarded(None)
def _prepare_rename(ls, params: lsp.PrepareRenameParams):
    snapshot = ls.snapshot(params.text_document.uri)
    try:
        symbol, span = renamable_at(snapshot, snapshot.converter.offset(params.position))
    except Refusal as refusal:
        return refusal
    if symbol is None:
        return None
    return lsp.PrepareRenamePlaceholder(range=snapshot.converter.range(span), placeholder=snapshot.source.slice(span))


@guarded(None)
def _rename(ls, params: lsp.RenameParams):
    snapshot = ls.snapshot(params.text_document.uri)
    try:
        symbol, _ = renamable_at(snapshot, snapshot.converter.offset(params.position))
        if symbol is None:
            return None
        check_rename(snapshot.analysis, symbol, params.new_name)
    except Refusal as refusal:
        return refusal
    edits = [lsp.TextEdit(range=snapshot.converter.range(span), new_text=params.new_name) for span in _spans(symbol)]
    return workspace_edit(ls, snapshot, edits)


def _answer(result):
    if isinstance(result, Refusal):
        from pygls.exceptions import JsonRpcException

        raise JsonRpcException(message=str(result), code=REQUEST_FAILED)
    return result


def _symbol(ls, uri: str, position: lsp.Position):
    """(snapshot, symbol) under the cursor, or None."""
    from .query import symbol_at

    snapshot = ls.snapshot(uri)
    symbol, _ = symbol_at(snapshot.analysis, snapshot.converter.offset(position))
    return (snapshot, symbol) if symbol is not None else None


def workspace_edit(ls, snapshot, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    """`documentChanges` (versioned, so a stale edit is refused) for clients
    that take them, else `changes`."""
    capabilities = ls.client_capabilities
    workspace = getattr(capabilities, "workspace", None)
    if getattr(getattr(workspace, "workspace_edit", None), "document_changes", False):
        document = lsp.OptionalVersionedTextDocumentIdentifier(uri=snapshot.uri, version=snapshot.version)
        return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(text_document=document, edits=edits)])
    return lsp.WorkspaceEdit(changes={snapshot.uri: edits})


# ------------------------------------------------------- symbols and spans


def _spans(symbol) -> list:
    """Every span of the symbol's name, in source order, once."""
    from .query import symbol_spans

    return symbol_spans(symbol)


def definition_spans(symbol) -> list:
    """Where "go to definition" goes: a map's `let` declaration, else every
    place it is assigned (maps are global: any probe may write one); a
    variable's first assignment or `let`; a macro's definitions (one per
    overload); a fn's or a macro parameter's name."""
    if symbol.kind == "map":
        spans = symbol.declarations or symbol.definitions
    elif symbol.kind == "variable":
        origin = getattr(symbol, "origin", None)
        defined = {(s.start, s.end) for s in symbol.definitions}
        if origin is not None and (origin.start, origin.end) in defined:
            spans = [origin]
        else:
            spans = [symbol.first_definition] if symbol.definitions else []
    else:
        spans = symbol.declarations or symbol.definitions[:1]
    return _unique(spans)


def reference_spans(symbol, *, include_declaration: bool) -> list:
    spans = _spans(symbol)
    if include_declaration:
        return spans
    declared = {(s.start, s.end) for s in definition_spans(symbol)}
    return [s for s in spans if (s.start, s.end) not in declared]


def _unique(spans) -> list:
    seen = {(s.start, s.end): s for s in spans}
    return [seen[key] for key in sorted(seen)]


# -------------------------------------------------------------------- rename


def renamable_at(snapshot, offset: int):
    """(symbol, span of the name under the cursor), (None, None) when
    nothing nameable is there; raises Refusal for names that cannot be
    renamed (builtins, `args`, positional parameters, ...)."""
    from compiler.syntax import ast

    from .query import path_at, symbol_at

    analysis = snapshot.analysis
    symbol, node = symbol_at(analysis, offset)
    if symbol is not None:
        span = _span_at(symbol, offset)
        if span is not None:
            return symbol, span
    path = path_at(analysis.program, offset)
    node = path[-1]
    if isinstance(node, ast.Name) and isinstance(path[-2], ast.Call):
        name = node.text  # a call of a builtin (or of something unknown)
    elif isinstance(node, ast.Identifier):
        name = node.name
    elif isinstance(node, (ast.PositionalParam, ast.ParamCount)):
        raise Refusal("Positional parameters cannot be renamed")
    else:
        return None, None
    _refuse_builtin(name)
    return None, None


def _span_at(symbol, offset: int):
    for span in _spans(symbol):
        if span.start <= offset <= span.end:
            return span
    return None


def _refuse_builtin(name: str) -> None:
    from compiler.semantic import builtins as B

    if name == "args":
        raise Refusal("`args` is the probe's arguments: it cannot be renamed")
    if B.lookup(name) is not None:
        raise Refusal(f"`{name}` is a builtin: it cannot be renamed")
    if name in KEYWORDS:
        raise Refusal(f"`{name}` is a keyword")


KEYWORDS = frozenset(
    "break comptime config continue else enum false fn for if import let macro offsetof return sizeof "
    "struct true typeinfo typeof union unroll while".split()
)


def check_rename(analysis, symbol, new_name: str) -> None:
    """Raise Refusal unless `new_name` is a valid name for `symbol` that
    no other symbol it could meet already has."""
    import re

    sigil = symbol.name[0] if symbol.name[:1] in ("$", "@") else ""
    what = {"$": "a variable", "@": "a map", "": "a macro, fn or parameter"}[sigil]
    if not re.fullmatch(re.escape(sigil) + r"[A-Za-z_][A-Za-z0-9_]*", new_name):
        example = f"{sigil}name" if sigil else "name"
        raise Refusal(f"`{new_name}` is not a valid name for {what}: write it as `{example}`")
    if new_name == symbol.name:
        return
    if not sigil:
        _refuse_builtin(new_name)
    clash = _clash(analysis, symbol, new_name)
    if clash is not None:
        raise Refusal(f"`{new_name}` already exists {clash}")


def _clash(analysis, symbol, new_name: str) -> Optional[str]:
    """Where a symbol named `new_name` would merge with the renamed one."""
    others = [s for s in analysis.symbols if s is not symbol and s.name == new_name and _spans(s)]
    if symbol.kind == "map":
        return "as a map" if any(s.kind == "map" for s in others) else None
    if symbol.kind in ("macro", "function"):
        return "as a macro or fn" if any(s.kind in ("macro", "function") for s in others) else None
    # Variables and macro parameters: a same-named one in the same probe,
    # fn or macro (conservative: any block of it).
    items = [_item_of(analysis.program, span.start) for span in _spans(symbol)]
    for other in others:
        if other.kind in ("variable", "param") and any(_item_of(analysis.program, s.start) in items for s in _spans(other)):
            return "in this scope"
    return None


def _item_of(program, offset: int):
    for item in program.items:
        if item.span.start <= offset < item.span.end:
            return item
    return None
