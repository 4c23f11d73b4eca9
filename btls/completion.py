"""Completion (textDocument/completion) and completionItem/resolve.

The context at the cursor comes from the text (completion_context.py). The
names to offer come from the frontend's tables (providers, builtins, config
keys), the kernel facts (tracepoints, kernel and binary functions, struct
fields) and the snapshot's analysis (variables in scope, maps, their
types): top-level items, attach points and config here, action blocks in
completion_code.py. Items carry a small `data` key; their documentation is
filled in lazily by completionItem/resolve (completion_docs.py).

Lists that do not depend on the document (builtins per probe kind, kernel
function names sorted for prefix search) are built once and cached.
"""

from __future__ import annotations

import bisect
from typing import Optional

from lsprotocol import types as lsp

from . import completion_code, completion_context as cc
from .completion_items import Candidate, K, keywords
from .convert import markdown
from .guard import guarded, report_failure

TRIGGERS = [":", ".", ">", "$", "@"]


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
    data = snapshot.source.data
    restart = cc.restart_point(snapshot.program.items, data, offset)
    context = cc.context_at(data, offset, trigger, restart)
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
    # Sort keys only matter when groups mix (locals before builtins before
    # keywords); a long list of one kind is cheaper without them.
    ranked = len({c.group for c in candidates}) > 1
    if _takes_default_edit_range(ls):
        # One range for all items (LSP 3.17 itemDefaults): smaller answers.
        items = [_item(c, None, snippets, ranked) for c in candidates]
        defaults = lsp.CompletionItemDefaults(edit_range=replaced)
        return lsp.CompletionList(is_incomplete=incomplete, items=items, item_defaults=defaults)
    items = [_item(c, replaced, snippets, ranked) for c in candidates]
    return lsp.CompletionList(is_incomplete=incomplete, items=items)


def _item(candidate: Candidate, replaced: Optional[lsp.Range], snippets: bool, ranked: bool):
    use_snippet = snippets and candidate.snippet is not None
    if use_snippet:
        text = candidate.snippet
    else:
        text = candidate.insert if candidate.insert is not None else candidate.label
    return lsp.CompletionItem(
        label=candidate.label,
        kind=candidate.kind,
        detail=candidate.detail or None,
        sort_text=f"{candidate.group}{candidate.label}" if ranked else None,
        filter_text=candidate.filter,
        text_edit=lsp.TextEdit(range=replaced, new_text=text) if replaced is not None else None,
        text_edit_text=text if replaced is None and text != candidate.label else None,
        insert_text_format=lsp.InsertTextFormat.Snippet if use_snippet else None,
        data=candidate.data,
    )


def _takes_default_edit_range(ls) -> bool:
    completion = ls.client_capabilities.text_document and ls.client_capabilities.text_document.completion
    item_list = completion.completion_list if completion else None
    return bool(item_list and item_list.item_defaults and "editRange" in item_list.item_defaults)


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
        return keywords(_DIRECTIVES, "preprocessor directive"), False
    found = list(_providers())
    if not context.after_comma:
        found += keywords(_TOP_KEYWORDS, "keyword") + keywords(_DIRECTIVES, "preprocessor directive")
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
        return [Candidate(n, K.Module, f"tracepoint category ({len(events[n])} events)")
                for n in names], more  # fmt: skip
    if provider == "tracepoint" and len(parts) == 1:
        names, more = _prefixed(lists.events().get(parts[0], []), prefix, limit)
        category = parts[0]
        return [Candidate(n, K.Event, f"tracepoint {category}:{n}", data={"k": "tp", "n": f"{category}:{n}"})
                for n in names], more  # fmt: skip
    if provider == "rawtracepoint" and len(parts) <= 1:
        names, more = _prefixed(lists.all_events(), prefix, limit)
        return [Candidate(n, K.Event, "raw tracepoint") for n in names], more
    if provider in ("kprobe", "kretprobe", "fentry", "fexit") and len(parts) <= 1:
        names, more = _prefixed(lists.functions(), prefix, limit)
        return [Candidate(n, K.Function, "kernel function", data={"k": "kfunc", "n": n})
                for n in names], more  # fmt: skip
    binary_part = len(parts) == 1 or (len(parts) == 2 and parts[1] == "cpp")  # uprobe:BIN[:cpp]:
    if provider in ("uprobe", "uretprobe") and binary_part:
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
    cc.CODE: completion_code.code,
    cc.MEMBER: completion_code.members,
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
        path = ("text_document", "completion", "completion_item", "documentation_format")
        item.documentation = markdown(text, ls.client_supports_markdown(*path))
    return item
