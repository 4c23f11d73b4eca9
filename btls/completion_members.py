"""The type before a `.` or `->` being completed, and its members.

The analysis types every expression it saw, but while the user types
`curtask->` the parser has dropped that very expression. So the type comes
from the analysis when a node spans exactly the text before the operator
(`$t->pi|d`, editing an existing field), and otherwise from re-resolving
the chain of text: its base (`$var` in scope, `@map`, a builtin such as
`args` or `curtask`, a cast `((struct file *)arg0)`), then each field and
index step through the C types the analysis knows (kernel facts and the
script's own structs).
"""

from __future__ import annotations

from . import completion_context as cc

_MAX_DEPTH = 4  # nested parentheses in a chain's base
_ANONYMOUS_DEPTH = 8  # anonymous members inside anonymous members


def member_type(snapshot, analysis, facts, context: cc.Context, offset: int):
    """The type whose members follow the operator, or None."""
    from compiler.semantic import types as T

    found = _analysed_type(analysis, context.chain_start, context.chain_end)
    if found is None:
        text = snapshot.source.data[context.chain_start : context.chain_end].decode("utf-8", "replace")
        found = _Resolver(analysis, facts, offset, context.start).chain(text, 0)
    if found is None or T.mentions_unknown(found):
        return None
    return found


def _analysed_type(analysis, start: int, end: int):
    from compiler.semantic import types as T

    from .query import path_at

    for node in reversed(path_at(analysis.program, end)):
        if node.span.start == start and node.span.end == end:
            found = analysis.type_of(node)
            if found is not None and not T.is_unknown(found):
                return found
        if node.span.start < start:
            break
    return None


class _Resolver:
    def __init__(self, analysis, facts, offset: int, word_start: int) -> None:
        from compiler.semantic import types as T

        self.T = T
        self.analysis = analysis
        self.facts = facts
        self.offset = offset
        self.word_start = word_start
        self.ctx = analysis.context

    def chain(self, text: str, depth: int):
        base, steps = cc.split_chain(text.strip())
        found = self.base(base, depth)
        if found is not None and base.startswith("@") and steps and steps[0].field is None:
            steps = steps[1:]  # `@m[k]`: the key picks the map's value
        for step in steps:
            if found is None:
                return None
            found = self.step(found, step)
        return found

    def base(self, base: str, depth: int):
        T = self.T
        cast = cc.cast_of(base)
        if cast is not None:
            kind, name, stars = cast
            record = self.ctx.record_exists(kind, name) if self.ctx is not None else None
            if not isinstance(record, T.Type):
                return None
            for _ in range(stars):
                record = T.Pointer(record)
            return record
        if base.startswith("("):
            inner_ok = depth < _MAX_DEPTH and base.endswith(")")
            return self.chain(base[1:-1], depth + 1) if inner_ok else None
        if base.startswith("$"):
            from .completion_code import visible_variables

            symbol = visible_variables(self.analysis, self.offset, self.word_start).get(base)
            return symbol.type if symbol is not None else None
        if base.startswith("@"):
            symbol = next((s for s in self.analysis.symbols if s.kind == "map" and s.name == base), None)
            return symbol.type if symbol is not None else None
        name = base.split("(", 1)[0]
        if name == "args":
            return self.args_type()
        from compiler.semantic.builtins import lookup

        entry = lookup(name)
        if entry is None:
            return None
        returns = entry.signatures[0].returns
        return returns if isinstance(returns, T.Type) else None

    def step(self, current, step: cc.Step):
        T = self.T
        if step.field is None:
            if isinstance(current, T.Array):
                return current.element
            return current.target if isinstance(current, T.Pointer) else None
        if isinstance(current, T.Pointer):
            current = current.target
        if isinstance(current, T.CRecord) and self.ctx is not None:
            found = self.ctx.field(current, step.field)
            return found if isinstance(found, T.Type) else None
        if isinstance(current, T.Record):
            return current.field_type(step.field)
        if isinstance(current, T.Tuple) and step.field.isdigit():
            index = int(step.field)
            return current.elements[index] if index < len(current.elements) else None
        return None

    def args_type(self):
        """The type of `args` in the probe around the cursor: the shared
        fields of its tracepoint formats or function prototypes."""
        from .query import probe_at

        probe = probe_at(self.analysis.program, self.offset)
        if probe is None or self.ctx is None:
            return None
        points = [ap for ap in probe.attach_points if not ap.is_error and ap.provider]
        if not points:
            return None
        return _args_typer(self.facts, self.ctx).probe_args_type(points)


