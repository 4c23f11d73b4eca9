"""Completion (textDocument/completion) and completionItem/resolve.

The context at the cursor comes from the text (completion_context.py); the
names to offer come from the frontend's tables (providers, builtins, config
keys), the kernel facts (tracepoints, kernel and binary functions, struct
fields) and the snapshot's analysis (variables in scope, maps, their
types). Items carry a small `data` key; their documentation is filled in
lazily by completionItem/resolve.

Lists that do not depend on the document (builtins per probe kind, kernel
function names sorted for prefix search) are built once and cached.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Optional

from lsprotocol import types as lsp

from . import completion_context as cc
from .convert import markdown
from .guard import guarded, report_failure

TRIGGERS = [":", ".", ">", "$", "@"]
K = lsp.CompletionItemKind

# Sort groups: what is in scope first, then builtins and user definitions,
# then keywords.
LOCAL, NAMES, KEYWORDS = 0, 1, 2


@dataclass
class Candidate:
    label: str
    kind: lsp.CompletionItemKind
    detail: str = ""
    insert: Optional[str] = None  # the plain text inserted (default: the label)
    snippet: Optional[str] = None  # inserted instead when the client takes snippets
    group: int = NAMES
    filter: Optional[str] = None
    data: Optional[dict] = None


def register(server) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=TRIGGERS, resolve_provider=True),
    )
    @guarded(lambda: lsp.CompletionList(is_incomplete=False, items=[]))
    def completion(ls, params: lsp.CompletionParams):
        return complete(ls, params)

    @server.feature(lsp.COMPLETION_ITEM_RESOLVE)
    def resolve(ls, item: lsp.CompletionItem):
        try:
            return resolve_item(ls, item)
        except Exception as failure:  # noqa: BLE001 - an unresolved item is still an item
            report_failure(ls, "completion resolve", failure)
            return item


def complete(ls, params: lsp.CompletionParams) -> lsp.CompletionList:
    snapshot = ls.snapshot(params.text_document.uri)
    converter = snapshot.converter
    offset = converter.offset(params.position)
    trigger = params.context.trigger_character if params.context else None
    context = cc.context_at(snapshot.source.data, offset, trigger)
    producer = _PRODUCERS.get(context.kind)
    if producer is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    limit = ls.settings.completion_limit
    snippets = ls.client_supports_snippets()
    candidates, incomplete = producer(ls, snapshot, context, offset, limit)
    if len(candidates) > limit:
        prefix = context.prefix.lower()
        candidates = [c for c in candidates if (c.filter or c.label).lower().startswith(prefix)]
        candidates = sorted(candidates, key=lambda c: (c.group, c.label))[:limit]
        incomplete = True
    replaced = lsp.Range(start=converter.position(context.start), end=converter.position(offset))
    return lsp.CompletionList(is_incomplete=incomplete, items=[_item(c, replaced, snippets) for c in candidates])


def _item(candidate: Candidate, replaced: lsp.Range, snippets: bool) -> lsp.CompletionItem:
    use_snippet = snippets and candidate.snippet is not None
    text = candidate.snippet if use_snippet else candidate.insert if candidate.insert is not None else candidate.label
    return lsp.CompletionItem(
        label=candidate.label,
        kind=candidate.kind,
        detail=candidate.detail or None,
        sort_text=f"{candidate.group}{candidate.label}",
        filter_text=candidate.filter,
        text_edit=lsp.TextEdit(range=replaced, new_text=text),
        insert_text_format=lsp.InsertTextFormat.Snippet if use_snippet else None,
        data=candidate.data,
    )


# ------------------------------------------------------- top-level items

_TOP_KEYWORDS = {
    "config": "config = {\n\t$0\n}",
    "macro": "macro ${1:name}(${2}) {\n\t$0\n}",
    "fn": "fn ${1:name}(${2}): ${3:void} {\n\t$0\n}",
    "let": "let @${1:name} = ${2:hash}(${3:1024});",
    "import": 'import "${1:path}";',
    "struct": "struct ${1:name} {\n\t$0\n};",
}
_DIRECTIVES = {"#include": "#include <${1:linux/sched.h}>", "#define": "#define ${1:NAME} ${2:value}"}
_PROVIDER_CANDIDATES: list[Candidate] = []


def _providers() -> list[Candidate]:
    if not _PROVIDER_CANDIDATES:
        from compiler.semantic.probes import all_providers

        for provider in all_providers():
            if provider.removed:
                continue
            names = provider.names + (provider.name.upper(),) * (provider.name in ("begin", "end"))
            for name in names:
                alias = name.lower() != provider.name
                detail = f"{provider.summary} (alias of {provider.name})" if alias else provider.summary
                insert = name if provider.name in ("begin", "end") else name + ":"
                _PROVIDER_CANDIDATES.append(
                    Candidate(name, K.Module, detail, insert, data={"k": "provider", "n": provider.name})
                )
    return _PROVIDER_CANDIDATES


def _top(ls, snapshot, context: cc.Context, offset: int, limit: int):
    if context.prefix.startswith("#"):
        return [Candidate(name, K.Keyword, "preprocessor directive", name, snippet, KEYWORDS, data={"k": "kw", "n": name})
                for name, snippet in _DIRECTIVES.items()], False  # fmt: skip
    found = list(_providers())
    if not context.after_comma:
        keywords = {**_TOP_KEYWORDS, **_DIRECTIVES}
        found += [Candidate(name, K.Keyword, "keyword", name, snippet, KEYWORDS, data={"k": "kw", "n": name})
                  for name, snippet in keywords.items()]  # fmt: skip
    return found, False


# ----------------------------------------------------------- attach points

_UNITS = {"hz": "times per second", "s": "seconds", "ms": "milliseconds", "us": "microseconds"}


class _FactsLists:
    """Sorted name lists derived from one KernelFacts, built on first use."""

    def __init__(self, facts) -> None:
        self.facts = facts
        self._functions: Optional[list[str]] = None
        self._events: Optional[dict[str, list[str]]] = None
        self._all_events: Optional[list[str]] = None
        self._binaries: dict[str, list[str]] = {}

    def functions(self) -> list[str]:
        if self._functions is None:
            self._functions = sorted(set(self.facts.kernel_functions()))
        return self._functions

    def events(self) -> dict[str, list[str]]:
        if self._events is None:
            by_category: dict[str, set[str]] = {}
            for category, event in self.facts.tracepoints():
                by_category.setdefault(category, set()).add(event)
            self._events = {c: sorted(e) for c, e in sorted(by_category.items())}
        return self._events

    def all_events(self) -> list[str]:
        if self._all_events is None:
            self._all_events = sorted({e for events in self.events().values() for e in events})
        return self._all_events

    def binary_functions(self, path: str) -> list[str]:
        if path not in self._binaries:
            if len(self._binaries) > 16:
                self._binaries.clear()
            self._binaries[path] = sorted(set(self.facts.binary_functions(path)))
        return self._binaries[path]


_lists: Optional[_FactsLists] = None


def _facts_lists(ls) -> _FactsLists:
    global _lists
    facts = ls.facts()
    if _lists is None or _lists.facts is not facts:
        _lists = _FactsLists(facts)
    return _lists


def _prefixed(names: list[str], prefix: str, limit: int) -> tuple[list[str], bool]:
    """The sorted `names` that start with `prefix`, at most `limit`, and
    whether there were more."""
    start = bisect.bisect_left(names, prefix)
    found = []
    for name in names[start:]:
        if not name.startswith(prefix):
            break
        if len(found) == limit:
            return found, True
        found.append(name)
    return found, False


def _attach(ls, snapshot, context: cc.Context, offset: int, limit: int):
    provider, parts, prefix = context.provider, context.parts, context.prefix
    lists = _facts_lists(ls)
    if provider == "tracepoint" and not parts:
        events = lists.events()
        names, more = _prefixed(list(events), prefix, limit)
        return [Candidate(n, K.Module, f"tracepoint category ({len(events[n])} events)") for n in names], more
    if provider == "tracepoint" and len(parts) == 1:
        names, more = _prefixed(lists.events().get(parts[0], []), prefix, limit)
        return [Candidate(n, K.Event, f"tracepoint {parts[0]}:{n}", data={"k": "tp", "n": f"{parts[0]}:{n}"})
                for n in names], more  # fmt: skip
    if provider == "rawtracepoint" and len(parts) <= 1:
        names, more = _prefixed(lists.all_events(), prefix, limit)
        return [Candidate(n, K.Event, "raw tracepoint") for n in names], more
    if provider in ("kprobe", "kretprobe", "fentry", "fexit") and len(parts) <= 1:
        names, more = _prefixed(lists.functions(), prefix, limit)
        return [Candidate(n, K.Function, "kernel function", data={"k": "kfunc", "n": n}) for n in names], more
    if provider in ("uprobe", "uretprobe") and (len(parts) == 1 or (len(parts) == 2 and parts[1] == "cpp")):
        names, more = _prefixed(lists.binary_functions(parts[0]), prefix, limit)
        return [Candidate(n, K.Function, f"function in {parts[0]}") for n in names], more
    if provider == "usdt" and len(parts) in (1, 2):
        notes = sorted(set(ls.facts().usdt_probes(parts[0])))
        if len(parts) == 2:
            labels = [name for namespace, name in notes if namespace == parts[1]]
        else:
            labels = [f"{namespace}:{name}" for namespace, name in notes]
        names, more = _prefixed(sorted(labels), prefix, limit)
        return [Candidate(n, K.Event, f"USDT probe in {parts[0]}") for n in names], more
    if provider in ("software", "hardware") and not parts:
        from compiler.kernel.facts import HARDWARE_EVENTS, SOFTWARE_EVENTS

        facts = ls.facts()
        events, periods = (
            (facts.software_events(), SOFTWARE_EVENTS) if provider == "software"
            else (facts.hardware_events(), HARDWARE_EVENTS)
        )  # fmt: skip
        return [Candidate(e, K.Event, f"{provider} event, default count {periods.get(e, 1)}")
                for e in sorted(events)], False  # fmt: skip
    if provider in ("interval", "profile") and not parts:
        return [Candidate(unit, K.Unit, meaning) for unit, meaning in _UNITS.items()], False
    if provider == "self":
        if not parts:
            return [Candidate("signal", K.Event, "a signal bpftrace receives")], False
        if parts == ("signal",):
            return [Candidate("SIGUSR1", K.EnumMember, "the one signal bpftrace handles")], False
    return [], False


# ------------------------------------------------------------------ code

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


def _code(ls, snapshot, context: cc.Context, offset: int, limit: int):
    sigil = context.prefix[:1] if context.prefix[:1] in ("$", "@") else ""
    analysis = snapshot.analysis
    found: list[Candidate] = []
    if sigil != "@":
        found += [_variable(symbol, sigil) for symbol in visible_variables(analysis, offset, context.start).values()]
    if sigil != "$":
        found += [_map(symbol, sigil) for symbol in _maps(analysis, context.start)]
    if not sigil:
        found += _builtins(context.providers)
        found += _user_definitions(snapshot)
        found += [Candidate(word, K.Keyword, "keyword", word, snippet, KEYWORDS, data={"k": "kw", "n": word})
                  for word, snippet in _CODE_KEYWORDS.items()]  # fmt: skip
    return found, False


def _variable(symbol, sigil: str) -> Candidate:
    detail = str(symbol.type) if symbol.type is not None else ""
    return Candidate(symbol.name, K.Variable, detail, group=LOCAL, filter=None if sigil else symbol.name[1:])


def _map(symbol, sigil: str) -> Candidate:
    value = str(symbol.type) if symbol.type is not None else "unknown"
    key = symbol.key
    from compiler.semantic import types as T

    detail = value if key is None or isinstance(key, T.Void) else f"[{key}] {value}"
    return Candidate(symbol.name, K.Variable, f"map {detail}", group=LOCAL, filter=None if sigil else symbol.name[1:])


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
        if origin is None or origin.start >= word_start or not item.span.start <= origin.start <= item.span.end:
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
        if entry.providers is not None and providers and not all(p in entry.providers for p in providers):
            continue
        data = {"k": "builtin", "n": entry.name}
        if entry.name == "argN":
            found += [Candidate(f"arg{i}", K.Variable, "uint64", data=data) for i in range(6)]
        elif entry.kind == "variable":
            returns = entry.signatures[0].returns
            detail = str(returns) if returns is not None and not callable(returns) else "builtin"
            found.append(Candidate(entry.name, K.Variable, detail, data=data))
        else:
            signature = entry.signatures[0]
            insert = f"{entry.name}()" if entry.max_args == 0 else entry.name
            found.append(Candidate(entry.name, K.Function, signature.label(entry.name), insert,
                                   call_snippet(entry.name, _builtin_params(signature)), data=data))  # fmt: skip
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


def call_snippet(name: str, params: list[str]) -> str:
    parts = []
    for index, param in enumerate(params, 1):
        quoted = param.startswith('"') and param.endswith('"') and len(param) > 1
        inner = _escape(param[1:-1] if quoted else param)
        placeholder = f"${{{index}:{inner}}}" if inner else f"${{{index}}}"
        parts.append(f'"{placeholder}"' if quoted else placeholder)
    return f"{name}({', '.join(parts)})" + ("$0" if not parts else "")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _user_definitions(snapshot) -> list[Candidate]:
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
            header = snapshot.source.data[item.span.start : item.body.span.start].decode("utf-8", "replace")
            found.append(Candidate(item.name.text, K.Function, " ".join(header.split()), item.name.text,
                                   call_snippet(item.name.text, params)))  # fmt: skip
    return found


# --------------------------------------------------------------- members


def _members(ls, snapshot, context: cc.Context, offset: int, limit: int):
    from .completion_members import member_type, members_of

    analysis = snapshot.analysis
    found_type = member_type(snapshot, analysis, ls.facts(), context, offset)
    if found_type is None:
        return [], False
    return [Candidate(name, K.Field, detail) for name, detail in members_of(found_type, analysis, context.arrow)], False


# ---------------------------------------------------------------- config


def _config(ls, snapshot, context: cc.Context, offset: int, limit: int):
    from compiler.semantic.definitions import CONFIG_KEYS, LICENSES

    if context.kind == cc.CONFIG_KEY:
        return [Candidate(key, K.Property, " or ".join(kinds), data={"k": "config", "n": key})
                for key, (kinds, _) in CONFIG_KEYS.items()], False  # fmt: skip
    key = context.key.lower().removeprefix("bpftrace_")
    kinds, choices = CONFIG_KEYS.get(key, ((), None))
    found = [Candidate(choice, K.EnumMember, f"{key} value") for choice in choices or ()]
    if "bool" in kinds:
        found += [Candidate(word, K.Value, "bool") for word in ("true", "false")]
    if key == "license":
        found += [Candidate(f'"{name}"', K.Value, "license", filter=name) for name in LICENSES]
    return found, False


_PRODUCERS = {
    cc.TOP: _top,
    cc.ATTACH: _attach,
    cc.CODE: _code,
    cc.MEMBER: _members,
    cc.CONFIG_KEY: _config,
    cc.CONFIG_VALUE: _config,
}


# --------------------------------------------------------------- resolve


def resolve_item(ls, item: lsp.CompletionItem) -> lsp.CompletionItem:
    data = item.data if isinstance(item.data, dict) else {}
    from .completion_docs import documentation

    found = documentation(ls.facts(), data.get("k"), data.get("n"))
    if found is not None:
        detail, text = found
        if detail:
            item.detail = detail
        client_markdown = ls.client_supports_markdown("text_document", "completion", "completion_item", "documentation_format")
        item.documentation = markdown(text, client_markdown)
    return item
