"""Hover: what the thing under the cursor is.

- builtins: their call forms and docs from the builtins table;
- probe providers and attach points: provider docs, a tracepoint's format,
  a kernel function's prototype from BTF, what a wildcard matches;
- `$vars`, `@maps` and any expression: the type the analysis inferred;
- struct fields and types written in the script: the C layout;
- keywords: a line of docs.

`hover_at()` answers from the snapshot's cached analysis (no re-analysis);
it returns markdown and the span it describes. The frontend is imported on
the first hover, not at server start.
"""

from __future__ import annotations

from typing import Optional

from lsprotocol import types as lsp

from .guard import guarded


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    @guarded()
    def hover(ls, params: lsp.HoverParams) -> Optional[lsp.Hover]:
        from .describe import plain

        snapshot = ls.snapshot(params.text_document.uri)
        converter = snapshot.converter
        found = hover_at(snapshot.analysis, ls.facts(), converter.offset(params.position))
        if found is None:
            return None
        text, span = found
        if ls.client_supports_markdown("text_document", "hover", "content_format"):
            contents = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)
        else:
            contents = lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=plain(text))
        return lsp.Hover(contents=contents, range=converter.range(span))


def hover_at(analysis, facts, offset: int):
    """(markdown, span) for the thing at `offset`, or None."""
    from compiler.syntax import ast

    from .query import path_at

    path = path_at(analysis.program, offset)
    if len(path) < 2:
        return None
    node, parent = path[-1], path[-2]
    hover = _Hover(analysis, facts, path, offset)
    if isinstance(node, ast.AttachPart):
        return hover.attach_part(node, parent)
    if isinstance(node, ast.AttachPoint):
        return hover.attach_point(node)
    word = hover.word()
    if word is not None and isinstance(node, _keyword_nodes(ast)):
        from . import describe

        text = describe.keyword(word[0])
        if text is not None:
            return text, word[1]
    if isinstance(node, ast.Name):
        return hover.name(node, parent)
    handler = getattr(hover, "node_" + type(node).__name__, None)
    found = handler(node) if handler is not None else None
    return found if found is not None else hover.expression(node)


_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _keyword_nodes(ast) -> tuple:
    """Nodes whose own text (outside their children) is a keyword."""
    return (
        ast.If, ast.While, ast.For, ast.Unroll, ast.Jump, ast.Config, ast.Macro, ast.Function,
        ast.VarDecl, ast.MapDecl, ast.Import, ast.Sizeof, ast.Offsetof, ast.Typeinfo, ast.Comptime,
    )  # fmt: skip


