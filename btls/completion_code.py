"""Completion in action blocks and predicates: `$variables` in scope,
`@maps`, builtins allowed in the probe, the script's macros and fns,
keywords; and the members after `.`/`->` (completion_members.py)."""

from __future__ import annotations

from . import completion_context as cc
from .completion_items import LOCAL, Candidate, K, call_snippet, keywords

_CODE_KEYWORDS = {
    "if": "if (${1:condition}) {\n\t$0\n}",
    "else": None,
    "while": "while (${1:condition}) {\n\t$0\n}",
    "for": "for (${1:\\$i} : ${2:0}..${3:10}) {\n\t$0\n}",
    "unroll": "unroll (${1:4}) {\n\t$0\n}",
    "return": None,
    "break": None,
    "continue": None,
    "let": None,
}
_builtin_cache: dict[tuple[str, ...], list[Candidate]] = {}


def code(ls, snapshot, context: cc.Context, offset: int, limit: int):
    sigil = context.prefix[:1] if context.prefix[:1] in ("$", "@") else ""
    analysis = snapshot.analysis
    found: list[Candidate] = []
    if sigil != "@":
        variables = visible_variables(analysis, offset, context.start)
        found += [_variable(symbol, sigil) for symbol in variables.values()]
    if sigil != "$":
        from compiler.semantic import types as T

        found += [_map(symbol, sigil, T) for symbol in _maps(analysis, context.start)]
    found += _macro_parameters(analysis.program, offset, sigil)
    if not sigil:
        found += _builtins(context.providers)
        found += _user_definitions(snapshot)
        found += keywords(_CODE_KEYWORDS, "keyword")
    return found, False


def _variable(symbol, sigil: str) -> Candidate:
    detail = str(symbol.type) if symbol.type is not None else ""
    return Candidate(symbol.name, K.Variable, detail, group=LOCAL, filter=_plain(symbol.name, sigil))


def _plain(name: str, sigil: str):
    """After a plain word (no `$`/`@` typed), the client filters a `$var`
    or `@map` by its name without the sigil."""
    return name[1:] if not sigil and name[:1] in ("$", "@") else None


def _map(symbol, sigil: str, T) -> Candidate:
    value = str(symbol.type) if symbol.type is not None else "unknown"
    key = symbol.key
    detail = value if key is None or isinstance(key, T.Void) else f"[{key}] {value}"
    return Candidate(symbol.name, K.Variable, f"map {detail}", group=LOCAL, filter=_plain(symbol.name, sigil))


def _macro_parameters(program, offset: int, sigil: str) -> list[Candidate]:
    """In a macro's body, its parameters (`$v`, `@m` or a bare name): they
    are not symbols of their own, the call's arguments stand for them."""
    from compiler.syntax import ast

    for item in program.items:
        if isinstance(item, ast.Macro) and item.body.span.start < offset <= item.body.span.end:
            names = [getattr(param, "name", "") for param in item.params]
            return [
                Candidate(name, K.Variable, "macro parameter", group=LOCAL, filter=_plain(name, sigil))
                for name in names
                if name and (name[:1] == sigil if sigil else True)
            ]
    return []


def visible_variables(analysis, offset: int, word_start: int) -> dict:
    """The `$variables` in scope at `offset` (by name): assigned or declared
    before the word being typed, in a block that holds the cursor."""
    from compiler.syntax import ast

    item = next((i for i in analysis.program.items if i.span.start <= offset <= i.span.end), None)
    if item is None:
        return {}
    found: dict = {}
    for symbol in analysis.symbols:
        if symbol.kind != "variable" or not symbol.name.startswith("$") or symbol.name in found:
            continue
        origin = getattr(symbol, "origin", None) or symbol.first_definition
        if origin is None or origin.start >= word_start:
            continue  # not yet assigned (or only the word being typed)
        if not item.span.start <= origin.start <= item.span.end:
            continue
        owner = _scope_owner(item, origin.start, ast)
        if owner is not None and owner.span.start <= offset <= owner.span.end:
            found[symbol.name] = symbol
    return found


def _scope_owner(item, offset: int, ast):
    """The innermost block, `for` or fn around `offset`: the scope a
    variable that starts there belongs to (as the checker's scopes do)."""
    owner, node = None, item
    while node is not None:
        if isinstance(node, (ast.Block, ast.For, ast.Function)):
            owner = node
        node = next((c for c in ast.children(node) if c.span.start <= offset < c.span.end), None)
    return owner


def _maps(analysis, word_start: int) -> list:
    maps = []
    for symbol in analysis.symbols:
        if symbol.kind != "map" or symbol.name == "@":
            continue
        spans = list(symbol.definitions) + list(symbol.uses)
        if spans and all(span.start == word_start for span in spans):
            continue  # only the word being typed
        maps.append(symbol)
    return maps


def _builtins(providers: tuple[str, ...]) -> list[Candidate]:
    cached = _builtin_cache.get(providers)
    if cached is not None:
        return cached
    from compiler.semantic import builtins

    found = []
    for entry in builtins.all_builtins():
        if entry.has(builtins.DEPRECATED):
            continue
        allowed = entry.providers
        if allowed is not None and providers and not all(p in allowed for p in providers):
            continue
        data = {"k": "builtin", "n": entry.name}
        if entry.name == "argN":
            found += [Candidate(f"arg{i}", K.Variable, "uint64", data=data) for i in range(6)]
        elif entry.kind == "variable":
            returns = entry.signatures[0].returns
            known = returns is not None and not callable(returns) and str(returns) != "unknown"
            detail = str(returns) if known else "builtin variable"
            found.append(Candidate(entry.name, K.Variable, detail, data=data))
        else:
            signature = entry.signatures[0]
            insert = f"{entry.name}()" if entry.max_args == 0 else entry.name
            snippet = call_snippet(entry.name, _builtin_params(signature))
            found.append(Candidate(entry.name, K.Function, signature.label(entry.name), insert, snippet, data=data))
    _builtin_cache[providers] = found
    return found


def _builtin_params(signature) -> list[str]:
    """Placeholders for a builtin's parameters; a literal string parameter
    comes quoted (`printf("${1:fmt}", ${2})`)."""
    params = []
    for param in signature.params:
        quoted = param.literal and param.accepts == ("string",)
        params.append(f'"{param.name}"' if quoted else param.name)
    if signature.variadic is not None:
        params.append("")
    return params


def _user_definitions(snapshot) -> list[Candidate]:
    from compiler.source import Span
    from compiler.syntax import ast

    found = []
    for item in snapshot.program.items:
        if isinstance(item, ast.Macro):
            params = [getattr(p, "name", "_") for p in item.params]
            detail = f"macro {item.name.text}({', '.join(params)})"
            found.append(Candidate(item.name.text, K.Function, detail, item.name.text,
                                   call_snippet(item.name.text, params)))  # fmt: skip
        elif isinstance(item, ast.Function):
            params = [p.var.name for p in item.params]
            header = snapshot.source.slice(Span(item.span.start, item.body.span.start))
            found.append(Candidate(item.name.text, K.Function, " ".join(header.split()), item.name.text,
                                   call_snippet(item.name.text, params)))  # fmt: skip
    return found


# --------------------------------------------------------------- members


def members(ls, snapshot, context: cc.Context, offset: int, limit: int):
    from .completion_members import member_type, members_of

    analysis = snapshot.analysis
    found_type = member_type(snapshot, analysis, ls.facts(), context, offset)
    if found_type is None:
        return [], False
    members = members_of(found_type, analysis, context.arrow)
    return [Candidate(name, K.Field, detail) for name, detail in members], False
