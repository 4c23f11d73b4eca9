"""Signature help: the call forms of the builtin, macro or fn whose
argument list holds the cursor, which form fits the arguments, and which
parameter is being typed.

While a call is being typed the text rarely parses (`printf("%d", ` has
no closing parenthesis yet), so the call is found in the text, not the
AST: a small tokenizer runs from the start of the enclosing top-level item
to the cursor, skipping strings, character literals and comments, and keeps
a stack of open brackets with the name before each `(` and the commas seen
at its own level. The AST is used only to find where that item starts and
which macros and fns the script defines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from lsprotocol import types as lsp

from .guard import guarded

_TOKEN = re.compile(
    r"""
    "(?:[^"\\\n]|\\.)*"?            # a string; unterminated ones end at the line
  | '(?:[^'\\\n]|\\.)*'?            # a character literal
  | //[^\n]*                        # comments
  | /\*(?:[^*]|\*(?!/))*(?:\*/)?
  | [A-Za-z_][A-Za-z0-9_]*          # a name, maybe a callee
  | [$@][A-Za-z0-9_]*               # variables and maps: never callees
  | \S                              # any other character
    """,
    re.VERBOSE,
)
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}
# How far past the cursor to look for the call's closing parenthesis.
_LOOK_AHEAD = 4096


@dataclass
class _Open:
    char: str
    name: Optional[str]  # the name right before a `(`
    commas: int = 0  # at this bracket's own level
    filled: bool = False  # anything but whitespace and comments inside


@dataclass(frozen=True)
class CallSite:
    name: str
    active: int  # the index of the argument the cursor is in
    total: Optional[int]  # arguments in all, when the call is closed


def register(server) -> None:
    options = lsp.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[")"])

    @server.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP, options)
    @guarded()
    def signature_help(ls, params: lsp.SignatureHelpParams) -> Optional[lsp.SignatureHelp]:
        snapshot = ls.snapshot(params.text_document.uri)
        offset = snapshot.converter.offset(params.position)
        program = snapshot.program
        found = callable_at(snapshot.source.lark_text, offset, _item_start(program, offset), program)
        if found is None:
            return None
        site, forms = found
        return _help(ls, site, forms)


def _item_start(program, offset: int) -> int:
    """Where to start tokenizing: the start of the last statement that
    begins before `offset` in the innermost block around it, else of the
    top-level item. Strings and comments never straddle such a point, and
    starting near the cursor keeps long probes fast."""
    from compiler.syntax import ast

    from .query import path_at

    for node in reversed(path_at(program, offset)):
        if isinstance(node, ast.Block):
            starts = [stmt.span.start for stmt in node.stmts if stmt.span.start <= offset]
            return starts[-1] if starts else node.span.start
    start = 0
    for item in program.items:
        if item.span.start <= offset:
            start = item.span.start
    return start


def call_sites(text: str, offset: int, start: int = 0) -> list[CallSite]:
    """The calls whose argument lists hold `offset`, innermost first.
    `text` holds one character per byte (SourceText.lark_text), so its
    indexes are the compiler's byte offsets."""
    stack: list[_Open] = []
    previous = None
    resume = offset  # where the text after the cursor's token begins
    for match in _TOKEN.finditer(text, start, offset):
        token = match.group()
        if match.end() == offset:
            # The cursor may be inside this token (a string, a comment):
            # the look-ahead starts after all of it.
            whole = _TOKEN.match(text, match.start())
            resume = max(offset, whole.end()) if whole else offset
        if token.startswith(("//", "/*")):
            continue
        if stack:
            stack[-1].filled = True
        if token in _OPENERS:
            callee = previous if token == "(" and previous and _is_name(previous) else None
            stack.append(_Open(token, callee))
        elif token in _CLOSERS:
            _close(stack, _CLOSERS[token])
        elif token == "," and stack:
            stack[-1].commas += 1
        elif token == ";":
            # A statement ended: parentheses still open were never closed.
            while stack and stack[-1].char != "{":
                stack.pop()
        previous = token
    sites = []
    for index in range(len(stack) - 1, -1, -1):
        entry = stack[index]
        if entry.char == "{":
            break  # a block inside the call: its arguments are not ours
        if entry.char == "(" and entry.name is not None:
            ahead = _rest_of_call(text, resume) if index == len(stack) - 1 else None
            total = None
            if ahead is not None:
                commas_after, filled_after = ahead
                empty = entry.commas == 0 and not entry.filled and not filled_after
                total = 0 if empty else entry.commas + commas_after + 1
            sites.append(CallSite(entry.name, entry.commas, total))
    return sites


def _is_name(token: str) -> bool:
    return token[0].isalpha() or token[0] == "_"


def _close(stack: list[_Open], opener: str) -> None:
    for index in range(len(stack) - 1, -1, -1):
        if stack[index].char == opener:
            del stack[index:]
            return
    # A closer with no opener: stray text, ignored.