class _Hover:
    def __init__(self, analysis, facts, path, offset: int) -> None:
        from compiler.semantic import types as T
        from compiler.syntax import ast

        from . import describe

        self.analysis, self.facts, self.path, self.offset = analysis, facts, path, offset
        self.ast, self.T, self.describe = ast, T, describe

    # ------------------------------------------------------------ helpers

    def text(self, span) -> str:
        return self.analysis.source.slice(span)

    def word(self):
        """(word, span) of the ASCII name characters around the cursor."""
        from compiler.source import Span

        data = self.analysis.source.data
        start = end = min(self.offset, len(data))
        while start > 0 and data[start - 1] in _NAME_BYTES:
            start -= 1
        while end < len(data) and data[end] in _NAME_BYTES:
            end += 1
        return (data[start:end].decode("ascii"), Span(start, end)) if end > start else None

    def records(self, ref):
        """The C record a reference names: the script's own definitions and
        tracepoint args first, then kernel facts."""
        context = self.analysis.context
        if context is not None and ref.name:
            return context.record(self.T.CRecord(ref.kind, ref.name))
        return self.facts.record_of(ref)

    def probe(self):
        return next((n for n in self.path if isinstance(n, self.ast.Probe)), None)

    def type_of(self, node):
        return self.analysis.types.get(node)

    # ------------------------------------------------------ attach points

    def attach_point(self, point):
        """The cursor is on a separator: describe the attach point's main part."""
        for role in (self.ast.Role.EVENT, self.ast.Role.FUNCTION, self.ast.Role.PROVIDER):
            part = point.part(role)
            if part is not None:
                found = self.attach_part(part, point)
                return (found[0], point.span) if found else None
        return None

    def attach_part(self, part, point):
        from compiler.semantic.probes import provider as find_provider

        if point.is_error or point.provider is None:
            return None
        entry = find_provider(point.provider.text)
        if part.role == self.ast.Role.PROVIDER:
            return (self.describe.provider(entry), part.span) if entry else None
        if entry is None or "$" in part.text:
            return None
        kind = entry.name
        if kind == "tracepoint" and part.role in (self.ast.Role.TARGET, self.ast.Role.EVENT):
            return self.tracepoint(point)
        if kind in ("kprobe", "kretprobe", "fentry", "fexit") and part.role == self.ast.Role.FUNCTION:
            return self.kernel_function(part, kind)
        if kind in ("uprobe", "uretprobe") and part.role == self.ast.Role.FUNCTION:
            return self.user_function(part, point)
        if kind == "rawtracepoint" and part.role == self.ast.Role.EVENT:
            return self.raw_tracepoint(part)
        if kind in ("software", "hardware") and part.role == self.ast.Role.EVENT:
            return self.perf_event(part, kind)
        return None

    def tracepoint(self, point):
        from compiler.kernel.facts import has_wildcard, matching

        target, event = point.part(self.ast.Role.TARGET), point.part(self.ast.Role.EVENT)
        if event is None:
            return None
        span = target.span.cover(event.span) if target is not None else event.span
        category = target.text if target is not None else "*"
        name = f"{category}:{event.text}"
        if has_wildcard(name):
            found = matching(name, (f"{c}:{e}" for c, e in self.facts.tracepoints()))
            return self.describe.wildcard("tracepoint", f"tracepoint:{name}", found), span
        tp = self.facts.tracepoint(category, event.text)
        if tp is not None:
            return self.describe.tracepoint(tp, self.records), span
        if self.facts.has_tracepoints:
            return f"**tracepoint:{name}**\n\nNo such tracepoint in this kernel.", span
        return None

    def kernel_function(self, part, kind: str):
        from compiler.kernel.facts import has_wildcard, matching

        if has_wildcard(part.text):
            found = matching(part.text, self.facts.kernel_functions())
            return self.describe.wildcard("kernel function", part.text, found), part.span
        fn = self.facts.function(part.text)
        return (self.describe.kernel_function(fn, kind), part.span) if fn is not None else None

    def user_function(self, part, point):
        from compiler.kernel.facts import has_wildcard, matching

        target = point.part(self.ast.Role.TARGET)
        if target is None:
            return None
        names = list(self.facts.binary_functions(target.text))
        if has_wildcard(part.text):
            found = [f"{target.text}:{n}" for n in matching(part.text, names)]
            return self.describe.wildcard("function", part.text, found), part.span
        if part.text in names:
            return f"**{part.text}**\n\nA function symbol of `{target.text}`.", part.span
        return None

    def raw_tracepoint(self, part):
        from compiler.kernel.listing import RAW_TRACEPOINT_PREFIXES

        for prefix in RAW_TRACEPOINT_PREFIXES:
            fn = self.facts.function(prefix + part.text)
            if fn is not None:
                params = ", ".join(f"`args.{n}`" for n, _ in fn.params[1:])
                return f"**{part.text}** (raw tracepoint)\n\nArguments: {params or 'none'}.", part.span
        return None

    def perf_event(self, part, kind: str):
        from compiler.kernel.facts import HARDWARE_EVENTS, SOFTWARE_EVENTS

        period = (SOFTWARE_EVENTS if kind == "software" else HARDWARE_EVENTS).get(part.text)
        if period is None:
            return None
        return f"**{part.text}** ({kind} event)\n\nDefault period: every {period} events.", part.span

    # -------------------------------------------------------------- names

    def name(self, name, parent):
        ast = self.ast
        if isinstance(parent, ast.Call):
            return self.call(parent)
        if isinstance(parent, ast.FieldAccess):
            return self.field(parent)
        if isinstance(parent, (ast.Macro, ast.Function)):
            return self.definitions(name.text, name.span)
        if isinstance(parent, ast.RecordType):
            return self.type_node(parent)
        if isinstance(parent, ast.ConfigEntry):
            return self.config_key(name)
        if isinstance(parent, ast.RecordField):
            value = self.type_of(parent.value)
            return (self.describe.code(f"{name.text}: {value}"), name.span) if value else None
        return None

    def call(self, call):
        from compiler.semantic.builtins import lookup

        name = call.name.text
        user = self.definitions(name, call.name.span)
        if user is not None:
            value = self.type_of(call)
            if value is not None and value != self.T.VOID and not self.T.is_unknown(value):
                return f"{user[0]}\n\nHere it gives `{value}`.", user[1]
            return user
        entry = lookup(name)
        if entry is None:
            return None
        text = self.describe.builtin(entry, name)
        value = self.type_of(call)
        if value is not None and value != self.T.VOID and not self.T.is_unknown(value):
            text += f"\n\nThis call gives `{value}`."
        return text, call.name.span

    def config_key(self, name):
        """A config option: its type, from the `config` builtin's record."""
        from compiler.semantic.builtins import lookup

        record = lookup("config").signatures[0].returns
        value = record.field_type(name.text) if isinstance(record, self.T.Record) else None
        if value is None:
            return None
        return self.describe.code(f"{name.text}: {value}") + "\n\n*config option*", name.span

    def definitions(self, name: str, span):
        """A user macro (all its overloads) or fn, by its header."""
        ast = self.ast
        found = [
            item for item in self.analysis.program.items
            if isinstance(item, (ast.Macro, ast.Function)) and item.name.text == name
        ]  # fmt: skip
        if not found:
            return None
        from compiler.source import Span

        # The header is the text up to the body, on one line.
        headers = "\n".join(" ".join(self.text(Span(item.span.start, item.body.span.start)).split()) for item in found)
        kind = "macro" if isinstance(found[0], ast.Macro) else "function"
        return f"{self.describe.code(headers)}\n\n*{kind}*", span

    def field(self, access):
        T = self.T
        base = self.type_of(access.base)
        while isinstance(base, T.Pointer):
            base = base.target
        label = " ".join(self.text(access.span).split())
        value = self.type_of(access)
        if isinstance(base, T.CRecord) and self.analysis.context is not None:
            located = self.analysis.context.field_location(base, access.field.text)
            if located is not None:
                offset, cfield = located
                shown = value if value is not None else self.analysis.context.from_ctype(cfield.type)
                text = self.describe.field(self.owner(base), cfield, offset, shown, self.records, label)
                return text, access.field.span
        if value is not None:
            return self.describe.expression(label, value), access.field.span
        return None

    def owner(self, record) -> str:
        from compiler.semantic.probe_context import ARGS_RECORD_PREFIX

        if record.name.startswith(ARGS_RECORD_PREFIX):
            probe = self.probe()
            points = ", ".join(p.raw for p in probe.attach_points) if probe else "this probe"
            return f"the args of `{points}`"
        return f"`{record}`"

    # -------------------------------------------------------------- nodes

    def node_Identifier(self, node):
        from compiler.semantic.builtins import lookup

        named = self.symbol(node)
        if named is not None:
            return named
        value = self.type_of(node)
        entry = lookup(node.name)
        if entry is not None:
            record = self.args_record(node.name, value)
            if record is None:
                return self.describe.builtin(entry, node.name, value), node.span
            # `args` is typed by a record the analyser made up for this
            # probe: show its fields rather than its internal name.
            text = self.describe.builtin(entry, node.name)
            layout = self.describe.record_layout(record, self.records, title="struct args")
            return f"{text}\n\nHere, {self.owner(value)}:\n\n{layout}", node.span
        found = self.facts.enumerator(node.name)
        if found is not None:
            enum, number = found
            return self.describe.code(f"{node.name} = {number}") + f"\n\n*enum {enum.name}*", node.span
        return None

    def args_record(self, name: str, value):
        """The fields of `args` in this probe (a synthesised record)."""
        if name != "args" or not isinstance(value, self.T.CRecord) or self.analysis.context is None:
            return None
        return self.analysis.context.record(value)

    def symbol(self, node):
        """A `$var`, `@map` or macro parameter. In a macro, the parameters
        are decided by the macro's own list (the analysis walks the body
        once per call, so the symbols there belong to the callers)."""
        macro = next((n for n in self.path if isinstance(n, self.ast.Macro)), None)
        if macro is not None and any(getattr(p, "name", None) == node.name for p in macro.params):
            return self.describe.code(node.name) + "\n\n*macro parameter*", node.span
        symbol = self.analysis.symbol_of(node)
        if symbol is None:
            return None
        if symbol.kind == "map":
            return self.describe.map_symbol(symbol), node.span
        if symbol.kind == "variable":
            fn = next((n for n in self.path if isinstance(n, self.ast.Function)), None)
            fn_param = fn is not None and any(p.var.name == node.name for p in fn.params)
            return self.describe.variable_symbol(symbol, self.type_of(node), fn_param), node.span
        return None

    node_Variable = node_MapRef = symbol

    def node_PositionalParam(self, node):
        value = self.type_of(node)
        known = value is not None and not self.T.is_unknown(value)
        text = self.describe.code(f"${node.index}: {value}" if known else f"${node.index}")
        return text + "\n\n*positional parameter*: a command-line argument after the script", node.span

    def node_Cast(self, node):
        return self.type_node(node.type)

    def node_NamedType(self, node):
        from compiler.kernel.listing import type_name

        name = node.name
        if name in self.ast.BUILTIN_TYPE_NAMES:
            return self.describe.code(name) + "\n\n*bpftrace type*", node.span
        target = self.facts.typedef(name)
        if target is None:
            return None
        text = f"**{name}** (typedef)"
        # Resolved typedefs keep their own name (`pid_t`); say what lies
        # beneath only when it has another one.
        if type_name(target) != name:
            text += "\n\n" + self.describe.code(f"typedef {type_name(target)} {name};", "c")
        value = self.analysis.context.from_ctype(target) if self.analysis.context else None
        if value is not None and not self.T.is_unknown(value):
            text += f"\n\nIn bpftrace: `{value}`, {value.size} bytes."
        return text, node.span

    def type_node(self, node):
        """A written type: the layout of the struct it is or points to."""
        ast, span = self.ast, node.span
        while isinstance(node, (ast.PointerType, ast.ArrayType)):
            node = node.target if isinstance(node, ast.PointerType) else node.element
        if isinstance(node, ast.NamedType):
            found = self.node_NamedType(node)
            return (found[0], span) if found else None
        if not isinstance(node, ast.RecordType):
            return None
        kind, name = node.kind, node.name.text
        if kind == "enum":
            enum = self.facts.enum(name)
            if enum is None:
                return None
            values = "\n".join(f"    {n} = {v}," for n, v in enum.values)
            return self.describe.code(f"enum {name} {{  // size {enum.size}\n{values}\n}};", "c"), span
        from compiler.kernel.ctypes import CRecordRef

        record = self.records(CRecordRef(kind, name))
        if record is None:
            return f"`{kind} {name}`: its layout is not known here.", span
        return self.describe.record_layout(record, self.records), span

    node_RecordType = node_PointerType = node_ArrayType = type_node

    def expression(self, node):
        value = self.type_of(node)
        if value is None or isinstance(node, self.ast.Block):
            return None
        return self.describe.expression(self.text(node.span), value), node.span
