"""Quick fixes: the fixes the analyser attached to its diagnostics, offered
as `quickfix` code actions.

The analyser knows how to fix some of its own diagnostics (a `Fix` in
compiler/diagnostics.py): a misspelt function, builtin, provider,
tracepoint, field, variable, map, config key or map kind (`Change to 'printf'`,
one action per suggestion); a printf specification that does not fit its
argument (`Change '%d' to '%s'`); a char pointer printed with `%s` (`Wrap in
str()`); a variable assigned only in an inner block (`let $x;` before that
block); a kprobe with a tracepoint (the attach point and the body's `argN`
rewritten). This module only finds the diagnostics a request is about and
turns their fixes into code actions.

Fixes come from the current snapshot's analysis, never from the `data` a
client sends back: the client's copy may be older than the text, and not
every client keeps `data`. A client's diagnostic is matched to ours by code
and range; a request whose context has no diagnostics gets the fixes of
ours that touch its range.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from .guard import guarded

_QUICKFIX = lsp.CodeActionKind.QuickFix


def register(server) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[_QUICKFIX], resolve_provider=False),
    )
    @guarded(list)
    def code_action(ls, params: lsp.CodeActionParams):
        return quick_fixes(ls, params)


def quick_fixes(ls, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    if not _wants_quickfix(params.context.only):
        return []
    snapshot = ls.snapshot(params.text_document.uri)
    converter = snapshot.converter
    ours = [d for d in snapshot.analysis.diagnostics if d.fixes]
    if not ours:
        return []
    if params.context.diagnostics:
        pairs = _matched(converter, ours, params.context.diagnostics)
    else:
        # No diagnostics in the context: the client did not say which it
        # means (or has none yet), so take ours under the cursor or range.
        wanted = converter.span(params.range)
        pairs = [
            (d, converter.diagnostic(d)) for d in ours if d.span.start <= wanted.end and wanted.start <= d.span.end
        ]
    preferred_ok = _supports_preferred(ls)
    actions = []
    for ours_item, theirs in pairs:
        for fix in ours_item.fixes:
            edits = [converter.text_edit(e.span, e.text) for e in sorted(fix.edits, key=lambda e: e.span.start)]
            actions.append(
                lsp.CodeAction(
                    title=fix.title,
                    kind=_QUICKFIX,
                    diagnostics=[theirs],
                    edit=_workspace_edit(ls, snapshot, edits),
                    is_preferred=True if fix.preferred and preferred_ok else None,
                )
            )
    return actions


def _matched(converter, ours, theirs) -> list[tuple]:
    """(our diagnostic, the client's) pairs with the same code and range."""
    by_key = {}
    for item in ours:
        by_key.setdefault((item.code, _range_key(converter.range(item.span))), []).append(item)
    pairs = []
    for diagnostic in theirs:
        for item in by_key.get((str(diagnostic.code), _range_key(diagnostic.range)), ()):
            pairs.append((item, diagnostic))
    return pairs


def _range_key(range_: lsp.Range) -> tuple[int, int, int, int]:
    return (range_.start.line, range_.start.character, range_.end.line, range_.end.character)


def _wants_quickfix(only) -> bool:
    """Whether a request's `only` kinds include quick fixes (a kind covers
    its sub-kinds: `quickfix` covers `quickfix.x`, not the other way)."""
    if not only:
        return True
    wanted = str(_QUICKFIX.value)
    kinds = [str(getattr(kind, "value", kind)) for kind in only]
    return any(kind == wanted or wanted.startswith(f"{kind}.") for kind in kinds)


def _supports_preferred(ls) -> bool:
    code_action = getattr(getattr(ls.client_capabilities, "text_document", None), "code_action", None)
    return bool(getattr(code_action, "is_preferred_support", False))


def _workspace_edit(ls, snapshot, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
    from .navigation import workspace_edit  # versioned documentChanges when the client takes them

    return workspace_edit(ls, snapshot, edits)