_typer_class = None


def _args_typer(facts, ctx):
    """The analyser's own `args` typing (probe_context.ProbeContext), run
    outside the checker: it needs only the facts and the C type context."""
    global _typer_class
    if _typer_class is None:
        from compiler.semantic.probe_context import ProbeContext

        class ArgsTyper(ProbeContext):
            def __init__(self, facts, ctx) -> None:
                self.facts, self.ctx = facts, ctx

        _typer_class = ArgsTyper
    return _typer_class(facts, ctx)


def members_of(found, analysis, arrow: bool) -> list[tuple[str, str]]:
    """(name, type) of each member of a (pointer to a) record or tuple."""
    from compiler.semantic import types as T

    if isinstance(found, T.Pointer):
        found = found.target
    ctx = analysis.context
    if isinstance(found, T.CRecord) and ctx is not None:
        # A kernel struct's members are the same in every analysis with the
        # same facts; the script's own structs (and `args`) are not cached.
        key = (found.kind, found.name)
        cacheable = bool(found.name) and key not in ctx.local_records
        if cacheable and _kernel_records.facts is ctx.facts and key in _kernel_records.members:
            return _kernel_records.members[key]
        model = ctx.record(found)
        members = _record_fields(model, ctx, 0) if model is not None else []
        if cacheable and model is not None:
            _kernel_records.remember(ctx.facts, key, members)
        return members
    if isinstance(found, T.Record):
        return [(name, str(t)) for name, t in found.fields]
    if isinstance(found, T.Tuple) and not arrow:
        return [(str(i), str(t)) for i, t in enumerate(found.elements)]
    return []


class _KernelRecords:
    """Members of kernel structs, for the facts they were read from."""

    LIMIT = 256

    def __init__(self) -> None:
        self.facts = None
        self.members: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def remember(self, facts, key, members) -> None:
        if facts is not self.facts or len(self.members) >= self.LIMIT:
            self.facts, self.members = facts, {}
        self.members[key] = members


_kernel_records = _KernelRecords()


def _record_fields(model, ctx, depth: int) -> list[tuple[str, str]]:
    """A C record's fields; those of anonymous members are inlined, as C
    lets them be named directly."""
    from compiler.kernel import ctypes as C

    found: list[tuple[str, str]] = []
    for field in model.fields:
        if field.name:
            found.append((field.name, str(ctx.from_ctype(field.type))))
        elif isinstance(field.type, C.CRecordRef) and depth < _ANONYMOUS_DEPTH:
            inner = ctx.record(ctx.from_ctype(field.type))
            if inner is not None:
                found += _record_fields(inner, ctx, depth + 1)
    return found


def c_declaration(ctype, name: str = "") -> str:
    """A C type as a declaration: `struct file *file`, `char comm[16]`."""
    from compiler.kernel import ctypes as C

    suffix = ""
    while isinstance(ctype, C.CArray):
        suffix += f"[{ctype.length}]"
        ctype = ctype.element
    text = _c_type(ctype, C)
    space = "" if text.endswith("*") else " "
    return f"{text}{space}{name}{suffix}".rstrip() if name or suffix else text


def _c_type(ctype, C) -> str:
    if isinstance(ctype, C.CInt):
        if ctype.name:
            return ctype.name
        return "_Bool" if ctype.is_bool else f"{'' if ctype.signed else 'u'}int{ctype.size * 8}_t"
    if isinstance(ctype, C.CPointer):
        inner = _c_type(ctype.target, C)
        return f"{inner}*" if inner.endswith("*") else f"{inner} *"
    if isinstance(ctype, C.CArray):
        return f"{_c_type(ctype.element, C)}[{ctype.length}]"
    if isinstance(ctype, C.CRecordRef):
        return f"{ctype.kind} {ctype.name}" if ctype.name else f"{ctype.kind} {{...}}"
    if isinstance(ctype, C.CEnumRef):
        return f"enum {ctype.name}" if ctype.name else "enum {...}"
    if isinstance(ctype, C.CFunctionPointer):
        return "void (*)()"
    if isinstance(ctype, C.CUnsupported):
        return ctype.description or "?"
    return "void"