def _rest_of_call(text: str, offset: int):
    """(commas, anything written) between the cursor and the call's `)`,
    or None when the call is not closed before the statement ends."""
    depth, commas, filled = 0, 0, False
    for match in _TOKEN.finditer(text, offset, min(len(text), offset + _LOOK_AHEAD)):
        token = match.group()
        if token.startswith(("//", "/*")):
            continue
        if token in _CLOSERS and depth == 0:
            return (commas, filled) if token == ")" else None
        if token == ";" and depth == 0:
            return None
        filled = True
        if token in _OPENERS:
            depth += 1
        elif token in _CLOSERS:
            depth -= 1
        elif token == "," and depth == 0:
            commas += 1
    return None


# ------------------------------------------------------------- forms


@dataclass(frozen=True)
class Form:
    """One signature as shown: its label, each parameter's [start, end)
    in the label with its docs, whether the last one repeats, and its
    argument counts."""

    label: str
    params: tuple[tuple[int, int, str], ...]
    doc: str
    min_args: int
    max_args: int
    variadic: bool = False


def callable_at(text: str, offset: int, start: int, program):
    """(site, forms) for the innermost call at `offset` with known forms."""
    for site in call_sites(text, offset, start):
        forms = forms_for(site.name, program, text)
        if forms:
            return site, forms
    return None


def forms_for(name: str, program, text: str) -> list[Form]:
    """User macros and fns first (they are what the script means), then
    the builtins table."""
    from compiler.syntax import ast

    user = [item for item in program.items
            if isinstance(item, (ast.Macro, ast.Function)) and item.name.text == name]  # fmt: skip
    if user:
        return [_user_form(item, text, ast) for item in user]
    from compiler.semantic.builtins import lookup

    entry = lookup(name)
    if entry is None:
        return []
    return [_builtin_form(name, entry, sig) for sig in entry.signatures]


def _build(head: str, parts: list[tuple[str, str]], tail: str):
    label, params = head + "(", []
    for index, (part, doc) in enumerate(parts):
        if index:
            label += ", "
        params.append((len(label), len(label) + len(part), doc))
        label += part
    return label + ")" + tail, tuple(params)


def _builtin_form(name: str, entry, sig) -> Form:
    from .describe import param_notes, returns_text

    parts = [(p.describe(), param_notes(p)) for p in sig.params]
    if sig.variadic is not None:
        parts.append((sig.variadic.describe() + "...", param_notes(sig.variadic)))
    result = returns_text(sig)
    label, params = _build(name, parts, f" → {result}" if result else "")
    return Form(label, params, entry.doc.strip(), sig.min_args, sig.most_args, sig.variadic is not None)


def _user_form(item, text: str, ast) -> Form:
    def source(span) -> str:
        return " ".join(text[span.start : span.end].encode("latin-1").decode("utf-8", "replace").split())

    parts = [(source(p.span), "") for p in item.params]
    if isinstance(item, ast.Macro):
        label, params = _build("macro " + item.name.text, parts, "")
        doc = "A macro of this script: expanded where it is called."
    else:
        label, params = _build("fn " + item.name.text, parts, ": " + source(item.return_type.span))
        doc = "A function of this script."
    return Form(label, params, doc, len(parts), len(parts))


def choose(forms: list[Form], site: CallSite) -> int:
    """The form that fits: all the arguments when the call is closed, else
    at least those typed so far."""
    if site.total is not None:
        for index, form in enumerate(forms):
            if form.min_args <= site.total <= form.max_args:
                return index
    typed = site.active + 1
    for index, form in enumerate(forms):
        if form.max_args >= typed:
            return index
    return max(range(len(forms)), key=lambda i: forms[i].max_args)


def active_parameter(form: Form, site: CallSite) -> int:
    if form.variadic and site.active >= len(form.params):
        return len(form.params) - 1
    return site.active


# --------------------------------------------------------------- LSP


def _help(ls, site: CallSite, forms: list[Form]) -> lsp.SignatureHelp:
    from .describe import plain

    information = ("text_document", "signature_help", "signature_information")
    markdown = ls.client_supports_markdown(*information, "documentation_format")
    offsets = bool(_capability(ls, *information, "parameter_information", "label_offset_support"))
    per_signature = bool(_capability(ls, *information, "active_parameter_support"))

    def doc(text: str):
        if not text:
            return None
        if markdown:
            return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)
        return plain(text)

    chosen = choose(forms, site)
    signatures = []
    for form in forms:
        params = [
            lsp.ParameterInformation(label=(start, end) if offsets else form.label[start:end], documentation=doc(notes))
            for start, end, notes in form.params
        ]
        signatures.append(
            lsp.SignatureInformation(
                label=form.label, documentation=doc(form.doc), parameters=params,
                active_parameter=active_parameter(form, site) if per_signature else None,
            )
        )  # fmt: skip
    return lsp.SignatureHelp(
        signatures=signatures, active_signature=chosen, active_parameter=active_parameter(forms[chosen], site)
    )


def _capability(ls, *path: str):
    try:
        value = ls.client_capabilities
    except Exception:  # noqa: BLE001 - before initialize there are none
        return None
    for name in path:
        value = getattr(value, name, None)
        if value is None:
            return None
    return value
